//! Polls: made with a status, voted in once, exact under concurrent votes, ended by the
//! clock with notifications to voters and author, reset by edits that change them.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{crowd, eventually, spawn_app, TestApp, User};
use crate::schemas::validate;

async fn poll_post(app: &TestApp, author: &User, poll: Value, visibility: &str) -> Value {
    app.post(
        author,
        "/api/v1/statuses",
        json!({"status": "Which one?", "visibility": visibility, "poll": poll}),
    )
    .await
    .ok()
}

fn poll_id(status: &Value) -> String {
    status["poll"]["id"].as_str().expect("a poll").to_string()
}

async fn vote(app: &TestApp, user: &User, poll: &str, choices: Value) -> crate::helpers::Response {
    app.post(
        user,
        &format!("/api/v1/polls/{poll}/votes"),
        json!({ "choices": choices }),
    )
    .await
}

fn counts(poll: &Value) -> Vec<Value> {
    poll["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["votes_count"].clone())
        .collect()
}

#[tokio::test]
async fn a_poll_is_voted_in_once_and_shown_with_its_status() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let status = poll_post(
        &app,
        &alice,
        json!({"options": ["tea", "coffee"], "expires_in": 3600}),
        "public",
    )
    .await;
    let poll = &status["poll"];
    assert_eq!(poll["options"][1]["title"], "coffee");
    assert_eq!(poll["expired"], false);
    assert_eq!(poll["multiple"], false);
    assert_eq!(poll["voters_count"], Value::Null);
    assert_eq!(poll["voted"], true, "an author counts as having voted");
    let expires = cascade_core::time::parse_rfc3339(poll["expires_at"].as_str().unwrap()).unwrap();
    let in_an_hour = cascade_core::time::now_millis() + 3_600_000;
    assert!((in_an_hour - expires).abs() < 60_000);
    let id = poll_id(&status);
    let voted = vote(&app, &bob, &id, json!(["1"])).await.ok();
    assert_eq!(counts(&voted), vec![json!(0), json!(1)]);
    assert_eq!(voted["voted"], true);
    assert_eq!(voted["own_votes"], json!([1]));
    assert_eq!(voted["votes_count"], 1);
    // The poll shows in the status wherever it is rendered.
    let sid = status["id"].as_str().unwrap();
    let seen = app.get(&bob, &format!("/api/v1/statuses/{sid}")).await.ok();
    assert_eq!(seen["poll"]["own_votes"], json!([1]));
    let anon = app.get_anon(&format!("/api/v1/polls/{id}")).await.ok();
    assert_eq!(anon["votes_count"], 1);
    assert!(anon.get("voted").is_none());
    let home = app.home(&alice, "").await;
    assert_eq!(home[0]["poll"]["votes_count"], 1);
    // Once only, not in one's own poll, only existing options.
    for (who, choices) in [(&bob, json!([0])), (&alice, json!([0]))] {
        let res = vote(&app, who, &id, choices).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
        assert!(res.body["error"].is_string());
    }
    let carol = app.user("carol").await;
    for bad in [json!([]), json!([2]), json!([0, 1]), json!(["x"])] {
        let res = vote(&app, &carol, &id, bad.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let res = vote(&app, &carol, "12345", json!([0])).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app.get_anon("/api/v1/polls/nonsense").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // A poll in a post one may not see is not revealed.
    let private = poll_post(
        &app,
        &alice,
        json!({"options": ["a", "b"], "expires_in": 600}),
        "private",
    )
    .await;
    let hidden = poll_id(&private);
    assert_eq!(
        app.get(&carol, &format!("/api/v1/polls/{hidden}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        vote(&app, &carol, &hidden, json!([0])).await.status,
        StatusCode::NOT_FOUND
    );
    let reader = app.user_with_scopes("reader", "read").await;
    assert_eq!(
        vote(&app, &reader, &id, json!([0])).await.status,
        StatusCode::FORBIDDEN
    );
    // Bad polls are refused.
    for bad in [
        json!({"options": ["only"], "expires_in": 3600}),
        json!({"options": ["a", "b"], "expires_in": 10}),
        json!({"options": ["a", "b"]}),
        json!({"options": ["a", "a"], "expires_in": 3600}),
        json!({"options": ["a", "b", "c", "d", "e"], "expires_in": 3600}),
        json!("nonsense"),
    ] {
        let res = app
            .post(
                &alice,
                "/api/v1/statuses",
                json!({"status": "bad", "poll": bad}),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    if let Some(complaints) = validate(&[
        ("Status", status.clone(), "a status with a poll".into()),
        ("Poll", voted, "a poll voted in".into()),
        ("Poll", anon, "a poll seen anonymously".into()),
    ])
    .await
    {
        assert!(complaints.is_empty(), "{complaints}");
    }
}

#[tokio::test]
async fn forms_post_polls_with_rails_keys() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let res = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&alice.token)
        .form(&[
            ("status", "Pick"),
            ("poll[options][]", "red"),
            ("poll[options][]", "blue"),
            ("poll[options][]", "green"),
            ("poll[expires_in]", "600"),
            ("poll[multiple]", "true"),
            ("poll[hide_totals]", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let status: Value = res.json().await.unwrap();
    assert_eq!(status["poll"]["options"].as_array().unwrap().len(), 3);
    assert_eq!(status["poll"]["multiple"], true);
}

#[tokio::test]
async fn concurrent_votes_are_counted_exactly_and_once_per_account() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let status = poll_post(
        &app,
        &alice,
        json!({"options": ["a", "b", "c"], "expires_in": 3600, "multiple": true, "hide_totals": true}),
        "public",
    )
    .await;
    let id = poll_id(&status);
    let voters = crowd(&app, "voter", 30).await;
    let votes = voters.iter().enumerate().map(|(i, v)| {
        let app = &app;
        let id = &id;
        async move {
            let choices = if i % 2 == 0 {
                json!([0, 2])
            } else {
                json!([1])
            };
            // Each voter sends its vote twice at once: one counts.
            let (a, b) = tokio::join!(vote(app, v, id, choices.clone()), vote(app, v, id, choices));
            [a.status, b.status]
        }
    });
    let results = futures_util::future::join_all(votes).await;
    for pair in &results {
        let ok = pair.iter().filter(|s| s.is_success()).count();
        assert_eq!(ok, 1, "{pair:?}");
        assert!(pair.contains(&StatusCode::UNPROCESSABLE_ENTITY), "{pair:?}");
    }
    let seen = app.get(&alice, &format!("/api/v1/polls/{id}")).await.ok();
    assert_eq!(counts(&seen), vec![json!(15), json!(15), json!(15)]);
    assert_eq!(seen["votes_count"], 45);
    assert_eq!(seen["voters_count"], 30);
    // Totals stay hidden from others until the poll ends.
    let other = app
        .get(&voters[0], &format!("/api/v1/polls/{id}"))
        .await
        .ok();
    assert_eq!(counts(&other), vec![Value::Null, Value::Null, Value::Null]);
    assert_eq!(other["own_votes"], json!([0, 2]));
}

async fn poll_notifications(app: &TestApp, user: &User) -> Vec<Value> {
    app.get(user, "/api/v1/notifications?types[]=poll")
        .await
        .ok()
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn the_clock_ends_polls_and_tells_voters_and_the_author_once() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let status = poll_post(
        &app,
        &alice,
        json!({"options": ["yes", "no"], "expires_in": 300, "hide_totals": true}),
        "public",
    )
    .await;
    let id = poll_id(&status);
    vote(&app, &bob, &id, json!([0])).await.ok();
    // Time passes: the poll's end is moved into the past.
    app.state
        .store
        .set_poll_expiry(id.parse().unwrap(), cascade_core::time::now_millis() - 1)
        .await
        .unwrap();
    app.state
        .records
        .forget_status(status["id"].as_str().unwrap().parse().unwrap());
    for user in [&bob, &alice] {
        eventually("the poll's end is notified", || async {
            app.drain().await;
            poll_notifications(&app, user).await.len() == 1
        })
        .await;
    }
    let n = &poll_notifications(&app, &bob).await[0];
    assert_eq!(n["type"], "poll");
    assert_eq!(n["status"]["id"], status["id"]);
    assert_eq!(n["account"]["id"], alice.id.as_str());
    assert!(
        poll_notifications(&app, &carol).await.is_empty(),
        "carol did not vote"
    );
    let ended = app.get(&carol, &format!("/api/v1/polls/{id}")).await.ok();
    assert_eq!(ended["expired"], true);
    assert_eq!(
        counts(&ended),
        vec![json!(1), json!(0)],
        "totals show once ended"
    );
    let res = vote(&app, &carol, &id, json!([1])).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Later passes of the clock tell nobody again.
    app.settle().await;
    assert_eq!(poll_notifications(&app, &bob).await.len(), 1);
    if let Some(complaints) =
        validate(&[("Notification", n.clone(), "a poll notification".into())]).await
    {
        assert!(complaints.is_empty(), "{complaints}");
    }
}

#[tokio::test]
async fn edits_keep_votes_unless_the_options_change_and_may_remove_the_poll() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let status = poll_post(
        &app,
        &alice,
        json!({"options": ["a", "b"], "expires_in": 3600}),
        "public",
    )
    .await;
    let sid = status["id"].as_str().unwrap().to_string();
    let id = poll_id(&status);
    vote(&app, &bob, &id, json!([1])).await.ok();
    let put = |body: Value| {
        let app = &app;
        let alice = &alice;
        let sid = sid.clone();
        async move {
            app.request(
                Method::PUT,
                &format!("/api/v1/statuses/{sid}"),
                Some(&alice.token),
                Some(body),
            )
            .await
            .ok()
        }
    };
    let same = put(json!({"status": "Which one, really?", "poll": {"options": ["a", "b"], "expires_in": 7200}})).await;
    assert_eq!(
        same["poll"]["votes_count"], 1,
        "same options keep the votes"
    );
    let changed =
        put(json!({"status": "Which?", "poll": {"options": ["a", "c"], "expires_in": 7200}})).await;
    assert_eq!(
        changed["poll"]["votes_count"], 0,
        "new options reset the votes"
    );
    assert_eq!(changed["poll"]["id"], id.as_str());
    let again = vote(&app, &bob, &id, json!([0])).await.ok();
    assert_eq!(again["own_votes"], json!([0]));
    let removed = put(json!({"status": "No poll after all"})).await;
    assert_eq!(removed["poll"], Value::Null);
    assert_eq!(
        app.get(&bob, &format!("/api/v1/polls/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}
