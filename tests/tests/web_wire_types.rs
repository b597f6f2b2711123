//! The web client's wire types come from the Rust ones: `web/src/api/wire.ts` is the
//! TypeScript declaration of every view, event and action the server sends or takes
//! (ts-rs, with integers as `number`). A Rust field that changes, changes it; the web
//! client's type check (`vue-tsc`, part of `make test`) then fails wherever the client
//! still uses the old shape. This test fails when the committed file is out of date;
//! `WRITE_DOCS=1` rewrites it (`make web-types`).
//!
//! The same declarations, and the request bodies the web client declares itself in
//! `web/src/types.ts`, are compared with the API's contract (`openapi.yaml`): field by
//! field, required or optional, nullable or not, down to literal values, so that the
//! document users integrate against says what the server sends.

use integration_tests::services::repo_root;
use integration_tests::wire_shape::{Direction, Shape, TsModule, differences, from_openapi};
use messaging_backends::environment;
use serde_yaml::Value;
use ts_rs::{Config, TS};

use messaging_core::cursor::Cursor;
use messaging_core::directory::ProfileView;
use messaging_core::events::{ClientAction, ConversationChange, ServerEvent};
use messaging_core::identity::{Identity, Role};
use messaging_core::ids::*;
use messaging_core::model::{ConversationStatus, FileMeta, ReportStatus, RevisionKind};
use messaging_core::notify::{NotificationSettingsView, NotifyLevel, QuietHoursView};
use messaging_core::ports::SignedRequest;
use messaging_core::reactions::Reaction;
use messaging_core::search::SnippetPart;
use messaging_core::service::{
    AttachmentRequest, PinnedMessages, PushSubscriptionView, SearchResultView, ThreadPage, Ticket, Unsubscribed,
    UploadGrant, UploadSlot,
};
use messaging_core::time::Timestamp;
use messaging_core::views::*;

fn declarations() -> String {
    let cfg = Config::new().with_large_int("number");
    let decls = [
        // Scalars and enums.
        Timestamp::decl(&cfg),
        Cursor::decl(&cfg),
        UserId::decl(&cfg),
        ConversationId::decl(&cfg),
        MessageId::decl(&cfg),
        FileId::decl(&cfg),
        ReportId::decl(&cfg),
        ProjectId::decl(&cfg),
        ClientMessageId::decl(&cfg),
        Role::decl(&cfg),
        ConversationStatus::decl(&cfg),
        ReportStatus::decl(&cfg),
        RevisionKind::decl(&cfg),
        ConversationChange::decl(&cfg),
        // REST views.
        Identity::decl(&cfg),
        ProfileView::decl(&cfg),
        PreferencesView::decl(&cfg),
        PreviewView::decl(&cfg),
        ConversationView::decl(&cfg),
        ConversationSummary::decl(&cfg),
        ParticipantView::decl(&cfg),
        ConversationDetail::decl(&cfg),
        ListPage::<()>::decl(&cfg),
        FileMeta::decl(&cfg),
        MessageView::decl(&cfg),
        MessagePage::decl(&cfg),
        ReadReceiptView::decl(&cfg),
        AttachmentRequest::decl(&cfg),
        SignedRequest::decl(&cfg),
        UploadSlot::decl(&cfg),
        UploadGrant::decl(&cfg),
        Ticket::decl(&cfg),
        ReportView::decl(&cfg),
        RevisionView::decl(&cfg),
        MessageAudit::decl(&cfg),
        // Reactions and pins.
        Reaction::decl(&cfg),
        PinnedMessages::decl(&cfg),
        QuoteView::decl(&cfg),
        ThreadPage::decl(&cfg),
        // Search.
        SnippetPart::decl(&cfg),
        SearchResultView::decl(&cfg),
        // Notifications.
        NotifyLevel::decl(&cfg),
        QuietHoursView::decl(&cfg),
        NotificationSettingsView::decl(&cfg),
        PushSubscriptionView::decl(&cfg),
        Unsubscribed::decl(&cfg),
        // WebSocket frames and actions.
        ServerEvent::decl(&cfg),
        ClientAction::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust wire types by tests/tests/web_wire_types.rs (ts-rs); do not edit.\n\
         // Regenerate: `make web-types` (WRITE_DOCS=1 cargo test -p integration-tests --test web_wire_types).\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(decl.trim());
        out.push('\n');
    }
    out
}

#[test]
fn the_web_clients_wire_types_are_the_rust_ones() {
    let path = repo_root().join("web/src/api/wire.ts");
    let generated = declarations();
    if environment::get("WRITE_DOCS").as_deref() == Some("1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "web/src/api/wire.ts is not what the Rust types say: run `make web-types`, then fix the web client where its type check fails"
    );
}

fn openapi() -> Value {
    serde_yaml::from_str(messaging_http::OPENAPI_YAML).expect("openapi.yaml is YAML")
}

/// Contract schemas whose TypeScript type has another name.
const RENAMED: &[(&str, &str)] = &[
    ("ConversationSummaryPage", "ListPage<ConversationSummary>"),
    ("ConversationViewPage", "ListPage<ConversationView>"),
    ("ReportPage", "ListPage<ReportView>"),
    ("ProfilePage", "ListPage<ProfileView>"),
    ("SearchResultPage", "ListPage<SearchResultView>"),
];

fn direction_of(schema: &str) -> Direction {
    if schema.ends_with("Request") || schema == "ClientAction" {
        Direction::ToServer
    } else {
        Direction::ToClient
    }
}

#[test]
fn the_openapi_document_describes_the_web_clients_wire_types() {
    let root = repo_root();
    let mut web = TsModule::default();
    for (module, file) in [("wire", "web/src/api/wire.ts"), ("types", "web/src/types.ts")] {
        let source = std::fs::read_to_string(root.join(file)).unwrap();
        web.add(module, &source).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    let doc = openapi();
    let schemas = doc["components"]["schemas"].as_mapping().expect("components.schemas");
    // (schema, TypeScript type): the wire types, and the request bodies of types.ts.
    let mut checked: Vec<(&str, &str, &str)> = RENAMED.iter().map(|(schema, ts)| (*schema, "wire", *ts)).collect();
    for name in web.names("wire").filter(|n| schemas.contains_key(*n)) {
        checked.push((name, "wire", name));
    }
    for name in web
        .names("types")
        .filter(|n| n.ends_with("Request") && schemas.contains_key(*n))
    {
        checked.push((name, "types", name));
    }

    let mut problems = Vec::new();
    for &(schema, module, ts) in &checked {
        let api = from_openapi(&doc["components"]["schemas"][schema], &doc)
            .unwrap_or_else(|e| panic!("openapi.yaml {schema}: {e}"));
        let client = web
            .shape_of(module, ts)
            .unwrap_or_else(|e| panic!("TypeScript {ts}: {e}"));
        problems.extend(differences(schema, &client, &api, direction_of(schema)));
    }

    // Every type the server sends has a schema: a new view cannot skip the contract.
    for name in web.names("wire") {
        let is_scalar = web.shape_of("wire", name).ok() == Some(Shape::String);
        let covered = schemas.contains_key(name) || RENAMED.iter().any(|(_, t)| t.starts_with(&format!("{name}<")));
        if !is_scalar && !covered {
            problems.push(format!("{name}: a wire type with no schema in openapi.yaml"));
        }
    }

    // Every schema a REST response carries is one of them.
    let checked_names: Vec<&str> = checked.iter().map(|(schema, _, _)| *schema).collect();
    for (path, item) in doc["paths"].as_mapping().expect("paths") {
        for (method, op) in item.as_mapping().into_iter().flatten() {
            for (status, response) in op["responses"].as_mapping().into_iter().flatten() {
                let status = status.as_str().unwrap_or_default();
                let Some(r) = response["content"]["application/json"]["schema"]["$ref"].as_str() else {
                    continue;
                };
                let name = r.trim_start_matches("#/components/schemas/");
                if status.starts_with('2') && !checked_names.contains(&name) {
                    problems.push(format!(
                        "{} {} {status}: answers {name}, which the web client's types do not declare",
                        method.as_str().unwrap_or_default(),
                        path.as_str().unwrap_or_default()
                    ));
                }
            }
        }
    }

    assert!(
        problems.is_empty(),
        "openapi.yaml and the web client's wire types disagree ({} checked):\n  {}",
        checked.len(),
        problems.join("\n  ")
    );
}

/// The web client names files with the server's table of extensions per type (what it
/// shows beside a name, and what a download is saved as): the two must not drift.
#[test]
fn the_web_client_and_the_server_agree_on_file_extensions() {
    let source = std::fs::read_to_string(repo_root().join("web/src/utils/files.ts")).expect("files.ts");
    let start = source.find("const EXTENSIONS").expect("the EXTENSIONS table");
    let end = start + source[start..].find("\n}").expect("its end");
    let mut web: Vec<(String, Vec<String>)> = Vec::new();
    for line in source[start..end].lines().skip(1) {
        let Some((kind, list)) = line.trim().split_once(": [") else {
            continue;
        };
        let kind = kind.trim_matches('\'').to_owned();
        let exts = list
            .trim_end_matches(',')
            .trim_end_matches(']')
            .split(',')
            .map(|e| e.trim().trim_matches('\'').to_owned())
            .collect();
        web.push((kind, exts));
    }
    let server: Vec<(String, Vec<String>)> = messaging_core::service::EXTENSIONS
        .iter()
        .map(|(t, e)| ((*t).to_owned(), e.iter().map(|x| (*x).to_owned()).collect()))
        .collect();
    assert_eq!(web, server);
}
