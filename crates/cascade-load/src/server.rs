//! The server under load: started by the tool (the `cascade` binary beside this one) or
//! already running elsewhere; its CPU time and memory read from `/proc` when its process
//! id is known.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server to drive: its address (the first node's, for a cluster driven node by node)
/// and its nodes' addresses, and where known their processes.
pub struct Server {
    pub addr: SocketAddr,
    /// Every node's address; connections and pollers take them in turn.
    pub addrs: Vec<SocketAddr>,
    pub host: String,
    /// The processes whose CPU time and memory are added up as the server's.
    pub pids: Vec<u32>,
    /// The bearer token for `/metrics`, when known.
    pub metrics_token: Option<String>,
    child: Option<Child>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The `cascade` binary next to this one (both are built into the same target folder).
pub fn sibling_binary() -> Option<PathBuf> {
    let me = std::env::current_exe().ok()?;
    let candidate = me.parent()?.join("cascade");
    candidate.exists().then_some(candidate)
}

impl Server {
    /// Starts `binary serve` on a free loopback port with limits off, so the load measures
    /// the work and not the throttles.
    pub async fn start(
        binary: &Path,
        data: &Path,
        database_url: Option<&str>,
    ) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .arg("--data")
            .arg(data)
            .args(["--listen", &addr.to_string()])
            .args(["--rate-limit", "0"])
            .args(["--streams-per-address", "1000000"])
            .args(["--max-in-flight", "100000"])
            .env("CASCADE_LOG", "warn")
            .env_remove("CASCADE_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(url) = database_url {
            command.args(["--database-url", url]);
        }
        let metrics_token = format!("load-{port}-{}", std::process::id());
        command.args(["--metrics-token", &metrics_token]);
        let child = command.spawn()?;
        let pid = child.id();
        let server = Server {
            addr,
            addrs: vec![addr],
            host: addr.to_string(),
            pids: vec![pid],
            metrics_token: Some(metrics_token),
            child: Some(child),
        };
        server.wait_ready(Duration::from_secs(120)).await?;
        Ok(server)
    }

    /// A server someone else runs, at `urls` (`http://host:port`): one URL for a server or
    /// a cluster's load balancer, several for a cluster's nodes driven directly.
    pub async fn external(
        urls: &[String],
        pids: Vec<u32>,
        metrics_token: Option<String>,
    ) -> anyhow::Result<Server> {
        let mut addrs = Vec::new();
        let mut host = String::new();
        for url in urls {
            let rest = url
                .strip_prefix("http://")
                .ok_or_else(|| anyhow::anyhow!("--url must be http://host:port"))?
                .trim_end_matches('/');
            addrs.push(
                tokio::net::lookup_host(rest)
                    .await?
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("{rest} does not resolve"))?,
            );
            if host.is_empty() {
                host = rest.to_string();
            }
        }
        anyhow::ensure!(!addrs.is_empty(), "no --url");
        let server = Server {
            addr: addrs[0],
            addrs,
            host,
            pids,
            metrics_token,
            child: None,
        };
        server.wait_ready(Duration::from_secs(30)).await?;
        Ok(server)
    }

    /// The address of the `i`-th connection or poller: the nodes in turn.
    pub fn addr_for(&self, i: usize) -> SocketAddr {
        self.addrs[i % self.addrs.len()]
    }

    async fn wait_ready(&self, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        for &addr in &self.addrs {
            loop {
                let call = crate::drive::Call::get("/api/v1/health", None);
                if let Ok((200, _)) = crate::drive::once(addr, &self.host, &call).await {
                    break;
                }
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "the server at {addr} never answered"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// The job queue from the server's own metrics: jobs waiting, and the oldest one's
    /// age in seconds.
    pub async fn job_queue(&self) -> Option<(f64, f64)> {
        let call = crate::drive::Call::get("/metrics", self.metrics_token.as_deref());
        let mut conn = crate::drive::connect(self.addr).await?;
        let (body, status, _) = crate::drive::exchange(&mut conn, &self.host, &call)
            .await
            .ok()?;
        if status != 200 {
            return None;
        }
        let text = String::from_utf8_lossy(&body);
        let value = |line: &str| line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
        let queued = text
            .lines()
            .filter(|l| l.starts_with("cascade_jobs_queued{"))
            .filter_map(value)
            .fold(0.0, |a, b| a + b);
        let oldest = text
            .lines()
            .filter(|l| l.starts_with("cascade_oldest_job_age_seconds{"))
            .filter_map(value)
            .fold(0.0, f64::max);
        Some((queued, oldest))
    }

    /// The processes' CPU time so far, in seconds, added up.
    pub fn cpu_seconds(&self) -> Option<f64> {
        self.add_up(cpu_seconds_of)
    }

    /// Resident memory now and at its peak, in MB, each added up over the processes.
    pub fn memory_mb(&self) -> Option<(f64, f64)> {
        let now = self.add_up(|pid| memory_mb_of(pid).map(|(rss, _)| rss))?;
        let peak = self.add_up(|pid| memory_mb_of(pid).map(|(_, peak)| peak))?;
        Some((now, peak))
    }

    /// The sum of `read` over the processes, when every one could be read.
    fn add_up(&self, read: impl Fn(u32) -> Option<f64>) -> Option<f64> {
        if self.pids.is_empty() {
            return None;
        }
        self.pids.iter().map(|&pid| read(pid)).sum()
    }
}

/// A process's CPU time so far, in seconds.
fn cpu_seconds_of(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

/// A process's resident memory now and at its peak, in MB.
fn memory_mb_of(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}
