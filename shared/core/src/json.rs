//! JSON from clients (REST bodies, WebSocket actions) into domain types, failing with an
//! [`Error`] that names the offending field (`participants[1].userId`), never with serde's
//! own wording about lines and columns.

use serde::de::DeserializeOwned;

use crate::error::Error;

/// Parses `bytes`, naming the path of the first problem.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at_root = path == "." || path == "?" || path.is_empty();
        let field = if at_root {
            // Missing fields are reported at the parent; serde names them in the message.
            inner
                .to_string()
                .split('`')
                .nth(1)
                .map(str::to_owned)
                .unwrap_or_else(|| "body".into())
        } else {
            path
        };
        let message = if inner.is_syntax() || inner.is_eof() {
            "is not valid JSON".to_owned()
        } else {
            plain_message(&inner.to_string())
        };
        Error::invalid(field, message)
    })
}

/// serde_json's message without its position, and without the `field: ` our own
/// newtypes' errors start with (the path names the field already).
fn plain_message(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    // `expected struct SendBody` names our code, not the API: say what to send.
    let message = match message.find("expected struct ") {
        Some(i) => return format!("{}expected a JSON object", &message[..i]),
        None => message,
    };
    match message.split_once(": ") {
        Some((field, rest)) if !field.contains(char::is_whitespace) => rest.to_owned(),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ConversationId;

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Typing {
        conversation_id: ConversationId,
        count: u32,
    }

    #[test]
    fn a_bad_id_is_named_by_its_path_with_the_newtypes_message() {
        let err = parse::<Typing>(br#"{"conversationId": "nope", "count": 1}"#).unwrap_err();
        assert_eq!(err.field(), Some("conversationId"));
        assert_eq!(err.to_string(), "conversationId: must be a 26-character ULID");
    }

    #[test]
    fn wrong_types_missing_fields_and_broken_json_name_what_is_wrong() {
        let err = parse::<Typing>(br#"{"conversationId": "01J9Z3K7Q5R8T2V4W6X8Y0A1B2", "count": "x"}"#).unwrap_err();
        assert_eq!(err.field(), Some("count"));
        assert!(err.to_string().starts_with("count: invalid type"), "{err}");
        let err = parse::<Typing>(br#"{"count": 1}"#).unwrap_err();
        assert_eq!(err.field(), Some("conversationId"));
        let err = parse::<Typing>(b"{").unwrap_err();
        assert_eq!(err.to_string(), "body: is not valid JSON");
        let err = parse::<Typing>(b"null").unwrap_err();
        assert_eq!(err.to_string(), "body: invalid type: null, expected a JSON object");
    }
}
