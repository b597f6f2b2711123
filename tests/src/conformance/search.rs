//! The search index conformance suite: every case runs on every [`SearchIndex`] the
//! product builds (the FTS5 file the gateway keeps, with its reader connections, and the
//! in-memory one of the service tests), so what a query finds never depends on where
//! the index lives.
//!
//! The large case generates 50,000 messages ([`Corpus`]) and checks the index against a brute-force
//! model of the same query over the same messages: exact hit sets, order, filters, and
//! edits, deletes and removals from a conversation.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use messaging_core::ids::{ConversationId, MessageId, UserId};
use messaging_core::ports::SearchIndex;
use messaging_core::search::{
    IndexChange, IndexPage, IndexQuery, PREFIX_MIN_CHARS, Scope, SearchDocument, SearchOrder, SearchText, Term,
};
use messaging_core::time::Timestamp;
use messaging_search::corpus::Corpus;

pub struct SearchFixture {
    pub index: Arc<dyn SearchIndex>,
    pub _guard: Option<Box<dyn std::any::Any + Send + Sync>>,
}

/// 2026-11-01T00:00:00Z.
const T0: i64 = 1_793_491_200_000;
const MINUTE: i64 = 60_000;

fn user(n: usize) -> UserId {
    UserId::parse(&format!("user-{n}")).expect("user id")
}

fn doc(conversation: &ConversationId, seq: u64, sender: usize, at: i64, body: &str, files: &[&str]) -> SearchDocument {
    SearchDocument {
        message_id: MessageId::generate(),
        conversation_id: conversation.clone(),
        seq,
        sender_id: user(sender),
        created_at: Timestamp::from_millis(at),
        body: body.to_owned(),
        file_names: files.iter().map(|f| f.to_string()).collect(),
    }
}

fn query(text: &str, scope: Scope) -> IndexQuery {
    IndexQuery {
        text: SearchText::parse(text).expect("query"),
        scope,
        sender: None,
        from: None,
        to: None,
        has_files: None,
        order: SearchOrder::Newest,
        after: None,
        limit: 50,
    }
}

async fn add(index: &dyn SearchIndex, docs: &[SearchDocument]) {
    let changes: Vec<IndexChange> = docs.iter().cloned().map(IndexChange::Upsert).collect();
    index.apply(&changes).await.expect("apply");
}

/// Every page of `q`, followed to the end.
async fn all_pages(index: &dyn SearchIndex, mut q: IndexQuery) -> Vec<MessageId> {
    let mut ids = Vec::new();
    for _ in 0..1000 {
        let IndexPage { hits, next } = index.search(&q).await.expect("search");
        ids.extend(hits.into_iter().map(|h| h.message_id));
        match next {
            Some(n) => q.after = Some(n),
            None => return ids,
        }
    }
    panic!("pages never ended");
}

async fn hit_ids(index: &dyn SearchIndex, q: &IndexQuery) -> Vec<MessageId> {
    index
        .search(q)
        .await
        .expect("search")
        .hits
        .into_iter()
        .map(|h| h.message_id)
        .collect()
}

pub async fn words_phrases_and_prefixes_find_their_messages(f: SearchFixture) {
    let c = ConversationId::generate();
    let docs = [
        doc(&c, 1, 1, T0, "The deployment of release 2.4 went fine", &[]),
        doc(&c, 2, 2, T0 + MINUTE, "Can we DEPLOY on Friday?", &[]),
        doc(
            &c,
            3,
            1,
            T0 + 2 * MINUTE,
            "Notes from the café meeting, naïve plan",
            &[],
        ),
        doc(
            &c,
            4,
            3,
            T0 + 3 * MINUTE,
            "Here is the contract",
            &["Signed-Contract_v3.pdf"],
        ),
        doc(&c, 5, 2, T0 + 4 * MINUTE, "release notes are in the wiki", &[]),
        doc(&c, 6, 2, T0 + 5 * MINUTE, "go go go", &[]),
        doc(&c, 7, 2, T0 + 6 * MINUTE, "東京 office opens", &[]),
    ];
    add(&*f.index, &docs).await;
    let only = || Scope::Only(vec![c.clone()]);
    let ids = |n: &[usize]| -> Vec<MessageId> { n.iter().map(|&i| docs[i].message_id.clone()).collect() };

    // Any case; words of three letters or more match as prefixes, newest first.
    assert_eq!(hit_ids(&*f.index, &query("deploy", only())).await, ids(&[1, 0]));
    // Every term must match.
    assert_eq!(hit_ids(&*f.index, &query("deploy release", only())).await, ids(&[0]));
    // A phrase: these words, together, in order.
    assert_eq!(hit_ids(&*f.index, &query("\"release notes\"", only())).await, ids(&[4]));
    assert_eq!(hit_ids(&*f.index, &query("\"notes release\"", only())).await, ids(&[]));
    // Accents folded both ways.
    assert_eq!(hit_ids(&*f.index, &query("cafe naive", only())).await, ids(&[2]));
    assert_eq!(hit_ids(&*f.index, &query("CAFÉ", only())).await, ids(&[2]));
    // Attachment names are searchable, split into words.
    assert_eq!(hit_ids(&*f.index, &query("contract v3", only())).await, ids(&[3]));
    // Short words match whole words only: "go" is not a prefix of "gone".
    assert_eq!(hit_ids(&*f.index, &query("go", only())).await, ids(&[5]));
    assert_eq!(hit_ids(&*f.index, &query("東京", only())).await, ids(&[6]));
    assert_eq!(hit_ids(&*f.index, &query("nothing-like-this", only())).await, ids(&[]));
}

pub async fn query_syntax_in_what_people_type_is_plain_text(f: SearchFixture) {
    let c = ConversationId::generate();
    let docs = [
        doc(&c, 1, 1, T0, "body: NEAR the OR gate, a* star", &[]),
        doc(&c, 2, 1, T0 + MINUTE, "unrelated words", &[]),
    ];
    add(&*f.index, &docs).await;
    for typed in [
        "body:near",
        "NEAR(gate or)",
        "\"OR\" gate",
        "a* star ^",
        "-gate",
        "gate)",
        "{body} : gate",
    ] {
        let hits = hit_ids(&*f.index, &query(typed, Scope::Only(vec![c.clone()]))).await;
        assert_eq!(hits, [docs[0].message_id.clone()], "{typed:?}");
    }
}

pub async fn newest_first_pages_have_no_gaps_or_repeats(f: SearchFixture) {
    let c = ConversationId::generate();
    // 45 matches, three of them in the same millisecond, and others between them.
    let mut docs = Vec::new();
    for i in 0..60u64 {
        let at = if i < 3 { T0 } else { T0 + i as i64 * MINUTE };
        let body = if i % 4 == 3 {
            "something else"
        } else {
            "weekly status report"
        };
        docs.push(doc(&c, i + 1, 1, at, body, &[]));
    }
    add(&*f.index, &docs).await;
    let mut q = query("status", Scope::Only(vec![c.clone()]));
    q.limit = 20;
    let got = all_pages(&*f.index, q).await;
    let mut expected: Vec<&SearchDocument> = docs.iter().filter(|d| d.body.contains("status")).collect();
    expected.sort_by_key(|d| std::cmp::Reverse(d.created_at));
    assert_eq!(got.len(), 45);
    assert_eq!(got.iter().collect::<BTreeSet<_>>().len(), 45, "no repeats");
    let got_times: Vec<Timestamp> = got
        .iter()
        .map(|id| docs.iter().find(|d| &d.message_id == id).expect("known").created_at)
        .collect();
    let expected_times: Vec<Timestamp> = expected.iter().map(|d| d.created_at).collect();
    assert_eq!(got_times, expected_times, "newest first");
}

pub async fn best_match_first_ranks_closer_matches_higher(f: SearchFixture) {
    let c = ConversationId::generate();
    let filler = "and some more words about the weather, lunch, the train and the weekend ".repeat(4);
    let docs = [
        doc(&c, 1, 1, T0, &format!("invoice {filler}"), &[]),
        doc(&c, 2, 1, T0 + MINUTE, "invoice invoice: the invoice for March", &[]),
        doc(&c, 3, 1, T0 + 2 * MINUTE, &format!("{filler} invoice"), &[]),
        doc(&c, 4, 1, T0 + 3 * MINUTE, "the March invoice", &[]),
    ];
    add(&*f.index, &docs).await;
    let mut q = query("invoice", Scope::Only(vec![c.clone()]));
    q.order = SearchOrder::Relevance;
    let hits = hit_ids(&*f.index, &q).await;
    assert_eq!(hits.len(), 4);
    assert_eq!(
        hits[0], docs[1].message_id,
        "three times in a short message ranks first"
    );
    assert_eq!(hits[1], docs[3].message_id, "then the short message");
    // Pages of best matches follow on without repeats.
    q.limit = 3;
    let paged = all_pages(&*f.index, q).await;
    assert_eq!(paged, hits);
}

pub async fn filters_narrow_by_conversation_sender_time_and_files(f: SearchFixture) {
    let (a, b, c) = (
        ConversationId::generate(),
        ConversationId::generate(),
        ConversationId::generate(),
    );
    let docs = [
        doc(&a, 1, 1, T0, "budget draft", &["budget.xlsx"]),
        doc(&a, 2, 2, T0 + 10 * MINUTE, "budget approved", &[]),
        doc(&b, 1, 1, T0 + 20 * MINUTE, "budget for b", &[]),
        doc(&c, 1, 2, T0 + 30 * MINUTE, "budget for c", &["c.pdf"]),
    ];
    add(&*f.index, &docs).await;
    let ids = |n: &[usize]| -> Vec<MessageId> { n.iter().map(|&i| docs[i].message_id.clone()).collect() };
    let in_ab = || Scope::Only(vec![a.clone(), b.clone()]);

    assert_eq!(hit_ids(&*f.index, &query("budget", in_ab())).await, ids(&[2, 1, 0]));
    let mut q = query("budget", Scope::All);
    // Other tests' messages share an index with these: only ours are counted.
    let ours: BTreeSet<MessageId> = docs.iter().map(|d| d.message_id.clone()).collect();
    let all: Vec<MessageId> = all_pages(&*f.index, q.clone())
        .await
        .into_iter()
        .filter(|id| ours.contains(id))
        .collect();
    assert_eq!(all, ids(&[3, 2, 1, 0]));

    q.scope = in_ab();
    q.sender = Some(user(1));
    assert_eq!(hit_ids(&*f.index, &q).await, ids(&[2, 0]));
    q.sender = None;
    q.from = Some(Timestamp::from_millis(T0 + 10 * MINUTE));
    q.to = Some(Timestamp::from_millis(T0 + 20 * MINUTE));
    assert_eq!(
        hit_ids(&*f.index, &q).await,
        ids(&[1]),
        "from is inclusive, to exclusive"
    );
    q.from = None;
    q.to = None;
    q.has_files = Some(true);
    assert_eq!(hit_ids(&*f.index, &q).await, ids(&[0]));
    q.has_files = Some(false);
    assert_eq!(hit_ids(&*f.index, &q).await, ids(&[2, 1]));
    q.has_files = None;
    q.scope = Scope::Only(vec![ConversationId::generate()]);
    assert_eq!(hit_ids(&*f.index, &q).await, ids(&[]), "a conversation with nothing");
}

pub async fn edits_replace_deletes_remove_and_changes_can_repeat(f: SearchFixture) {
    let c = ConversationId::generate();
    let only = || Scope::Only(vec![c.clone()]);
    let original = doc(&c, 1, 1, T0, "meet at the harbour", &[]);
    let other = doc(&c, 2, 1, T0 + MINUTE, "the harbour is closed", &[]);
    add(&*f.index, &[original.clone(), other.clone()]).await;
    // A change applied twice is applied once (a stream may deliver a record again).
    add(&*f.index, std::slice::from_ref(&original)).await;
    assert_eq!(hit_ids(&*f.index, &query("harbour", only())).await.len(), 2);

    let edited = SearchDocument {
        body: "meet at the station".into(),
        ..original.clone()
    };
    add(&*f.index, &[edited]).await;
    assert_eq!(
        hit_ids(&*f.index, &query("harbour", only())).await,
        std::slice::from_ref(&other.message_id),
        "the old words are gone"
    );
    assert_eq!(
        hit_ids(&*f.index, &query("station", only())).await,
        std::slice::from_ref(&original.message_id)
    );

    let remove = IndexChange::Remove(other.message_id.clone());
    f.index.apply(std::slice::from_ref(&remove)).await.expect("remove");
    f.index.apply(&[remove]).await.expect("remove again");
    f.index
        .apply(&[IndexChange::Remove(MessageId::generate())])
        .await
        .expect("removing what was never there");
    assert!(hit_ids(&*f.index, &query("harbour closed", only())).await.is_empty());
    assert_eq!(
        hit_ids(&*f.index, &query("meet", only())).await,
        std::slice::from_ref(&original.message_id)
    );
}

pub async fn snippets_show_the_passage_and_mark_the_matches(f: SearchFixture) {
    let c = ConversationId::generate();
    let long = format!(
        "{} The Quarterly REPORT is attached, see the quarterly numbers. {}",
        "Lorem ipsum dolor sit amet. ".repeat(20),
        "Closing words. ".repeat(20)
    );
    add(&*f.index, &[doc(&c, 1, 1, T0, &long, &[])]).await;
    let page = f
        .index
        .search(&query("quarterly report", Scope::Only(vec![c.clone()])))
        .await
        .expect("search");
    let snippet = &page.hits[0].snippet;
    let marked: Vec<&str> = snippet.iter().filter(|p| p.matched).map(|p| p.text.as_str()).collect();
    assert_eq!(marked, ["Quarterly", "REPORT", "quarterly"], "{snippet:?}");
    let text: String = snippet.iter().map(|p| p.text.as_str()).collect();
    assert!(text.len() < 400, "a passage, not the whole body: {} bytes", text.len());
    assert!(
        !text.chars().any(char::is_control),
        "no marker characters left: {text:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 50,000 messages against a brute-force model.
// ---------------------------------------------------------------------------------------

/// The model's tokens of a text: lower-cased runs of letters and digits (the generated
/// text is ASCII, where this is exactly what the index does).
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

fn model_matches(d: &SearchDocument, q: &IndexQuery) -> bool {
    // The body and the file names are two columns: a phrase lies within one.
    let columns = [tokens(&d.body), tokens(&d.file_names.join("\n"))];
    let word_matches = |w: &str| {
        columns
            .iter()
            .flatten()
            .any(|t| t == w || (w.chars().count() >= PREFIX_MIN_CHARS && t.starts_with(w)))
    };
    let terms_match = q.text.terms().iter().all(|term| match term {
        Term::Word(w) => word_matches(w),
        Term::Phrase(p) => columns
            .iter()
            .any(|c| c.windows(p.len()).any(|win| win == p.as_slice())),
    });
    let in_scope = match &q.scope {
        Scope::All => true,
        Scope::Only(c) => c.contains(&d.conversation_id),
    };
    terms_match
        && in_scope
        && q.sender.as_ref().is_none_or(|s| *s == d.sender_id)
        && q.from.is_none_or(|t| d.created_at >= t)
        && q.to.is_none_or(|t| d.created_at < t)
        && q.has_files.is_none_or(|h| h != d.file_names.is_empty())
}

/// The model's answer: every match, newest first (same-millisecond ties in any order).
fn model_answer(docs: &HashMap<MessageId, SearchDocument>, q: &IndexQuery) -> Vec<(Timestamp, MessageId)> {
    let mut hits: Vec<(Timestamp, MessageId)> = docs
        .values()
        .filter(|d| model_matches(d, q))
        .map(|d| (d.created_at, d.message_id.clone()))
        .collect();
    hits.sort_by_key(|h| std::cmp::Reverse(h.0));
    hits
}

async fn check_against_model(
    index: &dyn SearchIndex,
    docs: &HashMap<MessageId, SearchDocument>,
    q: IndexQuery,
    label: &str,
) -> usize {
    let expected = model_answer(docs, &q);
    let got = all_pages(index, q).await;
    let got_set: BTreeSet<&MessageId> = got.iter().collect();
    let expected_set: BTreeSet<&MessageId> = expected.iter().map(|(_, id)| id).collect();
    assert_eq!(got.len(), got_set.len(), "{label}: repeats across pages");
    if got_set != expected_set {
        let extra: Vec<&str> = got_set
            .difference(&expected_set)
            .take(3)
            .map(|id| docs[*id].body.as_str())
            .collect();
        let missing: Vec<&str> = expected_set
            .difference(&got_set)
            .take(3)
            .map(|id| docs[*id].body.as_str())
            .collect();
        panic!(
            "{label}: {} hits, the model {}; found but not expected: {extra:?}; expected but not found: {missing:?}",
            got_set.len(),
            expected_set.len()
        );
    }
    let got_times: Vec<Timestamp> = got.iter().map(|id| docs[id].created_at).collect();
    let expected_times: Vec<Timestamp> = expected.iter().map(|(t, _)| *t).collect();
    assert_eq!(got_times, expected_times, "{label}: not newest first");
    got.len()
}

pub async fn fifty_thousand_messages_answer_as_the_model_does(f: SearchFixture) {
    let started = std::time::Instant::now();
    let corpus = Corpus::new(0x5EED_0016, 50_000, 300, 12);
    let convs = corpus.conversations().to_vec();
    let words: Vec<String> = (0..=400).map(|r| corpus.word(r).to_owned()).collect();
    let generated: Vec<SearchDocument> = corpus.collect();
    for batch in generated.chunks(1_000) {
        add(&*f.index, batch).await;
    }
    let indexed = started.elapsed();
    let mut docs: HashMap<MessageId, SearchDocument> =
        generated.into_iter().map(|d| (d.message_id.clone(), d)).collect();
    let member_of: Vec<ConversationId> = convs.iter().step_by(7).cloned().collect();
    let mine = || Scope::Only(member_of.clone());

    let mut q = query(&words[100], mine());
    q.limit = 50;
    let rare = check_against_model(&*f.index, &docs, q.clone(), "rare word").await;
    assert!(rare > 50, "the rare word spans pages: {rare}");
    let two = format!("{} {}", words[20], words[30]);
    check_against_model(&*f.index, &docs, query(&two, mine()), "two words").await;
    let phrase = format!("\"{} {}\"", words[0], words[1]);
    assert!(check_against_model(&*f.index, &docs, query(&phrase, mine()), "phrase").await > 0);
    let prefix: String = words[7].chars().take(3).collect();
    check_against_model(&*f.index, &docs, query(&prefix, mine()), "prefix").await;
    check_against_model(&*f.index, &docs, query(&words[3], mine()), "a common word").await;
    let mut filtered = query(&words[40], Scope::All);
    filtered.sender = Some(Corpus::sender(3));
    filtered.from = Some(Timestamp::from_millis(T0 + 10 * 24 * 60 * MINUTE));
    filtered.to = Some(Timestamp::from_millis(T0 + 40 * 24 * 60 * MINUTE));
    check_against_model(&*f.index, &docs, filtered.clone(), "sender and dates").await;
    let mut with_files = query("pdf", mine());
    with_files.has_files = Some(true);
    assert!(check_against_model(&*f.index, &docs, with_files, "files").await > 0);

    // Best match first: the same set, and a message saying the word most often, shortest, first.
    let lantern = &words[60];
    let mut ranked = query(lantern, Scope::Only(vec![convs[0].clone()]));
    ranked.order = SearchOrder::Relevance;
    let planted = doc(
        &convs[0],
        100_000,
        1,
        T0,
        &format!("{lantern} {lantern} {lantern}"),
        &[],
    );
    add(&*f.index, std::slice::from_ref(&planted)).await;
    docs.insert(planted.message_id.clone(), planted.clone());
    let by_rank = all_pages(&*f.index, ranked.clone()).await;
    assert_eq!(by_rank.first(), Some(&planted.message_id));
    ranked.order = SearchOrder::Newest;
    let expected: BTreeSet<MessageId> = model_answer(&docs, &ranked).into_iter().map(|(_, id)| id).collect();
    assert_eq!(
        by_rank.into_iter().collect::<BTreeSet<_>>(),
        expected,
        "ranking keeps the set"
    );

    // Edits, deletes, and leaving a conversation.
    let rare_hits: Vec<MessageId> = model_answer(&docs, &q).into_iter().map(|(_, id)| id).collect();
    let mut changes = Vec::new();
    for (i, id) in rare_hits.iter().take(30).enumerate() {
        if i % 2 == 0 {
            changes.push(IndexChange::Remove(id.clone()));
            docs.remove(id);
        } else {
            let d = docs.get_mut(id).expect("known");
            d.body = "rewritten without the word".into();
            changes.push(IndexChange::Upsert(d.clone()));
        }
    }
    f.index.apply(&changes).await.expect("changes");
    let after = check_against_model(&*f.index, &docs, q.clone(), "after edits and deletes").await;
    // 15 deleted; 15 rewritten (still found if an attachment's name has the word).
    assert!(after <= rare - 15, "{after} of {rare}");
    let left: Vec<ConversationId> = member_of.iter().skip(1).cloned().collect();
    q.scope = Scope::Only(left);
    check_against_model(&*f.index, &docs, q, "after leaving a conversation").await;
    eprintln!(
        "50,000 messages indexed in {indexed:?}; whole case {:?}",
        started.elapsed()
    );
}

#[macro_export]
macro_rules! search_conformance_tests {
    ($fixture:path) => {
        $crate::search_conformance_tests!(@cases $fixture;
            words_phrases_and_prefixes_find_their_messages,
            query_syntax_in_what_people_type_is_plain_text,
            newest_first_pages_have_no_gaps_or_repeats,
            best_match_first_ranks_closer_matches_higher,
            filters_narrow_by_conversation_sender_time_and_files,
            edits_replace_deletes_remove_and_changes_can_repeat,
            snippets_show_the_passage_and_mark_the_matches,
            fifty_thousand_messages_answer_as_the_model_does,
        );
    };
    (@cases $fixture:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::conformance::search::$case($fixture().await).await;
            }
        )+
    };
}
