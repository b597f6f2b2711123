//! Every free-text field a client types: never a panic, and whatever is accepted keeps
//! the promises of `messaging_core::text` (trimmed, non-empty, within its length, no
//! control characters, legible, no bidi controls in one-line labels).
#![no_main]

use libfuzzer_sys::fuzz_target;
use messaging_core::text::{
    DisplayName, MessageBody, ReportReason, Title, is_bidi_control, is_invisible,
};

fn accepted(value: &str, max: usize, one_line: bool) {
    assert_eq!(value, value.trim(), "kept untrimmed: {value:?}");
    assert!(!value.chars().all(is_invisible), "kept invisible: {value:?}");
    assert!(value.chars().count() <= max);
    for c in value.chars() {
        assert!(!c.is_control() || (!one_line && (c == '\n' || c == '\t')), "kept {c:?}");
        assert!(!one_line || !is_bidi_control(c), "kept a bidi control in a label");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    if let Ok(body) = MessageBody::parse(raw) {
        accepted(body.as_str(), 5000, false);
        let _ = MessageBody::preview(body.as_str());
    }
    if let Ok(title) = Title::parse(raw) {
        accepted(title.as_str(), 200, true);
    }
    if let Ok(name) = DisplayName::parse(raw) {
        accepted(name.as_str(), 100, true);
    }
    if let Ok(reason) = ReportReason::parse(raw) {
        accepted(reason.as_str(), 1000, false);
    }
    // The same text inside a JSON body, as the REST API reads it.
    let _ = messaging_core::json::parse::<MessageBody>(data);
});
