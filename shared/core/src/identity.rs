//! Who is calling. Built by the auth crate from a verified token, or by the WebSocket
//! handlers from the authorizer context; never from anything else the client sends.

use serde::{Deserialize, Serialize};

use crate::ids::UserId;

string_enum!(
    /// What a user is to the business: its clients, its delivery team, its admins.
    Role, "role" { Client => "client", Team => "team", Admin => "admin" }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub user_id: UserId,
    pub role: Role,
    /// Display name; the user id when the token carries none.
    pub name: String,
}

impl Identity {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Team members and admins run conversations: they may rename them and change who is in them.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Team | Role::Admin)
    }
}
