//! Rows ↔ DynamoDB items. `AttributeValue` never leaves this module and `store.rs`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use messaging_core::cursor::Cursor;
use messaging_core::error::{StoreError, StoreResult};
use messaging_core::ids::*;
use messaging_core::model::*;
use messaging_core::notify::NotifyLevel;
use messaging_core::text::Title;
use messaging_core::time::Timestamp;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn corrupt(name: &str) -> StoreError {
    StoreError::Backend(format!("item attribute {name} is missing or malformed"))
}

/// Typed reads of an item's attributes; a wrong shape is a backend error, not a panic.
pub trait ItemExt {
    fn str_of(&self, name: &str) -> StoreResult<&str>;
    fn opt_str(&self, name: &str) -> Option<&str>;
    fn u64_of(&self, name: &str) -> StoreResult<u64>;
    fn parse<T>(&self, name: &str, f: impl FnOnce(&str) -> Result<T, messaging_core::Error>) -> StoreResult<T>;
    fn opt_parse<T>(
        &self,
        name: &str,
        f: impl FnOnce(&str) -> Result<T, messaging_core::Error>,
    ) -> StoreResult<Option<T>>;
    fn ts(&self, name: &str) -> StoreResult<Timestamp>;
    fn opt_ts(&self, name: &str) -> StoreResult<Option<Timestamp>>;
}

impl ItemExt for Item {
    fn str_of(&self, name: &str) -> StoreResult<&str> {
        self.opt_str(name).ok_or_else(|| corrupt(name))
    }

    fn opt_str(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(AttributeValue::S(v)) => Some(v),
            _ => None,
        }
    }

    fn u64_of(&self, name: &str) -> StoreResult<u64> {
        match self.get(name) {
            Some(AttributeValue::N(v)) => v.parse().map_err(|_| corrupt(name)),
            _ => Err(corrupt(name)),
        }
    }

    fn parse<T>(&self, name: &str, f: impl FnOnce(&str) -> Result<T, messaging_core::Error>) -> StoreResult<T> {
        f(self.str_of(name)?).map_err(|_| corrupt(name))
    }

    fn opt_parse<T>(
        &self,
        name: &str,
        f: impl FnOnce(&str) -> Result<T, messaging_core::Error>,
    ) -> StoreResult<Option<T>> {
        self.opt_str(name).map(|v| f(v).map_err(|_| corrupt(name))).transpose()
    }

    fn ts(&self, name: &str) -> StoreResult<Timestamp> {
        Timestamp::parse(self.str_of(name)?).ok_or_else(|| corrupt(name))
    }

    fn opt_ts(&self, name: &str) -> StoreResult<Option<Timestamp>> {
        self.opt_str(name)
            .map(|v| Timestamp::parse(v).ok_or_else(|| corrupt(name)))
            .transpose()
    }
}

/// Maps and lists nested in items (previews, files, revisions) go through serde_json,
/// then JSON ↔ `AttributeValue`: one generic mapping instead of one per nested type.
pub fn to_attr<T: serde::Serialize>(value: &T) -> AttributeValue {
    json_to_attr(serde_json::to_value(value).unwrap_or(serde_json::Value::Null))
}

pub fn from_attr<T: serde::de::DeserializeOwned>(item: &Item, name: &str) -> StoreResult<T> {
    let value = item.get(name).map(attr_to_json).unwrap_or(serde_json::Value::Null);
    serde_json::from_value(value).map_err(|_| corrupt(name))
}

fn json_to_attr(v: serde_json::Value) -> AttributeValue {
    use serde_json::Value;
    match v {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(b),
        Value::Number(num) => AttributeValue::N(num.to_string()),
        Value::String(text) => AttributeValue::S(text),
        Value::Array(items) => AttributeValue::L(items.into_iter().map(json_to_attr).collect()),
        Value::Object(map) => AttributeValue::M(map.into_iter().map(|(k, v)| (k, json_to_attr(v))).collect()),
    }
}

fn attr_to_json(v: &AttributeValue) -> serde_json::Value {
    use serde_json::Value;
    match v {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(num) => serde_json::from_str(num).unwrap_or(Value::Null),
        AttributeValue::S(text) => Value::String(text.clone()),
        AttributeValue::L(items) => Value::Array(items.iter().map(attr_to_json).collect()),
        AttributeValue::M(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), attr_to_json(v))).collect()),
        AttributeValue::Ss(items) => Value::Array(items.iter().cloned().map(Value::String).collect()),
        _ => Value::Null,
    }
}

// --- conversations --------------------------------------------------------------------

/// Constant partition key of the admin index: every conversation, newest first.
pub const CONVERSATION_KIND: &str = "conversation";

pub fn conversation_item(c: &Conversation, members: &[UserId]) -> Item {
    let mut item = Item::from([
        ("id".into(), s(c.id.as_str())),
        ("kind".into(), s(CONVERSATION_KIND)),
        ("created_key".into(), s(format!("{}#{}", c.created_at, c.id))),
        ("title".into(), s(c.title.as_str())),
        ("title_lc".into(), s(c.title.as_str().to_lowercase())),
        ("status".into(), s(c.status.as_str())),
        ("created_by".into(), s(c.created_by.as_str())),
        ("created_at".into(), s(c.created_at.to_rfc3339())),
        ("updated_at".into(), s(c.updated_at.to_rfc3339())),
        ("last_seq".into(), n(c.last_seq)),
    ]);
    if let Some(p) = &c.project_id {
        item.insert("project_id".into(), s(p.as_str()));
    }
    if let Some(m) = &c.last_message {
        item.insert("last_message".into(), to_attr(m));
    }
    if !members.is_empty() {
        item.insert(
            "member_ids".into(),
            AttributeValue::Ss(members.iter().map(|m| m.to_string()).collect()),
        );
    }
    item
}

pub fn conversation_from(item: &Item) -> StoreResult<Conversation> {
    Ok(Conversation {
        id: item.parse("id", ConversationId::parse)?,
        title: Title::from_stored(item.str_of("title")?.to_owned()),
        project_id: item.opt_parse("project_id", ProjectId::parse)?,
        status: item.parse("status", ConversationStatus::parse)?,
        created_by: item.parse("created_by", UserId::parse)?,
        created_at: item.ts("created_at")?,
        updated_at: item.ts("updated_at")?,
        last_seq: item.u64_of("last_seq")?,
        last_message: if item.contains_key("last_message") {
            Some(from_attr(item, "last_message")?)
        } else {
            None
        },
    })
}

// --- participants ---------------------------------------------------------------------

pub fn participant_item(p: &Participant) -> Item {
    Item::from([
        ("conversation_id".into(), s(p.conversation_id.as_str())),
        ("user_id".into(), s(p.user_id.as_str())),
        ("role".into(), s(p.role.as_str())),
        ("display_name".into(), s(p.display_name.as_str())),
        ("joined_at".into(), s(p.joined_at.to_rfc3339())),
        ("added_by".into(), s(p.added_by.as_str())),
    ])
}

pub fn participant_from(item: &Item) -> StoreResult<Participant> {
    Ok(Participant {
        conversation_id: item.parse("conversation_id", ConversationId::parse)?,
        user_id: item.parse("user_id", UserId::parse)?,
        role: item.parse("role", Role::parse)?,
        display_name: item.str_of("display_name")?.to_owned(),
        joined_at: item.ts("joined_at")?,
        added_by: item.parse("added_by", UserId::parse)?,
    })
}

// --- messages -------------------------------------------------------------------------

/// The idempotency key of a send, unique per conversation (a local secondary index).
pub fn client_key(sender: &UserId, client_message_id: &ClientMessageId) -> String {
    format!("{sender}#{client_message_id}")
}

pub fn message_item(m: &Message) -> Item {
    let mut item = Item::from([
        ("conversation_id".into(), s(m.conversation_id.as_str())),
        ("seq".into(), n(m.seq)),
        ("id".into(), s(m.id.as_str())),
        ("client_key".into(), s(client_key(&m.sender_id, &m.client_message_id))),
        ("sender_id".into(), s(m.sender_id.as_str())),
        ("sender_name".into(), s(m.sender_name.as_str())),
        ("client_message_id".into(), s(m.client_message_id.as_str())),
        ("created_at".into(), s(m.created_at.to_rfc3339())),
        ("edit_count".into(), n(m.edit_count)),
        ("files".into(), to_attr(&m.files)),
        ("revisions".into(), to_attr(&m.revisions)),
    ]);
    if let Some(body) = &m.body {
        item.insert("body".into(), s(body.as_str()));
    }
    if let Some(t) = m.edited_at {
        item.insert("edited_at".into(), s(t.to_rfc3339()));
    }
    if let Some(t) = m.deleted_at {
        item.insert("deleted_at".into(), s(t.to_rfc3339()));
    }
    if let Some(u) = &m.deleted_by {
        item.insert("deleted_by".into(), s(u.as_str()));
    }
    if !m.mentions.is_empty() {
        item.insert("mentions".into(), to_attr(&m.mentions));
    }
    if let Some(reply) = m.reply {
        item.insert("reply_to".into(), n(reply.to));
        item.insert("thread_root".into(), n(reply.root));
        // The sparse GSI `by-thread`: only replies have it.
        item.insert("thread_key".into(), s(thread_key(&m.conversation_id, reply.root)));
    }
    item
}

/// The `by-thread` partition of a thread: its conversation and its root's seq.
pub fn thread_key(conversation: &ConversationId, root: u64) -> String {
    format!("{conversation}#{root}")
}

pub fn message_from(item: &Item) -> StoreResult<Message> {
    Ok(Message {
        id: item.parse("id", MessageId::parse)?,
        conversation_id: item.parse("conversation_id", ConversationId::parse)?,
        seq: item.u64_of("seq")?,
        sender_id: item.parse("sender_id", UserId::parse)?,
        sender_name: item.str_of("sender_name")?.to_owned(),
        body: item.opt_str("body").map(str::to_owned),
        client_message_id: item.parse("client_message_id", ClientMessageId::parse)?,
        created_at: item.ts("created_at")?,
        edited_at: item.opt_ts("edited_at")?,
        edit_count: item.u64_of("edit_count")? as u32,
        deleted_at: item.opt_ts("deleted_at")?,
        deleted_by: item.opt_parse("deleted_by", UserId::parse)?,
        files: from_attr(item, "files")?,
        revisions: from_attr(item, "revisions")?,
        mentions: match item.get("mentions") {
            None => Vec::new(),
            Some(_) => from_attr(item, "mentions")?,
        },
        reactions: reactions_from(item)?,
        reply: match (item.get("reply_to"), item.get("thread_root")) {
            (Some(_), Some(_)) => Some(Reply {
                to: item.u64_of("reply_to")?,
                root: item.u64_of("thread_root")?,
            }),
            _ => None,
        },
        reply_count: match item.get("reply_count") {
            Some(_) => item.u64_of("reply_count")? as u32,
            None => 0,
        },
    })
}

/// The reactions of a message item: one string set of user ids per emoji
/// ([`Emoji::attribute`]); an attribute of an emoji no longer in the vocabulary is left
/// out.
fn reactions_from(item: &Item) -> StoreResult<Vec<messaging_core::reactions::Reaction>> {
    use messaging_core::reactions::{ATTRIBUTE_PREFIX, Emoji, collect};
    let mut per_emoji = Vec::new();
    for (name, value) in item.iter().filter(|(k, _)| k.starts_with(ATTRIBUTE_PREFIX)) {
        let Some(emoji) = Emoji::from_attribute(name) else {
            continue;
        };
        let users = value
            .as_ss()
            .map_err(|_| corrupt(name))?
            .iter()
            .map(|u| UserId::parse(u).map_err(|_| corrupt(name)))
            .collect::<StoreResult<_>>()?;
        per_emoji.push((emoji, users));
    }
    Ok(collect(per_emoji))
}

// --- receipts -------------------------------------------------------------------------

pub fn receipt_from(item: &Item) -> StoreResult<ReadReceipt> {
    Ok(ReadReceipt {
        conversation_id: item.parse("conversation_id", ConversationId::parse)?,
        user_id: item.parse("user_id", UserId::parse)?,
        last_read_seq: item.u64_of("last_read_seq")?,
        read_at: item.ts("read_at")?,
        // Rows written before preferences existed have neither attribute.
        preferences: Preferences {
            muted: matches!(item.get("muted"), Some(AttributeValue::Bool(true))),
            hidden_through: match item.get("hidden_through") {
                None | Some(AttributeValue::Null(_)) => None,
                Some(_) => Some(item.u64_of("hidden_through")?),
            },
            notify: item.opt_parse("notify", NotifyLevel::parse)?,
            email_off: matches!(item.get("email_off"), Some(AttributeValue::Bool(true))),
        },
    })
}

// --- files ----------------------------------------------------------------------------

pub fn file_item(f: &FileRecord) -> Item {
    let mut item = Item::from([
        ("id".into(), s(f.id.as_str())),
        ("conversation_id".into(), s(f.conversation_id.as_str())),
        ("uploader_id".into(), s(f.uploader_id.as_str())),
        ("name".into(), s(f.name.as_str())),
        ("size".into(), n(f.size)),
        ("content_type".into(), s(f.content_type.as_str())),
        ("object_key".into(), s(f.object_key.as_str())),
        ("status".into(), s(f.status.as_str())),
        ("created_at".into(), s(f.created_at.to_rfc3339())),
        ("expires_at".into(), s(f.expires_at.to_rfc3339())),
    ]);
    if f.status == FileStatus::Pending {
        // DynamoDB TTL removes pending rows nobody claimed; attaching removes this attribute.
        item.insert("expires_ttl".into(), n(f.expires_at.as_epoch_seconds() + 86_400));
    }
    if let Some(m) = &f.message_id {
        item.insert("message_id".into(), s(m.as_str()));
    }
    item
}

pub fn file_from(item: &Item) -> StoreResult<FileRecord> {
    Ok(FileRecord {
        id: item.parse("id", FileId::parse)?,
        conversation_id: item.parse("conversation_id", ConversationId::parse)?,
        uploader_id: item.parse("uploader_id", UserId::parse)?,
        name: item.str_of("name")?.to_owned(),
        size: item.u64_of("size")?,
        content_type: item.str_of("content_type")?.to_owned(),
        object_key: item.str_of("object_key")?.to_owned(),
        status: item.parse("status", FileStatus::parse)?,
        message_id: item.opt_parse("message_id", MessageId::parse)?,
        created_at: item.ts("created_at")?,
        expires_at: item.ts("expires_at")?,
    })
}

// --- reports --------------------------------------------------------------------------

/// Constant partition key of the reports queue index.
pub const REPORT_KIND: &str = "report";

pub fn report_item(r: &Report) -> Item {
    let mut item = Item::from([
        ("message_id".into(), s(r.message_id.as_str())),
        ("reporter_id".into(), s(r.reporter_id.as_str())),
        ("id".into(), s(r.id.as_str())),
        ("kind".into(), s(REPORT_KIND)),
        ("queue_key".into(), s(format!("{}#{}", r.created_at, r.id))),
        ("conversation_id".into(), s(r.conversation_id.as_str())),
        ("message_seq".into(), n(r.message_seq)),
        ("reason".into(), s(r.reason.as_str())),
        ("status".into(), s(r.status.as_str())),
        ("created_at".into(), s(r.created_at.to_rfc3339())),
    ]);
    if let Some(u) = &r.resolved_by {
        item.insert("resolved_by".into(), s(u.as_str()));
    }
    if let Some(t) = r.resolved_at {
        item.insert("resolved_at".into(), s(t.to_rfc3339()));
    }
    if let Some(note) = &r.resolution_note {
        item.insert("resolution_note".into(), s(note.as_str()));
    }
    item
}

pub fn report_from(item: &Item) -> StoreResult<Report> {
    Ok(Report {
        id: item.parse("id", ReportId::parse)?,
        conversation_id: item.parse("conversation_id", ConversationId::parse)?,
        message_id: item.parse("message_id", MessageId::parse)?,
        message_seq: item.u64_of("message_seq")?,
        reporter_id: item.parse("reporter_id", UserId::parse)?,
        reason: item.str_of("reason")?.to_owned(),
        status: item.parse("status", ReportStatus::parse)?,
        created_at: item.ts("created_at")?,
        resolved_by: item.opt_parse("resolved_by", UserId::parse)?,
        resolved_at: item.opt_ts("resolved_at")?,
        resolution_note: item.opt_str("resolution_note").map(str::to_owned),
    })
}

/// A pagination position (`LastEvaluatedKey`) as a cursor; all our key attributes are strings.
pub fn key_to_cursor(key: &Item) -> Cursor {
    let plain: std::collections::BTreeMap<&str, &str> = key
        .iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|v| (k.as_str(), v.as_str())))
        .collect();
    Cursor::encode(&plain)
}

/// Reads a cursor back into a start key, accepting exactly the attributes `expected`.
pub fn cursor_to_key(cursor: &Cursor, expected: &[&str]) -> StoreResult<Item> {
    let plain: std::collections::BTreeMap<String, String> = cursor.decode().ok_or(StoreError::InvalidCursor)?;
    if plain.len() != expected.len() || !expected.iter().all(|k| plain.contains_key(*k)) {
        return Err(StoreError::InvalidCursor);
    }
    Ok(plain.into_iter().map(|(k, v)| (k, AttributeValue::S(v))).collect())
}
