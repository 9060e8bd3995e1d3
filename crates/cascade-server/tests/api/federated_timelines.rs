//! Remote posts told apart from local ones, between two real Cascade servers on loopback:
//! the tag timeline's `local`/`remote`, the `:local`/`:remote` public and hashtag streams,
//! and the actor's outbox, followers and following as paged collections.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use cascade_server::app::stream::{Channel, Scope};

use crate::helpers::{eventually, spawn_with, TestApp, User};
use crate::streaming::next;

async fn server() -> TestApp {
    spawn_with(|config| {
        config.allow_private_outgoing = true;
        config.rate_limit = None;
    })
    .await
}

/// `follower` on `app` follows `name` of `other`, and the follow is accepted there.
async fn follow_remote(app: &TestApp, follower: &User, other: &TestApp, name: &str) -> String {
    let acct = format!("{name}@{}", other.addr);
    let found = app
        .get(follower, &format!("/api/v1/accounts/lookup?acct={acct}"))
        .await
        .ok();
    let id = found["id"]
        .as_str()
        .expect("the remote account")
        .to_string();
    app.post(
        follower,
        &format!("/api/v1/accounts/{id}/follow"),
        json!({}),
    )
    .await
    .ok();
    eventually("the remote server accepts the follow", || async {
        app.get(
            follower,
            &format!("/api/v1/accounts/relationships?id[]={id}"),
        )
        .await
        .ok()[0]["following"]
            == true
    })
    .await;
    id
}

/// The contents of a timeline's statuses.
async fn texts(app: &TestApp, user: &User, path: &str) -> Vec<String> {
    let page = app.get(user, path).await.ok();
    page.as_array()
        .unwrap_or_else(|| panic!("{path} answers a list: {page}"))
        .iter()
        .map(|s| s["content"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn has(texts: &[String], needle: &str) -> bool {
    texts.iter().any(|t| t.contains(needle))
}

#[tokio::test]
async fn tag_timelines_and_streams_tell_local_and_remote_posts_apart() {
    let a = server().await;
    let b = server().await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    follow_remote(&b, &bob, &a, "alice").await;

    // Bob's socket on B listens to every public and hashtag stream.
    let url = format!(
        "ws://{}/api/v1/streaming?access_token={}",
        b.addr, bob.token
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    for (stream, tag) in [
        ("public", None),
        ("public:local", None),
        ("public:remote", None),
        ("public:local:media", None),
        ("public:remote:media", None),
        ("hashtag", Some("fed")),
        ("hashtag:local", Some("fed")),
    ] {
        let mut m = json!({"type": "subscribe", "stream": stream});
        if let Some(tag) = tag {
            m["tag"] = json!(tag);
        }
        ws.send(Message::Text(m.to_string().into())).await.unwrap();
    }
    let last = Channel::Hashtag {
        tag: "fed".into(),
        local: true,
    };
    let remote = Channel::Public {
        scope: Scope::Remote,
        media: true,
    };
    eventually("the subscriptions are registered", || async {
        b.state.streams.has(&last) && b.state.streams.has(&remote)
    })
    .await;

    a.post_status(&alice, "from A #fed", "public").await;
    eventually("alice's post reaches B's tag timeline", || async {
        has(
            &texts(&b, &bob, "/api/v1/timelines/tag/fed").await,
            "from A",
        )
    })
    .await;
    b.post_status(&bob, "from B #fed", "public").await;
    b.drain().await;

    let all = texts(&b, &bob, "/api/v1/timelines/tag/fed").await;
    assert!(has(&all, "from A") && has(&all, "from B"), "{all:?}");
    let local = texts(&b, &bob, "/api/v1/timelines/tag/fed?local=true").await;
    assert!(!has(&local, "from A") && has(&local, "from B"), "{local:?}");
    let remote = texts(&b, &bob, "/api/v1/timelines/tag/fed?remote=true").await;
    assert!(
        has(&remote, "from A") && !has(&remote, "from B"),
        "{remote:?}"
    );
    // `local` wins over `remote`, as on the public timeline.
    let both = texts(&b, &bob, "/api/v1/timelines/tag/fed?local=true&remote=true").await;
    assert_eq!(both, local);
    // Neither post has media, so the media views of each side are empty.
    for query in ["only_media=true&local=true", "only_media=true&remote=true"] {
        let media = texts(&b, &bob, &format!("/api/v1/timelines/tag/fed?{query}")).await;
        assert!(media.is_empty(), "{query}: {media:?}");
    }
    let public_remote = texts(&b, &bob, "/api/v1/timelines/public?remote=true").await;
    assert!(has(&public_remote, "from A") && !has(&public_remote, "from B"));

    // Each post reached exactly the streams of its side, and no media stream.
    let mut seen = BTreeSet::new();
    let want: BTreeSet<(String, String)> = [
        ("public", "from A"),
        ("public:remote", "from A"),
        ("hashtag", "from A"),
        ("public", "from B"),
        ("public:local", "from B"),
        ("hashtag", "from B"),
        ("hashtag:local", "from B"),
    ]
    .iter()
    .map(|(s, t)| (s.to_string(), t.to_string()))
    .collect();
    let mut wait = Duration::from_secs(10);
    while let Some(frame) = next(&mut ws, wait).await {
        if frame["event"] != "update" {
            continue;
        }
        let stream = frame["stream"][0].as_str().unwrap_or_default().to_string();
        let text = frame["payload"]["content"].as_str().unwrap_or_default();
        let who = if text.contains("from A") {
            "from A"
        } else {
            "from B"
        };
        assert!(
            seen.insert((stream.clone(), who.to_string())),
            "{who} came twice on {stream}"
        );
        if seen == want {
            // Anything more would be a post on a stream of the other side.
            wait = Duration::from_millis(400);
        }
    }
    assert_eq!(seen, want);
}

/// The path and query of one of `app`'s own ActivityPub ids.
fn path_of(app: &TestApp, id: &Value) -> String {
    let id = id.as_str().unwrap_or_else(|| panic!("an id: {id}"));
    id.strip_prefix(&app.url(""))
        .unwrap_or_else(|| panic!("{id} is one of the server's own"))
        .to_string()
}

fn contents(page: &Value) -> Vec<String> {
    page["orderedItems"]
        .as_array()
        .unwrap_or_else(|| panic!("a page with items: {page}"))
        .iter()
        .map(|c| {
            assert_eq!(c["type"], "Create", "{c}");
            assert_eq!(c["object"]["type"], "Note", "{c}");
            c["object"]["content"].as_str().unwrap().to_string()
        })
        .collect()
}

#[tokio::test]
async fn outbox_followers_and_following_list_their_items_page_by_page() {
    let a = server().await;
    let b = server().await;
    let alice = a.user("alice").await;
    let carol = a.user("carol").await;
    let bob = b.user("bob").await;
    follow_remote(&b, &bob, &a, "alice").await;
    a.follow(&carol, &alice).await;
    a.follow(&alice, &carol).await;

    for i in 1..=21 {
        a.post_status(&alice, &format!("post number {i:02}"), "public")
            .await;
    }
    a.post_status(&alice, "post number 22 unlisted", "unlisted")
        .await;
    a.post_status(&alice, "a private one", "private").await;
    a.post_status(&alice, "a direct one @carol", "direct").await;

    let outbox = a.get_anon("/users/alice/outbox").await.ok();
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(outbox["id"], a.url("/users/alice/outbox"));
    assert_eq!(
        outbox["totalItems"], 24,
        "every post counts, as in Mastodon"
    );
    assert_eq!(outbox["first"], a.url("/users/alice/outbox?page=true"));

    let first = a.get_anon(&path_of(&a, &outbox["first"])).await.ok();
    assert_eq!(first["type"], "OrderedCollectionPage");
    assert_eq!(first["partOf"], outbox["id"]);
    let newest = contents(&first);
    assert_eq!(newest.len(), 20);
    assert!(
        newest[0].contains("22 unlisted"),
        "newest first: {newest:?}"
    );
    assert!(newest[19].contains("post number 03"), "{newest:?}");
    let second = a.get_anon(&path_of(&a, &first["next"])).await.ok();
    let oldest = contents(&second);
    assert_eq!(oldest.len(), 2);
    assert!(
        oldest[0].contains("02") && oldest[1].contains("01"),
        "{oldest:?}"
    );
    assert!(second.get("next").is_none(), "the last page ends: {second}");
    let all: Vec<String> = newest.iter().chain(&oldest).cloned().collect();
    assert!(!all
        .iter()
        .any(|t| t.contains("private") || t.contains("direct")));
    // Back up from the second page: the first page again.
    let back = a.get_anon(&path_of(&a, &second["prev"])).await.ok();
    assert_eq!(contents(&back), newest);
    let unlisted = &first["orderedItems"][0];
    assert!(
        !unlisted["to"].to_string().contains("#Public"),
        "an unlisted post keeps its addressing: {unlisted}"
    );

    let followers = a.get_anon("/users/alice/followers").await.ok();
    assert_eq!(followers["type"], "OrderedCollection");
    assert_eq!(followers["totalItems"], 2);
    let page = a.get_anon(&path_of(&a, &followers["first"])).await.ok();
    assert_eq!(page["type"], "OrderedCollectionPage");
    assert_eq!(
        page["orderedItems"],
        json!([a.url("/users/carol"), b.url("/users/bob")]),
        "newest follow first"
    );
    let following = a.get_anon("/users/alice/following").await.ok();
    assert_eq!(following["totalItems"], 1);
    let page = a.get_anon(&path_of(&a, &following["first"])).await.ok();
    assert_eq!(page["orderedItems"], json!([a.url("/users/carol")]));
    assert!(page.get("next").is_none());
    // Bob's server lists alice among those bob follows.
    let theirs = b.get_anon("/users/bob/following?page=true").await.ok();
    assert_eq!(theirs["orderedItems"], json!([a.url("/users/alice")]));

    // Bad cursors are refused as errors, unknown actors are not found.
    let bad = a.get_anon("/users/alice/outbox?page=true&max_id=abc").await;
    assert_eq!(bad.status, reqwest::StatusCode::BAD_REQUEST);
    assert!(bad.body["error"].is_string(), "{}", bad.body);
    let nobody = a.get_anon("/users/nobody/followers?page=true").await;
    assert_eq!(nobody.status, reqwest::StatusCode::NOT_FOUND);
    assert!(nobody.body["error"].is_string());
}
