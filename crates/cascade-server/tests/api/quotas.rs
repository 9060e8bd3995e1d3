//! Per-account and per-connection quotas: lists, content filters and their keywords, push
//! subscriptions and streaming subscriptions stop at their number with a 422 that names
//! it, and hashtag names are checked wherever a client names one.

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use cascade_core::quota;

use crate::helpers::{spawn_with, TestApp};
use crate::push::Browser;

async fn unlimited() -> TestApp {
    spawn_with(|c| c.rate_limit = None).await
}

fn refused(status: reqwest::StatusCode, body: &Value, names: &str) {
    assert_eq!(status, 422, "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains(names), "{error:?} should name {names:?}");
}

#[tokio::test]
async fn an_account_has_at_most_fifty_lists() {
    let app = unlimited().await;
    let alice = app.user("alice").await;
    for i in 0..quota::MAX_LISTS {
        app.post(
            &alice,
            "/api/v1/lists",
            json!({"title": format!("list {i}")}),
        )
        .await
        .ok();
    }
    let over = app
        .post(&alice, "/api/v1/lists", json!({"title": "one more"}))
        .await;
    refused(over.status, &over.body, "50 lists");
    let lists = app.get(&alice, "/api/v1/lists").await.ok();
    assert_eq!(lists.as_array().unwrap().len(), quota::MAX_LISTS);
    // Another account is not affected.
    let bob = app.user("bob").await;
    app.post(&bob, "/api/v1/lists", json!({"title": "mine"}))
        .await
        .ok();
}

#[tokio::test]
async fn filters_and_their_keywords_stop_at_their_quotas() {
    let app = unlimited().await;
    let alice = app.user("alice").await;
    let keywords = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"keyword": format!("word{i}")}))
            .collect()
    };
    let too_many = app
        .post(
            &alice,
            "/api/v2/filters",
            json!({"title": "big", "context": ["home"], "keywords_attributes": keywords(quota::MAX_FILTER_KEYWORDS + 1)}),
        )
        .await;
    refused(too_many.status, &too_many.body, "keywords");

    let full = app
        .post(
            &alice,
            "/api/v2/filters",
            json!({"title": "full", "context": ["home"], "keywords_attributes": keywords(quota::MAX_FILTER_KEYWORDS)}),
        )
        .await
        .ok();
    let fid = full["id"].as_str().unwrap().to_string();
    let added = app
        .post(
            &alice,
            &format!("/api/v2/filters/{fid}/keywords"),
            json!({"keyword": "extra"}),
        )
        .await;
    refused(added.status, &added.body, "keywords");
    let updated = app
        .request(
            Method::PUT,
            &format!("/api/v2/filters/{fid}"),
            Some(&alice.token),
            Some(json!({"keywords_attributes": [{"keyword": "extra"}]})),
        )
        .await;
    refused(updated.status, &updated.body, "keywords");
    // Swapping one keyword for another stays within the quota.
    let first = full["keywords"][0]["id"].clone();
    app.request(
        Method::PUT,
        &format!("/api/v2/filters/{fid}"),
        Some(&alice.token),
        Some(json!({"keywords_attributes": [{"id": first, "_destroy": true}, {"id": first, "_destroy": true}, {"keyword": "swap"}]})),
    )
    .await
    .ok();
    let again = app
        .request(
            Method::PUT,
            &format!("/api/v2/filters/{fid}"),
            Some(&alice.token),
            Some(json!({"keywords_attributes": [{"keyword": "one"}, {"keyword": "two"}]})),
        )
        .await;
    refused(again.status, &again.body, "keywords");

    for i in 1..quota::MAX_FILTERS {
        app.post(
            &alice,
            "/api/v2/filters",
            json!({"title": format!("f{i}"), "context": ["home"]}),
        )
        .await
        .ok();
    }
    let over = app
        .post(
            &alice,
            "/api/v2/filters",
            json!({"title": "one more", "context": ["home"]}),
        )
        .await;
    refused(over.status, &over.body, "100 filters");
    let listed = app.get(&alice, "/api/v2/filters").await.ok();
    assert_eq!(listed.as_array().unwrap().len(), quota::MAX_FILTERS);
}

#[tokio::test]
async fn an_account_has_at_most_fifty_push_subscriptions() {
    let app = unlimited().await;
    let alice = app.user("alice").await;
    let browser = Browser::new();
    let body = json!({"subscription": {"endpoint": "https://push.example.net/x", "keys": {"p256dh": browser.p256dh, "auth": browser.auth_b64}}});
    let alice_id = alice.id.parse().unwrap();
    let mut tokens = Vec::new();
    for _ in 0..=quota::MAX_PUSH_SUBSCRIPTIONS {
        let token = cascade_server::app::accounts::issue_token(
            &app.state,
            Some(alice_id),
            None,
            "read write follow push",
        )
        .await
        .unwrap()
        .access_token;
        tokens.push(token);
    }
    for token in &tokens[..quota::MAX_PUSH_SUBSCRIPTIONS] {
        app.request(
            Method::POST,
            "/api/v1/push/subscription",
            Some(token),
            Some(body.clone()),
        )
        .await
        .ok();
    }
    // Replacing a token's own subscription is fine; a new token's is one too many.
    app.request(
        Method::POST,
        "/api/v1/push/subscription",
        Some(&tokens[0]),
        Some(body.clone()),
    )
    .await
    .ok();
    let over = app
        .request(
            Method::POST,
            "/api/v1/push/subscription",
            Some(&tokens[quota::MAX_PUSH_SUBSCRIPTIONS]),
            Some(body.clone()),
        )
        .await;
    refused(over.status, &over.body, "50 push subscriptions");
}

#[tokio::test]
async fn a_streaming_connection_has_a_bounded_number_of_subscriptions() {
    let app = unlimited().await;
    let url = format!("ws://{}/api/v1/streaming", app.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    for i in 0..=quota::MAX_STREAM_SUBSCRIPTIONS {
        let sub = json!({"type": "subscribe", "stream": "hashtag", "tag": format!("t{i}")});
        ws.send(Message::Text(sub.to_string().into()))
            .await
            .unwrap();
    }
    // Subscriptions are answered only when refused, in order: the first answer is the
    // one past the quota.
    let error = next_text(&mut ws).await;
    assert_eq!(error["status"], 422, "{error}");
    assert!(error["error"].as_str().unwrap().contains("100 streams"));

    for bad in ["two words", "semi;colon", &"a".repeat(101)] {
        let sub = json!({"type": "unsubscribe", "stream": "hashtag", "tag": bad});
        ws.send(Message::Text(sub.to_string().into()))
            .await
            .unwrap();
        let error = next_text(&mut ws).await;
        assert_eq!(error["status"], 422, "{bad}: {error}");
    }
}

async fn next_text(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).expect("JSON");
        }
    }
}

#[tokio::test]
async fn hashtag_names_are_checked_on_streams_and_timelines() {
    let app = unlimited().await;
    let long = "a".repeat(101);
    for tag in ["two%20words", "semi%3Bcolon", long.as_str()] {
        let stream = app
            .get_anon(&format!("/api/v1/streaming/hashtag?tag={tag}"))
            .await;
        assert_eq!(stream.status, 422, "{tag}: {}", stream.body);
        assert!(stream.body["error"].is_string());
        let timeline = app.get_anon(&format!("/api/v1/timelines/tag/{tag}")).await;
        assert_eq!(timeline.status, 404, "{tag}: {}", timeline.body);
    }
    let fine = app.get_anon("/api/v1/timelines/tag/%23Rust_2024").await;
    assert_eq!(fine.status, 200, "{}", fine.body);
}
