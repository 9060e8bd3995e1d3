//! Cascade's server: the Mastodon client API (`api`), the use cases and entities behind it
//! (`app`), the job worker (`worker`), the OAuth pages (`web`), and the demo world (`demo`).
//!
//! Requests go handler → use case → store; every consequence of a write is a durable job
//! written in the write's transaction, which the worker performs, so no request waits for
//! them and a crash loses none.

pub mod analyze;
pub mod api;
pub mod app;
pub mod config;
pub mod demo;
pub mod error;
pub mod outgoing;
pub mod search;
pub mod secrets;
pub mod state;
pub mod throttle;
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
    let store = Store::connect(&config.database_url).await?;
    let state = AppState::new(config, store);
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
    if state.config.worker {
        tokio::spawn(worker::run(state.clone()));
    }
    tokio::spawn(app::views::run_flusher(state.clone()));
    tokio::spawn(app::push::run_worker(state.clone()));
    tokio::spawn(app::trends::run_worker(state.clone()));
    let app = api::router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}
