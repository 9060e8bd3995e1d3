//! Hashtags: looking one up with its week of use, following it, and its public posts
//! reaching the follower's home timeline (cached or rebuilt) and `user` stream.

use serde_json::json;

use crate::helpers::{ids, spawn_app};

#[tokio::test]
async fn a_tag_shows_its_week_of_use_and_whether_it_is_followed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    assert_eq!(app.get(&alice, "/api/v1/tags/rust").await.status, 404);
    app.post_status(&bob, "#Rust is fun", "public").await;
    app.post_status(&bob, "more #rust", "public").await;
    app.post_status(&alice, "#rust too", "unlisted").await;
    app.post_status(&alice, "#rust secretly", "private").await;
    let tag = app.get(&alice, "/api/v1/tags/Rust").await.ok();
    assert_eq!(tag["name"], "rust");
    assert!(tag["url"].as_str().unwrap().ends_with("/tags/rust"));
    assert_eq!(tag["following"], false);
    let history = tag["history"].as_array().unwrap();
    assert_eq!(history.len(), 7);
    assert_eq!(
        history[0]["uses"], "3",
        "public and unlisted posts count: {history:?}"
    );
    assert_eq!(history[0]["accounts"], "2");
    assert!(history[1..].iter().all(|d| d["uses"] == "0"));
    let today = cascade_core::time::now_millis() / 86_400_000 * 86_400;
    assert_eq!(history[0]["day"], today.to_string());
    let anonymous = app.get_anon("/api/v1/tags/rust").await.ok();
    assert!(anonymous.get("following").is_none());
    assert_eq!(
        app.get(&alice, "/api/v1/tags/not%20a%20tag").await.status,
        404
    );
}

#[tokio::test]
async fn public_posts_with_a_followed_tag_reach_home_until_unfollowed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let spam = app.user("spam").await;
    let before = app.post_status(&bob, "old news #cats", "public").await;
    // Alice reads home first, so her timeline is cached when she follows the tag.
    assert!(app.home(&alice, "").await.is_empty());
    let followed = app
        .post(&alice, "/api/v1/tags/Cats/follow", json!({}))
        .await
        .ok();
    assert_eq!(
        (followed["name"].as_str(), followed["following"].as_bool()),
        (Some("cats"), Some(true))
    );
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/block", spam.id),
        json!({}),
    )
    .await
    .ok();
    let fresh = app.post_status(&bob, "new #cats picture", "public").await;
    app.post_status(&bob, "quiet #cats", "unlisted").await;
    app.post_status(&bob, "friends-only #cats", "private").await;
    app.post_status(&spam, "buy #cats", "public").await;
    app.post_status(&bob, "no tag here", "public").await;
    let home = app.home(&alice, "").await;
    assert_eq!(
        ids(&home),
        vec![
            fresh["id"].as_str().unwrap(),
            before["id"].as_str().unwrap()
        ],
        "{home:?}"
    );

    let list = app.get(&alice, "/api/v1/followed_tags").await.ok();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "cats");
    assert_eq!(list[0]["following"], true);

    let unfollowed = app
        .post(&alice, "/api/v1/tags/cats/unfollow", json!({}))
        .await
        .ok();
    assert_eq!(unfollowed["following"], false);
    app.post_status(&bob, "later #cats", "public").await;
    assert!(
        app.home(&alice, "").await.is_empty(),
        "unfollowing takes the tag's posts away"
    );
    assert!(app
        .get(&alice, "/api/v1/followed_tags")
        .await
        .ok()
        .as_array()
        .unwrap()
        .is_empty());
    let bad = app
        .post(&alice, "/api/v1/tags/no%20way/follow", json!({}))
        .await;
    assert_eq!(bad.status, 404);
    assert!(bad.body["error"].is_string());
}

#[tokio::test]
async fn followed_tags_page_with_link_headers() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for name in ["a1", "b2", "c3"] {
        app.post(&alice, &format!("/api/v1/tags/{name}/follow"), json!({}))
            .await
            .ok();
    }
    let first = app.get(&alice, "/api/v1/followed_tags?limit=2").await;
    let link = first.link();
    let names: Vec<String> = first
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["c3", "b2"]);
    let next = link
        .split(", ")
        .find(|l| l.contains("rel=\"next\""))
        .and_then(|l| l.strip_prefix('<')?.split('>').next())
        .expect("a next link")
        .to_string();
    let path = next.split_once(&app.addr.to_string()).unwrap().1;
    let rest = app.get(&alice, path).await.ok();
    assert_eq!(rest.as_array().unwrap().len(), 1);
    assert_eq!(rest[0]["name"], "a1");
}
