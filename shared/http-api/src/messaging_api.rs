//! Members' routes under `/api/messaging`: the `messaging-api` function.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post};
use serde::Deserialize;

use axum::extract::FromRequest;
use messaging_core::ids::{ClientMessageId, ConversationId, FileId, MessageId, ProjectId, UserId};
use messaging_core::model::MessageRange;
use messaging_core::notify::{NotificationSettingsView, NotifyLevel};
use messaging_core::reactions::Emoji;
use messaging_core::service::{
    AttachmentRequest, CreateConversation, PeopleSearch, PreferencesChange, PushSubscriptionInput, SendMessage,
};
use messaging_core::text::{DisplayName, MessageBody, ReportReason, Title};
use messaging_core::views::MessagePage;
use messaging_core::{Error, Identity};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiJsonOrEmpty, Caller, PathParams, QueryMap};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/messaging/me", get(me).patch(rename_me))
        .route("/api/messaging/people", get(people))
        .route(
            "/api/messaging/conversations",
            get(list_conversations).post(create_conversation),
        )
        .route(
            "/api/messaging/conversations/{id}",
            get(get_conversation).patch(rename_conversation),
        )
        .route("/api/messaging/conversations/{id}/participants", post(add_participants))
        .route(
            "/api/messaging/conversations/{id}/participants/{userId}",
            axum::routing::delete(remove_participant),
        )
        .route(
            "/api/messaging/conversations/{id}/messages",
            get(list_messages).post(send_message),
        )
        .route(
            "/api/messaging/conversations/{id}/messages/{messageId}",
            patch(edit_message).delete(delete_message),
        )
        .route(
            "/api/messaging/conversations/{id}/messages/{messageId}/report",
            post(report_message),
        )
        .route(
            "/api/messaging/conversations/{id}/messages/{messageId}/reactions",
            axum::routing::put(add_reaction).delete(remove_reaction),
        )
        .route(
            "/api/messaging/conversations/{id}/messages/{messageId}/pin",
            axum::routing::put(pin_message).delete(unpin_message),
        )
        .route("/api/messaging/conversations/{id}/pins", get(list_pins))
        .route(
            "/api/messaging/conversations/{id}/messages/{messageId}/thread",
            get(message_thread),
        )
        .route("/api/messaging/conversations/{id}/read", post(mark_read))
        .route("/api/messaging/conversations/{id}/preferences", patch(set_preferences))
        .route("/api/messaging/conversations/{id}/attachments", post(request_uploads))
        .route("/api/messaging/conversations/{id}/files/{fileId}", get(download_file))
        .route("/api/messaging/ws-ticket", post(issue_ticket))
        .route(
            "/api/messaging/me/notifications",
            get(notification_settings).put(set_notification_settings),
        )
        .route("/api/messaging/push/config", get(push_config))
        .route(
            "/api/messaging/me/push-subscriptions",
            get(list_push_subscriptions).post(add_push_subscription),
        )
        .route(
            "/api/messaging/me/push-subscriptions/{subscriptionId}",
            axum::routing::delete(remove_push_subscription),
        )
        .route("/api/messaging/unsubscribe", post(unsubscribe))
        .route("/api/messaging/search", get(search_messages))
}

/// Full-text search over the conversations the caller is in.
async fn search_messages(State(s): State<AppState>, Caller(who): Caller, q: QueryMap) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(s.svc.search_messages(&who, &q.message_search()?).await?))
}

async fn me(State(s): State<AppState>, Caller(who): Caller) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(s.svc.my_profile(&who).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameMeBody {
    name: String,
}

/// A new display name (what a user changes in their profile).
async fn rename_me(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<RenameMeBody>,
) -> ApiResult<impl IntoResponse> {
    let name = DisplayName::parse(&body.name)?;
    Ok(axum::Json(s.svc.rename_me(&who, name).await?))
}

/// Whom the caller may start a conversation with, searched by name or email.
async fn people(State(s): State<AppState>, Caller(who): Caller, q: QueryMap) -> ApiResult<impl IntoResponse> {
    let search = PeopleSearch {
        text: q.text("q").map(str::to_owned),
        cursor: q.cursor()?,
        limit: q.number("limit")?,
    };
    Ok(axum::Json(s.svc.search_people(&who, &search).await?))
}

async fn list_conversations(
    State(s): State<AppState>,
    Caller(who): Caller,
    q: QueryMap,
) -> ApiResult<impl IntoResponse> {
    let page = s
        .svc
        .list_my_conversations(&who, q.text("q"), q.cursor()?.as_ref(), q.number("limit")?)
        .await?;
    Ok(axum::Json(page))
}

/// The people of a request, by id only. Names and roles come from the directory: a
/// body that tries to give them (the old `participants: [{userId, name, role}]`) is
/// refused, so that nobody can make up a "Security Admin".
fn participant_ids(ids: &[String], refused: Option<&serde_json::Value>) -> Result<Vec<UserId>, Error> {
    if refused.is_some() {
        return Err(Error::invalid(
            "participants",
            "people are added by id only (participantIds); their names and roles come from the directory",
        ));
    }
    ids.iter()
        .enumerate()
        .map(|(i, raw)| UserId::parse(raw).map_err(|e| e.at_field(format!("participantIds[{i}]"))))
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateConversationBody {
    title: String,
    project_id: Option<String>,
    #[serde(default)]
    participant_ids: Vec<String>,
    participants: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddParticipantsBody {
    #[serde(default)]
    participant_ids: Vec<String>,
    participants: Option<serde_json::Value>,
}

async fn create_conversation(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateConversationBody>,
) -> ApiResult<impl IntoResponse> {
    let req = CreateConversation {
        title: Title::parse(&body.title)?,
        project_id: body.project_id.as_deref().map(ProjectId::parse).transpose()?,
        participant_ids: participant_ids(&body.participant_ids, body.participants.as_ref())?,
    };
    let created = s.svc.create_conversation(&who, req).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

async fn get_conversation(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
) -> ApiResult<impl IntoResponse> {
    let id = p.get("id", ConversationId::parse)?;
    Ok(axum::Json(s.svc.conversation_detail(&who, &id).await?))
}

#[derive(Deserialize)]
struct RenameBody {
    title: String,
}

async fn rename_conversation(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
    ApiJson(body): ApiJson<RenameBody>,
) -> ApiResult<impl IntoResponse> {
    let id = p.get("id", ConversationId::parse)?;
    let title = Title::parse(&body.title)?;
    Ok(axum::Json(s.svc.rename_conversation(&who, &id, title).await?))
}

async fn add_participants(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
    ApiJson(body): ApiJson<AddParticipantsBody>,
) -> ApiResult<impl IntoResponse> {
    let id = p.get("id", ConversationId::parse)?;
    let people = participant_ids(&body.participant_ids, body.participants.as_ref())?;
    if people.is_empty() {
        return Err(Error::invalid("participantIds", "name at least one participant to add").into());
    }
    Ok(axum::Json(s.svc.add_participants(&who, &id, people).await?))
}

async fn remove_participant(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
) -> ApiResult<impl IntoResponse> {
    let id = p.get("id", ConversationId::parse)?;
    let user = p.get("userId", UserId::parse)?;
    s.svc.remove_participant(&who, &id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_messages(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
    q: QueryMap,
) -> ApiResult<impl IntoResponse> {
    history(&s, &who, &p, &q).await
}

/// A page of history: `before`, `after` and `limit` from the query. Members read through
/// the client route, admins through the admin route; the service checks which may.
pub(crate) async fn history(
    s: &AppState,
    who: &Identity,
    p: &PathParams,
    q: &QueryMap,
) -> ApiResult<axum::Json<MessagePage>> {
    let id = p.get("id", ConversationId::parse)?;
    let range = MessageRange::parse(q.number("before")?, q.number("after")?, q.number("limit")?)?;
    Ok(axum::Json(s.svc.list_messages(who, &id, range).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendBody {
    body: String,
    client_message_id: String,
    #[serde(default)]
    file_ids: Vec<String>,
    /// The message this one replies to.
    #[serde(default)]
    reply_to_id: Option<String>,
}

/// 201 with the new message; 200 with the original when the client message id was
/// already used (a retry), so clients can tell a replay from a fresh send.
async fn send_message(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
    ApiJson(body): ApiJson<SendBody>,
) -> ApiResult<impl IntoResponse> {
    let id = p.get("id", ConversationId::parse)?;
    let file_ids = body
        .file_ids
        .iter()
        .enumerate()
        .map(|(i, f)| FileId::parse(f).map_err(|e| e.at_field(format!("fileIds[{i}]"))))
        .collect::<Result<Vec<_>, _>>()?;
    let req = SendMessage {
        body: MessageBody::parse(&body.body)?,
        client_message_id: ClientMessageId::parse(&body.client_message_id)?,
        file_ids,
        reply_to: body
            .reply_to_id
            .as_deref()
            .map(|r| MessageId::parse(r).map_err(|e| e.at_field("replyToId")))
            .transpose()?,
    };
    let (message, created) = s.svc.send_message(&who, &id, req).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(message)))
}

/// The conversation and message of a `…/messages/{messageId}…` path.
fn message_path(p: &PathParams) -> Result<(ConversationId, MessageId), Error> {
    Ok((
        p.get("id", ConversationId::parse)?,
        p.get("messageId", MessageId::parse)?,
    ))
}

#[derive(Deserialize)]
struct EditBody {
    body: String,
}

async fn edit_message(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
    ApiJson(body): ApiJson<EditBody>,
) -> ApiResult<impl IntoResponse> {
    let (id, message) = message_path(&p)?;
    let body = MessageBody::parse(&body.body)?;
    Ok(axum::Json(s.svc.edit_message(&who, &id, &message, body).await?))
}

async fn delete_message(State(s): State<AppState>, Caller(who): Caller, p: PathParams) -> ApiResult<impl IntoResponse> {
    let (id, message) = message_path(&p)?;
    Ok(axum::Json(s.svc.delete_message(&who, &id, &message).await?))
}

#[derive(Deserialize)]
struct ReactionBody {
    emoji: String,
}

/// `PUT …/reactions` `{"emoji": "👍"}`: the caller's reaction, added (idempotent).
async fn add_reaction(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
    ApiJson(body): ApiJson<ReactionBody>,
) -> ApiResult<impl IntoResponse> {
    let (id, message) = message_path(&p)?;
    let emoji = Emoji::parse(&body.emoji)?;
    Ok(axum::Json(s.svc.react(&who, &id, &message, emoji, true).await?))
}

/// `DELETE …/reactions?emoji=👍`: the caller's reaction, taken away (idempotent).
async fn remove_reaction(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
    q: QueryMap,
) -> ApiResult<impl IntoResponse> {
    let (id, message) = message_path(&p)?;
    let emoji = Emoji::parse(q.text("emoji").unwrap_or_default())?;
    Ok(axum::Json(s.svc.react(&who, &id, &message, emoji, false).await?))
}

/// `PUT …/pin`: the team pins a message; the pinned list after.
async fn pin_message(State(s): State<AppState>, Caller(who): Caller, p: PathParams) -> ApiResult<impl IntoResponse> {
    let (id, message) = message_path(&p)?;
    Ok(axum::Json(s.svc.pin_message(&who, &id, &message, true).await?))
}

/// `DELETE …/pin`: unpins it.
async fn unpin_message(State(s): State<AppState>, Caller(who): Caller, p: PathParams) -> ApiResult<impl IntoResponse> {
    let (id, message) = message_path(&p)?;
    Ok(axum::Json(s.svc.pin_message(&who, &id, &message, false).await?))
}

/// `GET …/messages/{messageId}/thread?after=&limit=`: the thread the message belongs to.
async fn message_thread(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
    q: QueryMap,
) -> ApiResult<impl IntoResponse> {
    let (id, message) = message_path(&p)?;
    Ok(axum::Json(
        s.svc
            .thread(&who, &id, &message, q.number("after")?, q.number("limit")?)
            .await?,
    ))
}

async fn list_pins(State(s): State<AppState>, Caller(who): Caller, p: PathParams) -> ApiResult<impl IntoResponse> {
    let id = p.get("id", ConversationId::parse)?;
    Ok(axum::Json(s.svc.pinned_messages(&who, &id).await?))
}

#[derive(Deserialize)]
struct ReportBody {
    reason: String,
}

async fn report_message(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
    ApiJson(body): ApiJson<ReportBody>,
) -> ApiResult<impl IntoResponse> {
    let (id, message) = message_path(&p)?;
    let reason = ReportReason::parse(&body.reason)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(s.svc.report_message(&who, &id, &message, reason).await?),
    ))
}

#[derive(Deserialize, Default)]
struct ReadBody {
    seq: Option<u64>,
}

async fn mark_read(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<ReadBody>,
) -> ApiResult<impl IntoResponse> {
    let id = p.get("id", ConversationId::parse)?;
    Ok(axum::Json(s.svc.mark_read(&who, &id, body.seq).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreferencesBody {
    muted: Option<bool>,
    hidden: Option<bool>,
    /// `all`, `mentions`, `none`, or `default` (the caller's own default level).
    notify: Option<String>,
    email: Option<bool>,
}

/// The caller's own settings: `{"muted": true}`, `{"hidden": true}` (until a newer
/// message), or both.
async fn set_preferences(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
    ApiJson(body): ApiJson<PreferencesBody>,
) -> ApiResult<impl IntoResponse> {
    let id = p.get("id", ConversationId::parse)?;
    if body.muted.is_none() && body.hidden.is_none() && body.notify.is_none() && body.email.is_none() {
        return Err(Error::invalid("muted", "give muted, hidden, notify or email").into());
    }
    let notify = match body.notify.as_deref() {
        None => None,
        Some("default") => Some(None),
        Some(level) => {
            Some(Some(NotifyLevel::parse(level).map_err(|_| {
                Error::invalid("notify", "must be one of: all mentions none default")
            })?))
        }
    };
    let change = PreferencesChange {
        muted: body.muted,
        hidden: body.hidden,
        notify,
        email: body.email,
    };
    Ok(axum::Json(s.svc.set_preferences(&who, &id, change).await?))
}

#[derive(Deserialize)]
struct AttachBody {
    files: Vec<AttachmentRequest>,
}

async fn request_uploads(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
    ApiJson(body): ApiJson<AttachBody>,
) -> ApiResult<impl IntoResponse> {
    let id = p.get("id", ConversationId::parse)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(s.svc.request_uploads(&who, &id, body.files).await?),
    ))
}

/// A short-lived signed download URL as JSON; with `?redirect=true`, a 303 See Other to it.
async fn download_file(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
    q: QueryMap,
) -> ApiResult<axum::response::Response> {
    let id = p.get("id", ConversationId::parse)?;
    let file = p.get("fileId", FileId::parse)?;
    let signed = s.svc.download_file(&who, &id, &file).await?;
    if q.text("redirect") == Some("true") {
        return Ok(axum::response::Redirect::to(&signed.url).into_response());
    }
    Ok(axum::Json(signed).into_response())
}

async fn issue_ticket(State(s): State<AppState>, Caller(who): Caller) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, axum::Json(s.svc.issue_ticket(&who).await?)))
}

async fn notification_settings(State(s): State<AppState>, Caller(who): Caller) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(s.svc.notification_settings(&who).await?))
}

/// The caller's notification settings, whole (`GET` gives the current ones to edit).
async fn set_notification_settings(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<NotificationSettingsView>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(s.svc.set_notification_settings(&who, &body).await?))
}

/// What a browser subscribes with: the VAPID public key (`applicationServerKey`).
async fn push_config(State(s): State<AppState>, Caller(_): Caller) -> ApiResult<impl IntoResponse> {
    let key = s.svc.push_public_key();
    if key.is_empty() {
        return Err(Error::Unavailable("push notifications are not configured".into()).into());
    }
    Ok(axum::Json(serde_json::json!({ "publicKey": key })))
}

async fn list_push_subscriptions(State(s): State<AppState>, Caller(who): Caller) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(
        serde_json::json!({ "items": s.svc.push_subscriptions(&who).await? }),
    ))
}

/// `PushSubscription.toJSON()` from the browser; 201 with the subscription's id.
async fn add_push_subscription(
    State(s): State<AppState>,
    Caller(who): Caller,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<PushSubscriptionInput>,
) -> ApiResult<impl IntoResponse> {
    let agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let id = s.svc.add_push_subscription(&who, &body, agent).await?;
    Ok((StatusCode::CREATED, axum::Json(serde_json::json!({ "id": id }))))
}

async fn remove_push_subscription(
    State(s): State<AppState>,
    Caller(who): Caller,
    p: PathParams,
) -> ApiResult<impl IntoResponse> {
    let id = p.get("subscriptionId", |raw| Ok(raw.to_owned()))?;
    s.svc.remove_push_subscription(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct UnsubscribeBody {
    token: String,
}

/// An email's unsubscribe link, without signing in: the token (signed, per user and
/// conversation) is in the JSON body (the web client's page), or in the query with a
/// form body `List-Unsubscribe=One-Click` (RFC 8058, what mail providers send).
async fn unsubscribe(
    State(s): State<AppState>,
    q: QueryMap,
    request: axum::extract::Request,
) -> ApiResult<impl IntoResponse> {
    let token = match q.text("token") {
        Some(token) => token.to_owned(),
        None => {
            let ApiJson(body) = ApiJson::<UnsubscribeBody>::from_request(request, &s).await?;
            body.token
        }
    };
    Ok(axum::Json(s.svc.unsubscribe(&token).await?))
}
