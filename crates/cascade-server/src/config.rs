//! Server configuration, filled from the command line or `CASCADE_*` environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use cascade_core::timeline::FanoutPolicy;

/// Everything the server needs to know before it starts; built whole, never changed.
#[derive(Debug, Clone)]
pub struct Config {
    /// The public domain of this instance, used in handles (`@alice@domain`) and URLs.
    pub domain: String,
    /// The scheme and host clients reach us at, without a trailing slash.
    pub base_url: String,
    pub listen: SocketAddr,
    /// `sqlite://...` or `postgres://...`.
    pub database_url: String,
    pub data_dir: PathBuf,
    pub registrations_open: bool,
    pub fanout: FanoutPolicy,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    pub title: String,
    /// Requests per token (or client address) and window; `None` turns limits off.
    pub rate_limit: Option<crate::throttle::RateLimit>,
    /// Whether every status's view counts are public (otherwise each author decides;
    /// by default only the author sees them).
    pub public_view_counts: bool,
    /// An author hears a post is going viral when SEISMIC predicts this many times their
    /// usual number of reshares.
    pub viral_multiple: f64,
    /// Streaming and Web Push events of one notification group go out at most once per
    /// this many milliseconds (0: every event); the last event of a burst is never lost.
    pub coalesce_ms: i64,
    /// Events a streaming connection may have queued; a connection that falls further
    /// behind is disconnected.
    pub stream_buffer: usize,
    /// How often idle streaming connections get a heartbeat (WebSocket ping, SSE comment).
    pub heartbeat: std::time::Duration,
    /// How many status and account records (and view counts and marks) are kept in
    /// memory for rendering, and for how long at most.
    pub record_cache: crate::app::records::RecordCacheConfig,
    /// Whether `serve` runs the job worker beside the API: on, unless this process only
    /// answers requests while another performs the jobs (or a test stages a job by hand).
    pub worker: bool,
    /// For tests only (off by default): outgoing requests (Web Push) may use plain http
    /// and reach loopback and private addresses, so a test can run a local receiver.
    pub allow_private_outgoing: bool,
}

impl Config {
    /// A configuration for a server at `listen` with its data in `data_dir`.
    pub fn new(
        listen: SocketAddr,
        data_dir: PathBuf,
        domain: Option<String>,
        database_url: Option<String>,
    ) -> Config {
        let domain = domain.unwrap_or_else(|| listen.to_string());
        let scheme = if domain.starts_with("127.0.0.1")
            || domain.starts_with("localhost")
            || domain.contains(':')
        {
            "http"
        } else {
            "https"
        };
        let database_url = database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("cascade.db").display()));
        Config {
            base_url: format!("{scheme}://{domain}"),
            domain,
            listen,
            database_url,
            data_dir,
            registrations_open: true,
            fanout: FanoutPolicy::default(),
            max_body_bytes: 1024 * 1024,
            title: "Cascade".into(),
            rate_limit: Some(crate::throttle::RateLimit::default()),
            public_view_counts: false,
            viral_multiple: 10.0,
            coalesce_ms: 5_000,
            stream_buffer: 256,
            heartbeat: std::time::Duration::from_secs(30),
            record_cache: Default::default(),
            worker: true,
            allow_private_outgoing: false,
        }
    }
}
