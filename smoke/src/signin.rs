//! Who the suite signs in as: two throwaway users, made and removed by the suite.
//!
//! - [`LocalUsers`]: a gateway serving `config.json` and its own OIDC provider (the local
//!   gateway): people added through its dev admin route, each signed in with the
//!   authorization code + PKCE exactly as a browser does (picker page, redirect, token
//!   exchange with the verifier).
//! - [`CognitoUsers`]: a deployed stack's user pool: `AdminCreateUser`, a permanent
//!   password, the `team` group for the first, `AdminInitiateAuth`; `AdminDeleteUser`
//!   afterwards.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use aws_sdk_cognitoidentityprovider::Client as Cognito;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, MessageActionType};

use crate::Target;

/// Someone signed in: the id the product knows them by and their access token.
#[derive(Debug, Clone)]
pub struct Person {
    pub label: String,
    pub user_id: String,
    pub access_token: String,
}

/// Made the users; removes them afterwards.
pub enum SignIn {
    Local(LocalUsers),
    Cognito(CognitoUsers),
}

impl SignIn {
    pub async fn remove(&self) -> Result<String, String> {
        match self {
            SignIn::Local(users) => users.remove().await,
            SignIn::Cognito(users) => users.remove().await,
        }
    }
}

fn random() -> String {
    let mut bytes = [0u8; 32];
    let _ = getrandom::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The `sub` of a JWT, read without verifying (the server verifies; we only need the id).
pub fn subject(token: &str) -> Result<String, String> {
    let payload = token.split('.').nth(1).ok_or("the token is not a JWT")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("token payload: {e}"))?;
    let claims: Value = serde_json::from_slice(&bytes).map_err(|e| format!("token payload: {e}"))?;
    claims["sub"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "the token has no sub".into())
}

async fn json_of(response: reqwest::Response, what: &str) -> Result<Value, String> {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(format!(
            "{what}: {status} {}",
            text.chars().take(300).collect::<String>()
        ));
    }
    serde_json::from_str(&text).map_err(|e| format!("{what}: not JSON ({e})"))
}

/// The sign-in settings of a web client's `config.json`.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub target: Target,
    pub authority: String,
    pub client_id: String,
    pub redirect_uri: String,
}

impl WebConfig {
    /// Reads `<base>/config.json` as the web client does, empty URLs meaning `base`.
    pub async fn load(http: &reqwest::Client, base: &str) -> Result<Self, String> {
        let base = base.trim_end_matches('/');
        let config = json_of(
            http.get(format!("{base}/config.json"))
                .send()
                .await
                .map_err(|e| format!("config.json: {e}"))?,
            "config.json",
        )
        .await?;
        let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        let api_base = text(&config["apiBaseUrl"]).unwrap_or_else(|| base.to_owned());
        let ws_url = text(&config["wsUrl"]).unwrap_or_else(|| format!("{}/ws", base.replacen("http", "ws", 1)));
        let auth = &config["auth"];
        Ok(Self {
            target: Target { api_base, ws_url },
            authority: text(&auth["authority"]).ok_or("config.json names no auth.authority")?,
            client_id: text(&auth["clientId"]).ok_or("config.json names no auth.clientId")?,
            redirect_uri: format!(
                "{base}{}",
                text(&auth["redirectPath"]).unwrap_or_else(|| "/auth/callback".into())
            ),
        })
    }
}

/// Signs `user_id` in at an OIDC provider whose authorization endpoint is the local
/// gateway's picker: the authorization code flow with PKCE, as a browser runs it.
pub async fn code_with_pkce(http: &reqwest::Client, config: &WebConfig, user_id: &str) -> Result<Value, String> {
    let discovery = json_of(
        http.get(format!("{}/.well-known/openid-configuration", config.authority))
            .send()
            .await
            .map_err(|e| format!("discovery: {e}"))?,
        "discovery",
    )
    .await?;
    let endpoint = |name: &str| {
        discovery[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("discovery has no {name}"))
    };
    let (authorize, token) = (endpoint("authorization_endpoint")?, endpoint("token_endpoint")?);
    let verifier = random();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = random();
    let params = [
        ("response_type", "code"),
        ("client_id", config.client_id.as_str()),
        ("redirect_uri", config.redirect_uri.as_str()),
        ("scope", "openid profile email"),
        ("state", state.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let page = http
        .get(&authorize)
        .query(&params)
        .send()
        .await
        .map_err(|e| format!("authorize: {e}"))?;
    let page = page.text().await.unwrap_or_default();
    if !page.contains(&format!("data-user-id=\"{user_id}\"")) {
        return Err(format!("the sign-in page does not offer {user_id}"));
    }
    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.push(("user_id", user_id));
    let answer = http
        .post(&authorize)
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("authorize: {e}"))?;
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("authorize answered {} without a redirect", answer.status()))?;
    let back = url::Url::parse(location).map_err(|e| format!("redirect: {e}"))?;
    let query = |name: &str| back.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    if query("state").as_deref() != Some(state.as_str()) {
        return Err("the redirect's state is not the one sent".into());
    }
    // RFC 9207: an `iss` must be the provider's (Cognito sends none).
    if query("iss").is_some_and(|iss| iss != config.authority) {
        return Err("the redirect's iss is not the provider".into());
    }
    let code = query("code").ok_or_else(|| format!("no code in the redirect: {location}"))?;
    json_of(
        http.post(&token)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", config.redirect_uri.as_str()),
                ("client_id", config.client_id.as_str()),
                ("code_verifier", verifier.as_str()),
            ])
            .send()
            .await
            .map_err(|e| format!("token: {e}"))?,
        "token",
    )
    .await
}

/// People added to the local gateway's directory for the run.
pub struct LocalUsers {
    http: reqwest::Client,
    base: String,
    admin: Person,
    made: Vec<(String, String)>,
}

/// An HTTP client that does not follow redirects (the suite reads them).
pub fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .map_err(|e| e.to_string())
}

impl LocalUsers {
    /// Signs the demo admin in, adds a team member and a client, signs both in.
    pub async fn create(base: &str, admin_id: &str) -> Result<(Self, WebConfig, Person, Person), String> {
        let http = http_client()?;
        let config = WebConfig::load(&http, base).await?;
        let sign_in = |label: &str, user_id: &str| {
            let (http, config, label, user_id) = (http.clone(), config.clone(), label.to_owned(), user_id.to_owned());
            async move {
                let tokens = code_with_pkce(&http, &config, &user_id).await?;
                let access_token = tokens["access_token"].as_str().ok_or("no access_token")?.to_owned();
                Ok::<_, String>(Person {
                    label,
                    user_id,
                    access_token,
                })
            }
        };
        let admin = sign_in("admin", admin_id).await?;
        let mut users = Self {
            http: http.clone(),
            base: base.trim_end_matches('/').to_owned(),
            admin,
            made: Vec::new(),
        };
        let stamp = ulid::Ulid::generate().to_string().to_lowercase();
        let mut people = Vec::new();
        for (label, role) in [("team member", "team"), ("client", "client")] {
            let user_id = format!("u-smoke-{role}-{stamp}");
            let name = format!("Smoke {role} {}", &stamp[stamp.len() - 6..]);
            if let Err(e) = users.put(&user_id, &name, role, true).await {
                return Err(users.undo(e).await);
            }
            users.made.push((user_id.clone(), role.to_owned()));
            match sign_in(label, &user_id).await {
                Ok(person) => people.push(person),
                Err(e) => return Err(users.undo(e).await),
            }
        }
        let b = people.pop().ok_or("no client")?;
        let a = people.pop().ok_or("no team member")?;
        Ok((users, config, a, b))
    }

    /// `error`, after removing whoever was made before it.
    async fn undo(&self, error: String) -> String {
        match self.remove().await {
            Ok(_) => error,
            Err(also) => format!("{error}; cleaning up: {also}"),
        }
    }

    async fn put(&self, user_id: &str, name: &str, role: &str, active: bool) -> Result<(), String> {
        let response = self
            .http
            .post(format!("{}/dev/users", self.base))
            .bearer_auth(&self.admin.access_token)
            .json(&json!({ "userId": user_id, "name": name, "role": role, "active": active }))
            .send()
            .await
            .map_err(|e| format!("/dev/users: {e}"))?;
        json_of(response, "/dev/users").await.map(|_| ())
    }

    /// The throwaway people can no longer sign in.
    /// Disables everyone made, trying each even when one fails.
    pub async fn remove(&self) -> Result<String, String> {
        let mut failed = Vec::new();
        for (user_id, role) in &self.made {
            if let Err(e) = self.put(user_id, "Removed smoke user", role, false).await {
                failed.push(e);
            }
        }
        all_or_errors(failed, format!("{} people disabled", self.made.len()))
    }
}

/// Users made in a deployed stack's Cognito user pool.
pub struct CognitoUsers {
    client: Cognito,
    pool_id: String,
    made: Vec<String>,
}

impl CognitoUsers {
    /// A team member and a client, signed in with `AdminInitiateAuth` (the app client
    /// allows `ALLOW_ADMIN_USER_PASSWORD_AUTH` for this).
    pub async fn create(client: Cognito, pool_id: &str, app_client_id: &str) -> Result<(Self, Person, Person), String> {
        let mut users = Self {
            client,
            pool_id: pool_id.to_owned(),
            made: Vec::new(),
        };
        let stamp = ulid::Ulid::generate().to_string().to_lowercase();
        let mut people = Vec::new();
        for (label, group) in [("team member", Some("team")), ("client", None)] {
            let email = format!("smoke-{}-{stamp}@example.com", group.unwrap_or("client"));
            let person = users.add(label, &email, group, app_client_id).await;
            match person {
                Ok(p) => people.push(p),
                Err(e) => {
                    let _ = users.remove().await;
                    return Err(e);
                }
            }
        }
        let b = people.pop().ok_or("no client")?;
        let a = people.pop().ok_or("no team member")?;
        Ok((users, a, b))
    }

    async fn add(
        &mut self,
        label: &str,
        email: &str,
        group: Option<&str>,
        app_client_id: &str,
    ) -> Result<Person, String> {
        let attribute = |name: &str, value: &str| {
            AttributeType::builder()
                .name(name)
                .value(value)
                .build()
                .map_err(|e| e.to_string())
        };
        self.client
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(email)
            .message_action(MessageActionType::Suppress)
            .user_attributes(attribute("email", email)?)
            .user_attributes(attribute("email_verified", "true")?)
            .user_attributes(attribute("name", &format!("Smoke {label}"))?)
            .send()
            .await
            .map_err(|e| format!("AdminCreateUser: {}", aws_error(&e)))?;
        self.made.push(email.to_owned());
        let password = format!("Sm0ke-{}-Aa9", random());
        self.client
            .admin_set_user_password()
            .user_pool_id(&self.pool_id)
            .username(email)
            .password(&password)
            .permanent(true)
            .send()
            .await
            .map_err(|e| format!("AdminSetUserPassword: {}", aws_error(&e)))?;
        if let Some(group) = group {
            self.client
                .admin_add_user_to_group()
                .user_pool_id(&self.pool_id)
                .username(email)
                .group_name(group)
                .send()
                .await
                .map_err(|e| format!("AdminAddUserToGroup: {}", aws_error(&e)))?;
        }
        let auth = self
            .client
            .admin_initiate_auth()
            .user_pool_id(&self.pool_id)
            .client_id(app_client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", email)
            .auth_parameters("PASSWORD", &password)
            .send()
            .await
            .map_err(|e| format!("AdminInitiateAuth: {}", aws_error(&e)))?;
        let access_token = auth
            .authentication_result()
            .and_then(|r| r.access_token())
            .ok_or("AdminInitiateAuth gave no access token (a challenge?)")?
            .to_owned();
        Ok(Person {
            label: label.to_owned(),
            user_id: subject(&access_token)?,
            access_token,
        })
    }

    /// Deletes everyone made, trying each even when one fails.
    pub async fn remove(&self) -> Result<String, String> {
        let mut failed = Vec::new();
        for email in &self.made {
            let deleted = self
                .client
                .admin_delete_user()
                .user_pool_id(&self.pool_id)
                .username(email)
                .send()
                .await;
            if let Err(e) = deleted {
                failed.push(format!("AdminDeleteUser {email}: {}", aws_error(&e)));
            }
        }
        all_or_errors(failed, format!("{} Cognito users deleted", self.made.len()))
    }
}

/// `done` when nothing failed, else every failure.
pub fn all_or_errors(failed: Vec<String>, done: String) -> Result<String, String> {
    match failed.is_empty() {
        true => Ok(done),
        false => Err(failed.join("; ")),
    }
}

fn aws_error<E: std::error::Error + 'static>(e: &aws_sdk_cognitoidentityprovider::error::SdkError<E>) -> String {
    use aws_sdk_cognitoidentityprovider::error::DisplayErrorContext;
    DisplayErrorContext(e).to_string()
}
