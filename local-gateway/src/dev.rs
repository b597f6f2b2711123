//! Dev-only conveniences: a login that issues tokens for seeded demo users, and the demo
//! data a fresh `make dev` starts with. Never part of a deployment.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use messaging_auth::DevTokens;
use messaging_core::identity::Identity;
use messaging_core::ids::{ClientMessageId, UserId};
use messaging_core::model::Role;
use messaging_core::service::{CreateConversation, NewParticipant, SendMessage};
use messaging_core::text::{DisplayName, MessageBody, Title};
use messaging_core::{Error, Messaging};

use crate::Gateway;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoUser {
    pub user_id: &'static str,
    pub name: &'static str,
    pub role: Role,
}

pub const DEMO_USERS: &[DemoUser] = &[
    DemoUser {
        user_id: "u-client-ana",
        name: "Ana Alvarez",
        role: Role::Client,
    },
    DemoUser {
        user_id: "u-client-omar",
        name: "Omar Haddad",
        role: Role::Client,
    },
    DemoUser {
        user_id: "u-team-ben",
        name: "Ben Carter",
        role: Role::Team,
    },
    DemoUser {
        user_id: "u-team-cleo",
        name: "Cleo Park",
        role: Role::Team,
    },
    DemoUser {
        user_id: "u-admin-dana",
        name: "Dana Reyes",
        role: Role::Admin,
    },
];

const TOKEN_TTL: Duration = Duration::from_secs(12 * 3600);

pub fn identity_of(user: &DemoUser) -> Identity {
    Identity {
        user_id: UserId::parse(user.user_id).expect("demo ids are valid"),
        role: user.role,
        name: user.name.to_owned(),
    }
}

pub async fn users() -> impl IntoResponse {
    axum::Json(DEMO_USERS)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginBody {
    user_id: String,
}

pub async fn login(State(gw): State<Arc<Gateway>>, axum::Json(body): axum::Json<LoginBody>) -> Response {
    let Some(tokens) = gw.dev_tokens.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(user) = DEMO_USERS.iter().find(|u| u.user_id == body.user_id) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({"error": {"code": "validation_failed", "message": "not a demo user", "field": "userId"}}),
            ),
        )
            .into_response();
    };
    let token = tokens.issue(user.user_id, user.role, user.name, TOKEN_TTL);
    axum::Json(json!({ "token": token, "user": user, "expiresInSeconds": TOKEN_TTL.as_secs() })).into_response()
}

/// Seeds two demo conversations the first time the store has none for the demo client.
pub async fn seed(svc: &Messaging, _tokens: &DevTokens) -> Result<bool, Error> {
    let ana = identity_of(&DEMO_USERS[0]);
    let omar = identity_of(&DEMO_USERS[1]);
    let ben = identity_of(&DEMO_USERS[2]);
    let cleo = identity_of(&DEMO_USERS[3]);
    if !svc
        .list_my_conversations(&ana, None, None, Some(1))
        .await?
        .items
        .is_empty()
    {
        return Ok(false);
    }
    let participant = |who: &Identity| NewParticipant {
        user_id: who.user_id.clone(),
        name: DisplayName::parse(&who.name).ok(),
        role: Some(who.role),
    };
    let kickoff = svc
        .create_conversation(
            &ben,
            CreateConversation {
                title: Title::parse("Website redesign — kickoff")?,
                project_id: Some(messaging_core::ids::ProjectId::parse("acme-website")?),
                participants: vec![participant(&ana), participant(&cleo)],
            },
        )
        .await?;
    let script: [(&Identity, &str); 4] = [
        (&ben, "Welcome aboard, Ana! This is where we'll run the redesign."),
        (&ana, "Thanks Ben. I've shared our brand guide with Cleo already."),
        (&cleo, "Got it. First wireframes land on Thursday."),
        (&ben, "Ask us anything here — we usually answer within the hour."),
    ];
    for (who, text) in script {
        let send = SendMessage {
            body: MessageBody::parse(text)?,
            client_message_id: ClientMessageId::parse(&ulid::Ulid::generate().to_string())?,
            file_ids: Vec::new(),
        };
        svc.send_message(who, &kickoff.conversation.id, send).await?;
    }
    svc.create_conversation(
        &cleo,
        CreateConversation {
            title: Title::parse("Mobile app — discovery")?,
            project_id: Some(messaging_core::ids::ProjectId::parse("omar-mobile")?),
            participants: vec![participant(&omar)],
        },
    )
    .await?;
    Ok(true)
}
