//! The provider's pages: the demo user picker (its sign-in screen) and the messages it
//! shows when it cannot send someone back. Plain HTML with one stylesheet, no script, so
//! that a strict policy covers it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use messaging_core::directory::Profile;

use super::AuthorizeRequest;

pub use messaging_core::text::escape_html as escape;

pub const STYLESHEET: &str = "\
body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;background:#f4f5f7;color:#1d2129}\
main{max-width:28rem;margin:8vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08)}\
h1{font-size:1.4rem;margin:0 0 .25rem}p{color:#5b6270;margin:.25rem 0 1rem}\
ul{list-style:none;margin:0;padding:0}li+li{margin-top:.5rem}\
button{display:flex;gap:.75rem;align-items:center;width:100%;padding:.6rem .8rem;border:1px solid #d8dbe2;\
border-radius:8px;background:#fff;font:inherit;text-align:left;cursor:pointer}\
button:hover,button:focus-visible{border-color:#3b5bdb;outline:2px solid #3b5bdb33}\
.avatar{display:inline-grid;place-items:center;width:2.2rem;height:2.2rem;border-radius:50%;background:#3b5bdb;color:#fff;font-weight:600}\
.name{display:block;font-weight:600}.meta{display:block;color:#5b6270;font-size:.85rem}\
.error{color:#b42318}";

fn html(status: StatusCode, csp: &str, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"/oidc/picker.css\"></head>\
         <body><main>{body}</main></body></html>",
        escape(title)
    );
    let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
    if let Ok(csp) = HeaderValue::from_str(csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// No script, no frames, styles from here; the form may go here and (through the
/// redirect that answers it) to the client.
fn policy(form_target: Option<&str>) -> String {
    format!(
        "default-src 'none'; style-src 'self'; form-action 'self'{}; frame-ancestors 'none'; base-uri 'none'",
        form_target.map(|t| format!(" {t}")).unwrap_or_default()
    )
}

fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// The sign-in screen: the directory's active people, each a button that signs in.
pub fn picker(request: &AuthorizeRequest, people: &[Profile]) -> Response {
    let hidden: String = request
        .params
        .iter()
        .filter(|(k, _)| k != "user_id")
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(k), escape(v)))
        .collect();
    let buttons: String = people
        .iter()
        .map(|p| {
            let meta = [Some(p.role.as_str()), p.organisation.as_deref(), Some(p.user_id.as_str())]
                .into_iter()
                .flatten()
                .map(escape)
                .collect::<Vec<_>>()
                .join(" · ");
            format!(
                "<li><button type=\"submit\" name=\"user_id\" value=\"{id}\" data-testid=\"login-user\" data-user-id=\"{id}\">\
                 <span class=\"avatar\" aria-hidden=\"true\">{initials}</span>\
                 <span><span class=\"name\">{name}</span><span class=\"meta\">{meta}</span></span></button></li>",
                id = escape(p.user_id.as_str()),
                initials = escape(&initials(&p.name)),
                name = escape(&p.name),
            )
        })
        .collect();
    let body = format!(
        "<h1>Sign in</h1><p>Local sign-in: choose who you are. (A deployed stack signs people in \
         with Cognito instead.)</p><form method=\"post\" action=\"/oidc/authorize\">{hidden}\
         <ul aria-label=\"People who can sign in\">{buttons}</ul></form>"
    );
    let target = request.redirect_uri.origin().ascii_serialization();
    html(StatusCode::OK, &policy(Some(&target)), "Sign in", &body)
}

/// A request that cannot be answered by a redirect.
pub fn refused(status: StatusCode, reason: &str) -> Response {
    let body = format!(
        "<h1>Cannot sign in</h1><p class=\"error\" role=\"alert\">{}</p>",
        escape(reason)
    );
    html(status, &policy(None), "Cannot sign in", &body)
}

pub fn signed_out() -> Response {
    html(
        StatusCode::OK,
        &policy(None),
        "Signed out",
        "<h1>Signed out</h1><p>You can close this tab.</p>",
    )
}
