//! View counts: impressions and distinct viewers, visible to the author by default.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_one_with, spawn_with};

#[tokio::test]
async fn impressions_count_on_every_display_and_only_the_author_sees_them() {
    // One node: impressions are buffered by the node that took them until its flush (at
    // most 2 s); this test reads them unflushed.
    let app = spawn_one_with(|_| {}).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&bob, &alice).await;
    let post = app.post_status(&alice, "count my views", "public").await;
    let id = post["id"].as_str().unwrap();
    assert_eq!(post["cascade"]["views"], 0, "the author sees a zero count");
    app.home(&bob, "").await; // 1 (bob)
    app.get(&bob, &format!("/api/v1/statuses/{id}")).await.ok(); // 2 (bob again)
    app.get(&carol, "/api/v1/timelines/public").await.ok(); // 3 (carol)
    app.get_anon(&format!("/api/v1/accounts/{}/statuses", alice.id))
        .await
        .ok(); // 4 (anonymous)
    let before_flush = app
        .get(&alice, &format!("/api/v1/statuses/{id}"))
        .await
        .ok();
    assert_eq!(
        before_flush["cascade"]["views"], 4,
        "unflushed impressions are counted"
    );
    app.flush_views().await;
    let seen = app
        .get(&alice, &format!("/api/v1/statuses/{id}"))
        .await
        .ok();
    // The author's own GET above was the fifth impression; the sixth is being rendered.
    assert!(seen["cascade"]["views"].as_i64().unwrap() >= 5);
    assert_eq!(
        seen["cascade"]["reach"], 3,
        "bob, carol and alice; anonymous views have no identity"
    );
    let other = app.get(&bob, &format!("/api/v1/statuses/{id}")).await.ok();
    assert!(
        other.get("cascade").is_none(),
        "others do not see the counts"
    );
}

#[tokio::test]
async fn authors_and_instances_can_make_view_counts_public() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app.post_status(&alice, "public counts", "public").await;
    let id = post["id"].as_str().unwrap();
    let settings = app
        .request(
            Method::PATCH,
            "/api/v1/cascade/settings",
            Some(&alice.token),
            Some(json!({"public_view_counts": true})),
        )
        .await
        .ok();
    assert_eq!(settings["public_view_counts"], true);
    let seen = app.get(&bob, &format!("/api/v1/statuses/{id}")).await.ok();
    assert!(seen["cascade"]["views"].is_i64());

    let open = spawn_with(|c| c.public_view_counts = true).await;
    let dave = open.user("dave").await;
    let post = open.post_status(&dave, "everyone sees", "public").await;
    let anon = open
        .get_anon(&format!(
            "/api/v1/statuses/{}",
            post["id"].as_str().unwrap()
        ))
        .await
        .ok();
    assert!(anon["cascade"]["views"].is_i64());
}
