use std::collections::HashSet;

use serde_json::json;

use crate::helpers::{ids, spawn_app, spawn_with};

#[tokio::test]
async fn home_timeline_shows_posts_and_reblogs_of_followed_accounts() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&bob, &alice).await;
    let before = app.home(&bob, "").await;
    assert!(before.is_empty());
    let post = app.post_status(&alice, "hello followers", "public").await;
    let own = app.post_status(&bob, "my own", "public").await;
    let stranger = app.post_status(&carol, "not followed", "public").await;
    let home = ids(&app.home(&bob, "").await);
    assert_eq!(
        home,
        vec![own["id"].as_str().unwrap(), post["id"].as_str().unwrap()]
    );
    assert!(!home.contains(&stranger["id"].as_str().unwrap().to_string()));

    app.post(
        &alice,
        &format!(
            "/api/v1/statuses/{}/reblog",
            stranger["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await
    .ok();
    let home = app.home(&bob, "").await;
    assert_eq!(home[0]["reblog"]["id"], stranger["id"]);

    // With reblogs turned off for alice, her reblog disappears; her posts stay.
    app.post(
        &bob,
        &format!("/api/v1/accounts/{}/follow", alice.id),
        json!({"reblogs": false}),
    )
    .await
    .ok();
    let home = app.home(&bob, "").await;
    assert!(home.iter().all(|s| s["reblog"].is_null()));
    assert!(ids(&home).contains(&post["id"].as_str().unwrap().to_string()));
}

#[tokio::test]
async fn mutes_hide_and_unfollows_remove_posts_from_home() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice).await;
    app.post_status(&alice, "one", "public").await;
    assert_eq!(app.home(&bob, "").await.len(), 1);
    app.post(
        &bob,
        &format!("/api/v1/accounts/{}/mute", alice.id),
        json!({}),
    )
    .await
    .ok();
    assert_eq!(app.home(&bob, "").await.len(), 0);
    let mutes = app.get(&bob, "/api/v1/mutes").await.ok();
    assert_eq!(mutes[0]["id"], alice.id.as_str());
    app.post(
        &bob,
        &format!("/api/v1/accounts/{}/unmute", alice.id),
        json!({}),
    )
    .await
    .ok();
    assert_eq!(app.home(&bob, "").await.len(), 1);
    app.post(
        &bob,
        &format!("/api/v1/accounts/{}/unfollow", alice.id),
        json!({}),
    )
    .await
    .ok();
    assert_eq!(app.home(&bob, "").await.len(), 0);
}

#[tokio::test]
async fn paging_through_home_returns_every_entry_once_even_while_new_posts_arrive() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice).await;
    let mut posted = Vec::new();
    for i in 0..23 {
        posted.push(
            app.post_status(&alice, &format!("post {i}"), "public")
                .await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    app.drain().await;
    let mut seen = Vec::new();
    let mut query = "?limit=5".to_string();
    loop {
        let res = app
            .get(&bob, &format!("/api/v1/timelines/home{query}"))
            .await;
        let link = res.link();
        let page = res.ok();
        let page = page.as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        seen.extend(ids(&page));
        // A new post arrives between pages; paging backwards must not see it or skip.
        app.post_status(&alice, "interloper", "public").await;
        app.drain().await;
        let next = link
            .split(", ")
            .find(|l| l.contains("rel=\"next\""))
            .unwrap();
        let max_id = next
            .split("max_id=")
            .nth(1)
            .unwrap()
            .split('>')
            .next()
            .unwrap();
        query = format!("?limit=5&max_id={max_id}");
    }
    posted.reverse();
    assert_eq!(seen, posted);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
}

#[tokio::test]
async fn celebrity_posts_merged_at_read_time_match_pushed_posts() {
    // With a threshold of one follower, alice (two followers) is a celebrity and is merged
    // on read; carol (one follower) is pushed. The reader must see both the same way.
    let app = spawn_with(|c| c.fanout.celebrity_threshold = 1).await;
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    let bob = app.user("bob").await;
    let dave = app.user("dave").await;
    app.follow(&bob, &alice).await;
    app.follow(&dave, &alice).await;
    app.follow(&bob, &carol).await;
    let mut expected = Vec::new();
    for i in 0..6 {
        let author = if i % 2 == 0 { &alice } else { &carol };
        expected.push(
            app.post_status(author, &format!("post {i}"), "public")
                .await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    expected.reverse();
    assert_eq!(ids(&app.home(&bob, "").await), expected);
    assert_eq!(
        ids(&app.home(&bob, "?limit=2").await),
        expected[..2].to_vec()
    );
    let since = &expected[3];
    assert_eq!(
        ids(&app.home(&bob, &format!("?min_id={since}")).await),
        expected[..3].to_vec()
    );
}

#[tokio::test]
async fn public_and_tag_timelines_show_public_posts() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let public = app.post_status(&alice, "hello #Cascade", "public").await;
    app.post_status(&alice, "quiet #cascade", "unlisted").await;
    let tl = app.get_anon("/api/v1/timelines/public").await.ok();
    assert_eq!(
        ids(tl.as_array().unwrap()),
        vec![public["id"].as_str().unwrap()]
    );
    let tag = app.get_anon("/api/v1/timelines/tag/cascade").await.ok();
    assert_eq!(
        ids(tag.as_array().unwrap()),
        vec![public["id"].as_str().unwrap()]
    );
    let local = app
        .get_anon("/api/v1/timelines/public?local=true")
        .await
        .ok();
    assert_eq!(local.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_restarted_cache_rebuilds_home_from_the_store() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice).await;
    let post = app.post_status(&alice, "persisted", "public").await;
    // No drain: the job is still pending, as after a crash before fan-out ran.
    let res = app.get(&bob, "/api/v1/timelines/home").await.ok();
    assert_eq!(res[0]["id"], post["id"]);
    assert_eq!(app.state.store.count_jobs().await.unwrap(), 1);
    app.drain().await;
    assert_eq!(app.state.store.count_jobs().await.unwrap(), 0);
    assert_eq!(
        app.home(&bob, "").await.len(),
        1,
        "the pushed entry is not duplicated"
    );
}
