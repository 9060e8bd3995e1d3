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
//! that a live event happened, never the only copy of anything, so a node that misses one
//! while disconnected serves data at most as stale as its caches' TTLs allow, which is
//! what it did before clustering. The store stays the truth. This module does no HTTP.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cascade_core::Id;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::app::stream::Channel;
use crate::config::Config;

/// How long a node waits for NATS or Redis at start before it gives up with an error.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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
}

/// A time this node was cut off from NATS, and the signal that it is back.
#[derive(Default)]
struct Gap {
    /// Milliseconds since the epoch when the connection was lost; 0 while connected.
    since: AtomicI64,
    back: tokio::sync::Notify,
}

/// What one node tells the others.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Message {
    /// Memory another node's write made stale.
    Forget(Forget),
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
            let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
            let publisher = client.clone();
            let subject = cluster.subject();
            tokio::spawn(async move {
                while let Some(outgoing) = rx.recv().await {
                    match outgoing {
                        Outgoing::Message(bytes) => {
                            if let Err(e) = publisher.publish(subject.clone(), bytes.into()).await {
                                tracing::warn!(error = %e, "a cluster message was not published");
                            }
                        }
                        Outgoing::Barrier(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            });
            cluster.outbox = Some(tx);
            cluster.nats = Some(client);
        }
        if let Some(url) = &config.redis_url {
            let fail = |e: redis::RedisError| anyhow::anyhow!("cannot reach Redis at {url}: {e}");
            let client = redis::Client::open(url.as_str()).map_err(fail)?;
            let manager =
                tokio::time::timeout(CONNECT_TIMEOUT, redis::aio::ConnectionManager::new(client))
                    .await
                    .map_err(|_| anyhow::anyhow!("cannot reach Redis at {url}: timed out"))?
                    .map_err(fail)?;
            cluster.redis = Some(manager);
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
        // Stream events render (store reads): they run beside the listener, so one slow
        // render never holds back the invalidations behind it.
        match envelope.message {
            Message::Created { .. } | Message::Edited { .. } | Message::Deleted { .. } => {
                let state = state.clone();
                tokio::spawn(async move { state.apply(envelope.message).await });
            }
            message => state.apply(message).await,
        }
    }
    tracing::error!("the NATS subscription ended; this node no longer hears the others");
}
