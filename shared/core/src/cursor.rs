//! Opaque pagination cursors: URL-safe base64 of a small JSON value.
//!
//! The server is the only reader, but the client carries the cursor, so decoding
//! treats it as untrusted input and fails with a 400 naming `cursor`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;

pub fn encode<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

pub fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, Error> {
    let invalid = || Error::invalid("cursor", "is not a cursor this server issued");
    if cursor.len() > 2048 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_cursor_error() {
        let c = encode(&("2026-01-01T00:00:00.000Z", "01J"));
        let back: (String, String) = decode(&c).unwrap();
        assert_eq!(back.1, "01J");
        let err = decode::<(String, String)>("!!!").unwrap_err();
        assert_eq!(err.field(), Some("cursor"));
    }
}
