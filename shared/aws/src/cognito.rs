//! The user directory on a Cognito user pool.
//!
//! A person is a pool user: their id is their Cognito username, which the admin APIs
//! take (in a pool that signs in by email, as the template's does, the username is the
//! `sub` the tokens carry), their display name the `name` attribute (else their email), their role the
//! pool groups `admin` / `team` (anyone else is a client), their organisation and
//! avatar colour the custom attributes `custom:organisation` / `custom:colour`, and
//! `Enabled` whether they may sign in.
//!
//! Reads: AdminGetUser + AdminListGroupsForUser per person, side by side; the listing is
//! ListUsers plus ListUsersInGroup for the two groups. Cognito rate-limits these APIs,
//! so the service reads through [`messaging_core::directory::CachedDirectory`].

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{AttributeType, UserType};

use messaging_core::directory::Profile;
use messaging_core::error::{DirectoryError, DirectoryResult};
use messaging_core::identity::Role;
use messaging_core::ids::UserId;
use messaging_core::ports::UserDirectory;
use messaging_core::text::DisplayName;

pub const ORGANISATION_ATTRIBUTE: &str = "custom:organisation";
pub const COLOUR_ATTRIBUTE: &str = "custom:colour";

#[derive(Clone)]
pub struct CognitoDirectory {
    client: Client,
    pool_id: String,
}

fn failed<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: SdkError<E, R>,
) -> DirectoryError {
    DirectoryError::Backend(DisplayErrorContext(e).to_string())
}

fn not_found<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error().and_then(|s| s.code()) == Some("UserNotFoundException")
}

/// The attributes Cognito returns, by name.
fn attributes(list: &[AttributeType]) -> HashMap<&str, &str> {
    list.iter().filter_map(|a| Some((a.name(), a.value()?))).collect()
}

fn role_of(groups: &[&str]) -> Role {
    if groups.contains(&"admin") {
        Role::Admin
    } else if groups.contains(&"team") {
        Role::Team
    } else {
        Role::Client
    }
}

/// A profile from a user's username, attributes and state; `None` for a user whose id
/// this service cannot use (it would never have a token the service accepts).
fn profile(username: &str, attrs: &[AttributeType], enabled: bool, role: Role) -> Option<Profile> {
    let a = attributes(attrs);
    let user_id = UserId::parse(username).ok()?;
    let email = a.get("email").map(|e| e.to_string());
    let name = a
        .get("name")
        .map(|n| n.to_string())
        .or_else(|| email.clone())
        .unwrap_or_else(|| user_id.to_string());
    Some(Profile {
        user_id,
        name,
        email,
        role,
        organisation: a.get(ORGANISATION_ATTRIBUTE).map(|o| o.to_string()),
        colour: a.get(COLOUR_ATTRIBUTE).map(|c| c.to_string()),
        active: enabled,
    })
}

impl CognitoDirectory {
    pub fn new(sdk: &aws_config::SdkConfig, pool_id: impl Into<String>) -> Self {
        Self {
            client: Client::new(sdk),
            pool_id: pool_id.into(),
        }
    }

    async fn get(&self, id: &UserId) -> DirectoryResult<Option<Profile>> {
        let user = self
            .client
            .admin_get_user()
            .user_pool_id(&self.pool_id)
            .username(id.as_str())
            .send();
        let groups = self
            .client
            .admin_list_groups_for_user()
            .user_pool_id(&self.pool_id)
            .username(id.as_str())
            .send();
        let (user, groups) = futures::join!(user, groups);
        let user = match user {
            Ok(user) => user,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(failed(e)),
        };
        let groups = match groups {
            Ok(g) => g,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(failed(e)),
        };
        let names: Vec<&str> = groups.groups().iter().filter_map(|g| g.group_name()).collect();
        Ok(profile(
            user.username(),
            user.user_attributes(),
            user.enabled(),
            role_of(&names),
        ))
    }

    async fn list_all(&self) -> DirectoryResult<Vec<UserType>> {
        let mut users = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_users()
                .user_pool_id(&self.pool_id)
                .limit(60)
                .set_pagination_token(token.take())
                .send()
                .await
                .map_err(failed)?;
            users.extend(page.users().iter().cloned());
            match page.pagination_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(users),
            }
        }
    }

    async fn group_members(&self, group: &str) -> DirectoryResult<Vec<String>> {
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_users_in_group()
                .user_pool_id(&self.pool_id)
                .group_name(group)
                .limit(60)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(failed)?;
            names.extend(page.users().iter().filter_map(|u| u.username().map(str::to_owned)));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(names),
            }
        }
    }
}

#[async_trait]
impl UserDirectory for CognitoDirectory {
    async fn profiles(&self, ids: &[UserId]) -> DirectoryResult<Vec<Profile>> {
        let found = futures::future::join_all(ids.iter().map(|id| self.get(id))).await;
        let mut out = Vec::with_capacity(ids.len());
        for p in found {
            out.extend(p?);
        }
        Ok(out)
    }

    async fn all_profiles(&self) -> DirectoryResult<Vec<Profile>> {
        let (users, admins, team) =
            futures::join!(self.list_all(), self.group_members("admin"), self.group_members("team"));
        let (users, admins, team) = (users?, admins?, team?);
        Ok(users
            .iter()
            .filter_map(|u| {
                let username = u.username()?;
                let role = if admins.iter().any(|a| a == username) {
                    Role::Admin
                } else if team.iter().any(|t| t == username) {
                    Role::Team
                } else {
                    Role::Client
                };
                profile(username, u.attributes(), u.enabled(), role)
            })
            .collect())
    }

    /// Disabling also signs the user out everywhere (their refresh tokens stop working);
    /// the tokens they hold already are refused by the service from now on.
    async fn set_active(&self, id: &UserId, active: bool) -> DirectoryResult<Option<Profile>> {
        let result = if active {
            self.client
                .admin_enable_user()
                .user_pool_id(&self.pool_id)
                .username(id.as_str())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| (not_found(&e), failed(e)))
        } else {
            let disabled = self
                .client
                .admin_disable_user()
                .user_pool_id(&self.pool_id)
                .username(id.as_str())
                .send()
                .await;
            match disabled {
                Ok(_) => self
                    .client
                    .admin_user_global_sign_out()
                    .user_pool_id(&self.pool_id)
                    .username(id.as_str())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| (not_found(&e), failed(e))),
                Err(e) => Err((not_found(&e), failed(e))),
            }
        };
        match result {
            Ok(()) => self.get(id).await,
            Err((true, _)) => Ok(None),
            Err((false, e)) => Err(e),
        }
    }

    async fn set_name(&self, id: &UserId, name: &DisplayName) -> DirectoryResult<Option<Profile>> {
        let attribute = AttributeType::builder()
            .name("name")
            .value(name.as_str())
            .build()
            .map_err(|e| DirectoryError::Backend(e.to_string()))?;
        match self
            .client
            .admin_update_user_attributes()
            .user_pool_id(&self.pool_id)
            .username(id.as_str())
            .user_attributes(attribute)
            .send()
            .await
        {
            Ok(_) => self.get(id).await,
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(failed(e)),
        }
    }
}
