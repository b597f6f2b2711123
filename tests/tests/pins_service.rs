//! Pinned messages at the service level: who may pin, who sees the list, what every
//! member hears, and that a deleted message leaves the pins.

use integration_tests::service::{ServiceHarness, person};
use messaging_core::model::{ConversationStatus, Role};
use messaging_core::service::PinnedMessages;

fn bodies(p: &PinnedMessages) -> Vec<String> {
    p.items.iter().map(|m| m.body.clone().unwrap_or_default()).collect()
}

#[tokio::test]
async fn the_team_pins_members_see_the_list_and_hear_every_change() {
    let h = ServiceHarness::new().await;
    let (ana, ben) = (person("u-ana", Role::Client), person("u-ben", Role::Team));
    let conv = h.conversation(&ben, &[&ana]).await;
    let first = h.send(&ana, &conv, "The brief").await;
    let second = h.send(&ben, &conv, "The schedule").await;
    let anas = h.connect(&ana).await;

    let pinned = h.svc.pin_message(&ben, &conv, &second.id, true).await.unwrap();
    assert_eq!(bodies(&pinned), ["The schedule"]);
    let pinned = h.svc.pin_message(&ben, &conv, &first.id, true).await.unwrap();
    assert_eq!(bodies(&pinned), ["The brief", "The schedule"], "oldest first");
    let events: Vec<_> = h
        .pushes
        .take(&anas)
        .into_iter()
        .filter(|e| e["type"] == "pins-updated")
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[1]["data"]["pinnedSeqs"],
        serde_json::json!([first.seq, second.seq])
    );
    assert_eq!(events[1]["data"]["seq"], first.seq);
    assert_eq!(events[1]["data"]["pinned"], true);
    assert_eq!(events[1]["data"]["userId"], "u-ben");

    // Pinning again tells nobody; the client reads the list, and may not pin.
    h.svc.pin_message(&ben, &conv, &first.id, true).await.unwrap();
    assert!(h.pushes.take(&anas).is_empty());
    assert_eq!(bodies(&h.svc.pinned_messages(&ana, &conv).await.unwrap()).len(), 2);
    let refused = h.svc.pin_message(&ana, &conv, &first.id, false).await.unwrap_err();
    assert_eq!(refused.http_status(), 403, "{refused}");

    // A deleted message leaves the pins, and everyone hears it.
    h.svc.delete_message(&ana, &conv, &first.id).await.unwrap();
    assert_eq!(
        bodies(&h.svc.pinned_messages(&ana, &conv).await.unwrap()),
        ["The schedule"]
    );
    let left = h
        .pushes
        .take(&anas)
        .into_iter()
        .find(|e| e["type"] == "pins-updated")
        .expect("pins-updated on delete");
    assert_eq!(left["data"]["pinnedSeqs"], serde_json::json!([second.seq]));
    assert_eq!(left["data"]["pinned"], false);
    // A deleted message cannot be pinned again.
    let deleted = h.svc.pin_message(&ben, &conv, &first.id, true).await.unwrap_err();
    assert_eq!(deleted.http_status(), 409);

    // Unpinning.
    let after = h.svc.pin_message(&ben, &conv, &second.id, false).await.unwrap();
    assert!(after.items.is_empty());
}

#[tokio::test]
async fn outsiders_learn_nothing_admins_oversee_and_closed_conversations_keep_their_pins() {
    let h = ServiceHarness::new().await;
    let (ana, ben, omar, dana) = (
        person("u-ana", Role::Client),
        person("u-ben", Role::Team),
        person("u-omar", Role::Team),
        person("u-dana", Role::Admin),
    );
    h.enrol(&[&omar, &dana]);
    let conv = h.conversation(&ben, &[&ana]).await;
    let m = h.send(&ana, &conv, "Decision: ship on Friday").await;

    // A team member of another conversation: not found, as if it did not exist.
    let outsider = h.svc.pin_message(&omar, &conv, &m.id, true).await.unwrap_err();
    assert_eq!(outsider.http_status(), 404);
    assert_eq!(
        h.svc.pinned_messages(&omar, &conv).await.unwrap_err().http_status(),
        404
    );
    // An admin oversees every conversation.
    let pinned = h.svc.pin_message(&dana, &conv, &m.id, true).await.unwrap();
    assert_eq!(pinned.items.len(), 1);

    h.svc
        .admin_set_status(&dana, &conv, ConversationStatus::Closed)
        .await
        .unwrap();
    let closed = h.svc.pin_message(&ben, &conv, &m.id, false).await.unwrap_err();
    assert_eq!(closed.http_status(), 409);
    assert_eq!(h.svc.pinned_messages(&ana, &conv).await.unwrap().items.len(), 1);
}
