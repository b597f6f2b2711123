//! Pagination cursors come back from clients: any string is refused or accepted without
//! a panic, an accepted one decodes, and what the server issues always parses again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use messaging_core::cursor::Cursor;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    if let Ok(cursor) = Cursor::parse(raw) {
        assert!(
            cursor.decode::<serde_json::Value>().is_some(),
            "accepted but unreadable: {raw:?}"
        );
        let _ = cursor.decode::<(String, String)>();
        let _ = cursor.decode::<u64>();
    }
    // Issued for any position (here: the fuzzer's text), it parses back to itself.
    let issued = Cursor::encode(&raw);
    if issued.as_str().len() <= 2048 {
        let again = Cursor::parse(issued.as_str()).expect("an issued cursor parses");
        assert_eq!(again.decode::<String>().as_deref(), Some(raw));
    }
    let _ = serde_json::from_slice::<Cursor>(data);
});
