//! The ranked home feed, `GET /api/v1/timelines/home?order=ranked`: engagement relative to
//! the audience, stable forward paging, and the same visibility as the home timeline.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::{crowd, ids, spawn_app, TestApp, User};

const RANKED: &str = "/api/v1/timelines/home?order=ranked";

async fn ranked(app: &TestApp, user: &User, query: &str) -> Vec<Value> {
    app.drain().await;
    app.get(user, &format!("{RANKED}{query}"))
        .await
        .ok()
        .as_array()
        .cloned()
        .expect("a list")
}

async fn act(app: &TestApp, user: &User, id: &str, action: &str) {
    app.post(user, &format!("/api/v1/statuses/{id}/{action}"), json!({}))
        .await
        .ok();
}

fn id_of(status: &Value) -> String {
    status["id"].as_str().expect("an id").to_string()
}

#[tokio::test]
async fn a_small_accounts_well_liked_post_outranks_a_big_accounts_more_liked_one() {
    let app = spawn_app().await;
    let reader = app.user("reader").await;
    let small = app.user("small").await;
    let big = app.user("big").await;
    app.follow(&reader, &small).await;
    app.follow(&reader, &big).await;
    let fans = crowd(&app, "fan", 40).await;
    for fan in &fans {
        app.follow(fan, &big).await;
    }
    let modest = id_of(
        &app.post_status(&small, "a small, loved post", "public")
            .await,
    );
    let loud = id_of(
        &app.post_status(&big, "a big, shrugged-at post", "public")
            .await,
    );
    // 4 favourites and a reblog from an audience of 1 follower; 6 favourites from 41.
    for fan in &fans[..4] {
        act(&app, fan, &modest, "favourite").await;
    }
    act(&app, &fans[4], &modest, "reblog").await;
    for fan in &fans[10..16] {
        act(&app, fan, &loud, "favourite").await;
    }

    let chronological = app.home(&reader, "").await;
    assert_eq!(ids(&chronological), vec![loud.clone(), modest.clone()]);
    assert!(chronological[0]["cascade"]["ranking"].is_null());

    let page = ranked(&app, &reader, "").await;
    assert_eq!(ids(&page), vec![modest, loud]);
    let first = &page[0]["cascade"]["ranking"];
    assert_eq!(first["audience"], 1);
    assert_eq!(first["favourites"], 4);
    assert_eq!(first["reblogs"], 1);
    let second = &page[1]["cascade"]["ranking"];
    assert_eq!(second["audience"], 41);
    assert!(first["score"].as_f64().unwrap() > second["score"].as_f64().unwrap());
    assert!(first["relative_engagement"].as_f64().unwrap() > 0.2);
    let text = first["explanation"].as_str().unwrap();
    assert!(
        text.starts_with("4 favourites, 1 reblog from an audience of 1:"),
        "{text}"
    );
}

#[tokio::test]
async fn reshares_bring_posts_from_outside_the_follows_once_and_say_who_reshared() {
    let app = spawn_app().await;
    let reader = app.user("reader").await;
    let friend = app.user("friend").await;
    let other = app.user("other").await;
    let stranger = app.user("stranger").await;
    app.follow(&reader, &friend).await;
    app.follow(&reader, &other).await;
    let post = id_of(
        &app.post_status(&stranger, "worth passing on", "public")
            .await,
    );
    act(&app, &friend, &post, "reblog").await;
    act(&app, &other, &post, "reblog").await;

    let page = ranked(&app, &reader, "").await;
    assert_eq!(page.len(), 1, "one entry per original post: {page:?}");
    assert_eq!(page[0]["reblog"]["id"], post.as_str());
    assert_eq!(
        page[0]["account"]["username"], "other",
        "the newest reshare"
    );
    let ranking = &page[0]["cascade"]["ranking"];
    assert_eq!(ranking["reshared_by"], "other");
    assert_eq!(ranking["reblogs"], 2);
    assert!(ranking["explanation"]
        .as_str()
        .unwrap()
        .ends_with("reshared by @other"));
}

#[tokio::test]
async fn paging_the_ranked_feed_gives_every_entry_once_while_counters_move() {
    let app = spawn_app().await;
    let reader = app.user("reader").await;
    let authors = crowd(&app, "author", 5).await;
    let fans = crowd(&app, "fan", 6).await;
    let mut posted = HashSet::new();
    for (i, author) in authors.iter().enumerate() {
        app.follow(&reader, author).await;
        for j in 0..5 {
            let post = id_of(
                &app.post_status(author, &format!("post {j} of author {i}"), "public")
                    .await,
            );
            for fan in &fans[..(i * j) % 6] {
                act(&app, fan, &post, "favourite").await;
            }
            posted.insert(post);
        }
    }

    let mut seen = Vec::new();
    let mut path = format!("{RANKED}&limit=7");
    let mut scores = Vec::new();
    for round in 0.. {
        assert!(round < 10, "paging did not end");
        app.drain().await;
        let res = app.get(&reader, &path).await;
        let next = res.link_path("next");
        assert!(
            res.link_path("prev").is_none(),
            "a ranked page has no prev link"
        );
        let page = res.ok().as_array().cloned().unwrap();
        assert!(page.len() <= 7);
        for s in &page {
            scores.push(s["cascade"]["ranking"]["score"].as_f64().unwrap());
        }
        seen.extend(ids(&page));
        // Engagement moves between pages: the snapshot keeps the order.
        if let Some(s) = page.last() {
            let id = id_of(s);
            for fan in &fans {
                act(&app, fan, &id, "favourite").await;
            }
        }
        let Some(next) = next else { break };
        assert!(
            next.contains("order=ranked") && next.contains("limit=7"),
            "{next}"
        );
        path = next;
    }
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no entry twice: {seen:?}");
    assert_eq!(unique, posted, "every entry once");
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "one order across pages: {scores:?}"
    );
}

#[tokio::test]
async fn the_ranked_feed_hides_what_the_home_timeline_hides() {
    let app = spawn_app().await;
    let reader = app.user("reader").await;
    let friend = app.user("friend").await;
    let blocked = app.user("blocked").await;
    let stranger = app.user("stranger").await;
    app.follow(&reader, &friend).await;
    app.post(
        &reader,
        &format!("/api/v1/accounts/{}/block", blocked.id),
        json!({}),
    )
    .await
    .ok();
    let mine = id_of(&app.post_status(&reader, "my own", "public").await);
    let fine = id_of(&app.post_status(&friend, "for everyone", "public").await);
    let unwanted = id_of(
        &app.post_status(&blocked, "from a blocked account", "public")
            .await,
    );
    act(&app, &friend, &unwanted, "reblog").await;
    app.post_status(&stranger, "private, and not for the reader", "private")
        .await;
    app.post_status(&friend, "only for @stranger", "direct")
        .await;

    let shown: HashSet<String> = ids(&ranked(&app, &reader, "").await).into_iter().collect();
    assert_eq!(shown, HashSet::from([mine, fine]));
}

#[tokio::test]
async fn ranked_paging_parameters_are_checked() {
    let app = spawn_app().await;
    let reader = app.user("reader").await;
    let res = app
        .get(&reader, "/api/v1/timelines/home?order=loudest")
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body["error"].as_str().unwrap().contains("order"));
    let res = app.get(&reader, &format!("{RANKED}&since_id=1")).await;
    assert_eq!(res.status, 422);
    let res = app.get_anon(RANKED).await;
    assert_eq!(res.status, 401);
    // An unknown cursor is an ordinary max_id: nothing is older than the first post.
    let first = id_of(&app.post_status(&reader, "the first", "public").await);
    assert!(ranked(&app, &reader, &format!("&max_id={first}"))
        .await
        .is_empty());
    assert_eq!(ids(&ranked(&app, &reader, "").await), vec![first]);
}

#[tokio::test]
async fn ranked_entries_match_the_mastodon_status_schema() {
    let app = spawn_app().await;
    let reader = app.user("reader").await;
    let friend = app.user("friend").await;
    app.follow(&reader, &friend).await;
    let post = id_of(&app.post_status(&friend, "schema me", "public").await);
    act(&app, &reader, &post, "favourite").await;
    let page = ranked(&app, &reader, "").await;
    assert_eq!(page.len(), 1);
    let samples = [("Status", page[0].clone(), "ranked entry".to_string())];
    if let Some(complaints) = crate::schemas::validate(&samples).await {
        assert!(complaints.is_empty(), "{complaints}");
    }
}

#[tokio::test]
async fn home_filters_apply_to_the_ranked_feed() {
    let app = spawn_app().await;
    let reader = app.user("reader").await;
    let friend = app.user("friend").await;
    app.follow(&reader, &friend).await;
    for (title, action, keyword) in [
        ("no spoilers", "hide", "finale"),
        ("careful", "warn", "trailer"),
    ] {
        app.post(
            &reader,
            "/api/v2/filters",
            json!({"title": title, "context": ["home"], "filter_action": action,
                   "keywords_attributes": [{"keyword": keyword}]}),
        )
        .await
        .ok();
    }
    app.post_status(&friend, "What a finale!", "public").await;
    let warned = id_of(
        &app.post_status(&friend, "The new trailer is out", "public")
            .await,
    );
    let plain = id_of(&app.post_status(&friend, "Lunch was good", "public").await);

    let page = ranked(&app, &reader, "").await;
    let shown: HashSet<String> = ids(&page).into_iter().collect();
    assert_eq!(shown, HashSet::from([warned.clone(), plain]));
    let w = page.iter().find(|s| s["id"] == warned.as_str()).unwrap();
    assert_eq!(w["filtered"][0]["filter"]["title"], "careful");
}
