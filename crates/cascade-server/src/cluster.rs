//! Several nodes as one server: the connections to NATS and Redis, and the messages the
//! nodes send each other.
//!
//! Without `--nats-url` and `--redis-url` there is no `Cluster` and nothing here runs: the
//! embedded server keeps everything in its own memory. With NATS, every node publishes on
//! one subject (`<prefix>.bus`) what its writes made stale in the others' memory (`Forget`),
//! the home timeline pushes of its fan-out, and the status events of its jobs (which the
//! others index for search and render for their streams); every node
//! subscribes and applies what the others sent. A node applies its own changes directly
//! and skips its own messages, so a lone node behaves as the embedded server. With Redis,
//! the rate-limit counters are shared (`throttle::shared_hit`).
//!
//! NATS core (not JetStream) is enough here: a message is a hint that memory is stale or
//! that a live event happened, never the only copy of anything. A node cut off from NATS
//! catches up when it is back, and tells the others to catch up on what it sent into the
//! cut (`Message::Resync`): each forgets its caches and reads again what the store holds.
//! The store stays the truth. This module does no HTTP.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cascade_core::coalesce::Decision;
use cascade_core::id::MAX_NODES;
use cascade_core::Id;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::app::stream::Channel;
use crate::config::Config;

/// How long a node waits for NATS or Redis at start before it gives up with an error.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a Redis command or reconnection may take before the caller goes on without
/// Redis (a healthy one answers in well under a millisecond).
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);

/// The shared services this node reaches, and its name among the nodes.
pub struct Cluster {
    /// A random name, so a node can tell its own messages from the others'.
    pub node: String,
    prefix: String,
    outbox: Option<mpsc::UnboundedSender<Outgoing>>,
    inbox: Mutex<Option<async_nats::Subscriber>>,
    nats: Option<async_nats::Client>,
    redis: Option<redis::aio::ConnectionManager>,
    /// When this node lost NATS, until it is back and has caught up.
    gap: Arc<Gap>,
    /// This node's number among the live nodes (`0..MAX_NODES`), leased in Redis, which
    /// its ids carry so that no two nodes make the same id (`IdGenerator::numbered`).
    pub number: Arc<AtomicI64>,
    /// The last mark this node sent, and the last one it heard from each other node.
    marks: std::sync::atomic::AtomicU64,
    heard: Mutex<std::collections::HashMap<String, u64>>,
}

/// A time this node was cut off from NATS, and the signal that it is back.
#[derive(Default)]
struct Gap {
    /// Milliseconds since the epoch when the connection was lost; 0 while connected.
    since: AtomicI64,
    back: tokio::sync::Notify,
    /// How many times the connection was lost, and when last: what this node had just
    /// published may have gone down with the connection.
    cuts: std::sync::atomic::AtomicU64,
    last_cut: AtomicI64,
}

/// What one node tells the others.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Message {
    /// Memory another node's write made stale.
    Forget(Forget),
    /// The sender's numbered mark: a node that heard it has applied every message the
    /// sender sent before it (`Cluster::mark`, `Cluster::heard`).
    Mark(u64),
    /// A status was written (or its row changed): forget its records, push it into its
    /// author's home and recent posts, as `AppState::status_written` does.
    Written(Written),
    /// Fan-out pushed a status into these accounts' home timelines.
    Home { accounts: Vec<Id>, status: Id },
    /// A new status: each node indexes it for search and renders its stream events for
    /// its own connections.
    Created { id: Id },
    /// An edited status: indexed again, and its `status.update` events.
    Edited { id: Id },
    /// A deleted status: out of the search index, and its `delete` events; the store no
    /// longer has it.
    Deleted {
        status: Written,
        mentions: Vec<Id>,
        tags: Vec<String>,
    },
    /// The trends the leading node computed (`app::trends::leads`).
    Trends(crate::app::trends::Trends),
    /// What the sender published since `since` (milliseconds) may not have reached the
    /// others (it was cut off from NATS, or a publish failed): each catches up as after a
    /// cut of its own (`AppState::resync`).
    Resync { since: i64 },
    /// An event rendered for one audience (a notification for its recipient, a
    /// conversation for its owner): delivered as it is on the channel.
    Frame {
        channel: Channel,
        name: String,
        payload: String,
        keep: Keep,
    },
}

/// Which of a channel's connections receive a rendered frame.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub enum Keep {
    All,
    /// Only connections whose token may read notifications.
    Notifications,
    /// Only connections of this viewer.
    Viewer(Id),
}

/// The fields of a status the caches and streams need to forget or announce it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Written {
    pub id: Id,
    pub account_id: Id,
    pub visibility: i64,
    pub in_reply_to_id: Option<Id>,
    pub in_reply_to_account_id: Option<Id>,
    pub quote_of_id: Option<Id>,
    pub reblog_of_id: Option<Id>,
    /// Quotes of a deleted status, which now show it as deleted.
    #[serde(default)]
    pub quotes: Vec<Id>,
}

impl Written {
    pub fn of(s: &cascade_store::StatusRecord) -> Written {
        Written {
            id: s.id,
            account_id: s.account_id,
            visibility: s.visibility,
            in_reply_to_id: s.in_reply_to_id,
            in_reply_to_account_id: s.in_reply_to_account_id,
            quote_of_id: s.quote_of_id,
            reblog_of_id: s.reblog_of_id,
            quotes: Vec::new(),
        }
    }

    pub fn deleted(d: &cascade_store::DeletedStatus) -> Written {
        Written {
            quotes: d.quotes.clone(),
            ..Written::of(&d.status)
        }
    }

    pub fn record(&self) -> cascade_store::StatusRecord {
        cascade_store::StatusRecord {
            id: self.id,
            account_id: self.account_id,
            visibility: self.visibility,
            in_reply_to_id: self.in_reply_to_id,
            in_reply_to_account_id: self.in_reply_to_account_id,
            quote_of_id: self.quote_of_id,
            reblog_of_id: self.reblog_of_id,
            ..Default::default()
        }
    }
}

/// What a write made stale in memory; each node forgets it (`AppState::forget`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Forget {
    /// A status's row (text, counters, quote state, attachments).
    Status(Id),
    /// An account's row (profile, counts, role, limit, suspension).
    Account(Id),
    /// A status was deleted.
    Deleted(Written),
    /// An account's marks (favourite, bookmark, pin) on a status, and its counters.
    Marked { account: Id, status: Id },
    /// Follows, blocks or mutes of these accounts changed; with `timelines`, their
    /// cached home timelines go too.
    Graph { accounts: Vec<Id>, timelines: bool },
    /// Graph snapshots only (a muted thread, say).
    Viewers(Vec<Id>),
    /// A token was revoked: refuse it and close its streams.
    Token(Id),
    /// An account's content filters changed.
    Filters(Id),
    /// A brand watch was made, changed or deleted: read it again from the store.
    Watch(Id),
    /// An account's away period was set, cleared or digested: read it again.
    Away(Id),
    /// An account's notification policy changed.
    Policy(Id),
    /// View counts were written: the stored totals must be read again.
    Views(Vec<Id>),
    /// A moderator's domain block was made, changed or lifted: read them again.
    DomainBlocks,
    /// A custom emoji was added, changed or removed: read them again.
    Emojis,
    /// An IP block was made, changed or lifted: read them again.
    IpBlocks,
    /// An account was reported: its spam assessment must be made again.
    Spam(Id),
}

/// What the publishing task is handed: a message, or a barrier it answers once every
/// message before it is published.
enum Outgoing {
    Message(Vec<u8>),
    Barrier(tokio::sync::oneshot::Sender<()>),
}

/// Who sent a message, so a node skips its own.
#[derive(Serialize, Deserialize)]
struct Envelope {
    from: String,
    message: Message,
}

impl Cluster {
    /// Connects to the services the configuration names; `None` when it names none.
    /// Unreachable services are an error that says which one, so a misconfigured node
    /// fails at start instead of serving as a lone node.
    pub async fn connect(config: &Config) -> anyhow::Result<Option<Cluster>> {
        if config.nats_url.is_none() && config.redis_url.is_none() {
            return Ok(None);
        }
        let node = format!("{:016x}", rand::random::<u64>());
        let prefix = config.cluster_prefix.clone();
        let mut cluster = Cluster {
            node,
            prefix,
            outbox: None,
            inbox: Mutex::new(None),
            nats: None,
            redis: None,
            gap: Arc::default(),
            number: Arc::new(AtomicI64::new(-1)),
            marks: Default::default(),
            heard: Default::default(),
        };
        if let Some(url) = &config.nats_url {
            // The client reconnects by itself; messages sent meanwhile are lost to this
            // node, so it notes when the gap began and catches up when it ends
            // (`run_resync`).
            let gap = cluster.gap.clone();
            let options = async_nats::ConnectOptions::new()
                .connection_timeout(CONNECT_TIMEOUT)
                .retry_on_initial_connect()
                .event_callback(move |event| {
                    let gap = gap.clone();
                    async move {
                        match event {
                            async_nats::Event::Disconnected => {
                                let now = cascade_core::time::now_millis();
                                gap.last_cut.store(now, Ordering::SeqCst);
                                gap.cuts.fetch_add(1, Ordering::SeqCst);
                                let _ = gap.since.compare_exchange(
                                    0,
                                    now,
                                    Ordering::SeqCst,
                                    Ordering::SeqCst,
                                );
                                tracing::warn!(
                                    "NATS is gone; this node no longer hears the others"
                                );
                            }
                            async_nats::Event::Connected
                                if gap.since.load(Ordering::SeqCst) != 0 =>
                            {
                                gap.back.notify_one();
                            }
                            _ => {}
                        }
                    }
                });
            let client = tokio::time::timeout(CONNECT_TIMEOUT, options.connect(url.as_str()))
                .await
                .map_err(|_| anyhow::anyhow!("cannot reach NATS at {url}: timed out"))?
                .map_err(|e| anyhow::anyhow!("cannot reach NATS at {url}: {e}"))?;
            // Subscribed before serving, so no message sent after this node's first
            // request is missed.
            let subscriber = client
                .subscribe(cluster.subject())
                .await
                .map_err(|e| anyhow::anyhow!("cannot subscribe on NATS at {url}: {e}"))?;
            client
                .flush()
                .await
                .map_err(|e| anyhow::anyhow!("cannot reach NATS at {url}: {e}"))?;
            *cluster.inbox.get_mut().unwrap_or_else(|p| p.into_inner()) = Some(subscriber);
            // One task publishes in order, so a request never waits on NATS.
            let (tx, rx) = mpsc::unbounded_channel::<Outgoing>();
            let publisher = Publisher {
                client: client.clone(),
                subject: cluster.subject(),
                node: cluster.node.clone(),
                gap: cluster.gap.clone(),
            };
            tokio::spawn(publisher.run(rx));
            cluster.outbox = Some(tx);
            cluster.nats = Some(client);
        }
        if let Some(url) = &config.redis_url {
            let fail = |e: redis::RedisError| anyhow::anyhow!("cannot reach Redis at {url}: {e}");
            let client = redis::Client::open(url.as_str()).map_err(fail)?;
            // A Redis that went away must not hold requests: the manager's default
            // reconnects with a backoff of up to 13 s that every command waits on. Here a
            // reconnect is tried at once and once more, each try and each command bounded,
            // and the caller falls back to what one node does alone.
            let settings = redis::aio::ConnectionManagerConfig::new()
                .set_number_of_retries(1)
                .set_factor(50)
                .set_max_delay(200)
                .set_connection_timeout(REDIS_TIMEOUT)
                .set_response_timeout(REDIS_TIMEOUT);
            let manager = tokio::time::timeout(
                CONNECT_TIMEOUT,
                redis::aio::ConnectionManager::new_with_config(client, settings),
            )
            .await
            .map_err(|_| anyhow::anyhow!("cannot reach Redis at {url}: timed out"))?
            .map_err(fail)?;
            let name = cluster.key("node-number");
            let mut conn = manager.clone();
            let number = claim_number(&mut conn, &name, &cluster.node, None)
                .await
                .map_err(fail)?
                .ok_or_else(|| {
                    anyhow::anyhow!("all {MAX_NODES} node numbers are taken in Redis at {url}")
                })?;
            cluster.number.store(number, Ordering::SeqCst);
            tokio::spawn(keep_number(
                conn,
                name,
                cluster.node.clone(),
                Arc::downgrade(&cluster.number),
            ));
            cluster.redis = Some(manager);
        } else {
            // Without Redis there is nothing to lease numbers from: a random one, which
            // a second node may draw as well (the operator was told to give both).
            tracing::warn!("no Redis: this node's ids carry a random node number");
            cluster.number.store(
                rand::random::<i64>().rem_euclid(MAX_NODES),
                Ordering::SeqCst,
            );
        }
        Ok(Some(cluster))
    }

    fn subject(&self) -> String {
        format!("{}.bus", self.prefix)
    }

    /// A Redis key under this cluster's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// Whether the nodes talk over NATS (and so must tell each other what they change).
    pub fn talks(&self) -> bool {
        self.outbox.is_some()
    }

    pub fn redis(&self) -> Option<redis::aio::ConnectionManager> {
        self.redis.clone()
    }

    /// Tells the other nodes; never waits. Without NATS, nothing.
    pub fn send(&self, message: Message) {
        let Some(outbox) = &self.outbox else { return };
        let envelope = Envelope {
            from: self.node.clone(),
            message,
        };
        match serde_json::to_vec(&envelope) {
            Ok(bytes) => {
                let _ = outbox.send(Outgoing::Message(bytes));
            }
            Err(e) => tracing::warn!(error = %e, "a cluster message could not be written"),
        }
    }

    /// Sends a new mark after everything this node sent so far, and returns it: once
    /// another node `heard` it, that node has applied all of it (messages from one node
    /// arrive in order and are applied in order, stream events aside).
    pub fn mark(&self) -> u64 {
        let mark = self.marks.fetch_add(1, Ordering::SeqCst) + 1;
        self.send(Message::Mark(mark));
        mark
    }

    /// Whether this node heard `node`'s mark `mark` (or a later one).
    pub fn heard(&self, node: &str, mark: u64) -> bool {
        let heard = self.heard.lock().unwrap_or_else(|p| p.into_inner());
        heard.get(node).is_some_and(|&m| m >= mark)
    }

    /// Waits until what was sent so far reached NATS (tests, a command about to exit,
    /// and shutdown): the publishing task answers a barrier queued behind every message
    /// sent before it, then the client's buffer is flushed.
    pub async fn flush(&self) {
        let (Some(outbox), Some(nats)) = (&self.outbox, &self.nats) else {
            return;
        };
        let (done, published) = tokio::sync::oneshot::channel();
        if outbox.send(Outgoing::Barrier(done)).is_ok() {
            let _ = tokio::time::timeout(CONNECT_TIMEOUT, published).await;
        }
        let _ = tokio::time::timeout(CONNECT_TIMEOUT, nats.flush()).await;
    }
}

/// How long one publish may wait for the NATS client's buffer before the message is given
/// up as lost (a healthy connection takes microseconds).
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(1);

/// The task that publishes a node's messages in order.
struct Publisher {
    client: async_nats::Client,
    subject: String,
    node: String,
    gap: Arc<Gap>,
}

impl Publisher {
    /// Publishes until the node ends. While NATS is known to be gone, messages are dropped
    /// rather than queued (a long cut would otherwise hold every write's message in
    /// memory); after a cut, a failed publish, or drops, the next message is preceded by a
    /// `Resync` telling the others to catch up on what they may have missed.
    async fn run(self, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
        let mut lost_since = 0i64;
        let mut cuts_seen = 0u64;
        let earliest = |lost: i64, at: i64| if lost == 0 { at } else { lost.min(at) };
        while let Some(outgoing) = rx.recv().await {
            let bytes = match outgoing {
                Outgoing::Message(bytes) => bytes,
                Outgoing::Barrier(done) => {
                    let _ = done.send(());
                    continue;
                }
            };
            let cut = self.gap.since.load(Ordering::SeqCst);
            if cut != 0 {
                lost_since = earliest(lost_since, cut);
                continue;
            }
            let cuts = self.gap.cuts.load(Ordering::SeqCst);
            if cuts != cuts_seen {
                cuts_seen = cuts;
                lost_since = earliest(lost_since, self.gap.last_cut.load(Ordering::SeqCst));
            }
            if lost_since != 0 {
                let resync = Envelope {
                    from: self.node.clone(),
                    message: Message::Resync { since: lost_since },
                };
                if let Ok(resync) = serde_json::to_vec(&resync) {
                    if self.publish(resync).await {
                        lost_since = 0;
                    }
                }
            }
            if !self.publish(bytes).await {
                lost_since = earliest(lost_since, cascade_core::time::now_millis());
            }
        }
    }

    /// Whether the message was handed to the client in time.
    async fn publish(&self, bytes: Vec<u8>) -> bool {
        let publish = self.client.publish(self.subject.clone(), bytes.into());
        match tokio::time::timeout(PUBLISH_TIMEOUT, publish).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "a cluster message was not published");
                false
            }
            Err(_) => {
                tracing::warn!("a cluster message was not published in time");
                false
            }
        }
    }
}

/// How long a node's number is held in Redis without renewal, and how often it is renewed.
const NUMBER_LEASE: Duration = Duration::from_secs(30);
const NUMBER_RENEWAL: Duration = Duration::from_secs(10);

/// Takes the first free node number (`prefer` first, when given): `{name}:{n}` set to
/// this node's name for `NUMBER_LEASE`. `None` when all are taken.
async fn claim_number(
    conn: &mut redis::aio::ConnectionManager,
    name: &str,
    node: &str,
    prefer: Option<i64>,
) -> redis::RedisResult<Option<i64>> {
    for n in prefer.into_iter().chain(0..MAX_NODES) {
        let taken: Option<String> = redis::cmd("SET")
            .arg(format!("{name}:{n}"))
            .arg(node)
            .arg("NX")
            .arg("PX")
            .arg(NUMBER_LEASE.as_millis() as u64)
            .query_async(conn)
            .await?;
        if taken.is_some() {
            return Ok(Some(n));
        }
    }
    Ok(None)
}

/// Renews this node's number while the node lives. A lease found gone (Redis restarted
/// empty, or this node was away past the lease) is taken again, or another number when a
/// newer node took it meanwhile; a Redis that does not answer leaves the number as it is.
async fn keep_number(
    mut conn: redis::aio::ConnectionManager,
    name: String,
    node: String,
    number: std::sync::Weak<AtomicI64>,
) {
    const RENEW: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
        return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
    loop {
        tokio::time::sleep(NUMBER_RENEWAL).await;
        let Some(number) = number.upgrade() else {
            return;
        };
        let held = number.load(Ordering::SeqCst);
        let renewed: redis::RedisResult<i64> = redis::cmd("EVAL")
            .arg(RENEW)
            .arg(1)
            .arg(format!("{name}:{held}"))
            .arg(&node)
            .arg(NUMBER_LEASE.as_millis() as u64)
            .query_async(&mut conn)
            .await;
        if !matches!(renewed, Ok(0)) {
            continue;
        }
        match claim_number(&mut conn, &name, &node, Some(held)).await {
            Ok(Some(n)) if n != held => {
                tracing::warn!(
                    from = held,
                    to = n,
                    "this node's number was taken; it has a new one"
                );
                number.store(n, Ordering::SeqCst);
            }
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => tracing::warn!("no free node number; this node keeps its own"),
        }
    }
}

/// After each time this node was cut off from NATS: forgets and reloads what the other
/// nodes' missed messages would have changed (`AppState::resync`), until the process ends.
pub async fn run_resync(state: crate::AppState) {
    let Some(cluster) = state.cluster.as_ref() else {
        return;
    };
    loop {
        cluster.gap.back.notified().await;
        let since = cluster.gap.since.swap(0, Ordering::SeqCst);
        if since != 0 {
            tracing::info!(since, "NATS is back; catching up on what this node missed");
            state.resync(since).await;
            // A mark goes out at once, and with it the `Resync` that tells the others to
            // catch up on what this node sent into the cut (`Publisher::run`).
            cluster.mark();
        }
    }
}

/// Applies what the other nodes send, until the process ends.
pub async fn run_listener(state: crate::AppState) {
    let Some(cluster) = state.cluster.as_ref() else {
        return;
    };
    let subscriber = cluster
        .inbox
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let Some(mut subscriber) = subscriber else {
        return;
    };
    use futures_util::StreamExt;
    while let Some(m) = subscriber.next().await {
        let envelope: Envelope = match serde_json::from_slice(&m.payload) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "an unreadable cluster message was dropped");
                continue;
            }
        };
        if envelope.from == cluster.node {
            continue;
        }
        if let Message::Mark(mark) = envelope.message {
            let mut heard = cluster.heard.lock().unwrap_or_else(|p| p.into_inner());
            heard.insert(envelope.from, mark);
            continue;
        }
        // Stream events render (store reads): they run beside the listener, so one slow
        // render never holds back the invalidations behind it.
        match envelope.message {
            Message::Created { .. }
            | Message::Edited { .. }
            | Message::Deleted { .. }
            | Message::Resync { .. } => {
                let state = state.clone();
                tokio::spawn(async move { state.apply(envelope.message).await });
            }
            message => state.apply(message).await,
        }
    }
    tracing::error!("the NATS subscription ended; this node no longer hears the others");
}

/// Coalescing windows shared by the cluster, in Redis: `sent` (set for a window when an
/// event goes out) and `pending` (set when a delayed delivery is scheduled), per recipient
/// (an account for the streams, a subscription for Web Push) and notification group, so a
/// burst is coalesced once for the cluster, not once per node. A Redis error sends the
/// event at once: a burst then goes out uncoalesced rather than lost.
pub struct SharedWindows {
    conn: redis::aio::ConnectionManager,
    prefix: String,
    window_ms: i64,
}

impl SharedWindows {
    /// The windows named `name` (one family per kind of delivery), when this node is part
    /// of a cluster with Redis and coalescing is on.
    pub fn of(state: &crate::AppState, name: &str) -> Option<SharedWindows> {
        let cluster = state.cluster.as_ref()?;
        let window_ms = state.config.coalesce_ms;
        (window_ms > 0).then_some(())?;
        Some(SharedWindows {
            conn: cluster.redis()?,
            prefix: cluster.key(name),
            window_ms,
        })
    }

    fn keys(&self, key: &(Id, String)) -> (String, String) {
        let base = format!("{}:{}:{}", self.prefix, key.0, key.1);
        (format!("{base}:sent"), format!("{base}:pending"))
    }

    /// What to do with an event of `key` at `now`, as `Coalescer::offer` answers: one
    /// script, so that the decision is atomic across nodes. While a delayed delivery is
    /// pending, every event rides on it, even when its window has run out before the
    /// delivery went (a late worker), as the in-memory coalescer does.
    pub async fn offer(&self, key: &(Id, String), now: i64) -> Decision {
        const OFFER: &str = "if redis.call('EXISTS', KEYS[2]) == 1 then return -2 end \
            if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end \
            redis.call('SET', KEYS[2], 1, 'PX', 2 * tonumber(ARGV[2])) \
            return math.max(redis.call('PTTL', KEYS[1]), 0)";
        let (sent, pending) = self.keys(key);
        let mut conn = self.conn.clone();
        let decided: redis::RedisResult<i64> = redis::cmd("EVAL")
            .arg(OFFER)
            .arg(2)
            .arg(&sent)
            .arg(&pending)
            .arg(now)
            .arg(self.window_ms as u64)
            .query_async(&mut conn)
            .await;
        match decided {
            Ok(-2) => Decision::Scheduled,
            Ok(left) if left >= 0 => Decision::Later { at: now + left },
            // Sent now, or Redis failed: a burst then goes out uncoalesced, never lost.
            Ok(_) | Err(_) => Decision::Now,
        }
    }

    /// Whether the delayed delivery is still owed (and this node is the one to send it);
    /// it starts the key's next window.
    pub async fn due(&self, key: &(Id, String), now: i64) -> bool {
        let (sent, pending) = self.keys(key);
        let mut conn = self.conn.clone();
        let taken: redis::RedisResult<(i64, ())> = redis::pipe()
            .atomic()
            .cmd("DEL")
            .arg(&pending)
            .cmd("SET")
            .arg(&sent)
            .arg(now)
            .arg("PX")
            .arg(self.window_ms as u64)
            .query_async(&mut conn)
            .await;
        taken.is_ok_and(|(deleted, ())| deleted == 1)
    }
}
