//! Notifications v1: what each action tells whom, filters, dismissal, blocks and mutes,
//! and Cascade's "going viral" notice for clients that ask for it.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_with, TestApp, User};

async fn notes(app: &TestApp, user: &User, query: &str) -> Vec<Value> {
    app.drain().await;
    app.get(user, &format!("/api/v1/notifications{query}"))
        .await
        .ok()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn kinds(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|n| n["type"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_action_notifies_the_right_account_once() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.post(
        &bob,
        &format!("/api/v1/accounts/{}/follow", alice.id),
        json!({"notify": true}),
    )
    .await
    .ok();
    let post = app.post_status(&alice, "hello @bob", "public").await;
    let id = post["id"].as_str().unwrap();
    for _ in 0..2 {
        app.post(&bob, &format!("/api/v1/statuses/{id}/favourite"), json!({}))
            .await
            .ok();
    }
    app.post(&bob, &format!("/api/v1/statuses/{id}/reblog"), json!({}))
        .await
        .ok();
    app.post(
        &bob,
        "/api/v1/statuses",
        json!({"status": "quoting", "quoted_status_id": id}),
    )
    .await
    .ok();
    let for_alice = notes(&app, &alice, "").await;
    let mut got = kinds(&for_alice);
    got.sort();
    assert_eq!(
        got,
        vec!["favourite", "follow", "quote", "reblog"],
        "{for_alice:?}"
    );
    let fav = for_alice.iter().find(|n| n["type"] == "favourite").unwrap();
    assert_eq!(fav["account"]["id"], bob.id.as_str());
    assert_eq!(fav["status"]["id"], id);
    assert_eq!(fav["group_key"], format!("favourite-{id}"));

    let for_bob = notes(&app, &bob, "").await;
    let mut got = kinds(&for_bob);
    got.sort();
    assert_eq!(
        got,
        vec!["mention", "status"],
        "a mention, and the post of an account bob rings the bell for"
    );

    app.request(
        Method::PUT,
        &format!("/api/v1/statuses/{id}"),
        Some(&alice.token),
        Some(json!({"status": "hello again @bob"})),
    )
    .await
    .ok();
    let updates = notes(&app, &bob, "?types[]=update&types[]=quoted_update").await;
    let mut got = kinds(&updates);
    got.sort();
    assert_eq!(
        got,
        vec!["quoted_update", "update"],
        "bob reblogged and quoted it"
    );

    app.post(
        &bob,
        &format!("/api/v1/statuses/{id}/unfavourite"),
        json!({}),
    )
    .await
    .ok();
    app.post(&bob, &format!("/api/v1/statuses/{id}/unreblog"), json!({}))
        .await
        .ok();
    let left = kinds(&notes(&app, &alice, "").await);
    assert!(
        !left.contains(&"favourite".to_string()) && !left.contains(&"reblog".to_string()),
        "undone actions withdraw theirs: {left:?}"
    );
}

#[tokio::test]
async fn notifications_filter_dismiss_and_clear() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&bob, &alice).await;
    app.follow(&carol, &alice).await;
    let post = app.post_status(&alice, "hi", "public").await;
    app.post(
        &carol,
        &format!(
            "/api/v1/statuses/{}/favourite",
            post["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await
    .ok();
    assert_eq!(
        kinds(&notes(&app, &alice, "?types[]=follow").await),
        vec!["follow", "follow"]
    );
    assert_eq!(
        kinds(&notes(&app, &alice, "?exclude_types[]=follow").await),
        vec!["favourite"]
    );
    let from_bob = notes(&app, &alice, &format!("?account_id={}", bob.id)).await;
    assert_eq!(from_bob.len(), 1);
    let one = from_bob[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.get(&alice, &format!("/api/v1/notifications/{one}"))
            .await
            .ok()["id"],
        one.as_str()
    );
    assert_eq!(
        app.get(&bob, &format!("/api/v1/notifications/{one}"))
            .await
            .status,
        404,
        "one's own only"
    );
    app.post(
        &alice,
        &format!("/api/v1/notifications/{one}/dismiss"),
        json!({}),
    )
    .await
    .ok();
    assert_eq!(notes(&app, &alice, "").await.len(), 2);
    app.post(&alice, "/api/v1/notifications/clear", json!({}))
        .await
        .ok();
    assert!(notes(&app, &alice, "").await.is_empty());
}

#[tokio::test]
async fn blocked_and_muted_accounts_do_not_notify() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let troll = app.user("troll").await;
    let noisy = app.user("noisy").await;
    let post = app.post_status(&alice, "hi", "public").await;
    let id = post["id"].as_str().unwrap();
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/mute", noisy.id),
        json!({}),
    )
    .await
    .ok();
    app.post(
        &noisy,
        &format!("/api/v1/statuses/{id}/favourite"),
        json!({}),
    )
    .await
    .ok();
    app.post(&troll, "/api/v1/statuses", json!({"status": "@alice hey"}))
        .await
        .ok();
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/block", troll.id),
        json!({}),
    )
    .await
    .ok();
    app.post(
        &troll,
        "/api/v1/statuses",
        json!({"status": "@alice hey again"}),
    )
    .await
    .ok();
    let got = notes(&app, &alice, "").await;
    assert!(
        got.iter().all(|n| n["account"]["id"] != noisy.id.as_str()),
        "muted: {got:?}"
    );
    assert!(
        got.iter().all(|n| n["account"]["id"] != troll.id.as_str()),
        "blocked, and the earlier one hidden too: {got:?}"
    );
}

async fn cascade_of(app: &TestApp, reshares: usize) -> (User, Value) {
    let author = app.user("author").await;
    let post = app.post_status(&author, "watch this", "public").await;
    for i in 0..reshares {
        let r = app.user(&format!("r{i}")).await;
        for j in 0..3 {
            let f = app.user(&format!("f{i}x{j}")).await;
            app.follow(&f, &r).await;
        }
        app.post(
            &r,
            &format!("/api/v1/statuses/{}/reblog", post["id"].as_str().unwrap()),
            json!({}),
        )
        .await
        .ok();
    }
    (author, post)
}

#[tokio::test]
async fn authors_hear_when_a_post_is_going_viral_if_their_client_asks() {
    let app = spawn_with(|c| c.viral_multiple = 1.0).await;
    let (author, post) = cascade_of(&app, 8).await;
    assert!(
        notes(&app, &author, "")
            .await
            .iter()
            .all(|n| n["type"] != "going_viral"),
        "unknown types stay hidden by default"
    );
    let viral = notes(&app, &author, "?types[]=going_viral").await;
    assert_eq!(viral.len(), 1);
    assert_eq!(viral[0]["status"]["id"], post["id"]);

    // The check runs at 8, 16, 32... reshares, so a burst costs a handful of predictions.
    let early = spawn_with(|c| c.viral_multiple = 1.0).await;
    let (author, _) = cascade_of(&early, 7).await;
    assert!(
        notes(&early, &author, "?types[]=going_viral")
            .await
            .is_empty(),
        "not checked before 8 reshares"
    );
}

#[tokio::test]
async fn markers_remember_where_reading_stopped_and_drive_the_unread_count() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    assert_eq!(app.get(&alice, "/api/v1/markers").await.ok(), json!({}));
    app.follow(&bob, &alice).await;
    let first = notes(&app, &alice, "").await;
    assert_eq!(
        app.get(&alice, "/api/v1/notifications/unread_count")
            .await
            .ok()["count"],
        1
    );
    let saved = app
        .post(
            &alice,
            "/api/v1/markers",
            json!({"notifications": {"last_read_id": first[0]["id"]}}),
        )
        .await
        .ok();
    assert_eq!(saved["notifications"]["last_read_id"], first[0]["id"]);
    assert_eq!(saved["notifications"]["version"], 0);
    assert_eq!(
        app.get(&alice, "/api/v1/notifications/unread_count")
            .await
            .ok()["count"],
        0
    );
    app.follow(&carol, &alice).await;
    app.drain().await;
    assert_eq!(
        app.get(&alice, "/api/v1/notifications/unread_count")
            .await
            .ok()["count"],
        1
    );

    // Form-style keys, as Mastodon.py sends them, move the home marker; versions count.
    let res = app
        .client
        .post(app.url("/api/v1/markers"))
        .bearer_auth(&alice.token)
        .form(&[("home[last_read_id]", "12345")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.client
        .post(app.url("/api/v1/markers"))
        .bearer_auth(&alice.token)
        .form(&[("home[last_read_id]", "12346")])
        .send()
        .await
        .unwrap();
    let both = app
        .get(
            &alice,
            "/api/v1/markers?timeline[]=home&timeline[]=notifications",
        )
        .await
        .ok();
    assert_eq!(both["home"]["last_read_id"], "12346");
    assert_eq!(both["home"]["version"], 1);
    assert!(both["notifications"].is_object());
    let only_home = app
        .get(&alice, "/api/v1/markers?timeline[]=home")
        .await
        .ok();
    assert!(only_home.get("notifications").is_none());
    assert_eq!(
        app.post(&alice, "/api/v1/markers", json!({})).await.status,
        400
    );
    assert_eq!(
        app.post(
            &alice,
            "/api/v1/markers",
            json!({"home": {"last_read_id": "soon"}})
        )
        .await
        .status,
        422
    );
}
