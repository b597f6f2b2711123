//! Who may talk to whom: the one place that says it.
//!
//! - Team members and admins may start conversations with anyone active in the
//!   directory, and add or remove people in the conversations they run.
//! - A client may start a conversation only with people the deployment's
//!   [`ClientContacts`] setting allows (by default the team, and clients of their own
//!   organisation), and may not add or remove other people; any member may leave.
//! - A client sees in the directory only whom they may start a conversation with (the
//!   people they already share a conversation with are shown in those conversations).
//!
//! One setting per deployment, `CLIENT_CONTACTS`: `team`, `organisation` (the default) or
//! `anyone`.

use crate::directory::{Audience, Profile};
use crate::error::Error;
use crate::identity::Role;

string_enum!(
    /// Whom clients may start conversations with: the team and admins only (`team`),
    /// also clients of their own organisation (`organisation`), or anyone (`anyone`).
    ClientContacts, "CLIENT_CONTACTS" { Team => "team", Organisation => "organisation", Anyone => "anyone" }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactPolicy {
    pub client_contacts: ClientContacts,
}

impl Default for ContactPolicy {
    fn default() -> Self {
        Self {
            client_contacts: ClientContacts::Organisation,
        }
    }
}

impl ContactPolicy {
    /// The part of the directory `viewer` may search, and start conversations with.
    pub fn audience(&self, viewer: &Profile) -> Audience {
        if viewer.role != Role::Client {
            return Audience::Everyone;
        }
        match self.client_contacts {
            ClientContacts::Anyone => Audience::Everyone,
            ClientContacts::Organisation => Audience::TeamAnd {
                organisation: viewer.organisation.clone(),
            },
            ClientContacts::Team => Audience::TeamAnd { organisation: None },
        }
    }

    /// Whether `starter` may start a conversation that includes `other`; the error names
    /// the request field at fault.
    pub fn check_start(&self, starter: &Profile, other: &Profile, field: String) -> Result<(), Error> {
        if self.audience(starter).includes(other) {
            return Ok(());
        }
        let allowed = match self.client_contacts {
            ClientContacts::Organisation => "the team and clients of your own organisation",
            _ => "the team",
        };
        Err(Error::forbidden(format!(
            "{field}: {} is a client; clients may start conversations only with {allowed}",
            other.user_id
        )))
    }

    /// Whether `who` may add people to, or remove others from, a conversation they are in.
    pub fn may_manage_members(&self, who: Role) -> bool {
        who != Role::Client
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;

    fn person(id: &str, role: Role, org: Option<&str>) -> Profile {
        Profile {
            user_id: UserId::parse(id).unwrap(),
            name: id.into(),
            email: None,
            role,
            organisation: org.map(str::to_owned),
            colour: None,
            active: true,
        }
    }

    #[test]
    fn clients_start_conversations_with_the_team_and_by_default_their_organisation() {
        let ana = person("ana", Role::Client, Some("Acme"));
        let ivy = person("ivy", Role::Client, Some("Acme"));
        let omar = person("omar", Role::Client, Some("Globex"));
        let ben = person("ben", Role::Team, None);
        let by_default = ContactPolicy::default();
        assert!(by_default.check_start(&ana, &ben, "p[0]".into()).is_ok());
        assert!(by_default.check_start(&ana, &ivy, "p[0]".into()).is_ok());
        let refused = by_default
            .check_start(&ana, &omar, "participantIds[1]".into())
            .unwrap_err();
        assert_eq!(refused.http_status(), 403);
        assert!(refused.to_string().contains("participantIds[1]: omar"));

        let team_only = ContactPolicy {
            client_contacts: ClientContacts::Team,
        };
        assert!(team_only.check_start(&ana, &ivy, "p".into()).is_err());
        let anyone = ContactPolicy {
            client_contacts: ClientContacts::Anyone,
        };
        assert!(anyone.check_start(&ana, &omar, "p".into()).is_ok());
        // The team is never limited.
        assert!(team_only.check_start(&ben, &omar, "p".into()).is_ok());
    }
}
