//! `cascade-load`: generates a world, drives a Cascade server over loopback with named,
//! bounded scenarios, and reports requests per second, latency percentiles, errors by
//! status, the server's CPU and memory, and each scenario's ratio to `health` in the
//! same run (these machines are noisy: only ratios within one run compare).
//!
//! ```sh
//! cargo build --release -p cascade-server -p cascade-load
//! target/release/cascade-load --accounts 500 --duration 10 --out load.json
//! ```
//!
//! By default it writes the world into a fresh data folder and starts the `cascade`
//! binary beside it on that folder. With `--url` it drives a server (or a cluster's load
//! balancer) that runs on `--database-url`, into which it writes the world first.

mod drive;
mod scenarios;
mod server;
mod world;

use std::path::PathBuf;

use clap::Parser;

/// The scenarios, in the order they run.
pub const ALL: &[&str] = &[
    "health",
    "instance",
    "verify",
    "home",
    "public",
    "tag",
    "notifications",
    "grouped",
    "mixed",
    "burst",
    "celebrity",
    "websockets",
];

#[derive(Parser, Debug, Clone)]
#[command(name = "cascade-load", version, about)]
pub struct Args {
    /// Accounts in the generated world.
    #[arg(long, default_value_t = 500)]
    pub accounts: usize,
    /// Posts per account (a tenth of them reshares).
    #[arg(long, default_value_t = 10)]
    pub posts_per_account: usize,
    /// Accounts with tokens that act (the burst's crowd); at most --accounts.
    #[arg(long, default_value_t = 500)]
    pub actors: usize,
    /// Concurrent connections of the request scenarios.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Seconds each request scenario runs.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds each request scenario runs unmeasured first, so that caches are warm
    /// (a cluster has a set per node, each warmed by its own share of the requests).
    #[arg(long, default_value_t = 0.0)]
    pub warmup: f64,
    /// Which scenarios, comma-separated (default: all). `health` always runs first.
    #[arg(long, value_delimiter = ',')]
    pub scenarios: Vec<String>,
    /// Requests the burst keeps in flight.
    #[arg(long, default_value_t = 64)]
    pub burst_concurrency: usize,
    /// Followers of the celebrity whose home timelines are watched for its post.
    #[arg(long, default_value_t = 50)]
    pub celebrity_sample: usize,
    /// Idle streaming connections in the websockets scenario.
    #[arg(long, default_value_t = 500)]
    pub websockets: usize,
    /// The `cascade` binary to start (default: the one beside this tool).
    #[arg(long)]
    pub server: Option<PathBuf>,
    /// The data folder for the started server (default: a temporary one).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// A postgres:// store for the world (and for the started server).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Drive a running server at this http:// URL instead of starting one; the world is
    /// written into --database-url, which it must use. Several, comma-separated, are a
    /// cluster's nodes: connections, pollers and sockets take them in turn.
    #[arg(long, requires = "database_url", value_delimiter = ',')]
    pub url: Vec<String>,
    /// The process ids of the --url server (or of each node), to read their CPU and
    /// memory, added up.
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// Most accounts each account follows, besides the celebrity (a million-account
    /// world with a few follows each is the celebrity's million followers, not a hundred
    /// million follow rows).
    #[arg(long, default_value_t = 200)]
    pub follows_max: usize,
    /// Keep the world's description here: when the file exists the world is not
    /// generated again but taken from the store as the file describes it (a big world is
    /// written once and driven by several servers in turn).
    #[arg(long)]
    pub world: Option<PathBuf>,
    /// The --url server's `--metrics-token`, to read its job queue after each scenario.
    #[arg(long)]
    pub metrics_token: Option<String>,
    /// Write the results as JSON here too.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(scenarios::run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
