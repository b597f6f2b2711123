//! WebSocket frames: the `ws-message` function's parser never panics, and an action it
//! accepts means the same once written out and read again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else { return };
    if let Ok(action) = messaging_ws::parse_action(body) {
        let written = serde_json::to_string(&action).expect("actions serialise");
        let again = messaging_ws::parse_action(&written).expect("a written action parses");
        assert_eq!(again, action);
    }
});
