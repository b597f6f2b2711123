//! A function under `cargo lambda watch`, started from the workspace root as a Rust
//! Lambda developer starts it, with the environment SAM would give it from
//! `events/env.json` (its endpoints pointed at the test servers instead of the Docker
//! host), answering sample events from `events/` sent with `cargo lambda invoke`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use integration_tests::cognito::TestPool;
use integration_tests::conformance::store::conversation_with;
use integration_tests::services::{aws_config, aws_endpoint, free_port, redis_url, repo_root, unique, venv_tool};
use integration_tests::template::sam_local_environments;
use messaging_aws::{DynamoStore, TableNames, create_tables};
use messaging_backends::environment::VARIABLES;
use messaging_core::directory::Profile;
use messaging_core::ids::{ConversationId, UserId};
use messaging_core::model::{Conversation, ConversationStatus, Participant, Role};
use messaging_core::ports::Store;
use messaging_core::text::Title;
use messaging_core::time::Timestamp;

/// The fixture conversation the sample events refer to (events/generate.py).
const CONVERSATION: &str = "01J9Z3K7Q5R8T2V4W6X8Y0A1B2";

/// `cargo lambda watch` and everything it started (cargo, the function), stopped together.
struct Watch {
    child: Child,
    port: u16,
}

impl Drop for Watch {
    fn drop(&mut self) {
        // SAFETY: signals the process group this test created; no memory is touched.
        unsafe {
            libc::killpg(self.child.id() as i32, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

fn start_watch(env_file: &Path, log: &Path) -> Watch {
    use std::os::unix::process::CommandExt;
    let port = free_port();
    let log = std::fs::File::create(log).expect("log file");
    let child = Command::new(venv_tool("cargo-lambda"))
        .args(["lambda", "watch", "--invoke-address", "127.0.0.1", "--invoke-port"])
        .arg(port.to_string())
        .arg("--env-file")
        .arg(env_file)
        .current_dir(repo_root())
        .process_group(0)
        .stdout(Stdio::from(log.try_clone().expect("log")))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start cargo lambda watch");
    let watch = Watch { child, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "cargo lambda watch did not listen on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    watch
}

/// `cargo lambda invoke <function> --data-file <event>`: the function's JSON answer.
fn invoke(watch: &Watch, function: &str, event: &str, log: &Path) -> serde_json::Value {
    let out = Command::new(venv_tool("cargo-lambda"))
        .args([
            "lambda",
            "invoke",
            function,
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
        ])
        .arg(watch.port.to_string())
        .arg("--data-file")
        .arg(repo_root().join("events").join(event))
        .args(["--output-format", "json"])
        .current_dir(repo_root())
        .output()
        .expect("cargo lambda invoke");
    assert!(
        out.status.success(),
        "invoke {event}: {}\n--- watch log ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(log).unwrap_or_default()
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("invoke {event} answered {}: {e}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_under_cargo_lambda_watch_answers_sample_events_with_the_sam_environment() {
    // What SAM would pass to MessagingApiFunction with events/env.json...
    let env_json = repo_root().join("events/env.json");
    let sam = sam_local_environments(&["--env-vars", env_json.to_str().unwrap()]);
    let mut env: BTreeMap<String, String> = sam["MessagingApiFunction"]
        .iter()
        .filter(|(k, _)| VARIABLES.iter().any(|v| v.name == k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // ... with the Docker host's servers replaced by this run's (no gateway runs here: a
    // push would fail, and these events push nothing), and tables of our own.
    for value in env.values_mut() {
        for (docker_host, here) in [
            ("http://host.docker.internal:4566", aws_endpoint()),
            ("redis://host.docker.internal:6379", redis_url()),
            ("http://host.docker.internal:8080", "http://127.0.0.1:9"),
        ] {
            if let Some(rest) = value.strip_prefix(docker_host) {
                *value = format!("{here}{rest}");
            }
        }
    }
    let tables = TableNames::with_prefix(&format!("{}-", unique("watch")));
    // The user pool the events' client is in (the functions ask it who she is).
    let pool = TestPool::create().await;
    pool.add(&Profile {
        user_id: UserId::parse("u-client-ana").unwrap(),
        name: "Ana Alvarez".into(),
        email: Some("ana@acme.example".into()),
        role: Role::Client,
        organisation: Some("Acme Corp".into()),
        colour: None,
        active: true,
    })
    .await;
    for (var, value) in [
        ("CONVERSATIONS_TABLE", tables.conversations.clone()),
        ("MESSAGES_TABLE", tables.messages.clone()),
        ("PARTICIPANTS_TABLE", tables.participants.clone()),
        ("FILES_TABLE", tables.files.clone()),
        ("RECEIPTS_TABLE", tables.receipts.clone()),
        ("REPORTS_TABLE", tables.reports.clone()),
        ("REDIS_KEY_PREFIX", format!("{}:", unique("watch"))),
        ("USER_POOL_ID", pool.pool_id.clone()),
    ] {
        assert!(env.contains_key(var), "SAM's environment has {var}");
        env.insert(var.into(), value);
    }
    for (var, value) in &env {
        assert!(
            !value.contains("host.docker.internal"),
            "{var} still points at the Docker host"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("watch.env");
    // Quoted: values may hold spaces and `<>` (MAIL_FROM), which a bare dotenv value may not.
    let lines: String = env
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"\n", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    std::fs::write(&env_file, lines).unwrap();

    // The fixture conversation, with the events' client in it.
    let client = aws_sdk_dynamodb::Client::new(&aws_config().await);
    create_tables(&client, &tables).await.expect("tables");
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(DynamoStore::new(client, tables));
    let now = Timestamp::now();
    let ana = UserId::parse("u-client-ana").unwrap();
    let fixture = Conversation {
        id: ConversationId::parse(CONVERSATION).unwrap(),
        title: Title::parse("Fixture conversation").unwrap(),
        project_id: None,
        status: ConversationStatus::Open,
        created_by: ana.clone(),
        created_at: now,
        updated_at: now,
        last_seq: 0,
        last_message: None,
    };
    let member = Participant {
        conversation_id: fixture.id.clone(),
        user_id: ana.clone(),
        role: Role::Client,
        display_name: "Ana Alvarez".into(),
        joined_at: now,
        added_by: ana.clone(),
    };
    store.create_conversation(&fixture, &[member]).await.expect("fixture");
    // A conversation Ana is not in: the function must not show it.
    conversation_with(&store, &[&UserId::parse(&unique("other")).unwrap()], "Not Ana's").await;

    let log = dir.path().join("watch.log");
    let watch = start_watch(&env_file, &log);
    let me = invoke(&watch, "messaging-api", "messaging-api/get-me.json", &log);
    assert_eq!(me["statusCode"], 200, "{me}");
    let body: serde_json::Value = serde_json::from_str(me["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["userId"], "u-client-ana");
    assert_eq!(
        body["organisation"], "Acme Corp",
        "the profile comes from the user pool: {body}"
    );

    let got = invoke(&watch, "messaging-api", "messaging-api/get-conversation.json", &log);
    assert_eq!(got["statusCode"], 200, "{got}");
    let body: serde_json::Value = serde_json::from_str(got["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["title"], "Fixture conversation", "{body}");

    let listed = invoke(&watch, "messaging-api", "messaging-api/list-conversations.json", &log);
    assert_eq!(listed["statusCode"], 200, "{listed}");
    let body: serde_json::Value = serde_json::from_str(listed["body"].as_str().unwrap()).unwrap();
    let titles: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["title"].as_str())
        .collect();
    assert_eq!(titles, vec!["Fixture conversation"]);
}
