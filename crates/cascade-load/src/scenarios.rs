//! The named scenarios and the report.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::{json, Value};

use crate::drive::{self, Call, Outcome, Until};
use crate::server::{self, Server};
use crate::world::{self, World};
use crate::{Args, ALL};

/// Accounts whose notifications the notification scenarios read (they are mentioned in
/// the set-up posts).
const READERS: usize = 32;
const TAG: &str = "loadtest";

/// One scenario's line of the report.
#[derive(Debug, Clone, Serialize)]
struct Row {
    scenario: String,
    #[serde(flatten)]
    outcome: Option<Outcome>,
    /// `per_second` over `health`'s in this run.
    ratio_to_health: Option<f64>,
    server_cpu_percent: Option<f64>,
    server_rss_mb: Option<f64>,
    /// What else the scenario measured (counts, delivery times).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extra: BTreeMap<String, Value>,
}

struct Ctx {
    args: Args,
    server: Server,
    world: Arc<World>,
    /// A fresh post of actor 1 that the burst favourites and reblogs.
    burst_target: String,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let chosen: Vec<&str> = if args.scenarios.is_empty() {
        ALL.to_vec()
    } else {
        for s in &args.scenarios {
            anyhow::ensure!(
                ALL.contains(&s.as_str()),
                "no scenario {s}; there are {}",
                ALL.join(", ")
            );
        }
        ALL.iter()
            .copied()
            .filter(|s| *s == "health" || args.scenarios.iter().any(|c| c == s))
            .collect()
    };
    let temp = tempfile::tempdir()?;
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| temp.path().join("data"));
    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", data.join("cascade.db").display()));
    let started = Instant::now();
    let size = world::Size {
        accounts: args.accounts,
        posts_per_account: args.posts_per_account,
        actors: args.actors.min(args.accounts),
        follows_max: args.follows_max,
    };
    let kept = match &args.world {
        Some(path) if path.exists() => {
            Some(serde_json::from_slice::<World>(&std::fs::read(path)?)?)
        }
        _ => None,
    };
    let world = match kept {
        Some(world) => world,
        None => {
            let spinner = ProgressBar::new_spinner();
            spinner.enable_steady_tick(Duration::from_millis(200));
            let world = world::generate(&database_url, &data, size, |step| {
                spinner.set_message(format!("world: {step}"))
            })
            .await?;
            spinner.finish_and_clear();
            if let Some(path) = &args.world {
                std::fs::write(path, serde_json::to_vec(&world)?)?;
            }
            world
        }
    };
    eprintln!(
        "world: {} accounts, {} follows, {} posts, {} actors, in {:.1?}",
        world.accounts,
        world.follows,
        world.posts,
        world.actors.len(),
        started.elapsed()
    );
    let server = match () {
        _ if !args.url.is_empty() => {
            Server::external(
                &args.url,
                args.server_pid.clone(),
                args.metrics_token.clone(),
            )
            .await?
        }
        _ => {
            let binary = args
                .server
                .clone()
                .or_else(server::sibling_binary)
                .ok_or_else(|| {
                    anyhow::anyhow!("no cascade binary beside this one: pass --server")
                })?;
            Server::start(&binary, &data, args.database_url.as_deref()).await?
        }
    };
    let mut ctx = Ctx {
        args: args.clone(),
        server,
        world: Arc::new(world),
        burst_target: String::new(),
    };
    set_up(&mut ctx).await?;

    let mut rows: Vec<Row> = Vec::new();
    for name in chosen {
        let cpu_before = ctx.server.cpu_seconds();
        let began = Instant::now();
        let (outcome, mut extra) = match name {
            "burst" => burst(&ctx).await?,
            "celebrity" => (None, celebrity(&ctx).await?),
            "websockets" => (None, websockets(&ctx).await?),
            _ => (Some(requests(&ctx, name).await), BTreeMap::new()),
        };
        let wall = began.elapsed().as_secs_f64();
        // What the scenario left for the worker: jobs still queued when it ended.
        if let Some((queued, oldest)) = ctx.server.job_queue().await {
            extra.insert("jobs_queued_after".into(), json!(queued));
            extra.insert("oldest_job_age_s".into(), json!(oldest));
        }
        let cpu = match (cpu_before, ctx.server.cpu_seconds()) {
            (Some(a), Some(b)) => Some(100.0 * (b - a) / wall),
            _ => None,
        };
        let health = rows
            .first()
            .and_then(|r| r.outcome.as_ref())
            .map(|o| o.per_second);
        let ratio = match (&outcome, health) {
            (Some(o), Some(h)) if h > 0.0 => Some(o.per_second / h),
            _ => None,
        };
        rows.push(Row {
            scenario: name.to_string(),
            outcome,
            ratio_to_health: ratio,
            server_cpu_percent: cpu,
            server_rss_mb: ctx.server.memory_mb().map(|(rss, _)| rss),
            extra,
        });
    }
    print_table(&rows);
    let report = json!({
        "world": { "accounts": ctx.world.accounts, "follows": ctx.world.follows,
                   "posts": ctx.world.posts, "actors": ctx.world.actors.len() },
        "connections": args.connections,
        "duration_secs": args.duration,
        "server_peak_rss_mb": ctx.server.memory_mb().map(|(_, peak)| peak),
        "scenarios": rows,
    });
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_string_pretty(&report)?)?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

/// Posts with the tag, each mentioning one of the readers, and a post for the burst.
async fn set_up(ctx: &mut Ctx) -> anyhow::Result<()> {
    let actors = &ctx.world.actors;
    let readers = READERS.min(actors.len() - 1);
    let posts = 400;
    let sent = Arc::new(AtomicU64::new(0));
    let world = ctx.world.clone();
    let outcome = drive::run(
        &ctx.server.addrs,
        &ctx.server.host,
        8,
        Until::Count(posts),
        sent,
        move |worker, n| {
            let i = worker * 1_000 + n as usize;
            let author = &world.actors[i % world.actors.len()];
            let reader = &world.actors[1 + i % readers];
            Some(Call::post(
                "/api/v1/statuses",
                &author.token,
                json!({ "status": format!("Load post {i} about #{TAG}, hello @{}", reader.username) }),
            ))
        },
    )
    .await;
    anyhow::ensure!(
        outcome.errors.is_empty(),
        "set-up posts failed: {:?}",
        outcome.errors
    );
    let (status, post) = drive::once(
        ctx.server.addr,
        &ctx.server.host,
        &Call::post(
            "/api/v1/statuses",
            &actors[1].token,
            json!({ "status": "This one is about to be everywhere." }),
        ),
    )
    .await?;
    anyhow::ensure!(status == 200, "the burst's post was refused: {post}");
    ctx.burst_target = post["id"].as_str().unwrap_or_default().to_string();
    // The mentions become notifications after the worker catches up.
    let reader = &actors[1];
    wait_for(
        "the set-up notifications",
        Duration::from_secs(60),
        || async {
            let call = Call::get("/api/v1/notifications?limit=1", Some(&reader.token));
            matches!(drive::once(ctx.server.addr, &ctx.server.host, &call).await,
            Ok((200, Value::Array(list))) if !list.is_empty())
        },
    )
    .await
}

async fn wait_for<F, Fut>(what: &str, within: Duration, mut probe: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !probe().await {
        anyhow::ensure!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn bar(name: &str, length: Option<u64>) -> ProgressBar {
    let bar = match length {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix:>13} {elapsed:>4} {bar:30} {pos} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(name.to_string());
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// A timed request scenario at `--connections`.
async fn requests(ctx: &Ctx, name: &str) -> Outcome {
    let world = ctx.world.clone();
    let actors = world.actors.len();
    let readers = READERS.min(actors - 1);
    let token = move |worker: usize, n: u64| {
        let i = (worker * 7919 + n as usize * 31) % actors;
        world.actors[i].token.clone()
    };
    let world = ctx.world.clone();
    let reader = move |worker: usize, n: u64| {
        world.actors[1 + (worker + n as usize) % readers]
            .token
            .clone()
    };
    let world = ctx.world.clone();
    let name_owned = name.to_string();
    let next = move |worker: usize, n: u64| -> Option<Call> {
        let t = token(worker, n);
        Some(match name_owned.as_str() {
            "health" => Call::get("/api/v1/health", None),
            "instance" => Call::get("/api/v1/instance", None),
            "verify" => Call::get("/api/v1/accounts/verify_credentials", Some(&t)),
            "home" => Call::get("/api/v1/timelines/home?limit=20", Some(&t)),
            "public" => Call::get("/api/v1/timelines/public?limit=20", Some(&t)),
            "tag" => Call::get(format!("/api/v1/timelines/tag/{TAG}?limit=20"), Some(&t)),
            "notifications" => {
                Call::get("/api/v1/notifications?limit=20", Some(&reader(worker, n)))
            }
            "grouped" => Call::get("/api/v2/notifications?limit=20", Some(&reader(worker, n))),
            // Half home reads, a tenth public reads, a fifth posts, a fifth favourites.
            "mixed" => match n % 10 {
                0..=4 => Call::get("/api/v1/timelines/home?limit=20", Some(&t)),
                5 => Call::get("/api/v1/timelines/public?limit=20", Some(&t)),
                6 | 7 => Call::post(
                    "/api/v1/statuses",
                    &t,
                    json!({ "status": format!("Mixed load {worker}-{n}") }),
                ),
                _ => {
                    let target = &world.targets[(worker * 13 + n as usize) % world.targets.len()];
                    Call::post(
                        format!("/api/v1/statuses/{target}/favourite"),
                        &t,
                        json!({}),
                    )
                }
            },
            other => unreachable!("not a request scenario: {other}"),
        })
    };
    let next = Arc::new(next);
    if ctx.args.warmup > 0.0 {
        let next = next.clone();
        drive::run(
            &ctx.server.addrs,
            &ctx.server.host,
            ctx.args.connections,
            Until::Elapsed(Duration::from_secs_f64(ctx.args.warmup)),
            Arc::new(AtomicU64::new(0)),
            move |worker, n| next(worker, n),
        )
        .await;
    }
    let sent = Arc::new(AtomicU64::new(0));
    let progress = bar(name, None);
    let ticker = {
        let (sent, progress) = (sent.clone(), progress.clone());
        tokio::spawn(async move {
            loop {
                progress.set_position(sent.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let outcome = drive::run(
        &ctx.server.addrs,
        &ctx.server.host,
        ctx.args.connections,
        Until::Elapsed(Duration::from_secs_f64(ctx.args.duration)),
        sent,
        move |worker, n| next(worker, n),
    )
    .await;
    ticker.abort();
    progress.finish_and_clear();
    outcome
}

/// Every actor favourites and reblogs one post, `--burst-concurrency` at a time; then
/// the counts must be exact and the notifications few groups.
async fn burst(ctx: &Ctx) -> anyhow::Result<(Option<Outcome>, BTreeMap<String, Value>)> {
    let world = ctx.world.clone();
    let crowd = world.actors.len() - 2;
    let lanes = ctx.args.burst_concurrency.max(1);
    let target = ctx.burst_target.clone();
    let sent = Arc::new(AtomicU64::new(0));
    let progress = bar("burst", Some(2 * crowd as u64));
    let ticker = {
        let (sent, progress) = (sent.clone(), progress.clone());
        tokio::spawn(async move {
            loop {
                progress.set_position(sent.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    // Actors 2.. act (1 wrote the post, 0 is the celebrity).
    let outcome = drive::run(
        &ctx.server.addrs,
        &ctx.server.host,
        lanes,
        Until::Elapsed(Duration::from_secs(3_600)),
        sent,
        move |worker, n| {
            let who = worker + (n / 2) as usize * lanes;
            (who < crowd).then(|| {
                let actor = &world.actors[2 + who];
                let action = if n % 2 == 0 { "favourite" } else { "reblog" };
                Call::post(
                    format!("/api/v1/statuses/{target}/{action}"),
                    &actor.token,
                    json!({}),
                )
            })
        },
    )
    .await;
    ticker.abort();
    progress.finish_and_clear();

    let mut extra = BTreeMap::new();
    let author = &ctx.world.actors[1];
    let call = Call::get(
        format!("/api/v1/statuses/{}", ctx.burst_target),
        Some(&author.token),
    );
    let (_, status) = drive::once(ctx.server.addr, &ctx.server.host, &call).await?;
    extra.insert("expected_each".into(), json!(crowd));
    extra.insert(
        "favourites_count".into(),
        status["favourites_count"].clone(),
    );
    extra.insert("reblogs_count".into(), status["reblogs_count"].clone());
    let exact =
        status["favourites_count"] == json!(crowd) && status["reblogs_count"] == json!(crowd);
    extra.insert("counts_exact".into(), json!(exact));
    // The author's grouped notifications of the post, once the worker has caught up.
    let groups_seen = Arc::new(std::sync::Mutex::new(Value::Null));
    let _ = wait_for(
        "the burst's notifications",
        Duration::from_secs(120),
        || {
            let groups_seen = groups_seen.clone();
            let call = Call::get("/api/v2/notifications?limit=40", Some(&author.token));
            let target = ctx.burst_target.clone();
            async move {
                let Ok((200, page)) = drive::once(ctx.server.addr, &ctx.server.host, &call).await
                else {
                    return false;
                };
                let groups: Vec<&Value> = page["notification_groups"]
                    .as_array()
                    .map(|g| {
                        g.iter()
                            .filter(|g| g["status_id"] == json!(target))
                            .collect()
                    })
                    .unwrap_or_default();
                let total: i64 = groups
                    .iter()
                    .filter_map(|g| g["notifications_count"].as_i64())
                    .sum();
                *groups_seen.lock().expect("not poisoned") =
                    json!({ "groups": groups.len(), "notifications": total });
                total >= 2 * crowd as i64
            }
        },
    )
    .await;
    extra.insert(
        "notification_groups".into(),
        groups_seen.lock().expect("not poisoned").clone(),
    );
    Ok((Some(outcome), extra))
}

/// The celebrity (followed by every account) posts; how long until its post shows in a
/// sample of followers' home timelines.
async fn celebrity(ctx: &Ctx) -> anyhow::Result<BTreeMap<String, Value>> {
    let actors = &ctx.world.actors;
    let sample: Vec<_> = actors
        .iter()
        .skip(1)
        .take(ctx.args.celebrity_sample)
        .cloned()
        .collect();
    let call = Call::post(
        "/api/v1/statuses",
        &actors[0].token,
        json!({ "status": "Hello, everyone who follows me!" }),
    );
    let posted = Instant::now();
    let (status, post) = drive::once(ctx.server.addr, &ctx.server.host, &call).await?;
    anyhow::ensure!(status == 200, "the celebrity's post was refused: {post}");
    let accepted_ms = posted.elapsed().as_secs_f64() * 1000.0;
    let id = post["id"].as_str().unwrap_or_default().to_string();
    let mut waits = Vec::new();
    for (i, follower) in sample.into_iter().enumerate() {
        // Followers read through every node in turn: on a cluster, the post made through
        // the first must show through the others.
        let (addr, host, id) = (ctx.server.addr_for(i), ctx.server.host.clone(), id.clone());
        waits.push(tokio::spawn(async move {
            let call = Call::get("/api/v1/timelines/home?limit=5", Some(&follower.token));
            let deadline = posted + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Ok((200, Value::Array(items))) = drive::once(addr, &host, &call).await {
                    if items.iter().any(|s| s["id"] == json!(id)) {
                        return Some(posted.elapsed().as_secs_f64() * 1000.0);
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            None
        }));
    }
    let mut seen: Vec<f64> = Vec::new();
    for wait in waits {
        if let Ok(Some(ms)) = wait.await {
            seen.push(ms);
        }
    }
    Ok(delivery(
        "home",
        accepted_ms,
        ctx.args.celebrity_sample,
        seen,
    ))
}

/// `--websockets` idle streaming connections on the public stream; one post; how long
/// until each hears of it.
async fn websockets(ctx: &Ctx) -> anyhow::Result<BTreeMap<String, Value>> {
    let actors = &ctx.world.actors;
    let wanted = ctx.args.websockets;
    let mut sockets = Vec::with_capacity(wanted);
    let mut failed = 0usize;
    for i in 0..wanted {
        let token = &actors[i % actors.len()].token;
        let url = format!(
            "ws://{}/api/v1/streaming?stream=public&access_token={token}",
            ctx.server.addr_for(i)
        );
        match tokio_tungstenite::connect_async(url).await {
            Ok((socket, _)) => sockets.push(socket),
            Err(_) => failed += 1,
        }
    }
    let connected = sockets.len();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    for socket in sockets {
        let tx = tx.clone();
        tokio::spawn(async move {
            let (mut write, mut read) = socket.split();
            while let Some(Ok(message)) = read.next().await {
                match message {
                    tokio_tungstenite::tungstenite::Message::Text(text) => {
                        let event: Value = serde_json::from_str(&text).unwrap_or_default();
                        if event["event"] == "update" {
                            let payload: Value = event["payload"]
                                .as_str()
                                .and_then(|p| serde_json::from_str(p).ok())
                                .unwrap_or_default();
                            let id = payload["id"].as_str().unwrap_or_default().to_string();
                            if tx.send((id, Instant::now())).is_err() {
                                return;
                            }
                        }
                    }
                    tokio_tungstenite::tungstenite::Message::Ping(p) => {
                        let _ = write
                            .send(tokio_tungstenite::tungstenite::Message::Pong(p))
                            .await;
                    }
                    _ => {}
                }
            }
        });
    }
    drop(tx);
    let call = Call::post(
        "/api/v1/statuses",
        &actors[1].token,
        json!({ "status": "Does everyone hear this?" }),
    );
    let posted = Instant::now();
    let (status, post) = drive::once(ctx.server.addr, &ctx.server.host, &call).await?;
    anyhow::ensure!(status == 200, "the post was refused: {post}");
    let accepted_ms = posted.elapsed().as_secs_f64() * 1000.0;
    let id = post["id"].as_str().unwrap_or_default().to_string();
    let mut seen = Vec::new();
    let deadline = posted + Duration::from_secs(60);
    while seen.len() < connected {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some((got, at))) if got == id => {
                seen.push(at.duration_since(posted).as_secs_f64() * 1000.0)
            }
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    let mut extra = delivery("stream", accepted_ms, connected, seen);
    extra.insert("connect_failures".into(), json!(failed));
    Ok(extra)
}

/// Delivery times (ms since the post was sent) summarised.
fn delivery(
    what: &str,
    accepted_ms: f64,
    expected: usize,
    mut seen: Vec<f64>,
) -> BTreeMap<String, Value> {
    seen.sort_by(f64::total_cmp);
    let q = |p: f64| {
        seen.get(
            ((seen.len() as f64 * p).ceil() as usize)
                .saturating_sub(1)
                .min(seen.len().saturating_sub(1)),
        )
        .copied()
    };
    let mut extra = BTreeMap::new();
    extra.insert("post_accepted_ms".into(), json!(accepted_ms));
    extra.insert(format!("{what}_expected"), json!(expected));
    extra.insert(format!("{what}_reached"), json!(seen.len()));
    extra.insert(format!("{what}_p50_ms"), json!(q(0.5)));
    extra.insert(format!("{what}_p99_ms"), json!(q(0.99)));
    extra.insert(format!("{what}_max_ms"), json!(seen.last()));
    extra
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<14} {:>9} {:>7} {:>8} {:>8} {:>8} {:>6} {:>7}  errors / other",
        "scenario", "req/s", "ratio", "p50 ms", "p99 ms", "max ms", "cpu%", "rss MB"
    );
    for row in rows {
        let opt =
            |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
        let o = row.outcome.as_ref();
        let mut other: Vec<String> = o
            .map(|o| o.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect())
            .unwrap_or_default();
        other.extend(row.extra.iter().map(|(k, v)| format!("{k}={v}")));
        println!(
            "{:<14} {:>9} {:>7} {:>8} {:>8} {:>8} {:>6} {:>7}  {}",
            row.scenario,
            opt(o.map(|o| o.per_second), 0),
            opt(row.ratio_to_health.map(|r| r * 100.0), 1),
            opt(o.map(|o| o.p50_ms), 2),
            opt(o.map(|o| o.p99_ms), 2),
            opt(o.map(|o| o.max_ms), 1),
            opt(row.server_cpu_percent, 0),
            opt(row.server_rss_mb, 0),
            other.join(", ")
        );
    }
}
