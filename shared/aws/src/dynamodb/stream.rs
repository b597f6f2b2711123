//! The messages table's stream as Lambda delivers it (`StreamViewType: NEW_IMAGE`): each
//! record's new image, in DynamoDB's JSON form (`{"S": "…"}`, `{"N": "1"}`, …), read back
//! into a [`Message`] by the same code that reads the table's items.
//!
//! A record without a new image is a removal (nothing in the product removes messages:
//! soft deletes are updates whose image has `deleted_at`), so it is skipped. A record whose
//! image is not a message fails the batch: Lambda then splits it and retries, and the
//! record that keeps failing ends in the indexer's dead-letter queue rather than being
//! dropped in silence.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use serde_json::Value;

use messaging_core::error::{StoreError, StoreResult};
use messaging_core::model::Message;

use super::item::{Item, message_from};

fn malformed(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stream record: {what}"))
}

/// The messages the records of a DynamoDB stream event describe, in stream order.
pub fn stream_messages(event: &Value) -> StoreResult<Vec<Message>> {
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("the event has no Records list"))?;
    let mut messages = Vec::with_capacity(records.len());
    for record in records {
        let Some(image) = record.get("dynamodb").and_then(|d| d.get("NewImage")) else {
            tracing::debug!(event = ?record.get("eventName"), "stream record without a new image skipped");
            continue;
        };
        messages.push(message_from(&image_item(image)?)?);
    }
    Ok(messages)
}

/// An image (`{"name": {"S": "…"}, …}`) as an item.
pub fn image_item(image: &Value) -> StoreResult<Item> {
    image
        .as_object()
        .ok_or_else(|| malformed("an image is not an object"))?
        .iter()
        .map(|(name, v)| Ok((name.clone(), attribute(v)?)))
        .collect()
}

/// One attribute value in DynamoDB's JSON form.
fn attribute(v: &Value) -> StoreResult<AttributeValue> {
    let obj = v
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| malformed("an attribute is not {type: value}"))?;
    let (kind, value) = obj.iter().next().ok_or_else(|| malformed("an empty attribute"))?;
    let text = || {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| malformed(format!("{kind} is not a string")))
    };
    let list = || {
        value
            .as_array()
            .ok_or_else(|| malformed(format!("{kind} is not a list")))
    };
    let texts = || -> StoreResult<Vec<String>> {
        list()?
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| malformed(format!("{kind} holds a non-string")))
            })
            .collect()
    };
    let blob = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map(Blob::new)
            .map_err(|e| malformed(format!("B: {e}")))
    };
    Ok(match kind.as_str() {
        "S" => AttributeValue::S(text()?),
        "N" => AttributeValue::N(text()?),
        "B" => AttributeValue::B(blob(&text()?)?),
        "BOOL" => AttributeValue::Bool(value.as_bool().ok_or_else(|| malformed("BOOL is not a boolean"))?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(texts()?),
        "NS" => AttributeValue::Ns(texts()?),
        "BS" => AttributeValue::Bs(texts()?.iter().map(|s| blob(s)).collect::<StoreResult<_>>()?),
        "L" => AttributeValue::L(list()?.iter().map(attribute).collect::<StoreResult<_>>()?),
        "M" => AttributeValue::M(image_item(value)?),
        other => return Err(malformed(format!("unknown attribute type {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::dynamodb::item::message_item;
    use messaging_core::ids::{ClientMessageId, ConversationId, MessageId, UserId};
    use messaging_core::time::Timestamp;

    /// The inverse of [`attribute`], as the stream writes an item.
    fn json_of(v: &AttributeValue) -> Value {
        let b64 = |b: &Blob| base64::engine::general_purpose::STANDARD.encode(b.as_ref());
        match v {
            AttributeValue::S(s) => json!({ "S": s }),
            AttributeValue::N(n) => json!({ "N": n }),
            AttributeValue::B(b) => json!({ "B": b64(b) }),
            AttributeValue::Bool(b) => json!({ "BOOL": b }),
            AttributeValue::Null(_) => json!({ "NULL": true }),
            AttributeValue::Ss(s) => json!({ "SS": s }),
            AttributeValue::Ns(s) => json!({ "NS": s }),
            AttributeValue::Bs(s) => json!({ "BS": s.iter().map(b64).collect::<Vec<_>>() }),
            AttributeValue::L(l) => json!({ "L": l.iter().map(json_of).collect::<Vec<_>>() }),
            AttributeValue::M(m) => {
                json!({ "M": m.iter().map(|(k, v)| (k.clone(), json_of(v))).collect::<serde_json::Map<_, _>>() })
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    fn message(body: &str) -> Message {
        Message {
            id: MessageId::generate(),
            conversation_id: ConversationId::generate(),
            seq: 7,
            sender_id: UserId::parse("u-client-ana").unwrap(),
            sender_name: "Ana".into(),
            body: Some(body.into()),
            client_message_id: ClientMessageId::parse("c-1").unwrap(),
            created_at: Timestamp::from_millis(1_793_491_200_000),
            edited_at: None,
            edit_count: 0,
            deleted_at: None,
            deleted_by: None,
            files: Vec::new(),
            revisions: Vec::new(),
            mentions: vec![UserId::parse("u-team-ben").unwrap()],
            reactions: Vec::new(),
            reply: Some(messaging_core::model::Reply { to: 3, root: 2 }),
            reply_count: 0,
        }
    }

    fn record(name: &str, image: Option<Value>) -> Value {
        let mut dynamodb = json!({ "Keys": {}, "SequenceNumber": "1", "StreamViewType": "NEW_IMAGE" });
        if let Some(image) = image {
            dynamodb["NewImage"] = image;
        }
        json!({ "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": dynamodb })
    }

    #[test]
    fn a_stream_image_reads_back_as_the_message_that_was_written() {
        let m = message("déjà vu, *bold*");
        let image = json_of(&AttributeValue::M(message_item(&m)));
        let event = json!({ "Records": [record("INSERT", Some(image["M"].clone())), record("REMOVE", None)] });
        let read = stream_messages(&event).unwrap();
        assert_eq!(read.len(), 1, "the removal has no image and is skipped");
        assert_eq!(read[0].id, m.id);
        assert_eq!(read[0].body, m.body);
        assert_eq!(read[0].mentions, m.mentions);
        assert_eq!(read[0].created_at, m.created_at);
        assert_eq!(read[0].reply, m.reply);
    }

    #[test]
    fn every_attribute_type_converts_and_nonsense_is_refused() {
        for v in [
            AttributeValue::B(Blob::new(vec![0, 1, 255])),
            AttributeValue::Bs(vec![Blob::new(vec![7])]),
            AttributeValue::Ns(vec!["1".into(), "2.5".into()]),
            AttributeValue::Ss(vec!["a".into()]),
            AttributeValue::Null(true),
            AttributeValue::L(vec![AttributeValue::Bool(false), AttributeValue::N("3".into())]),
        ] {
            assert_eq!(attribute(&json_of(&v)).unwrap(), v);
        }
        for bad in [
            json!({ "X": "1" }),
            json!({ "S": 1 }),
            json!({ "S": "a", "N": "1" }),
            json!({ "B": "%%" }),
            json!("S"),
        ] {
            assert!(attribute(&bad).is_err(), "{bad} refused");
        }
        assert!(stream_messages(&json!({})).is_err(), "no Records");
        let not_a_message = json!({ "Records": [record("INSERT", Some(json!({ "id": { "S": "x" } })))] });
        assert!(
            stream_messages(&not_a_message).is_err(),
            "an image that is not a message fails the batch"
        );
    }
}
