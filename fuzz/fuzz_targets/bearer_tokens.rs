//! Bearer tokens: whatever a client sends as `Authorization`, verifying it never panics,
//! and nothing but a token signed with the secret is accepted — a valid token with any
//! byte changed is refused unless the change is one the encoding ignores.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use messaging_auth::{Authenticator, DevTokens};
use messaging_core::model::Role;

const SECRET: &[u8] = b"fuzzing-secret-0123456789abcdef";

struct Fixture {
    runtime: tokio::runtime::Runtime,
    auth: Authenticator,
    valid: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let tokens = DevTokens::new(SECRET);
        let valid = tokens.issue("u-fuzz", Role::Client, "Fuzz", Duration::from_secs(3600));
        Fixture {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            auth: Authenticator::hs256(SECRET, DevTokens::ISSUER, DevTokens::AUDIENCE),
            valid,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        // Any header value.
        let header = String::from_utf8_lossy(rest);
        let _ = f.runtime.block_on(f.auth.verify_header(Some(&header)));
    } else {
        // The valid token with the fuzzer's bytes written over part of it.
        let mut token = f.valid.clone().into_bytes();
        let at = rest.first().map_or(0, |b| *b as usize) % token.len();
        for (i, b) in rest.iter().skip(1).take(8).enumerate() {
            if let Some(slot) = token.get_mut(at + i) {
                *slot = *b;
            }
        }
        let Ok(token) = String::from_utf8(token) else { return };
        let verdict = f.runtime.block_on(f.auth.verify(&token));
        if token != f.valid && verdict.is_ok() {
            // Base64url's last character carries spare bits; any other change must fail.
            let differ: Vec<usize> = (0..token.len())
                .filter(|&i| token.as_bytes()[i] != f.valid.as_bytes()[i])
                .collect();
            let segment_ends: Vec<usize> = f
                .valid
                .match_indices('.')
                .map(|(i, _)| i - 1)
                .chain([f.valid.len() - 1])
                .collect();
            assert!(
                differ.iter().all(|i| segment_ends.contains(i)),
                "a forged token was accepted: {token}"
            );
        }
    }
});
