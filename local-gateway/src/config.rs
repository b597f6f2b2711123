//! What the gateway runs on, from flags and the environment.
//!
//! | setting | flag | environment | default |
//! |---|---|---|---|
//! | listen address | `--bind`, `--port` | `GATEWAY_BIND` | `127.0.0.1:8080` |
//! | data folder (SQLite file, blobs, dev secret) | `--data-dir` | `DATA_DIR` | `.dev-data` |
//! | store | `--store embedded|dynamodb` | `AWS_ENDPOINT_URL` set → dynamodb | embedded |
//! | registry | | `REDIS_URL` set → Redis | in-process |
//! | attachments | | with dynamodb: S3 bucket `ATTACHMENTS_BUCKET` | local files |
//! | web client folder | `--web-dir` | `WEB_DIR` | `web/dist` |
//! | pushes | `--pusher in-process|management-api` | | in-process (see [`PusherMode`]) |
//! | demo data / dev login | `--no-seed`, `--no-dev-login` | | on |
//! | dev login on a non-loopback `--bind` (refused otherwise) | `--allow-remote-dev-login` | | off |
//! | people beside the demo users (a JSON array of `{userId, name, role, email?, organisation?, colour?, active?}`) | `--users FILE` | | none |
//! | whom clients may start conversations with | | `CLIENT_CONTACTS` | `organisation` |
//! | the keys `@connections` requests must be signed with (SigV4); with the placeholders only this machine may call it | | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` | `local` / `local` |
//! | extra time before a WebSocket opens after `$connect` (pushes get 410 meanwhile) | `--connect-delay-ms` | | 0 |

use std::net::SocketAddr;
use std::path::PathBuf;

use messaging_aws::TableNames;
use messaging_backends::environment as env;
use messaging_backends::{
    AwsTarget, BackendChoice, BlobChoice, DirectoryChoice, MailerChoice, PushChoice, PusherChoice, RegistryChoice,
    SchedulerChoice, SearchChoice, VapidKey,
};
use messaging_core::Settings;

use crate::BoxError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    Embedded,
    DynamoDb,
}

impl std::fmt::Display for StoreChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StoreChoice::Embedded => "embedded (SQLite)",
            StoreChoice::DynamoDb => "DynamoDB",
        })
    }
}

/// How the functions' pushes reach the sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PusherMode {
    /// Straight into the gateway's connection table: the embedded adapter, and the fast
    /// path (a push costs microseconds instead of an HTTP request).
    InProcess,
    /// Through the functions' real `aws-sdk-apigatewaymanagement` client and the gateway's
    /// `@connections` API, exactly as in AWS (the Redis-backed tests run this way).
    ManagementApi,
}

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub bind: SocketAddr,
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub store: StoreChoice,
    /// DynamoDB/S3 endpoint (LocalStack, moto); `None` means AWS itself.
    pub aws_endpoint: Option<String>,
    /// Redis for the registry; none: an in-process one.
    pub redis: Option<messaging_redis::RedisOptions>,
    pub table_prefix: String,
    pub bucket: String,
    pub web_dir: Option<PathBuf>,
    pub pusher: PusherMode,
    /// Where the functions' management client sends pushes (`PusherMode::ManagementApi`):
    /// the gateway's own `@connections` unless set (tests put a fault injector between).
    pub management_endpoint: Option<String>,
    pub seed: bool,
    pub dev_login: bool,
    /// Serve `/dev/login` even when bound to a non-loopback address.
    pub allow_remote_dev_login: bool,
    /// People to add to the local directory at start (`--users FILE`).
    pub users_file: Option<PathBuf>,
    pub jwt_secret: String,
    /// Lifetime of the OIDC provider's access and ID tokens (`--oidc-token-ttl`, or
    /// `OIDC_TOKEN_TTL`, in seconds): short in tests, to see the web client renew.
    pub oidc_token_ttl: std::time::Duration,
    /// The OIDC provider behaves as Cognito where Cognito differs (`--oidc-like-cognito`;
    /// see `oidc::ProviderConfig::like_cognito`).
    pub oidc_like_cognito: bool,
    pub settings: Settings,
    /// How long a new WebSocket stays unopened after its `$connect` handler returned, to
    /// reproduce a slow `$connect` (pushes to it get 410 meanwhile, as in AWS).
    pub connect_delay: std::time::Duration,
    /// How long the socket task of an accepted WebSocket waits before it starts, to
    /// reproduce a busy gateway (tests): pushes made meanwhile must queue, not get 410.
    pub open_delay: std::time::Duration,
    /// What the VAPID key and the unsubscribe-link key derive from: generated once per
    /// data folder (`notify-secret`), so subscriptions and links survive restarts.
    pub notify_secret: Vec<u8>,
}

/// An hour, as Cognito's default.
pub const DEFAULT_OIDC_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

impl GatewayConfig {
    /// Defaults for a data folder: embedded everything, port 0 (tests pick a free port).
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            data_dir: data_dir.into(),
            store: StoreChoice::Embedded,
            aws_endpoint: None,
            redis: None,
            table_prefix: "local-".into(),
            bucket: "messaging-attachments-local".into(),
            web_dir: None,
            pusher: PusherMode::InProcess,
            management_endpoint: None,
            seed: false,
            dev_login: true,
            allow_remote_dev_login: false,
            users_file: None,
            jwt_secret: "local-gateway-test-secret-0123456789".into(),
            oidc_token_ttl: DEFAULT_OIDC_TOKEN_TTL,
            oidc_like_cognito: false,
            settings: Settings::default(),
            connect_delay: std::time::Duration::ZERO,
            open_delay: std::time::Duration::ZERO,
            notify_secret: b"local-gateway-test-notify-secret".to_vec(),
        }
    }

    /// From the command line and the environment (`make dev`).
    pub fn from_env_and_args(args: &[String]) -> Result<Self, BoxError> {
        let flag = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .cloned()
        };
        let has = |name: &str| args.iter().any(|a| a == name);
        let data_dir = PathBuf::from(
            flag("--data-dir")
                .or_else(|| env::get("DATA_DIR"))
                .unwrap_or_else(|| ".dev-data".into()),
        );
        let notify_secret = data_secret(&data_dir, "notify-secret")?.into_bytes();
        let mut bind: SocketAddr = flag("--bind")
            .or_else(|| env::get("GATEWAY_BIND"))
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()?;
        if let Some(port) = flag("--port") {
            bind.set_port(port.parse()?);
        }
        let store = match flag("--store").as_deref() {
            Some("embedded") => StoreChoice::Embedded,
            Some("dynamodb") => StoreChoice::DynamoDb,
            Some(other) => return Err(format!("--store must be embedded or dynamodb, not {other}").into()),
            None if env::get("AWS_ENDPOINT_URL").is_some() => StoreChoice::DynamoDb,
            None => StoreChoice::Embedded,
        };
        let pusher = match flag("--pusher").as_deref() {
            None | Some("in-process") => PusherMode::InProcess,
            Some("management-api") => PusherMode::ManagementApi,
            Some(other) => return Err(format!("--pusher must be management-api or in-process, not {other}").into()),
        };
        let web_dir = flag("--web-dir")
            .or_else(|| env::get("WEB_DIR"))
            .map(PathBuf::from)
            .or_else(|| {
                let default = PathBuf::from("web/dist");
                default.exists().then_some(default)
            });
        Ok(Self {
            bind,
            public_url: env::get("PUBLIC_URL"),
            jwt_secret: dev_secret(&data_dir)?,
            data_dir,
            store,
            aws_endpoint: env::get("AWS_ENDPOINT_URL"),
            redis: messaging_backends::choice::redis_options()?,
            table_prefix: env::get("TABLE_PREFIX").unwrap_or_else(|| "local-".into()),
            bucket: env::get("ATTACHMENTS_BUCKET").unwrap_or_else(|| "messaging-attachments-local".into()),
            web_dir,
            pusher,
            management_endpoint: None,
            seed: !has("--no-seed"),
            dev_login: !has("--no-dev-login"),
            allow_remote_dev_login: has("--allow-remote-dev-login"),
            users_file: flag("--users").map(PathBuf::from),
            oidc_token_ttl: match flag("--oidc-token-ttl").or_else(|| env::get("OIDC_TOKEN_TTL")) {
                Some(secs) => match secs.parse::<u64>() {
                    Ok(s) if (2..=86_400).contains(&s) => std::time::Duration::from_secs(s),
                    _ => return Err(format!("--oidc-token-ttl must be 2 to 86400 seconds, not {secs}").into()),
                },
                None => DEFAULT_OIDC_TOKEN_TTL,
            },
            oidc_like_cognito: has("--oidc-like-cognito"),
            settings: messaging_backends::settings_from_env()?,
            connect_delay: std::time::Duration::from_millis(match flag("--connect-delay-ms") {
                Some(ms) => ms.parse()?,
                None => 0,
            }),
            open_delay: std::time::Duration::ZERO,
            notify_secret,
        })
    }
}

/// The HS256 secret for dev tokens: `JWT_SECRET`, or one generated once per data folder
/// (so tokens survive restarts but no two checkouts share one).
fn dev_secret(data_dir: &std::path::Path) -> Result<String, BoxError> {
    if let Some(secret) = env::get("JWT_SECRET") {
        return Ok(secret);
    }
    data_secret(data_dir, "jwt-secret")
}

/// A random secret kept in the data folder's file `name`, made on first use.
fn data_secret(data_dir: &std::path::Path, name: &str) -> Result<String, BoxError> {
    let path = data_dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path)
        && existing.trim().len() >= 32
    {
        return Ok(existing.trim().to_owned());
    }
    std::fs::create_dir_all(data_dir)?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&path, &secret)?;
    Ok(secret)
}

/// The search index, in the data folder.
pub const SEARCH_INDEX_FILE: &str = "search.sqlite3";

impl GatewayConfig {
    /// The adapters this configuration names (the pusher and scheduler are the
    /// gateway's own, see [`crate::start`]), for the one composition root.
    pub fn backend_choice(&self, public_url: &str, pusher: PusherChoice) -> BackendChoice {
        let dynamodb = self.store == StoreChoice::DynamoDb;
        BackendChoice {
            aws: AwsTarget::Local {
                endpoint: self.aws_endpoint.clone(),
            },
            store: if dynamodb {
                messaging_backends::StoreChoice::DynamoDb {
                    tables: TableNames::with_prefix(&self.table_prefix),
                    create_tables: true,
                }
            } else {
                messaging_backends::StoreChoice::Sqlite {
                    path: self.data_dir.join("messaging.sqlite3"),
                }
            },
            registry: match &self.redis {
                Some(options) => RegistryChoice::Redis(options.clone()),
                None => RegistryChoice::Memory,
            },
            pusher,
            blobs: if dynamodb {
                BlobChoice::S3 {
                    bucket: self.bucket.clone(),
                    create_bucket: true,
                }
            } else {
                BlobChoice::Local {
                    dir: self.data_dir.join("blobs"),
                    public_url: public_url.to_owned(),
                    secret: self.jwt_secret.as_bytes().to_vec(),
                }
            },
            scheduler: SchedulerChoice::Local,
            directory: DirectoryChoice::Local {
                path: self.data_dir.join("directory.sqlite3"),
            },
            push: PushChoice::WebPush {
                key: VapidKey::derive(&self.notify_secret),
                contact: messaging_backends::push_contact(),
            },
            mailer: MailerChoice::Outbox {
                dir: self.data_dir.join("outbox"),
            },
            search: SearchChoice::File {
                path: self.data_dir.join(SEARCH_INDEX_FILE),
            },
        }
    }
}

impl GatewayConfig {
    /// Refuses what would expose the gateway to its network by accident: `/dev/login`
    /// lets anyone sign in as anyone, so on an address other machines can reach it needs
    /// `--allow-remote-dev-login` (or `--no-dev-login`). Checked before binding.
    pub fn check_exposure(&self) -> Result<(), String> {
        if self.bind.ip().is_loopback() || !self.dev_login || self.allow_remote_dev_login {
            return Ok(());
        }
        Err(format!(
            "refusing to serve /dev/login on {}, which other machines can reach: anyone could sign in as \
             anyone. Bind to 127.0.0.1, pass --no-dev-login, or --allow-remote-dev-login on a network you trust",
            self.bind
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_login_is_refused_on_a_reachable_address_unless_asked_for() {
        let mut c = GatewayConfig::embedded(".");
        c.bind = "127.0.0.1:8080".parse().unwrap();
        assert!(c.check_exposure().is_ok());
        c.bind = "[::1]:8080".parse().unwrap();
        assert!(c.check_exposure().is_ok());
        c.bind = "0.0.0.0:8080".parse().unwrap();
        let refused = c.check_exposure().unwrap_err();
        assert!(
            refused.contains("/dev/login") && refused.contains("--allow-remote-dev-login"),
            "{refused}"
        );
        c.allow_remote_dev_login = true;
        assert!(c.check_exposure().is_ok());
        c.allow_remote_dev_login = false;
        c.dev_login = false;
        assert!(c.check_exposure().is_ok(), "no dev login, nothing to refuse");
    }
}
