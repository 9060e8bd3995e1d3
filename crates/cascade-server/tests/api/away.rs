//! Out of office (a Cascade extension): setting a period, the one automatic reply per
//! sender, the profile field, and the digest push when the period ends.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, User};
use crate::push::{favourite, join_all, spawn_push_app, subscribe, Receiver};

fn rfc3339(millis: i64) -> String {
    cascade_core::time::rfc3339(millis)
}

fn in_secs(secs: i64) -> String {
    rfc3339(cascade_core::time::now_millis() + secs * 1_000)
}

async fn go_away(app: &TestApp, user: &User, message: &str, until: &str) -> Value {
    app.request(
        Method::PUT,
        "/api/v1/cascade/away",
        Some(&user.token),
        Some(json!({"message": message, "ends_at": until})),
    )
    .await
    .ok()
}

async fn direct(app: &TestApp, from: &User, text: &str) -> Value {
    app.post_status(from, text, "direct").await
}

/// The automatic replies `user` was told of, as mentions.
async fn automatic_replies_to(app: &TestApp, user: &User) -> Vec<Value> {
    let notes = app
        .get(user, "/api/v1/notifications?types[]=mention")
        .await
        .ok();
    notes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["status"]["cascade"]["automatic"] == true)
        .cloned()
        .collect()
}

#[tokio::test]
async fn an_away_period_is_set_read_and_cleared_with_validation() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let put = |body: Value| {
        app.request(
            Method::PUT,
            "/api/v1/cascade/away",
            Some(&alice.token),
            Some(body),
        )
    };
    let later = in_secs(3600);
    let bad = [
        json!({"message": "gone fishing"}),
        json!({"message": "gone fishing", "ends_at": "next tuesday"}),
        json!({"message": "gone fishing", "ends_at": later, "starts_at": in_secs(7200)}),
        json!({"message": "gone fishing", "ends_at": in_secs(-60)}),
        json!({"message": "  ", "ends_at": later}),
        json!({"message": "x".repeat(401), "ends_at": later}),
        json!({"message": "ask @bob", "ends_at": later}),
    ];
    for body in bad {
        let res = put(body.clone()).await;
        assert_eq!(res.status, 422, "{body}: {}", res.body);
        assert!(res.body["error"]
            .as_str()
            .unwrap()
            .starts_with("Validation failed"));
    }
    assert_eq!(app.get(&alice, "/api/v1/cascade/away").await.status, 404);

    let set = go_away(&app, &alice, "gone fishing", &later).await;
    assert_eq!(set["message"], "gone fishing");
    assert_eq!(set["active"], true);
    assert_eq!(
        cascade_core::time::parse_rfc3339(set["ends_at"].as_str().unwrap()),
        cascade_core::time::parse_rfc3339(&later)
    );
    assert_eq!(app.get(&alice, "/api/v1/cascade/away").await.ok(), set);
    let cleared = app
        .request(
            Method::DELETE,
            "/api/v1/cascade/away",
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(cleared.ok(), json!({}));
    assert_eq!(app.get(&alice, "/api/v1/cascade/away").await.status, 404);
    let anonymous = app.get_anon("/api/v1/cascade/away").await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn each_private_sender_gets_one_automatic_reply_per_period() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    app.follow(&carol, &alice).await;
    go_away(&app, &alice, "Back on Monday.", &in_secs(3600)).await;

    let first = direct(&app, &bob, "@alice are you there?").await;
    // Concurrent messages: still one reply.
    let more = (0..5).map(|i| {
        app.post(
            &bob,
            "/api/v1/statuses",
            json!({"status": format!("@alice hello? {i}"), "visibility": "direct"}),
        )
    });
    join_all(more).await;
    app.post_status(&carol, "@alice a private word", "private")
        .await;
    app.post_status(&dave, "@alice in public", "public").await;

    let to_bob = automatic_replies_to(&app, &bob).await;
    assert_eq!(to_bob.len(), 1, "{to_bob:?}");
    let reply = &to_bob[0]["status"];
    assert_eq!(reply["account"]["id"], alice.id.as_str());
    assert_eq!(reply["visibility"], "direct");
    assert_eq!(reply["in_reply_to_id"], first["id"]);
    assert_eq!(reply["mentions"][0]["id"], bob.id.as_str());
    assert!(reply["content"]
        .as_str()
        .unwrap()
        .contains("Back on Monday."));
    assert_eq!(automatic_replies_to(&app, &carol).await.len(), 1);
    assert!(
        automatic_replies_to(&app, &dave).await.is_empty(),
        "public mentions get none"
    );

    // A new period answers again.
    go_away(&app, &alice, "Still away.", &in_secs(3600)).await;
    direct(&app, &bob, "@alice and now?").await;
    assert_eq!(automatic_replies_to(&app, &bob).await.len(), 2);
}

#[tokio::test]
async fn blocked_and_muted_senders_get_no_automatic_reply() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/block", bob.id),
        json!({}),
    )
    .await
    .ok();
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/mute", carol.id),
        json!({}),
    )
    .await
    .ok();
    go_away(&app, &alice, "Away.", &in_secs(3600)).await;
    direct(&app, &bob, "@alice hi").await;
    direct(&app, &carol, "@alice hi").await;
    assert!(automatic_replies_to(&app, &bob).await.is_empty());
    assert!(automatic_replies_to(&app, &carol).await.is_empty());
}

#[tokio::test]
async fn two_away_users_answer_each_other_once_and_never_loop() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    go_away(&app, &alice, "Alice is away.", &in_secs(3600)).await;
    go_away(&app, &bob, "Bob is away.", &in_secs(3600)).await;
    let question = direct(&app, &alice, "@bob quick question").await;
    let answer = direct(&app, &bob, "@alice quick answer").await;

    let to_alice = automatic_replies_to(&app, &alice).await;
    let to_bob = automatic_replies_to(&app, &bob).await;
    assert_eq!(to_alice.len(), 1, "{to_alice:?}");
    assert_eq!(to_bob.len(), 1, "{to_bob:?}");
    // Each reply answers the other's own message, not the other's automatic reply.
    assert_eq!(to_alice[0]["status"]["in_reply_to_id"], question["id"]);
    assert_eq!(to_bob[0]["status"]["in_reply_to_id"], answer["id"]);
    assert!(to_alice[0]["status"]["content"]
        .as_str()
        .unwrap()
        .contains("Bob is away."));
    // Each heard of the other's message and of one automatic reply: nothing more. (The
    // message from a stranger waits in a request, by the default policy.)
    for user in [&alice, &bob] {
        let mentions = app
            .get(
                user,
                "/api/v1/notifications?types[]=mention&include_filtered=true",
            )
            .await
            .ok();
        assert_eq!(mentions.as_array().unwrap().len(), 2, "{mentions}");
    }
}

#[tokio::test]
async fn the_profile_shows_the_away_message_only_while_away() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let profile = format!("/api/v1/accounts/{}", alice.id);
    assert!(app
        .get(&bob, &profile)
        .await
        .ok()
        .get("cascade_away")
        .is_none());
    let until = in_secs(3600);
    go_away(&app, &alice, "On leave.", &until).await;
    let shown = app.get(&bob, &profile).await.ok();
    assert_eq!(shown["cascade_away"]["message"], "On leave.");
    assert_eq!(
        cascade_core::time::parse_rfc3339(shown["cascade_away"]["ends_at"].as_str().unwrap()),
        cascade_core::time::parse_rfc3339(&until)
    );
    app.request(
        Method::DELETE,
        "/api/v1/cascade/away",
        Some(&alice.token),
        None,
    )
    .await
    .ok();
    assert!(app
        .get(&bob, &profile)
        .await
        .ok()
        .get("cascade_away")
        .is_none());

    // A period that starts later does not show yet.
    app.request(
        Method::PUT,
        "/api/v1/cascade/away",
        Some(&alice.token),
        Some(json!({"message": "Soon away.", "starts_at": in_secs(600), "ends_at": in_secs(3600)})),
    )
    .await
    .ok();
    assert!(app
        .get(&bob, &profile)
        .await
        .ok()
        .get("cascade_away")
        .is_none());
    assert_eq!(
        app.get(&alice, "/api/v1/cascade/away").await.ok()["active"],
        false
    );
}

#[tokio::test]
async fn pushes_are_held_while_away_and_sent_as_one_digest_when_the_period_ends() {
    let app = spawn_push_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let receiver = Receiver::start().await;
    let (browser, _) = subscribe(
        &app,
        &alice,
        &receiver,
        json!({"alerts": {"mention": true, "favourite": true, "follow": false}}),
    )
    .await;
    let posts = [
        app.post_status(&alice, "one", "public").await,
        app.post_status(&alice, "two", "public").await,
    ];
    go_away(&app, &alice, "Away for a moment.", &in_secs(2)).await;
    for post in &posts {
        favourite(&app, &bob, post["id"].as_str().unwrap()).await;
    }
    favourite(&app, &carol, posts[0]["id"].as_str().unwrap()).await;
    app.post_status(&bob, "@alice ping", "public").await;
    app.follow(&carol, &alice).await;
    assert!(receiver.received().is_empty(), "held while away");

    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1, "one digest");
    let digest = browser.decrypt(&got[0].body);
    assert_eq!(digest["notification_type"], "away_digest");
    assert_eq!(
        digest["body"],
        "While you were away: 1 mention, 3 favourites"
    );
    app.settle().await;
    assert_eq!(receiver.received().len(), 1, "and nothing else");

    // Back: pushes flow again.
    favourite(&app, &carol, posts[1]["id"].as_str().unwrap()).await;
    let got = receiver.wait_for(2).await;
    assert_eq!(
        browser.decrypt(&got[1].body)["notification_type"],
        "favourite"
    );
}

#[tokio::test]
async fn clearing_the_period_sends_the_digest_at_once() {
    let app = spawn_push_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let receiver = Receiver::start().await;
    let (browser, _) =
        subscribe(&app, &alice, &receiver, json!({"alerts": {"follow": true}})).await;
    go_away(&app, &alice, "Away for the week.", &in_secs(7 * 86_400)).await;
    app.follow(&bob, &alice).await;
    let started = std::time::Instant::now();
    app.request(
        Method::DELETE,
        "/api/v1/cascade/away",
        Some(&alice.token),
        None,
    )
    .await
    .ok();
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(
        browser.decrypt(&got[0].body)["body"],
        "While you were away: 1 new follower"
    );
}
