//! Overload: a cap on requests in flight (503 with `Retry-After` past it), a deadline per
//! request, header-read and idle timeouts against slow clients, and a cap on streams per
//! address. Nothing here measures time: each test waits for the condition it expects,
//! with a generous safety net so a regression fails instead of hanging.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{eventually, spawn_with, TestApp};

/// How long a test waits for something that should happen well before.
const SAFETY_NET: Duration = Duration::from_secs(60);

/// A request whose body never finishes: the server holds it in flight.
async fn slow_request(app: &TestApp) -> TcpStream {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/apps HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nclient_name=",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Everything the server sends until it closes the connection.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(SAFETY_NET, stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn requests_past_the_in_flight_cap_get_503_with_retry_after() {
    let app = spawn_with(|c| {
        c.max_in_flight = 1;
        c.rate_limit = None;
    })
    .await;
    let slow = slow_request(&app).await;
    let url = app.url("/api/v1/instance");
    eventually("the cap refuses a second request", || async {
        app.client.get(&url).send().await.unwrap().status() == 503
    })
    .await;
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("busy"));
    drop(slow);
    eventually(
        "the server serves again once the slow request is gone",
        || async { app.client.get(&url).send().await.unwrap().status() == 200 },
    )
    .await;
}

#[tokio::test]
async fn a_request_past_its_deadline_gets_503() {
    let app = spawn_with(|c| c.request_timeout = Duration::from_millis(300)).await;
    let mut slow = slow_request(&app).await;
    let answer = read_to_close_or_response(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after"),
        "{answer}"
    );
    assert!(answer.contains("\"error\""), "{answer}");
}

/// Reads until the server has sent a whole response head and some body, or closed.
async fn read_to_close_or_response(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(SAFETY_NET, stream.read(&mut buf))
            .await
            .expect("the server answers")
            .unwrap_or(0);
        out.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&out).into_owned();
        if n == 0 || text.contains("}") {
            return text;
        }
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app = spawn_with(|c| c.header_read_timeout = Duration::from_millis(300)).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /api/v1/instance HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let answer = read_to_close(&mut stream).await;
    assert!(!answer.contains("200 OK"), "{answer}");
    // The server is still up for everyone else.
    assert_eq!(app.get_anon("/api/v1/health").await.status, 200);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let app = spawn_with(|c| c.header_read_timeout = Duration::from_millis(300)).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // The answer comes, then, with no further request, the connection closes.
    let answer = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn streams_per_address_are_capped() {
    let app = spawn_with(|c| c.streams_per_address = 2).await;
    let alice = app.user("alice").await;
    let open = || async {
        app.client
            .get(app.url("/api/v1/streaming/public"))
            .bearer_auth(&alice.token)
            .send()
            .await
            .unwrap()
    };
    let first = open().await;
    let second = open().await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = open().await;
    assert_eq!(third.status(), 429);
    let body: Value = third.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("streaming"));
    // A WebSocket counts against the same places.
    let url = format!(
        "ws://{}/api/v1/streaming?access_token={}&stream=public",
        app.addr, alice.token
    );
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 429),
        other => panic!("a third stream was let in: {:?}", other.map(|_| ())),
    }
    drop(first);
    eventually("a closed stream frees its place", || async {
        tokio_tungstenite::connect_async(&url).await.is_ok()
    })
    .await;
}
