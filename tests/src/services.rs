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

use messaging_backends::environment as env;

static AWS_ENDPOINT: OnceLock<String> = OnceLock::new();
static REDIS_URL: OnceLock<String> = OnceLock::new();
static REDIS_CLUSTER_URL: OnceLock<String> = OnceLock::new();
static REDIS_TLS: OnceLock<TlsRedis> = OnceLock::new();
static REDIS_TLS_CLUSTER: OnceLock<TlsRedis> = OnceLock::new();

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// The DynamoDB/S3/Management API endpoint (moto unless `AWS_ENDPOINT_URL` says otherwise).
pub fn aws_endpoint() -> &'static str {
    AWS_ENDPOINT.get_or_init(|| env::get("AWS_ENDPOINT_URL").unwrap_or_else(start_moto))
}

/// The Redis to use (a private redis-server unless `REDIS_URL` says otherwise).
pub fn redis_url() -> &'static str {
    REDIS_URL.get_or_init(|| env::get("REDIS_URL").unwrap_or_else(start_redis))
}

/// A Redis in cluster mode (`REDIS_CLUSTER_URL`, or a private one-node cluster holding
/// every slot), to run the registry suite through the cluster protocol.
pub fn redis_cluster_url() -> &'static str {
    REDIS_CLUSTER_URL.get_or_init(|| env::get("REDIS_CLUSTER_URL").unwrap_or_else(start_redis_cluster))
}

/// A Redis reached over TLS, and the CA to trust for it when that is not a public one.
pub struct TlsRedis {
    pub url: String,
    pub ca_pem: Option<Vec<u8>>,
}

/// A Redis that only speaks TLS: `REDIS_TLS_URL` (with `REDIS_TLS_CA_FILE` if its CA is
/// private), or a private redis-server with a certificate from a throwaway CA.
pub fn redis_tls() -> &'static TlsRedis {
    REDIS_TLS.get_or_init(|| {
        tls_redis_from_env("REDIS_TLS_URL", "REDIS_TLS_CA_FILE").unwrap_or_else(|| start_redis_tls(false))
    })
}

/// A one-node cluster that only speaks TLS, cluster bus included: what ElastiCache
/// Serverless is (`REDIS_TLS_CLUSTER_URL`, `REDIS_TLS_CLUSTER_CA_FILE` to use another).
pub fn redis_tls_cluster() -> &'static TlsRedis {
    REDIS_TLS_CLUSTER.get_or_init(|| {
        tls_redis_from_env("REDIS_TLS_CLUSTER_URL", "REDIS_TLS_CLUSTER_CA_FILE")
            .unwrap_or_else(|| start_redis_tls(true))
    })
}

fn tls_redis_from_env(url: &str, ca_file: &str) -> Option<TlsRedis> {
    let url = env::get(url)?;
    let ca_pem = env::get(ca_file).map(|path| std::fs::read(&path).unwrap_or_else(|e| panic!("{ca_file} {path}: {e}")));
    Some(TlsRedis { url, ca_pem })
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

/// A tool from the test venv (`make test` creates it: moto, SAM CLI, cargo-lambda).
pub fn venv_tool(name: &str) -> PathBuf {
    let path = repo_root().join(".venv/bin").join(name);
    assert!(
        path.exists(),
        "{} not found: run `make test` (it creates the venv from infra/test-services/requirements.txt)",
        path.display()
    );
    path
}

fn start_moto() -> String {
    let port = free_port();
    let python = env::get("MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
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
    spawn_for_process_lifetime(redis_server_command(port));
    wait_for_port(port, "redis-server");
    format!("redis://127.0.0.1:{port}")
}

fn start_redis_cluster() -> String {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("redis-cluster-{port}"));
    std::fs::create_dir_all(&dir).expect("cluster dir");
    let mut cmd = redis_server_command(port);
    cmd.args(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"])
        .current_dir(&dir);
    spawn_for_process_lifetime(cmd);
    wait_for_port(port, "redis-server (cluster mode)");
    assign_every_slot(port, &[], &dir);
    format!("redis://127.0.0.1:{port}")
}

fn redis_server_command(port: u16) -> Command {
    assert!(
        Command::new("redis-server").arg("--version").output().is_ok(),
        "redis-server not found: run `make test` (it installs the Debian package) or set REDIS_URL"
    );
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
    ]);
    cmd
}

/// A redis-server with no plain-text port, its certificate (for 127.0.0.1) signed by a
/// CA made for this run, so that the client has to verify a real chain.
fn start_redis_tls(cluster: bool) -> TlsRedis {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("redis-tls-{port}"));
    std::fs::create_dir_all(&dir).expect("tls dir");
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("openssl not found: run `make test` (it installs the Debian package)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=messaging test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("ext file");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-out",
        "server.pem",
        "-extfile",
        "ext.cnf",
    ]);

    let mut cmd = redis_server_command(0);
    cmd.args(["--tls-port", &port.to_string()])
        .args([
            "--tls-cert-file",
            "server.pem",
            "--tls-key-file",
            "server.key",
            "--tls-ca-cert-file",
            "ca.pem",
        ])
        .args(["--tls-auth-clients", "no"])
        .current_dir(&dir);
    if cluster {
        cmd.args(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"])
            .args(["--tls-cluster", "yes"]);
    }
    spawn_for_process_lifetime(cmd);
    wait_for_port(port, "redis-server (TLS)");
    if cluster {
        assign_every_slot(port, &["--tls", "--cacert", "ca.pem"], &dir);
    }
    TlsRedis {
        url: format!("rediss://127.0.0.1:{port}"),
        ca_pem: Some(std::fs::read(dir.join("ca.pem")).expect("ca.pem")),
    }
}

/// Makes a fresh cluster-mode node own all 16384 slots and waits until it says the
/// cluster is up.
fn assign_every_slot(port: u16, cli_args: &[&str], dir: &std::path::Path) {
    let cli = |args: &[&str]| {
        Command::new("redis-cli")
            .current_dir(dir)
            .args(cli_args)
            .args(["-p", &port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli")
    };
    let status = cli(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
    assert!(status.status.success(), "could not assign slots: {status:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if String::from_utf8_lossy(&cli(&["CLUSTER", "INFO"]).stdout).contains("cluster_state:ok") {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the one-node cluster did not come up");
}

/// SDK configuration for the test endpoint. Static test credentials unless the
/// environment provides real ones.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config_at(aws_endpoint()).await
}

/// [`aws_config`] for another endpoint (the fault proxy in front of moto), built the way
/// the composition root builds it for any local endpoint.
pub async fn aws_config_at(endpoint: &str) -> aws_config::SdkConfig {
    messaging_backends::choice::sdk_config(&messaging_backends::AwsTarget::Local {
        endpoint: Some(endpoint.to_owned()),
    })
    .await
}

/// A fresh, unique name fragment for tables, key prefixes and titles.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", ulid::Ulid::generate().to_string().to_lowercase())
}
