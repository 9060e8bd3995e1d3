//! The `cascade` command: `serve` runs the server, `admin` works on the same store from
//! the command line (also while a server runs on it).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use cascade_server::api::auth::parse_scopes;
use cascade_server::app::records::RecordCacheConfig;
use cascade_server::tls::{AcmeSettings, TlsSource};
use cascade_server::{app, demo, AppState, Config};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cascade",
    version,
    about = "A social network server that survives going viral, and explains it."
)]
struct Cli {
    /// Log lines as text or as JSON objects (one per line, for log collectors).
    #[arg(long, global = true, env = "CASCADE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct StoreArgs {
    /// The data folder (SQLite database inside).
    #[arg(long, env = "CASCADE_DATA", default_value = "./cascade-data")]
    data: PathBuf,
    /// A postgres:// URL switches the store to PostgreSQL.
    #[arg(long, env = "CASCADE_DATABASE_URL")]
    database_url: Option<String>,
    /// PostgreSQL connections this node keeps at most: on a cluster, the nodes' pools
    /// together must stay under the server's max_connections.
    #[arg(long, env = "CASCADE_DATABASE_POOL", default_value_t = cascade_store::DEFAULT_POOL)]
    database_pool: u32,
    /// A redis:// URL: rate limits shared with the other nodes of a cluster.
    #[arg(long, env = "CASCADE_REDIS_URL")]
    redis_url: Option<String>,
    /// A nats:// URL: caches, home timelines and streams kept coherent with the other
    /// nodes of a cluster (docs/SCALING.md).
    #[arg(long, env = "CASCADE_NATS_URL")]
    nats_url: Option<String>,
    /// What the cluster's NATS subjects and Redis keys start with.
    #[arg(long, env = "CASCADE_CLUSTER_PREFIX", default_value = "cascade")]
    cluster_prefix: String,
    /// The instance's domain, used in handles and URLs (default: the listen address).
    #[arg(long, env = "CASCADE_DOMAIN")]
    domain: Option<String>,
    /// Where to listen.
    #[arg(long, env = "CASCADE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The address clients reach the server at, when the domain and the listener do not
    /// say it (`https://social.example:8443` behind a proxy serving HTTPS on a port).
    /// URLs the server writes start with it.
    #[arg(long, env = "CASCADE_PUBLIC_URL")]
    public_url: Option<String>,
}

/// HTTPS served by Cascade itself; without these it serves plain HTTP (for loopback, or
/// behind a proxy that terminates TLS).
#[derive(Args, Clone)]
struct TlsArgs {
    /// A PEM certificate chain to serve HTTPS with (with --tls-key); re-read when it
    /// changes, so a renewed certificate needs no restart.
    #[arg(
        long,
        env = "CASCADE_TLS_CERT",
        requires = "tls_key",
        conflicts_with = "acme"
    )]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "CASCADE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Obtain and renew the certificate for --domain automatically over ACME (Let's
    /// Encrypt by default), answering its TLS-ALPN-01 challenge on the listening port
    /// (which must be reachable as port 443 of the domain).
    #[arg(long, env = "CASCADE_ACME")]
    acme: bool,
    /// A contact for the ACME account, `mailto:you@example.org`; repeat for several.
    #[arg(
        long,
        env = "CASCADE_ACME_CONTACT",
        value_delimiter = ',',
        requires = "acme"
    )]
    acme_contact: Vec<String>,
    /// The ACME directory URL.
    #[arg(long, env = "CASCADE_ACME_DIRECTORY", default_value = cascade_server::tls::LETS_ENCRYPT)]
    acme_directory: String,
    /// A PEM CA certificate to trust for the ACME directory's own HTTPS (a private CA).
    #[arg(long, env = "CASCADE_ACME_CA", requires = "acme")]
    acme_ca: Option<PathBuf>,
}

impl TlsArgs {
    fn source(&self, domain: &str, data: &std::path::Path) -> anyhow::Result<Option<TlsSource>> {
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            return Ok(Some(TlsSource::Files {
                cert: cert.clone(),
                key: key.clone(),
                reload_every: std::time::Duration::from_secs(5),
            }));
        }
        if !self.acme {
            return Ok(None);
        }
        let host = domain.rsplit_once(':').map_or(domain, |(host, _)| host);
        anyhow::ensure!(
            !host.is_empty() && host.parse::<std::net::IpAddr>().is_err() && host.contains('.'),
            "--acme needs --domain set to the public name of this server"
        );
        for contact in &self.acme_contact {
            anyhow::ensure!(
                contact.starts_with("mailto:"),
                "--acme-contact must be a mailto: URL, not {contact}"
            );
        }
        Ok(Some(TlsSource::Acme(AcmeSettings {
            domains: vec![host.to_string()],
            contact: self.acme_contact.clone(),
            directory: self.acme_directory.clone(),
            directory_ca: self.acme_ca.clone(),
            cache: data.join("acme"),
        })))
    }
}

// Parsed once at start; boxing the big `Serve` variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        /// Fill an empty store with the demo world first.
        #[arg(long)]
        demo: bool,
        /// Close registrations through the API.
        #[arg(long, env = "CASCADE_CLOSED_REGISTRATIONS")]
        closed_registrations: bool,
        /// New accounts wait for a moderator's approval (the admin API's approve/reject).
        #[arg(long, env = "CASCADE_APPROVAL_REQUIRED")]
        approval_required: bool,
        /// Readers who have not read their home timeline for this many days are skipped by
        /// fan-out; their timeline is rebuilt from the store when they come back.
        #[arg(long, env = "CASCADE_INACTIVE_DAYS", default_value_t = 7)]
        inactive_days: u32,
        /// Authors with more followers than this are merged at read time, not fanned out.
        #[arg(long, env = "CASCADE_CELEBRITY_THRESHOLD", default_value_t = 10_000)]
        celebrity_threshold: i64,
        /// Requests allowed per access token (or client address) every 5 minutes; 0 turns
        /// the limit off.
        #[arg(long, env = "CASCADE_RATE_LIMIT", default_value_t = 300)]
        rate_limit: u32,
        /// A reverse proxy (address or block, `10.0.0.0/8`) whose `X-Forwarded-For` names
        /// the client; repeat it or separate with commas. From any other peer the header is
        /// ignored, so clients cannot choose their own address.
        #[arg(
            long = "trusted-proxy",
            env = "CASCADE_TRUSTED_PROXIES",
            value_delimiter = ','
        )]
        trusted_proxies: Vec<cascade_server::config::IpNet>,
        /// Requests handled at once; past it, 503 with Retry-After.
        #[arg(long, env = "CASCADE_MAX_IN_FLIGHT", default_value_t = 1_024)]
        max_in_flight: usize,
        /// Streaming connections one client address may hold open.
        #[arg(long, env = "CASCADE_STREAMS_PER_ADDRESS", default_value_t = 32)]
        streams_per_address: usize,
        /// Show every status's view counts to everyone (by default only authors see theirs,
        /// unless they opt in).
        #[arg(long, env = "CASCADE_PUBLIC_VIEW_COUNTS")]
        public_view_counts: bool,
        /// Tell an author a post is going viral when SEISMIC predicts this many times the
        /// mean reshares of their recent posts.
        #[arg(long, env = "CASCADE_VIRAL_MULTIPLE", default_value_t = 10.0)]
        viral_multiple: f64,
        /// Send streaming and Web Push events of one notification group (the favourites
        /// of one post, say) at most once per this many seconds; 0 sends every event.
        #[arg(long, env = "CASCADE_COALESCE_SECS", default_value_t = 5.0)]
        coalesce_secs: f64,
        /// Status records kept in memory for rendering, with half as many accounts and four
        /// times as many viewers' marks, and at most 1.6 KB per status in all however long
        /// the records are; 0 turns the record cache off.
        #[arg(long, env = "CASCADE_RECORD_CACHE", default_value_t = RecordCacheConfig::DEFAULT_STATUSES)]
        record_cache: usize,
        /// How long a cached record may be used, in seconds: with several servers on one
        /// PostgreSQL store, how long another server's writes may take to show here.
        #[arg(long, env = "CASCADE_RECORD_CACHE_SECS", default_value_t = RecordCacheConfig::DEFAULT_TTL.as_secs_f64())]
        record_cache_secs: f64,
        /// Megabytes of media (pictures, video, audio) one account may store; past it an
        /// upload is refused with a 422.
        #[arg(long, env = "CASCADE_MEDIA_QUOTA_MB", default_value_t = cascade_core::quota::MEDIA_BYTES_PER_ACCOUNT / (1024 * 1024))]
        media_quota_mb: u64,
        /// Where media files are kept: `folder` (the data folder) or `s3` (an
        /// S3-compatible bucket, named by the `--s3-*` options).
        #[arg(long, env = "CASCADE_MEDIA_STORE", default_value = "folder")]
        media_store: String,
        /// The S3 service's URL (path-style requests), e.g. `https://s3.example.com`.
        #[arg(long, env = "CASCADE_S3_ENDPOINT", default_value = "")]
        s3_endpoint: String,
        #[arg(long, env = "CASCADE_S3_BUCKET", default_value = "")]
        s3_bucket: String,
        #[arg(long, env = "CASCADE_S3_REGION", default_value = "us-east-1")]
        s3_region: String,
        #[arg(long, env = "CASCADE_S3_ACCESS_KEY_ID", default_value = "")]
        s3_access_key_id: String,
        #[arg(
            long,
            env = "CASCADE_S3_SECRET_ACCESS_KEY",
            default_value = "",
            hide_env_values = true
        )]
        s3_secret_access_key: String,
        /// A public base URL serving the stored files by key (a bucket's website, a CDN):
        /// media URLs point there, and this server redirects to it.
        #[arg(long, env = "CASCADE_MEDIA_PUBLIC_URL")]
        media_public_url: Option<String>,
        /// For tests only: let outgoing requests (Web Push) use plain http and reach
        /// loopback and private addresses. Never turn this on in production.
        #[arg(long, env = "CASCADE_INSECURE_ALLOW_PRIVATE_OUTGOING", hide = true)]
        insecure_allow_private_outgoing: bool,
        #[command(flatten)]
        tls: TlsArgs,
        /// A bearer token that may read Prometheus metrics at `/metrics`; without it,
        /// `/metrics` is not served.
        #[arg(long, env = "CASCADE_METRICS_TOKEN")]
        metrics_token: Option<String>,
        #[command(flatten)]
        pages: PageArgs,
    },
    /// Analyse a cascade from a file: `relative_time followers` lines or a `parent->child`
    /// tree. Prints the statistics and the SEISMIC prediction at each observation time.
    Analyze {
        /// The cascade file.
        file: PathBuf,
        /// Observation times in seconds since the original post (default: the last event).
        #[arg(long = "at", num_args = 1..)]
        at: Vec<f64>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Administration on the store.
    Admin {
        #[command(subcommand)]
        command: Admin,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Json,
    Text,
}

#[derive(Subcommand)]
enum Admin {
    /// Create a local user.
    CreateUser {
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print a new bearer token for a user (and nothing else).
    Token {
        name: String,
        #[arg(long, default_value = "read write follow push")]
        scopes: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List a user's live tokens, one a line: id, creation time, application, scopes.
    /// `--revoke ID` revokes one of them, `--revoke all` every one. A running server
    /// refuses a revoked token within 5 seconds (its token cache's lifetime) and closes
    /// the token's streams at their next heartbeat.
    Tokens {
        name: String,
        #[arg(long, value_name = "ID|all")]
        revoke: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print how likely an account is a spam account, and why, as JSON.
    Spam {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Limit an account: its notifications fall under each recipient's policy for limited
    /// accounts (filtered by default). `--lift` removes the limit.
    Limit {
        name: String,
        #[arg(long)]
        lift: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Give an account a staff role for the admin API (`admin` or `moderator`), or take
    /// it away (`none`).
    Role {
        name: String,
        #[arg(value_parser = ["admin", "moderator", "none"])]
        role: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Announcements shown to every user (`GET /api/v1/announcements`): list, create,
    /// edit and delete them.
    Announcements {
        #[command(subcommand)]
        command: AnnouncementCommand,
    },
    /// Suspend an account: its tokens stop working and its posts and profile disappear
    /// from every timeline and endpoint (a running server notices within its record
    /// cache's TTL). `--lift` restores everything.
    Suspend {
        name: String,
        #[arg(long)]
        lift: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// What the instance says about itself (`/api/v1/instance/*`). Page files are plain text:
/// paragraphs separated by blank lines, links made clickable; read once at start.
#[derive(Args, Clone)]
struct PageArgs {
    /// The rules: one rule a line; indented lines below a rule are its hint.
    #[arg(long, env = "CASCADE_RULES_FILE")]
    rules_file: Option<PathBuf>,
    /// The about page's text (`/api/v1/instance/extended_description`).
    #[arg(long, env = "CASCADE_EXTENDED_DESCRIPTION_FILE")]
    extended_description_file: Option<PathBuf>,
    /// The privacy policy; without it, `/api/v1/instance/privacy_policy` answers 404.
    #[arg(long, env = "CASCADE_PRIVACY_POLICY_FILE")]
    privacy_policy_file: Option<PathBuf>,
    /// The terms of service, in effect since the file last changed; without it, 404.
    #[arg(long, env = "CASCADE_TERMS_OF_SERVICE_FILE")]
    terms_of_service_file: Option<PathBuf>,
    /// The contact address (default: admin@DOMAIN).
    #[arg(long, env = "CASCADE_CONTACT_EMAIL")]
    contact_email: Option<String>,
    /// The contact account's username (default: the first account).
    #[arg(long, env = "CASCADE_CONTACT_ACCOUNT")]
    contact_account: Option<String>,
    /// A message shown to people signing up.
    #[arg(long, env = "CASCADE_REGISTRATIONS_MESSAGE")]
    registrations_message: Option<String>,
}

impl PageArgs {
    fn load(&self) -> anyhow::Result<cascade_server::config::InstancePages> {
        use cascade_server::config::{parse_rules, PageText};
        let page = |path: &Option<PathBuf>| {
            path.as_deref()
                .map(PageText::from_file)
                .transpose()
                .map_err(|e| anyhow::anyhow!(e))
        };
        let rules = match page(&self.rules_file)? {
            Some(file) => parse_rules(&file.text).map_err(|e| {
                let path = self.rules_file.as_ref().map(|p| p.display().to_string());
                anyhow::anyhow!("{}: {e}", path.unwrap_or_default())
            })?,
            None => Vec::new(),
        };
        Ok(cascade_server::config::InstancePages {
            rules,
            extended_description: page(&self.extended_description_file)?,
            privacy_policy: page(&self.privacy_policy_file)?,
            terms_of_service: page(&self.terms_of_service_file)?,
            contact_email: self.contact_email.clone(),
            contact_account: self.contact_account.clone(),
            registrations_message: self.registrations_message.clone(),
        })
    }
}

#[derive(Subcommand)]
enum AnnouncementCommand {
    /// Print every announcement, one JSON object a line, oldest first.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Publish an announcement now; prints its id.
    Create {
        /// The text: plain text with links, #hashtags and @mentions, as in a post.
        text: String,
        #[command(flatten)]
        when: AnnouncementTimes,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Replace an announcement's text and times.
    Edit {
        id: cascade_core::Id,
        text: String,
        #[command(flatten)]
        when: AnnouncementTimes,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove an announcement, with its dismissals and reactions.
    Delete {
        id: cascade_core::Id,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// When an announced event starts and ends (RFC 3339); it is shown until `--ends-at`.
#[derive(Args, Clone)]
struct AnnouncementTimes {
    #[arg(long)]
    starts_at: Option<String>,
    #[arg(long)]
    ends_at: Option<String>,
    /// The event takes whole days: clients show dates only.
    #[arg(long)]
    all_day: bool,
}

impl AnnouncementTimes {
    fn draft(&self, text: String) -> anyhow::Result<app::announcements::Draft> {
        let parse = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<i64>> {
            v.as_deref()
                .map(|t| {
                    cascade_core::time::parse_rfc3339(t)
                        .with_context(|| format!("--{flag} {t:?} is not an RFC 3339 time"))
                })
                .transpose()
        };
        Ok(app::announcements::Draft {
            text,
            starts_at: parse("starts-at", &self.starts_at)?,
            ends_at: parse("ends-at", &self.ends_at)?,
            all_day: self.all_day,
        })
    }
}

/// `cascade admin announcements ...`: thin callers of `app::announcements`.
async fn admin_announcements(command: AnnouncementCommand) -> anyhow::Result<()> {
    let uc = |e: cascade_server::ApiError| anyhow::anyhow!("{e}");
    match command {
        AnnouncementCommand::List { store } => {
            let state = cascade_server::open(config(&store)?).await?;
            for a in app::announcements::all(&state).await.map_err(uc)? {
                let line = serde_json::json!({
                    "id": a.id.to_string(),
                    "text": a.text,
                    "starts_at": a.starts_at.map(cascade_core::time::rfc3339),
                    "ends_at": a.ends_at.map(cascade_core::time::rfc3339),
                    "all_day": a.all_day,
                    "published_at": cascade_core::time::rfc3339(a.published_at),
                    "updated_at": cascade_core::time::rfc3339(a.updated_at),
                });
                println!("{line}");
            }
        }
        AnnouncementCommand::Create { text, when, store } => {
            let draft = when.draft(text)?;
            let state = cascade_server::open(config(&store)?).await?;
            let a = app::announcements::create(&state, draft)
                .await
                .map_err(uc)?;
            state.settle().await;
            println!("{}", a.id);
        }
        AnnouncementCommand::Edit {
            id,
            text,
            when,
            store,
        } => {
            let draft = when.draft(text)?;
            let state = cascade_server::open(config(&store)?).await?;
            app::announcements::edit(&state, id, draft)
                .await
                .map_err(uc)?;
            state.settle().await;
            eprintln!("announcement {id} updated");
        }
        AnnouncementCommand::Delete { id, store } => {
            let state = cascade_server::open(config(&store)?).await?;
            app::announcements::delete(&state, id).await.map_err(uc)?;
            state.settle().await;
            eprintln!("announcement {id} deleted");
        }
    }
    Ok(())
}

fn config(store: &StoreArgs) -> anyhow::Result<Config> {
    let mut config = Config::new(
        store.listen,
        store.data.clone(),
        store.domain.clone(),
        store.database_url.clone(),
    );
    config.database_pool = store.database_pool;
    config.redis_url = store.redis_url.clone();
    config.nats_url = store.nats_url.clone();
    config.cluster_prefix = store.cluster_prefix.clone();
    if let Some(url) = &store.public_url {
        config
            .set_public_url(url)
            .map_err(|e| anyhow::anyhow!("--public-url {e}"))?;
    }
    Ok(config)
}

fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line with its causes, never a backtrace: these are the user's errors.
            eprintln!("Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CASCADE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    match cli.command {
        Command::Serve {
            store,
            demo: with_demo,
            closed_registrations,
            approval_required,
            inactive_days,
            celebrity_threshold,
            rate_limit,
            public_view_counts,
            viral_multiple,
            coalesce_secs,
            record_cache,
            record_cache_secs,
            trusted_proxies,
            max_in_flight,
            streams_per_address,
            media_quota_mb,
            media_store,
            s3_endpoint,
            s3_bucket,
            s3_region,
            s3_access_key_id,
            s3_secret_access_key,
            media_public_url,
            insecure_allow_private_outgoing,
            tls,
            metrics_token,
            pages,
        } => {
            let mut config = config(&store)?;
            if let Some(source) = tls.source(&config.domain, &config.data_dir)? {
                config.serve_tls(source);
                if let Some(url) = &store.public_url {
                    config
                        .set_public_url(url)
                        .map_err(|e| anyhow::anyhow!("--public-url {e}"))?;
                }
            }
            config.pages = pages.load()?;
            config.registrations_open = !closed_registrations;
            config.approval_required = approval_required;
            config.fanout.celebrity_threshold = celebrity_threshold;
            config.fanout.inactive_after_ms = i64::from(inactive_days) * 86_400_000;
            config.public_view_counts = public_view_counts;
            if insecure_allow_private_outgoing {
                tracing::warn!("outgoing requests may reach private addresses: tests only");
            }
            config.allow_private_outgoing = insecure_allow_private_outgoing;
            if !(viral_multiple.is_finite() && viral_multiple > 0.0) {
                anyhow::bail!("--viral-multiple must be a positive number");
            }
            config.viral_multiple = viral_multiple;
            if !(coalesce_secs.is_finite() && coalesce_secs >= 0.0) {
                anyhow::bail!("--coalesce-secs must be zero or a positive number");
            }
            config.coalesce_ms = (coalesce_secs * 1000.0).round() as i64;
            let ttl = std::time::Duration::try_from_secs_f64(record_cache_secs)
                .ok()
                .filter(|ttl| !ttl.is_zero())
                .context("--record-cache-secs must be a positive number")?;
            config.record_cache = RecordCacheConfig::with_capacity(record_cache, ttl);
            config.rate_limit = (rate_limit > 0).then(|| cascade_server::throttle::RateLimit {
                requests: rate_limit,
                window: std::time::Duration::from_secs(300),
            });
            config.trusted_proxies = trusted_proxies;
            config.max_in_flight = max_in_flight;
            config.streams_per_address = streams_per_address;
            config.metrics_token = metrics_token.filter(|t| !t.is_empty());
            config.media_quota_bytes = media_quota_mb.saturating_mul(1024 * 1024);
            config.media_store = match media_store.as_str() {
                "folder" => None,
                "s3" => {
                    if s3_endpoint.is_empty() || s3_bucket.is_empty() {
                        anyhow::bail!("--media-store s3 needs --s3-endpoint and --s3-bucket");
                    }
                    let settings = cascade_server::media::storage::S3Settings {
                        endpoint: s3_endpoint,
                        bucket: s3_bucket,
                        region: s3_region,
                        access_key_id: s3_access_key_id,
                        secret_access_key: s3_secret_access_key,
                    };
                    Some(cascade_server::media::MediaStore::s3(&settings)?)
                }
                other => anyhow::bail!("--media-store must be folder or s3, not {other:?}"),
            };
            config.media_public_url = media_public_url.filter(|u| !u.is_empty());
            let state = cascade_server::open(config).await?;
            let listener = tokio::net::TcpListener::bind(state.config.listen)
                .await
                .with_context(|| format!("binding {}", state.config.listen))?;
            if with_demo {
                run_demo(&state).await?;
            }
            eprintln!(
                "Cascade is listening on {} ({} store)",
                state.config.base_url,
                state.store.backend()
            );
            cascade_server::serve(state, listener, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
        }
        Command::Analyze { file, at, format } => analyze(&file, &at, format),
        Command::Admin {
            command:
                Admin::CreateUser {
                    name,
                    email,
                    password,
                    store,
                },
        } => {
            let state = cascade_server::open(config(&store)?).await?;
            let account =
                app::accounts::register(&state, &name, &email, &password, Default::default())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!("created @{} (id {})", account.username, account.id);
            Ok(())
        }
        Command::Admin {
            command:
                Admin::Tokens {
                    name,
                    revoke,
                    store,
                },
        } => admin_tokens(&store, &name, revoke.as_deref()).await,
        Command::Admin {
            command: Admin::Spam { name, store },
        } => {
            let (state, account) = open_with_account(&store, &name).await?;
            let a = app::spam::assess(&state, account.id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let verdict = serde_json::json!({
                "account": account.username,
                "likelihood": (a.likelihood * 1000.0).round() / 1000.0,
                "spam": a.is_spam(),
                "reasons": a.reasons,
            });
            println!("{verdict}");
            Ok(())
        }
        Command::Admin {
            command: Admin::Role { name, role, store },
        } => {
            let (state, account) = open_with_account(&store, &name).await?;
            let role = (role != "none").then_some(role.as_str());
            app::admin::set_role(&state, account.id, role)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            state.settle().await;
            eprintln!(
                "@{} is {}",
                account.username,
                role.map_or("no longer staff".to_string(), str::to_string)
            );
            Ok(())
        }
        Command::Admin {
            command: Admin::Limit { name, lift, store },
        } => {
            let (state, account) = open_with_account(&store, &name).await?;
            app::admin::limit(&state, account.id, !lift)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            state.settle().await;
            eprintln!(
                "@{} is {}",
                account.username,
                if lift { "no longer limited" } else { "limited" }
            );
            Ok(())
        }
        Command::Admin {
            command: Admin::Announcements { command },
        } => admin_announcements(command).await,
        Command::Admin {
            command: Admin::Suspend { name, lift, store },
        } => {
            let (state, account) = open_with_account(&store, &name).await?;
            app::accounts::suspend(&state, account.id, !lift)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            state.settle().await;
            eprintln!(
                "@{} is {}",
                account.username,
                if lift {
                    "no longer suspended"
                } else {
                    "suspended"
                }
            );
            Ok(())
        }
        Command::Admin {
            command:
                Admin::Token {
                    name,
                    scopes,
                    store,
                },
        } => {
            let (state, account) = open_with_account(&store, &name).await?;
            state
                .store
                .user(account.id)
                .await
                .with_context(|| format!("{name} is not a local user"))?;
            let scopes = parse_scopes(&scopes).map_err(|e| anyhow::anyhow!(e))?;
            let token =
                app::accounts::issue_token(&state, Some(account.id), None, &scopes.join(" "))
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", token.access_token);
            Ok(())
        }
    }
}

/// `cascade admin tokens`: lists the account's live tokens, or revokes one or all.
async fn admin_tokens(store: &StoreArgs, name: &str, revoke: Option<&str>) -> anyhow::Result<()> {
    let (state, account) = open_with_account(store, name).await?;
    let tokens = app::tokens::of_account(&state, account.id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(which) = revoke else {
        for token in &tokens {
            let issuer = match token.app_id {
                Some(app) => state.store.app(app).await?.name,
                None => "cascade admin token".to_string(),
            };
            println!(
                "{}\t{}\t{}\t{}",
                token.id,
                cascade_core::time::rfc3339(token.created_at),
                issuer,
                token.scopes
            );
        }
        return Ok(());
    };
    let ids: Vec<cascade_core::Id> = if which == "all" {
        tokens.iter().map(|t| t.id).collect()
    } else {
        let id = which
            .parse::<cascade_core::Id>()
            .ok()
            .filter(|id| tokens.iter().any(|t| t.id == *id))
            .with_context(|| format!("@{} has no live token {which}", account.username))?;
        vec![id]
    };
    for id in &ids {
        app::tokens::revoke(&state, *id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    state.settle().await;
    eprintln!("revoked {} token(s) of @{}", ids.len(), account.username);
    Ok(())
}

async fn run_demo(state: &AppState) -> anyhow::Result<()> {
    if state.store.count_users().await? > 0 {
        eprintln!("The store already has users; the demo world is built only into an empty store.");
        eprintln!("{}", demo::welcome(&state.config.base_url));
        return Ok(());
    }
    eprintln!("Building the demo world...");
    let summary = demo::build(
        &state.store,
        &state.ids,
        &state.config.domain,
        &state.config.base_url,
    )
    .await?;
    demo::illustrate(state, &summary).await?;
    demo::greet(state).await?;
    eprintln!(
        "Demo world: {} accounts, {} statuses. The viral post: {}\n{}",
        summary.accounts,
        summary.statuses,
        state.url(&format!(
            "/@{}/{}",
            summary.viral_author, summary.viral_status_id
        )),
        demo::welcome(&state.config.base_url)
    );
    Ok(())
}

fn analyze(file: &std::path::Path, at: &[f64], format: Format) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let input = cascade_server::analyze::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if let Some(bad) = at.iter().find(|t| !t.is_finite() || **t < 0.0) {
        anyhow::bail!("--at {bad}: observation times are seconds since the original post");
    }
    let results = cascade_server::analyze::analyze(&input, at).map_err(|e| anyhow::anyhow!(e))?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&results)?),
        Format::Text => {
            for r in results {
                print!("at {:.0} s: {} reshares", r.at, r.observed);
                if let Some(t) = &r.tree {
                    print!(
                        ", depth {}, structural virality {:.3}",
                        t.depth, t.structural_virality
                    );
                }
                if let Some(p) = &r.prediction {
                    match p.final_reshares {
                        Some(f) => print!(", predicted final {f:.0}"),
                        None => print!(", supercritical (no finite prediction)"),
                    }
                    print!(" (infectiousness {:.4})", p.infectiousness);
                }
                println!();
            }
        }
    }
    Ok(())
}

/// The store the admin command names, and the account called `name` in it.
async fn open_with_account(
    store: &StoreArgs,
    name: &str,
) -> anyhow::Result<(cascade_server::AppState, cascade_store::Account)> {
    let state = cascade_server::open(config(store)?).await?;
    let account = state
        .store
        .account_by_username(name)
        .await
        .with_context(|| format!("no user named {name}"))?;
    Ok((state, account))
}
