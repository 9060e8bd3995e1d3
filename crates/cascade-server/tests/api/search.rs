//! Search: `/api/v2/search` (accounts, hashtags, statuses from the full-text index) and
//! `/api/v1/accounts/search`; the index kept current by posts, edits and deletes; the
//! visibility rule holding in every result.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{ids, spawn_app, spawn_one_with, TestApp, User};

/// The ids of the statuses a search for `q` finds for `user`.
async fn found(app: &TestApp, user: &User, q: &str) -> Vec<String> {
    let res = app
        .get(user, &format!("/api/v2/search?type=statuses&q={q}"))
        .await
        .ok();
    ids(res["statuses"].as_array().unwrap())
}

fn id(status: &Value) -> String {
    status["id"].as_str().unwrap().to_string()
}

fn usernames(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_status_is_found_by_all_its_words_right_after_it_is_posted() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let coffee = app
        .post_status(&alice, "Fresh Café au lait this morning", "public")
        .await;
    let tea = app
        .post_status(&alice, "Green tea this morning", "unlisted")
        .await;
    assert_eq!(found(&app, &bob, "cafe").await, vec![id(&coffee)]);
    assert_eq!(
        found(&app, &bob, "morning").await,
        vec![id(&tea), id(&coffee)],
        "newest first"
    );
    assert_eq!(found(&app, &bob, "morning%20TEA").await, vec![id(&tea)]);
    assert!(found(&app, &bob, "morning%20juice").await.is_empty());
    let all = app.get(&bob, "/api/v2/search?q=morning").await.ok();
    assert_eq!(all["statuses"].as_array().unwrap().len(), 2);
    assert!(all["accounts"].as_array().unwrap().is_empty());
    assert!(all["hashtags"].as_array().unwrap().is_empty());
    let only_accounts = app
        .get(&bob, "/api/v2/search?q=morning&type=accounts")
        .await
        .ok();
    assert!(only_accounts["statuses"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn accounts_are_found_by_username_and_display_name_prefix() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let alicia = app.user("alicia").await;
    let bob = app.user("bob").await;
    app.request(
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&bob.token),
        Some(json!({"display_name": "The Real Alistair"})),
    )
    .await
    .ok();
    let res = app
        .get(&alice, "/api/v2/search?type=accounts&q=ali")
        .await
        .ok();
    let mut names = usernames(&res["accounts"]);
    names.sort();
    assert_eq!(names, vec!["alice", "alicia", "bob"]);
    let exact = app.get(&bob, "/api/v1/accounts/search?q=alicia").await.ok();
    assert_eq!(usernames(&exact)[0], "alicia", "the exact username first");
    let handle = app
        .get(
            &bob,
            &format!("/api/v1/accounts/search?q=@alice@{}", app.addr),
        )
        .await
        .ok();
    assert_eq!(usernames(&handle), vec!["alice"]);
    let elsewhere = app
        .get(&bob, "/api/v1/accounts/search?q=alice@elsewhere.example")
        .await
        .ok();
    assert!(elsewhere.as_array().unwrap().is_empty());
    app.follow(&alice, &alicia).await;
    let followed = app
        .get(&alice, "/api/v1/accounts/search?q=ali&following=true")
        .await
        .ok();
    assert_eq!(usernames(&followed), vec!["alicia"]);
    let limited = app
        .get(&alice, "/api/v1/accounts/search?q=ali&limit=1&offset=1")
        .await
        .ok();
    assert_eq!(limited.as_array().unwrap().len(), 1);
    let _ = alicia;
}

#[tokio::test]
async fn hashtags_are_found_by_prefix_with_their_week_of_use() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.post_status(&alice, "#Rustacean meetup", "public").await;
    app.post_status(&alice, "#rust is fun, #rust again", "public")
        .await;
    app.post_status(&alice, "#ruby too", "public").await;
    let res = app
        .get(&alice, "/api/v2/search?type=hashtags&q=%23rust")
        .await
        .ok();
    let tags = res["hashtags"].as_array().unwrap();
    let names: Vec<&str> = tags.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["rust", "rustacean"], "the exact name first");
    let shown = app.get(&alice, "/api/v1/tags/rust").await.ok();
    assert_eq!(tags[0]["history"], shown["history"]);
    assert_eq!(tags[0]["history"][0]["uses"], "1");
    assert_eq!(tags[0]["following"], false);
    let reviewed = app
        .get(
            &alice,
            "/api/v2/search?type=hashtags&q=ru&exclude_unreviewed=true",
        )
        .await
        .ok();
    assert_eq!(reviewed["hashtags"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn statuses_page_by_offset_and_by_ids() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut posted = Vec::new();
    for i in 0..5 {
        posted.push(id(&app
            .post_status(&alice, &format!("needle number {i}"), "public")
            .await));
    }
    posted.reverse();
    let page = |query: &'static str| {
        let app = &app;
        let alice = &alice;
        async move {
            let res = app
                .get(
                    alice,
                    &format!("/api/v2/search?type=statuses&q=needle&{query}"),
                )
                .await
                .ok();
            ids(res["statuses"].as_array().unwrap())
        }
    };
    assert_eq!(page("limit=2").await, posted[0..2]);
    assert_eq!(page("limit=2&offset=2").await, posted[2..4]);
    assert_eq!(page("limit=2&offset=4").await, posted[4..]);
    let below = format!("limit=2&max_id={}", posted[1]);
    let res = app
        .get(
            &alice,
            &format!("/api/v2/search?type=statuses&q=needle&{below}"),
        )
        .await
        .ok();
    assert_eq!(ids(res["statuses"].as_array().unwrap()), posted[2..4]);
    let above = format!("limit=2&min_id={}", posted[4]);
    let res = app
        .get(
            &alice,
            &format!("/api/v2/search?type=statuses&q=needle&{above}"),
        )
        .await
        .ok();
    assert_eq!(
        ids(res["statuses"].as_array().unwrap()),
        posted[2..4],
        "the two right after min_id, newest first"
    );
    let many = app
        .get(&alice, "/api/v2/search?type=statuses&q=needle&limit=500")
        .await
        .ok();
    assert_eq!(many["statuses"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn account_id_limits_statuses_to_that_author() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let hers = app.post_status(&alice, "shared words", "public").await;
    app.post_status(&bob, "shared words", "public").await;
    let res = app
        .get(
            &bob,
            &format!(
                "/api/v2/search?type=statuses&q=shared&account_id={}",
                alice.id
            ),
        )
        .await
        .ok();
    assert_eq!(ids(res["statuses"].as_array().unwrap()), vec![id(&hers)]);
}

#[tokio::test]
async fn resolve_finds_local_accounts_and_statuses_by_their_urls() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let public = app.post_status(&alice, "look me up", "public").await;
    let private = app.post_status(&alice, "followers only", "private").await;
    let url = public["url"].as_str().unwrap().to_string();
    let res = app
        .get(&bob, &format!("/api/v2/search?q={url}&resolve=true"))
        .await
        .ok();
    assert_eq!(ids(res["statuses"].as_array().unwrap()), vec![id(&public)]);
    assert!(res["accounts"].as_array().unwrap().is_empty());
    let uri = public["uri"].as_str().unwrap();
    let res = app
        .get(&bob, &format!("/api/v2/search?q={uri}&resolve=true"))
        .await
        .ok();
    assert_eq!(ids(res["statuses"].as_array().unwrap()), vec![id(&public)]);
    let hidden = private["url"].as_str().unwrap();
    let res = app
        .get(&bob, &format!("/api/v2/search?q={hidden}&resolve=true"))
        .await
        .ok();
    assert!(
        res["statuses"].as_array().unwrap().is_empty(),
        "a private post does not resolve for a non-follower"
    );
    let profile = app.url("/@alice");
    let res = app
        .get(&bob, &format!("/api/v2/search?q={profile}&resolve=true"))
        .await
        .ok();
    assert_eq!(usernames(&res["accounts"]), vec!["alice"]);
    let handle = format!("alice@{}", app.addr);
    let res = app
        .get(&bob, &format!("/api/v2/search?q={handle}&resolve=true"))
        .await
        .ok();
    assert_eq!(usernames(&res["accounts"]), vec!["alice"]);
    assert!(res["statuses"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_private_post_is_found_by_its_author_and_followers_only() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let follower = app.user("follower").await;
    let stranger = app.user("stranger").await;
    app.follow(&follower, &alice).await;
    let post = app
        .post_status(&alice, "quietly announced plans", "private")
        .await;
    assert_eq!(found(&app, &alice, "plans").await, vec![id(&post)]);
    assert_eq!(found(&app, &follower, "plans").await, vec![id(&post)]);
    assert!(found(&app, &stranger, "plans").await.is_empty());
    let anonymous = app
        .get_anon("/api/v2/search?q=plans&type=statuses")
        .await
        .ok();
    assert!(anonymous["statuses"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_direct_post_is_found_only_by_its_author_and_the_mentioned() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let follower = app.user("follower").await;
    app.follow(&follower, &alice).await;
    let post = app
        .post_status(&alice, "@bob the secret password", "direct")
        .await;
    assert_eq!(found(&app, &bob, "password").await, vec![id(&post)]);
    assert_eq!(found(&app, &alice, "password").await, vec![id(&post)]);
    assert!(found(&app, &follower, "password").await.is_empty());
}

#[tokio::test]
async fn blocked_and_muted_authors_are_never_found() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    app.post_status(&alice, "tulips in spring", "public").await;
    app.post_status(&dave, "tulips everywhere", "public").await;
    assert_eq!(found(&app, &bob, "tulips").await.len(), 2);
    // Bob blocks Alice; Alice blocks Carol; Bob mutes Dave.
    app.post(
        &bob,
        &format!("/api/v1/accounts/{}/block", alice.id),
        json!({}),
    )
    .await
    .ok();
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/block", carol.id),
        json!({}),
    )
    .await
    .ok();
    app.post(
        &bob,
        &format!("/api/v1/accounts/{}/mute", dave.id),
        json!({}),
    )
    .await
    .ok();
    assert!(found(&app, &bob, "tulips").await.is_empty());
    assert_eq!(found(&app, &carol, "tulips").await.len(), 1, "dave's only");
    let accounts = app
        .get(&carol, "/api/v1/accounts/search?q=alice")
        .await
        .ok();
    assert!(
        accounts.as_array().unwrap().is_empty(),
        "a blocking account is not found either"
    );
}

#[tokio::test]
async fn a_deleted_post_is_not_found() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let post = app.post_status(&alice, "ephemeral thought", "public").await;
    assert_eq!(found(&app, &alice, "ephemeral").await, vec![id(&post)]);
    app.request(
        Method::DELETE,
        &format!("/api/v1/statuses/{}", id(&post)),
        Some(&alice.token),
        None,
    )
    .await
    .ok();
    assert!(found(&app, &alice, "ephemeral").await.is_empty());
}

#[tokio::test]
async fn an_edited_post_is_found_by_its_new_words_not_its_old_ones() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app.post_status(&alice, "original wording", "public").await;
    app.request(
        Method::PUT,
        &format!("/api/v1/statuses/{}", id(&post)),
        Some(&alice.token),
        Some(json!({"status": "revised phrasing", "spoiler_text": "careful"})),
    )
    .await
    .ok();
    assert!(found(&app, &bob, "original").await.is_empty());
    assert_eq!(found(&app, &bob, "revised").await, vec![id(&post)]);
    assert_eq!(
        found(&app, &bob, "careful").await,
        vec![id(&post)],
        "the content warning is searchable too"
    );
}

#[tokio::test]
async fn a_status_of_a_deleted_account_never_shows() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.post_status(&alice, "soon gone", "public").await;
    app.post_status(&bob, "soon gone too", "public").await;
    let alice_id: i64 = alice.id.parse().unwrap();
    match &app.state.store {
        cascade_store::Store::Sqlite { write, .. } => {
            sqlx::query("DELETE FROM accounts WHERE id = $1")
                .bind(alice_id)
                .execute(write)
                .await
                .unwrap();
        }
        cascade_store::Store::Postgres(pool) => {
            sqlx::query("DELETE FROM accounts WHERE id = $1")
                .bind(alice_id)
                .execute(pool)
                .await
                .unwrap();
        }
    }
    app.state.records.forget_account(alice_id);
    let res = app.get(&bob, "/api/v2/search?q=gone").await.ok();
    let authors: Vec<&str> = res["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["account"]["username"].as_str().unwrap())
        .collect();
    assert_eq!(authors, vec!["bob"]);
}

#[tokio::test]
async fn anonymous_callers_find_accounts_and_tags_but_may_not_page_or_resolve() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.post_status(&alice, "#alpine alpine views", "public")
        .await;
    let res = app.get_anon("/api/v2/search?q=al").await.ok();
    assert_eq!(usernames(&res["accounts"]), vec!["alice"]);
    assert_eq!(res["hashtags"][0]["name"], "alpine");
    let words = app.get_anon("/api/v2/search?q=alpine").await.ok();
    assert!(
        words["statuses"].as_array().unwrap().is_empty(),
        "no full-text search without an account, as in Mastodon"
    );
    let paged = app.get_anon("/api/v2/search?q=al&offset=1").await;
    assert_eq!(paged.status, 401);
    assert!(paged.body["error"].as_str().unwrap().contains("pagination"));
    let resolved = app.get_anon("/api/v2/search?q=al&resolve=true").await;
    assert_eq!(resolved.status, 401);
    assert_eq!(
        app.get_anon("/api/v1/accounts/search?q=al").await.status,
        401
    );
}

#[tokio::test]
async fn bad_parameters_are_refused_with_mastodon_errors() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for path in [
        "/api/v2/search",
        "/api/v2/search?q=",
        "/api/v2/search?q=%20%20",
        "/api/v2/search?q=x&limit=many",
        "/api/v2/search?q=x&resolve=maybe",
        "/api/v1/accounts/search",
    ] {
        let res = app.get(&alice, path).await;
        assert_eq!(res.status, 400, "{path}: {}", res.body);
        assert!(res.body["error"].is_string(), "{path}");
    }
    let res = app.get(&alice, "/api/v2/search?q=x&type=toots").await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body["error"].is_string());
    let reader = app.user_with_scopes("reader", "read:statuses").await;
    assert_eq!(app.get(&reader, "/api/v2/search?q=x").await.status, 403);
    let searcher = app.user_with_scopes("searcher", "read:search").await;
    assert_eq!(app.get(&searcher, "/api/v2/search?q=x").await.status, 200);
}

#[tokio::test]
async fn catching_up_indexes_statuses_the_index_never_heard_of() {
    // One node: the test empties that node's own index and has it catch up.
    let app = spawn_one_with(|_| {}).await;
    let alice = app.user("alice").await;
    // The server catches up once when it starts, before it answers its first request;
    // wait for that, so the status below is one that start never saw.
    app.get_anon("/api/v1/instance").await.ok();
    let now = cascade_core::time::now_millis();
    let written = crate::helpers::public_status(
        app.state.ids.next(),
        alice.id.parse().unwrap(),
        "imported from elsewhere",
        now,
    );
    app.state
        .store
        .insert_statuses_bulk(std::slice::from_ref(&written))
        .await
        .unwrap();
    assert!(found(&app, &alice, "imported").await.is_empty());
    let indexed = cascade_server::app::search::catch_up(&app.state)
        .await
        .unwrap();
    assert_eq!(indexed, 1);
    assert_eq!(
        found(&app, &alice, "imported").await,
        vec![written.id.to_string()]
    );
}

#[tokio::test]
async fn the_search_entity_matches_the_mastodon_openapi_schema() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.post_status(&alice, "#schema checks for alice", "public")
        .await;
    let res = app.get(&alice, "/api/v2/search?q=alice").await.ok();
    assert_eq!(res["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(res["statuses"].as_array().unwrap().len(), 1);
    let tags = app.get(&alice, "/api/v2/search?q=schema").await.ok();
    assert_eq!(tags["hashtags"].as_array().unwrap().len(), 1);
    let samples = vec![
        (
            "Search",
            res,
            "a search with accounts and statuses".to_string(),
        ),
        ("Search", tags, "a search with hashtags".to_string()),
    ];
    if let Some(complaints) = crate::schemas::validate(&samples).await {
        assert!(complaints.is_empty(), "{complaints}");
    }
}

#[tokio::test]
async fn a_tag_used_only_in_private_or_direct_posts_is_not_found_by_strangers_or_trending() {
    let app = spawn_app().await;
    let people = crate::helpers::crowd(&app, "whisperer", 4).await;
    let stranger = app.user("stranger").await;
    for p in &people {
        app.post_status(p, "between us #whisperplans", "private")
            .await;
        app.post(
            p,
            "/api/v1/statuses",
            json!({"status": "@stranger #whisperdirect", "visibility": "direct"}),
        )
        .await
        .ok();
    }
    cascade_server::app::trends::refresh(&app.state)
        .await
        .expect("trends recompute");

    let anonymous = app.get_anon("/api/v2/search?q=%23whisper").await.ok();
    assert_eq!(anonymous["hashtags"], json!([]), "{anonymous}");
    let signed_in = app
        .get(&stranger, "/api/v2/search?type=hashtags&q=whisper")
        .await
        .ok();
    assert_eq!(signed_in["hashtags"], json!([]), "{signed_in}");
    let trending = app.get_anon("/api/v1/trends/tags").await.ok();
    assert!(!trending.to_string().contains("whisper"), "{trending}");

    // One public use lists the tag.
    app.post_status(&people[0], "now it is public #whisperplans", "public")
        .await;
    let found = app.get_anon("/api/v2/search?q=%23whisper").await.ok();
    let names: Vec<&str> = found["hashtags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["whisperplans"]);
}
