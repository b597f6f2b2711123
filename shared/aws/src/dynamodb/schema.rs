//! The six tables: names, keys and indexes. `template.yaml` declares the same; a test
//! compares the two so that they cannot drift.
//!
//! | table | key | indexes |
//! |---|---|---|
//! | conversations | `id` | GSI `by-created` (`kind`, `created_key`) INCLUDE status, title_lc, member_ids |
//! | messages | `conversation_id`, `seq` (N) | LSI `by-id` (`id`), LSI `by-client-key` (`client_key`), KEYS_ONLY; GSI `by-thread` (`thread_key`, `seq`) ALL, replies only; stream NEW_IMAGE (the search indexer) |
//! | conversation_participants | `conversation_id`, `user_id` | GSI `by-user` (`user_id`, `conversation_id`) KEYS_ONLY |
//! | message_files | `id` | TTL `expires_ttl` (pending uploads only) |
//! | message_read_receipts | `conversation_id`, `user_id` | — |
//! | message_reports | `message_id`, `reporter_id` | GSI `by-id` (`id`) KEYS_ONLY, GSI `by-status` (`status`, `queue_key`) ALL, GSI `queue` (`kind`, `queue_key`) ALL |
//! | user_notifications | `user_id`, `kind` (`settings`, `push#<id>`) | — |

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, LocalSecondaryIndex, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};

/// Table names, from a prefix (one deployment or test run per prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub conversations: String,
    pub messages: String,
    pub participants: String,
    pub files: String,
    pub receipts: String,
    pub reports: String,
    pub notifications: String,
}

impl TableNames {
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            conversations: format!("{prefix}conversations"),
            messages: format!("{prefix}messages"),
            participants: format!("{prefix}conversation_participants"),
            files: format!("{prefix}message_files"),
            receipts: format!("{prefix}message_read_receipts"),
            reports: format!("{prefix}message_reports"),
            notifications: format!("{prefix}user_notifications"),
        }
    }
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("key fields set")
}

fn attr(name: &str, kind: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .expect("attribute fields set")
}

fn projection(kind: ProjectionType, include: &[&str]) -> Projection {
    let mut p = Projection::builder().projection_type(kind);
    for a in include {
        p = p.non_key_attributes(*a);
    }
    p.build()
}

fn gsi(name: &str, pk: &str, sk: Option<&str>, proj: Projection) -> GlobalSecondaryIndex {
    let mut b = GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash))
        .projection(proj);
    if let Some(sk) = sk {
        b = b.key_schema(key(sk, KeyType::Range));
    }
    b.build().expect("index fields set")
}

fn lsi(name: &str, pk: &str, sk: &str) -> LocalSecondaryIndex {
    LocalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash))
        .key_schema(key(sk, KeyType::Range))
        .projection(projection(ProjectionType::KeysOnly, &[]))
        .build()
        .expect("index fields set")
}

/// Creates the six tables if they do not exist (tests, and the local gateway pointed at
/// moto or LocalStack). In AWS the template creates them.
pub async fn create_tables(client: &Client, names: &TableNames) -> Result<(), aws_sdk_dynamodb::Error> {
    use ScalarAttributeType::{N, S};
    // Every page: ListTables answers at most 100 names at a time, and an account (or a
    // shared moto) often holds more.
    let mut existing = Vec::new();
    let mut pages = client.list_tables().into_paginator().send();
    while let Some(page) = pages.next().await {
        existing.extend(page?.table_names.unwrap_or_default());
    }
    let requests = [
        client
            .create_table()
            .table_name(&names.conversations)
            .key_schema(key("id", KeyType::Hash))
            .attribute_definitions(attr("id", S))
            .attribute_definitions(attr("kind", S))
            .attribute_definitions(attr("created_key", S))
            .global_secondary_indexes(gsi(
                "by-created",
                "kind",
                Some("created_key"),
                projection(ProjectionType::Include, &["status", "title_lc", "member_ids"]),
            )),
        client
            .create_table()
            .table_name(&names.messages)
            .key_schema(key("conversation_id", KeyType::Hash))
            .key_schema(key("seq", KeyType::Range))
            .attribute_definitions(attr("conversation_id", S))
            .attribute_definitions(attr("seq", N))
            .attribute_definitions(attr("id", S))
            .attribute_definitions(attr("client_key", S))
            .attribute_definitions(attr("thread_key", S))
            .local_secondary_indexes(lsi("by-id", "conversation_id", "id"))
            .local_secondary_indexes(lsi("by-client-key", "conversation_id", "client_key"))
            // Threads: only replies carry `thread_key` (a sparse index).
            .global_secondary_indexes(gsi(
                "by-thread",
                "thread_key",
                Some("seq"),
                projection(ProjectionType::All, &[]),
            ))
            // The search indexer reads each change's new image (stream.rs).
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewImage)
                    .build()
                    .expect("stream fields set"),
            ),
        client
            .create_table()
            .table_name(&names.participants)
            .key_schema(key("conversation_id", KeyType::Hash))
            .key_schema(key("user_id", KeyType::Range))
            .attribute_definitions(attr("conversation_id", S))
            .attribute_definitions(attr("user_id", S))
            .global_secondary_indexes(gsi(
                "by-user",
                "user_id",
                Some("conversation_id"),
                projection(ProjectionType::KeysOnly, &[]),
            )),
        client
            .create_table()
            .table_name(&names.files)
            .key_schema(key("id", KeyType::Hash))
            .attribute_definitions(attr("id", S)),
        client
            .create_table()
            .table_name(&names.receipts)
            .key_schema(key("conversation_id", KeyType::Hash))
            .key_schema(key("user_id", KeyType::Range))
            .attribute_definitions(attr("conversation_id", S))
            .attribute_definitions(attr("user_id", S)),
        client
            .create_table()
            .table_name(&names.reports)
            .key_schema(key("message_id", KeyType::Hash))
            .key_schema(key("reporter_id", KeyType::Range))
            .attribute_definitions(attr("message_id", S))
            .attribute_definitions(attr("reporter_id", S))
            .attribute_definitions(attr("id", S))
            .attribute_definitions(attr("status", S))
            .attribute_definitions(attr("kind", S))
            .attribute_definitions(attr("queue_key", S))
            .global_secondary_indexes(gsi("by-id", "id", None, projection(ProjectionType::KeysOnly, &[])))
            .global_secondary_indexes(gsi(
                "by-status",
                "status",
                Some("queue_key"),
                projection(ProjectionType::All, &[]),
            ))
            .global_secondary_indexes(gsi(
                "queue",
                "kind",
                Some("queue_key"),
                projection(ProjectionType::All, &[]),
            )),
        client
            .create_table()
            .table_name(&names.notifications)
            .key_schema(key("user_id", KeyType::Hash))
            .key_schema(key("kind", KeyType::Range))
            .attribute_definitions(attr("user_id", S))
            .attribute_definitions(attr("kind", S)),
    ];

    for request in requests {
        let name = request.get_table_name().clone().unwrap_or_default();
        if existing.contains(&name) {
            continue;
        }
        request.billing_mode(BillingMode::PayPerRequest).send().await?;
    }
    if !existing.contains(&names.files) {
        client
            .update_time_to_live()
            .table_name(&names.files)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name("expires_ttl")
                    .build()
                    .expect("ttl fields set"),
            )
            .send()
            .await?;
    }
    Ok(())
}
