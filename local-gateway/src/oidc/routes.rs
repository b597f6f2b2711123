//! The provider's HTTP endpoints, and the web client's runtime configuration.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;

use messaging_core::directory::Profile;
use messaging_core::ids::UserId;
use messaging_core::ports::UserDirectory;

use super::{AuthorizeError, CLIENT_ID, OAuthError, POST_LOGOUT_PATH, Provider, REDIRECT_PATH, page};
use crate::Gateway;

/// Every route of the provider, and `/config.json`.
pub fn routes() -> Router<Arc<Gateway>> {
    // The web client may be served from another origin (a Vite dev server): the
    // endpoints it calls with `fetch` answer any origin, as a public client's must.
    let open = tower_http::cors::CorsLayer::permissive();
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery).layer(open.clone()))
        .route("/oidc/jwks.json", get(jwks).layer(open.clone()))
        .route("/oidc/token", post(token).layer(open.clone()))
        .route("/oidc/userinfo", get(userinfo).layer(open.clone()))
        .route("/oidc/revoke", post(revoke).layer(open.clone()))
        .route("/oidc/authorize", get(authorize).post(choose))
        .route("/oidc/logout", get(logout))
        // Cognito's own paths, served only `--oidc-like-cognito`.
        .route("/logout", get(cognito_logout))
        .route("/oauth2/revoke", post(cognito_revoke).layer(open.clone()))
        .route(
            "/oidc/picker.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], page::STYLESHEET) }),
        )
        .route("/config.json", get(config).layer(open))
}

/// The provider, or the 404 of a gateway without the dev login.
fn provider(gw: &Gateway) -> Result<&Provider, StatusCode> {
    gw.oidc.as_deref().ok_or(StatusCode::NOT_FOUND)
}

fn oauth_error(status: StatusCode, e: &OAuthError) -> Response {
    let body = json!({ "error": e.error, "error_description": e.description });
    (status, axum::Json(body)).into_response()
}

fn status_of(e: &OAuthError) -> StatusCode {
    if e.error == "invalid_client" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// Parameters of a query or a form body; a repeated one is refused (RFC 6749 §3.1).
fn params(raw: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(raw).into_owned() {
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(OAuthError::invalid_request(format!("{k} is repeated")));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// An active person of the directory.
async fn active(gw: &Gateway, id: &UserId) -> Option<Profile> {
    gw.directory
        .profiles(std::slice::from_ref(id))
        .await
        .ok()?
        .into_iter()
        .find(|p| p.user_id == *id && p.active)
}

async fn discovery(State(gw): State<Arc<Gateway>>) -> Response {
    match provider(&gw) {
        Ok(p) => axum::Json(p.discovery()).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn jwks(State(gw): State<Arc<Gateway>>) -> Response {
    match provider(&gw) {
        Ok(p) => axum::Json(p.jwks()).into_response(),
        Err(r) => r.into_response(),
    }
}

/// `GET /oidc/authorize`: the picker, or the reason there is none.
async fn authorize(State(gw): State<Arc<Gateway>>, RawQuery(query): RawQuery) -> Response {
    let p = match provider(&gw) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let request = match params(query.unwrap_or_default().as_bytes()) {
        Ok(list) => p.check_authorize(&list),
        Err(e) => Err(AuthorizeError::Page(e.description)),
    };
    match request {
        Ok(request) => match gw.directory.all_profiles().await {
            Ok(mut people) => {
                people.retain(|p| p.active);
                crate::dev::sort_for_sign_in(&mut people);
                page::picker(&request, &people)
            }
            Err(e) => page::refused(StatusCode::SERVICE_UNAVAILABLE, &format!("the directory failed: {e}")),
        },
        Err(e) => refusal(p, e),
    }
}

fn refusal(p: &Provider, e: AuthorizeError) -> Response {
    match e {
        AuthorizeError::Page(reason) => page::refused(StatusCode::BAD_REQUEST, &reason),
        AuthorizeError::Redirect {
            redirect_uri,
            error,
            state,
        } => Redirect::to(p.error_redirect(&redirect_uri, &error, state.as_deref()).as_str()).into_response(),
    }
}

/// `POST /oidc/authorize`: someone was picked; the client gets a code.
async fn choose(State(gw): State<Arc<Gateway>>, body: Bytes) -> Response {
    let p = match provider(&gw) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let list = match params(&body) {
        Ok(list) => list,
        Err(e) => return page::refused(StatusCode::BAD_REQUEST, &e.description),
    };
    let request = match p.check_authorize(&list) {
        Ok(request) => request,
        Err(e) => return refusal(p, e),
    };
    let picked = list
        .iter()
        .find(|(k, _)| k == "user_id")
        .and_then(|(_, v)| UserId::parse(v).ok());
    let user = match picked {
        Some(id) => active(&gw, &id).await,
        None => None,
    };
    let Some(user) = user else {
        let denied = OAuthError::new("access_denied", "not someone who can sign in here");
        return Redirect::to(
            p.error_redirect(&request.redirect_uri, &denied, request.state.as_deref())
                .as_str(),
        )
        .into_response();
    };
    tracing::info!(user = %user.user_id, "signed in at the local OIDC provider");
    Redirect::to(p.grant_code(&request, &user).as_str()).into_response()
}

/// `POST /oidc/token`: a code (with its PKCE verifier) or a refresh token for tokens.
async fn token(State(gw): State<Arc<Gateway>>, body: Bytes) -> Response {
    let p = match provider(&gw) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let form: HashMap<String, String> = match params(&body) {
        Ok(list) => list.into_iter().collect(),
        Err(e) => return oauth_error(StatusCode::BAD_REQUEST, &e),
    };
    let grant = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => p.redeem_code(&form),
        Some("refresh_token") => p.redeem_refresh(&form),
        Some(other) => Err(OAuthError::new(
            "unsupported_grant_type",
            format!("grant_type {other:?} is not supported"),
        )),
        None => Err(OAuthError::invalid_request("grant_type is missing")),
    };
    let grant = match grant {
        Ok(grant) => grant,
        Err(e) => return oauth_error(status_of(&e), &e),
    };
    // Read again at every refresh: a disabled account stops renewing.
    let Some(user) = active(&gw, &grant.user_id).await else {
        p.grants_end(&grant.session);
        return oauth_error(
            StatusCode::BAD_REQUEST,
            &OAuthError::new("invalid_grant", "the account is disabled or gone"),
        );
    };
    let renewing = form.get("grant_type").map(String::as_str) == Some("refresh_token");
    let tokens = match p.tokens(&grant, &user, renewing) {
        Ok(tokens) => tokens,
        Err(e) => return oauth_error(status_of(&e), &e),
    };
    ([(header::PRAGMA, "no-cache")], axum::Json(tokens)).into_response()
}

/// `GET /oidc/userinfo` with an access token of this provider.
async fn userinfo(State(gw): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    let header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let identity = match gw.functions.state().auth.verify_header(header).await {
        Ok(identity) => identity,
        Err(_) => {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            )
                .into_response();
        }
    };
    match active(&gw, &identity.user_id).await {
        Some(user) => axum::Json(json!({
            "sub": user.user_id.as_str(),
            "name": user.name,
            "email": user.email,
            "role": user.role.as_str(),
        }))
        .into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// `POST /oidc/revoke` (RFC 7009): always 200, known token or not.
async fn revoke(State(gw): State<Arc<Gateway>>, body: Bytes) -> Response {
    let p = match provider(&gw) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    match params(&body) {
        Ok(list) => {
            if let Some((_, token)) = list.iter().find(|(k, _)| k == "token") {
                p.revoke(token);
            }
            StatusCode::OK.into_response()
        }
        Err(e) => oauth_error(StatusCode::BAD_REQUEST, &e),
    }
}

/// `GET /oidc/logout` (RP-initiated logout): ends the sign-in, then back to the client.
async fn logout(State(gw): State<Arc<Gateway>>, RawQuery(query): RawQuery) -> Response {
    let p = match provider(&gw) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let list = match params(query.unwrap_or_default().as_bytes()) {
        Ok(list) => list,
        Err(e) => return page::refused(StatusCode::BAD_REQUEST, &e.description),
    };
    let get = |name: &str| list.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    p.end_session(get("id_token_hint"));
    let Some(raw) = get("post_logout_redirect_uri") else {
        return page::signed_out();
    };
    let Some(mut target) = url::Url::parse(raw).ok().filter(|u| p.redirect_allowed(u)) else {
        return page::refused(
            StatusCode::BAD_REQUEST,
            &format!("post_logout_redirect_uri {raw:?} is not registered for this client"),
        );
    };
    if let Some(state) = get("state") {
        target.query_pairs_mut().append_pair("state", state);
    }
    Redirect::to(target.as_str()).into_response()
}

fn like_cognito(gw: &Gateway) -> Result<&Provider, StatusCode> {
    provider(gw).and_then(|p| p.cognito_urls().map(|_| p).ok_or(StatusCode::NOT_FOUND))
}

/// Cognito's `GET /logout?client_id&logout_uri`: back to a registered logout URI. Like
/// Cognito it ends no refresh token: the client revokes its own.
async fn cognito_logout(State(gw): State<Arc<Gateway>>, RawQuery(query): RawQuery) -> Response {
    let p = match like_cognito(&gw) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let list = params(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let get = |name: &str| list.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if get("client_id") != Some(CLIENT_ID) {
        return page::refused(StatusCode::BAD_REQUEST, "unknown or missing client_id");
    }
    match get("logout_uri")
        .and_then(|raw| url::Url::parse(raw).ok())
        .filter(|u| p.redirect_allowed(u))
    {
        Some(target) => Redirect::to(target.as_str()).into_response(),
        None => page::refused(StatusCode::BAD_REQUEST, "logout_uri is not a logout URL of this client"),
    }
}

/// Cognito's `POST /oauth2/revoke` (RFC 7009, `client_id` in the body of a public client).
async fn cognito_revoke(State(gw): State<Arc<Gateway>>, body: Bytes) -> Response {
    match like_cognito(&gw) {
        Ok(_) => revoke(State(gw), body).await,
        Err(r) => r.into_response(),
    }
}

/// `GET /config.json`: what the built web client reads at start. Here everything is
/// this origin; a deployed stack serves the same shape from its bucket
/// (`infra/deploy-web.sh`).
async fn config(State(gw): State<Arc<Gateway>>) -> Response {
    let p = match provider(&gw) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let ttl = p.config.token_ttl.as_secs();
    let (logout, revocation) = p.cognito_urls().unzip();
    axum::Json(json!({
        "apiBaseUrl": "",
        "wsUrl": "",
        "auth": {
            "authority": p.issuer(),
            "clientId": CLIENT_ID,
            "scope": "openid profile email",
            "redirectPath": REDIRECT_PATH,
            "postLogoutRedirectPath": POST_LOGOUT_PATH,
            "logoutUrl": logout,
            "revocationUrl": revocation,
            "renewSecondsBeforeExpiry": (ttl / 2).min(60),
        }
    }))
    .into_response()
}
