//! Extractors that turn requests into domain input, failing with [`ApiError`] (never with
//! axum's plain-text rejections): the caller's identity, JSON bodies, path ids.

use std::collections::HashMap;

use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use messaging_core::cursor::Cursor;
use messaging_core::ids::{ConversationId, UserId};
use messaging_core::search::SearchOrder;
use messaging_core::service::MessageSearch;
use messaging_core::time::Timestamp;
use messaging_core::{Error, Identity};

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller. Every route takes one: no route is anonymous.
pub struct Caller(pub Identity);

impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let claimed = state.auth.verify_header(header).await?;
        // The directory says who they are now, and whether they may still sign in.
        Ok(Caller(state.svc.authenticate(claimed).await?))
    }
}

/// An authenticated admin. Admin routes take this first, so that a non-admin learns
/// nothing else (not even whether their body would have been valid).
pub struct AdminCaller(pub Identity);

impl<S> FromRequestParts<S> for AdminCaller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Caller(who) = Caller::from_request_parts(parts, state).await?;
        if who.is_admin() {
            Ok(AdminCaller(who))
        } else {
            Err(Error::forbidden("this route is for admins").into())
        }
    }
}

/// A JSON body. Errors name the offending field (`participants[1].userId`), and an
/// oversized body is a 413 before anything is parsed.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match read_json(req, state).await? {
            Some(value) => Ok(ApiJson(value)),
            None => Err(Error::invalid("body", "send a JSON body with Content-Type: application/json").into()),
        }
    }
}

/// A JSON body that may be omitted (`POST .../read` without a body reads everything).
pub struct ApiJsonOrEmpty<T>(pub T);

impl<S, T> FromRequest<S> for ApiJsonOrEmpty<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiJsonOrEmpty(read_json(req, state).await?.unwrap_or_default()))
    }
}

/// `None` for an empty body; a parsed value for a JSON one; an error otherwise.
async fn read_json<S: Send + Sync, T: DeserializeOwned>(req: Request, state: &S) -> Result<Option<T>, ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError(Error::PayloadTooLarge(
                format!("the body is larger than {} bytes", crate::MAX_BODY_BYTES).into(),
            ))
        } else {
            ApiError(Error::invalid("body", "could not read the request body"))
        }
    })?;
    if bytes.is_empty() {
        return Ok(None);
    }
    if !is_json {
        return Err(Error::invalid("body", "send a JSON body with Content-Type: application/json").into());
    }
    messaging_core::json::parse(&bytes).map(Some).map_err(ApiError)
}

/// Query parameters as strings; handlers parse the ones they take.
pub struct QueryMap(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let map = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        Ok(QueryMap(map))
    }
}

impl QueryMap {
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// `?cursor=`, parsed (a malformed one is a 400 naming `cursor`).
    pub fn cursor(&self) -> Result<Option<Cursor>, Error> {
        self.text("cursor").map(Cursor::parse).transpose()
    }

    /// An RFC 3339 time (`2026-12-01T09:00:00Z`).
    pub fn timestamp(&self, name: &'static str) -> Result<Option<Timestamp>, Error> {
        self.text(name)
            .map(|v| Timestamp::parse(v).ok_or_else(|| Error::invalid(name, "must be an RFC 3339 time")))
            .transpose()
    }

    /// `true` or `false`.
    pub fn flag(&self, name: &'static str) -> Result<Option<bool>, Error> {
        self.text(name)
            .map(|v| match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(Error::invalid(name, "must be true or false")),
            })
            .transpose()
    }

    /// A message search: `q`, and `conversationId`, `senderId`, `from`, `to`,
    /// `hasFiles`, `order`, `cursor`, `limit` (the members' and the admins' routes).
    pub fn message_search(&self) -> Result<MessageSearch, Error> {
        Ok(MessageSearch {
            text: self.text("q").unwrap_or_default().to_owned(),
            conversation: self.text("conversationId").map(ConversationId::parse).transpose()?,
            sender: self
                .text("senderId")
                .map(|s| UserId::parse(s).map_err(|e| e.at_field("senderId")))
                .transpose()?,
            from: self.timestamp("from")?,
            to: self.timestamp("to")?,
            has_files: self.flag("hasFiles")?,
            order: self.text("order").map(SearchOrder::parse).transpose()?,
            cursor: self.cursor()?,
            limit: self.number("limit")?,
        })
    }

    pub fn number<T: std::str::FromStr>(&self, name: &'static str) -> Result<Option<T>, Error> {
        self.text(name)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|_| Error::invalid(name, "must be a non-negative integer"))
            })
            .transpose()
    }
}

/// Path parameters by name, parsed by the handler into ids (errors name the parameter).
pub struct PathParams(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError(Error::NotFound("route")))?;
        Ok(PathParams(
            raw.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
        ))
    }
}

impl PathParams {
    pub fn get<T>(&self, name: &str, parse: impl FnOnce(&str) -> Result<T, Error>) -> Result<T, Error> {
        // Already percent-decoded by axum: decoding again would let `%2530` stand for `0`.
        parse(self.0.get(name).map(String::as_str).unwrap_or(""))
    }
}
