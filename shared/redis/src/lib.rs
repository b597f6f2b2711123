//! The registry on Redis (ElastiCache / Valkey): tickets, connections, presence, typing,
//! the membership cache and delivery order, all with TTLs so that lost events heal.
//!
//! Works with a single node (`redis://`, `rediss://`) and with cluster mode
//! (`REDIS_CLUSTER=true`, as ElastiCache Serverless requires). Over TLS the server's
//! certificate is checked against the public web PKI (ElastiCache's certificates chain to
//! it), or against `REDIS_CA_FILE` for a Redis with a private CA. Keys that a script or a
//! multi-key step touches together share a hash tag (`{u:<user>}`), so every multi-key
//! operation stays in one slot.
//!
//! # Keys (under a configurable prefix)
//! | key | value | ttl |
//! |---|---|---|
//! | `ticket:<t>` | identity JSON | ticket TTL; GETDEL makes it single-use |
//! | `conn:<connection>` | connection JSON | expiry + 1 h (so `$disconnect` still finds its owner) |
//! | `{u:<user>}:conns` | ZSET connection → expiry (ms) | newest expiry + 1 h |
//! | `{u:<user>}:online` | "1" while others were told the user is online | 1 day, refreshed |
//! | `{u:<user>}:check` | a presence check is scheduled | 2 × presence TTL |
//! | `typing:<conv>:<user>` | typing deadline (ms) | deadline + 60 s |
//! | `members:<conv>` | member ids JSON | member cache TTL |
//! | `delivered:<conv>` | newest pushed seq | 1 day |

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{AsyncCommands, Cmd, Pipeline, RedisFuture, Script, Value};

use messaging_core::directory::Profile;
use messaging_core::identity::Identity;
use messaging_core::ids::{ConnectionId, ConversationId, UserId};
use messaging_core::limits::{Limit, RateDecision};
use messaging_core::ports::*;
use messaging_core::time::Timestamp;

/// A single-node or a cluster connection; both multiplex and reconnect by themselves.
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

fn err(e: impl std::fmt::Display) -> RegistryError {
    RegistryError(e.to_string())
}

/// How long connection records outlive their expiry, so that a late `$disconnect` or
/// heartbeat still finds whose connection it was.
const GRACE_MS: i64 = 3_600_000;
const ONLINE_FLAG_MS: i64 = 86_400_000;

/// Registers a connection and reports whether the user just came online.
const ADD_SCRIPT: &str = r#"
-- KEYS: conns zset, online flag. ARGV: now, connection, expires, grace, flag ttl
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('PEXPIREAT', KEYS[1], tonumber(ARGV[3]) + tonumber(ARGV[4]))
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[5]) then
  return 1
end
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 0
"#;

/// Drops expired connections (and optionally one named); reports offline and the next expiry.
const SWEEP_SCRIPT: &str = r#"
-- KEYS: conns zset, online flag. ARGV: now, connection to remove ('' for none)
if ARGV[2] ~= '' then redis.call('ZREM', KEYS[1], ARGV[2]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then
  return {redis.call('DEL', KEYS[2]), -1}
end
return {0, tonumber(first[2])}
"#;

const EXPIRE_TYPING_SCRIPT: &str = r#"
-- KEYS: typing key. ARGV: now. Returns -2 not typing, -1 expired (claimed), else the deadline.
local v = redis.call('GET', KEYS[1])
if not v then return -2 end
if tonumber(v) > tonumber(ARGV[1]) then return tonumber(v) end
redis.call('DEL', KEYS[1])
return -1
"#;

const MARK_DELIVERED_SCRIPT: &str = r#"
local d = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > d then redis.call('SET', KEYS[1], ARGV[1], 'EX', 86400) end
return 1
"#;

/// One try at a rate-limit allowance: the generic cell rate algorithm of
/// `messaging_core::limits::gcra`, atomically. KEYS[1] holds the theoretical arrival time
/// (ms) and expires when the allowance is full again; ARGV: now, interval, tolerance (ms).
/// Returns -1 when allowed, else the milliseconds to wait.
const RATE_SCRIPT: &str = r#"
local now = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
local allowed_from = tat - tonumber(ARGV[3])
if now < allowed_from then return allowed_from - now end
local next_tat = tat + tonumber(ARGV[2])
redis.call('SET', KEYS[1], next_tat, 'PX', next_tat - now)
return -1
"#;

/// How to reach Redis: see [`RedisOptions::from_vars`] for the variables.
#[derive(Clone, Debug)]
pub struct RedisOptions {
    /// `redis://host:port` or `rediss://host:port` (TLS).
    pub url: String,
    /// Speak the cluster protocol (ElastiCache Serverless is always a cluster).
    pub cluster: bool,
    /// PEM of the CA that signed the server's certificate, when that is not a public one.
    pub ca_pem: Option<Vec<u8>>,
    /// Prepended to every key, so that several deployments can share one Redis.
    pub prefix: String,
}

impl RedisOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            cluster: false,
            ca_pem: None,
            prefix: "msg:".into(),
        }
    }

    /// From `REDIS_URL` (none: `Ok(None)`), `REDIS_CLUSTER` (`true`/`1`), `REDIS_CA_FILE`
    /// (a PEM file) and `REDIS_KEY_PREFIX` (default `msg:`), looked up by `var` (the
    /// composition root passes its declared environment).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, RegistryError> {
        let Some(url) = var("REDIS_URL") else {
            return Ok(None);
        };
        let ca_pem = match var("REDIS_CA_FILE") {
            Some(path) => Some(
                std::fs::read(&path).map_err(|e| RegistryError(format!("REDIS_CA_FILE {path} cannot be read: {e}")))?,
            ),
            None => None,
        };
        Ok(Some(Self {
            url,
            cluster: var("REDIS_CLUSTER").is_some_and(|v| v == "true" || v == "1"),
            ca_pem,
            prefix: var("REDIS_KEY_PREFIX").unwrap_or_else(|| "msg:".into()),
        }))
    }
}

pub struct RedisRegistry {
    conn: Conn,
    prefix: String,
    add: Script,
    sweep: Script,
    expire_typing: Script,
    mark_delivered: Script,
    rate: Script,
}

impl RedisRegistry {
    /// Connects as `options` say. Fails at once when Redis cannot be reached or its TLS
    /// certificate is not trusted, rather than on the first request.
    pub async fn connect(options: &RedisOptions) -> Result<Self, RegistryError> {
        let certs = options.ca_pem.clone().map(|root| redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(root),
        });
        let conn = if options.cluster {
            let mut builder = redis::cluster::ClusterClientBuilder::new(vec![options.url.as_str()]);
            if let Some(certs) = certs {
                builder = builder.certs(certs);
            }
            Conn::Cluster(
                builder
                    .build()
                    .map_err(err)?
                    .get_async_connection()
                    .await
                    .map_err(err)?,
            )
        } else {
            let client = match certs {
                Some(certs) => redis::Client::build_with_tls(options.url.as_str(), certs),
                None => redis::Client::open(options.url.as_str()),
            }
            .map_err(err)?;
            // A few quick retries, not the default ~12 s of them: a function's init should
            // fail fast on a wrong URL or certificate and be retried by the next invocation.
            let config = redis::aio::ConnectionManagerConfig::new()
                .set_number_of_retries(3)
                .set_max_delay(Duration::from_secs(1));
            Conn::Single(ConnectionManager::new_with_config(client, config).await.map_err(err)?)
        };
        Ok(Self {
            conn,
            prefix: options.prefix.clone(),
            add: Script::new(ADD_SCRIPT),
            sweep: Script::new(SWEEP_SCRIPT),
            expire_typing: Script::new(EXPIRE_TYPING_SCRIPT),
            mark_delivered: Script::new(MARK_DELIVERED_SCRIPT),
            rate: Script::new(RATE_SCRIPT),
        })
    }

    fn conn(&self) -> Conn {
        self.conn.clone()
    }

    fn key(&self, suffix: String) -> String {
        format!("{}{suffix}", self.prefix)
    }

    /// One of a user's keys (`conns`, `online`, `check`); the hash tag keeps them in one slot.
    fn user_key(&self, user: &UserId, part: &str) -> String {
        format!("{}{{u:{user}}}:{part}", self.prefix)
    }

    async fn register(
        &self,
        info: &ConnectionInfo,
        now: Timestamp,
        keep_existing_info: bool,
    ) -> RegistryResult<PresenceChange> {
        let mut conn = self.conn();
        let user = &info.identity.user_id;
        let info_key = self.key(format!("conn:{}", info.connection_id));
        let ttl_ms = (info.expires_at.as_millis() - now.as_millis()).max(1) + GRACE_MS;
        // A heartbeat keeps the original connect time; a swept connection is re-registered.
        let mut stored = info.clone();
        if keep_existing_info {
            let existing: Option<String> = conn.get(&info_key).await.map_err(err)?;
            if let Some(raw) = existing {
                stored = serde_json::from_str(&raw).map_err(err)?;
                stored.expires_at = info.expires_at;
                stored.opening_until = info.opening_until;
            }
        }
        let json = serde_json::to_string(&stored).map_err(err)?;
        let _: () = conn.pset_ex(&info_key, json, ttl_ms as u64).await.map_err(err)?;
        let (conns, online) = (self.user_key(user, "conns"), self.user_key(user, "online"));
        let came_online: i64 = self
            .add
            .key(conns)
            .key(online)
            .arg(now.as_millis())
            .arg(info.connection_id.as_str())
            .arg(info.expires_at.as_millis())
            .arg(GRACE_MS)
            .arg(ONLINE_FLAG_MS)
            .invoke_async(&mut conn)
            .await
            .map_err(err)?;
        Ok(if came_online == 1 {
            PresenceChange::CameOnline
        } else {
            PresenceChange::Unchanged
        })
    }

    async fn sweep_keys(&self, user: &UserId, now: Timestamp, remove: &str) -> RegistryResult<Sweep> {
        let (conns, online) = (self.user_key(user, "conns"), self.user_key(user, "online"));
        let (went_offline, next): (i64, i64) = self
            .sweep
            .key(conns)
            .key(online)
            .arg(now.as_millis())
            .arg(remove)
            .invoke_async(&mut self.conn())
            .await
            .map_err(err)?;
        Ok(Sweep {
            change: if went_offline == 1 {
                PresenceChange::WentOffline
            } else {
                PresenceChange::Unchanged
            },
            next_expiry: (next >= 0).then(|| Timestamp::from_millis(next)),
        })
    }
}

#[async_trait]
impl TicketStore for RedisRegistry {
    async fn put_ticket(&self, ticket: &str, identity: &Identity, ttl: Duration) -> RegistryResult<()> {
        let json = serde_json::to_string(identity).map_err(err)?;
        let key = self.key(format!("ticket:{ticket}"));
        let _: () = self
            .conn()
            .pset_ex(key, json, ttl.as_millis() as u64)
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn take_ticket(&self, ticket: &str) -> RegistryResult<Option<Identity>> {
        let key = self.key(format!("ticket:{ticket}"));
        let raw: Option<String> = self.conn().get_del(key).await.map_err(err)?;
        raw.map(|r| serde_json::from_str(&r).map_err(err)).transpose()
    }
}

#[async_trait]
impl ConnectionRegistry for RedisRegistry {
    async fn add_connection(&self, info: &ConnectionInfo, now: Timestamp) -> RegistryResult<PresenceChange> {
        self.register(info, now, false).await
    }

    async fn touch_connection(&self, info: &ConnectionInfo, now: Timestamp) -> RegistryResult<PresenceChange> {
        self.register(info, now, true).await
    }

    async fn remove_connection(
        &self,
        id: &ConnectionId,
        now: Timestamp,
    ) -> RegistryResult<Option<(UserId, PresenceChange)>> {
        let info_key = self.key(format!("conn:{id}"));
        let raw: Option<String> = self.conn().get_del(info_key).await.map_err(err)?;
        let Some(raw) = raw else { return Ok(None) };
        let info: ConnectionInfo = serde_json::from_str(&raw).map_err(err)?;
        let user = info.identity.user_id;
        let sweep = self.sweep_keys(&user, now, id.as_str()).await?;
        Ok(Some((user, sweep.change)))
    }

    async fn get_connection(&self, id: &ConnectionId) -> RegistryResult<Option<ConnectionInfo>> {
        let raw: Option<String> = self.conn().get(self.key(format!("conn:{id}"))).await.map_err(err)?;
        raw.map(|r| serde_json::from_str(&r).map_err(err)).transpose()
    }

    async fn connections_of(&self, users: &[UserId], now: Timestamp) -> RegistryResult<Vec<(UserId, ConnectionId)>> {
        // One command per user, sent concurrently: the multiplexed connection pipelines
        // them on the wire, and unlike a pipeline they may live in different cluster slots.
        let lookups = users.iter().map(|user| {
            let mut conn = self.conn();
            let conns = self.user_key(user, "conns");
            async move {
                let ids: Vec<String> = redis::cmd("ZRANGE")
                    .arg(conns)
                    .arg(format!("({}", now.as_millis()))
                    .arg("+inf")
                    .arg("BYSCORE")
                    .query_async(&mut conn)
                    .await?;
                Ok::<_, redis::RedisError>(ids)
            }
        });
        let lists = futures::future::try_join_all(lookups).await.map_err(err)?;
        let mut out = Vec::new();
        for (user, ids) in users.iter().zip(lists) {
            out.extend(
                ids.iter()
                    .filter_map(|c| ConnectionId::parse(c).ok())
                    .map(|c| (user.clone(), c)),
            );
        }
        Ok(out)
    }

    async fn online_users(&self, users: &[UserId], now: Timestamp) -> RegistryResult<Vec<UserId>> {
        let counts = users.iter().map(|user| {
            let mut conn = self.conn();
            let conns = self.user_key(user, "conns");
            async move {
                conn.zcount::<_, _, _, i64>(conns, format!("({}", now.as_millis()), "+inf")
                    .await
            }
        });
        let counts = futures::future::try_join_all(counts).await.map_err(err)?;
        Ok(users
            .iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(u, _)| u.clone())
            .collect())
    }

    async fn sweep_user(&self, user: &UserId, now: Timestamp) -> RegistryResult<Sweep> {
        self.sweep_keys(user, now, "").await
    }

    async fn claim_presence_check(&self, user: &UserId, ttl: Duration) -> RegistryResult<bool> {
        let check = self.user_key(user, "check");
        let set: Option<String> = redis::cmd("SET")
            .arg(check)
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .query_async(&mut self.conn())
            .await
            .map_err(err)?;
        Ok(set.is_some())
    }

    async fn release_presence_check(&self, user: &UserId) -> RegistryResult<()> {
        let check = self.user_key(user, "check");
        let _: i64 = self.conn().del(check).await.map_err(err)?;
        Ok(())
    }
}

#[async_trait]
impl TypingRegistry for RedisRegistry {
    async fn set_typing(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        until: Timestamp,
    ) -> RegistryResult<TypingChange> {
        let key = self.key(format!("typing:{conversation}:{user}"));
        let ttl = (until.as_millis() - Timestamp::now().as_millis()).max(0) + 60_000;
        let previous: Option<String> = redis::cmd("SET")
            .arg(key)
            .arg(until.as_millis())
            .arg("PX")
            .arg(ttl)
            .arg("GET")
            .query_async(&mut self.conn())
            .await
            .map_err(err)?;
        Ok(if previous.is_some() {
            TypingChange::Refreshed
        } else {
            TypingChange::Started
        })
    }

    async fn clear_typing(&self, conversation: &ConversationId, user: &UserId) -> RegistryResult<bool> {
        let removed: i64 = self
            .conn()
            .del(self.key(format!("typing:{conversation}:{user}")))
            .await
            .map_err(err)?;
        Ok(removed == 1)
    }

    async fn expire_typing(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        now: Timestamp,
    ) -> RegistryResult<TypingExpiry> {
        let result: i64 = self
            .expire_typing
            .key(self.key(format!("typing:{conversation}:{user}")))
            .arg(now.as_millis())
            .invoke_async(&mut self.conn())
            .await
            .map_err(err)?;
        Ok(match result {
            -2 => TypingExpiry::NotTyping,
            -1 => TypingExpiry::Expired,
            until => TypingExpiry::StillTyping {
                until: Timestamp::from_millis(until),
            },
        })
    }
}

#[async_trait]
impl MembershipCache for RedisRegistry {
    async fn cached_members(&self, conversation: &ConversationId) -> RegistryResult<Option<Vec<UserId>>> {
        let raw: Option<String> = self
            .conn()
            .get(self.key(format!("members:{conversation}")))
            .await
            .map_err(err)?;
        raw.map(|r| serde_json::from_str(&r).map_err(err)).transpose()
    }

    async fn cache_members(
        &self,
        conversation: &ConversationId,
        members: &[UserId],
        ttl: Duration,
    ) -> RegistryResult<()> {
        let json = serde_json::to_string(members).map_err(err)?;
        let key = self.key(format!("members:{conversation}"));
        let _: () = self
            .conn()
            .pset_ex(key, json, ttl.as_millis() as u64)
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn invalidate_members(&self, conversation: &ConversationId) -> RegistryResult<()> {
        let _: i64 = self
            .conn()
            .del(self.key(format!("members:{conversation}")))
            .await
            .map_err(err)?;
        Ok(())
    }
}

/// One key per claim (`claim:<key>`): `SET NX PX`, released with `DEL`.
#[async_trait]
impl Claims for RedisRegistry {
    async fn claim(&self, key: &str, ttl: Duration) -> RegistryResult<bool> {
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(format!("claim:{key}")))
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg((ttl.as_millis() as u64).max(1))
            .query_async(&mut self.conn())
            .await
            .map_err(err)?;
        Ok(set.is_some())
    }

    async fn release(&self, key: &str) -> RegistryResult<()> {
        let _: i64 = self.conn().del(self.key(format!("claim:{key}"))).await.map_err(err)?;
        Ok(())
    }
}

/// Profiles one key each (`profile:{user}`; concurrent GETs, which the multiplexed
/// connection pipelines: MGET would cross cluster slots), the listing one key.
#[async_trait]
impl RateLimiter for RedisRegistry {
    async fn acquire(&self, key: &str, limit: Limit, now: Timestamp) -> RegistryResult<RateDecision> {
        let wait: i64 = self
            .rate
            .key(self.key(format!("rate:{key}")))
            .arg(now.as_millis())
            .arg(limit.interval_ms())
            .arg(limit.tolerance_ms())
            .invoke_async(&mut self.conn())
            .await
            .map_err(err)?;
        Ok(if wait < 0 {
            RateDecision::Allowed
        } else {
            RateDecision::Limited {
                retry_after: Duration::from_millis(wait as u64),
            }
        })
    }
}

#[async_trait]
impl ProfileCache for RedisRegistry {
    async fn cached_profiles(&self, ids: &[UserId]) -> RegistryResult<Vec<Profile>> {
        let reads = ids.iter().map(|id| {
            let mut conn = self.conn();
            let key = self.key(format!("profile:{id}"));
            async move { conn.get::<_, Option<String>>(key).await }
        });
        let mut out = Vec::new();
        for raw in futures::future::join_all(reads).await {
            if let Some(raw) = raw.map_err(err)? {
                out.push(serde_json::from_str(&raw).map_err(err)?);
            }
        }
        Ok(out)
    }

    async fn cache_profiles(&self, profiles: &[Profile], ttl: Duration) -> RegistryResult<()> {
        let writes = profiles.iter().map(|p| {
            let mut conn = self.conn();
            let key = self.key(format!("profile:{}", p.user_id));
            let json = serde_json::to_string(p);
            async move {
                let json = json.map_err(err)?;
                conn.pset_ex::<_, _, ()>(key, json, ttl.as_millis() as u64)
                    .await
                    .map_err(err)
            }
        });
        for result in futures::future::join_all(writes).await {
            result?;
        }
        Ok(())
    }

    async fn cached_listing(&self) -> RegistryResult<Option<Vec<Profile>>> {
        let raw: Option<String> = self.conn().get(self.key("directory".to_string())).await.map_err(err)?;
        raw.map(|r| serde_json::from_str(&r).map_err(err)).transpose()
    }

    async fn cache_listing(&self, profiles: &[Profile], ttl: Duration) -> RegistryResult<()> {
        let json = serde_json::to_string(profiles).map_err(err)?;
        let _: () = self
            .conn()
            .pset_ex(self.key("directory".to_string()), json, ttl.as_millis() as u64)
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn forget_listing(&self) -> RegistryResult<()> {
        let _: i64 = self.conn().del(self.key("directory".to_string())).await.map_err(err)?;
        Ok(())
    }
}

#[async_trait]
impl DeliveryOrder for RedisRegistry {
    async fn wait_turn(&self, conversation: &ConversationId, seq: u64, timeout: Duration) -> RegistryResult<bool> {
        let key = self.key(format!("delivered:{conversation}"));
        let deadline = tokio::time::Instant::now() + timeout;
        let mut conn = self.conn();
        loop {
            let delivered: Option<u64> = conn.get(&key).await.map_err(err)?;
            match delivered {
                None => return Ok(true),
                Some(d) if d + 1 >= seq => return Ok(true),
                Some(_) if tokio::time::Instant::now() >= deadline => return Ok(false),
                Some(_) => tokio::time::sleep(Duration::from_millis(2)).await,
            }
        }
    }

    async fn mark_delivered(&self, conversation: &ConversationId, seq: u64) -> RegistryResult<()> {
        let _: i64 = self
            .mark_delivered
            .key(self.key(format!("delivered:{conversation}")))
            .arg(seq)
            .invoke_async(&mut self.conn())
            .await
            .map_err(err)?;
        Ok(())
    }
}
