//! Brand watch (`/api/v1/cascade/watches`): saved watches and their validation and
//! ownership, matching by keyword, hashtag and mention, the watch timeline with its
//! paging and visibility, the `cascade:watch` stream, the unanswered queue, and the
//! response-time statistics.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{ids, spawn_app, TestApp, User};

async fn create(app: &TestApp, user: &User, body: Value) -> Value {
    app.post(user, "/api/v1/cascade/watches", body).await.ok()
}

async fn timeline(app: &TestApp, user: &User, watch: &Value) -> Vec<String> {
    app.drain().await;
    let path = format!(
        "/api/v1/cascade/watches/{}/timeline",
        watch["id"].as_str().unwrap()
    );
    ids(app.get(user, &path).await.ok().as_array().unwrap())
}

async fn queue(app: &TestApp, user: &User, path: &str) -> Vec<Value> {
    app.drain().await;
    app.get(user, path).await.ok().as_array().unwrap().clone()
}

fn item_ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn reply(app: &TestApp, user: &User, to: &Value, text: &str) -> Value {
    app.post(
        user,
        "/api/v1/statuses",
        json!({"status": text, "in_reply_to_id": to["id"], "visibility": "public"}),
    )
    .await
    .ok()
}

#[tokio::test]
async fn watches_are_created_listed_changed_and_deleted() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let w = create(
        &app,
        &alice,
        json!({"name": " Acme ", "keywords": ["ACME", "customer  service", "acme"], "hashtags": ["#AcmeHelp"]}),
    )
    .await;
    assert_eq!(w["name"], "Acme");
    assert_eq!(w["keywords"], json!(["acme", "customer service"]));
    assert_eq!(w["hashtags"], json!(["acmehelp"]));
    assert_eq!(w["mentions"], false);
    let path = format!("/api/v1/cascade/watches/{}", id(&w));
    assert_eq!(app.get(&alice, &path).await.ok()["id"], w["id"]);
    let listed = app.get(&alice, "/api/v1/cascade/watches").await.ok();
    assert_eq!(ids(listed.as_array().unwrap()), vec![id(&w)]);

    // A PUT changes what it names and keeps the rest.
    let changed = app
        .request(
            Method::PUT,
            &path,
            Some(&alice.token),
            Some(json!({"mentions": true, "keywords": []})),
        )
        .await
        .ok();
    assert_eq!(changed["mentions"], true);
    assert_eq!(changed["keywords"], json!([]));
    assert_eq!(changed["hashtags"], json!(["acmehelp"]));
    assert_eq!(changed["name"], "Acme");

    let gone = app
        .request(Method::DELETE, &path, Some(&alice.token), None)
        .await;
    assert_eq!(gone.status, StatusCode::OK);
    assert_eq!(app.get(&alice, &path).await.status, StatusCode::NOT_FOUND);
    let listed = app.get(&alice, "/api/v1/cascade/watches").await.ok();
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn invalid_watches_and_too_many_are_unprocessable() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let many: Vec<String> = (0..51).map(|i| format!("word{i}")).collect();
    for body in [
        json!({"name": "", "keywords": ["acme"]}),
        json!({"name": "nothing to watch"}),
        json!({"name": "punctuation", "keywords": ["!!!"]}),
        json!({"name": "bad tag", "hashtags": ["two words"]}),
        json!({"name": "too many", "keywords": many}),
        json!({"name": "x".repeat(101), "keywords": ["acme"]}),
    ] {
        let res = app
            .post(&alice, "/api/v1/cascade/watches", body.clone())
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(res.body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    for i in 0..20 {
        create(
            &app,
            &alice,
            json!({"name": format!("w{i}"), "keywords": ["acme"]}),
        )
        .await;
    }
    let res = app
        .post(
            &alice,
            "/api/v1/cascade/watches",
            json!({"name": "one too many", "keywords": ["acme"]}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let w = create(
        &app,
        &app.user("bob").await,
        json!({"name": "b", "mentions": true}),
    )
    .await;
    let res = app
        .request(
            Method::PUT,
            &format!("/api/v1/cascade/watches/{}", id(&w)),
            Some(&alice.token),
            Some(json!({"name": "mine now"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "another's watch");
}

#[tokio::test]
async fn another_accounts_watch_is_not_found() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let w = create(&app, &alice, json!({"name": "acme", "keywords": ["acme"]})).await;
    let base = format!("/api/v1/cascade/watches/{}", id(&w));
    for path in [
        base.clone(),
        format!("{base}/timeline"),
        format!("{base}/unanswered"),
    ] {
        let res = app.get(&bob, &path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert!(res.body["error"].is_string());
    }
    let res = app
        .request(Method::DELETE, &base, Some(&bob.token), None)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&alice, &base).await.status, StatusCode::OK);
    assert_eq!(
        app.get_anon("/api/v1/cascade/watches").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn watches_match_keywords_hashtags_and_mentions() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let words = create(
        &app,
        &alice,
        json!({"name": "w", "keywords": ["acme", "slow delivery"]}),
    )
    .await;
    let tags = create(&app, &alice, json!({"name": "t", "hashtags": ["AcmeHelp"]})).await;
    let mentions = create(&app, &alice, json!({"name": "m", "mentions": true})).await;

    let loud = app.post_status(&bob, "I love ACME!", "public").await;
    let phrase = app
        .post_status(&bob, "Such SLOW delivery again", "public")
        .await;
    let tagged = app.post_status(&bob, "please #acmehelp", "public").await;
    let mention = app.post_status(&bob, "@alice hello", "public").await;
    app.post_status(&bob, "acmeish, slow and no delivery", "public")
        .await;
    app.post_status(&alice, "acme says hi #acmehelp", "public")
        .await;

    assert_eq!(
        timeline(&app, &alice, &words).await,
        vec![id(&phrase), id(&loud)]
    );
    assert_eq!(timeline(&app, &alice, &tags).await, vec![id(&tagged)]);
    assert_eq!(timeline(&app, &alice, &mentions).await, vec![id(&mention)]);

    // An edit that brings a keyword in makes a hit.
    let plain = app.post_status(&bob, "nothing to see", "public").await;
    app.request(
        Method::PUT,
        &format!("/api/v1/statuses/{}", id(&plain)),
        Some(&bob.token),
        Some(json!({"status": "now about Acme"})),
    )
    .await
    .ok();
    assert_eq!(
        timeline(&app, &alice, &words).await,
        vec![id(&plain), id(&phrase), id(&loud)]
    );

    // Changed terms apply to what comes next.
    app.request(
        Method::PUT,
        &format!("/api/v1/cascade/watches/{}", id(&tags)),
        Some(&alice.token),
        Some(json!({"hashtags": ["other"]})),
    )
    .await
    .ok();
    let other = app.post_status(&bob, "#other #acmehelp", "public").await;
    assert_eq!(
        timeline(&app, &alice, &tags).await,
        vec![id(&other), id(&tagged)]
    );
}

#[tokio::test]
async fn a_watch_timeline_pages_without_gaps_or_duplicates() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let w = create(&app, &alice, json!({"name": "w", "keywords": ["acme"]})).await;
    let mut posted = Vec::new();
    for i in 0..23 {
        let text = if i % 3 == 0 {
            format!("other {i}")
        } else {
            format!("acme {i}")
        };
        let s = app.post_status(&bob, &text, "public").await;
        if i % 3 != 0 {
            posted.push(id(&s));
        }
    }
    app.drain().await;
    posted.reverse();
    let path = format!("/api/v1/cascade/watches/{}/timeline?limit=4", id(&w));
    let pages = app.walk(&alice, &path, "next").await;
    assert!(pages.iter().all(|p| p.len() <= 4));
    let seen: Vec<String> = pages.iter().flat_map(|p| ids(p)).collect();
    assert_eq!(seen, posted, "newest first, each once");

    // Upwards from the oldest, with min_id.
    let oldest = posted.last().unwrap();
    let up = format!(
        "/api/v1/cascade/watches/{}/timeline?limit=4&min_id={oldest}",
        id(&w)
    );
    let pages = app.walk(&alice, &up, "prev").await;
    let mut seen: Vec<String> = pages.into_iter().rev().flat_map(|p| ids(&p)).collect();
    seen.push(oldest.clone());
    assert_eq!(seen, posted);
}

#[tokio::test]
async fn watch_timelines_show_only_what_the_owner_may_see() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let friend = app.user("friend").await;
    let stranger = app.user("stranger").await;
    let blocked = app.user("blocked").await;
    app.follow(&alice, &friend).await;
    let w = create(&app, &alice, json!({"name": "w", "keywords": ["acme"]})).await;

    let shared = app
        .post_status(&friend, "acme for followers", "private")
        .await;
    app.post_status(&stranger, "acme private", "private").await;
    app.post_status(&stranger, "acme direct to nobody", "direct")
        .await;
    let public = app.post_status(&stranger, "acme in public", "public").await;
    app.post_status(&blocked, "acme before the block", "public")
        .await;
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/block", blocked.id),
        json!({}),
    )
    .await
    .ok();
    app.post_status(&blocked, "acme after the block", "public")
        .await;

    assert_eq!(
        timeline(&app, &alice, &w).await,
        vec![id(&public), id(&shared)]
    );
    let items = queue(&app, &alice, "/api/v1/cascade/watches/unanswered").await;
    assert_eq!(item_ids(&items), vec![id(&shared), id(&public)]);
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_frame(ws: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame in time")
            .expect("an open socket")
            .expect("a frame");
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test]
async fn the_watch_stream_carries_hits_and_not_other_posts() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let w = create(&app, &alice, json!({"name": "w", "keywords": ["acme"]})).await;
    let url = format!(
        "ws://{}/api/v1/streaming?access_token={}&stream=cascade:watch&watch={}",
        app.addr,
        alice.token,
        id(&w)
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    app.post_status(&bob, "nothing to see", "public").await;
    app.drain().await;
    let hit = app.post_status(&bob, "acme broke", "public").await;
    app.drain().await;
    let frame = next_frame(&mut ws).await;
    assert_eq!(frame["event"], "update");
    assert_eq!(frame["stream"], json!(["cascade:watch", id(&w)]));
    let payload: Value = serde_json::from_str(frame["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["id"], hit["id"], "the first event is the hit");

    // Nobody else may subscribe to it.
    let (mut other, _) = tokio_tungstenite::connect_async(format!(
        "ws://{}/api/v1/streaming?access_token={}",
        app.addr, bob.token
    ))
    .await
    .unwrap();
    let subscribe = json!({"type": "subscribe", "stream": "cascade:watch", "watch": id(&w)});
    other
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    let error = next_frame(&mut other).await;
    assert_eq!(error["status"], 404, "{error}");

    // Deleting the hit tells the watch's stream.
    app.request(
        Method::DELETE,
        &format!("/api/v1/statuses/{}", id(&hit)),
        Some(&bob.token),
        None,
    )
    .await
    .ok();
    let frame = next_frame(&mut ws).await;
    assert_eq!(frame["event"], "delete");
    assert_eq!(frame["payload"], hit["id"]);
    let sse = app
        .get(
            &bob,
            &format!("/api/v1/streaming/cascade/watch?watch={}", id(&w)),
        )
        .await;
    assert_eq!(sse.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_watch_stream_over_server_sent_events_leaves_out_blocked_authors() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let blocked = app.user("blocked").await;
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/block", blocked.id),
        json!({}),
    )
    .await
    .ok();
    let w = create(&app, &alice, json!({"name": "w", "hashtags": ["acme"]})).await;
    let mut res = app
        .client
        .get(app.url(&format!("/api/v1/streaming/cascade/watch?watch={}", id(&w))))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.post_status(&blocked, "#acme from the blocked", "public")
        .await;
    app.drain().await;
    let hit = app.post_status(&bob, "#acme from bob", "public").await;
    app.drain().await;
    let mut text = String::new();
    let data = loop {
        let chunk = tokio::time::timeout(Duration::from_secs(10), res.chunk())
            .await
            .expect("an event in time")
            .unwrap()
            .expect("an open stream");
        text.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(data) = text.lines().find_map(|l| l.strip_prefix("data: ")) {
            break data.to_string();
        }
    };
    assert!(text.contains("event: update"));
    let payload: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(payload["id"], hit["id"], "the first event is bob's");
}

#[tokio::test]
async fn the_unanswered_queue_is_oldest_first_and_empties_on_reply_or_dismissal() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let w = create(&app, &alice, json!({"name": "w", "keywords": ["acme"]})).await;
    let first = app.post_status(&bob, "acme one", "public").await;
    let mention = app.post_status(&bob, "@alice two", "public").await;
    let third = app.post_status(&bob, "acme three", "public").await;
    app.post_status(&bob, "not watched", "public").await;

    let all = "/api/v1/cascade/watches/unanswered";
    let items = queue(&app, &alice, all).await;
    assert_eq!(item_ids(&items), vec![id(&first), id(&mention), id(&third)]);
    let ages: Vec<i64> = items
        .iter()
        .map(|i| i["age_seconds"].as_i64().unwrap())
        .collect();
    assert!(
        ages.windows(2).all(|a| a[0] >= a[1]),
        "older waits longer: {ages:?}"
    );
    assert!(ages.iter().all(|&a| a >= 0));
    assert_eq!(items[0]["watch_ids"], json!([id(&w)]));
    assert_eq!(items[0]["mention"], false);
    assert_eq!(items[1]["watch_ids"], json!([]));
    assert_eq!(items[1]["mention"], true);
    assert_eq!(items[0]["status"]["id"], first["id"]);

    // The watch's own queue has its hits only.
    let mine = format!("/api/v1/cascade/watches/{}/unanswered", id(&w));
    assert_eq!(
        item_ids(&queue(&app, &alice, &mine).await),
        vec![id(&first), id(&third)]
    );

    // A reply by the owner answers; a reply by someone else does not.
    reply(&app, &bob, &third, "acme, me again").await;
    reply(&app, &alice, &first, "@bob sorted!").await;
    let items = queue(&app, &alice, all).await;
    let after_reply = item_ids(&items);
    assert!(!after_reply.contains(&id(&first)));
    assert!(after_reply.contains(&id(&third)));
    assert!(after_reply.contains(&id(&mention)));

    let dismiss = format!("{all}/{}/dismiss", id(&mention));
    app.post(&alice, &dismiss, json!({})).await.ok();
    assert!(!item_ids(&queue(&app, &alice, all).await).contains(&id(&mention)));
    let res = app
        .post(
            &alice,
            &format!(
                "{all}/{}/dismiss",
                id(&app.post_status(&bob, "unrelated", "public").await)
            ),
            json!({}),
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "not an item");
    let res = app.post(&bob, &dismiss, json!({})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "not bob's item");
}

#[tokio::test]
async fn the_unanswered_queue_pages_upwards_without_gaps() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    create(&app, &alice, json!({"name": "w", "keywords": ["acme"]})).await;
    let mut posted = Vec::new();
    for i in 0..7 {
        posted.push(id(&app
            .post_status(&bob, &format!("acme {i}"), "public")
            .await));
    }
    app.drain().await;
    let pages = app
        .walk(&alice, "/api/v1/cascade/watches/unanswered?limit=3", "next")
        .await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![3, 3, 1]
    );
    let seen: Vec<String> = pages.iter().flat_map(|p| item_ids(p)).collect();
    assert_eq!(seen, posted, "oldest first, each once");

    // Back down from the newest with max_id.
    let newest = posted.last().unwrap();
    let back = app
        .get(
            &alice,
            &format!("/api/v1/cascade/watches/unanswered?limit=3&max_id={newest}"),
        )
        .await
        .ok();
    assert_eq!(item_ids(back.as_array().unwrap()), posted[3..6].to_vec());
}

fn millis(status: &Value) -> i64 {
    cascade_core::time::parse_rfc3339(status["created_at"].as_str().unwrap()).unwrap()
}

/// The nearest-rank percentile, as documented.
fn nearest_rank(mut v: Vec<i64>, p: usize) -> f64 {
    v.sort_unstable();
    let rank = (p * v.len()).div_ceil(100).max(1);
    v[rank - 1] as f64 / 1000.0
}

#[tokio::test]
async fn statistics_count_items_and_time_the_first_replies() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let w = create(&app, &alice, json!({"name": "acme", "keywords": ["acme"]})).await;
    let other = create(
        &app,
        &alice,
        json!({"name": "other", "hashtags": ["other"]}),
    )
    .await;
    let mut posts = Vec::new();
    for i in 0..4 {
        posts.push(app.post_status(&bob, &format!("acme {i}"), "public").await);
    }
    let mention = app.post_status(&bob, "@alice hi", "public").await;
    app.drain().await;
    // Answer three of the four hits (one twice: the first reply counts) and the mention.
    let mut delays = Vec::new();
    for p in [&posts[2], &posts[0], &posts[3]] {
        let r = reply(&app, &alice, p, "@bob on it").await;
        delays.push(millis(&r) - millis(p));
    }
    reply(&app, &alice, &posts[0], "@bob and done").await;
    let r = reply(&app, &alice, &mention, "@bob hello").await;
    let mention_delay = millis(&r) - millis(&mention);

    let stats = app
        .get(&alice, "/api/v1/cascade/watches/stats?window=7d")
        .await
        .ok();
    let overall = &stats["overall"];
    assert_eq!(overall["items"], 5);
    assert_eq!(overall["answered"], 4);
    assert_eq!(overall["unanswered"], 1);
    let mut all = delays.clone();
    all.push(mention_delay);
    assert_eq!(
        overall["median_seconds"],
        json!(nearest_rank(all.clone(), 50))
    );
    assert_eq!(overall["p90_seconds"], json!(nearest_rank(all, 90)));

    let per = stats["watches"].as_array().unwrap();
    assert_eq!(per.len(), 2);
    assert_eq!(per[0]["watch_id"], w["id"]);
    assert_eq!(per[0]["items"], 4);
    assert_eq!(per[0]["answered"], 3);
    assert_eq!(
        per[0]["median_seconds"],
        json!(nearest_rank(delays.clone(), 50))
    );
    assert_eq!(per[0]["p90_seconds"], json!(nearest_rank(delays, 90)));
    assert_eq!(per[1]["watch_id"], other["id"]);
    assert_eq!(per[1]["items"], 0);
    assert_eq!(per[1]["median_seconds"], Value::Null);

    // A window that ends before the posts sees none of them.
    let until = cascade_core::time::rfc3339(millis(&posts[0]));
    let before = app
        .get(
            &alice,
            &format!("/api/v1/cascade/watches/stats?window=1h&until={until}"),
        )
        .await
        .ok();
    assert_eq!(before["overall"]["items"], 0);

    for bad in [
        "window=7y",
        "window=0d",
        "since=soon",
        "since=2030-01-01T00:00:00Z&until=2029-01-01T00:00:00Z",
    ] {
        let res = app
            .get(&alice, &format!("/api/v1/cascade/watches/stats?{bad}"))
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[tokio::test]
async fn watch_statuses_and_errors_match_the_mastodon_openapi_schemas() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let w = create(&app, &alice, json!({"name": "w", "keywords": ["acme"]})).await;
    app.post_status(&bob, "acme #help for @alice", "public")
        .await;
    app.drain().await;
    let timeline = app
        .get(
            &alice,
            &format!("/api/v1/cascade/watches/{}/timeline", id(&w)),
        )
        .await
        .ok();
    let items = queue(&app, &alice, "/api/v1/cascade/watches/unanswered").await;
    assert_eq!(timeline.as_array().unwrap().len(), 1);
    assert_eq!(items.len(), 1);
    let in_queue: Vec<Value> = items.iter().map(|i| i["status"].clone()).collect();
    let invalid = app
        .post(&alice, "/api/v1/cascade/watches", json!({"name": "empty"}))
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let samples = [
        ("Status[]", timeline, "a watch timeline".to_string()),
        (
            "Status[]",
            Value::Array(in_queue),
            "the unanswered queue".to_string(),
        ),
        ("Error", invalid.body, "an invalid watch".to_string()),
    ];
    if let Some(complaints) = crate::schemas::validate(&samples).await {
        assert!(complaints.is_empty(), "{complaints}");
    }
}
