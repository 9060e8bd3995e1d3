//! The notification policy of Mastodon 4.3 and its requests: who is accepted, filtered
//! into a request, or dropped; and what accepting or dismissing a request does.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{crowd, spawn_app, TestApp, User};

async fn patch_policy(app: &TestApp, user: &User, body: Value) -> Value {
    app.request(
        Method::PATCH,
        "/api/v2/notifications/policy",
        Some(&user.token),
        Some(body),
    )
    .await
    .ok()
}

async fn policy(app: &TestApp, user: &User) -> Value {
    app.get(user, "/api/v2/notifications/policy").await.ok()
}

async fn notes(app: &TestApp, user: &User, query: &str) -> Vec<Value> {
    app.drain().await;
    app.get(user, &format!("/api/v1/notifications{query}"))
        .await
        .ok()
        .as_array()
        .unwrap()
        .clone()
}

async fn requests(app: &TestApp, user: &User) -> Vec<Value> {
    app.get(user, "/api/v1/notifications/requests")
        .await
        .ok()
        .as_array()
        .unwrap()
        .clone()
}

/// The statuses that v1 notifications are about, newest first.
fn statuses(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|n| n["status"]["id"].as_str().unwrap().to_string())
        .collect()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn say(app: &TestApp, user: &User, text: &str, visibility: &str) -> String {
    id(&app.post_status(user, text, visibility).await)
}

async fn reply(app: &TestApp, user: &User, text: &str, to: &str) -> String {
    id(&app
        .post(
            user,
            "/api/v1/statuses",
            json!({"status": text, "visibility": "direct", "in_reply_to_id": to}),
        )
        .await
        .ok())
}

fn summary(requests: i64, notifications: i64) -> Value {
    json!({"pending_requests_count": requests, "pending_notifications_count": notifications})
}

#[tokio::test]
async fn the_policy_starts_at_mastodons_defaults_and_refuses_unknown_values() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let defaults = json!({
        "for_not_following": "accept",
        "for_not_followers": "accept",
        "for_new_accounts": "accept",
        "for_private_mentions": "filter",
        "for_limited_accounts": "filter",
        "summary": summary(0, 0),
    });
    assert_eq!(policy(&app, &alice).await, defaults);

    let bad = app
        .request(
            Method::PATCH,
            "/api/v2/notifications/policy",
            Some(&alice.token),
            Some(json!({"for_new_accounts": "maybe", "for_not_followers": "drop"})),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body["error"]
            .as_str()
            .unwrap()
            .contains("for_new_accounts"),
        "{}",
        bad.body
    );
    assert_eq!(policy(&app, &alice).await, defaults, "nothing changed");

    // Form parameters, as most clients send them; the values not sent stay.
    let res = app
        .client
        .patch(app.url("/api/v2/notifications/policy"))
        .bearer_auth(&alice.token)
        .form(&[
            ("for_not_followers", "drop"),
            ("for_private_mentions", "accept"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut changed = defaults.clone();
    changed["for_not_followers"] = json!("drop");
    changed["for_private_mentions"] = json!("accept");
    assert_eq!(res.json::<Value>().await.unwrap(), changed);
    assert_eq!(policy(&app, &alice).await, changed);
    assert_eq!(
        app.get(&alice, "/api/v1/notifications/policy").await.ok(),
        json!({
            "filter_not_following": false,
            "filter_not_followers": true,
            "filter_new_accounts": false,
            "filter_private_mentions": false,
            "summary": summary(0, 0),
        })
    );
}

#[tokio::test]
async fn filtered_notifications_wait_in_requests_until_accepted_or_dismissed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let [friend, s1, s2, s3] = <[User; 4]>::try_from(crowd(&app, "u", 4).await)
        .ok()
        .unwrap();
    app.follow(&alice, &friend).await;
    patch_policy(&app, &alice, json!({"for_not_following": "filter"})).await;

    let from_friend = say(&app, &friend, "@alice from a friend", "public").await;
    let s1_first = say(&app, &s1, "@alice one", "public").await;
    let s1_last = say(&app, &s1, "@alice two", "public").await;
    let s2_only = say(&app, &s2, "@alice three", "public").await;
    let s3_only = say(&app, &s3, "@alice four", "public").await;

    assert_eq!(
        statuses(&notes(&app, &alice, "").await),
        vec![from_friend.clone()]
    );
    let v2 = app.get(&alice, "/api/v2/notifications").await.ok();
    assert_eq!(v2["notification_groups"].as_array().unwrap().len(), 1);
    assert_eq!(
        statuses(&notes(&app, &alice, "?include_filtered=true").await),
        vec![
            s3_only.clone(),
            s2_only.clone(),
            s1_last.clone(),
            s1_first.clone(),
            from_friend.clone()
        ]
    );
    let v2_all = app
        .get(&alice, "/api/v2/notifications?include_filtered=true")
        .await
        .ok();
    assert_eq!(v2_all["notification_groups"].as_array().unwrap().len(), 5);
    assert_eq!(
        app.get(&alice, "/api/v1/notifications/unread_count")
            .await
            .ok()["count"],
        1
    );

    let listed = requests(&app, &alice).await;
    let who: Vec<String> = listed.iter().map(|r| id(&r["account"])).collect();
    assert_eq!(who, vec![s3.id.clone(), s2.id.clone(), s1.id.clone()]);
    assert_eq!(
        (
            listed[2]["notifications_count"].clone(),
            id(&listed[2]["last_status"])
        ),
        (json!("2"), s1_last.clone()),
        "a count as a string, as in Mastodon, and the latest status"
    );
    assert_eq!(listed[1]["notifications_count"], "1");
    assert_eq!(policy(&app, &alice).await["summary"], summary(3, 4));
    let (r1, r2, r3) = (id(&listed[2]), id(&listed[1]), id(&listed[0]));
    assert_eq!(
        app.get(&alice, &format!("/api/v1/notifications/requests/{r2}"))
            .await
            .ok(),
        listed[1]
    );
    assert_eq!(
        app.get(&s1, &format!("/api/v1/notifications/requests/{r2}"))
            .await
            .status,
        404,
        "one's own requests only"
    );

    // One dismissed: the request and its notifications go.
    let dismissed = app
        .post(
            &alice,
            &format!("/api/v1/notifications/requests/{r3}/dismiss"),
            json!({}),
        )
        .await;
    assert_eq!(
        (dismissed.status.as_u16(), dismissed.body),
        (200, json!({}))
    );
    assert_eq!(requests(&app, &alice).await.len(), 2);
    assert!(!statuses(&notes(&app, &alice, "?include_filtered=true").await).contains(&s3_only));
    assert_eq!(policy(&app, &alice).await["summary"], summary(2, 3));
    let again = app
        .post(
            &alice,
            &format!("/api/v1/notifications/requests/{r3}/dismiss"),
            json!({}),
        )
        .await;
    assert_eq!(
        (again.status.as_u16(), again.body),
        (404, json!({"error": "Record not found"}))
    );

    // Two accepted at once, with form parameters: their notifications join the list, and
    // their senders are never filtered again.
    let res = app
        .client
        .post(app.url("/api/v1/notifications/requests/accept"))
        .bearer_auth(&alice.token)
        .form(&[("id[]", r1.as_str()), ("id[]", r2.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(requests(&app, &alice).await.is_empty());
    assert_eq!(policy(&app, &alice).await["summary"], summary(0, 0));
    assert_eq!(
        statuses(&notes(&app, &alice, "").await),
        vec![
            s2_only.clone(),
            s1_last.clone(),
            s1_first.clone(),
            from_friend.clone()
        ]
    );
    let later = say(&app, &s2, "@alice accepted now", "public").await;
    assert_eq!(
        statuses(&notes(&app, &alice, "?limit=1").await),
        vec![later]
    );

    // A dismissed sender is filtered again, into a new request.
    let back = say(&app, &s3, "@alice me again", "public").await;
    let listed = requests(&app, &alice).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            id(&listed[0]["account"]),
            listed[0]["notifications_count"].clone(),
            id(&listed[0]["last_status"])
        ),
        (s3.id.clone(), json!("1"), back)
    );
    app.post(
        &alice,
        "/api/v1/notifications/requests/dismiss",
        json!({"id": [id(&listed[0])]}),
    )
    .await
    .ok();
    assert!(requests(&app, &alice).await.is_empty());
    assert_eq!(
        app.get(&alice, "/api/v1/notifications/requests/merged")
            .await
            .ok(),
        json!({"merged": true})
    );
    let missing = app
        .post(&alice, "/api/v1/notifications/requests/accept", json!({}))
        .await;
    assert_eq!(missing.status, 422);
    assert!(missing.body["error"].is_string());
}

#[tokio::test]
async fn dropped_notifications_are_not_stored_at_all() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let stranger = crowd(&app, "stranger", 1).await.pop().unwrap();
    let post = say(&app, &alice, "hello", "public").await;
    patch_policy(&app, &alice, json!({"for_not_following": "drop"})).await;

    say(&app, &stranger, "@alice hey", "public").await;
    app.post(
        &stranger,
        &format!("/api/v1/statuses/{post}/favourite"),
        json!({}),
    )
    .await
    .ok();
    app.follow(&stranger, &alice).await;

    assert!(notes(&app, &alice, "?include_filtered=true")
        .await
        .is_empty());
    let v2 = app
        .get(&alice, "/api/v2/notifications?include_filtered=true")
        .await
        .ok();
    assert_eq!(v2["notification_groups"], json!([]));
    assert!(requests(&app, &alice).await.is_empty());
    assert_eq!(policy(&app, &alice).await["summary"], summary(0, 0));
    // The acts themselves happened.
    let account = app
        .get(&alice, &format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(account["followers_count"], 1);
    let status = app
        .get(&alice, &format!("/api/v1/statuses/{post}"))
        .await
        .ok();
    assert_eq!(status["favourites_count"], 1);
}

#[tokio::test]
async fn only_direct_mentions_from_strangers_count_as_private_mentions() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let stranger = crowd(&app, "stranger", 1).await.pop().unwrap();
    let public = say(&app, &stranger, "@alice public", "public").await;
    let unlisted = say(&app, &stranger, "@alice unlisted", "unlisted").await;
    let followers_only = say(&app, &stranger, "@alice followers only", "private").await;
    let direct = say(&app, &stranger, "@alice just us", "direct").await;

    assert_eq!(
        statuses(&notes(&app, &alice, "").await),
        vec![followers_only, unlisted, public]
    );
    let listed = requests(&app, &alice).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(id(&listed[0]["last_status"]), direct);
}

#[tokio::test]
async fn private_replies_pass_only_in_threads_where_one_privately_mentioned_the_sender() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = crowd(&app, "bob", 1).await.pop().unwrap();

    let opener = say(&app, &alice, "@bob0 what do you think?", "direct").await;
    let answer = reply(&app, &bob, "@alice here is my answer", &opener).await;
    let more = reply(&app, &bob, "@alice and one more thing", &answer).await;

    let unrelated = say(&app, &alice, "hello world", "public").await;
    let _unasked = reply(&app, &bob, "@alice psst", &unrelated).await;
    let public_mention = say(&app, &alice, "@bob0 look at this", "public").await;
    let _to_public = reply(&app, &bob, "@alice sure", &public_mention).await;

    assert_eq!(
        statuses(&notes(&app, &alice, "").await),
        vec![more, answer],
        "answers in the thread alice began pass, however deep"
    );
    let listed = requests(&app, &alice).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0]["notifications_count"], "2",
        "replies to posts that did not privately mention bob wait"
    );
}

#[tokio::test]
async fn limited_accounts_are_filtered_unless_followed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let limited = crowd(&app, "limited", 4).await;
    let now = cascade_core::time::now_millis();
    for account in &limited {
        app.state
            .store
            .set_limited(account.id.parse().unwrap(), Some(now))
            .await
            .unwrap();
    }
    let followed = &limited[0];
    app.follow(&alice, followed).await;

    let from_followed = say(&app, followed, "@alice from one I follow", "public").await;
    say(
        &app,
        &limited[1],
        "@alice from a limited stranger",
        "public",
    )
    .await;
    assert_eq!(
        statuses(&notes(&app, &alice, "").await),
        vec![from_followed.clone()]
    );
    let listed = requests(&app, &alice).await;
    assert_eq!(
        listed.iter().map(|r| id(&r["account"])).collect::<Vec<_>>(),
        vec![limited[1].id.clone()]
    );

    patch_policy(&app, &alice, json!({"for_limited_accounts": "accept"})).await;
    let accepted = say(&app, &limited[2], "@alice accepted", "public").await;
    patch_policy(&app, &alice, json!({"for_limited_accounts": "drop"})).await;
    let dropped = say(&app, &limited[3], "@alice dropped", "public").await;
    assert_eq!(
        statuses(&notes(&app, &alice, "").await),
        vec![accepted, from_followed]
    );
    assert!(!statuses(&notes(&app, &alice, "?include_filtered=true").await).contains(&dropped));
    assert_eq!(requests(&app, &alice).await.len(), 1);

    // Lifting the limit lifts the filter.
    app.state
        .store
        .set_limited(limited[3].id.parse().unwrap(), None)
        .await
        .unwrap();
    let lifted = say(&app, &limited[3], "@alice free again", "public").await;
    assert_eq!(
        statuses(&notes(&app, &alice, "?limit=1").await),
        vec![lifted]
    );
}

#[tokio::test]
async fn posts_of_accounts_one_rings_the_bell_for_are_never_filtered() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.post(
        &bob,
        &format!("/api/v1/accounts/{}/follow", alice.id),
        json!({"notify": true}),
    )
    .await
    .ok();
    patch_policy(
        &app,
        &bob,
        json!({"for_not_followers": "filter", "for_new_accounts": "filter"}),
    )
    .await;

    let news = say(&app, &alice, "news", "public").await;
    assert_eq!(
        statuses(&notes(&app, &bob, "?types[]=status").await),
        vec![news],
        "alice follows no one and is new, but the bell is bob's own wish"
    );
    let question = say(&app, &alice, "@bob a question", "public").await;
    assert!(notes(&app, &bob, "?types[]=mention").await.is_empty());
    assert_eq!(
        statuses(&notes(&app, &bob, "?types[]=mention&include_filtered=true").await),
        vec![question],
        "a mention from a non-follower is filtered"
    );
}

#[tokio::test]
async fn new_accounts_are_filtered_unless_followed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let newcomer = app.user("newcomer").await;
    let known = app.user("known").await;
    let veteran = crowd(&app, "veteran", 1).await.pop().unwrap();
    app.follow(&alice, &known).await;
    patch_policy(&app, &alice, json!({"for_new_accounts": "filter"})).await;

    say(&app, &newcomer, "@alice hi from a new account", "public").await;
    let from_known = say(&app, &known, "@alice hi from one alice follows", "public").await;
    let from_veteran = say(&app, &veteran, "@alice hi from an old account", "public").await;

    assert_eq!(
        statuses(&notes(&app, &alice, "").await),
        vec![from_veteran, from_known]
    );
    let listed = requests(&app, &alice).await;
    assert_eq!(
        listed.iter().map(|r| id(&r["account"])).collect::<Vec<_>>(),
        vec![newcomer.id.clone()]
    );
}

#[tokio::test]
async fn requests_page_both_ways_each_exactly_once() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let strangers = crowd(&app, "stranger", 5).await;
    for s in &strangers {
        say(&app, s, "@alice a private word", "direct").await;
    }
    let newest_first: Vec<String> = strangers.iter().rev().map(|s| s.id.clone()).collect();
    let accounts = |pages: Vec<Vec<Value>>| -> Vec<String> {
        pages.concat().iter().map(|r| id(&r["account"])).collect()
    };
    for limit in [1, 2, 5] {
        let down = app
            .walk(
                &alice,
                &format!("/api/v1/notifications/requests?limit={limit}"),
                "next",
            )
            .await;
        assert_eq!(accounts(down), newest_first, "limit {limit}, down");
        let mut up = app
            .walk(
                &alice,
                &format!("/api/v1/notifications/requests?limit={limit}&min_id=0"),
                "prev",
            )
            .await;
        up.reverse();
        assert_eq!(accounts(up), newest_first, "limit {limit}, up");
    }
}
