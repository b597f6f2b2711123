//! [`Store`] on DynamoDB.
//!
//! Request costs (what each operation sends; all reads that must see the latest write
//! are strongly consistent). Retries of what DynamoDB says is retryable come on top
//! ([`super::retry`]); batches are sent concurrently, so their round trips do not grow
//! with the number of keys.
//!
//! | operation | requests |
//! |---|---|
//! | append (send) | GetItem conversation + Query LSI `by-client-key` + TransactWriteItems (conversation, message, sender's receipt, attached files); +2 per lost race |
//! | get message | Query LSI `by-id` (+ GetItem where the LSI does not fetch attributes) |
//! | list messages | Query (1) |
//! | edit / delete | get message + GetItem conversation + UpdateItem (optimistic on `edit_count`), or TransactWriteItems with the preview when it is the newest message |
//! | mark read | UpdateItem (monotonic condition); + GetItem when the watermark was already ahead |
//! | list my conversations | Query GSI `by-user` + BatchGetItem (per 100, concurrent) + BatchGetItem receipts (per 100) |
//! | members of N conversations | BatchGetItem of `member_ids` (per 100, concurrent) |
//! | create conversation | TransactWriteItems (conversation + participants) |
//! | admin search | Query GSI `by-created` (filtered, ≤ 10 pages) + BatchGetItem |
//! | reports | PutItem / Query GSI / UpdateItem (+ GetItem when a retry finds its own write) |
//! | notification settings | BatchGetItem (per 100) / PutItem |
//! | push subscriptions | Query (the user's) / PutItem / DeleteItem |

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConsumedCapacity, Delete, KeysAndAttributes, Put, ReturnConsumedCapacity, ReturnValue, Select,
    TransactWriteItem, Update,
};

use messaging_core::cursor::Cursor;
use messaging_core::error::{StoreError, StoreResult};
use messaging_core::ids::*;
use messaging_core::model::*;
use messaging_core::notify::{NotificationSettings, PushSubscription};
use messaging_core::ports::*;
use messaging_core::text::{MessageBody, Title};
use messaging_core::time::Timestamp;

use super::item::*;
use super::retry::{self, Cancellation, is_condition_failure};
use super::schema::TableNames;

/// Requests sent and capacity consumed, for the benchmark's cost accounting.
#[derive(Debug, Default)]
pub struct RequestStats {
    requests: AtomicU64,
    /// Capacity units × 1000 (atomics hold integers).
    capacity_milli: AtomicU64,
}

impl RequestStats {
    /// One request and what it consumed (single-table calls report an `Option`,
    /// batches and transactions a list; both iterate).
    fn record<'a>(&self, consumed: impl IntoIterator<Item = &'a ConsumedCapacity>) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let units: f64 = consumed.into_iter().filter_map(|c| c.capacity_units).sum();
        self.capacity_milli
            .fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
    }

    /// A request that failed (it consumed nothing we are told of).
    fn record_failure(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// (requests, capacity units) so far.
    pub fn snapshot(&self) -> (u64, f64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.capacity_milli.load(Ordering::Relaxed) as f64 / 1000.0,
        )
    }
}

/// The capacity a DynamoDB answer reports (single-table calls report one, batches and
/// transactions one per table).
trait Consumed {
    fn consumed(&self) -> Vec<&ConsumedCapacity>;
}

macro_rules! consumed_one {
    ($($output:ty),+) => {$(
        impl Consumed for $output {
            fn consumed(&self) -> Vec<&ConsumedCapacity> {
                self.consumed_capacity().into_iter().collect()
            }
        }
    )+};
}

macro_rules! consumed_many {
    ($($output:ty),+) => {$(
        impl Consumed for $output {
            fn consumed(&self) -> Vec<&ConsumedCapacity> {
                self.consumed_capacity().iter().collect()
            }
        }
    )+};
}

consumed_one!(
    aws_sdk_dynamodb::operation::get_item::GetItemOutput,
    aws_sdk_dynamodb::operation::query::QueryOutput,
    aws_sdk_dynamodb::operation::put_item::PutItemOutput,
    aws_sdk_dynamodb::operation::update_item::UpdateItemOutput,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput
);
consumed_many!(
    aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput,
    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput
);

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    t: Arc<TableNames>,
    stats: Arc<RequestStats>,
}

fn sdk<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    StoreError::Backend(DisplayErrorContext(e).to_string())
}

/// Why a transaction did not commit, once retries are spent.
enum TxOutcome {
    /// Item `index` failed its condition.
    ConditionFailed(usize),
    Failed(StoreError),
}

fn build<T>(r: Result<T, aws_sdk_dynamodb::error::BuildError>) -> StoreResult<T> {
    r.map_err(StoreError::backend)
}

fn tx_put(put: aws_sdk_dynamodb::types::builders::PutBuilder) -> StoreResult<TransactWriteItem> {
    Ok(TransactWriteItem::builder().put(build(put.build())?).build())
}

fn tx_update(update: aws_sdk_dynamodb::types::builders::UpdateBuilder) -> StoreResult<TransactWriteItem> {
    Ok(TransactWriteItem::builder().update(build(update.build())?).build())
}

fn tx_delete(delete: aws_sdk_dynamodb::types::builders::DeleteBuilder) -> StoreResult<TransactWriteItem> {
    Ok(TransactWriteItem::builder().delete(build(delete.build())?).build())
}

/// Optimistic loops (a lost race for a seq, a concurrent edit) give up after this many rounds.
const MAX_ROUNDS: u32 = 64;

/// The update that turns a message into `revised`, its edit or its tombstone (built in
/// core by `Message::edited` / `Message::tombstoned`; the newest revision is the new one).
fn revision_update(revised: &Message) -> (&'static str, Vec<(&'static str, AttributeValue)>) {
    let newest = revised.revisions.last().cloned().into_iter().collect::<Vec<_>>();
    match (&revised.body, revised.deleted_at) {
        (_, Some(at)) => (
            "SET deleted_at = :at, deleted_by = :by, revisions = list_append(revisions, :rev) REMOVE body",
            vec![
                (":at", s(at.to_rfc3339())),
                (
                    ":by",
                    s(revised.deleted_by.as_ref().map(|u| u.as_str()).unwrap_or_default()),
                ),
                (":rev", to_attr(&newest)),
            ],
        ),
        (body, None) => (
            "SET body = :body, edited_at = :at, edit_count = :count, revisions = list_append(revisions, :rev)",
            vec![
                (":body", s(body.clone().unwrap_or_default())),
                (":at", s(revised.edited_at.map(|t| t.to_rfc3339()).unwrap_or_default())),
                (":count", n(revised.edit_count)),
                (":rev", to_attr(&newest)),
            ],
        ),
    }
}

impl DynamoStore {
    pub fn new(client: Client, tables: TableNames) -> Self {
        Self {
            client,
            t: Arc::new(tables),
            stats: Arc::new(RequestStats::default()),
        }
    }

    pub fn stats(&self) -> Arc<RequestStats> {
        self.stats.clone()
    }

    /// Sends one request, retrying what DynamoDB says is retryable ([`retry`]). `attempt`
    /// sends it once (a clone of a fluent builder). Every try counts as a request, and the
    /// capacity of the one that succeeded is recorded: every DynamoDB call goes through here.
    async fn send<T, E, R, F, Fut>(&self, mut attempt: F) -> Result<T, SdkError<E, R>>
    where
        T: Consumed,
        E: ProvideErrorMetadata,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
    {
        let mut tries = 0;
        loop {
            match attempt().await {
                Ok(out) => {
                    self.stats.record(out.consumed());
                    return Ok(out);
                }
                Err(e) => {
                    self.stats.record_failure();
                    tries += 1;
                    if tries >= retry::ATTEMPTS || !retry::is_retryable(&e) {
                        return Err(e);
                    }
                    tracing::debug!(code = e.code().unwrap_or("-"), tries, "retrying a DynamoDB request");
                    retry::after_failure(tries - 1).await;
                }
            }
        }
    }

    /// One `TransactWriteItems`, with a client request token shared by all its retries:
    /// a retry of a transaction that committed although its answer was lost succeeds
    /// again without writing twice. Conflicts and throttling are retried here; only a
    /// failed condition or a real failure reaches the caller.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TxOutcome> {
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
        let token = retry::request_token();
        let request = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(token)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        for attempt in 0..retry::ATTEMPTS {
            let e = match self.send(|| request.clone().send()).await {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            match e.as_service_error() {
                Some(E::TransactionCanceledException(c)) => match retry::cancellation(c.cancellation_reasons()) {
                    Cancellation::ConditionFailed(i) => return Err(TxOutcome::ConditionFailed(i)),
                    Cancellation::Retry => {
                        tracing::debug!(attempt, "transaction cancelled by a conflict or throttling; retrying");
                        retry::after_failure(attempt).await;
                    }
                    Cancellation::Other => return Err(TxOutcome::Failed(sdk(e))),
                },
                _ => return Err(TxOutcome::Failed(sdk(e))),
            }
        }
        Err(TxOutcome::Failed(StoreError::Contention))
    }

    async fn get(&self, table: &str, key: Item) -> StoreResult<Option<Item>> {
        let request = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let out = self.send(|| request.clone().send()).await.map_err(sdk)?;
        Ok(out.item)
    }

    /// BatchGetItem over any number of keys: 100 per request, the requests concurrent,
    /// unprocessed keys retried with backoff. Keys still unprocessed after that are an
    /// error, never a silently shorter answer.
    async fn batch_get(&self, table: &str, keys: Vec<Item>, projection: Option<&str>) -> StoreResult<Vec<Item>> {
        let chunks = keys
            .chunks(100)
            .map(|chunk| self.batch_get_chunk(table, chunk.to_vec(), projection));
        let found = futures::future::try_join_all(chunks).await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn batch_get_chunk(&self, table: &str, keys: Vec<Item>, projection: Option<&str>) -> StoreResult<Vec<Item>> {
        let mut pending = build(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .set_projection_expression(projection.map(str::to_owned))
                .build(),
        )?;
        let mut out = Vec::new();
        for attempt in 0..retry::ATTEMPTS {
            let request = self
                .client
                .batch_get_item()
                .request_items(table, pending.clone())
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            let resp = self.send(|| request.clone().send()).await.map_err(sdk)?;
            if let Some(mut responses) = resp.responses {
                out.extend(responses.remove(table).unwrap_or_default());
            }
            match resp.unprocessed_keys.and_then(|mut u| u.remove(table)) {
                Some(rest) if !rest.keys().is_empty() => {
                    pending = rest;
                    retry::after_failure(attempt).await;
                }
                _ => return Ok(out),
            }
        }
        Err(StoreError::Backend(format!(
            "DynamoDB left {} keys of {table} unprocessed after {} tries",
            pending.keys().len(),
            retry::ATTEMPTS
        )))
    }

    /// Every item of a query, following pagination.
    async fn query_all(
        &self,
        request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> StoreResult<Vec<Item>> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = request
                .clone()
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            let out = self.send(|| page.clone().send()).await.map_err(sdk)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    async fn update_conversation(
        &self,
        id: &ConversationId,
        set: &str,
        names: &[(&str, &str)],
        values: Vec<(&str, AttributeValue)>,
    ) -> StoreResult<Conversation> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.t.conversations)
            .key("id", s(id.as_str()))
            .update_expression(format!("SET {set}"))
            .condition_expression("attribute_exists(id)")
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        for (name, value) in values {
            req = req.expression_attribute_values(name, value);
        }
        for (alias, name) in names {
            req = req.expression_attribute_names(*alias, *name);
        }
        // Setting the same values twice is harmless: a retry after a lost answer is fine.
        match self.send(|| req.clone().send()).await {
            Ok(out) => conversation_from(&out.attributes.unwrap_or_default()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::ConversationNotFound),
            Err(e) => Err(sdk(e)),
        }
    }

    fn conversation_key(id: &ConversationId) -> Item {
        Item::from([("id".into(), s(id.as_str()))])
    }

    fn message_key(conversation: &ConversationId, seq: u64) -> Item {
        Item::from([
            ("conversation_id".into(), s(conversation.as_str())),
            ("seq".into(), n(seq)),
        ])
    }

    /// A message found through one of the LSIs; fetches the item when the index answered
    /// with keys only.
    async fn message_via_index(
        &self,
        index: &str,
        conversation: &ConversationId,
        sk: &str,
        value: &str,
    ) -> StoreResult<Option<Message>> {
        let request = self
            .client
            .query()
            .table_name(&self.t.messages)
            .index_name(index)
            .key_condition_expression("conversation_id = :c AND #k = :v")
            .expression_attribute_names("#k", sk)
            .expression_attribute_values(":c", s(conversation.as_str()))
            .expression_attribute_values(":v", s(value))
            .select(Select::AllAttributes)
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let out = self.send(|| request.clone().send()).await.map_err(sdk)?;
        let Some(found) = out.items.unwrap_or_default().into_iter().next() else {
            return Ok(None);
        };
        if found.contains_key("sender_id") {
            return message_from(&found).map(Some);
        }
        let seq = found.u64_of("seq")?;
        match self.get(&self.t.messages, Self::message_key(conversation, seq)).await? {
            Some(item) => message_from(&item).map(Some),
            None => Ok(None),
        }
    }

    /// Applies an edit or a delete with optimistic concurrency on `edit_count` (edits and
    /// deletes both change it or `deleted_at`), so the audit trail records the body that
    /// was really replaced. `revise` is the domain rule (`Message::edited` /
    /// `Message::tombstoned`); `None` means nothing to change.
    ///
    /// When the message is the newest, the conversation's preview changes in the same
    /// transaction (on the condition that it still is): a preview never shows a body that
    /// was edited or deleted, and the change is never half made. A round that failed
    /// after its write may have been applied: the next round recognises its own revision
    /// (`kind`, `by`, `at`) and answers with it instead of writing a second one.
    async fn revise_message(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
        (kind, by, at): (RevisionKind, &UserId, Timestamp),
        revise: impl Fn(&Message) -> StoreResult<Option<Message>>,
    ) -> StoreResult<Message> {
        for round in 0..MAX_ROUNDS {
            let current = self
                .get_message(conversation, id)
                .await?
                .ok_or(StoreError::MessageNotFound)?;
            if round > 0 && current.has_revision(kind, by, at) {
                return Ok(current);
            }
            let Some(revised) = revise(&current)? else {
                return Ok(current);
            };
            let newest = self
                .get(&self.t.conversations, Self::conversation_key(conversation))
                .await?
                .ok_or(StoreError::ConversationNotFound)?
                .u64_of("last_seq")?
                == current.seq;
            let (set, values) = revision_update(&revised);
            let condition = "attribute_not_exists(deleted_at) AND edit_count = :expected";
            if newest {
                let mut message = Update::builder()
                    .table_name(&self.t.messages)
                    .set_key(Some(Self::message_key(conversation, current.seq)))
                    .update_expression(set)
                    .condition_expression(condition)
                    .expression_attribute_values(":expected", n(current.edit_count));
                for (name, value) in values {
                    message = message.expression_attribute_values(name, value);
                }
                let preview = Update::builder()
                    .table_name(&self.t.conversations)
                    .key("id", s(conversation.as_str()))
                    .update_expression("SET last_message = :p")
                    .condition_expression("last_seq = :seq")
                    .expression_attribute_values(":p", to_attr(&revised.preview()))
                    .expression_attribute_values(":seq", n(current.seq));
                match self.transact(vec![tx_update(message)?, tx_update(preview)?]).await {
                    Ok(()) => return Ok(revised),
                    // Edited meanwhile, or no longer the newest: look again.
                    Err(TxOutcome::ConditionFailed(_)) => retry::after_lost_race(round).await,
                    Err(TxOutcome::Failed(e)) => return Err(e),
                }
            } else {
                let mut req = self
                    .client
                    .update_item()
                    .table_name(&self.t.messages)
                    .set_key(Some(Self::message_key(conversation, current.seq)))
                    .update_expression(set)
                    .condition_expression(condition)
                    .expression_attribute_values(":expected", n(current.edit_count))
                    .return_consumed_capacity(ReturnConsumedCapacity::Total);
                for (name, value) in values {
                    req = req.expression_attribute_values(name, value);
                }
                match self.send(|| req.clone().send()).await {
                    Ok(_) => return Ok(revised),
                    Err(e) if is_condition_failure(&e) => retry::after_lost_race(round).await,
                    Err(e) => return Err(sdk(e)),
                }
            }
        }
        Err(StoreError::Contention)
    }
}

#[async_trait]
impl ConversationStore for DynamoStore {
    async fn create_conversation(&self, c: &Conversation, participants: &[Participant]) -> StoreResult<()> {
        let members: Vec<UserId> = participants.iter().map(|p| p.user_id.clone()).collect();
        let mut items = vec![tx_put(
            Put::builder()
                .table_name(&self.t.conversations)
                .set_item(Some(conversation_item(c, &members)))
                .condition_expression("attribute_not_exists(id)"),
        )?];
        for p in participants {
            items.push(tx_put(
                Put::builder()
                    .table_name(&self.t.participants)
                    .set_item(Some(participant_item(p))),
            )?);
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxOutcome::ConditionFailed(_)) => Err(StoreError::AlreadyExists),
            Err(TxOutcome::Failed(e)) => Err(e),
        }
    }

    async fn get_conversation(&self, id: &ConversationId) -> StoreResult<Option<Conversation>> {
        let item = self.get(&self.t.conversations, Self::conversation_key(id)).await?;
        item.as_ref().map(conversation_from).transpose()
    }

    async fn get_conversations(&self, ids: &[ConversationId]) -> StoreResult<Vec<Conversation>> {
        let keys = ids.iter().map(Self::conversation_key).collect();
        self.batch_get(&self.t.conversations, keys, None)
            .await?
            .iter()
            .map(conversation_from)
            .collect()
    }

    async fn set_status(
        &self,
        id: &ConversationId,
        status: ConversationStatus,
        at: Timestamp,
    ) -> StoreResult<Conversation> {
        self.update_conversation(
            id,
            "#status = :s, updated_at = :at",
            &[("#status", "status")],
            vec![(":s", s(status.as_str())), (":at", s(at.to_rfc3339()))],
        )
        .await
    }

    async fn set_title(&self, id: &ConversationId, title: &Title, at: Timestamp) -> StoreResult<Conversation> {
        self.update_conversation(
            id,
            "title = :t, title_lc = :lc, updated_at = :at",
            &[],
            vec![
                (":t", s(title.as_str())),
                (":lc", s(title.as_str().to_lowercase())),
                (":at", s(at.to_rfc3339())),
            ],
        )
        .await
    }

    async fn search_conversations(&self, q: &ConversationQuery) -> StoreResult<Page<Conversation>> {
        const MAX_PAGES: usize = 10;
        let mut filters = Vec::new();
        let mut req = self
            .client
            .query()
            .table_name(&self.t.conversations)
            .index_name("by-created")
            .key_condition_expression("kind = :kind")
            .expression_attribute_values(":kind", s(CONVERSATION_KIND))
            .scan_index_forward(false)
            .limit((q.limit * 2).clamp(10, 200) as i32);
        if let Some(status) = q.status {
            filters.push("#status = :status");
            req = req
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(status.as_str()));
        }
        if let Some(text) = &q.text {
            filters.push("contains(title_lc, :text)");
            req = req.expression_attribute_values(":text", s(text.as_str()));
        }
        if let Some(user) = &q.participant {
            filters.push("contains(member_ids, :member)");
            req = req.expression_attribute_values(":member", s(user.as_str()));
        }
        if !filters.is_empty() {
            req = req.filter_expression(filters.join(" AND "));
        }
        let mut start = match &q.cursor {
            Some(c) => Some(cursor_to_key(c, &["kind", "created_key", "id"])?),
            None => None,
        };
        let position = |k: &Item| -> Cursor {
            let pos: Item = ["kind", "created_key", "id"]
                .iter()
                .filter_map(|a| k.get(*a).map(|v| (a.to_string(), v.clone())))
                .collect();
            key_to_cursor(&pos)
        };
        let mut keys: Vec<Item> = Vec::new();
        let mut next_cursor = None;
        // Filters apply after `Limit`, so a page may hold fewer matches than asked for:
        // read on, a bounded number of pages, and hand back a cursor where we stopped.
        for _ in 0..MAX_PAGES {
            let page = req
                .clone()
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            let out = self.send(|| page.clone().send()).await.map_err(sdk)?;
            let found = out.items.unwrap_or_default();
            let last = out.last_evaluated_key.filter(|k| !k.is_empty());
            let room = q.limit - keys.len();
            if found.len() > room {
                keys.extend(found.into_iter().take(room));
                next_cursor = keys.last().map(position);
                break;
            }
            keys.extend(found);
            match last {
                None => {
                    next_cursor = None;
                    break;
                }
                Some(k) => {
                    next_cursor = Some(key_to_cursor(&k));
                    if keys.len() == q.limit {
                        break;
                    }
                    start = Some(k);
                }
            }
        }
        let ids: Vec<ConversationId> = keys
            .iter()
            .map(|k| k.parse("id", ConversationId::parse))
            .collect::<StoreResult<_>>()?;
        let mut full = self.get_conversations(&ids).await?;
        // Keep the index order (BatchGetItem returns in any order).
        full.sort_by_key(|c| ids.iter().position(|id| id == &c.id));
        Ok(Page {
            items: full,
            next_cursor,
        })
    }
}

#[async_trait]
impl ParticipantStore for DynamoStore {
    async fn list_participants(&self, conversation: &ConversationId) -> StoreResult<Vec<Participant>> {
        let req = self
            .client
            .query()
            .table_name(&self.t.participants)
            .key_condition_expression("conversation_id = :c")
            .expression_attribute_values(":c", s(conversation.as_str()))
            .consistent_read(true);
        self.query_all(req).await?.iter().map(participant_from).collect()
    }

    async fn conversation_ids_of(&self, user: &UserId) -> StoreResult<Vec<ConversationId>> {
        let req = self
            .client
            .query()
            .table_name(&self.t.participants)
            .index_name("by-user")
            .key_condition_expression("user_id = :u")
            .expression_attribute_values(":u", s(user.as_str()));
        self.query_all(req)
            .await?
            .iter()
            .map(|i| i.parse("conversation_id", ConversationId::parse))
            .collect()
    }

    /// From the conversations' `member_ids` (kept in the same transactions as the
    /// participant rows): one BatchGetItem per 100 conversations, all at once.
    async fn members_of(&self, conversations: &[ConversationId]) -> StoreResult<Vec<(ConversationId, Vec<UserId>)>> {
        let keys = conversations.iter().map(Self::conversation_key).collect();
        self.batch_get(&self.t.conversations, keys, Some("id, member_ids"))
            .await?
            .iter()
            .map(|item| {
                let id = item.parse("id", ConversationId::parse)?;
                let members = match item.get("member_ids") {
                    Some(AttributeValue::Ss(ids)) => ids
                        .iter()
                        .map(|u| UserId::parse(u).map_err(StoreError::backend))
                        .collect::<StoreResult<Vec<_>>>()?,
                    // The set disappears with its last member.
                    _ => Vec::new(),
                };
                Ok((id, members))
            })
            .collect()
    }

    async fn add_participants(
        &self,
        conversation: &ConversationId,
        participants: &[Participant],
    ) -> StoreResult<Vec<Participant>> {
        for round in 0..MAX_ROUNDS {
            let existing = self.list_participants(conversation).await?;
            let new: Vec<&Participant> = participants
                .iter()
                .filter(|p| !existing.iter().any(|e| e.user_id == p.user_id))
                .collect();
            if new.is_empty() {
                if self.get_conversation(conversation).await?.is_none() {
                    return Err(StoreError::ConversationNotFound);
                }
                return Ok(Vec::new());
            }
            let ids: Vec<String> = new.iter().map(|p| p.user_id.to_string()).collect();
            let mut items = vec![tx_update(
                Update::builder()
                    .table_name(&self.t.conversations)
                    .key("id", s(conversation.as_str()))
                    .update_expression("ADD member_ids :m")
                    .condition_expression("attribute_exists(id)")
                    .expression_attribute_values(":m", AttributeValue::Ss(ids)),
            )?];
            for p in &new {
                items.push(tx_put(
                    Put::builder()
                        .table_name(&self.t.participants)
                        .set_item(Some(participant_item(p)))
                        .condition_expression("attribute_not_exists(user_id)"),
                )?);
            }
            match self.transact(items).await {
                Ok(()) => return Ok(new.into_iter().cloned().collect()),
                Err(TxOutcome::ConditionFailed(0)) => return Err(StoreError::ConversationNotFound),
                // Someone added one of them meanwhile: look again.
                Err(TxOutcome::ConditionFailed(_)) => retry::after_lost_race(round).await,
                Err(TxOutcome::Failed(e)) => return Err(e),
            }
        }
        Err(StoreError::Contention)
    }

    async fn remove_participant(&self, conversation: &ConversationId, user: &UserId) -> StoreResult<bool> {
        let items = vec![
            tx_delete(
                Delete::builder()
                    .table_name(&self.t.participants)
                    .key("conversation_id", s(conversation.as_str()))
                    .key("user_id", s(user.as_str()))
                    .condition_expression("attribute_exists(user_id)"),
            )?,
            tx_update(
                Update::builder()
                    .table_name(&self.t.conversations)
                    .key("id", s(conversation.as_str()))
                    .update_expression("DELETE member_ids :m")
                    .expression_attribute_values(":m", AttributeValue::Ss(vec![user.to_string()])),
            )?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(TxOutcome::ConditionFailed(_)) => Ok(false),
            Err(TxOutcome::Failed(e)) => Err(e),
        }
    }
}

#[async_trait]
impl MessageStore for DynamoStore {
    /// The optimistic protocol: read `last_seq` (L), then look the client key up; only
    /// then write seq L+1 on the condition that `last_seq` is still L. A racing retry
    /// of the same client id either committed before our read of L (so the lookup finds
    /// it) or commits after it (so our condition fails and we look again). Exactly one
    /// copy is ever stored, and seqs stay gapless.
    async fn append_message(&self, new: NewMessage) -> StoreResult<Appended> {
        let conversation = new.conversation_id.clone();
        let key = client_key(&new.sender_id, &new.client_message_id);
        for round in 0..MAX_ROUNDS {
            let current = self
                .get(&self.t.conversations, Self::conversation_key(&conversation))
                .await?
                .ok_or(StoreError::ConversationNotFound)?;
            let last_seq = current.u64_of("last_seq")?;
            if let Some(existing) = self
                .message_via_index("by-client-key", &conversation, "client_key", &key)
                .await?
            {
                return Ok(Appended::Existing(existing));
            }
            if current.str_of("status")? == ConversationStatus::Closed.as_str() {
                return Err(StoreError::ConversationClosed);
            }
            let message = new.clone().into_message(last_seq + 1);
            let mut items = vec![
                tx_update(
                    Update::builder()
                        .table_name(&self.t.conversations)
                        .key("id", s(conversation.as_str()))
                        .update_expression("SET last_seq = :next, last_message = :preview")
                        .condition_expression("last_seq = :last AND #status <> :closed")
                        .expression_attribute_names("#status", "status")
                        .expression_attribute_values(":next", n(message.seq))
                        .expression_attribute_values(":last", n(last_seq))
                        .expression_attribute_values(":closed", s(ConversationStatus::Closed.as_str()))
                        .expression_attribute_values(":preview", to_attr(&message.preview())),
                )?,
                tx_put(
                    Put::builder()
                        .table_name(&self.t.messages)
                        .set_item(Some(message_item(&message)))
                        .condition_expression("attribute_not_exists(seq)"),
                )?,
                // Sending implies having read up to one's own message; no condition needed,
                // as no watermark can be ahead of the newest message.
                tx_update(
                    Update::builder()
                        .table_name(&self.t.receipts)
                        .key("conversation_id", s(conversation.as_str()))
                        .key("user_id", s(message.sender_id.as_str()))
                        .update_expression("SET last_read_seq = :seq, read_at = :at")
                        .expression_attribute_values(":seq", n(message.seq))
                        .expression_attribute_values(":at", s(message.created_at.to_rfc3339())),
                )?,
            ];
            for file in &message.files {
                items.push(tx_update(
                    Update::builder()
                        .table_name(&self.t.files)
                        .key("id", s(file.id.as_str()))
                        .update_expression("SET #status = :attached, message_id = :m REMOVE expires_ttl")
                        .condition_expression("#status = :pending AND uploader_id = :u AND conversation_id = :c")
                        .expression_attribute_names("#status", "status")
                        .expression_attribute_values(":attached", s(FileStatus::Attached.as_str()))
                        .expression_attribute_values(":pending", s(FileStatus::Pending.as_str()))
                        .expression_attribute_values(":m", s(message.id.as_str()))
                        .expression_attribute_values(":u", s(message.sender_id.as_str()))
                        .expression_attribute_values(":c", s(conversation.as_str())),
                )?);
            }
            // A reply counts on its thread's root, in the same transaction (last item).
            if let Some(reply) = message.reply {
                items.push(tx_update(
                    Update::builder()
                        .table_name(&self.t.messages)
                        .set_key(Some(Self::message_key(&conversation, reply.root)))
                        .update_expression("ADD reply_count :one")
                        .condition_expression("attribute_exists(seq)")
                        .expression_attribute_values(":one", n(1)),
                )?);
            }
            let files = message.files.len();
            match self.transact(items).await {
                Ok(()) => return Ok(Appended::Created(message)),
                Err(TxOutcome::ConditionFailed(i)) if i == 3 + files => return Err(StoreError::MessageNotFound),
                Err(TxOutcome::ConditionFailed(i)) if i >= 3 => {
                    return Err(StoreError::FileNotAttachable(message.files[i - 3].id.to_string()));
                }
                // Lost the race for this seq (or the conversation closed): look again.
                Err(TxOutcome::ConditionFailed(_)) => retry::after_lost_race(round).await,
                Err(TxOutcome::Failed(e)) => return Err(e),
            }
        }
        Err(StoreError::Contention)
    }

    async fn get_message(&self, conversation: &ConversationId, id: &MessageId) -> StoreResult<Option<Message>> {
        self.message_via_index("by-id", conversation, "id", id.as_str()).await
    }

    async fn find_by_client_id(
        &self,
        conversation: &ConversationId,
        sender: &UserId,
        client_message_id: &ClientMessageId,
    ) -> StoreResult<Option<Message>> {
        let key = client_key(sender, client_message_id);
        self.message_via_index("by-client-key", conversation, "client_key", &key)
            .await
    }

    async fn list_messages(&self, conversation: &ConversationId, range: MessageRange) -> StoreResult<Vec<Message>> {
        let req = self
            .client
            .query()
            .table_name(&self.t.messages)
            .expression_attribute_values(":c", s(conversation.as_str()))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let req = match range {
            MessageRange::Latest { limit } => req
                .key_condition_expression("conversation_id = :c")
                .scan_index_forward(false)
                .limit(limit as i32),
            MessageRange::Before { seq, limit } => req
                .key_condition_expression("conversation_id = :c AND seq < :s")
                .expression_attribute_values(":s", n(seq))
                .scan_index_forward(false)
                .limit(limit as i32),
            MessageRange::After { seq, limit } => req
                .key_condition_expression("conversation_id = :c AND seq > :s")
                .expression_attribute_values(":s", n(seq))
                .scan_index_forward(true)
                .limit(limit as i32),
        };
        let out = self.send(|| req.clone().send()).await.map_err(sdk)?;
        let mut messages: Vec<Message> = out
            .items
            .unwrap_or_default()
            .iter()
            .map(message_from)
            .collect::<StoreResult<_>>()?;
        messages.sort_by_key(|m| m.seq);
        Ok(messages)
    }

    async fn edit_message(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
        body: &MessageBody,
        by: &UserId,
        at: Timestamp,
    ) -> StoreResult<Message> {
        self.revise_message(conversation, id, (RevisionKind::Edited, by, at), |current| {
            current.edited(body, by, at).map(Some)
        })
        .await
    }

    async fn delete_message(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
        by: &UserId,
        at: Timestamp,
    ) -> StoreResult<Message> {
        self.revise_message(conversation, id, (RevisionKind::Deleted, by, at), |current| {
            Ok(current.tombstoned(by, at))
        })
        .await
    }

    /// One UpdateItem: `ADD` / `DELETE` of the user on the emoji's string set, which
    /// DynamoDB applies atomically, and `reaction_count` beside it for the bound. The
    /// condition makes the change exact (the user is not there yet / is there), so the
    /// count never drifts; when it fails, a consistent read tells a no-op (a retry, a
    /// double click) from a deleted message or a full one.
    async fn react(
        &self,
        conversation: &ConversationId,
        seq: u64,
        emoji: messaging_core::reactions::Emoji,
        user: &UserId,
        add: bool,
    ) -> StoreResult<Message> {
        use messaging_core::reactions::MAX_PER_MESSAGE;
        let key = Self::message_key(conversation, seq);
        let (update, condition) = if add {
            (
                "ADD #r :user, reaction_count :one",
                "attribute_exists(seq) AND attribute_not_exists(deleted_at) \
                 AND (attribute_not_exists(#r) OR NOT contains(#r, :id)) \
                 AND (attribute_not_exists(reaction_count) OR reaction_count < :max)",
            )
        } else {
            (
                "DELETE #r :user ADD reaction_count :minus_one",
                "attribute_exists(seq) AND attribute_not_exists(deleted_at) AND contains(#r, :id)",
            )
        };
        for round in 0..MAX_ROUNDS {
            let mut request = self
                .client
                .update_item()
                .table_name(&self.t.messages)
                .set_key(Some(key.clone()))
                .update_expression(update)
                .condition_expression(condition)
                .expression_attribute_names("#r", emoji.attribute())
                .expression_attribute_values(":user", AttributeValue::Ss(vec![user.to_string()]))
                .expression_attribute_values(":id", s(user.as_str()))
                .return_values(ReturnValue::AllNew)
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            request = if add {
                request
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":max", n(MAX_PER_MESSAGE))
            } else {
                request.expression_attribute_values(":minus_one", n(-1))
            };
            match self.send(|| request.clone().send()).await {
                Ok(out) => return message_from(&out.attributes.unwrap_or_default()),
                Err(e) if is_condition_failure(&e) => {
                    let current = self
                        .get(&self.t.messages, key.clone())
                        .await?
                        .ok_or(StoreError::MessageNotFound)
                        .and_then(|item| message_from(&item))?;
                    if current.is_deleted() {
                        return Err(StoreError::MessageDeleted);
                    }
                    let there = current
                        .reactions
                        .iter()
                        .any(|r| r.emoji == emoji.as_str() && r.user_ids.contains(user));
                    if there == add {
                        return Ok(current);
                    }
                    if add && messaging_core::reactions::total(&current.reactions) >= MAX_PER_MESSAGE {
                        return Err(StoreError::LimitReached {
                            what: "reactions on a message",
                            limit: MAX_PER_MESSAGE,
                        });
                    }
                    // Changed between the write and the read: try again.
                    retry::after_lost_race(round).await;
                }
                Err(e) => return Err(sdk(e)),
            }
        }
        Err(StoreError::Contention)
    }

    /// One Query of the sparse GSI `by-thread` (`thread_key` = conversation#root, `seq`),
    /// eventually consistent like every GSI: a reply stored a moment ago may be missing
    /// for milliseconds (its `new-message` push carries it meanwhile).
    async fn list_thread(
        &self,
        conversation: &ConversationId,
        root: u64,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<Message>> {
        let request = self
            .client
            .query()
            .table_name(&self.t.messages)
            .index_name("by-thread")
            .key_condition_expression("thread_key = :t AND seq > :after")
            .expression_attribute_values(":t", s(thread_key(conversation, root)))
            .expression_attribute_values(":after", n(after))
            .limit(limit as i32)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let out = self.send(|| request.clone().send()).await.map_err(sdk)?;
        out.items.unwrap_or_default().iter().map(message_from).collect()
    }

    /// One BatchGetItem (≤ 100 keys), strongly consistent.
    async fn messages_at(&self, conversation: &ConversationId, seqs: &[u64]) -> StoreResult<Vec<Message>> {
        let keys = seqs.iter().map(|seq| Self::message_key(conversation, *seq)).collect();
        let mut found: Vec<Message> = self
            .batch_get(&self.t.messages, keys, None)
            .await?
            .iter()
            .map(message_from)
            .collect::<StoreResult<_>>()?;
        found.sort_by_key(|m| m.seq);
        Ok(found)
    }

    /// The number set `pinned_seqs` of the conversation's item: one GetItem.
    async fn pinned(&self, conversation: &ConversationId) -> StoreResult<Vec<u64>> {
        let item = self
            .get(&self.t.conversations, Self::conversation_key(conversation))
            .await?
            .ok_or(StoreError::ConversationNotFound)?;
        pinned_seqs(&item)
    }

    /// One UpdateItem: `ADD` / `DELETE` of the seq on the number set, conditional on the
    /// conversation existing and, pinning, on room (or the seq being pinned already); a
    /// failed condition is read back to tell which.
    async fn set_pinned(&self, conversation: &ConversationId, seq: u64, pin: bool) -> StoreResult<Vec<u64>> {
        let key = Self::conversation_key(conversation);
        let (update, condition) = if pin {
            (
                "ADD pinned_seqs :seq",
                "attribute_exists(id) AND (attribute_not_exists(pinned_seqs) OR size(pinned_seqs) < :max OR contains(pinned_seqs, :n))",
            )
        } else {
            ("DELETE pinned_seqs :seq", "attribute_exists(id)")
        };
        let mut request = self
            .client
            .update_item()
            .table_name(&self.t.conversations)
            .set_key(Some(key.clone()))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_values(":seq", AttributeValue::Ns(vec![seq.to_string()]))
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if pin {
            request = request
                .expression_attribute_values(":max", n(MAX_PINS))
                .expression_attribute_values(":n", n(seq));
        }
        match self.send(|| request.clone().send()).await {
            Ok(out) => pinned_seqs(&out.attributes.unwrap_or_default()),
            Err(e) if is_condition_failure(&e) => {
                let current = self.pinned(conversation).await?;
                if current.contains(&seq) == pin {
                    Ok(current)
                } else {
                    Err(StoreError::LimitReached {
                        what: "pinned messages in a conversation",
                        limit: MAX_PINS,
                    })
                }
            }
            Err(e) => Err(sdk(e)),
        }
    }
}

/// A conversation item's pinned seqs, ascending.
fn pinned_seqs(item: &Item) -> StoreResult<Vec<u64>> {
    let Some(set) = item.get("pinned_seqs") else {
        return Ok(Vec::new());
    };
    let corrupt = || StoreError::Backend("item attribute pinned_seqs is malformed".into());
    let mut seqs = set
        .as_ns()
        .map_err(|_| corrupt())?
        .iter()
        .map(|v| v.parse::<u64>().map_err(|_| corrupt()))
        .collect::<StoreResult<Vec<_>>>()?;
    seqs.sort_unstable();
    Ok(seqs)
}

#[async_trait]
impl ReceiptStore for DynamoStore {
    async fn mark_read(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        seq: u64,
        at: Timestamp,
    ) -> StoreResult<ReadReceipt> {
        let key = Item::from([
            ("conversation_id".into(), s(conversation.as_str())),
            ("user_id".into(), s(user.as_str())),
        ]);
        let request = self
            .client
            .update_item()
            .table_name(&self.t.receipts)
            .set_key(Some(key.clone()))
            .update_expression("SET last_read_seq = :seq, read_at = :at")
            .condition_expression("attribute_not_exists(last_read_seq) OR last_read_seq < :seq")
            .expression_attribute_values(":seq", n(seq))
            .expression_attribute_values(":at", s(at.to_rfc3339()))
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        match self.send(|| request.clone().send()).await {
            Ok(out) => receipt_from(&out.attributes.unwrap_or_default()),
            // Already at or past `seq` (perhaps by this very call, retried after a lost
            // answer): the stored watermark is the answer.
            Err(e) if is_condition_failure(&e) => {
                let item = self
                    .get(&self.t.receipts, key)
                    .await?
                    .ok_or_else(|| StoreError::Backend("receipt vanished".into()))?;
                receipt_from(&item)
            }
            Err(e) => Err(sdk(e)),
        }
    }

    async fn set_preferences(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        preferences: Preferences,
        at: Timestamp,
    ) -> StoreResult<ReadReceipt> {
        let set = "SET muted = :muted, email_off = :email_off, last_read_seq = if_not_exists(last_read_seq, :zero), \
                   read_at = if_not_exists(read_at, :at)";
        let mut request = self
            .client
            .update_item()
            .table_name(&self.t.receipts)
            .key("conversation_id", s(conversation.as_str()))
            .key("user_id", s(user.as_str()))
            .expression_attribute_values(":muted", AttributeValue::Bool(preferences.muted))
            .expression_attribute_values(":email_off", AttributeValue::Bool(preferences.email_off))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":at", s(at.to_rfc3339()))
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let mut sets = set.to_owned();
        let mut removes = Vec::new();
        match preferences.hidden_through {
            Some(seq) => {
                sets.push_str(", hidden_through = :hidden");
                request = request.expression_attribute_values(":hidden", n(seq));
            }
            None => removes.push("hidden_through"),
        }
        match preferences.notify {
            Some(level) => {
                sets.push_str(", notify = :notify");
                request = request.expression_attribute_values(":notify", s(level.as_str()));
            }
            None => removes.push("notify"),
        }
        let expression = if removes.is_empty() {
            sets
        } else {
            format!("{sets} REMOVE {}", removes.join(", "))
        };
        request = request.update_expression(expression);
        let out = self.send(|| request.clone().send()).await.map_err(sdk)?;
        receipt_from(&out.attributes.unwrap_or_default())
    }

    async fn list_receipts(&self, conversation: &ConversationId) -> StoreResult<Vec<ReadReceipt>> {
        let req = self
            .client
            .query()
            .table_name(&self.t.receipts)
            .key_condition_expression("conversation_id = :c")
            .expression_attribute_values(":c", s(conversation.as_str()))
            .consistent_read(true);
        self.query_all(req).await?.iter().map(receipt_from).collect()
    }

    async fn receipts_of(&self, user: &UserId, conversations: &[ConversationId]) -> StoreResult<Vec<ReadReceipt>> {
        let keys = conversations
            .iter()
            .map(|c| {
                Item::from([
                    ("conversation_id".into(), s(c.as_str())),
                    ("user_id".into(), s(user.as_str())),
                ])
            })
            .collect();
        self.batch_get(&self.t.receipts, keys, None)
            .await?
            .iter()
            .map(receipt_from)
            .collect()
    }
}

#[async_trait]
impl FileStore for DynamoStore {
    async fn create_files(&self, files: &[FileRecord]) -> StoreResult<()> {
        let mut items = Vec::with_capacity(files.len());
        for f in files {
            items.push(tx_put(
                Put::builder()
                    .table_name(&self.t.files)
                    .set_item(Some(file_item(f)))
                    .condition_expression("attribute_not_exists(id)"),
            )?);
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxOutcome::ConditionFailed(_)) => Err(StoreError::AlreadyExists),
            Err(TxOutcome::Failed(e)) => Err(e),
        }
    }

    async fn get_files(&self, ids: &[FileId]) -> StoreResult<Vec<FileRecord>> {
        let keys = ids
            .iter()
            .map(|id| Item::from([("id".into(), s(id.as_str()))]))
            .collect();
        self.batch_get(&self.t.files, keys, None)
            .await?
            .iter()
            .map(file_from)
            .collect()
    }
}

impl DynamoStore {
    fn report_table_key(message: &MessageId, reporter: &UserId) -> Item {
        Item::from([
            ("message_id".into(), s(message.as_str())),
            ("reporter_id".into(), s(reporter.as_str())),
        ])
    }

    /// Finds a report's table key through the `by-id` index (eventually consistent: a
    /// report is found within about a second of its creation).
    async fn report_key(&self, id: &ReportId) -> StoreResult<Option<Item>> {
        let request = self
            .client
            .query()
            .table_name(&self.t.reports)
            .index_name("by-id")
            .key_condition_expression("id = :id")
            .expression_attribute_values(":id", s(id.as_str()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let out = self.send(|| request.clone().send()).await.map_err(sdk)?;
        Ok(out.items.unwrap_or_default().into_iter().next().map(|found| {
            ["message_id", "reporter_id"]
                .iter()
                .filter_map(|k| found.get(*k).map(|v| (k.to_string(), v.clone())))
                .collect()
        }))
    }
}

/// `user_notifications`: `kind = settings` holds the settings as JSON (`data`),
/// `kind = push#<id>` one push subscription each.
#[async_trait]
impl NotificationStore for DynamoStore {
    async fn notification_settings(&self, users: &[UserId]) -> StoreResult<Vec<(UserId, NotificationSettings)>> {
        let mut ids: Vec<&UserId> = users.iter().collect();
        ids.sort();
        ids.dedup();
        let keys = ids
            .iter()
            .map(|u| Item::from([("user_id".into(), s(u.as_str())), ("kind".into(), s("settings"))]))
            .collect();
        let items = self.batch_get(&self.t.notifications, keys, None).await?;
        items
            .iter()
            .map(|item| {
                Ok((
                    item.parse("user_id", UserId::parse)?,
                    NotificationSettings::from_json(item.str_of("data")?),
                ))
            })
            .collect()
    }

    async fn put_notification_settings(&self, user: &UserId, settings: &NotificationSettings) -> StoreResult<()> {
        let request = self
            .client
            .put_item()
            .table_name(&self.t.notifications)
            .item("user_id", s(user.as_str()))
            .item("kind", s("settings"))
            .item("data", s(settings.to_json()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        self.send(|| request.clone().send()).await.map_err(sdk)?;
        Ok(())
    }

    async fn put_push_subscription(&self, subscription: &PushSubscription) -> StoreResult<()> {
        let request = self
            .client
            .put_item()
            .table_name(&self.t.notifications)
            .item("user_id", s(subscription.user_id.as_str()))
            .item("kind", s(format!("push#{}", subscription.id)))
            .item("data", to_attr(subscription))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        self.send(|| request.clone().send()).await.map_err(sdk)?;
        Ok(())
    }

    async fn push_subscriptions(&self, user: &UserId) -> StoreResult<Vec<PushSubscription>> {
        let request = self
            .client
            .query()
            .table_name(&self.t.notifications)
            .key_condition_expression("user_id = :u AND begins_with(kind, :push)")
            .expression_attribute_values(":u", s(user.as_str()))
            .expression_attribute_values(":push", s("push#"))
            .consistent_read(true);
        let mut subscriptions: Vec<PushSubscription> = self
            .query_all(request)
            .await?
            .iter()
            .map(|item| from_attr(item, "data"))
            .collect::<StoreResult<_>>()?;
        subscriptions.sort_by_key(|s| s.created_at);
        Ok(subscriptions)
    }

    /// A consistent GetItem, then the DeleteItem: whether the row was there is read before
    /// the delete, because the delete's own answer (`ALL_OLD`) is empty on a retry whose
    /// first try was applied but whose answer was lost (a retried removal must still say
    /// "it was there").
    async fn remove_push_subscription(&self, user: &UserId, id: &str) -> StoreResult<bool> {
        let key = Item::from([
            ("user_id".into(), s(user.as_str())),
            ("kind".into(), s(format!("push#{id}"))),
        ]);
        if self.get(&self.t.notifications, key.clone()).await?.is_none() {
            return Ok(false);
        }
        let request = self
            .client
            .delete_item()
            .table_name(&self.t.notifications)
            .set_key(Some(key))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        self.send(|| request.clone().send()).await.map_err(sdk)?;
        Ok(true)
    }
}

#[async_trait]
impl ReportStore for DynamoStore {
    async fn create_report(&self, r: &Report) -> StoreResult<()> {
        let request = self
            .client
            .put_item()
            .table_name(&self.t.reports)
            .set_item(Some(report_item(r)))
            .condition_expression("attribute_not_exists(reporter_id)")
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        match self.send(|| request.clone().send()).await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => {
                // This report itself, written by a try whose answer was lost, or another one.
                let existing = self
                    .get(&self.t.reports, Self::report_table_key(&r.message_id, &r.reporter_id))
                    .await?;
                match existing.as_ref().map(report_from).transpose()? {
                    Some(stored) if stored.id == r.id => Ok(()),
                    _ => Err(StoreError::AlreadyExists),
                }
            }
            Err(e) => Err(sdk(e)),
        }
    }

    async fn get_report(&self, id: &ReportId) -> StoreResult<Option<Report>> {
        let Some(key) = self.report_key(id).await? else {
            return Ok(None);
        };
        self.get(&self.t.reports, key)
            .await?
            .as_ref()
            .map(report_from)
            .transpose()
    }

    async fn list_reports(
        &self,
        status: Option<ReportStatus>,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<Page<Report>> {
        let (index, pk, value, key_attrs) = match status {
            Some(st) => (
                "by-status",
                "status",
                st.as_str(),
                ["status", "queue_key", "message_id", "reporter_id"],
            ),
            None => (
                "queue",
                "kind",
                REPORT_KIND,
                ["kind", "queue_key", "message_id", "reporter_id"],
            ),
        };
        let start = cursor.map(|c| cursor_to_key(c, &key_attrs)).transpose()?;
        let request = self
            .client
            .query()
            .table_name(&self.t.reports)
            .index_name(index)
            .key_condition_expression("#pk = :v")
            .expression_attribute_names("#pk", pk)
            .expression_attribute_values(":v", s(value))
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let out = self.send(|| request.clone().send()).await.map_err(sdk)?;
        let items = out
            .items
            .unwrap_or_default()
            .iter()
            .map(report_from)
            .collect::<StoreResult<_>>()?;
        let next_cursor = out
            .last_evaluated_key
            .filter(|k| !k.is_empty())
            .map(|k| key_to_cursor(&k));
        Ok(Page { items, next_cursor })
    }

    async fn resolve_report(
        &self,
        id: &ReportId,
        status: ReportStatus,
        by: &UserId,
        at: Timestamp,
        note: Option<&str>,
    ) -> StoreResult<Report> {
        let key = self.report_key(id).await?.ok_or(StoreError::ReportNotFound)?;
        let mut update = "SET #status = :status, resolved_by = :by, resolved_at = :at".to_owned();
        let mut req = self
            .client
            .update_item()
            .table_name(&self.t.reports)
            .set_key(Some(key.clone()))
            .condition_expression("#status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":open", s(ReportStatus::Open.as_str()))
            .expression_attribute_values(":by", s(by.as_str()))
            .expression_attribute_values(":at", s(at.to_rfc3339()))
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if let Some(note) = note {
            update.push_str(", resolution_note = :note");
            req = req.expression_attribute_values(":note", s(note));
        }
        let req = req.update_expression(update);
        match self.send(|| req.clone().send()).await {
            Ok(out) => report_from(&out.attributes.unwrap_or_default()),
            Err(e) if is_condition_failure(&e) => {
                // Resolved by this very call (a retry after a lost answer), or by someone else.
                let stored = self
                    .get(&self.t.reports, key)
                    .await?
                    .as_ref()
                    .map(report_from)
                    .transpose()?;
                match stored {
                    Some(r)
                        if r.status == status && r.resolved_by.as_ref() == Some(by) && r.resolved_at == Some(at) =>
                    {
                        Ok(r)
                    }
                    _ => Err(StoreError::ReportAlreadyResolved),
                }
            }
            Err(e) => Err(sdk(e)),
        }
    }
}
