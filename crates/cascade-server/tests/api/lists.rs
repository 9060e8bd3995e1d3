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

#[tokio::test]
async fn exclusive_lists_keep_their_members_out_of_home_and_members_page_down() {
    let app = spawn_app().await;
    let me = app.user("me").await;
    let mut friends = Vec::new();
    for i in 0..3 {
        let f = app.user(&format!("friend{i}")).await;
        app.follow(&me, &f).await;
        friends.push(f);
    }
    let list = app
        .post(
            &me,
            "/api/v1/lists",
            json!({"title": "Work", "exclusive": true}),
        )
        .await
        .ok();
    let list_id = list["id"].as_str().unwrap();
    let ids: Vec<&str> = friends.iter().map(|f| f.id.as_str()).collect();
    app.post(
        &me,
        &format!("/api/v1/lists/{list_id}/accounts"),
        json!({"account_ids": &ids[..2]}),
    )
    .await
    .ok();
    let hidden = app.post_status(&friends[0], "work chatter", "public").await;
    let shown = app
        .post_status(&friends[2], "not on the list", "public")
        .await;
    let home = ids_of(&app.home(&me, "").await);
    assert!(home.contains(&shown["id"].as_str().unwrap().to_string()));
    assert!(
        !home.contains(&hidden["id"].as_str().unwrap().to_string()),
        "exclusive list members stay out of home"
    );
    let in_list = app
        .get(&me, &format!("/api/v1/timelines/list/{list_id}"))
        .await
        .ok();
    assert_eq!(in_list[0]["id"], hidden["id"]);

    let first = app
        .get(&me, &format!("/api/v1/lists/{list_id}/accounts?limit=1"))
        .await;
    let next = first
        .link()
        .split(", ")
        .find(|l| l.contains("rel=\"next\""))
        .unwrap()
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();
    assert!(next.contains("limit=1"), "links keep the page size: {next}");
    let first = first.ok();
    let second = app
        .client
        .get(&next)
        .bearer_auth(&me.token)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(first.as_array().unwrap().len(), 1);
    assert_eq!(second.as_array().unwrap().len(), 1);
    assert_ne!(
        first[0]["id"], second[0]["id"],
        "the next page holds the next member"
    );
}

fn ids_of(list: &[serde_json::Value]) -> Vec<String> {
    ids(list)
}
