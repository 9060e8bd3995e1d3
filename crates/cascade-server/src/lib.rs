//! Cascade's server: the Mastodon client API (`api`), the use cases and entities behind it
//! (`app`), the job worker (`worker`), the OAuth pages (`web`), and the demo world (`demo`).
//!
//! Requests go handler → use case → store; every consequence of a write is a durable job
//! written in the write's transaction, which the worker performs, so no request waits for
//! them and a crash loses none.

pub mod analyze;
pub mod api;
pub mod app;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod error;
pub mod httpsig;
pub mod media;
pub mod metrics;
pub mod outgoing;
pub mod passwords;
pub mod search;
pub mod secrets;
pub mod state;
pub mod throttle;
pub mod tls;
pub mod web;
pub mod webpush;
pub mod worker;

pub use config::Config;
pub use error::ApiError;
pub use state::AppState;

use cascade_store::Store;

/// Opens the store named by the configuration (creating the data folder for SQLite) and
/// builds the state.
pub async fn open(config: Config) -> anyhow::Result<AppState> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let store = Store::connect_pooled(&config.database_url, config.database_pool).await?;
    let cluster = cluster::Cluster::connect(&config).await?;
    let state = AppState::with_cluster(config, store, cluster);
    // Made on the first start, so clients see the same key from then on.
    app::push::vapid(&state).await?;
    app::away::load(&state).await?;
    app::watch::load(&state).await?;
    Ok(state)
}

/// Serves the API on a bound listener, with the job, push and other workers running beside
/// it, until `shutdown` completes. The command line and the black-box tests both start the
/// server through here.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // A search index that cannot catch up finds less; the server still serves.
    match app::search::catch_up(&state).await {
        Ok(indexed) => tracing::info!(indexed, "the search index is up to date"),
        Err(e) => tracing::warn!(error = %e, "the search index could not catch up"),
    }
    tokio::spawn(app::search::run_committer(state.clone()));
    if let Err(e) = app::emojis::reload(&state).await {
        tracing::warn!(error = %e, "the custom emojis could not be read");
    }
    tokio::spawn(app::emojis::run_refresher(state.clone()));
    if state.media.ffmpeg.is_none() {
        tracing::warn!(
            "ffmpeg and ffprobe were not found (or are turned off): video and audio uploads are refused; install Debian's ffmpeg to accept them"
        );
    }
    tokio::spawn(app::media::run_sweeper(state.clone()));
    tokio::spawn(cluster::run_listener(state.clone()));
    tokio::spawn(cluster::run_resync(state.clone()));
    if state.config.worker {
        tokio::spawn(worker::run(state.clone()));
        tokio::spawn(app::clock::run(state.clone()));
    }
    tokio::spawn(app::views::run_flusher(state.clone()));
    tokio::spawn(app::push::run_worker(state.clone()));
    tokio::spawn(app::trends::run_worker(state.clone()));
    let mut limits = ConnectionLimits::from(&state.config);
    if let Some(source) = &state.config.tls {
        limits.tls = Some(tls::Tls::start(source)?);
    }
    let app = api::router(state);
    serve_http(app, listener, limits, shutdown).await;
    Ok(())
}

/// What one connection may take: how long to send headers (or sit idle between
/// requests), and how many connections may be open at once.
struct ConnectionLimits {
    header_read_timeout: std::time::Duration,
    max_connections: usize,
    /// HTTPS when set.
    tls: Option<tls::Tls>,
}

impl From<&Config> for ConnectionLimits {
    fn from(config: &Config) -> Self {
        ConnectionLimits {
            header_read_timeout: config.header_read_timeout,
            max_connections: config.max_connections,
            tls: None,
        }
    }
}

/// The HTTP/1 server loop. `axum::serve` sets no header-read timeout, so a client that
/// sends its headers one byte a minute (slowloris) held a socket forever; hyper's own
/// `header_read_timeout` closes it, and also a kept-alive connection left idle that long.
/// Connections past the cap are closed at once. On shutdown, open connections finish
/// their request in flight and close; streams get a grace period of 10 s.
async fn serve_http(
    app: axum::Router,
    listener: tokio::net::TcpListener,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let connections =
        std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let (closing, closing_rx) = tokio::sync::watch::channel(());
    let (open, open_rx) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, mostly: wait for some to close.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let app = app.clone();
        let closing = closing_rx.clone();
        let open = open_rx.clone();
        let header_read_timeout = limits.header_read_timeout;
        let tls = limits.tls.clone();
        tokio::spawn(async move {
            let _held = (permit, open);
            match tls {
                None => {
                    serve_connection(stream, peer, None, app, header_read_timeout, closing).await
                }
                Some(tls) => {
                    // The handshake counts against the header-read timeout, so a client
                    // that never says hello cannot hold the socket.
                    let accepted =
                        tokio::time::timeout(header_read_timeout, tls.accept(stream)).await;
                    if let Ok(Ok(Some(stream))) = accepted {
                        serve_connection(
                            stream,
                            peer,
                            Some(tls::Encrypted),
                            app,
                            header_read_timeout,
                            closing,
                        )
                        .await;
                    }
                }
            }
        });
    }
    let _ = closing.send(());
    drop(open_rx);
    // Streams never finish on their own: past this grace period they are cut.
    let grace = std::time::Duration::from_secs(10);
    if tokio::time::timeout(grace, open.closed()).await.is_err() {
        tracing::info!("closing the connections still open after the grace period");
    }
}

/// `/api/v1/reports/` is `/api/v1/reports`, as Rails routes answer both spellings and
/// clients use both (Mastodon.py posts reports and reads the instance with the slash).
fn without_trailing_slash<B>(request: &mut hyper::Request<B>) {
    let path = request.uri().path();
    if path.len() < 2 || !path.ends_with('/') {
        return;
    }
    let trimmed = path.trim_end_matches('/');
    let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
    let rebuilt = match request.uri().query() {
        Some(query) => format!("{trimmed}?{query}"),
        None => trimmed.to_string(),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(path_and_query) = rebuilt.parse() {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = hyper::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
}

/// Serves HTTP/1 on one connection, plain or TLS, until it closes or the server shuts
/// down. Over TLS every response carries HSTS.
async fn serve_connection<IO>(
    io: IO,
    peer: std::net::SocketAddr,
    encrypted: Option<tls::Encrypted>,
    app: axum::Router,
    header_read_timeout: std::time::Duration,
    mut closing: tokio::sync::watch::Receiver<()>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use hyper::service::Service as _;

    let tower = hyper_util::service::TowerToHyperService::new(app);
    let service =
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            if let Some(encrypted) = encrypted {
                request.extensions_mut().insert(encrypted);
            }
            without_trailing_slash(&mut request);
            let response = tower.call(request);
            async move {
                let mut response = response.await?;
                if encrypted.is_some() {
                    response.headers_mut().insert(
                        hyper::header::STRICT_TRANSPORT_SECURITY,
                        hyper::header::HeaderValue::from_static(tls::HSTS),
                    );
                }
                Ok::<_, std::convert::Infallible>(response)
            }
        });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let connection = builder
        .serve_connection(hyper_util::rt::TokioIo::new(io), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = closing.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
