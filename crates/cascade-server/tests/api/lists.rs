use reqwest::Method;
use serde_json::json;

use crate::helpers::{ids, spawn_app};

#[tokio::test]
async fn lists_hold_followed_accounts_and_show_their_posts() {
    let app = spawn_app().await;
    let me = app.user("me").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&me, &alice).await;
    app.follow(&me, &bob).await;
    let list = app
        .post(&me, "/api/v1/lists", json!({"title": "Friends"}))
        .await
        .ok();
    let list_id = list["id"].as_str().unwrap();
    assert_eq!(list["replies_policy"], "list");
    let stranger = app.user("stranger").await;
    let res = app
        .post(
            &me,
            &format!("/api/v1/lists/{list_id}/accounts"),
            json!({"account_ids": [stranger.id]}),
        )
        .await;
    assert_eq!(res.status, 422, "only followed accounts may join a list");
    app.post(
        &me,
        &format!("/api/v1/lists/{list_id}/accounts"),
        json!({"account_ids": [alice.id]}),
    )
    .await
    .ok();
    let a = app.post_status(&alice, "in the list", "public").await;
    app.post_status(&bob, "not in the list", "public").await;
    let tl = app
        .get(&me, &format!("/api/v1/timelines/list/{list_id}"))
        .await
        .ok();
    assert_eq!(ids(tl.as_array().unwrap()), vec![a["id"].as_str().unwrap()]);
    let members = app
        .get(&me, &format!("/api/v1/lists/{list_id}/accounts"))
        .await
        .ok();
    assert_eq!(members[0]["id"], alice.id.as_str());
    let renamed = app
        .request(
            Method::PUT,
            &format!("/api/v1/lists/{list_id}"),
            Some(&me.token),
            Some(json!({"title": "Pals", "replies_policy": "none"})),
        )
        .await
        .ok();
    assert_eq!(renamed["title"], "Pals");
    assert_eq!(
        app.get(&alice, &format!("/api/v1/lists/{list_id}"))
            .await
            .status,
        404,
        "lists are private"
    );
    app.request(
        Method::DELETE,
        &format!("/api/v1/lists/{list_id}"),
        Some(&me.token),
        None,
    )
    .await
    .ok();
    assert_eq!(
        app.get(&me, "/api/v1/lists")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        0
    );
}
