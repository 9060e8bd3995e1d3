//! Server configuration, filled from the command line or `CASCADE_*` environment variables.

use std::net::{IpAddr, SocketAddr};
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
    /// PostgreSQL connections this node keeps at most (`--database-pool`).
    pub database_pool: u32,
    /// `redis://...`: rate-limit counters shared by the nodes of a cluster.
    pub redis_url: Option<String>,
    /// `nats://...`: the nodes of a cluster tell each other what their writes change
    /// and what their streams must carry (`cluster`).
    pub nats_url: Option<String>,
    /// What this cluster's NATS subjects and Redis keys start with, so that several
    /// clusters (or tests) can share one NATS and one Redis.
    pub cluster_prefix: String,
    pub data_dir: PathBuf,
    pub registrations_open: bool,
    /// Whether new accounts wait for a moderator's approval before they can sign in.
    pub approval_required: bool,
    pub fanout: FanoutPolicy,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    pub title: String,
    /// Requests per account (or, anonymously, client address) and window; `None` turns
    /// the general limit off (login and registration throttles stay).
    pub rate_limit: Option<crate::throttle::RateLimit>,
    /// Login attempts per client address and window.
    pub login_per_address: crate::throttle::RateLimit,
    /// Failed logins per login name (username or email) and window.
    pub login_failures_per_account: crate::throttle::RateLimit,
    /// Sign-ups through the API per client address and window.
    pub registrations_per_address: crate::throttle::RateLimit,
    /// Activities accepted into the inboxes per peer server (the signer's domain) and
    /// window, so that a flood from one server cannot starve local users.
    pub inbox_per_domain: crate::throttle::RateLimit,
    /// Proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored, so a
    /// client cannot pick its own address (and rate-limit bucket).
    pub trusted_proxies: Vec<IpNet>,
    /// Requests handled at once; past it, 503 with `Retry-After` rather than a queue that
    /// grows until memory runs out.
    pub max_in_flight: usize,
    /// How long a request may take until its response starts (a streaming response's
    /// events are not counted); past it, 503.
    pub request_timeout: std::time::Duration,
    /// How long a client may take to send a request's headers, and how long a kept-alive
    /// connection may sit idle before its next request (slowloris).
    pub header_read_timeout: std::time::Duration,
    /// Open HTTP connections; further ones are closed at once.
    pub max_connections: usize,
    /// Streaming connections (WebSocket or SSE) open at once per client address.
    pub streams_per_address: usize,
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
    /// Each heartbeat also checks that the connection's token still stands.
    pub heartbeat: std::time::Duration,
    /// How long a verified token is believed without asking the store again: a token
    /// revoked by another process (`cascade admin tokens --revoke`) stops working within it.
    pub token_ttl: std::time::Duration,
    /// How many status and account records (and view counts and marks) are kept in
    /// memory for rendering, and for how long at most.
    pub record_cache: crate::app::records::RecordCacheConfig,
    /// Whether `serve` runs the job worker beside the API: on, unless this process only
    /// answers requests while another performs the jobs (or a test stages a job by hand).
    pub worker: bool,
    /// The largest picture upload, in bytes.
    pub media_image_bytes: usize,
    /// The largest video or audio upload, in bytes.
    pub media_video_bytes: usize,
    /// Bytes of media one account may store (`cascade_core::quota`).
    pub media_quota_bytes: u64,
    /// Where media files are stored: `None`, the data folder's `media/`; or a bucket of
    /// S3-compatible object storage (`MediaStore::s3`), for several servers.
    pub media_store: Option<crate::media::MediaStore>,
    /// A public base URL that serves the stored files by key (a bucket's website or a
    /// CDN before it): media URLs point there instead of at this server.
    pub media_public_url: Option<String>,
    /// Whether video and audio are accepted when ffmpeg is installed (it is looked for
    /// at start); off, they are refused as on a machine without it.
    pub media_ffmpeg: bool,
    /// For tests only (off by default): outgoing requests (Web Push) may use plain http
    /// and reach loopback and private addresses, so a test can run a local receiver.
    pub allow_private_outgoing: bool,
    /// HTTPS served by this process (certificate files or ACME); `None` serves plain
    /// HTTP, for loopback and for running behind a proxy that terminates TLS.
    pub tls: Option<crate::tls::TlsSource>,
    /// The bearer token that may read `/metrics`; without one, `/metrics` is not served.
    pub metrics_token: Option<String>,
    /// What the instance says about itself: rules, policies, contact.
    pub pages: InstancePages,
}

/// The instance's own pages, from files and flags: rules, the extended description, the
/// privacy policy and terms of service (plain text: paragraphs, links), contact and the
/// sign-up message. Empty by default, and then the API says so (no rules, 404 for a policy).
#[derive(Debug, Clone, Default)]
pub struct InstancePages {
    /// Rules in order: each rule's text and its hint (longer explanation, may be empty).
    pub rules: Vec<(String, String)>,
    pub extended_description: Option<PageText>,
    pub privacy_policy: Option<PageText>,
    pub terms_of_service: Option<PageText>,
    /// The contact address; `admin@<domain>` when unset.
    pub contact_email: Option<String>,
    /// The contact account's username; the first account when unset.
    pub contact_account: Option<String>,
    /// Shown to people signing up.
    pub registrations_message: Option<String>,
}

/// A page's text and when it last changed (its file's modification time), in ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageText {
    pub text: String,
    pub updated_at: i64,
}

/// Bytes in one page file: a privacy policy is long, but not this long.
pub const MAX_PAGE_BYTES: u64 = 256 * 1024;
/// Rules an instance may list, and characters in a rule's text and hint.
pub const MAX_RULES: usize = 100;
pub const MAX_RULE_CHARS: usize = 1_000;

impl PageText {
    /// Reads a page file (UTF-8, at most `MAX_PAGE_BYTES`).
    pub fn from_file(path: &std::path::Path) -> Result<PageText, String> {
        let fail = |e: std::io::Error| format!("{}: {e}", path.display());
        let meta = std::fs::metadata(path).map_err(fail)?;
        if meta.len() > MAX_PAGE_BYTES {
            return Err(format!(
                "{}: longer than {MAX_PAGE_BYTES} bytes",
                path.display()
            ));
        }
        let text = std::fs::read_to_string(path).map_err(fail)?;
        let updated_at = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or_else(cascade_core::time::now_millis, |d| d.as_millis() as i64);
        Ok(PageText { text, updated_at })
    }
}

/// Parses a rules file: each line that does not start with white space is a rule; the
/// indented lines below it are its hint; blank lines separate nothing.
pub fn parse_rules(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut rules: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            let Some((_, hint)) = rules.last_mut() else {
                return Err("the rules file starts with an indented hint, not a rule".into());
            };
            if !hint.is_empty() {
                hint.push(' ');
            }
            hint.push_str(line.trim());
        } else {
            rules.push((line.trim().to_string(), String::new()));
        }
    }
    if rules.len() > MAX_RULES {
        return Err(format!("more than {MAX_RULES} rules"));
    }
    if let Some((text, _)) = rules
        .iter()
        .find(|(t, h)| t.chars().count() > MAX_RULE_CHARS || h.chars().count() > MAX_RULE_CHARS)
    {
        return Err(format!(
            "the rule {text:?} or its hint is longer than {MAX_RULE_CHARS} characters"
        ));
    }
    Ok(rules)
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
            database_pool: cascade_store::DEFAULT_POOL,
            redis_url: None,
            nats_url: None,
            cluster_prefix: "cascade".into(),
            data_dir,
            registrations_open: true,
            approval_required: false,
            fanout: FanoutPolicy::default(),
            max_body_bytes: 1024 * 1024,
            title: "Cascade".into(),
            rate_limit: Some(crate::throttle::RateLimit::default()),
            // Mastodon's Rack::Attack numbers where it has them.
            login_per_address: crate::throttle::RateLimit {
                requests: 25,
                window: std::time::Duration::from_secs(300),
            },
            login_failures_per_account: crate::throttle::RateLimit {
                requests: 10,
                window: std::time::Duration::from_secs(900),
            },
            registrations_per_address: crate::throttle::RateLimit {
                requests: 5,
                window: std::time::Duration::from_secs(1800),
            },
            // Ten activities a second from one server, sustained over five minutes: far
            // above what a busy peer delivers to one server, far below a flood.
            inbox_per_domain: crate::throttle::RateLimit {
                requests: 3_000,
                window: std::time::Duration::from_secs(300),
            },
            trusted_proxies: Vec::new(),
            max_in_flight: 1_024,
            request_timeout: std::time::Duration::from_secs(30),
            header_read_timeout: std::time::Duration::from_secs(10),
            max_connections: 10_000,
            streams_per_address: 32,
            public_view_counts: false,
            viral_multiple: 10.0,
            coalesce_ms: 5_000,
            stream_buffer: 256,
            heartbeat: std::time::Duration::from_secs(30),
            token_ttl: std::time::Duration::from_secs(5),
            record_cache: Default::default(),
            worker: true,
            media_image_bytes: 16 * 1024 * 1024,
            media_video_bytes: 99 * 1024 * 1024,
            media_quota_bytes: cascade_core::quota::MEDIA_BYTES_PER_ACCOUNT,
            media_ffmpeg: true,
            media_store: None,
            media_public_url: None,
            allow_private_outgoing: false,
            tls: None,
            metrics_token: None,
            pages: InstancePages::default(),
        }
    }

    /// Serves HTTPS from `source`: the URLs the server writes say `https` from now on,
    /// whatever port the domain names.
    pub fn serve_tls(&mut self, source: crate::tls::TlsSource) {
        self.base_url = format!("https://{}", self.domain);
        self.tls = Some(source);
    }

    /// Sets the address clients reach the server at (`https://social.example`, or with a
    /// port), when it differs from what the domain and listener imply: behind a proxy that
    /// serves HTTPS on a port, say. Only a scheme and a host (and port) are allowed.
    pub fn set_public_url(&mut self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| format!("{url}: names no host"))?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.path() != "/"
            || parsed.query().is_some()
            || parsed.fragment().is_some()
            || !parsed.username().is_empty()
            || parsed.password().is_some()
        {
            return Err(format!(
                "{url}: must be http:// or https:// and a host, with nothing after it"
            ));
        }
        let authority = match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        self.base_url = format!("{}://{authority}", parsed.scheme());
        Ok(())
    }
}

/// An address block, `10.0.0.0/8` or a single address (`192.0.2.1`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for IpNet {
    /// The block's first address and its prefix: `10.0.0.0/8`, `192.0.2.1/32`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first = match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        };
        write!(f, "{first}/{}", self.prefix)
    }
}

impl std::str::FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<IpNet, String> {
        let bad = || format!("{s:?} is not an address or address block (10.0.0.0/8)");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_lines_with_indented_hints() {
        let rules = parse_rules("Be kind\n  No harassment,\n  no slurs.\n\nNo spam\n").unwrap();
        assert_eq!(
            rules,
            vec![
                (
                    "Be kind".to_string(),
                    "No harassment, no slurs.".to_string()
                ),
                ("No spam".to_string(), String::new()),
            ]
        );
        assert!(parse_rules("  orphan hint").is_err());
        assert!(parse_rules(&"rule\n".repeat(MAX_RULES + 1)).is_err());
    }

    #[test]
    fn address_blocks_contain_their_addresses() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.0.0.1".parse().unwrap()));
        let one: IpNet = "::1".parse().unwrap();
        assert!(one.contains("::1".parse().unwrap()));
        assert!(!one.contains("::2".parse().unwrap()));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("192.0.2.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("nonsense".parse::<IpNet>().is_err());
    }

    #[test]
    fn urls_say_https_when_served_or_proxied_as_https() {
        let listen: SocketAddr = "127.0.0.1:8443".parse().unwrap();
        let dir = PathBuf::from("data");
        let plain = Config::new(listen, dir.clone(), None, None);
        assert_eq!(plain.base_url, "http://127.0.0.1:8443");
        let proxied = Config::new(listen, dir.clone(), Some("social.example".into()), None);
        assert_eq!(proxied.base_url, "https://social.example");

        let mut served = Config::new(listen, dir.clone(), None, None);
        served.serve_tls(crate::tls::TlsSource::Files {
            cert: "c.pem".into(),
            key: "k.pem".into(),
            reload_every: std::time::Duration::from_secs(5),
        });
        assert_eq!(served.base_url, "https://127.0.0.1:8443");

        let mut public = Config::new(listen, dir, Some("social.example".into()), None);
        public
            .set_public_url("https://social.example:8443/")
            .unwrap();
        assert_eq!(public.base_url, "https://social.example:8443");
        public.set_public_url("http://localhost:3000").unwrap();
        assert_eq!(public.base_url, "http://localhost:3000");
        for bad in [
            "ftp://social.example",
            "https://social.example/path",
            "https://user@social.example",
            "https://social.example/?q=1",
            "social.example",
        ] {
            assert!(public.set_public_url(bad).is_err(), "{bad}");
        }
    }
}
