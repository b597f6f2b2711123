//! Who is who, at the service level: rosters, names and roles come from the directory
//! (never from a request or a token's claims), who may talk to whom, renames reaching the
//! other members, disabled users locked out, membership changes and each member's own
//! settings (mute, hide). In-memory adapters (`integration_tests::service`).

use integration_tests::service::{ServiceHarness, person, profile_of};
use messaging_core::directory::Profile;
use messaging_core::ids::{ConversationId, UserId};
use messaging_core::model::{Conversation, ConversationStatus, MessageRange, NewMessage, Participant, Role};
use messaging_core::service::{CreateConversation, PeopleSearch, PreferencesChange};
use messaging_core::text::{DisplayName, MessageBody, Title};
use messaging_core::time::Timestamp;
use messaging_core::{Error, Identity};

fn named(id: &str, role: Role, name: &str, organisation: Option<&str>) -> (Identity, Profile) {
    let who = Identity {
        name: name.into(),
        ..person(id, role)
    };
    let profile = Profile {
        organisation: organisation.map(str::to_owned),
        ..profile_of(&who)
    };
    (who, profile)
}

/// Ana (client, Acme), Ava (client, Acme), Omar (client, Globex), Ben (team), Dana (admin).
fn cast(h: &ServiceHarness) -> [Identity; 5] {
    let people = [
        named("u-ana", Role::Client, "Ana Alvarez", Some("Acme Corp")),
        named("u-ava", Role::Client, "Ava Stone", Some("Acme Corp")),
        named("u-omar", Role::Client, "Omar Haddad", Some("Globex")),
        named("u-ben", Role::Team, "Ben Carter", None),
        named("u-dana", Role::Admin, "Dana Reyes", None),
    ];
    for (_, p) in &people {
        h.directory.upsert(p).unwrap();
    }
    people.map(|(who, _)| who)
}

fn create(title: &str, ids: &[&Identity]) -> CreateConversation {
    CreateConversation {
        title: Title::parse(title).unwrap(),
        project_id: None,
        participant_ids: ids.iter().map(|p| p.user_id.clone()).collect(),
    }
}

fn field(e: &Error) -> Option<String> {
    e.field().map(str::to_owned)
}

#[tokio::test]
async fn a_token_claiming_another_name_or_role_gets_the_directory_identity() {
    let h = ServiceHarness::new().await;
    let [ana, ..] = cast(&h);
    let claimed = Identity {
        role: Role::Admin,
        name: "Dana Reyes (Security Admin)".into(),
        ..ana.clone()
    };
    let who = h.svc.authenticate(claimed).await.unwrap();
    assert_eq!((who.role, who.name.as_str()), (Role::Client, "Ana Alvarez"));
    let stranger = person("u-made-up", Role::Team);
    let e = h.svc.authenticate(stranger).await.unwrap_err();
    assert_eq!(e.code(), "unauthenticated");
}

#[tokio::test]
async fn unknown_or_disabled_people_are_refused_by_field_and_nothing_is_created() {
    let h = ServiceHarness::new().await;
    let [ana, _, omar, ben, _] = cast(&h);
    let ghost = person("u-ben-carter-2", Role::Team);
    let e = h
        .svc
        .create_conversation(&ben, create("Spoof", &[&ana, &ghost]))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), field(&e).as_deref()),
        ("validation_failed", Some("participantIds[1]"))
    );
    assert!(e.to_string().contains("u-ben-carter-2"), "{e}");
    h.directory
        .upsert(&Profile {
            active: false,
            ..profile_of(&omar)
        })
        .unwrap();
    let e = h
        .svc
        .create_conversation(&ben, create("Spoof", &[&omar]))
        .await
        .unwrap_err();
    assert_eq!(field(&e).as_deref(), Some("participantIds[0]"));
    let listed = h.svc.list_my_conversations(&ben, None, None, None).await.unwrap();
    assert!(listed.items.is_empty(), "nothing half-created");
}

#[tokio::test]
async fn names_and_roles_in_every_view_come_from_the_directory() {
    let h = ServiceHarness::new().await;
    let [ana, _, _, ben, dana] = cast(&h);
    // Rows as an older version wrote them: names typed by the creator, raw ids, wrong roles.
    let now = Timestamp::now();
    let id = ConversationId::generate();
    let conversation = Conversation {
        id: id.clone(),
        title: Title::parse("Old rows").unwrap(),
        project_id: None,
        status: ConversationStatus::Open,
        created_by: ben.user_id.clone(),
        created_at: now,
        updated_at: now,
        last_seq: 0,
        last_message: None,
    };
    let row = |who: &Identity, name: &str, role| Participant {
        conversation_id: id.clone(),
        user_id: who.user_id.clone(),
        role,
        display_name: name.into(),
        joined_at: now,
        added_by: ben.user_id.clone(),
    };
    let store = &h.svc.ports().store;
    store
        .create_conversation(
            &conversation,
            &[
                row(&ben, "u-ben", Role::Client),
                row(&ana, "Dana Reyes (Security Admin)", Role::Admin),
            ],
        )
        .await
        .unwrap();
    store
        .append_message(NewMessage {
            id: messaging_core::ids::MessageId::generate(),
            conversation_id: id.clone(),
            sender_id: ben.user_id.clone(),
            sender_name: "u-ben".into(),
            body: MessageBody::parse("hello").unwrap(),
            client_message_id: messaging_core::ids::ClientMessageId::parse("c-1").unwrap(),
            created_at: now,
            files: vec![],
            mentions: vec![],
            reply: None,
        })
        .await
        .unwrap();

    let detail = h.svc.conversation_detail(&ana, &id).await.unwrap();
    let roster: Vec<(String, Role, Option<String>)> = detail
        .participants
        .iter()
        .map(|p| (p.name.clone(), p.role, p.organisation.clone()))
        .collect();
    assert!(roster.contains(&("Ben Carter".into(), Role::Team, None)), "{roster:?}");
    assert!(
        roster.contains(&("Ana Alvarez".into(), Role::Client, Some("Acme Corp".into()))),
        "{roster:?}"
    );
    assert_eq!(
        detail.conversation.last_message.as_ref().unwrap().sender_name,
        "Ben Carter"
    );
    let history = h
        .svc
        .list_messages(&ana, &id, MessageRange::Latest { limit: 10 })
        .await
        .unwrap();
    assert_eq!(history.items[0].sender_name, "Ben Carter");
    let list = h.svc.list_my_conversations(&ana, None, None, None).await.unwrap();
    assert_eq!(
        list.items[0].conversation.last_message.as_ref().unwrap().sender_name,
        "Ben Carter"
    );
    let admin_view = h.svc.admin_participants(&dana, &id).await.unwrap();
    assert!(
        admin_view.iter().all(|p| p.name != "u-ben" && p.role != Role::Admin),
        "{admin_view:?}"
    );
}

#[tokio::test]
async fn a_new_name_reaches_the_other_members_and_every_view() {
    let h = ServiceHarness::new().await;
    let [ana, _, omar, ben, _] = cast(&h);
    let conv = h.conversation(&ben, &[&ana]).await;
    h.send(&ana, &conv, "hi").await;
    let (bens, anas_phone, omars) = (h.connect(&ben).await, h.connect(&ana).await, h.connect(&omar).await);

    let renamed = h
        .svc
        .rename_me(&ana, DisplayName::parse("Ana Alvarez-Ruiz").unwrap())
        .await
        .unwrap();
    assert_eq!(renamed.name, "Ana Alvarez-Ruiz");
    for connection in [&bens, &anas_phone] {
        let events = h.pushes.take(connection);
        let update = events
            .iter()
            .find(|e| e["type"] == "user-updated")
            .expect("user-updated");
        assert_eq!(update["data"]["userId"], "u-ana");
        assert_eq!(update["data"]["name"], "Ana Alvarez-Ruiz");
        assert_eq!(update["data"]["initials"], "AA");
        assert_eq!(update["data"]["organisation"], "Acme Corp");
    }
    assert!(
        h.pushes.take(&omars).is_empty(),
        "people who share nothing with her hear nothing"
    );

    let history = h
        .svc
        .list_messages(&ben, &conv, MessageRange::Latest { limit: 10 })
        .await
        .unwrap();
    assert_eq!(
        history.items[0].sender_name, "Ana Alvarez-Ruiz",
        "old messages show the new name"
    );
    let detail = h.svc.conversation_detail(&ben, &conv).await.unwrap();
    assert!(detail.participants.iter().any(|p| p.name == "Ana Alvarez-Ruiz"));
    let list = h.svc.list_my_conversations(&ben, None, None, None).await.unwrap();
    assert_eq!(
        list.items[0].conversation.last_message.as_ref().unwrap().sender_name,
        "Ana Alvarez-Ruiz"
    );
    assert_eq!(h.svc.my_profile(&ana).await.unwrap().name, "Ana Alvarez-Ruiz");
}

#[tokio::test]
async fn a_client_reaches_the_team_and_their_organisation_and_manages_no_one() {
    let h = ServiceHarness::new().await;
    let [ana, ava, omar, ben, dana] = cast(&h);
    let e = h
        .svc
        .create_conversation(&ana, create("Hi", &[&omar]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let e = h
        .svc
        .create_conversation(&ana, create("Hi", &[&ben, &omar]))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("participantIds[1]"), "{e}");
    let conv = h
        .svc
        .create_conversation(&ana, create("Hi", &[&ava, &ben]))
        .await
        .unwrap()
        .conversation
        .id;
    // A client adds and removes no one, even in a conversation she created...
    let e = h
        .svc
        .add_participants(&ana, &conv, vec![dana.user_id.clone()])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let e = h.svc.remove_participant(&ana, &conv, &ava.user_id).await.unwrap_err();
    assert_eq!(e.code(), "forbidden");
    // ...the team does, with anyone active...
    h.svc
        .add_participants(&ben, &conv, vec![omar.user_id.clone()])
        .await
        .unwrap();
    // ...and anyone may leave.
    h.svc.remove_participant(&ava, &conv, &ava.user_id).await.unwrap();
    let names: Vec<String> = h
        .svc
        .conversation_detail(&ben, &conv)
        .await
        .unwrap()
        .participants
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names.len(), 3);
    assert!(names.contains(&"Omar Haddad".to_owned()) && !names.contains(&"Ava Stone".to_owned()));

    let people = |who: Identity| {
        let svc = h.svc.clone();
        async move {
            svc.search_people(&who, &PeopleSearch::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|p| p.user_id.to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(people(ana.clone()).await, vec!["u-ava", "u-ben", "u-dana"]);
    assert_eq!(people(ben.clone()).await.len(), 4, "the team sees every client");
    let found = h
        .svc
        .search_people(
            &ben,
            &PeopleSearch {
                text: Some("HADD".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert!(found.items[0].email.is_some(), "the team sees emails");
    let seen_by_ana = h.svc.search_people(&ana, &PeopleSearch::default()).await.unwrap();
    assert!(
        seen_by_ana.items.iter().all(|p| p.email.is_none()),
        "clients see no one's email"
    );
}

#[tokio::test]
async fn a_removed_member_stops_hearing_the_conversation_at_once() {
    let h = ServiceHarness::new().await;
    let [ana, ava, _, ben, _] = cast(&h);
    let conv = h.conversation(&ben, &[&ana, &ava]).await;
    let (anas, avas) = (h.connect(&ana).await, h.connect(&ava).await);
    h.pushes.take(&anas); // Ava coming online
    h.svc.remove_participant(&ben, &conv, &ava.user_id).await.unwrap();
    let told = h.pushes.take(&avas);
    let update = told
        .iter()
        .find(|e| e["type"] == "conversation-updated")
        .expect("the removed member is told");
    assert_eq!(update["data"]["change"], "participants");
    let still: Vec<&str> = update["data"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["userId"].as_str())
        .collect();
    assert!(!still.contains(&"u-ava"));
    assert_eq!(h.pushes.kinds(&anas), vec!["conversation-updated"]);
    h.send(&ben, &conv, "after").await;
    assert!(h.pushes.take(&avas).is_empty(), "nothing more reaches her");
    assert_eq!(h.pushes.kinds(&anas), vec!["new-message"]);
    let e = h.svc.conversation_detail(&ava, &conv).await.unwrap_err();
    assert_eq!(e.code(), "not_found");
}

#[tokio::test]
async fn disabling_a_user_closes_their_sockets_and_refuses_them() {
    let h = ServiceHarness::new().await;
    let [ana, _, _, ben, dana] = cast(&h);
    let conv = h.conversation(&ben, &[&ana]).await;
    let (laptop, phone) = (h.connect(&ana).await, h.connect(&ana).await);
    let e = h.svc.admin_set_active(&ben, &ana.user_id, false).await.unwrap_err();
    assert_eq!(e.code(), "forbidden", "admins only");
    let off = h.svc.admin_set_active(&dana, &ana.user_id, false).await.unwrap();
    assert!(!off.active);
    h.send(&ben, &conv, "anyone there?").await;
    assert!(
        h.pushes.take(&laptop).is_empty() && h.pushes.take(&phone).is_empty(),
        "both sockets closed"
    );
    let online = h
        .svc
        .ports()
        .registry
        .online_users(std::slice::from_ref(&ana.user_id), Timestamp::now())
        .await
        .unwrap();
    assert!(online.is_empty(), "she is offline");
    assert_eq!(
        h.svc.authenticate(ana.clone()).await.unwrap_err().code(),
        "unauthenticated"
    );
    let listed = h
        .svc
        .admin_list_users(&dana, &PeopleSearch::default(), Some(false))
        .await
        .unwrap();
    assert_eq!(
        listed.items.iter().map(|p| p.user_id.as_str()).collect::<Vec<_>>(),
        vec!["u-ana"]
    );
    let e = h
        .svc
        .admin_set_active(&dana, &UserId::parse("u-nobody").unwrap(), false)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "not_found");
    h.svc.admin_set_active(&dana, &ana.user_id, true).await.unwrap();
    assert_eq!(h.svc.authenticate(ana.clone()).await.unwrap().name, "Ana Alvarez");
}

#[tokio::test]
async fn a_member_mutes_or_hides_a_conversation_for_themselves_only() {
    let h = ServiceHarness::new().await;
    let [ana, _, _, ben, dana] = cast(&h);
    let conv = h.conversation(&ben, &[&ana]).await;
    let other = h.conversation(&ben, &[&ana]).await;
    h.send(&ben, &conv, "one").await;

    let mute = PreferencesChange {
        muted: Some(true),
        hidden: None,
        ..Default::default()
    };
    let (phone, bens_socket) = (h.connect(&ana).await, h.connect(&ben).await);
    h.pushes.take(&phone); // Ben coming online
    let set = h.svc.set_preferences(&ana, &conv, mute).await.unwrap();
    assert!(set.muted && !set.hidden);
    let told = h.pushes.take(&phone);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["type"], "preferences-updated");
    assert_eq!(
        (told[0]["data"]["muted"].as_bool(), told[0]["data"]["hidden"].as_bool()),
        (Some(true), Some(false))
    );
    assert!(
        h.pushes.take(&bens_socket).is_empty(),
        "nobody else hears of her settings"
    );
    let list = h.svc.list_my_conversations(&ana, None, None, None).await.unwrap();
    let item = list.items.iter().find(|c| c.conversation.id == conv).unwrap();
    assert!(item.muted && item.unread_count == 1, "muted, still counted");
    let bens = h.svc.list_my_conversations(&ben, None, None, None).await.unwrap();
    assert!(bens.items.iter().all(|c| !c.muted), "her settings are hers");

    let hide = PreferencesChange {
        muted: None,
        hidden: Some(true),
        ..Default::default()
    };
    let set = h.svc.set_preferences(&ana, &conv, hide).await.unwrap();
    assert!(set.muted && set.hidden, "muting stays when hiding");
    let ids =
        |page: &messaging_core::views::ListPage<messaging_core::views::ConversationSummary>| -> Vec<ConversationId> {
            page.items.iter().map(|c| c.conversation.id.clone()).collect()
        };
    let list = h.svc.list_my_conversations(&ana, None, None, None).await.unwrap();
    assert_eq!(ids(&list), vec![other.clone()], "hidden from her list");
    let searched = h
        .svc
        .list_my_conversations(&ana, Some("harness"), None, None)
        .await
        .unwrap();
    assert!(
        searched.items.iter().any(|c| c.conversation.id == conv && c.hidden),
        "a search still finds it"
    );
    assert!(h.svc.conversation_detail(&ana, &conv).await.unwrap().hidden);

    h.send(&ben, &conv, "two").await;
    let list = h.svc.list_my_conversations(&ana, None, None, None).await.unwrap();
    assert_eq!(
        ids(&list),
        vec![conv.clone(), other.clone()],
        "back on a new message, newest first"
    );
    let item = &list.items[0];
    assert!(item.muted && !item.hidden && item.unread_count == 2);
    h.svc.mark_read(&ana, &conv, None).await.unwrap();
    let detail = h.svc.conversation_detail(&ana, &conv).await.unwrap();
    assert!(detail.muted && detail.last_read_seq == 2, "reading keeps the settings");

    let unmute = PreferencesChange {
        muted: Some(false),
        hidden: None,
        ..Default::default()
    };
    assert!(!h.svc.set_preferences(&ana, &conv, unmute).await.unwrap().muted);
    let e = h.svc.set_preferences(&dana, &conv, mute).await.unwrap_err();
    assert_eq!(e.code(), "forbidden", "an admin reading it is not a member");
    let outsider = person("u-outsider", Role::Client);
    h.enrol(&[&outsider]);
    let e = h.svc.set_preferences(&outsider, &conv, mute).await.unwrap_err();
    assert_eq!(e.code(), "not_found");
}

#[tokio::test]
async fn pages_of_the_list_skip_hidden_conversations_without_gaps_or_repeats() {
    let h = ServiceHarness::new().await;
    let [ana, _, _, ben, _] = cast(&h);
    let mut all = Vec::new();
    for i in 0..7 {
        let conv = h.conversation(&ben, &[&ana]).await;
        h.send(&ben, &conv, &format!("m{i}")).await;
        all.push(conv);
    }
    all.reverse(); // newest first, as the list shows them
    let hide = PreferencesChange {
        muted: None,
        hidden: Some(true),
        ..Default::default()
    };
    for i in [1, 2, 3, 5] {
        h.svc.set_preferences(&ana, &all[i], hide).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = h
            .svc
            .list_my_conversations(&ana, None, cursor.as_ref(), Some(2))
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|c| c.conversation.id.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, vec![all[0].clone(), all[4].clone(), all[6].clone()]);
}
