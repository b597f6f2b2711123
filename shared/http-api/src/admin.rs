//! Admin routes under `/api/admin/messaging` (the `admin-api` function). The service
//! checks the admin role on every one.

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, patch};
use serde::Deserialize;

use messaging_core::Error;
use messaging_core::ids::{ConversationId, MessageId, ReportId, UserId};
use messaging_core::model::{ConversationQuery, ConversationStatus, ReportStatus};
use messaging_core::service::PeopleSearch;
use messaging_core::text::ResolutionNote;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{AdminCaller, ApiJson, PathParams, QueryMap};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/admin/messaging/conversations", get(list_conversations))
        .route("/api/admin/messaging/conversations/{id}/messages", get(list_messages))
        .route(
            "/api/admin/messaging/conversations/{id}/messages/{messageId}/audit",
            get(message_audit),
        )
        .route("/api/admin/messaging/conversations/{id}/status", patch(set_status))
        .route(
            "/api/admin/messaging/conversations/{id}/participants",
            get(participants),
        )
        .route("/api/admin/messaging/users", get(list_users))
        .route("/api/admin/messaging/users/{userId}", patch(set_user_state))
        .route("/api/admin/messaging/reports", get(list_reports))
        .route("/api/admin/messaging/reports/{id}", patch(resolve_report))
        .route("/api/admin/messaging/search", get(search_messages))
}

/// Full-text search over every conversation.
async fn search_messages(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    q: QueryMap,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(
        s.svc.admin_search_messages(&who, &q.message_search()?).await?,
    ))
}

async fn list_conversations(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    q: QueryMap,
) -> ApiResult<impl IntoResponse> {
    let query = ConversationQuery::parse(
        q.text("status").map(ConversationStatus::parse).transpose()?,
        q.text("q"),
        q.text("participant").map(UserId::parse).transpose()?,
        q.cursor()?,
        q.number("limit")?,
    )?;
    Ok(axum::Json(s.svc.admin_search_conversations(&who, &query).await?))
}

/// Everyone in the directory; `status=active|disabled` filters.
async fn list_users(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    q: QueryMap,
) -> ApiResult<impl IntoResponse> {
    let active = match q.text("status") {
        None | Some("") => None,
        Some("active") => Some(true),
        Some("disabled") => Some(false),
        Some(_) => return Err(Error::invalid("status", "must be one of: active disabled").into()),
    };
    let search = PeopleSearch {
        text: q.text("q").map(str::to_owned),
        cursor: q.cursor()?,
        limit: q.number("limit")?,
    };
    Ok(axum::Json(s.svc.admin_list_users(&who, &search, active).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserStateBody {
    active: bool,
}

/// Disables (or enables again) a user: a disabled user's tokens stop working at once and
/// their sockets close.
async fn set_user_state(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    p: PathParams,
    ApiJson(body): ApiJson<UserStateBody>,
) -> ApiResult<impl IntoResponse> {
    let user = p.get("userId", UserId::parse)?;
    Ok(axum::Json(s.svc.admin_set_active(&who, &user, body.active).await?))
}

async fn list_messages(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    p: PathParams,
    q: QueryMap,
) -> ApiResult<impl IntoResponse> {
    crate::messaging_api::history(&s, &who, &p, &q).await
}

async fn message_audit(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    p: PathParams,
) -> ApiResult<impl IntoResponse> {
    let id = p.get("id", ConversationId::parse)?;
    let message = p.get("messageId", MessageId::parse)?;
    Ok(axum::Json(s.svc.admin_message_audit(&who, &id, &message).await?))
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
}

async fn set_status(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    p: PathParams,
    ApiJson(body): ApiJson<StatusBody>,
) -> ApiResult<impl IntoResponse> {
    let id = p.get("id", ConversationId::parse)?;
    let status = ConversationStatus::parse(&body.status)?;
    Ok(axum::Json(s.svc.admin_set_status(&who, &id, status).await?))
}

async fn participants(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    p: PathParams,
) -> ApiResult<impl IntoResponse> {
    let id = p.get("id", ConversationId::parse)?;
    Ok(axum::Json(s.svc.admin_participants(&who, &id).await?))
}

async fn list_reports(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    q: QueryMap,
) -> ApiResult<impl IntoResponse> {
    let status = q.text("status").map(ReportStatus::parse).transpose()?;
    Ok(axum::Json(
        s.svc
            .admin_list_reports(&who, status, q.cursor()?.as_ref(), q.number("limit")?)
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResolveBody {
    status: String,
    note: Option<String>,
    #[serde(default)]
    delete_message: bool,
}

async fn resolve_report(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    p: PathParams,
    ApiJson(body): ApiJson<ResolveBody>,
) -> ApiResult<impl IntoResponse> {
    let id = p.get("id", ReportId::parse)?;
    let status = ReportStatus::parse(&body.status)?;
    let note = body.note.as_deref().map(ResolutionNote::parse).transpose()?;
    Ok(axum::Json(
        s.svc
            .admin_resolve_report(&who, &id, status, note, body.delete_message)
            .await?,
    ))
}
