//! The real servers tests talk to: moto (DynamoDB, S3, Management API) and redis-server.
//!
//! `make test` starts one of each for the whole run and exports `AWS_ENDPOINT_URL` and
//! `REDIS_URL`; point those at LocalStack, another Redis or AWS and the same tests run
//! there. When they are unset (plain `cargo test`), the first test that needs a server
//! starts a private one on a free loopback port; it dies with the test process.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static AWS_ENDPOINT: OnceLock<String> = OnceLock::new();
static REDIS_URL: OnceLock<String> = OnceLock::new();
static REDIS_CLUSTER_URL: OnceLock<String> = OnceLock::new();

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// The DynamoDB/S3/Management API endpoint (moto unless `AWS_ENDPOINT_URL` says otherwise).
pub fn aws_endpoint() -> &'static str {
    AWS_ENDPOINT.get_or_init(|| std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| start_moto()))
}

/// The Redis to use (a private redis-server unless `REDIS_URL` says otherwise).
pub fn redis_url() -> &'static str {
    REDIS_URL.get_or_init(|| std::env::var("REDIS_URL").unwrap_or_else(|_| start_redis()))
}

/// A Redis in cluster mode (`REDIS_CLUSTER_URL`, or a private one-node cluster holding
/// every slot), to run the registry suite through the cluster protocol.
pub fn redis_cluster_url() -> &'static str {
    REDIS_CLUSTER_URL.get_or_init(|| std::env::var("REDIS_CLUSTER_URL").unwrap_or_else(|_| start_redis_cluster()))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not start on port {port}");
}

/// Spawns `cmd` from a thread that lives as long as the process, with the kernel told to
/// kill the child when that thread (so: the process) ends.
fn spawn_for_process_lifetime(mut cmd: Command) {
    use std::os::unix::process::CommandExt;
    let (tx, rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
    std::thread::spawn(move || {
        // SAFETY: prctl is async-signal-safe and touches only the child's own state.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child: std::io::Result<Child> = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn();
        let _ = tx.send(child.map(|_| ()));
        loop {
            std::thread::park();
        }
    });
    rx.recv()
        .expect("spawner thread")
        .expect("could not start a test server");
}

fn start_moto() -> String {
    let port = free_port();
    let python = std::env::var("MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join(".venv/bin/python"));
    assert!(
        python.exists(),
        "{} not found: run `make test` (it creates the venv with moto) or set AWS_ENDPOINT_URL",
        python.display()
    );
    let mut cmd = Command::new(python);
    cmd.arg(repo_root().join("infra/test-services/moto_server.py"))
        .arg("--port")
        .arg(port.to_string())
        .arg("--exit-with-parent");
    spawn_for_process_lifetime(cmd);
    wait_for_port(port, "moto");
    format!("http://127.0.0.1:{port}")
}

fn start_redis() -> String {
    let port = free_port();
    let mut cmd = Command::new("redis-server");
    assert!(
        Command::new("redis-server").arg("--version").output().is_ok(),
        "redis-server not found: run `make test` (it installs the Debian package) or set REDIS_URL"
    );
    cmd.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]);
    spawn_for_process_lifetime(cmd);
    wait_for_port(port, "redis-server");
    format!("redis://127.0.0.1:{port}")
}

fn start_redis_cluster() -> String {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("redis-cluster-{port}"));
    std::fs::create_dir_all(&dir).expect("cluster dir");
    let mut cmd = Command::new("redis-server");
    cmd.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ])
    .args(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"])
    .current_dir(&dir);
    spawn_for_process_lifetime(cmd);
    wait_for_port(port, "redis-server (cluster mode)");
    let status = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "CLUSTER", "ADDSLOTSRANGE", "0", "16383"])
        .output()
        .expect("redis-cli");
    assert!(status.status.success(), "could not assign slots: {status:?}");
    // Wait until the node reports the cluster as up.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let info = Command::new("redis-cli")
            .args(["-p", &port.to_string(), "CLUSTER", "INFO"])
            .output()
            .expect("redis-cli");
        if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
            return format!("redis://127.0.0.1:{port}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the one-node cluster did not come up");
}

/// SDK configuration for the test endpoint. Static test credentials unless the
/// environment provides real ones.
pub async fn aws_config() -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(aws_endpoint())
        .region(aws_config::Region::new(
            std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
        ));
    if std::env::var("AWS_ACCESS_KEY_ID").is_err() {
        loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ));
    }
    loader.load().await
}

/// A fresh, unique name fragment for tables, key prefixes and titles.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", ulid::Ulid::generate().to_string().to_lowercase())
}
