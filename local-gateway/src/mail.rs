//! `/dev/mail`: the local outbox as a mail catcher. Every email the product sends
//! locally (notification digests) is listed here, newest first, with its headers, its
//! plain text and its HTML (served on its own, sandboxed, with no script and no network).
//! Like `/dev/login`, only while the dev login is on.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use messaging_embedded::OutboxEntry;

use crate::Gateway;
use crate::oidc::page::{STYLESHEET, escape};

const LISTED: usize = 200;

fn outbox(gw: &Gateway) -> Option<&messaging_embedded::OutboxMailer> {
    gw.dev_tokens.as_ref()?;
    gw.outbox.as_deref()
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title>\
         <link rel=\"stylesheet\" href=\"/oidc/picker.css\"><link rel=\"stylesheet\" href=\"/dev/mail.css\"></head>\
         <body><main class=\"wide\">{body}</main></body></html>",
        escape(title)
    );
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    response
}

pub async fn stylesheet() -> Response {
    let css = format!(
        "{STYLESHEET}main.wide{{max-width:56rem}}table{{width:100%;border-collapse:collapse}}\
         td,th{{text-align:left;padding:.4rem;border-bottom:1px solid #e4e6eb;vertical-align:top}}\
         pre{{white-space:pre-wrap;background:#f4f5f7;padding:1rem;border-radius:8px}}\
         iframe{{width:100%;height:28rem;border:1px solid #d8dbe2;border-radius:8px}}"
    );
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], css).into_response()
}

/// `GET /dev/mail`: every email, newest first.
pub async fn list(State(gw): State<Arc<Gateway>>) -> Response {
    let Some(outbox) = outbox(&gw) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let entries = outbox.list(LISTED);
    let mut body = format!(
        "<h1>Outbox</h1><p>Emails this gateway sent ({} shown), kept in <code>{}</code>.</p>",
        entries.len(),
        escape(&outbox.dir().display().to_string())
    );
    if entries.is_empty() {
        body.push_str("<p data-testid=\"mail-empty\">No email yet.</p>");
    } else {
        body.push_str("<table><thead><tr><th>Sent</th><th>To</th><th>Subject</th></tr></thead><tbody>");
        for e in &entries {
            body.push_str(&format!(
                "<tr data-testid=\"mail-row\"><td>{}</td><td>{}</td><td><a href=\"/dev/mail/{}\">{}</a></td></tr>",
                escape(&e.sent_at.to_rfc3339()),
                escape(&e.mail.to),
                escape(&e.id),
                escape(&e.mail.subject)
            ));
        }
        body.push_str("</tbody></table>");
    }
    page("Outbox", &body)
}

/// `GET /dev/mail.json`: the same, for scripts and tests.
pub async fn list_json(State(gw): State<Arc<Gateway>>) -> Response {
    let Some(outbox) = outbox(&gw) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    axum::Json(serde_json::json!({ "items": outbox.list(LISTED) })).into_response()
}

fn entry(gw: &Gateway, id: &str) -> Option<OutboxEntry> {
    outbox(gw).and_then(|o| o.get(id))
}

/// `GET /dev/mail/{id}`: one email: headers, text, and its HTML in a sandboxed frame.
pub async fn show(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    let Some(e) = entry(&gw, &id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut rows = format!(
        "<tr><th>From</th><td>{}</td></tr><tr><th>To</th><td>{}</td></tr><tr><th>Date</th><td>{}</td></tr>",
        escape(&e.mail.from),
        escape(&e.mail.to),
        escape(&e.sent_at.to_rfc3339())
    );
    for (name, value) in &e.mail.headers {
        rows.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>", escape(name), escape(value)));
    }
    let body = format!(
        "<p><a href=\"/dev/mail\">← Outbox</a></p><h1>{}</h1><table>{rows}</table>\
         <h2>HTML</h2><iframe sandbox title=\"The email's HTML\" src=\"/dev/mail/{}/html\"></iframe>\
         <h2>Plain text</h2><pre data-testid=\"mail-text\">{}</pre>",
        escape(&e.mail.subject),
        escape(&e.id),
        escape(&e.mail.text)
    );
    page(&e.mail.subject, &body)
}

/// `GET /dev/mail/{id}/html`: the email's HTML as a mail client would show it: no
/// script, nothing loaded from anywhere.
pub async fn html(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    let Some(e) = entry(&gw, &id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], e.mail.html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'",
        ),
    );
    // Framed by the email's page only.
    response
        .headers_mut()
        .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    response
}
