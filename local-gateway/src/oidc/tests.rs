use std::collections::HashMap;
use std::time::Duration;

use messaging_core::directory::Profile;
use messaging_core::identity::Role;
use messaging_core::ids::UserId;

use super::*;

fn provider() -> Provider {
    provider_like(false)
}

fn provider_like(cognito: bool) -> Provider {
    let dir = tempfile::tempdir().unwrap();
    Provider::new(
        ProviderConfig {
            issuer: "http://127.0.0.1:8080".into(),
            token_ttl: Duration::from_secs(60),
            refresh_ttl: Duration::from_secs(600),
            like_cognito: cognito,
        },
        SigningKey::load_or_create(dir.path()).unwrap(),
    )
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn ana() -> Profile {
    Profile {
        user_id: UserId::parse("u-client-ana").unwrap(),
        name: "Ana".into(),
        email: None,
        role: Role::Client,
        organisation: None,
        colour: None,
        active: true,
    }
}

fn request(overrides: &[(&str, Option<&str>)]) -> Vec<(String, String)> {
    let challenge = pkce_challenge(VERIFIER);
    let mut params: Vec<(String, Option<String>)> = [
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", "http://127.0.0.1:5173/auth/callback"),
        ("scope", "openid profile"),
        ("state", "s-1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), Some(v.to_string())))
    .collect();
    for (k, v) in overrides {
        match params.iter_mut().find(|(name, _)| name == k) {
            Some(entry) => entry.1 = v.map(str::to_owned),
            None => params.push((k.to_string(), v.map(str::to_owned))),
        }
    }
    params.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
}

fn code_of(url: &Url) -> String {
    url.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned()
}

/// A code for Ana under an authorization request with `overrides`.
fn ana_code(p: &Provider, overrides: &[(&str, Option<&str>)]) -> String {
    let req = p.check_authorize(&request(overrides)).unwrap();
    code_of(&p.grant_code(&req, &ana()))
}

/// Ana's sign-in, the code exchanged.
fn ana_signed_in(p: &Provider, overrides: &[(&str, Option<&str>)]) -> Grant {
    p.redeem_code(&exchange(&ana_code(p, overrides), Some(VERIFIER)))
        .unwrap()
}

fn exchange(code: &str, verifier: Option<&str>) -> HashMap<String, String> {
    let mut form: HashMap<String, String> = [
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("code", code),
        ("redirect_uri", "http://127.0.0.1:5173/auth/callback"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if let Some(v) = verifier {
        form.insert("code_verifier".into(), v.into());
    }
    form
}

fn refresh(token: &str) -> HashMap<String, String> {
    [
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("refresh_token", token),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[test]
fn the_rfc_7636_example_verifier_gives_its_challenge() {
    assert_eq!(pkce_challenge(VERIFIER), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

#[test]
fn a_code_goes_to_the_redirect_with_state_and_issuer_and_is_spent_by_its_first_use() {
    let p = provider();
    let req = p.check_authorize(&request(&[])).unwrap();
    let back = p.grant_code(&req, &ana());
    assert_eq!(back.path(), "/auth/callback");
    let q: HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(
        (q["state"].as_str(), q["iss"].as_str()),
        ("s-1", "http://127.0.0.1:8080")
    );
    let code = code_of(&back);
    let grant = p.redeem_code(&exchange(&code, Some(VERIFIER))).unwrap();
    assert_eq!(grant.user_id.as_str(), "u-client-ana");
    assert_eq!(
        p.redeem_code(&exchange(&code, Some(VERIFIER))).unwrap_err().error,
        "invalid_grant"
    );
}

#[test]
fn a_missing_or_wrong_verifier_is_refused_and_spends_the_code() {
    let p = provider();
    let code = ana_code(&p, &[]);
    let missing = p.redeem_code(&exchange(&code, None)).unwrap_err();
    assert_eq!(missing.error, "invalid_grant");
    assert!(missing.description.contains("code_verifier"), "{missing:?}");
    assert!(p.redeem_code(&exchange(&code, Some(VERIFIER))).is_err(), "spent");

    let code = ana_code(&p, &[]);
    let wrong = "x".repeat(43);
    assert_eq!(
        p.redeem_code(&exchange(&code, Some(&wrong))).unwrap_err().error,
        "invalid_grant"
    );
}

#[test]
fn a_code_is_bound_to_its_redirect_uri() {
    let p = provider();
    let code = ana_code(&p, &[]);
    let mut form = exchange(&code, Some(VERIFIER));
    form.insert("redirect_uri".into(), "http://127.0.0.1:5173/elsewhere".into());
    assert_eq!(p.redeem_code(&form).unwrap_err().error, "invalid_grant");
}

#[test]
fn authorization_requests_without_pkce_or_from_strangers_are_refused() {
    let p = provider();
    let redirected = |r: Result<AuthorizeRequest, AuthorizeError>| match r {
        Err(AuthorizeError::Redirect { error, state, .. }) => (error.error, state),
        other => panic!("expected a redirect, got {other:?}"),
    };
    assert_eq!(
        redirected(p.check_authorize(&request(&[("code_challenge", None)]))),
        ("invalid_request", Some("s-1".into()))
    );
    assert_eq!(
        redirected(p.check_authorize(&request(&[("code_challenge_method", Some("plain"))]))).0,
        "invalid_request"
    );
    assert_eq!(
        redirected(p.check_authorize(&request(&[("response_type", Some("token"))]))).0,
        "unsupported_response_type"
    );
    assert_eq!(
        redirected(p.check_authorize(&request(&[("scope", Some("profile"))]))).0,
        "invalid_scope"
    );
    assert_eq!(
        redirected(p.check_authorize(&request(&[("prompt", Some("none"))]))).0,
        "login_required"
    );
    // Never redirect to an unregistered place or for an unknown client.
    for bad in [
        request(&[("redirect_uri", Some("https://evil.example/cb"))]),
        request(&[("redirect_uri", Some("javascript:alert(1)"))]),
        request(&[("redirect_uri", Some("http://127.0.0.1:5173/cb#frag"))]),
        request(&[("client_id", Some("someone-else"))]),
        request(&[("client_id", None)]),
    ] {
        assert!(
            matches!(p.check_authorize(&bad), Err(AuthorizeError::Page(_))),
            "{bad:?}"
        );
    }
    // Its own origin and loopback ones are fine.
    for good in [
        "http://127.0.0.1:8080/auth/callback",
        "http://localhost:5173/auth/callback",
        "http://[::1]:9/auth/callback",
    ] {
        assert!(
            p.check_authorize(&request(&[("redirect_uri", Some(good))])).is_ok(),
            "{good}"
        );
    }
}

fn refresh_token(t: &TokenSet) -> &str {
    t.refresh_token.as_deref().unwrap()
}

#[test]
fn refresh_tokens_rotate_and_a_replayed_one_ends_the_sign_in() {
    let p = provider().with_reuse_grace(Duration::ZERO);
    let grant = ana_signed_in(&p, &[]);
    let first = p.tokens(&grant, &ana(), false).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let renewed = p
        .tokens(
            &p.redeem_refresh(&refresh(refresh_token(&first))).unwrap(),
            &ana(),
            true,
        )
        .unwrap();
    assert_ne!(renewed.refresh_token, first.refresh_token);
    assert_ne!(renewed.access_token, first.access_token);
    // The renewed ID token is of the same sign-in: same auth_time and sid (clients compare).
    let (before, after) = (
        p.read_own(&first.id_token).unwrap(),
        p.read_own(&renewed.id_token).unwrap(),
    );
    assert_eq!(before["auth_time"], after["auth_time"]);
    assert_eq!(before["sid"], after["sid"]);
    assert!(after.get("nonce").is_none(), "no nonce claim without one: {after}");
    assert!(after["iat"].as_i64() > before["iat"].as_i64());
    // The spent one again, past the grace: refused, and the newer one stops working too.
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(
        p.redeem_refresh(&refresh(refresh_token(&first))).unwrap_err().error,
        "invalid_grant"
    );
    assert!(p.redeem_refresh(&refresh(refresh_token(&renewed))).is_err());
}

#[test]
fn two_tabs_renewing_at_once_each_get_tokens_of_their_own() {
    // A duplicated tab holds the same refresh token; both renew when it falls due.
    let p = provider();
    let shared = p.tokens(&ana_signed_in(&p, &[]), &ana(), false).unwrap();
    let tab = |p: &Provider| {
        p.tokens(
            &p.redeem_refresh(&refresh(refresh_token(&shared))).unwrap(),
            &ana(),
            true,
        )
        .unwrap()
    };
    let (one, two) = (tab(&p), tab(&p));
    assert_ne!(one.refresh_token, two.refresh_token);
    for t in [&one, &two] {
        assert!(p.redeem_refresh(&refresh(refresh_token(t))).is_ok(), "both go on");
    }
}

#[test]
fn a_renewal_answered_after_a_logout_gets_no_refresh_token() {
    let p = provider();
    let tokens = p.tokens(&ana_signed_in(&p, &[]), &ana(), false).unwrap();
    // The renewal has spent its token; the logout lands before its answer is made.
    let grant = p.redeem_refresh(&refresh(refresh_token(&tokens))).unwrap();
    assert!(p.end_session(Some(&tokens.id_token)));
    assert_eq!(p.tokens(&grant, &ana(), true).unwrap_err().error, "invalid_grant");
    assert!(
        p.redeem_refresh(&refresh(refresh_token(&tokens))).is_err(),
        "nor within the grace"
    );
}

#[test]
fn the_redirect_uri_must_be_repeated_as_sent_and_a_wrong_client_spends_the_code() {
    let p = provider();
    // Without a path: a parsed URL would add the slash the client never sent.
    let code = ana_code(&p, &[("redirect_uri", Some("http://localhost:5173"))]);
    let mut form = exchange(&code, Some(VERIFIER));
    form.insert("redirect_uri".into(), "http://localhost:5173".into());
    assert!(p.redeem_code(&form).is_ok(), "as sent");

    let code = ana_code(&p, &[]);
    let mut wrong = exchange(&code, Some(VERIFIER));
    wrong.insert("client_id".into(), "someone-else".into());
    assert_eq!(p.redeem_code(&wrong).unwrap_err().error, "invalid_client");
    assert_eq!(
        p.redeem_code(&exchange(&code, Some(VERIFIER))).unwrap_err().error,
        "invalid_grant",
        "spent by the wrong client's try"
    );
}

#[test]
fn logout_and_revocation_end_refresh_tokens() {
    let p = provider();
    let grant = ana_signed_in(&p, &[]);
    let tokens = p.tokens(&grant, &ana(), false).unwrap();
    assert!(p.end_session(Some(&tokens.id_token)));
    assert!(
        p.redeem_refresh(&refresh(tokens.refresh_token.as_deref().unwrap()))
            .is_err()
    );
    assert!(!p.end_session(Some("not.a.token")));

    let tokens = p.tokens(&ana_signed_in(&p, &[]), &ana(), false).unwrap();
    p.revoke(tokens.refresh_token.as_deref().unwrap());
    assert!(
        p.redeem_refresh(&refresh(tokens.refresh_token.as_deref().unwrap()))
            .is_err()
    );
}

#[test]
fn tokens_carry_who_signed_in_and_the_nonce() {
    let p = provider();
    let grant = ana_signed_in(&p, &[("nonce", Some("n-42"))]);
    let tokens = p.tokens(&grant, &ana(), false).unwrap();
    let id = p.read_own(&tokens.id_token).unwrap();
    assert_eq!(
        (id["sub"].as_str(), id["nonce"].as_str()),
        (Some("u-client-ana"), Some("n-42"))
    );
    let access = p.read_own(&tokens.access_token).unwrap();
    assert_eq!(
        (access["aud"].as_str(), access["role"].as_str(), access["iss"].as_str()),
        (Some(CLIENT_ID), Some("client"), Some("http://127.0.0.1:8080"))
    );
    assert_eq!(tokens.expires_in, 60);
}

#[test]
fn the_signing_key_is_kept_in_the_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let first = SigningKey::load_or_create(dir.path()).unwrap();
    let again = SigningKey::load_or_create(dir.path()).unwrap();
    assert_eq!(first.jwk(), again.jwk());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(keys::KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "readable by its owner only");
    }
}

#[test]
fn like_cognito_it_keeps_refresh_tokens_names_roles_by_groups_and_has_no_logout_in_discovery() {
    let p = provider_like(true);
    let discovery = p.discovery();
    assert!(discovery.get("end_session_endpoint").is_none());
    assert!(discovery.get("revocation_endpoint").is_none());
    let back = p.grant_code(&p.check_authorize(&request(&[])).unwrap(), &ana());
    assert!(back.query_pairs().all(|(k, _)| k != "iss"), "{back}");
    let grant = p.redeem_code(&exchange(&code_of(&back), Some(VERIFIER))).unwrap();
    let first = p.tokens(&grant, &ana(), false).unwrap();
    let refresh_token = first.refresh_token.clone().unwrap();
    let renewed = p
        .tokens(&p.redeem_refresh(&refresh(&refresh_token)).unwrap(), &ana(), true)
        .unwrap();
    assert!(renewed.refresh_token.is_none(), "no new refresh token");
    assert!(
        p.redeem_refresh(&refresh(&refresh_token)).is_ok(),
        "the same one goes on working"
    );
    let access = p.read_own(&renewed.access_token).unwrap();
    assert!(access.get("aud").is_none() && access.get("role").is_none(), "{access}");
    assert_eq!(
        (access["client_id"].as_str(), access["username"].as_str()),
        (Some(CLIENT_ID), Some("u-client-ana"))
    );
    assert_eq!(access["cognito:groups"], serde_json::json!([]));
    assert_eq!(
        p.cognito_urls(),
        Some((
            "http://127.0.0.1:8080/logout".into(),
            "http://127.0.0.1:8080/oauth2/revoke".into()
        ))
    );
}
