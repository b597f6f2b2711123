//! The user directory conformance suite: every case runs on the local gateway's
//! directory (SQLite), on Cognito (at moto here), and on the cached directory the
//! functions use (Cognito behind the Redis profile cache), so that names, roles,
//! organisations and who is disabled read the same everywhere.

use std::sync::Arc;

use async_trait::async_trait;

use messaging_core::directory::Profile;
use messaging_core::identity::Role;
use messaging_core::ids::UserId;
use messaging_core::ports::UserDirectory;
use messaging_core::text::DisplayName;

use crate::services::unique;

/// Adds people the way the directory's owner does (an admin in the Cognito console, the
/// gateway's seed file): the port itself does not create users.
#[async_trait]
pub trait Seeder: Send + Sync {
    async fn add(&self, p: &Profile);
}

pub struct DirectoryFixture {
    pub directory: Arc<dyn UserDirectory>,
    pub seeder: Arc<dyn Seeder>,
}

pub fn person(name: &str, role: Role, organisation: Option<&str>) -> Profile {
    let id = unique("p");
    Profile {
        user_id: UserId::parse(&id).expect("user id"),
        name: name.into(),
        email: Some(format!("{id}@example.com")),
        role,
        organisation: organisation.map(str::to_owned),
        colour: organisation.map(|_| "#3366cc".to_owned()),
        active: true,
    }
}

async fn seeded(f: &DirectoryFixture, people: &[Profile]) {
    for p in people {
        f.seeder.add(p).await;
    }
}

fn sorted(mut v: Vec<Profile>) -> Vec<Profile> {
    v.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    v
}

pub async fn profiles_carry_every_field_and_roles_from_groups(f: DirectoryFixture) {
    let team = person("Ben Carter", Role::Team, None);
    let admin = person("Dana Reyes", Role::Admin, None);
    let client = person("Ana Alvarez", Role::Client, Some("Acme Corp"));
    seeded(&f, &[team.clone(), admin.clone(), client.clone()]).await;
    let stranger = UserId::parse(&unique("nobody")).unwrap();
    let got = f
        .directory
        .profiles(&[
            team.user_id.clone(),
            admin.user_id.clone(),
            client.user_id.clone(),
            stranger,
        ])
        .await
        .expect("profiles");
    assert_eq!(
        sorted(got),
        sorted(vec![team, admin, client]),
        "unknown ids are left out"
    );
    assert_eq!(f.directory.profiles(&[]).await.expect("none"), vec![]);
}

pub async fn the_listing_has_everyone_disabled_users_too(f: DirectoryFixture) {
    let mut off = person("Former Contractor", Role::Team, None);
    off.active = false;
    let on = person("Cleo Park", Role::Team, None);
    seeded(&f, &[off.clone(), on.clone()]).await;
    let all = f.directory.all_profiles().await.expect("listing");
    assert!(all.contains(&off), "disabled users are listed (admins see them)");
    assert!(all.contains(&on));
    let got = f.directory.profiles(std::slice::from_ref(&off.user_id)).await.unwrap();
    assert_eq!(got, vec![off], "a disabled user is still known, as inactive");
}

pub async fn disabling_and_enabling_show_in_every_read_at_once(f: DirectoryFixture) {
    let p = person("Omar Haddad", Role::Client, Some("Globex"));
    seeded(&f, std::slice::from_ref(&p)).await;
    // Read first, so that a cache has the active profile.
    assert!(f.directory.profiles(std::slice::from_ref(&p.user_id)).await.unwrap()[0].active);
    assert!(
        f.directory
            .all_profiles()
            .await
            .unwrap()
            .iter()
            .any(|q| q.user_id == p.user_id && q.active)
    );

    let off = f.directory.set_active(&p.user_id, false).await.unwrap().expect("known");
    assert!(!off.active);
    assert_eq!(off.name, p.name);
    assert!(!f.directory.profiles(std::slice::from_ref(&p.user_id)).await.unwrap()[0].active);
    assert!(
        f.directory
            .all_profiles()
            .await
            .unwrap()
            .iter()
            .any(|q| q.user_id == p.user_id && !q.active),
        "the listing shows it too"
    );
    let on = f.directory.set_active(&p.user_id, true).await.unwrap().expect("known");
    assert!(on.active);
    assert!(f.directory.profiles(std::slice::from_ref(&p.user_id)).await.unwrap()[0].active);

    let stranger = UserId::parse(&unique("nobody")).unwrap();
    assert_eq!(f.directory.set_active(&stranger, false).await.unwrap(), None);
}

pub async fn a_new_name_shows_in_every_read_and_nothing_else_changes(f: DirectoryFixture) {
    let p = person("Ana Alvarez", Role::Client, Some("Acme Corp"));
    seeded(&f, std::slice::from_ref(&p)).await;
    let _ = f.directory.profiles(std::slice::from_ref(&p.user_id)).await.unwrap();
    let _ = f.directory.all_profiles().await.unwrap();
    let name = DisplayName::parse("Ana Alvarez-Ruiz").unwrap();
    let renamed = f.directory.set_name(&p.user_id, &name).await.unwrap().expect("known");
    let expected = Profile {
        name: "Ana Alvarez-Ruiz".into(),
        ..p.clone()
    };
    assert_eq!(renamed, expected);
    assert_eq!(
        f.directory.profiles(std::slice::from_ref(&p.user_id)).await.unwrap(),
        vec![expected.clone()]
    );
    assert!(f.directory.all_profiles().await.unwrap().contains(&expected));
    let stranger = UserId::parse(&unique("nobody")).unwrap();
    assert_eq!(f.directory.set_name(&stranger, &name).await.unwrap(), None);
}

pub async fn many_people_are_read_in_one_call(f: DirectoryFixture) {
    let people: Vec<Profile> = (0..30)
        .map(|i| {
            person(
                &format!("Person {i:02}"),
                if i % 3 == 0 { Role::Team } else { Role::Client },
                None,
            )
        })
        .collect();
    seeded(&f, &people).await;
    let ids: Vec<UserId> = people.iter().map(|p| p.user_id.clone()).collect();
    assert_eq!(
        sorted(f.directory.profiles(&ids).await.unwrap()),
        sorted(people.clone())
    );
    let all = f.directory.all_profiles().await.unwrap();
    assert!(
        people.iter().all(|p| all.contains(p)),
        "the listing pages through everyone"
    );
}

/// One `#[tokio::test]` per case for a directory adapter; `$fixture` is an async fn
/// returning a [`DirectoryFixture`].
#[macro_export]
macro_rules! directory_conformance_tests {
    ($fixture:path) => {
        $crate::directory_conformance_tests!(@cases $fixture;
            profiles_carry_every_field_and_roles_from_groups,
            the_listing_has_everyone_disabled_users_too,
            disabling_and_enabling_show_in_every_read_at_once,
            a_new_name_shows_in_every_read_and_nothing_else_changes,
            many_people_are_read_in_one_call,
        );
    };
    (@cases $fixture:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::conformance::directory::$case($fixture().await).await;
            }
        )+
    };
}
