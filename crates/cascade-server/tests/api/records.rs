//! The record cache seen from outside: every write shows on the next read of a page whose
//! records are already cached. Each test reads first (warming the cache), writes, and
//! reads again; a cache that kept a stale copy fails it.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{ids, spawn_app, spawn_one_with, spawn_with, TestApp, User};

/// The entry with this id in the user's home timeline (read through the cache).
async fn in_home(app: &TestApp, user: &User, id: &str) -> Value {
    app.home(user, "")
        .await
        .into_iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the home timeline"))
}

fn id_of(status: &Value) -> String {
    status["id"].as_str().expect("an id").to_string()
}

async fn act(app: &TestApp, user: &User, id: &str, action: &str) -> Value {
    app.post(user, &format!("/api/v1/statuses/{id}/{action}"), json!({}))
        .await
        .ok()
}

async fn delete(app: &TestApp, user: &User, id: &str) {
    app.request(
        Method::DELETE,
        &format!("/api/v1/statuses/{id}"),
        Some(&user.token),
        None,
    )
    .await
    .ok();
}

async fn update_credentials(app: &TestApp, user: &User, form: Value) {
    app.request(
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&user.token),
        Some(form),
    )
    .await
    .ok();
}

#[tokio::test]
async fn favourites_and_reblogs_show_on_the_next_read_of_a_warm_home_timeline() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&bob, &alice).await;
    let post = id_of(&app.post_status(&alice, "count on me", "public").await);
    let warm = in_home(&app, &bob, &post).await;
    assert_eq!(warm["favourites_count"], 0);

    act(&app, &carol, &post, "favourite").await;
    let seen = in_home(&app, &bob, &post).await;
    assert_eq!(seen["favourites_count"], 1);
    assert_eq!(seen["favourited"], false);

    let answer = act(&app, &bob, &post, "favourite").await;
    assert_eq!(answer["favourites_count"], 2, "the response is fresh too");
    let seen = in_home(&app, &bob, &post).await;
    assert_eq!(seen["favourites_count"], 2);
    assert_eq!(seen["favourited"], true);

    act(&app, &bob, &post, "unfavourite").await;
    let seen = in_home(&app, &bob, &post).await;
    assert_eq!(seen["favourites_count"], 1);
    assert_eq!(seen["favourited"], false);

    act(&app, &carol, &post, "reblog").await;
    let seen = in_home(&app, &bob, &post).await;
    assert_eq!(seen["reblogs_count"], 1);
    assert_eq!(seen["reblogged"], false);

    act(&app, &bob, &post, "reblog").await;
    let seen = in_home(&app, &bob, &post).await;
    assert_eq!(seen["reblogs_count"], 2);
    assert_eq!(seen["reblogged"], true);

    act(&app, &bob, &post, "unreblog").await;
    act(&app, &carol, &post, "unreblog").await;
    let seen = in_home(&app, &bob, &post).await;
    assert_eq!(seen["reblogs_count"], 0);
    assert_eq!(seen["reblogged"], false);
}

#[tokio::test]
async fn bookmarks_and_pins_show_on_the_next_read_of_a_warm_home_timeline() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice).await;
    let post = id_of(&app.post_status(&alice, "keep me", "public").await);
    assert_eq!(in_home(&app, &bob, &post).await["bookmarked"], false);
    assert_eq!(in_home(&app, &alice, &post).await["pinned"], false);

    act(&app, &bob, &post, "bookmark").await;
    act(&app, &alice, &post, "pin").await;
    assert_eq!(in_home(&app, &bob, &post).await["bookmarked"], true);
    assert_eq!(in_home(&app, &bob, &post).await["pinned"], false);
    assert_eq!(in_home(&app, &alice, &post).await["pinned"], true);

    act(&app, &bob, &post, "unbookmark").await;
    act(&app, &alice, &post, "unpin").await;
    assert_eq!(in_home(&app, &bob, &post).await["bookmarked"], false);
    assert_eq!(in_home(&app, &alice, &post).await["pinned"], false);
}

#[tokio::test]
async fn replies_and_their_deletion_move_the_parents_count_on_a_warm_read() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice).await;
    let post = id_of(&app.post_status(&alice, "ask me anything", "public").await);
    assert_eq!(in_home(&app, &bob, &post).await["replies_count"], 0);

    let reply = app
        .post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "@alice why?", "in_reply_to_id": post}),
        )
        .await
        .ok();
    assert_eq!(in_home(&app, &bob, &post).await["replies_count"], 1);

    delete(&app, &bob, &id_of(&reply)).await;
    assert_eq!(in_home(&app, &bob, &post).await["replies_count"], 0);
}

#[tokio::test]
async fn quotes_move_the_count_and_a_deleted_original_shows_in_its_cached_quotes() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&bob, &alice).await;
    app.follow(&bob, &carol).await;
    let post = id_of(&app.post_status(&alice, "quote me", "public").await);
    assert_eq!(in_home(&app, &bob, &post).await["quotes_count"], 0);

    let quote = |text: &'static str| {
        app.post(
            &carol,
            "/api/v1/statuses",
            json!({"status": text, "quoted_status_id": post}),
        )
    };
    let first = id_of(&quote("so true").await.ok());
    assert_eq!(in_home(&app, &bob, &post).await["quotes_count"], 1);
    delete(&app, &carol, &first).await;
    assert_eq!(in_home(&app, &bob, &post).await["quotes_count"], 0);

    let second = id_of(&quote("still true").await.ok());
    let seen = in_home(&app, &bob, &second).await;
    assert_eq!(seen["quote"]["state"], "accepted");
    assert_eq!(seen["quote"]["quoted_status"]["id"], post.as_str());

    delete(&app, &alice, &post).await;
    let seen = in_home(&app, &bob, &second).await;
    assert_eq!(seen["quote"]["state"], "deleted");
    assert!(seen["quote"]["quoted_status"].is_null());
}

#[tokio::test]
async fn edits_show_their_text_mentions_and_tags_on_a_warm_read() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.user("carol").await;
    app.follow(&bob, &alice).await;
    let post = id_of(&app.post_status(&alice, "first draft", "public").await);
    let warm = in_home(&app, &bob, &post).await;
    assert!(warm["edited_at"].is_null());

    app.request(
        Method::PUT,
        &format!("/api/v1/statuses/{post}"),
        Some(&alice.token),
        Some(json!({"status": "final words for @carol #rust"})),
    )
    .await
    .ok();
    let seen = in_home(&app, &bob, &post).await;
    assert!(
        seen["content"].as_str().unwrap().contains("final words"),
        "{}",
        seen["content"]
    );
    assert!(!seen["edited_at"].is_null());
    assert_eq!(seen["mentions"][0]["username"], "carol");
    assert_eq!(seen["tags"][0]["name"], "rust");
}

#[tokio::test]
async fn posting_and_deleting_show_in_the_authors_counts_and_the_timeline_on_a_warm_read() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice).await;
    let first = id_of(&app.post_status(&alice, "one", "public").await);
    let seen = in_home(&app, &bob, &first).await;
    assert_eq!(seen["account"]["statuses_count"], 1);

    let second = id_of(&app.post_status(&alice, "two", "public").await);
    assert_eq!(
        in_home(&app, &bob, &first).await["account"]["statuses_count"],
        2
    );

    delete(&app, &alice, &second).await;
    let home = app.home(&bob, "").await;
    assert!(home.iter().all(|s| s["id"] != second.as_str()));
    assert_eq!(
        in_home(&app, &bob, &first).await["account"]["statuses_count"],
        1
    );
    let gone = app.get(&bob, &format!("/api/v1/statuses/{second}")).await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn profile_changes_show_on_statuses_in_a_warm_home_timeline() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice).await;
    let post = id_of(&app.post_status(&alice, "who am I", "public").await);
    assert_eq!(
        in_home(&app, &bob, &post).await["account"]["display_name"],
        ""
    );

    update_credentials(
        &app,
        &alice,
        json!({"display_name": "Alice A.", "note": "hello there"}),
    )
    .await;
    let account = &in_home(&app, &bob, &post).await["account"];
    assert_eq!(account["display_name"], "Alice A.");
    assert!(account["note"].as_str().unwrap().contains("hello there"));
}

#[tokio::test]
async fn follows_requests_and_blocks_show_in_the_follower_counts_of_a_warm_read() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&bob, &alice).await;
    let post = id_of(&app.post_status(&alice, "followers?", "public").await);
    assert_eq!(
        in_home(&app, &bob, &post).await["account"]["followers_count"],
        1
    );

    app.follow(&carol, &alice).await;
    let seen = in_home(&app, &bob, &post).await;
    assert_eq!(seen["account"]["followers_count"], 2);
    app.post(
        &carol,
        &format!("/api/v1/accounts/{}/unfollow", alice.id),
        json!({}),
    )
    .await
    .ok();
    assert_eq!(
        in_home(&app, &bob, &post).await["account"]["followers_count"],
        1
    );

    // A locked account: the count moves when the request is accepted, not before.
    update_credentials(&app, &alice, json!({"locked": true})).await;
    assert_eq!(in_home(&app, &bob, &post).await["account"]["locked"], true);
    app.follow(&carol, &alice).await;
    assert_eq!(
        in_home(&app, &bob, &post).await["account"]["followers_count"],
        1
    );
    app.post(
        &alice,
        &format!("/api/v1/follow_requests/{}/authorize", carol.id),
        json!({}),
    )
    .await
    .ok();
    assert_eq!(
        in_home(&app, &bob, &post).await["account"]["followers_count"],
        2
    );

    // A block ends the follow.
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/block", carol.id),
        json!({}),
    )
    .await
    .ok();
    assert_eq!(
        in_home(&app, &bob, &post).await["account"]["followers_count"],
        1
    );
}

#[tokio::test]
async fn flushed_view_counts_and_the_view_count_setting_show_on_a_warm_read() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice).await;
    let post = id_of(&app.post_status(&alice, "watch me", "public").await);
    let before = in_home(&app, &alice, &post).await["cascade"]["views"]
        .as_i64()
        .unwrap();
    assert!(in_home(&app, &bob, &post).await.get("cascade").is_none());
    for _ in 0..2 {
        in_home(&app, &bob, &post).await;
    }
    app.flush_views().await;
    // Alice's read and bob's three, now stored; nothing is pending.
    let after = in_home(&app, &alice, &post).await["cascade"]["views"]
        .as_i64()
        .unwrap();
    assert_eq!(after, before + 4);

    app.request(
        Method::PATCH,
        "/api/v1/cascade/settings",
        Some(&alice.token),
        Some(json!({"public_view_counts": true})),
    )
    .await
    .ok();
    let seen = in_home(&app, &bob, &post).await;
    assert!(seen["cascade"]["views"].is_i64(), "{seen}");
}

#[tokio::test]
async fn a_warm_home_timeline_is_served_without_the_store() {
    // One node: the test closes its store and reads what that node keeps in memory.
    let app = spawn_one_with(|_| {}).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice).await;
    let post = id_of(
        &app.post_status(&alice, "served from memory", "public")
            .await,
    );
    let own = id_of(
        &app.post_status(&bob, "mine, with my view counts", "public")
            .await,
    );
    act(&app, &bob, &post, "favourite").await;
    let warm = app.home(&bob, "").await;

    // Every query fails from here on: the page must come from the caches alone.
    app.state.store.close().await;
    let again = app.get(&bob, "/api/v1/timelines/home").await.ok();
    let again = again.as_array().expect("a page");
    assert_eq!(ids(again), ids(&warm));
    let liked = again.iter().find(|s| s["id"] == post.as_str()).unwrap();
    assert_eq!(liked["favourited"], true);
    assert_eq!(liked["account"]["username"], "alice");
    let mine = again.iter().find(|s| s["id"] == own.as_str()).unwrap();
    assert!(mine["cascade"]["views"].is_i64());
}

#[tokio::test]
async fn a_warm_home_timeline_with_celebrity_posts_is_served_without_the_store() {
    // A threshold of one follower makes alice (two followers) a celebrity: her posts are
    // merged into bob's home on read, from her cached recent posts.
    // One node, as above.
    let app = spawn_one_with(|c| c.fanout.celebrity_threshold = 1).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&bob, &alice).await;
    app.follow(&carol, &alice).await;
    let post = id_of(
        &app.post_status(&alice, "merged from memory", "public")
            .await,
    );
    let warm = app.home(&bob, "").await;
    assert_eq!(ids(&warm), vec![post.clone()]);

    app.state.store.close().await;
    let again = app.get(&bob, "/api/v1/timelines/home").await.ok();
    assert_eq!(ids(again.as_array().expect("a page")), vec![post]);
}

#[tokio::test]
async fn a_celebritys_posts_reblogs_and_deletions_show_on_the_next_warm_read() {
    let app = spawn_with(|c| c.fanout.celebrity_threshold = 1).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&bob, &alice).await;
    app.follow(&carol, &alice).await;
    let first = id_of(&app.post_status(&alice, "first", "public").await);
    assert_eq!(ids(&app.home(&bob, "").await), vec![first.clone()]);

    // No fan-out runs in between: the author's request itself makes the post readable.
    let second = id_of(&app.post_status(&alice, "second", "private").await);
    let hidden = id_of(
        &app.post_status(&alice, "only for carol @carol", "direct")
            .await,
    );
    assert_eq!(
        ids(&app.home(&bob, "").await),
        vec![second.clone(), first.clone()]
    );
    let theirs = id_of(&app.post_status(&carol, "worth passing on", "public").await);
    let reblog = id_of(&act(&app, &alice, &theirs, "reblog").await);
    let home = app.home(&bob, "").await;
    assert_eq!(ids(&home), vec![reblog, second.clone(), first.clone()]);
    assert!(!ids(&home).contains(&hidden));

    act(&app, &alice, &theirs, "unreblog").await;
    delete(&app, &alice, &second).await;
    assert_eq!(ids(&app.home(&bob, "").await), vec![first]);
}

#[tokio::test]
async fn a_quote_of_a_deleted_post_is_still_fanned_out() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&bob, &carol).await;
    let original = id_of(&app.post_status(&alice, "quote me", "public").await);
    app.drain().await;
    assert!(
        app.home(&bob, "").await.is_empty(),
        "bob's home is cached, empty"
    );
    let quote = app
        .post(
            &carol,
            "/api/v1/statuses",
            json!({"status": "so true", "quoted_status_id": original}),
        )
        .await
        .ok();
    // The original goes before the quote's fan-out job runs.
    delete(&app, &alice, &original).await;
    app.drain().await;
    assert_eq!(ids(&app.home(&bob, "").await), vec![id_of(&quote)]);
}

mod properties {
    use cascade_core::timeline::Page;
    use cascade_server::app::records::RecordCacheConfig;
    use cascade_server::app::{render, Viewer};
    use cascade_server::AppState;
    use proptest::prelude::*;
    use reqwest::Method;
    use serde_json::json;

    use super::id_of;
    use crate::helpers::spawn_app;

    #[derive(Debug, Clone, Copy)]
    enum Op {
        Act(usize, usize, &'static str),
        Reply(usize, usize),
        Quote(usize, usize),
        Edit(usize),
        Delete(usize),
        Follow(usize, usize),
        Unfollow(usize, usize),
        Rename(usize),
        ReadHome(usize),
        FlushViews,
    }

    fn op() -> impl Strategy<Value = Op> {
        let user = 0usize..3;
        let status = 0usize..8;
        let act = prop::sample::select(vec![
            "favourite",
            "unfavourite",
            "reblog",
            "unreblog",
            "bookmark",
            "unbookmark",
            "pin",
        ]);
        prop_oneof![
            4 => (user.clone(), status.clone(), act).prop_map(|(u, s, a)| Op::Act(u, s, a)),
            1 => (user.clone(), status.clone()).prop_map(|(u, s)| Op::Reply(u, s)),
            1 => (user.clone(), status.clone()).prop_map(|(u, s)| Op::Quote(u, s)),
            1 => status.clone().prop_map(Op::Edit),
            1 => status.prop_map(Op::Delete),
            1 => (user.clone(), user.clone()).prop_map(|(a, b)| Op::Follow(a, b)),
            1 => (user.clone(), user.clone()).prop_map(|(a, b)| Op::Unfollow(a, b)),
            1 => user.clone().prop_map(Op::Rename),
            3 => user.prop_map(Op::ReadHome),
            1 => Just(Op::FlushViews),
        ]
    }

    /// Renders what `viewer` sees of `ids`, one by one and as a timeline page, on `state`.
    async fn rendered(state: &AppState, viewer: i64, ids: &[i64]) -> serde_json::Value {
        let viewer = Viewer::load(state, Some(viewer)).await.expect("a viewer");
        let statuses = render::statuses(state, &viewer, ids)
            .await
            .expect("statuses");
        let (page, _) = render::page(state, &viewer, ids, &Page::default(), |_, _| true)
            .await
            .expect("a page");
        json!({"statuses": statuses, "page": page})
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

        /// Whatever writes happen between reads, the cached server renders exactly what a
        /// server without a cache renders from the same store.
        #[test]
        fn a_warm_cache_renders_what_no_cache_renders_after_any_writes(
            ops in proptest::collection::vec(op(), 1..30)
        ) {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let app = spawn_app().await;
                let mut users = Vec::new();
                for i in 0..3 {
                    users.push(app.user(&format!("u{i}")).await);
                }
                for a in &users {
                    for b in &users {
                        if a.id != b.id {
                            app.follow(a, b).await;
                        }
                    }
                }
                // Statuses by index: what ops refer to; deleted ones stay as dangling ids.
                let mut statuses: Vec<(usize, String)> = Vec::new();
                for (i, u) in users.iter().enumerate() {
                    statuses.push((i, id_of(&app.post_status(u, &format!("hello from u{i}"), "public").await)));
                }
                // Warm the cache with everything there is before writing.
                for u in &users {
                    let ids: Vec<i64> = statuses.iter().map(|(_, id)| id.parse().unwrap()).collect();
                    rendered(&app.state, u.id.parse().unwrap(), &ids).await;
                }
                let mut renames = 0;
                for op in ops {
                    let pick = |s: usize| statuses[s % statuses.len()].clone();
                    match op {
                        Op::Act(u, s, action) => {
                            app.post(&users[u], &format!("/api/v1/statuses/{}/{action}", pick(s).1), json!({})).await;
                        }
                        Op::Reply(u, s) => {
                            let res = app.post(&users[u], "/api/v1/statuses", json!({"status": "@u0 re #tag", "in_reply_to_id": pick(s).1})).await;
                            if res.status.is_success() {
                                statuses.push((u, id_of(&res.body)));
                            }
                        }
                        Op::Quote(u, s) => {
                            let res = app.post(&users[u], "/api/v1/statuses", json!({"status": "look", "quoted_status_id": pick(s).1})).await;
                            if res.status.is_success() {
                                statuses.push((u, id_of(&res.body)));
                            }
                        }
                        Op::Edit(s) => {
                            let (author, id) = pick(s);
                            app.request(Method::PUT, &format!("/api/v1/statuses/{id}"), Some(&users[author].token), Some(json!({"status": "edited @u1 #other"}))).await;
                        }
                        Op::Delete(s) => {
                            let (author, id) = pick(s);
                            app.request(Method::DELETE, &format!("/api/v1/statuses/{id}"), Some(&users[author].token), None).await;
                        }
                        Op::Follow(a, b) => {
                            app.post(&users[a], &format!("/api/v1/accounts/{}/follow", users[b].id), json!({})).await;
                        }
                        Op::Unfollow(a, b) => {
                            app.post(&users[a], &format!("/api/v1/accounts/{}/unfollow", users[b].id), json!({})).await;
                        }
                        Op::Rename(u) => {
                            renames += 1;
                            app.request(Method::PATCH, "/api/v1/accounts/update_credentials", Some(&users[u].token), Some(json!({"display_name": format!("name {renames}")}))).await;
                        }
                        Op::ReadHome(u) => {
                            app.home(&users[u], "").await;
                        }
                        Op::FlushViews => app.flush_views().await,
                    }
                }
                app.flush_views().await;
                let mut config = app.state.config.clone();
                config.record_cache = RecordCacheConfig::with_capacity(0, RecordCacheConfig::DEFAULT_TTL);
                let cold = AppState::new(config, app.state.store.clone());
                for u in &users {
                    let me: i64 = u.id.parse().unwrap();
                    // Everything posted, and the cached home timeline (with the reblogs).
                    let mut ids: Vec<i64> = app.state.feeds.read(me).unwrap_or_default();
                    ids.extend(statuses.iter().map(|(_, id)| id.parse::<i64>().unwrap()));
                    let warm = rendered(&app.state, me, &ids).await;
                    let fresh = rendered(&cold, me, &ids).await;
                    prop_assert_eq!(warm, fresh);
                }
                Ok(())
            })?;
        }
    }
}

#[tokio::test]
async fn large_records_keep_the_cache_within_its_byte_budget() {
    // Room for a thousand statuses by count, but only about a hundred of these by bytes:
    // each is a few kilobytes of links, which count as 23 characters each.
    let budget = 960 * 1024;
    let app = spawn_with(|c| {
        c.rate_limit = None;
        c.record_cache.statuses = 1_000;
        c.record_cache.accounts = 500;
        c.record_cache.max_bytes = budget;
    })
    .await;
    let alice = app.user("alice").await;
    for i in 0..150 {
        let links: Vec<String> = (0..6)
            .map(|j| format!("https://example.net/{i}/{j}/{}", "x".repeat(400)))
            .collect();
        app.post_status(&alice, &links.join(" "), "public").await;
    }
    let pages = app
        .walk(&alice, "/api/v1/timelines/public?limit=40", "next")
        .await;
    assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), 150);

    let held = app.state.records.bytes();
    assert!(held <= budget, "{held} bytes held, {budget} allowed");
    assert!(held > budget / 4, "the cache holds records ({held} bytes)");
}
