//! Grouped notifications (`/api/v2/notifications`), checked against the v1 list they are
//! made of: what groups with what, what each group names and cites, paging both ways,
//! the group endpoints, the unread count, and what blocks and lost visibility hide.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{crowd, spawn_app, TestApp, User};

/// The kinds that group when a client does not say.
const GROUPED: &[&str] = &["favourite", "reblog", "follow"];

async fn groups(app: &TestApp, user: &User, query: &str) -> Value {
    app.drain().await;
    app.get(user, &format!("/api/v2/notifications{query}"))
        .await
        .ok()
}

/// The v1 list, newest first: what the groups are made of.
async fn notes(app: &TestApp, user: &User, query: &str) -> Vec<Value> {
    app.drain().await;
    app.get(user, &format!("/api/v1/notifications{query}"))
        .await
        .ok()
        .as_array()
        .unwrap()
        .clone()
}

async fn act(app: &TestApp, user: &User, action: &str, status: &str) {
    app.post(
        user,
        &format!("/api/v1/statuses/{status}/{action}"),
        json!({}),
    )
    .await
    .ok();
}

async fn patch_policy(app: &TestApp, user: &User, body: Value) {
    app.request(
        Method::PATCH,
        "/api/v2/notifications/policy",
        Some(&user.token),
        Some(body),
    )
    .await
    .ok();
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// The `id`s of a list of entities.
fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(id).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn keys(body: &Value) -> Vec<String> {
    body["notification_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group_key"].as_str().unwrap().to_string())
        .collect()
}

fn group<'a>(body: &'a Value, key: &str) -> &'a Value {
    body["notification_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group_key"] == key)
        .unwrap_or_else(|| panic!("no group {key} in {body}"))
}

/// The key a v1 notification groups under when only `grouped` kinds group.
fn key_of(n: &Value, grouped: &[&str]) -> String {
    if grouped.contains(&n["type"].as_str().unwrap()) {
        n["group_key"].as_str().unwrap().to_string()
    } else {
        format!("ungrouped-{}", id(n))
    }
}

/// The groups Mastodon makes of a whole list of notifications (newest first): each with
/// its count, newest and oldest notification, and up to eight accounts, most recent first.
fn expected_groups(v1: &[Value], grouped: &[&str]) -> Vec<Value> {
    let mut order: Vec<String> = Vec::new();
    let mut members: std::collections::HashMap<String, Vec<&Value>> = Default::default();
    for n in v1 {
        let key = key_of(n, grouped);
        if !members.contains_key(&key) {
            order.push(key.clone());
        }
        members.entry(key).or_default().push(n);
    }
    order
        .into_iter()
        .map(|key| {
            let ns = &members[&key];
            let newest = ns[0];
            let mut samples: Vec<String> = Vec::new();
            for n in ns {
                let a = id(&n["account"]);
                if !samples.contains(&a) && samples.len() < 8 {
                    samples.push(a);
                }
            }
            let mut g = json!({
                "group_key": key,
                "notifications_count": ns.len(),
                "type": newest["type"],
                "most_recent_notification_id": newest["id"],
                "page_max_id": newest["id"],
                "page_min_id": ns[ns.len() - 1]["id"],
                "latest_page_notification_at": newest["created_at"],
                "sample_account_ids": samples,
            });
            if newest["status"].is_object() {
                g["status_id"] = newest["status"]["id"].clone();
            }
            g
        })
        .collect()
}

#[tokio::test]
async fn groups_name_their_newest_notification_and_cite_exactly_their_accounts_and_statuses() {
    let app = spawn_app().await;
    let author = app.user("author").await;
    let p1 = id(&app.post_status(&author, "first", "public").await);
    let p2 = id(&app.post_status(&author, "second", "public").await);
    let fans = crowd(&app, "fan", 10).await;
    for fan in &fans {
        act(&app, fan, "favourite", &p1).await;
    }
    for fan in &fans[..2] {
        act(&app, fan, "reblog", &p1).await;
    }
    act(&app, &fans[2], "favourite", &p2).await;
    for fan in &fans[3..5] {
        app.follow(fan, &author).await;
    }
    let mention = id(&app.post_status(&fans[5], "@author hi", "public").await);

    let v1 = notes(&app, &author, "?limit=80").await;
    let body = groups(&app, &author, "").await;

    assert_eq!(v1.len(), 10 + 2 + 1 + 2 + 1);
    let follow_key = v1.iter().find(|n| n["type"] == "follow").unwrap()["group_key"].clone();
    assert_eq!(
        keys(&body),
        vec![
            format!("ungrouped-{}", id(&v1[0])),
            follow_key.as_str().unwrap().to_string(),
            format!("favourite-{p2}"),
            format!("reblog-{p1}"),
            format!("favourite-{p1}"),
        ]
    );
    assert_eq!(
        body["notification_groups"],
        Value::from(expected_groups(&v1, GROUPED))
    );
    let favs = group(&body, &format!("favourite-{p1}"));
    let eight_newest: Vec<String> = fans[2..].iter().rev().map(|f| f.id.clone()).collect();
    assert_eq!(
        (
            favs["notifications_count"].as_i64(),
            favs["status_id"].as_str(),
            favs["sample_account_ids"].clone()
        ),
        (Some(10), Some(p1.as_str()), json!(eight_newest))
    );
    let mentioned = group(&body, &format!("ungrouped-{}", id(&v1[0])));
    assert_eq!(
        (mentioned["type"].as_str(), mentioned["status_id"].as_str()),
        (Some("mention"), Some(mention.as_str()))
    );
    assert!(group(&body, follow_key.as_str().unwrap())
        .get("status_id")
        .is_none());

    // Every sampled account once, and nothing else; every cited status once.
    let all_fans = sorted(fans.iter().map(|f| f.id.clone()).collect());
    assert_eq!(sorted(ids(&body["accounts"])), all_fans);
    assert_eq!(
        sorted(ids(&body["statuses"])),
        sorted(vec![p1.clone(), p2.clone(), mention.clone()])
    );
    assert!(body.get("partial_accounts").is_none());
}

#[tokio::test]
async fn grouped_types_decide_what_groups_while_types_exclude_types_and_account_id_choose() {
    let app = spawn_app().await;
    let author = app.user("author").await;
    let post = id(&app.post_status(&author, "hello", "public").await);
    let [a, b, c] = <[User; 3]>::try_from(crowd(&app, "fan", 3).await)
        .ok()
        .unwrap();
    act(&app, &a, "favourite", &post).await;
    act(&app, &b, "favourite", &post).await;
    act(&app, &a, "reblog", &post).await;
    act(&app, &b, "reblog", &post).await;
    app.follow(&b, &author).await;
    app.follow(&c, &author).await;
    app.post_status(&c, "@author psst", "public").await;
    let v1 = notes(&app, &author, "").await;
    assert_eq!(v1.len(), 7);

    for (query, grouped) in [
        ("?grouped_types[]=favourite", &["favourite"][..]),
        (
            "?grouped_types[]=follow&grouped_types[]=reblog",
            &["follow", "reblog"][..],
        ),
        ("", GROUPED),
    ] {
        let body = groups(&app, &author, query).await;
        assert_eq!(
            body["notification_groups"],
            Value::from(expected_groups(&v1, grouped)),
            "{query}"
        );
    }
    let only_favourites = groups(&app, &author, "?grouped_types[]=favourite").await;
    assert_eq!(
        only_favourites["notification_groups"]
            .as_array()
            .unwrap()
            .len(),
        1 + 2 + 2 + 1
    );
    assert!(keys(&only_favourites)
        .iter()
        .filter(|k| *k != &format!("favourite-{post}"))
        .all(|k| k.starts_with("ungrouped-")));

    let pick = |kinds: &[&str]| -> Vec<Value> {
        v1.iter()
            .filter(|n| kinds.contains(&n["type"].as_str().unwrap()))
            .cloned()
            .collect()
    };
    let body = groups(&app, &author, "?types[]=follow&types[]=mention").await;
    assert_eq!(
        body["notification_groups"],
        Value::from(expected_groups(&pick(&["follow", "mention"]), GROUPED))
    );
    assert_eq!(ids(&body["accounts"]).len(), 2, "b and c only");
    let body = groups(
        &app,
        &author,
        "?exclude_types[]=favourite&exclude_types[]=mention",
    )
    .await;
    assert_eq!(
        body["notification_groups"],
        Value::from(expected_groups(&pick(&["reblog", "follow"]), GROUPED))
    );
    assert_eq!(
        sorted(ids(&body["statuses"])),
        vec![post.clone()],
        "follows cite no status"
    );

    let from_b: Vec<Value> = v1
        .iter()
        .filter(|n| n["account"]["id"] == b.id.as_str())
        .cloned()
        .collect();
    let body = groups(&app, &author, &format!("?account_id={}", b.id)).await;
    assert_eq!(
        body["notification_groups"],
        Value::from(expected_groups(&from_b, GROUPED))
    );
    assert_eq!(ids(&body["accounts"]), vec![b.id.clone()]);
}

/// Pages through all groups with `limit` groups a page: down from the top following
/// `next`, or up from the bottom (`min_id=0`) following `prev`. Returns each page's
/// `(key, count)` pairs.
async fn all_pages(
    app: &TestApp,
    user: &User,
    query: &str,
    limit: usize,
    up: bool,
) -> Vec<Vec<(String, i64)>> {
    let mut path = if up {
        format!("/api/v2/notifications?limit={limit}{query}&min_id=0")
    } else {
        format!("/api/v2/notifications?limit={limit}{query}")
    };
    let mut pages = Vec::new();
    for _ in 0..200 {
        let res = app.get(user, &path).await;
        let next = res.link_path(if up { "prev" } else { "next" });
        let body = res.ok();
        let page: Vec<(String, i64)> = body["notification_groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["group_key"].as_str().unwrap().to_string(),
                    g["notifications_count"].as_i64().unwrap(),
                )
            })
            .collect();
        if page.is_empty() {
            return pages;
        }
        assert!(page.len() <= limit, "{page:?}");
        let newest: Vec<i64> = body["notification_groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                g["most_recent_notification_id"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        assert!(
            newest.windows(2).all(|w| w[0] > w[1]),
            "newest first within a page"
        );
        pages.push(page);
        path = next.expect("a page with groups links onwards");
    }
    panic!("paging did not end");
}

/// Pages down and up with every limit in `limits`, and checks that each group's counts
/// over the pages add up to its notifications in v1, so each is counted exactly once.
async fn check_paging(app: &TestApp, user: &User, grouped: &[&str], limits: &[usize]) {
    let v1 = notes(app, user, "?limit=80").await;
    assert!(v1.len() < 80, "the whole list fits one v1 page");
    let mut want: Vec<(String, i64)> = Vec::new();
    for n in &v1 {
        let key = key_of(n, grouped);
        match want.iter_mut().find(|(k, _)| *k == key) {
            Some((_, count)) => *count += 1,
            None => want.push((key, 1)),
        }
    }
    want.sort();
    let query: String = if grouped == GROUPED {
        String::new()
    } else {
        grouped
            .iter()
            .map(|k| format!("&grouped_types[]={k}"))
            .collect()
    };
    for &limit in limits {
        for up in [false, true] {
            let pages = all_pages(app, user, &query, limit, up).await;
            let mut got: Vec<(String, i64)> = Vec::new();
            for (key, count) in pages.iter().flatten() {
                match got.iter_mut().find(|(k, _)| k == key) {
                    Some((_, c)) => *c += count,
                    None => got.push((key.clone(), *count)),
                }
            }
            got.sort();
            assert_eq!(
                got,
                want,
                "limit {limit}, {}: {pages:?}",
                if up { "up" } else { "down" }
            );
        }
    }
}

#[tokio::test]
async fn paging_through_groups_either_way_counts_every_notification_once() {
    let app = spawn_app().await;
    let author = app.user("author").await;
    let mut posts = Vec::new();
    for i in 0..3 {
        posts.push(id(&app
            .post_status(&author, &format!("post {i}"), "public")
            .await));
    }
    let fans = crowd(&app, "fan", 9).await;
    // Interleaved, so that groups come back on later pages.
    for (i, fan) in fans.iter().enumerate() {
        for (j, post) in posts.iter().enumerate() {
            let what = ["favourite", "reblog"][(i + j) % 2];
            act(&app, fan, what, post).await;
        }
        if i % 3 == 0 {
            app.post_status(fan, "@author hi", "public").await;
        }
        if i % 4 == 1 {
            app.follow(fan, &author).await;
        }
    }
    check_paging(&app, &author, GROUPED, &[1, 2, 3, 5, 40]).await;
    check_paging(&app, &author, &["favourite"], &[2, 7]).await;
}

#[tokio::test]
async fn the_v1_list_pages_both_ways_each_notification_exactly_once() {
    let app = spawn_app().await;
    let author = app.user("author").await;
    let post = id(&app.post_status(&author, "hello", "public").await);
    for fan in &crowd(&app, "fan", 7).await {
        act(&app, fan, "favourite", &post).await;
    }
    let all: Vec<String> = notes(&app, &author, "").await.iter().map(id).collect();
    assert_eq!(all.len(), 7);
    for limit in [1, 3, 7] {
        let down = app
            .walk(
                &author,
                &format!("/api/v1/notifications?limit={limit}"),
                "next",
            )
            .await;
        assert_eq!(
            down.concat().iter().map(id).collect::<Vec<_>>(),
            all,
            "limit {limit}, down"
        );
        let mut up = app
            .walk(
                &author,
                &format!("/api/v1/notifications?limit={limit}&min_id=0"),
                "prev",
            )
            .await;
        up.reverse();
        assert_eq!(
            up.concat().iter().map(id).collect::<Vec<_>>(),
            all,
            "limit {limit}, up"
        );
    }
    // `min_id` gives the oldest above it, `since_id` the newest; both newest first.
    let above = |param: &str| format!("?limit=2&{param}={}", all[6]);
    let ids_of = |list: Vec<Value>| list.iter().map(id).collect::<Vec<_>>();
    assert_eq!(
        ids_of(notes(&app, &author, &above("min_id")).await),
        vec![all[4].clone(), all[5].clone()]
    );
    assert_eq!(
        ids_of(notes(&app, &author, &above("since_id")).await),
        vec![all[0].clone(), all[1].clone()]
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// One act towards the author: `(fan, what, post)` with what in favourite, reblog,
    /// follow, mention.
    type Act = (usize, usize, usize);

    async fn run(acts: Vec<Act>, limit: usize, only_favourites: bool) {
        let app = spawn_app().await;
        let author = app.user("author").await;
        let posts = [
            id(&app.post_status(&author, "one", "public").await),
            id(&app.post_status(&author, "two", "public").await),
        ];
        let fans = crowd(&app, "fan", 4).await;
        for (fan, what, post) in acts {
            let fan = &fans[fan];
            match what {
                0 => act(&app, fan, "favourite", &posts[post]).await,
                1 => act(&app, fan, "reblog", &posts[post]).await,
                2 => app.follow(fan, &author).await,
                _ => {
                    app.post_status(fan, "@author hey", "public").await;
                }
            }
        }
        let grouped: &[&str] = if only_favourites {
            &["favourite"]
        } else {
            GROUPED
        };
        check_paging(&app, &author, grouped, &[limit]).await;
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        /// Whatever the mix of notifications and the page size, paging through the groups
        /// down (`next`) or up (`prev`) counts every notification exactly once.
        #[test]
        fn paging_counts_every_notification_once(
            acts in proptest::collection::vec((0usize..4, 0usize..4, 0usize..2), 1..24),
            limit in 1usize..6,
            only_favourites in any::<bool>(),
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(run(acts, limit, only_favourites));
        }
    }
}

#[tokio::test]
async fn partial_avatars_give_each_groups_newest_account_in_full_and_the_rest_in_short() {
    let app = spawn_app().await;
    let author = app.user("author").await;
    let post = id(&app.post_status(&author, "hello", "public").await);
    let fans = crowd(&app, "fan", 6).await;
    for fan in &fans[..5] {
        act(&app, fan, "favourite", &post).await;
    }
    app.follow(&fans[2], &author).await;
    app.follow(&fans[5], &author).await;
    act(&app, &fans[0], "reblog", &post).await;

    let body = groups(&app, &author, "?expand_accounts=partial_avatars").await;
    assert_eq!(
        sorted(ids(&body["accounts"])),
        sorted(vec![
            fans[4].id.clone(),
            fans[5].id.clone(),
            fans[0].id.clone()
        ]),
        "the newest account of each group, in full"
    );
    let partial = &body["partial_accounts"];
    assert_eq!(
        sorted(ids(partial)),
        sorted(vec![
            fans[1].id.clone(),
            fans[2].id.clone(),
            fans[3].id.clone()
        ]),
        "the other samples, in short, and no account twice"
    );
    let mut fields: Vec<&str> = partial[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "acct",
            "avatar",
            "avatar_static",
            "bot",
            "id",
            "locked",
            "url"
        ]
    );
    let fan3 = partial
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == fans[3].id.as_str())
        .unwrap();
    assert_eq!(fan3["acct"], "fan3");

    let full = groups(&app, &author, "?expand_accounts=full").await;
    assert_eq!(
        sorted(ids(&full["accounts"])),
        sorted(fans.iter().map(|f| f.id.clone()).collect())
    );
    assert!(full.get("partial_accounts").is_none());
    let bad = app
        .get(&author, "/api/v2/notifications?expand_accounts=some")
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["error"].is_string(), "{}", bad.body);
}

#[tokio::test]
async fn a_group_shows_in_full_lists_its_accounts_and_goes_when_dismissed() {
    let app = spawn_app().await;
    let author = app.user("author").await;
    let post = id(&app.post_status(&author, "like me", "public").await);
    let fans = crowd(&app, "fan", 12).await;
    for fan in &fans {
        act(&app, fan, "favourite", &post).await;
    }
    app.post_status(&fans[0], "@author and a word", "public")
        .await;
    let key = format!("favourite-{post}");

    // A page of one group counts only what lies on it; the group itself counts all.
    let top = groups(&app, &author, "?limit=1&types[]=favourite").await;
    assert_eq!(group(&top, &key)["notifications_count"], 1);
    let whole = app
        .get(&author, &format!("/api/v2/notifications/{key}"))
        .await
        .ok();
    let v1 = notes(&app, &author, "?types[]=favourite").await;
    assert_eq!(
        whole["notification_groups"],
        Value::from(expected_groups(&v1, GROUPED))
    );
    assert_eq!(whole["notification_groups"][0]["notifications_count"], 12);
    assert_eq!(ids(&whole["statuses"]), vec![post.clone()]);
    assert_eq!(
        sorted(ids(&whole["accounts"])),
        sorted(fans[4..].iter().map(|f| f.id.clone()).collect())
    );

    let newest_first: Vec<String> = fans.iter().rev().map(|f| f.id.clone()).collect();
    let accounts = app
        .get(&author, &format!("/api/v2/notifications/{key}/accounts"))
        .await
        .ok();
    assert_eq!(ids(&accounts), newest_first);
    let five = app
        .get(
            &author,
            &format!("/api/v2/notifications/{key}/accounts?limit=5"),
        )
        .await
        .ok();
    assert_eq!(ids(&five), newest_first[..5].to_vec());

    let mention = notes(&app, &author, "?types[]=mention").await;
    let single = format!("ungrouped-{}", id(&mention[0]));
    let one = app
        .get(&author, &format!("/api/v2/notifications/{single}"))
        .await
        .ok();
    assert_eq!(
        one["notification_groups"],
        Value::from(expected_groups(&mention, GROUPED))
    );

    // Someone else's key is not found, and dismissing it there leaves it here.
    let theirs = app
        .post(
            &fans[1],
            &format!("/api/v2/notifications/{key}/dismiss"),
            json!({}),
        )
        .await;
    assert_eq!(theirs.status, 404);
    assert_eq!(
        app.get(&fans[1], &format!("/api/v2/notifications/{key}"))
            .await
            .status,
        404
    );
    let dismissed = app
        .post(
            &author,
            &format!("/api/v2/notifications/{key}/dismiss"),
            json!({}),
        )
        .await;
    assert_eq!(
        (dismissed.status.as_u16(), dismissed.body),
        (200, json!({}))
    );
    let gone = app
        .get(&author, &format!("/api/v2/notifications/{key}"))
        .await;
    assert_eq!(
        (gone.status.as_u16(), gone.body),
        (404, json!({"error": "Record not found"}))
    );
    assert_eq!(
        app.get(&author, &format!("/api/v2/notifications/{key}/accounts"))
            .await
            .status,
        404
    );
    assert_eq!(keys(&groups(&app, &author, "").await), vec![single.clone()]);
    assert!(notes(&app, &author, "?types[]=favourite").await.is_empty());
    let unknown = app
        .post(
            &author,
            "/api/v2/notifications/favourite-1/dismiss",
            json!({}),
        )
        .await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.body),
        (404, json!({"error": "Record not found"}))
    );
}

async fn unread(app: &TestApp, user: &User, version: u8, query: &str) -> i64 {
    app.get(
        user,
        &format!("/api/v{version}/notifications/unread_count{query}"),
    )
    .await
    .ok()["count"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn the_grouped_unread_count_counts_groups_with_news_since_the_marker() {
    let app = spawn_app().await;
    let author = app.user("author").await;
    let post = id(&app.post_status(&author, "hello", "public").await);
    let fans = crowd(&app, "fan", 7).await;
    for fan in &fans[..3] {
        act(&app, fan, "favourite", &post).await;
    }
    app.follow(&fans[3], &author).await;
    app.follow(&fans[4], &author).await;
    app.post_status(&fans[5], "@author hi", "public").await;
    let v1 = notes(&app, &author, "").await;

    assert_eq!(unread(&app, &author, 2, "").await, 3);
    assert_eq!(unread(&app, &author, 1, "").await, 6);
    assert_eq!(
        unread(&app, &author, 2, "?grouped_types[]=favourite").await,
        1 + 2 + 1
    );
    assert_eq!(unread(&app, &author, 2, "?types[]=follow").await, 1);
    assert_eq!(unread(&app, &author, 2, "?exclude_types[]=follow").await, 2);
    assert_eq!(
        unread(&app, &author, 2, &format!("?account_id={}", fans[0].id)).await,
        1
    );
    assert_eq!(unread(&app, &author, 2, "?limit=2").await, 2, "capped");

    // The marker on the third favourite: the follows and the mention are news.
    let third_favourite = &v1[3];
    assert_eq!(third_favourite["account"]["id"], fans[2].id.as_str());
    let mark = |at: String| {
        let app = &app;
        let author = &author;
        async move {
            app.post(
                author,
                "/api/v1/markers",
                json!({"notifications": {"last_read_id": at}}),
            )
            .await
            .ok();
        }
    };
    mark(id(third_favourite)).await;
    assert_eq!(unread(&app, &author, 2, "").await, 2);
    assert_eq!(unread(&app, &author, 1, "").await, 3);
    // On the first follow: the second makes its group news again.
    mark(id(&v1[2])).await;
    assert_eq!(unread(&app, &author, 2, "").await, 2);
    assert_eq!(unread(&app, &author, 1, "").await, 2);
    mark(id(&v1[0])).await;
    assert_eq!(unread(&app, &author, 2, "").await, 0);
    assert_eq!(unread(&app, &author, 1, "").await, 0);
    act(&app, &fans[6], "favourite", &post).await;
    assert_eq!(unread(&app, &author, 2, "").await, 1);
    assert_eq!(unread(&app, &author, 1, "").await, 1);
}

#[tokio::test]
async fn a_blocked_accounts_notifications_leave_every_group_count_and_sample() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let post = id(&app.post_status(&alice, "hello", "public").await);
    let [bob, carol, dave] = <[User; 3]>::try_from(crowd(&app, "fan", 3).await)
        .ok()
        .unwrap();
    act(&app, &carol, "favourite", &post).await;
    act(&app, &bob, "favourite", &post).await;
    act(&app, &bob, "reblog", &post).await;
    app.follow(&dave, &alice).await;
    app.follow(&bob, &alice).await;
    app.post_status(&bob, "@alice hi", "public").await;
    assert_eq!(unread(&app, &alice, 2, "").await, 4);

    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/block", bob.id),
        json!({}),
    )
    .await
    .ok();

    let v1 = notes(&app, &alice, "").await;
    assert_eq!(
        v1.iter().map(|n| id(&n["account"])).collect::<Vec<_>>(),
        vec![dave.id.clone(), carol.id.clone()],
        "v1 keeps only carol's favourite and dave's follow"
    );
    let body = groups(&app, &alice, "").await;
    assert_eq!(
        body["notification_groups"],
        Value::from(expected_groups(&v1, GROUPED))
    );
    assert_eq!(
        sorted(ids(&body["accounts"])),
        sorted(vec![carol.id.clone(), dave.id.clone()])
    );
    let favs = app
        .get(&alice, &format!("/api/v2/notifications/favourite-{post}"))
        .await
        .ok();
    assert_eq!(
        (
            favs["notification_groups"][0]["notifications_count"].as_i64(),
            favs["notification_groups"][0]["sample_account_ids"].clone()
        ),
        (Some(1), json!([carol.id]))
    );
    let accounts = app
        .get(
            &alice,
            &format!("/api/v2/notifications/favourite-{post}/accounts"),
        )
        .await
        .ok();
    assert_eq!(ids(&accounts), vec![carol.id.clone()]);
    assert_eq!(
        app.get(&alice, &format!("/api/v2/notifications/reblog-{post}"))
            .await
            .status,
        404
    );
    assert_eq!(unread(&app, &alice, 2, "").await, 2);
    assert_eq!(unread(&app, &alice, 1, "").await, 2);
}

#[tokio::test]
async fn a_group_whose_status_the_recipient_can_no_longer_see_is_left_out() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.post(
        &bob,
        &format!("/api/v1/accounts/{}/follow", alice.id),
        json!({"notify": true}),
    )
    .await
    .ok();
    let secret = id(&app.post_status(&alice, "for followers", "private").await);
    let gone = id(&app.post_status(&carol, "@bob soon deleted", "public").await);
    app.post_status(&carol, "@bob stays", "public").await;
    let before = groups(&app, &bob, "").await;
    assert_eq!(before["notification_groups"].as_array().unwrap().len(), 3);
    assert!(ids(&before["statuses"]).contains(&secret));

    app.post(
        &bob,
        &format!("/api/v1/accounts/{}/unfollow", alice.id),
        json!({}),
    )
    .await
    .ok();
    app.request(
        Method::DELETE,
        &format!("/api/v1/statuses/{gone}"),
        Some(&carol.token),
        None,
    )
    .await
    .ok();

    let v1 = notes(&app, &bob, "").await;
    assert_eq!(v1.len(), 1, "{v1:?}");
    let after = groups(&app, &bob, "").await;
    assert_eq!(
        after["notification_groups"],
        Value::from(expected_groups(&v1, GROUPED))
    );
    assert_eq!(ids(&after["statuses"]), vec![id(&v1[0]["status"])]);
    assert_eq!(ids(&after["accounts"]), vec![carol.id.clone()]);
    let status_key = before["notification_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["status_id"] == secret.as_str())
        .unwrap()["group_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get(&bob, &format!("/api/v2/notifications/{status_key}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn filtered_notifications_group_with_their_accounts_only_when_asked_for() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let post = id(&app.post_status(&alice, "hello", "public").await);
    let fans = crowd(&app, "fan", 4).await;
    let friend = &fans[3];
    app.follow(&alice, friend).await;
    patch_policy(&app, &alice, json!({"for_not_following": "filter"})).await;
    for fan in &fans {
        act(&app, fan, "favourite", &post).await;
    }

    let accepted = groups(&app, &alice, "").await;
    assert_eq!(
        accepted["notification_groups"],
        Value::from(expected_groups(&notes(&app, &alice, "").await, GROUPED))
    );
    assert_eq!(
        accepted["notification_groups"][0]["sample_account_ids"],
        json!([friend.id])
    );

    let all = groups(&app, &alice, "?include_filtered=true").await;
    let v1_all = notes(&app, &alice, "?include_filtered=true").await;
    assert_eq!(v1_all.len(), 4);
    assert_eq!(
        all["notification_groups"],
        Value::from(expected_groups(&v1_all, GROUPED))
    );
    assert_eq!(
        sorted(ids(&all["accounts"])),
        sorted(fans.iter().map(|f| f.id.clone()).collect())
    );
    assert_eq!(unread(&app, &alice, 2, "").await, 1);
    assert_eq!(unread(&app, &alice, 1, "").await, 1);
}
