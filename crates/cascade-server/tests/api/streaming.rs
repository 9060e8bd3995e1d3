//! The streaming API through real clients: WebSocket (tokio-tungstenite) with one or many
//! streams per socket, server-sent events, heartbeats, the rules of who sees what, the
//! coalescing of a notification burst, and the disconnection of a slow consumer.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use cascade_server::app::stream::{Channel, Scope};

use crate::helpers::{eventually, spawn_app, spawn_with, TestApp, User};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket on `/api/v1/streaming` with the given query.
async fn socket(app: &TestApp, query: &str) -> Socket {
    let url = format!("ws://{}/api/v1/streaming?{query}", app.addr);
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the socket opens");
    ws
}

/// The next event or error frame, as JSON with `payload` parsed when it is JSON; `None`
/// when nothing arrives within `wait`.
pub(crate) async fn next(ws: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next()).await.ok()??;
        match msg.expect("a frame") {
            Message::Text(text) => {
                let mut v: Value = serde_json::from_str(&text).expect("JSON frames");
                if let Some(p) = v["payload"].as_str() {
                    if let Ok(parsed) = serde_json::from_str::<Value>(p) {
                        v["payload"] = parsed;
                    }
                }
                return Some(v);
            }
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(400);

fn token_query(user: &User, stream: &str) -> String {
    format!("access_token={}&stream={stream}", user.token)
}

#[tokio::test]
async fn the_user_stream_carries_home_updates_and_notifications() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&alice, &bob).await;
    let mut ws = socket(&app, &token_query(&alice, "user")).await;
    let post = app.post_status(&bob, "hello followers", "public").await;
    app.post_status(&carol, "alice does not follow me", "public")
        .await;
    app.drain().await;
    let update = next(&mut ws, WAIT).await.expect("an update");
    assert_eq!(update["event"], "update");
    assert_eq!(update["stream"], json!(["user"]));
    assert_eq!(update["payload"]["id"], post["id"]);
    assert_eq!(update["payload"]["account"]["id"], json!(bob.id));
    assert!(
        next(&mut ws, QUIET).await.is_none(),
        "carol's post stays out"
    );

    let mine = app.post_status(&alice, "my own post", "public").await;
    app.drain().await;
    let own = next(&mut ws, WAIT).await.expect("one's own post");
    assert_eq!(own["payload"]["id"], mine["id"]);
    app.post(
        &bob,
        &format!(
            "/api/v1/statuses/{}/favourite",
            mine["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await
    .ok();
    let note = next(&mut ws, WAIT).await.expect("a notification");
    assert_eq!(note["event"], "notification");
    assert_eq!(note["payload"]["type"], "favourite");
    assert_eq!(note["payload"]["account"]["id"], json!(bob.id));
    assert_eq!(note["payload"]["status"]["id"], mine["id"]);
}

#[tokio::test]
async fn one_socket_subscribes_and_unsubscribes_many_streams() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut ws = socket(&app, &format!("access_token={}", alice.token)).await;
    for stream in [
        json!({"type": "subscribe", "stream": "hashtag", "tag": "Rust"}),
        json!({"type": "subscribe", "stream": "public:local"}),
    ] {
        ws.send(Message::Text(stream.to_string().into()))
            .await
            .unwrap();
    }
    let (rust, local) = (
        Channel::Hashtag {
            tag: "rust".into(),
            local: false,
        },
        Channel::Public {
            scope: Scope::Local,
            media: false,
        },
    );
    eventually("both subscriptions are registered", || async {
        app.state.streams.has(&rust) && app.state.streams.has(&local)
    })
    .await;
    let post = app
        .post_status(&bob, "learning #rust today", "public")
        .await;
    app.drain().await;
    let mut streams = Vec::new();
    for _ in 0..2 {
        let e = next(&mut ws, WAIT).await.expect("an event per stream");
        assert_eq!(e["payload"]["id"], post["id"]);
        streams.push(e["stream"].clone());
    }
    streams.sort_by_key(|s| s.to_string());
    assert_eq!(
        streams,
        vec![json!(["hashtag", "rust"]), json!(["public:local"])]
    );

    ws.send(Message::Text(
        json!({"type": "unsubscribe", "stream": "hashtag", "tag": "rust"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    eventually("the hashtag subscription is gone", || async {
        !app.state.streams.has(&rust)
    })
    .await;
    let second = app.post_status(&bob, "more #rust", "public").await;
    app.drain().await;
    let e = next(&mut ws, WAIT).await.expect("the remaining stream");
    assert_eq!(
        (e["stream"].clone(), e["payload"]["id"].clone()),
        (json!(["public:local"]), second["id"].clone())
    );
    assert!(next(&mut ws, QUIET).await.is_none());

    ws.send(Message::Text(
        json!({"type": "subscribe", "stream": "nonsense"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let error = next(&mut ws, WAIT).await.expect("an error frame");
    assert_eq!(error["status"], 400, "{error}");
    assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()));
    ws.send(Message::Text("not json".into())).await.unwrap();
    assert_eq!(
        next(&mut ws, WAIT).await.expect("an error frame")["status"],
        400
    );
}

#[tokio::test]
async fn streams_keep_visibility_blocks_and_mutes() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let spammer = app.user("spammer").await;
    let loud = app.user("loud").await;
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/block", spammer.id),
        json!({}),
    )
    .await
    .ok();
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/mute", loud.id),
        json!({}),
    )
    .await
    .ok();
    let mut public = socket(&app, &token_query(&alice, "public")).await;
    let mut home = socket(&app, &token_query(&alice, "user")).await;
    let mut anonymous = socket(&app, "stream=public").await;
    app.post_status(&bob, "followers only", "private").await;
    app.post_status(&bob, "quietly public", "unlisted").await;
    app.post_status(&bob, "@alice a secret", "direct").await;
    app.post_status(&spammer, "buy followers", "public").await;
    app.post_status(&loud, "SHOUTING", "public").await;
    let fine = app.post_status(&bob, "hello world", "public").await;
    app.drain().await;
    let e = next(&mut public, WAIT).await.expect("the public post");
    assert_eq!(e["payload"]["id"], fine["id"], "{e}");
    assert!(
        next(&mut public, QUIET).await.is_none(),
        "nothing else reaches alice's public stream"
    );
    let mut seen = Vec::new();
    while let Some(e) = next(&mut anonymous, QUIET).await {
        seen.push(
            e["payload"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    assert_eq!(
        seen.len(),
        3,
        "anonymous sees the three public posts: {seen:?}"
    );
    assert!(seen
        .iter()
        .all(|c| !c.contains("secret") && !c.contains("followers only")));
    // Alice follows nobody: the direct post mentions her, but home shows direct posts
    // only from followed accounts (its notification is what reaches her).
    while let Some(e) = next(&mut home, QUIET).await {
        assert_eq!(e["event"], "notification", "{e}");
        assert_eq!(e["payload"]["type"], "mention");
    }
}

#[tokio::test]
async fn edits_and_deletions_reach_the_streams() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob).await;
    let mut home = socket(&app, &token_query(&alice, "user")).await;
    let post = app.post_status(&bob, "first draft", "public").await;
    let id = post["id"].as_str().unwrap();
    app.drain().await;
    assert_eq!(next(&mut home, WAIT).await.unwrap()["event"], "update");
    app.request(
        reqwest::Method::PUT,
        &format!("/api/v1/statuses/{id}"),
        Some(&bob.token),
        Some(json!({"status": "second draft"})),
    )
    .await
    .ok();
    let edited = next(&mut home, WAIT).await.expect("status.update");
    assert_eq!(edited["event"], "status.update");
    assert!(edited["payload"]["content"]
        .as_str()
        .unwrap()
        .contains("second draft"));
    app.request(
        reqwest::Method::DELETE,
        &format!("/api/v1/statuses/{id}"),
        Some(&bob.token),
        None,
    )
    .await
    .ok();
    let deleted = next(&mut home, WAIT).await.expect("delete");
    assert_eq!(deleted["event"], "delete");
    assert_eq!(
        deleted["payload"],
        json!(id.parse::<i64>().unwrap()),
        "the payload is the bare id"
    );
}

#[tokio::test]
async fn direct_messages_update_conversations_on_the_direct_stream() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut direct = socket(&app, &token_query(&alice, "direct")).await;
    let dm = app
        .post_status(&bob, "@alice just between us", "direct")
        .await;
    let e = next(&mut direct, WAIT).await.expect("a conversation event");
    assert_eq!(e["event"], "conversation");
    assert_eq!(e["stream"], json!(["direct"]));
    assert_eq!(e["payload"]["unread"], true);
    assert_eq!(e["payload"]["last_status"]["id"], dm["id"]);
    assert_eq!(e["payload"]["accounts"][0]["id"], json!(bob.id));
}

#[tokio::test]
async fn personal_streams_need_a_token_and_lists_their_owner() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    for path in [
        "/api/v1/streaming/user",
        "/api/v1/streaming/direct",
        "/api/v1/streaming/user/notification",
    ] {
        let res = app.get_anon(path).await;
        assert_eq!(res.status, 401, "{path}");
        assert!(res.body["error"].is_string());
    }
    let bad = app
        .get_anon("/api/v1/streaming/user?access_token=nope")
        .await;
    assert_eq!(bad.status, 401);
    let list = app
        .post(&bob, "/api/v1/lists", json!({"title": "friends"}))
        .await
        .ok();
    let lid = list["id"].as_str().unwrap();
    let foreign = app
        .get(&alice, &format!("/api/v1/streaming/list?list={lid}"))
        .await;
    assert_eq!(foreign.status, 404);
    let no_tag = app.get(&alice, "/api/v1/streaming/hashtag").await;
    assert_eq!(no_tag.status, 400);
    let plain = app.get(&alice, "/api/v1/streaming?stream=public").await;
    assert_eq!(
        plain.status, 400,
        "a request without an upgrade is refused clearly"
    );
    let health = app
        .client
        .get(app.url("/api/v1/streaming/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.text().await.unwrap(), "OK");
    let read_only = app.user_with_scopes("carol", "write").await;
    let res = app.get(&read_only, "/api/v1/streaming/user").await;
    assert_eq!(
        res.status, 403,
        "a token without read scopes may not stream"
    );
}

/// Reads server-sent events until `want` events arrived or `wait` passed: the events as
/// (name, data), and whether a heartbeat comment was seen.
async fn sse(
    app: &TestApp,
    path: &str,
    token: &str,
    want: usize,
    wait: Duration,
) -> (Vec<(String, String)>, bool) {
    let mut res = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let deadline = tokio::time::Instant::now() + wait;
    let mut text = String::new();
    let mut events = Vec::new();
    while events.len() < want {
        let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, res.chunk()).await else {
            break;
        };
        text.push_str(&String::from_utf8_lossy(&chunk));
        events = text
            .split("\n\n")
            .filter_map(|block| {
                let name = block.lines().find_map(|l| l.strip_prefix("event: "))?;
                let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
                Some((name.to_string(), data.to_string()))
            })
            .collect();
    }
    (events, text.contains(": thump"))
}

#[tokio::test]
async fn server_sent_events_deliver_the_same_events_with_heartbeats() {
    let app = spawn_with(|c| c.heartbeat = Duration::from_millis(100)).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let (events, beat) = sse(
        &app,
        "/api/v1/streaming/hashtag?tag=cats",
        &alice.token,
        1,
        Duration::from_millis(350),
    )
    .await;
    assert!(events.is_empty());
    assert!(beat, "an idle stream gets heartbeats");

    let task = {
        let token = alice.token.clone();
        let client = app.client.clone();
        let url = app.url("/api/v1/streaming/public/local");
        tokio::spawn(async move {
            let mut res = client.get(url).bearer_auth(token).send().await.unwrap();
            let mut text = String::new();
            while !text.contains("event: update") || !text.contains("\n\n") {
                match tokio::time::timeout(WAIT, res.chunk()).await {
                    Ok(Ok(Some(c))) => text.push_str(&String::from_utf8_lossy(&c)),
                    _ => break,
                }
            }
            text
        })
    };
    let local = Channel::Public {
        scope: Scope::Local,
        media: false,
    };
    eventually("the event stream is registered", || async {
        app.state.streams.has(&local)
    })
    .await;
    let post = app.post_status(&bob, "hello #cats", "public").await;
    app.drain().await;
    let text = task.await.unwrap();
    let data = text
        .split("\n\n")
        .find(|b| b.contains("event: update"))
        .and_then(|b| b.lines().find_map(|l| l.strip_prefix("data: ")))
        .expect("an update event");
    let status: Value = serde_json::from_str(data).expect("the data is the status JSON");
    assert_eq!(status["id"], post["id"]);
}

#[tokio::test]
async fn a_burst_of_favourites_streams_a_handful_of_coalesced_events() {
    let app = spawn_with(|c| c.coalesce_ms = 500).await;
    let author = app.user("author").await;
    let post = app
        .post_status(&author, "this will go viral", "public")
        .await;
    let id = post["id"].as_str().unwrap().to_string();
    let mut fans = Vec::new();
    for i in 0..150 {
        fans.push(app.user(&format!("fan{i}")).await);
    }
    let mut ws = socket(&app, &token_query(&author, "user:notification")).await;
    let started = std::time::Instant::now();
    let path = format!("/api/v1/statuses/{id}/favourite");
    let calls: Vec<_> = fans
        .iter()
        .map(|fan| app.post(fan, &path, json!({})))
        .collect();
    futures_util::future::join_all(calls)
        .await
        .into_iter()
        .for_each(|r| {
            r.ok();
        });
    let burst = started.elapsed();
    let mut events = Vec::new();
    while let Some(e) = next(&mut ws, Duration::from_millis(1_500)).await {
        events.push(e);
    }
    let windows = (burst.as_millis() / 500) as usize + 2;
    assert!(!events.is_empty());
    assert!(
        events.len() <= windows,
        "{} events for 150 favourites over {burst:?} (at most {windows} windows)",
        events.len()
    );
    let latest = app
        .get(&author, "/api/v1/notifications?types[]=favourite&limit=1")
        .await
        .ok();
    assert_eq!(
        events.last().unwrap()["payload"]["id"],
        latest[0]["id"],
        "the last event carries the group's latest notification"
    );
    let counted = app
        .get(&author, &format!("/api/v1/statuses/{id}"))
        .await
        .ok();
    assert_eq!(counted["favourites_count"], 150);
}

#[tokio::test]
async fn a_slow_consumer_is_disconnected_and_others_keep_receiving() {
    let app = spawn_with(|c| {
        c.stream_buffer = 4;
        c.rate_limit = None;
    })
    .await;
    let bob = app.user("bob").await;
    // The slow client advertises a tiny receive window and never reads, so the server's
    // writes to it stall and its queue fills.
    let socket_opts = tokio::net::TcpSocket::new_v4().unwrap();
    socket_opts.set_recv_buffer_size(1024).unwrap();
    let tcp = socket_opts.connect(app.addr).await.unwrap();
    let url = format!("ws://{}/api/v1/streaming?stream=public", app.addr);
    let (mut slow, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
        .await
        .unwrap();
    // Every post below reaches the slow socket on a dozen streams, in big frames.
    for tag in 0..10 {
        let sub = json!({"type": "subscribe", "stream": "hashtag", "tag": format!("t{tag}")});
        slow.send(Message::Text(sub.to_string().into()))
            .await
            .unwrap();
    }
    slow.send(Message::Text(
        json!({"type": "subscribe", "stream": "public:local"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let mut fast = socket(&app, "stream=public").await;
    let fast_reader = tokio::spawn(async move {
        let mut got = 0;
        while next(&mut fast, Duration::from_secs(3)).await.is_some() {
            got += 1;
        }
        got
    });
    let filler: String = (0..100).map(|t| format!("#t{t} ")).collect();
    let mut posted = 0;
    for _ in 0..400 {
        app.post_status(&bob, &filler, "public").await;
        posted += 1;
        app.drain().await;
        if app.state.streams.connections() < 2 {
            break;
        }
    }
    assert!(
        app.state.streams.connections() < 2,
        "the stalled connection was dropped after {posted} posts"
    );
    // (Its kernel buffers still hold megabytes a window of 2 KiB drains slowly, so the
    // test does not wait for the slow client to read to the end.)
    drop(slow);
    assert_eq!(
        fast_reader.await.unwrap(),
        posted,
        "the fast client got every post"
    );
}

#[tokio::test]
async fn a_followed_tag_brings_public_posts_to_the_user_stream() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.post(&alice, "/api/v1/tags/cats/follow", json!({}))
        .await
        .ok();
    let mut ws = socket(&app, &token_query(&alice, "user")).await;
    app.post_status(&bob, "unlisted #cats", "unlisted").await;
    let post = app.post_status(&bob, "a #cats picture", "public").await;
    app.drain().await;
    let e = next(&mut ws, WAIT).await.expect("the tagged post");
    assert_eq!(
        (e["event"].as_str(), &e["payload"]["id"]),
        (Some("update"), &post["id"])
    );
    assert!(
        next(&mut ws, QUIET).await.is_none(),
        "only public posts travel by tag"
    );
}
