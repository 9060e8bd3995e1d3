//! Trends on constructed worlds: relative engagement beats raw counts, new and spammy
//! accounts make nothing trend, what may never trend does not, tags and links trend
//! against their own history, and the entities keep Mastodon's shapes.

use cascade_core::time::now_millis;
use serde_json::{json, Value};

use crate::helpers::{crowd, ids, spawn_app, TestApp, User};

const DAY: i64 = 86_400_000;

fn id(user: &User) -> i64 {
    user.id.parse().unwrap()
}

async fn refresh(app: &TestApp) {
    cascade_server::app::trends::refresh(&app.state)
        .await
        .expect("trends recompute");
}

/// Gives `author` `n` followers that are 90-day-old accounts made in bulk.
async fn audience(app: &TestApp, author: &User, prefix: &str, n: usize) {
    let store = &app.state.store;
    let created = now_millis() - 90 * DAY;
    let accounts: Vec<(i64, String, String, i64)> = (0..n)
        .map(|i| {
            let id = app.state.ids.next();
            (id, format!("{prefix}{i}"), String::new(), created)
        })
        .collect();
    store.insert_accounts_bulk(&accounts).await.unwrap();
    let edges: Vec<(i64, i64, i64, i64)> = accounts
        .iter()
        .map(|a| (app.state.ids.next_at(created), a.0, id(author), created))
        .collect();
    store.insert_follows_bulk(&edges).await.unwrap();
    store.recount_follows().await.unwrap();
    app.state.records.forget_account(id(author));
}

async fn post(app: &TestApp, user: &User, text: &str) -> String {
    app.post_status(user, text, "public").await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn favourite_by(app: &TestApp, users: &[User], status: &str) {
    for u in users {
        app.post(
            u,
            &format!("/api/v1/statuses/{status}/favourite"),
            json!({}),
        )
        .await
        .ok();
    }
}

async fn trending(app: &TestApp, path: &str) -> Vec<Value> {
    app.get_anon(path)
        .await
        .ok()
        .as_array()
        .expect("a list")
        .clone()
}

#[tokio::test]
async fn a_small_accounts_post_with_high_relative_engagement_outranks_a_big_accounts_post() {
    let app = spawn_app().await;
    let people = crowd(&app, "fan", 20).await;
    let small = &crowd(&app, "small", 1).await[0];
    let big = &crowd(&app, "big", 1).await[0];
    audience(&app, big, "follower", 2_000).await;
    let small_post = post(&app, small, "my little garden").await;
    let big_post = post(&app, big, "my famous garden").await;
    favourite_by(&app, &people[..6], &small_post).await;
    favourite_by(&app, &people, &big_post).await;

    refresh(&app).await;
    let list = trending(&app, "/api/v1/trends/statuses").await;
    assert_eq!(
        ids(&list),
        vec![small_post.clone(), big_post.clone()],
        "6 favourites from a 0-follower account beat 20 for one with 2,000 followers"
    );
    assert_eq!(list[1]["favourites_count"], 20);
    assert_eq!(list[0]["favourites_count"], 6);
}

#[tokio::test]
async fn engagement_from_new_or_spammy_accounts_does_not_make_a_post_trend() {
    let app = spawn_app().await;
    let author = &crowd(&app, "author", 1).await[0];
    let honest = crowd(&app, "honest", 3).await;
    let mut fresh = Vec::new();
    for i in 0..8 {
        // Registered just now: younger than a week.
        fresh.push(app.user(&format!("fresh{i}")).await);
    }
    let spammy = crowd(&app, "spammy", 8).await;
    // Each spammy account followed 60 accounts within the last hour, is followed by none,
    // and was reported once: a likely spam account on the signals trends look at.
    let now = now_millis();
    let targets: Vec<(i64, String, String, i64)> = (0..60)
        .map(|i| {
            (
                app.state.ids.next(),
                format!("target{i}"),
                String::new(),
                now - 90 * DAY,
            )
        })
        .collect();
    app.state
        .store
        .insert_accounts_bulk(&targets)
        .await
        .unwrap();
    let mut edges = Vec::new();
    for s in &spammy {
        for t in &targets {
            edges.push((app.state.ids.next(), id(s), t.0, now));
        }
        app.state
            .store
            .create_report(
                &cascade_store::ReportRecord {
                    id: app.state.ids.next(),
                    account_id: id(&honest[0]),
                    target_account_id: id(s),
                    category: "spam".into(),
                    comment: String::new(),
                    status_ids: String::new(),
                    created_at: now,
                },
                &[],
            )
            .await
            .unwrap();
    }
    app.state.store.insert_follows_bulk(&edges).await.unwrap();
    app.state.store.recount_follows().await.unwrap();

    let by_fresh = post(&app, author, "liked by the brand new").await;
    let by_spam = post(&app, author, "liked by the spammy").await;
    let by_honest = post(&app, author, "liked by three old friends").await;
    favourite_by(&app, &fresh, &by_fresh).await;
    favourite_by(&app, &spammy, &by_spam).await;
    favourite_by(&app, &honest, &by_honest).await;

    refresh(&app).await;
    let list = ids(&trending(&app, "/api/v1/trends/statuses").await);
    assert_eq!(
        list,
        vec![by_honest],
        "8 favourites from new or spammy accounts count for less than 3 honest ones: nothing"
    );
}

#[tokio::test]
async fn spam_and_suspended_authors_and_private_or_sensitive_posts_never_trend() {
    let app = spawn_app().await;
    let people = crowd(&app, "fan", 5).await;
    let authors = crowd(&app, "author", 4).await;
    let (spammer, suspended, careful, ordinary) =
        (&authors[0], &authors[1], &authors[2], &authors[3]);
    for _ in 0..3 {
        post(&app, spammer, "free followers! click the link in my bio").await;
    }
    let spam_post = post(&app, spammer, "a nice photo").await;
    let suspended_post = post(&app, suspended, "soon suspended").await;
    let private_post = app
        .post_status(careful, "only for followers", "private")
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sensitive_post = app
        .post(
            careful,
            "/api/v1/statuses",
            json!({"status": "behind a warning", "spoiler_text": "cw"}),
        )
        .await
        .ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ordinary_post = post(&app, ordinary, "an ordinary good post").await;
    for p in &people {
        app.follow(p, careful).await;
    }
    for status in [
        &spam_post,
        &suspended_post,
        &private_post,
        &sensitive_post,
        &ordinary_post,
    ] {
        favourite_by(&app, &people, status).await;
    }
    refresh(&app).await;
    let before = ids(&trending(&app, "/api/v1/trends/statuses").await);
    // Equal engagement: the newer post ranks first.
    assert_eq!(before, vec![ordinary_post.clone(), suspended_post.clone()]);

    cascade_server::app::accounts::suspend(&app.state, id(suspended), true)
        .await
        .unwrap();
    // Rendering drops the suspended author's post at once, before any recomputation.
    let list = ids(&trending(&app, "/api/v1/trends/statuses").await);
    assert_eq!(list, vec![ordinary_post.clone()]);
    refresh(&app).await;
    let list = ids(&trending(&app, "/api/v1/trends/statuses").await);
    assert_eq!(list, vec![ordinary_post]);
}

/// Writes a status `days_ago` days back, tagged with `tags`, straight into the store.
async fn backdated(app: &TestApp, author: &User, text: &str, tags: &[&str], days_ago: i64) {
    let at = now_millis() - days_ago * DAY;
    let status = app.state.ids.next_at(at);
    let record = crate::helpers::public_status(status, id(author), text, at);
    app.state
        .store
        .insert_statuses_bulk(&[record])
        .await
        .unwrap();
    let mut links = Vec::new();
    for t in tags {
        let tag = app
            .state
            .store
            .ensure_tag(app.state.ids.next(), t, at)
            .await
            .unwrap();
        links.push((status, tag.id));
    }
    app.state
        .store
        .insert_status_tags_bulk(&links)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_tag_used_by_more_accounts_than_usual_trends_with_its_week_of_history() {
    let app = spawn_app().await;
    let people = crowd(&app, "user", 4).await;
    let newcomer = app.user("newcomer").await;
    for days_ago in 1..7 {
        for p in &people {
            backdated(&app, p, "as every day #steady", &["steady"], days_ago).await;
        }
    }
    backdated(&app, &people[0], "once #rising", &["rising"], 2).await;
    for p in &people {
        post(&app, p, "today #steady").await;
        post(&app, p, "look #rising").await;
    }
    post(&app, &people[0], "again #rising").await;
    // Brand-new accounts, however many, do not make a tag trend.
    post(&app, &newcomer, "#newcomers only").await;

    refresh(&app).await;
    let tags = trending(&app, "/api/v1/trends/tags").await;
    let names: Vec<&str> = tags.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        vec!["rising"],
        "steady use and new accounts do not trend"
    );
    let history = tags[0]["history"].as_array().unwrap();
    assert_eq!(history.len(), 7);
    let today = now_millis() / DAY;
    assert_eq!(history[0]["day"], (today * 86_400).to_string());
    assert_eq!(history[0]["uses"], "5");
    assert_eq!(history[0]["accounts"], "4");
    assert_eq!(history[2]["uses"], "1");
    assert_eq!(history[1]["uses"], "0");
    assert!(tags[0]["url"].as_str().unwrap().ends_with("/tags/rising"));
    let deprecated = trending(&app, "/api/v1/trends").await;
    assert_eq!(deprecated, tags, "/api/v1/trends is the tags list");
}

#[tokio::test]
async fn links_shared_by_more_accounts_than_usual_trend_as_preview_cards() {
    let app = spawn_app().await;
    let people = crowd(&app, "reader", 3).await;
    backdated(&app, &people[0], "old https://example.org/old", &[], 3).await;
    for p in &people {
        post(&app, p, "read this https://news.example/story now").await;
    }
    post(&app, &people[0], "only me https://example.org/lonely").await;
    app.post_status(&people[1], "secret https://hidden.example/x", "private")
        .await;
    app.post_status(&people[2], "secret https://hidden.example/x", "private")
        .await;

    refresh(&app).await;
    let links = trending(&app, "/api/v1/trends/links").await;
    assert_eq!(links.len(), 1, "{links:?}");
    let card = &links[0];
    assert_eq!(card["url"], "https://news.example/story");
    assert_eq!(card["type"], "link");
    assert_eq!(card["provider_name"], "news.example");
    assert_eq!(card["history"][0]["accounts"], "3");
    assert_eq!(card["history"][0]["uses"], "3");
    assert_eq!(card["history"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn trends_page_with_limit_and_offset() {
    let app = spawn_app().await;
    let people = crowd(&app, "fan", 7).await;
    let authors = crowd(&app, "author", 3).await;
    let mut posts = Vec::new();
    for (i, a) in authors.iter().enumerate() {
        let p = post(&app, a, &format!("post {i} #t{i}")).await;
        // More favourites for later authors: the ranking is the reverse order.
        favourite_by(&app, &people[..3 + i * 2], &p).await;
        posts.push(p);
    }
    refresh(&app).await;
    let all = ids(&trending(&app, "/api/v1/trends/statuses").await);
    assert_eq!(
        all,
        vec![posts[2].clone(), posts[1].clone(), posts[0].clone()]
    );
    let second = ids(&trending(&app, "/api/v1/trends/statuses?limit=1&offset=1").await);
    assert_eq!(second, vec![posts[1].clone()]);
    // The Link header walks the same pages, keeping the limit.
    let res = app
        .get_anon("/api/v1/trends/statuses?limit=1&offset=1")
        .await;
    let next = res.link_path("next").expect("a full page links onwards");
    assert_eq!(next, "/api/v1/trends/statuses?limit=1&offset=2");
    assert_eq!(
        res.link_path("prev").as_deref(),
        Some("/api/v1/trends/statuses?limit=1&offset=0")
    );
    let last = app.get_anon(&next).await;
    assert!(
        last.link_path("next").is_some(),
        "the third page is full too"
    );
    let last = app
        .get_anon("/api/v1/trends/statuses?limit=2&offset=2")
        .await;
    assert!(last.link_path("next").is_none(), "a short page is the last");
    let first = app.get_anon("/api/v1/trends/statuses").await;
    assert!(first.link_path("prev").is_none());
    assert_eq!(ids(first.ok().as_array().unwrap()), all);
    let beyond = trending(&app, "/api/v1/trends/statuses?offset=5").await;
    assert!(beyond.is_empty());
    let refused = app.get_anon("/api/v1/trends/tags?limit=banana").await;
    assert_eq!(refused.status, reqwest::StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn nothing_trends_in_an_empty_world() {
    let app = spawn_app().await;
    for path in ["statuses", "tags", "links"] {
        assert!(trending(&app, &format!("/api/v1/trends/{path}"))
            .await
            .is_empty());
    }
    refresh(&app).await;
    for path in ["statuses", "tags", "links"] {
        assert!(trending(&app, &format!("/api/v1/trends/{path}"))
            .await
            .is_empty());
    }
}

#[tokio::test]
async fn trend_entities_match_the_mastodon_openapi_schemas() {
    let app = spawn_app().await;
    let people = crowd(&app, "fan", 4).await;
    let author = &crowd(&app, "author", 1).await[0];
    let p = post(&app, author, "see https://example.org/a #shapes").await;
    favourite_by(&app, &people, &p).await;
    for u in &people {
        post(&app, u, "me too https://example.org/a #shapes").await;
    }
    refresh(&app).await;
    let statuses = trending(&app, "/api/v1/trends/statuses").await;
    let tags = trending(&app, "/api/v1/trends/tags").await;
    let links = trending(&app, "/api/v1/trends/links").await;
    assert!(!statuses.is_empty() && !tags.is_empty() && !links.is_empty());
    let samples = [
        ("Status", statuses[0].clone(), "trending status".to_string()),
        ("Tag", tags[0].clone(), "trending tag".to_string()),
        ("TrendsLink", links[0].clone(), "trending link".to_string()),
    ];
    if let Some(complaints) = crate::schemas::validate(&samples).await {
        assert!(complaints.is_empty(), "{complaints}");
    }
}
