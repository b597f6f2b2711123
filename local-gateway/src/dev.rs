//! Dev-only conveniences: the local directory's people (the demo users, a seed file, a
//! dev admin route that adds people), a login that issues tokens for them, and the demo
//! data a fresh `make dev` starts with. Never part of a deployment: in AWS, people are
//! Cognito's and sign in through it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use messaging_core::directory::Profile;
use messaging_core::identity::Role;
use messaging_core::ids::{ClientMessageId, ProjectId, UserId};
use messaging_core::ports::UserDirectory;
use messaging_core::service::{CreateConversation, SendMessage};
use messaging_core::text::{DisplayName, MessageBody, Title};
use messaging_core::{Error, Messaging};
use messaging_embedded::LocalDirectory;

use crate::{BoxError, Gateway};

/// The demo users every local directory starts with (seeding never overwrites a change
/// made since, such as a new name or a disabled account).
pub struct DemoUser {
    pub user_id: &'static str,
    pub name: &'static str,
    pub role: Role,
    pub organisation: Option<&'static str>,
}

pub const DEMO_USERS: &[DemoUser] = &[
    DemoUser {
        user_id: "u-client-ana",
        name: "Ana Alvarez",
        role: Role::Client,
        organisation: Some("Acme Corp"),
    },
    DemoUser {
        user_id: "u-client-omar",
        name: "Omar Haddad",
        role: Role::Client,
        organisation: Some("Globex"),
    },
    DemoUser {
        user_id: "u-team-ben",
        name: "Ben Carter",
        role: Role::Team,
        organisation: None,
    },
    DemoUser {
        user_id: "u-team-cleo",
        name: "Cleo Park",
        role: Role::Team,
        organisation: None,
    },
    DemoUser {
        user_id: "u-admin-dana",
        name: "Dana Reyes",
        role: Role::Admin,
        organisation: None,
    },
];

impl DemoUser {
    pub fn profile(&self) -> Profile {
        Profile {
            user_id: UserId::parse(self.user_id).expect("demo ids are valid"),
            name: self.name.to_owned(),
            email: Some(format!(
                "{}@example.com",
                self.user_id.trim_start_matches("u-").replace('-', ".")
            )),
            role: self.role,
            organisation: self.organisation.map(str::to_owned),
            colour: None,
            active: true,
        }
    }
}

const TOKEN_TTL: Duration = Duration::from_secs(12 * 3600);

/// A person as the dev admin route and the seed file (`--users FILE`, a JSON array) give
/// them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewUser {
    user_id: String,
    name: String,
    #[serde(default)]
    email: Option<String>,
    role: String,
    #[serde(default)]
    organisation: Option<String>,
    #[serde(default)]
    colour: Option<String>,
    #[serde(default = "active_by_default")]
    active: bool,
}

fn active_by_default() -> bool {
    true
}

impl NewUser {
    pub fn parse(self) -> Result<Profile, Error> {
        let organisation = match self.organisation.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(o) => Some(
                DisplayName::parse(o)
                    .map_err(|e| e.at_field("organisation"))?
                    .to_string(),
            ),
        };
        let colour = match self.colour {
            None => None,
            Some(c) if c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|h| h.is_ascii_hexdigit()) => Some(c),
            Some(_) => return Err(Error::invalid("colour", "must be #rrggbb")),
        };
        Ok(Profile {
            user_id: UserId::parse(&self.user_id).map_err(|e| e.at_field("userId"))?,
            name: DisplayName::parse(&self.name)?.to_string(),
            email: self.email.filter(|e| !e.trim().is_empty()),
            role: Role::parse(&self.role)?,
            organisation,
            colour,
            active: self.active,
        })
    }
}

/// Adds the demo users that are missing, then everyone in `seed_file` (replacing).
pub fn seed_directory(directory: &LocalDirectory, seed_file: Option<&Path>) -> Result<(), BoxError> {
    for user in DEMO_USERS {
        directory.insert_missing(&user.profile())?;
    }
    if let Some(path) = seed_file {
        let raw = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let people: Vec<NewUser> = serde_json::from_str(&raw).map_err(|e| format!("{}: {e}", path.display()))?;
        let count = people.len();
        for (i, person) in people.into_iter().enumerate() {
            let profile = person.parse().map_err(|e| format!("{}: [{i}] {e}", path.display()))?;
            directory.upsert(&profile)?;
        }
        tracing::info!(people = count, file = %path.display(), "seeded the directory");
    }
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoginUser {
    user_id: UserId,
    name: String,
    role: Role,
    organisation: Option<String>,
}

impl From<&Profile> for LoginUser {
    fn from(p: &Profile) -> Self {
        Self {
            user_id: p.user_id.clone(),
            name: p.name.clone(),
            role: p.role,
            organisation: p.organisation.clone(),
        }
    }
}

fn error(e: Error) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({"error": {"code": e.code(), "message": e.public_message(), "field": e.field()}});
    (status, axum::Json(body)).into_response()
}

/// `GET /dev/users`: who can sign in (the active people of the local directory).
pub async fn users(State(gw): State<Arc<Gateway>>) -> Response {
    if gw.dev_tokens.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    match gw.directory.all_profiles().await {
        Ok(mut all) => {
            all.retain(|p| p.active);
            sort_for_sign_in(&mut all);
            axum::Json(all.iter().map(LoginUser::from).collect::<Vec<_>>()).into_response()
        }
        Err(e) => error(e.into()),
    }
}

/// Clients first, then the team, then admins; by name within each.
pub fn sort_for_sign_in(people: &mut [Profile]) {
    people.sort_by_key(|p| (role_order(p.role), p.name.to_lowercase()));
}

fn role_order(role: Role) -> u8 {
    match role {
        Role::Client => 0,
        Role::Team => 1,
        Role::Admin => 2,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginBody {
    user_id: String,
}

/// `POST /dev/login`: a token for someone in the local directory who is active.
pub async fn login(State(gw): State<Arc<Gateway>>, axum::Json(body): axum::Json<LoginBody>) -> Response {
    let Some(tokens) = gw.dev_tokens.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let refused = || error(Error::invalid("userId", "not someone who can sign in here"));
    let Ok(id) = UserId::parse(&body.user_id) else {
        return refused();
    };
    let profile = match gw.directory.profiles(std::slice::from_ref(&id)).await {
        Ok(found) => found.into_iter().find(|p| p.user_id == id && p.active),
        Err(e) => return error(e.into()),
    };
    let Some(user) = profile else {
        return refused();
    };
    let token = tokens.issue(user.user_id.as_str(), user.role, &user.name, TOKEN_TTL);
    axum::Json(json!({
        "token": token,
        "user": LoginUser::from(&user),
        "expiresInSeconds": TOKEN_TTL.as_secs(),
    }))
    .into_response()
}

/// `POST /dev/users` (admins, with a dev token): adds someone to the local directory, or
/// replaces them. What creating a user in Cognito is in AWS.
pub async fn create_user(State(gw): State<Arc<Gateway>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if gw.dev_tokens.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let who = match gw.functions.state().auth.verify_header(header).await {
        Ok(claimed) => match gw.functions.service().authenticate(claimed).await {
            Ok(who) => who,
            Err(e) => return error(e),
        },
        Err(e) => return error(e),
    };
    if !who.is_admin() {
        return error(Error::forbidden("adding people is for admins"));
    }
    let profile = match messaging_core::json::parse::<NewUser>(&body).and_then(NewUser::parse) {
        Ok(p) => p,
        Err(e) => return error(e),
    };
    if let Err(e) = gw.directory.upsert(&profile) {
        return error(e.into());
    }
    tracing::info!(user = %profile.user_id, by = %who.user_id, "person added to the local directory");
    (StatusCode::CREATED, axum::Json(LoginUser::from(&profile))).into_response()
}

/// Seeds two demo conversations the first time the store has none for the demo client.
pub async fn seed(svc: &Messaging) -> Result<bool, Error> {
    let identity = |i: usize| DEMO_USERS[i].profile().identity();
    let (ana, omar, ben, cleo) = (identity(0), identity(1), identity(2), identity(3));
    if !svc
        .list_my_conversations(&ana, None, None, Some(1))
        .await?
        .items
        .is_empty()
    {
        return Ok(false);
    }
    let kickoff = svc
        .create_conversation(
            &ben,
            CreateConversation {
                title: Title::parse("Website redesign — kickoff")?,
                project_id: Some(ProjectId::parse("acme-website")?),
                participant_ids: vec![ana.user_id.clone(), cleo.user_id.clone()],
            },
        )
        .await?;
    let script: [(&messaging_core::Identity, &str); 4] = [
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
            reply_to: None,
        };
        svc.send_message(who, &kickoff.conversation.id, send).await?;
    }
    svc.create_conversation(
        &cleo,
        CreateConversation {
            title: Title::parse("Mobile app — discovery")?,
            project_id: Some(ProjectId::parse("omar-mobile")?),
            participant_ids: vec![omar.user_id.clone()],
        },
    )
    .await?;
    Ok(true)
}
