//! The closed-loop HTTP driver: `connections` keep-alive HTTP/1.1 connections, each
//! sending its next request as soon as the last answer's body is read, for a duration or
//! until a fixed number of requests has been sent. Latencies go into HDR histograms (µs).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Full};
use hyper::Request;
use serde::Serialize;

/// One request to send.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: hyper::Method,
    pub path: String,
    pub token: Option<String>,
    pub json: Option<String>,
}

impl Call {
    pub fn get(path: impl Into<String>, token: Option<&str>) -> Call {
        Call {
            method: hyper::Method::GET,
            path: path.into(),
            token: token.map(str::to_string),
            json: None,
        }
    }

    pub fn post(path: impl Into<String>, token: &str, json: serde_json::Value) -> Call {
        Call {
            method: hyper::Method::POST,
            path: path.into(),
            token: Some(token.to_string()),
            json: Some(json.to_string()),
        }
    }
}

/// When a run stops.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    Elapsed(Duration),
    /// After this many requests in all.
    Count(u64),
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub requests: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Answers other than 2xx, by status (`"io"` for a broken connection).
    pub errors: BTreeMap<String, u64>,
}

/// Drives `next(worker, n)` (the n-th request of that connection; `None` ends that
/// connection's part) over `connections` connections, spread over `addrs` in turn (a
/// cluster's nodes, or one server); `sent` is bumped per answer for a progress bar.
pub async fn run<F>(
    addrs: &[SocketAddr],
    host: &str,
    connections: usize,
    until: Until,
    sent: Arc<AtomicU64>,
    next: F,
) -> Outcome
where
    F: Fn(usize, u64) -> Option<Call> + Send + Sync + 'static,
{
    let next = Arc::new(next);
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..connections.max(1) {
        let (next, issued, sent) = (next.clone(), issued.clone(), sent.clone());
        let addr = addrs[worker % addrs.len()];
        let host = host.to_string();
        tasks.push(tokio::spawn(async move {
            let mut histogram = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3)
                .expect("valid histogram bounds");
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            let mut sender = None;
            let mut n = 0u64;
            loop {
                match until {
                    Until::Elapsed(d) if started.elapsed() >= d => break,
                    Until::Count(total) if issued.fetch_add(1, Ordering::Relaxed) >= total => break,
                    _ => {}
                }
                let Some(call) = next(worker, n) else { break };
                n += 1;
                if sender.is_none() {
                    sender = connect(addr).await;
                }
                let Some(conn) = sender.as_mut() else {
                    *errors.entry("connect".into()).or_default() += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let began = Instant::now();
                match send(conn, &host, &call).await {
                    Ok(status) => {
                        let micros = began.elapsed().as_micros() as u64;
                        histogram.saturating_record(micros.max(1));
                        if !(200..300).contains(&status) {
                            *errors.entry(status.to_string()).or_default() += 1;
                        }
                    }
                    Err(_) => {
                        *errors.entry("io".into()).or_default() += 1;
                        sender = None;
                    }
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
            (histogram, errors)
        }));
    }
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds");
    let mut errors = BTreeMap::new();
    for task in tasks {
        if let Ok((h, e)) = task.await {
            let _ = histogram.add(h);
            for (k, v) in e {
                *errors.entry(k).or_default() += v;
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let requests = histogram.len();
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    Outcome {
        requests,
        seconds,
        per_second: requests as f64 / seconds.max(1e-9),
        p50_ms: ms(0.5),
        p90_ms: ms(0.9),
        p99_ms: ms(0.99),
        max_ms: histogram.max() as f64 / 1000.0,
        errors,
    }
}

pub type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

pub async fn connect(addr: SocketAddr) -> Option<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .ok()?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Some(sender)
}

/// Sends one request and reads the whole answer; the status.
pub async fn send(conn: &mut Sender, host: &str, call: &Call) -> anyhow::Result<u16> {
    let (_, status, _) = exchange(conn, host, call).await?;
    Ok(status)
}

/// Sends one request; the status and body.
pub async fn exchange(
    conn: &mut Sender,
    host: &str,
    call: &Call,
) -> anyhow::Result<(Bytes, u16, hyper::HeaderMap)> {
    conn.ready().await?;
    let mut request = Request::builder()
        .method(call.method.clone())
        .uri(&call.path)
        .header(hyper::header::HOST, host);
    if let Some(token) = &call.token {
        request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match &call.json {
        Some(json) => {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
            Full::new(Bytes::from(json.clone()))
        }
        None => Full::new(Bytes::new()),
    };
    let response = conn.send_request(request.body(body)?).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((body, status, headers))
}

/// One request on a fresh connection, for set-up and checks; the status and JSON body.
pub async fn once(
    addr: SocketAddr,
    host: &str,
    call: &Call,
) -> anyhow::Result<(u16, serde_json::Value)> {
    let mut conn = connect(addr)
        .await
        .ok_or_else(|| anyhow::anyhow!("cannot connect to {addr}"))?;
    let (body, status, _) = exchange(&mut conn, host, call).await?;
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    Ok((status, json))
}
