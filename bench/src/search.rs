//! `loadgen search`: the embedded search index at 10^5 and 10^6 messages: index size on
//! disk, indexing rate, and search latency (p50/p99) for the queries people make.
//!
//! The corpus is synthetic but shaped like chat ([`messaging_search::corpus`]): Zipf word
//! frequencies over 5,000 words, short messages, 300 conversations of skewed sizes, 40
//! senders. Queries run through the index port as the service runs them: a member's
//! scope (the conversations they are in), one conversation, or every conversation for an
//! admin.

use std::path::Path;
use std::time::Instant;

use messaging_core::ids::ConversationId;
use messaging_core::ports::SearchIndex;
use messaging_core::search::{IndexChange, IndexQuery, Scope, SearchOrder, SearchText};
use messaging_search::FtsIndex;
use messaging_search::corpus::Corpus;
use serde::{Deserialize, Serialize};

use crate::stats::percentiles;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchKind {
    pub kind: String,
    pub queries: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub mean_hits: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchRun {
    pub messages: usize,
    pub index_bytes: u64,
    pub index_seconds: f64,
    pub messages_per_second: f64,
    /// After `optimize` (segments merged), as a quiet hour's maintenance leaves it.
    pub optimized_bytes: u64,
    pub kinds: Vec<SearchKind>,
    pub all_p50_ms: f64,
    pub all_p99_ms: f64,
}

fn file_bytes(path: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}

/// Indexes `messages` generated messages in `dir`, then times `rounds` rounds of each
/// kind of query.
pub async fn measure(dir: &Path, messages: usize, rounds: usize) -> Result<SearchRun, String> {
    let path = dir.join(format!("search-{messages}.sqlite3"));
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    let index = FtsIndex::open(&path, 2).map_err(|e| e.to_string())?;
    let mut corpus = Corpus::new(0xBE7C_0016, messages, 300, 40);
    let conversations: Vec<ConversationId> = corpus.conversations().to_vec();
    let words: Vec<String> = (0..5_000).map(|r| corpus.word(r).to_owned()).collect();

    let started = Instant::now();
    loop {
        let batch: Vec<IndexChange> = corpus.by_ref().take(1_000).map(IndexChange::Upsert).collect();
        if batch.is_empty() {
            break;
        }
        index.apply(&batch).await.map_err(|e| e.to_string())?;
    }
    let index_seconds = started.elapsed().as_secs_f64();
    let index_bytes = file_bytes(&path);

    // A member of 20 conversations (busy and quiet ones), one busy conversation, everything.
    let member: Vec<ConversationId> = conversations.iter().step_by(15).cloned().collect();
    let scopes = [
        ("member", Scope::Only(member)),
        ("conversation", Scope::Only(vec![conversations[3].clone()])),
        ("admin", Scope::All),
    ];
    let mut kinds = Vec::new();
    let mut all = Vec::new();
    let mut pick = 0usize;
    for (scope_name, scope) in &scopes {
        for (text_name, order) in [
            ("common word", SearchOrder::Newest),
            ("rare word", SearchOrder::Newest),
            ("two words", SearchOrder::Newest),
            ("phrase", SearchOrder::Newest),
            ("prefix", SearchOrder::Newest),
            ("two words, best match", SearchOrder::Relevance),
        ] {
            let mut times = Vec::with_capacity(rounds);
            let mut hits = 0usize;
            for _ in 0..rounds {
                pick = pick.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let r = pick >> 33;
                let text = match text_name {
                    "common word" => words[r % 20].clone(),
                    "rare word" => words[500 + r % 2_000].clone(),
                    "phrase" => format!("\"{} {}\"", words[r % 10], words[(r / 10) % 10]),
                    "prefix" => words[50 + r % 200].chars().take(3).collect(),
                    _ => format!("{} {}", words[r % 100], words[100 + (r / 100) % 400]),
                };
                let q = IndexQuery {
                    text: SearchText::parse(&text).map_err(|e| e.to_string())?,
                    scope: scope.clone(),
                    sender: None,
                    from: None,
                    to: None,
                    has_files: None,
                    order,
                    after: None,
                    limit: 20,
                };
                let t = Instant::now();
                let page = index.search(&q).await.map_err(|e| e.to_string())?;
                times.push(t.elapsed().as_micros() as u64);
                hits += page.hits.len();
            }
            all.extend_from_slice(&times);
            let p = percentiles(times);
            kinds.push(SearchKind {
                kind: format!("{scope_name}: {text_name}"),
                queries: rounds,
                p50_ms: p.p50_ms,
                p99_ms: p.p99_ms,
                mean_hits: hits as f64 / rounds as f64,
            });
        }
    }
    let overall = percentiles(all);
    index.optimize().map_err(|e| e.to_string())?;
    let optimized_bytes = file_bytes(&path);
    drop(index);
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    Ok(SearchRun {
        messages,
        index_bytes,
        index_seconds,
        messages_per_second: messages as f64 / index_seconds,
        optimized_bytes,
        kinds,
        all_p50_ms: overall.p50_ms,
        all_p99_ms: overall.p99_ms,
    })
}

/// The runs as a Markdown section of RESULTS.md.
pub fn markdown(runs: &[SearchRun]) -> String {
    if runs.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "## Search index (embedded FTS5)\n\n`loadgen search`: synthetic chat (Zipf words, 300 conversations, \
         40 senders); 20 results per query.\n\n| messages | index size | after optimize | indexing | search p50 \
         | search p99 |\n|---|---|---|---|---|---|\n",
    );
    for r in runs {
        out.push_str(&format!(
            "| {} | {:.1} MB | {:.1} MB | {:.0} msg/s | {:.2} ms | {:.2} ms |\n",
            r.messages,
            r.index_bytes as f64 / 1_048_576.0,
            r.optimized_bytes as f64 / 1_048_576.0,
            r.messages_per_second,
            r.all_p50_ms,
            r.all_p99_ms
        ));
    }
    for r in runs {
        out.push_str(&format!(
            "\n{} messages, by query:\n\n| query | p50 ms | p99 ms | hits |\n|---|---|---|---|\n",
            r.messages
        ));
        for k in &r.kinds {
            out.push_str(&format!(
                "| {} | {:.2} | {:.2} | {:.1} |\n",
                k.kind, k.p50_ms, k.p99_ms, k.mean_hits
            ));
        }
    }
    out
}
