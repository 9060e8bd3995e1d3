//! The inbox of Mastodon 4.3: grouped notifications (v2), the notification policy with its
//! requests, and direct conversations; and the burst of favourites and reblogs at reduced
//! scale, counted exactly.

use serde_json::{json, Value};

use crate::helpers::{crowd, spawn_app, TestApp, User};

async fn conversations(app: &TestApp, user: &User) -> Vec<Value> {
    app.get(user, "/api/v1/conversations")
        .await
        .ok()
        .as_array()
        .unwrap()
        .clone()
}

async fn groups(app: &TestApp, user: &User, query: &str) -> Value {
    app.get(user, &format!("/api/v2/notifications{query}"))
        .await
        .ok()
}

fn group<'a>(body: &'a Value, key_prefix: &str) -> &'a Value {
    body["notification_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group_key"].as_str().unwrap().starts_with(key_prefix))
        .unwrap_or_else(|| panic!("a {key_prefix} group in {body}"))
}

#[tokio::test]
async fn favourites_reblogs_and_follows_group_and_mentions_stand_alone() {
    let app = spawn_app().await;
    let author = app.user("author").await;
    let post = app.post_status(&author, "group me", "public").await;
    let id = post["id"].as_str().unwrap();
    let fans = crowd(&app, "fan", 12).await;
    for fan in &fans {
        app.post(fan, &format!("/api/v1/statuses/{id}/favourite"), json!({}))
            .await
            .ok();
        app.post(fan, &format!("/api/v1/statuses/{id}/reblog"), json!({}))
            .await
            .ok();
        app.follow(fan, &author).await;
    }
    app.follow(&author, &fans[0]).await;
    app.post_status(&fans[0], "@author hello", "public").await;

    let body = groups(&app, &author, "").await;
    assert_eq!(
        body["notification_groups"].as_array().unwrap().len(),
        4,
        "{body}"
    );
    let favs = group(&body, &format!("favourite-{id}"));
    assert_eq!(favs["notifications_count"], 12);
    assert_eq!(favs["type"], "favourite");
    assert_eq!(favs["status_id"], json!(id));
    let samples: Vec<&str> = favs["sample_account_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let newest_first: Vec<&str> = fans.iter().rev().take(8).map(|f| f.id.as_str()).collect();
    assert_eq!(samples, newest_first, "eight samples, most recent first");
    assert!(favs["page_min_id"].as_str().unwrap() < favs["page_max_id"].as_str().unwrap());
    assert_eq!(favs["most_recent_notification_id"], favs["page_max_id"]);
    assert_eq!(
        group(&body, &format!("reblog-{id}"))["notifications_count"],
        12
    );
    assert_eq!(group(&body, "follow-")["notifications_count"], 12);
    let mention = group(&body, "ungrouped-");
    assert_eq!(
        (
            mention["type"].as_str(),
            mention["notifications_count"].as_i64()
        ),
        (Some("mention"), Some(1))
    );
    let accounts: Vec<&str> = body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    for sample in &samples {
        assert!(
            accounts.contains(sample),
            "every sampled account is included"
        );
    }
    let statuses: Vec<&Value> = body["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert!(statuses.contains(&&json!(id)));

    // Only favourites group: each follow and reblog then stands alone.
    let fav_only = groups(&app, &author, "?grouped_types[]=favourite&limit=80").await;
    assert_eq!(
        fav_only["notification_groups"].as_array().unwrap().len(),
        1 + 12 + 12 + 1
    );
    let only_follows = groups(&app, &author, "?types[]=follow").await;
    assert_eq!(
        only_follows["notification_groups"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let no_follows = groups(
        &app,
        &author,
        "?exclude_types[]=follow&exclude_types[]=mention",
    )
    .await;
    assert_eq!(
        no_follows["notification_groups"].as_array().unwrap().len(),
        2
    );
    let from_one = groups(&app, &author, &format!("?account_id={}", fans[3].id)).await;
    assert!(from_one["notification_groups"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["notifications_count"] == 1));

    let partial = groups(&app, &author, "?expand_accounts=partial_avatars").await;
    let full: Vec<&str> = partial["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    let short = partial["partial_accounts"]
        .as_array()
        .expect("partial accounts");
    assert!(
        full.contains(&fans[11].id.as_str()),
        "the latest account of each group in full"
    );
    assert!(
        !short.is_empty()
            && short
                .iter()
                .all(|a| a.get("note").is_none() && a["avatar"].is_string())
    );
    assert_eq!(
        app.get(&author, "/api/v2/notifications?expand_accounts=some")
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn paging_through_groups_counts_every_notification_once() {
    let app = spawn_app().await;
    let author = app.user("author").await;
    let mut posts = Vec::new();
    for i in 0..3 {
        posts.push(
            app.post_status(&author, &format!("post {i}"), "public")
                .await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let fans = crowd(&app, "fan", 9).await;
    let mut total = 0;
    // Interleave so that groups reappear on later pages.
    for (i, fan) in fans.iter().enumerate() {
        for (j, post) in posts.iter().enumerate() {
            let what = if (i + j) % 2 == 0 {
                "favourite"
            } else {
                "reblog"
            };
            app.post(fan, &format!("/api/v1/statuses/{post}/{what}"), json!({}))
                .await
                .ok();
            total += 1;
        }
        if i % 3 == 0 {
            app.post_status(fan, "@author hi", "public").await;
            total += 1;
        }
    }
    for limit in [1, 2, 3, 5, 40] {
        let mut counted = 0;
        let mut path = format!("/api/v2/notifications?limit={limit}");
        for _ in 0..200 {
            let res = app.get(&author, &path).await;
            let link = res.link();
            let page = res.ok();
            let groups = page["notification_groups"].as_array().unwrap().clone();
            if groups.is_empty() {
                break;
            }
            assert!(groups.len() <= limit);
            counted += groups
                .iter()
                .map(|g| g["notifications_count"].as_i64().unwrap())
                .sum::<i64>();
            let next = link
                .split(", ")
                .find(|l| l.contains("rel=\"next\""))
                .and_then(|l| l.strip_prefix('<')?.split('>').next())
                .expect("a next link");
            path = next
                .split_once(&app.addr.to_string())
                .unwrap()
                .1
                .to_string();
        }
        assert_eq!(counted, total, "limit {limit}");
    }
}

#[tokio::test]
async fn one_group_its_accounts_dismissal_and_the_unread_count() {
    let app = spawn_app().await;
    let author = app.user("author").await;
    let post = app.post_status(&author, "like me", "public").await;
    let id = post["id"].as_str().unwrap();
    let fans = crowd(&app, "fan", 10).await;
    for fan in &fans {
        app.post(fan, &format!("/api/v1/statuses/{id}/favourite"), json!({}))
            .await
            .ok();
    }
    let key = format!("favourite-{id}");
    let one = app
        .get(&author, &format!("/api/v2/notifications/{key}"))
        .await
        .ok();
    assert_eq!(one["notification_groups"][0]["notifications_count"], 10);
    let accounts = app
        .get(&author, &format!("/api/v2/notifications/{key}/accounts"))
        .await
        .ok();
    let ids: Vec<&str> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = fans.iter().rev().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, expected);
    let unread = app
        .get(&author, "/api/v2/notifications/unread_count")
        .await
        .ok();
    assert_eq!(unread["count"], 1, "one group is unread");
    let newest = one["notification_groups"][0]["most_recent_notification_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &author,
        "/api/v1/markers",
        json!({"notifications": {"last_read_id": newest}}),
    )
    .await
    .ok();
    assert_eq!(
        app.get(&author, "/api/v2/notifications/unread_count")
            .await
            .ok()["count"],
        0
    );
    app.post(
        &fans[0],
        "/api/v1/statuses",
        json!({"status": "@author news"}),
    )
    .await
    .ok();
    assert_eq!(
        app.get(&author, "/api/v2/notifications/unread_count")
            .await
            .ok()["count"],
        1
    );

    app.post(
        &author,
        &format!("/api/v2/notifications/{key}/dismiss"),
        json!({}),
    )
    .await
    .ok();
    let gone = app
        .get(&author, &format!("/api/v2/notifications/{key}"))
        .await;
    assert_eq!(gone.status, 404);
    assert!(gone.body["error"].is_string());
    assert_eq!(
        app.post(&author, "/api/v2/notifications/nope/dismiss", json!({}))
            .await
            .status,
        404
    );
    // A stranger's groups are not one's own.
    assert_eq!(
        app.get(&fans[1], &format!("/api/v2/notifications/{key}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn the_policy_filters_into_requests_that_can_be_accepted_or_dismissed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let friend = app.user("friend").await;
    let stranger = app.user("stranger").await;
    let other = app.user("other").await;
    let dropper = app.user("dropper").await;
    app.follow(&alice, &friend).await;

    let policy = app.get(&alice, "/api/v2/notifications/policy").await.ok();
    for (k, v) in [
        ("for_not_following", "accept"),
        ("for_not_followers", "accept"),
        ("for_new_accounts", "accept"),
        ("for_private_mentions", "filter"),
        ("for_limited_accounts", "filter"),
    ] {
        assert_eq!(policy[k], v, "{k}");
    }
    assert_eq!(
        policy["summary"],
        json!({"pending_requests_count": 0, "pending_notifications_count": 0})
    );
    let bad = app
        .request(
            reqwest::Method::PATCH,
            "/api/v2/notifications/policy",
            Some(&alice.token),
            Some(json!({"for_not_following": "maybe"})),
        )
        .await;
    assert_eq!(bad.status, 422);
    let set = app
        .request(
            reqwest::Method::PATCH,
            "/api/v2/notifications/policy",
            Some(&alice.token),
            Some(json!({"for_not_following": "filter"})),
        )
        .await
        .ok();
    assert_eq!(
        (
            set["for_not_following"].as_str(),
            set["for_private_mentions"].as_str()
        ),
        (Some("filter"), Some("filter"))
    );

    app.post_status(&friend, "@alice from a friend", "public")
        .await;
    let first = app
        .post_status(&stranger, "@alice from a stranger", "public")
        .await;
    let last = app.post_status(&stranger, "@alice again", "public").await;
    app.post_status(&other, "@alice me too", "public").await;
    let listed = app.get(&alice, "/api/v1/notifications").await.ok();
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "only the friend's mention: {listed}"
    );
    let v2 = groups(&app, &alice, "").await;
    assert_eq!(v2["notification_groups"].as_array().unwrap().len(), 1);
    let all = app
        .get(&alice, "/api/v1/notifications?include_filtered=true")
        .await
        .ok();
    assert_eq!(all.as_array().unwrap().len(), 4);

    let requests = app.get(&alice, "/api/v1/notifications/requests").await.ok();
    let requests = requests.as_array().unwrap();
    assert_eq!(requests.len(), 2);
    let from_stranger = requests
        .iter()
        .find(|r| r["account"]["id"] == json!(stranger.id))
        .unwrap();
    assert_eq!(
        from_stranger["notifications_count"], "2",
        "a string, as in Mastodon"
    );
    assert_eq!(from_stranger["last_status"]["id"], last["id"]);
    let summary = app.get(&alice, "/api/v2/notifications/policy").await.ok()["summary"].clone();
    assert_eq!(
        summary,
        json!({"pending_requests_count": 2, "pending_notifications_count": 3})
    );
    let rid = from_stranger["id"].as_str().unwrap();
    assert_eq!(
        app.get(&alice, &format!("/api/v1/notifications/requests/{rid}"))
            .await
            .ok()["id"],
        json!(rid)
    );

    app.post(
        &alice,
        &format!("/api/v1/notifications/requests/{rid}/accept"),
        json!({}),
    )
    .await
    .ok();
    let listed = app.get(&alice, "/api/v1/notifications").await.ok();
    let ids: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["status"]["id"])
        .collect();
    assert!(
        ids.contains(&&first["id"]) && ids.contains(&&last["id"]),
        "accepted: {listed}"
    );
    app.post_status(&stranger, "@alice after acceptance", "public")
        .await;
    assert_eq!(
        app.get(&alice, "/api/v1/notifications")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        app.get(&alice, &format!("/api/v1/notifications/requests/{rid}"))
            .await
            .status,
        404
    );

    let rest = app.get(&alice, "/api/v1/notifications/requests").await.ok();
    let other_id = rest[0]["id"].as_str().unwrap().to_string();
    app.post(
        &alice,
        "/api/v1/notifications/requests/dismiss",
        json!({"id": [other_id]}),
    )
    .await
    .ok();
    assert!(app
        .get(&alice, "/api/v1/notifications/requests")
        .await
        .ok()
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        app.get(&alice, "/api/v1/notifications?include_filtered=true")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        app.post(&alice, "/api/v1/notifications/requests/accept", json!({}))
            .await
            .status,
        422
    );
    assert_eq!(
        app.get(&alice, "/api/v1/notifications/requests/merged")
            .await
            .ok()["merged"],
        true
    );

    app.request(
        reqwest::Method::PATCH,
        "/api/v2/notifications/policy",
        Some(&alice.token),
        Some(json!({"for_not_following": "drop"})),
    )
    .await
    .ok();
    app.post_status(&dropper, "@alice into the void", "public")
        .await;
    assert_eq!(
        app.get(&alice, "/api/v1/notifications?include_filtered=true")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert!(app
        .get(&alice, "/api/v1/notifications/requests")
        .await
        .ok()
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn private_mentions_from_strangers_are_filtered_by_default_unless_they_answer() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let opener = app
        .post_status(&alice, "@bob what do you think?", "direct")
        .await;
    app.post_status(&bob, "@alice unsolicited", "direct").await;
    app.post(
        &bob,
        "/api/v1/statuses",
        json!({"status": "@alice here is my answer", "visibility": "direct", "in_reply_to_id": opener["id"]}),
    )
    .await
    .ok();
    let listed = app.get(&alice, "/api/v1/notifications").await.ok();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert!(listed[0]["status"]["content"]
        .as_str()
        .unwrap()
        .contains("my answer"));
}

#[tokio::test]
async fn new_accounts_can_be_filtered() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let newcomer = app.user("newcomer").await;
    let veteran = crowd(&app, "veteran", 1).await.pop().unwrap();
    app.request(
        reqwest::Method::PATCH,
        "/api/v2/notifications/policy",
        Some(&alice.token),
        Some(json!({"for_new_accounts": "filter"})),
    )
    .await
    .ok();
    app.post_status(&newcomer, "@alice hi from a new account", "public")
        .await;
    app.post_status(&veteran, "@alice hi from an old account", "public")
        .await;
    let listed = app.get(&alice, "/api/v1/notifications").await.ok();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["account"]["id"], json!(veteran.id));
}

#[tokio::test]
async fn direct_messages_make_conversations_for_each_participant() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let eve = app.user("eve").await;
    app.post(
        &carol,
        &format!("/api/v1/accounts/{}/block", alice.id),
        json!({}),
    )
    .await
    .ok();
    let first = app
        .post_status(&alice, "@bob @carol secret plans", "direct")
        .await;
    let mine = conversations(&app, &alice).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(
        mine[0]["unread"], false,
        "the author has read its own message"
    );
    let mut others: Vec<&str> = mine[0]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    others.sort();
    let mut expected = vec![bob.id.as_str(), carol.id.as_str()];
    expected.sort();
    assert_eq!(others, expected);
    let bobs = conversations(&app, &bob).await;
    assert_eq!((bobs.len(), bobs[0]["unread"].as_bool()), (1, Some(true)));
    assert_eq!(bobs[0]["last_status"]["id"], first["id"]);
    assert!(
        conversations(&app, &carol).await.is_empty(),
        "a participant who blocks the author gets nothing"
    );
    assert!(conversations(&app, &eve).await.is_empty());

    let reply = app
        .post(&bob, "/api/v1/statuses", json!({"status": "@alice @carol count me in", "visibility": "direct", "in_reply_to_id": first["id"]}))
        .await
        .ok();
    let mine = conversations(&app, &alice).await;
    assert_eq!(mine.len(), 1, "still one conversation");
    assert_eq!(
        (
            mine[0]["last_status"]["id"].clone(),
            mine[0]["unread"].as_bool()
        ),
        (reply["id"].clone(), Some(true))
    );
    let cid = mine[0]["id"].as_str().unwrap().to_string();
    let read = app
        .post(
            &alice,
            &format!("/api/v1/conversations/{cid}/read"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(read["unread"], false);
    assert_eq!(
        app.post(
            &eve,
            &format!("/api/v1/conversations/{cid}/read"),
            json!({})
        )
        .await
        .status,
        404
    );
    let removed = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/conversations/{cid}"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(removed.status, 200);
    assert!(conversations(&app, &alice).await.is_empty());
    app.post_status(&bob, "@alice @carol are you there?", "direct")
        .await;
    assert_eq!(
        conversations(&app, &alice).await.len(),
        1,
        "a new message brings it back"
    );
    assert_eq!(
        app.request(
            reqwest::Method::DELETE,
            "/api/v1/conversations/12345",
            Some(&alice.token),
            None
        )
        .await
        .status,
        404
    );

    // Paging: one conversation per set of participants, newest activity first.
    for name in ["p1", "p2", "p3"] {
        let p = app.user(name).await;
        app.post_status(&alice, &format!("@{} hello", p.username), "direct")
            .await;
    }
    let page = app.get(&alice, "/api/v1/conversations?limit=2").await;
    let link = page.link();
    assert_eq!(page.body.as_array().unwrap().len(), 2);
    assert!(link.contains("max_id="), "{link}");
}

#[tokio::test]
async fn a_burst_of_two_thousand_favourites_and_reblogs_makes_two_exact_groups() {
    let app = spawn_app().await;
    let author = app.user("author").await;
    let post = app
        .post_status(&author, "the one that goes viral", "public")
        .await;
    let id = post["id"].as_str().unwrap().to_string();
    let fans = crowd(&app, "fan", 2_000).await;
    let calls: Vec<(String, String)> = fans
        .iter()
        .flat_map(|f| {
            ["favourite", "reblog"]
                .map(|what| (f.token.clone(), format!("/api/v1/statuses/{id}/{what}")))
        })
        .collect();
    for chunk in calls.chunks(64) {
        let answers = futures_util::future::join_all(chunk.iter().map(|(token, path)| {
            app.request(reqwest::Method::POST, path, Some(token), Some(json!({})))
        }))
        .await;
        for a in answers {
            assert!(a.status.is_success(), "{}", a.body);
        }
    }
    let body = groups(&app, &author, "").await;
    let counts: Vec<(String, i64)> = body["notification_groups"]
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
    assert_eq!(counts.len(), 2, "{counts:?}");
    for (key, count) in &counts {
        assert!(
            key == &format!("favourite-{id}") || key == &format!("reblog-{id}"),
            "{key}"
        );
        assert_eq!(*count, 2_000, "{key}");
    }
    let status = app
        .get(&author, &format!("/api/v1/statuses/{id}"))
        .await
        .ok();
    assert_eq!(
        (
            status["favourites_count"].as_i64(),
            status["reblogs_count"].as_i64()
        ),
        (Some(2_000), Some(2_000))
    );
}
