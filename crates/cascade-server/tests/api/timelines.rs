use std::collections::HashSet;

use serde_json::{json, Value};

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
    // No worker: the post's jobs stay pending, as after a crash before fan-out ran.
    let app = spawn_with(|c| c.worker = false).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice).await;
    let post = app.post_status(&alice, "persisted", "public").await;
    assert!(app.state.store.count_jobs().await.unwrap() > 0);
    // Read straight from the server: the test helpers would run the jobs first.
    let res: Value = app
        .client
        .get(app.url("/api/v1/timelines/home"))
        .bearer_auth(&bob.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res[0]["id"], post["id"]);
    assert!(app.state.store.count_jobs().await.unwrap() > 0);
    app.drain().await;
    assert_eq!(app.state.store.count_jobs().await.unwrap(), 0);
    assert_eq!(
        app.home(&bob, "").await.len(),
        1,
        "the pushed entry is not duplicated"
    );
}

#[tokio::test]
async fn a_fan_out_interrupted_after_a_batch_resumes_where_it_stopped() {
    // The test stages the crash on a pending job, so the server runs no worker of its own;
    // one node, whose cached timelines the test reads.
    let app = crate::helpers::spawn_one_with(|c| c.worker = false).await;
    let author = app.user("author").await;
    let mut followers = Vec::new();
    for i in 0..3 {
        let f = app.user(&format!("f{i}")).await;
        app.follow(&f, &author).await;
        app.home(&f, "").await; // Cache each follower's home timeline.
        followers.push(f);
    }
    let post = app.post_status(&author, "delivered once", "public").await;
    let post_id: i64 = post["id"].as_str().unwrap().parse().unwrap();
    // Pretend the worker crashed after delivering to the first follower: its progress
    // says so, and the first follower's cache already holds the post.
    let job = app
        .state
        .store
        .pending_jobs(cascade_core::job::Lane::Fanout, 0, 1)
        .await
        .unwrap()
        .remove(0);
    let author_id: i64 = author.id.parse().unwrap();
    let first_edge = app
        .state
        .store
        .follower_batch(author_id, 0, 1)
        .await
        .unwrap()[0];
    app.state
        .store
        .job_progress(job.id, first_edge.id)
        .await
        .unwrap();
    app.drain().await;
    let cached: Vec<bool> = followers
        .iter()
        .map(|f| {
            app.state
                .feeds
                .read(f.id.parse().unwrap())
                .unwrap_or_default()
                .contains(&post_id)
        })
        .collect();
    let delivered_to_first = cached[followers
        .iter()
        .position(|f| f.id.parse::<i64>().unwrap() == first_edge.account_id)
        .unwrap()];
    assert!(
        !delivered_to_first,
        "the resumed job skipped the batch it had finished"
    );
    assert_eq!(
        cached.iter().filter(|c| **c).count(),
        2,
        "the rest were delivered"
    );
    assert_eq!(app.state.store.count_jobs().await.unwrap(), 0);
}

mod properties {
    use proptest::prelude::*;

    use crate::helpers::{spawn_with, TestApp};

    /// The texts of a home timeline, newest first: comparable across two servers.
    async fn texts(app: &TestApp, user: &crate::helpers::User) -> Vec<String> {
        app.home(user, "?limit=40")
            .await
            .iter()
            .map(|s| s["content"].as_str().unwrap_or("").to_string())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

        /// Push on write and pull on read yield the same home timeline: the same world on a
        /// server that fans everyone out and on one that fans out no one.
        #[test]
        fn pushing_and_pulling_give_the_same_home_timeline(
            follows in proptest::collection::vec((0usize..4, 0usize..4), 0..10),
            posts in proptest::collection::vec((0usize..4, 0usize..3), 1..12),
        ) {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let push = spawn_with(|c| c.fanout.celebrity_threshold = i64::MAX).await;
                let pull = spawn_with(|c| c.fanout.celebrity_threshold = -1).await;
                let mut seen = Vec::new();
                for app in [&push, &pull] {
                    let mut users = Vec::new();
                    for i in 0..4 {
                        users.push(app.user(&format!("u{i}")).await);
                    }
                    for &(a, b) in &follows {
                        if a != b {
                            app.follow(&users[a], &users[b]).await;
                        }
                    }
                    for r in &users {
                        app.home(r, "").await; // Cache before posting, so pushes matter.
                    }
                    for (n, &(author, vis)) in posts.iter().enumerate() {
                        let visibility = ["public", "unlisted", "private"][vis];
                        app.post_status(&users[author], &format!("post {n}"), visibility).await;
                    }
                    let mut all = Vec::new();
                    for r in &users {
                        all.push(texts(app, r).await);
                    }
                    seen.push(all);
                }
                prop_assert_eq!(&seen[0], &seen[1]);
                Ok(())
            })?;
        }
    }
}

#[tokio::test]
async fn link_headers_keep_the_filters_and_page_size() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for i in 0..3 {
        app.post_status(&alice, &format!("post {i}"), "public")
            .await;
    }
    let res = app
        .get(
            &alice,
            &format!(
                "/api/v1/accounts/{}/statuses?limit=2&exclude_replies=true",
                alice.id
            ),
        )
        .await;
    let link = res.link();
    assert!(
        link.contains("limit=2") && link.contains("exclude_replies=true"),
        "{link}"
    );
    assert_eq!(
        link.matches("max_id=").count(),
        1,
        "old paging parameters are replaced: {link}"
    );
}

/// A reader away longer than the idle period is skipped by fan-out; coming back, their
/// home is rebuilt from the store with everything they missed.
#[tokio::test]
async fn a_reader_away_is_skipped_by_fan_out_and_finds_everything_on_return() {
    // One node: the test reads which home timelines that node keeps in memory.
    let app = crate::helpers::spawn_one_with(|c| c.fanout.inactive_after_ms = 0).await;
    let author = app.user("author").await;
    let reader = app.user("reader").await;
    app.follow(&reader, &author).await;
    let first = app.post_status(&author, "before", "public").await;
    assert_eq!(
        crate::helpers::ids(&app.home(&reader, "").await),
        [first["id"].as_str().unwrap()]
    );
    let cached = app.state.feeds.cached();
    let second = app.post_status(&author, "while away", "public").await;
    app.drain().await;
    assert!(
        app.state.feeds.cached() < cached,
        "the idle reader's cached home was dropped, not pushed to"
    );
    let home = app.home(&reader, "").await;
    assert_eq!(
        crate::helpers::ids(&home),
        [
            second["id"].as_str().unwrap(),
            first["id"].as_str().unwrap()
        ]
    );
}
