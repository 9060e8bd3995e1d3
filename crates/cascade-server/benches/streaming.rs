//! Benchmarks behind the streaming and burst figures in `docs/PERFORMANCE.md`.
//!
//! `delivery`: the real `cascade` binary serves; this process opens many idle WebSocket
//! clients on the public stream (10,000 by default, `CASCADE_BENCH_CLIENTS`), reads the
//! server's resident memory before and after to get the cost of one idle connection, then
//! posts public statuses and times how long until the last client has each one.
//!
//! `burst`: a server in this process; distinct accounts (100,000 by default,
//! `CASCADE_BENCH_BURST`) each favourite and reblog one status over HTTP, 64 requests in
//! flight, while the author listens on its notification stream. Reports the wall time,
//! the notification groups and their exact counts, the stream events the author received
//! (coalesced), the Web Push deliveries to its device (a local receiver counts them), and
//! the process's peak memory.
//!
//! Run both with `cargo bench -p cascade-server --bench streaming`, or one by naming it
//! (`-- delivery`, `-- burst`). Nothing asserts on a timing; a person reads the output.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    if want("delivery") {
        let clients = env_usize("CASCADE_BENCH_CLIENTS", 10_000);
        rt.block_on(delivery(clients));
    }
    if want("burst") {
        let accounts = env_usize("CASCADE_BENCH_BURST", 100_000);
        rt.block_on(burst(accounts));
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A `/proc/<pid>/status` field in KiB (VmRSS, VmHWM).
fn proc_kib(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn cascade(data: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .expect("the cascade binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn delivery(clients: usize) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    cascade(
        dir.path(),
        &[
            "admin",
            "create-user",
            "poster",
            "--email",
            "p@example.test",
            "--password",
            "bench password 1",
        ],
    );
    let token = cascade(dir.path(), &["admin", "token", "poster"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args([
            "serve",
            "--listen",
            &addr.to_string(),
            "--rate-limit",
            "0",
            "--data",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let pid = server.id().expect("a pid").to_string();
    let http = reqwest::Client::new();
    while http
        .get(format!("http://{addr}/api/v1/health"))
        .send()
        .await
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!("ws://{addr}/api/v1/streaming?stream=public");
    // One connection first, so the baseline includes what any connection needs once.
    let (first, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("a socket");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = proc_kib(&pid, "VmRSS:");
    let started = Instant::now();
    let mut sockets = vec![first];
    let mut batch = Vec::new();
    for _ in 1..clients {
        batch.push(tokio_tungstenite::connect_async(url.clone()));
        if batch.len() == 256 {
            for s in futures_util::future::join_all(batch.drain(..)).await {
                sockets.push(s.expect("a socket").0);
            }
        }
    }
    for s in futures_util::future::join_all(batch).await {
        sockets.push(s.expect("a socket").0);
    }
    let connect_time = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = proc_kib(&pid, "VmRSS:");
    let per_connection = (after.saturating_sub(before)) as f64 * 1024.0 / (clients - 1) as f64;
    println!(
        "delivery: {clients} idle WebSocket clients connected in {connect_time:.2?}; server RSS {before} KiB -> {after} KiB: {per_connection:.0} bytes per idle connection"
    );

    let received = Arc::new(AtomicUsize::new(0));
    let all = Arc::new(Notify::new());
    let (tx, _) = tokio::sync::broadcast::channel::<()>(1);
    for mut ws in sockets {
        let (received, all, mut next) = (received.clone(), all.clone(), tx.subscribe());
        tokio::spawn(async move {
            loop {
                match ws.next().await {
                    Some(Ok(Message::Text(_))) => {
                        if received.fetch_add(1, Ordering::SeqCst) + 1 == clients {
                            all.notify_one();
                        }
                        if next.recv().await.is_err() {
                            break;
                        }
                    }
                    Some(Ok(Message::Ping(p))) => {
                        let _ = ws.send(Message::Pong(p)).await;
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
        });
    }
    let mut times = Vec::new();
    for round in 0..5 {
        received.store(0, Ordering::SeqCst);
        let t0 = Instant::now();
        let res = http
            .post(format!("http://{addr}/api/v1/statuses"))
            .bearer_auth(&token)
            .json(&json!({"status": format!("Round {round}: hello, ten thousand listeners"), "visibility": "public"}))
            .send()
            .await
            .expect("the post is accepted");
        assert!(res.status().is_success());
        tokio::time::timeout(Duration::from_secs(60), all.notified())
            .await
            .expect("every client receives the post");
        times.push(t0.elapsed());
        let _ = tx.send(());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    times.sort();
    println!(
        "delivery: post accepted to the last of {clients} clients: median {:.0?}, min {:.0?}, max {:.0?} over {} posts",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len()
    );
    let _ = server.kill().await;
}

async fn burst(accounts: usize) {
    use cascade_server::{AppState, Config};
    let dir = tempfile::tempdir().expect("a temporary folder");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config::new(addr, dir.path().to_path_buf(), None, None);
    config.rate_limit = None;
    let store = cascade_store::Store::connect(&config.database_url)
        .await
        .expect("a store");
    let state = AppState::new(config, store);
    let server = tokio::spawn(cascade_server::serve(
        state.clone(),
        listener,
        std::future::pending(),
    ));

    let author = cascade_server::app::accounts::register(
        &state,
        "author",
        "author@example.test",
        "bench password 1",
        Default::default(),
    )
    .await
    .expect("the author");
    let author_token = cascade_server::app::accounts::issue_token(
        &state,
        Some(author.id),
        None,
        "read write push",
    )
    .await
    .unwrap()
    .access_token;
    let prepared = Instant::now();
    let now = cascade_core::time::now_millis() - 90 * 86_400_000;
    let rows: Vec<_> = (0..accounts)
        .map(|i| (state.ids.next(), format!("fan{i}"), format!("Fan {i}"), now))
        .collect();
    state
        .store
        .insert_accounts_bulk(&rows)
        .await
        .expect("the fans");
    let mut tokens = Vec::with_capacity(accounts);
    for (id, ..) in &rows {
        let t = cascade_server::app::accounts::issue_token(&state, Some(*id), None, "read write")
            .await
            .unwrap();
        tokens.push(t.access_token);
    }
    println!(
        "burst: {accounts} accounts and tokens prepared in {:.1?}",
        prepared.elapsed()
    );

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let post: Value = http
        .post(format!("http://{addr}/api/v1/statuses"))
        .bearer_auth(&author_token)
        .json(&json!({"status": "the post that goes viral", "visibility": "public"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = post["id"].as_str().unwrap().to_string();
    // A push service on this machine counts the author's Web Push deliveries.
    let pushes = Arc::new(AtomicUsize::new(0));
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver_addr = receiver.local_addr().unwrap();
    let counted = pushes.clone();
    let push_service = axum::Router::new().route(
        "/push",
        axum::routing::post(move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::CREATED
            }
        }),
    );
    tokio::spawn(async move { axum::serve(receiver, push_service).await });
    let device = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let p256dh = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(device.public_key().to_encoded_point(false).as_bytes());
    let subscribed = http
        .post(format!("http://{addr}/api/v1/push/subscription"))
        .bearer_auth(&author_token)
        .json(&json!({
            "subscription": {"endpoint": format!("http://{receiver_addr}/push"), "keys": {"p256dh": p256dh, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}},
            "data": {"alerts": {"favourite": true, "reblog": true}},
        }))
        .send()
        .await
        .unwrap();
    assert!(
        subscribed.status().is_success(),
        "the author subscribes to pushes"
    );
    let stream_url = format!(
        "ws://{addr}/api/v1/streaming?stream=user:notification&access_token={author_token}"
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(stream_url)
        .await
        .expect("the author's stream");
    let events = Arc::new(AtomicUsize::new(0));
    let counter = events.clone();
    let listener_task = tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            if matches!(msg, Message::Text(_)) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss_before = proc_kib("self", "VmRSS:");
    let started = Instant::now();
    let actions = tokens.iter().flat_map(|t| {
        ["favourite", "reblog"].map(|what| {
            (
                t.clone(),
                format!("http://{addr}/api/v1/statuses/{id}/{what}"),
            )
        })
    });
    let failures = futures_util::stream::iter(actions)
        .map(|(token, url)| {
            let http = http.clone();
            async move {
                match http.post(url).bearer_auth(token).send().await {
                    Ok(r) if r.status().is_success() => 0,
                    _ => 1,
                }
            }
        })
        .buffer_unordered(64)
        .fold(0usize, |acc, f| async move { acc + f })
        .await;
    let wall = started.elapsed();
    // Let the last coalescing window close.
    tokio::time::sleep(Duration::from_millis(
        state.config.coalesce_ms as u64 + 1_000,
    ))
    .await;
    let groups: Value = http
        .get(format!("http://{addr}/api/v2/notifications?limit=10"))
        .bearer_auth(&author_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let summary: Vec<String> = groups["notification_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            format!(
                "{} x{}",
                g["group_key"].as_str().unwrap_or("?"),
                g["notifications_count"]
            )
        })
        .collect();
    let status: Value = http
        .get(format!("http://{addr}/api/v1/statuses/{id}"))
        .bearer_auth(&author_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    println!(
        "burst: {} favourites + {} reblogs from {accounts} accounts in {wall:.1?} ({:.0} actions/s, {failures} failed)",
        status["favourites_count"],
        status["reblogs_count"],
        (2 * accounts) as f64 / wall.as_secs_f64()
    );
    println!("burst: notification groups: {summary:?}");
    println!(
        "burst: {} notification events streamed to the author (coalesce window {} ms)",
        events.load(Ordering::SeqCst),
        state.config.coalesce_ms
    );
    println!(
        "burst: {} Web Push deliveries to the author's device",
        pushes.load(Ordering::SeqCst)
    );
    println!(
        "burst: process memory (server and load clients together): RSS {} MiB before, peak {} MiB",
        rss_before / 1024,
        proc_kib("self", "VmHWM:") / 1024
    );
    listener_task.abort();
    server.abort();
}
