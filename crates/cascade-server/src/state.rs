//! `AppState`: everything a request or worker needs, built whole before serving.

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use cascade_core::{Id, IdGenerator};
use cascade_store::Store;
use tokio::sync::Notify;

use crate::app::feeds::HomeFeeds;
use crate::config::Config;

/// Cheap to clone: one `Arc` around the shared parts.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub config: Config,
    pub store: Store,
    pub ids: IdGenerator,
    /// Cached home timelines, filled by the fan-out worker and rebuilt on read.
    pub feeds: HomeFeeds,
    /// Recent posts by author, for the celebrities whose posts are merged into their
    /// followers' home timelines on read; pushed by the author's request, reloaded after
    /// the record cache's TTL.
    pub authored: HomeFeeds,
    /// Wakes the job worker's lanes when a job was written.
    pub jobs: JobBell,
    /// Verified tokens by hash, so a request does not hit the store to authenticate;
    /// each is believed for `Config::token_ttl` at most.
    pub tokens: crate::app::tokens::TokenCache,
    /// Impressions not yet written, and the signal that a flush is due.
    pub views: crate::app::views::ViewBuffer,
    pub views_due: Notify,
    /// Cached graph snapshots of recent viewers.
    pub viewers: crate::app::viewer::ViewerCache,
    /// Cached status and account records, view counts and marks, for rendering.
    pub records: crate::app::records::RecordCache,
    /// Statuses and accounts rendered once per version of their records, for every reader.
    pub rendered: crate::app::rendered::RenderedCache,
    /// Request counters for the rate limits.
    pub limiter: crate::throttle::Limiter,
    /// Argon2 hashing, on the blocking pool and a bounded number at a time.
    pub passwords: crate::passwords::PasswordPool,
    /// Requests in flight, capped (`api::overload`).
    pub in_flight: crate::throttle::InFlight,
    /// Open streaming connections per client address, capped.
    pub stream_slots: crate::throttle::Slots,
    /// Cached notification policies and the streams' per-group delivery windows.
    pub inbox: crate::app::notifications::Inbox,
    /// Open streaming connections by channel.
    pub streams: crate::app::stream::Hub,
    /// Prometheus counters and histograms (`/metrics`).
    pub metrics: crate::metrics::Metrics,
    /// The rendered instance descriptions, kept a few seconds.
    pub instance: crate::app::instance::DescriptionCache,
    /// Recent spam assessments of accounts.
    pub spam: crate::app::spam::SpamCache,
    /// The moderators' blocks on client addresses, checked on every request.
    pub ip_blocks: crate::app::admin::IpBlocks,
    /// The custom emojis, rendered, by shortcode.
    pub emojis: crate::app::emojis::EmojiBook,
    /// The VAPID key and the coalescing windows of Web Push, and the signal that wakes
    /// the push worker (a delivery was queued, an away period ended).
    pub push: crate::app::push::PushState,
    pub push_due: Notify,
    /// Away periods not over yet, by account.
    pub away: crate::app::away::AwayBook,
    /// The full-text index of statuses, and the signal that it has writes to commit.
    pub search: Arc<crate::search::SearchIndex>,
    pub search_due: Notify,
    /// The current trends, recomputed in the background (`app::trends`).
    pub trends: crate::app::trends::TrendCache,
    /// Each reader's latest ranking of the ranked home feed, for its cursors.
    pub ranked: crate::app::ranked::RankedFeeds,
    /// The terms of every brand watch, to match statuses as they are written.
    pub watches: crate::app::watch::WatchBook,
    /// Cached content filters of recent viewers.
    pub filters: crate::app::filters::FilterBook,
    /// Stored media files, the bound on pictures processed at once, and ffmpeg.
    pub media: crate::media::MediaState,
    /// NATS and Redis when this node is one of several (`cluster`); `None` for the
    /// embedded server.
    pub cluster: Option<crate::cluster::Cluster>,
    /// This process's name among the workers that claim jobs from one store.
    pub node: String,
    /// The federation client and the parsed signing keys.
    pub federation: crate::app::federation::Federation,
}

/// Wakes each lane of the job worker when a job was written: one signal per lane, so a
/// ring reaches every lane even while another is busy (a lane that was busy finds the
/// stored permit when it next waits). Also keeps each lane's recent latencies, from the
/// commit that wrote a job to the moment it was done.
#[derive(Default)]
pub struct JobBell {
    lanes: [Notify; 3],
    latencies: [Mutex<std::collections::VecDeque<i64>>; 3],
}

/// Latencies kept per lane: the most recent ones, a bounded window.
const LATENCIES_KEPT: usize = 8_192;

fn lane_index(lane: cascade_core::job::Lane) -> usize {
    match lane {
        cascade_core::job::Lane::Fanout => 0,
        cascade_core::job::Lane::Effects => 1,
        cascade_core::job::Lane::Outbox => 2,
    }
}

impl JobBell {
    pub fn ring(&self) {
        for lane in &self.lanes {
            lane.notify_one();
        }
    }

    /// Waits for a ring meant for `lane`.
    pub async fn wait(&self, lane: cascade_core::job::Lane) {
        self.lanes[lane_index(lane)].notified().await
    }

    /// Records that a job of `lane` was done `ms` after its write committed.
    pub fn done(&self, lane: cascade_core::job::Lane, ms: i64) {
        let mut kept = self.latencies[lane_index(lane)]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if kept.len() == LATENCIES_KEPT {
            kept.pop_front();
        }
        kept.push_back(ms.max(0));
    }

    /// The recent latencies of `lane` in milliseconds, oldest first; `take` empties the
    /// window, so a measurement can start afresh.
    pub fn latencies(&self, lane: cascade_core::job::Lane, take: bool) -> Vec<i64> {
        let mut kept = self.latencies[lane_index(lane)]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if take {
            std::mem::take(&mut *kept).into()
        } else {
            kept.iter().copied().collect()
        }
    }
}

/// What a valid access token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub token_id: Id,
    /// The SHA-256 of the secret, to check later that the token still stands.
    pub hash: String,
    pub app_id: Option<Id>,
    pub account_id: Option<Id>,
    pub scopes: Vec<String>,
}

impl AppState {
    pub fn new(config: Config, store: Store) -> AppState {
        AppState::with_cluster(config, store, None)
    }

    /// A node of a cluster: its caches are told what the other nodes' writes change.
    pub fn with_cluster(
        config: Config,
        store: Store,
        cluster: Option<crate::cluster::Cluster>,
    ) -> AppState {
        let idle = std::time::Duration::from_millis(config.fanout.inactive_after_ms.max(0) as u64);
        let feeds = HomeFeeds::skipping_idle(config.fanout.home_capacity, idle);
        let authored = HomeFeeds::with_ttl(config.fanout.home_capacity, config.record_cache.ttl);
        let inbox = crate::app::notifications::Inbox::new(config.coalesce_ms);
        let streams = crate::app::stream::Hub::new(config.stream_buffer);
        let push = crate::app::push::PushState::new(config.coalesce_ms);
        let records = crate::app::records::RecordCache::new(&config.record_cache);
        let rendered = crate::app::rendered::RenderedCache::new(&config.record_cache);
        let search = crate::app::search::open_index(&config.data_dir);
        let in_flight = crate::throttle::InFlight::new(config.max_in_flight);
        let stream_slots = crate::throttle::Slots::new(config.streams_per_address);
        let tokens = crate::app::tokens::TokenCache::new(config.token_ttl);
        let media = crate::media::MediaState::new(
            config
                .media_store
                .clone()
                .unwrap_or_else(|| crate::media::MediaStore::folder(&config.data_dir)),
            config
                .media_ffmpeg
                .then(crate::media::av::Ffmpeg::detect)
                .flatten(),
        );
        AppState(Arc::new(Shared {
            config,
            store,
            ids: match &cluster {
                Some(c) => IdGenerator::numbered(c.number.clone()),
                None => IdGenerator::new(),
            },
            feeds,
            authored,
            jobs: JobBell::default(),
            metrics: Default::default(),
            instance: Default::default(),
            tokens,
            limiter: Default::default(),
            passwords: Default::default(),
            in_flight,
            stream_slots,
            viewers: Default::default(),
            records,
            rendered,
            views: Default::default(),
            views_due: Notify::new(),
            inbox,
            streams,
            spam: Default::default(),
            ip_blocks: Default::default(),
            emojis: Default::default(),
            push,
            push_due: Notify::new(),
            away: Default::default(),
            search,
            search_due: Notify::new(),
            trends: Default::default(),
            ranked: Default::default(),
            watches: Default::default(),
            filters: Default::default(),
            media,
            node: cluster.as_ref().map_or_else(
                || format!("{:016x}", rand::random::<u64>()),
                |c| c.node.clone(),
            ),
            cluster,
            federation: Default::default(),
        }))
    }

    /// Tells the other nodes, when there are any.
    pub fn tell(&self, message: crate::cluster::Message) {
        if let Some(cluster) = &self.cluster {
            cluster.send(message);
        }
    }

    /// Whether the other nodes must be told about stream events: then an event is
    /// rendered and sent even when this node has no listener for it.
    pub fn clustered(&self) -> bool {
        self.cluster.as_ref().is_some_and(|c| c.talks())
    }

    /// Forgets what a write made stale, here and on every other node.
    pub fn forget(&self, what: crate::cluster::Forget) {
        self.forget_here(&what);
        self.tell(crate::cluster::Message::Forget(what));
    }

    fn forget_here(&self, what: &crate::cluster::Forget) {
        use crate::cluster::Forget;
        match what {
            Forget::Status(id) => self.records.forget_status(*id),
            Forget::Account(id) => self.records.forget_account(*id),
            Forget::Deleted(w) => self.records.forget_deleted(&cascade_store::DeletedStatus {
                status: w.record(),
                quotes: w.quotes.clone(),
            }),
            Forget::Marked { account, status } => self.records.forget_marked(*account, *status),
            Forget::Graph {
                accounts,
                timelines,
            } => {
                self.viewers.forget(accounts);
                for &a in accounts {
                    self.records.forget_account(a);
                    if *timelines {
                        self.feeds.invalidate(a);
                    }
                }
            }
            Forget::Viewers(ids) => self.viewers.forget(ids),
            Forget::Token(id) => {
                self.tokens.forget(*id);
                self.streams.revoke(*id);
            }
            Forget::Filters(id) => self.filters.forget(*id),
            // Read again from the store by the receiving node (`apply`); the writing node
            // updated its own memory with what it wrote.
            Forget::Watch(_) | Forget::Away(_) | Forget::Emojis | Forget::IpBlocks => {}
            Forget::Policy(id) => crate::app::notifications::forget_policy(self, *id),
            Forget::Views(ids) => {
                for &id in ids {
                    self.records.forget_views(id);
                }
            }
            Forget::DomainBlocks => self.federation.domains.forget(),
            Forget::Spam(id) => self.spam.forget(*id),
        }
    }

    /// Catches up after this node was cut off from the other nodes' messages since
    /// `since_ms`: every cache a missed message would have corrected is dropped or read
    /// again (home timelines, graph snapshots, filters, notification policies, domain
    /// blocks, brand watches, away periods, custom emojis, IP blocks, records, tokens,
    /// spam assessments), the streams of tokens revoked meanwhile close, and the search
    /// index takes in what was posted or edited meanwhile.
    pub async fn resync(&self, since_ms: i64) {
        self.records.forget_all();
        self.tokens.forget_all();
        self.spam.forget_all();
        self.close_streams_revoked_since(since_ms).await;
        self.feeds.invalidate_all();
        self.authored.invalidate_all();
        self.viewers.forget_all();
        self.filters.forget_all();
        crate::app::notifications::forget_policies(self);
        self.federation.domains.forget();
        if let Err(e) = crate::app::watch::load(self).await {
            tracing::warn!(error = %e, "the brand watches could not be read again");
        }
        if let Err(e) = crate::app::away::load(self).await {
            tracing::warn!(error = %e, "the away periods could not be read again");
        }
        self.reload_emojis().await;
        self.reload_ip_blocks().await;
        match crate::app::search::catch_up_since(self, since_ms).await {
            Ok(indexed) => tracing::info!(indexed, "the search index caught up"),
            Err(e) => tracing::warn!(error = %e, "the search index could not catch up"),
        }
    }

    /// Closes the streams of tokens revoked since `since_ms` (by another node, while this
    /// one could not hear it), a page of them at a time.
    async fn close_streams_revoked_since(&self, since_ms: i64) {
        const PAGE: i64 = 1_000;
        let mut since = since_ms;
        loop {
            let revoked = match self.store.tokens_revoked_since(since, PAGE).await {
                Ok(revoked) => revoked,
                Err(e) => {
                    tracing::warn!(error = %e, "the tokens revoked meanwhile could not be read");
                    return;
                }
            };
            for (id, _) in &revoked {
                self.streams.revoke(*id);
            }
            match revoked.last() {
                Some(&(_, at)) if revoked.len() as i64 == PAGE && at > since => since = at,
                _ => return,
            }
        }
    }

    async fn reload_emojis(&self) {
        if let Err(e) = crate::app::emojis::reload(self).await {
            tracing::warn!(error = %e, "the custom emojis could not be read again");
        }
    }

    async fn reload_ip_blocks(&self) {
        if let Err(e) = self.ip_blocks.reload(self).await {
            tracing::warn!(error = %e, "the IP blocks could not be read again");
        }
    }

    /// Applies what another node sent.
    pub async fn apply(&self, message: crate::cluster::Message) {
        use crate::cluster::{Forget, Message};
        match message {
            Message::Forget(Forget::Watch(id)) => crate::app::watch::reload(self, id).await,
            Message::Forget(Forget::Away(account)) => crate::app::away::reload(self, account).await,
            Message::Forget(Forget::Emojis) => self.reload_emojis().await,
            Message::Forget(Forget::IpBlocks) => self.reload_ip_blocks().await,
            Message::Forget(what) => self.forget_here(&what),
            Message::Written(w) => self.status_written_here(&w.record()),
            Message::Resync { since } => {
                tracing::info!(since, "another node may have lost messages; catching up");
                self.resync(since).await;
            }
            Message::Home { accounts, status } => {
                for a in accounts {
                    self.feeds.push(a, status);
                }
            }
            Message::Created { id } => {
                crate::app::search::written_elsewhere(self, id).await;
                crate::app::stream::created_elsewhere(self, id).await
            }
            Message::Edited { id } => {
                crate::app::search::written_elsewhere(self, id).await;
                crate::app::stream::edited_here(self, id).await
            }
            Message::Deleted {
                status,
                mentions,
                tags,
            } => {
                crate::app::search::status_deleted(self, status.id);
                crate::app::stream::deleted_here(self, &status.record(), &mentions, &tags).await
            }
            Message::Trends(trends) => self.trends.set(trends),
            // Recorded by the listener itself.
            Message::Mark(_) => {}
            Message::Frame {
                channel,
                name,
                payload,
                keep,
            } => crate::app::stream::frame_here(self, &channel, &name, payload, keep),
        }
    }

    /// Pushes a status into these accounts' cached home timelines, on every node.
    pub fn push_home(&self, accounts: Vec<Id>, status: Id) {
        for &a in &accounts {
            self.feeds.push(a, status);
        }
        if self.clustered() && !accounts.is_empty() {
            self.tell(crate::cluster::Message::Home { accounts, status });
        }
    }

    /// Waits until what this process told the other nodes has reached NATS: a command
    /// about to exit calls it, so its changes are not lost with the process.
    pub async fn settle(&self) {
        if let Some(cluster) = &self.cluster {
            cluster.flush().await;
        }
    }

    /// Forgets what is cached about these accounts' place in the graph, after a follow,
    /// block or mute between them changed: their snapshots and their records (follow
    /// counts). With `timelines`, their cached home timelines go too (a follow or unfollow
    /// changes what they hold).
    pub fn graph_changed(&self, accounts: &[Id], timelines: bool) {
        self.forget(crate::cluster::Forget::Graph {
            accounts: accounts.to_vec(),
            timelines,
        });
    }

    /// After a status was written: forgets the records it changed, puts it in its author's
    /// cached home timeline and among their recent posts (where followers merge those of
    /// celebrities), so the author sees it at once, and wakes the worker for its jobs.
    pub fn status_written(&self, status: &cascade_store::StatusRecord) {
        self.status_written_here(status);
        self.tell(crate::cluster::Message::Written(
            crate::cluster::Written::of(status),
        ));
    }

    fn status_written_here(&self, status: &cascade_store::StatusRecord) {
        self.records.forget_written(status);
        self.feeds.push(status.account_id, status.id);
        if status.visibility <= cascade_core::Visibility::Private.code() {
            self.authored.push(status.account_id, status.id);
        }
        self.jobs.ring();
    }

    /// Counts one impression of each status shown (the original, for a reblog) for the
    /// viewer. No database write happens here; see `app::views`.
    pub fn seen(&self, viewer: Option<Id>, shown: &[crate::app::entity::Status]) {
        let ids: Vec<Id> = shown
            .iter()
            .filter_map(|s| s.reblog.as_deref().unwrap_or(s).id.parse().ok())
            .collect();
        if self
            .views
            .record(&ids, viewer, cascade_core::time::now_millis())
        {
            self.views_due.notify_one();
        }
    }

    /// An absolute URL on this instance.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.config.base_url, path)
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
