//! Scheduled statuses: kept until their time, listed, moved and cancelled by their
//! author, and published once by the clock, also when a publication was cut short.

use cascade_core::time::{now_millis, parse_rfc3339, rfc3339};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{eventually, spawn_app, spawn_with, TestApp, User};
use crate::schemas::validate;

fn in_minutes(m: i64) -> String {
    rfc3339(now_millis() + m * 60_000)
}

async fn schedule(app: &TestApp, user: &User, body: Value) -> crate::helpers::Response {
    app.post(user, "/api/v1/statuses", body).await
}

async fn own_statuses(app: &TestApp, user: &User) -> Vec<Value> {
    app.get(user, &format!("/api/v1/accounts/{}/statuses", user.id))
        .await
        .ok()
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn scheduled_statuses_wait_and_can_be_listed_moved_and_cancelled() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let at = in_minutes(60);
    let scheduled = schedule(
        &app,
        &alice,
        json!({"status": "Later #news", "scheduled_at": at, "spoiler_text": "cw", "language": "en"}),
    )
    .await
    .ok();
    let id = scheduled["id"].as_str().unwrap().to_string();
    assert_eq!(
        parse_rfc3339(scheduled["scheduled_at"].as_str().unwrap()),
        parse_rfc3339(&at)
    );
    assert_eq!(scheduled["params"]["text"], "Later #news");
    assert_eq!(scheduled["params"]["visibility"], "public");
    assert_eq!(scheduled["params"]["spoiler_text"], "cw");
    assert_eq!(scheduled["media_attachments"], json!([]));
    assert!(
        own_statuses(&app, &alice).await.is_empty(),
        "not posted yet"
    );
    let list = app.get(&alice, "/api/v1/scheduled_statuses").await.ok();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&alice, &format!("/api/v1/scheduled_statuses/{id}"))
            .await
            .ok()["id"],
        id.as_str()
    );
    // Someone else's is not there.
    assert_eq!(
        app.get(&bob, &format!("/api/v1/scheduled_statuses/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&bob, "/api/v1/scheduled_statuses").await.ok(),
        json!([])
    );
    let later = in_minutes(120);
    let moved = app
        .request(
            Method::PUT,
            &format!("/api/v1/scheduled_statuses/{id}"),
            Some(&alice.token),
            Some(json!({"scheduled_at": later})),
        )
        .await
        .ok();
    assert_eq!(
        parse_rfc3339(moved["scheduled_at"].as_str().unwrap()),
        parse_rfc3339(&later)
    );
    for bad in [
        json!({"scheduled_at": in_minutes(1)}),
        json!({"scheduled_at": "soon"}),
        json!({}),
    ] {
        let res = app
            .request(
                Method::PUT,
                &format!("/api/v1/scheduled_statuses/{id}"),
                Some(&alice.token),
                Some(bad.clone()),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/scheduled_statuses/{id}"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Refused at once: too soon, not a time, bad text, a bad poll.
    for bad in [
        json!({"status": "x", "scheduled_at": in_minutes(2)}),
        json!({"status": "x", "scheduled_at": "tomorrow"}),
        json!({"status": "", "scheduled_at": in_minutes(60)}),
        json!({"status": "x".repeat(501), "scheduled_at": in_minutes(60)}),
        json!({"status": "x", "scheduled_at": in_minutes(60), "poll": {"options": ["a"], "expires_in": 600}}),
        json!({"status": "x", "scheduled_at": in_minutes(60), "visibility": "secret"}),
    ] {
        let res = schedule(&app, &alice, bad.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(res.body["error"].is_string());
    }
    let reader = app.user_with_scopes("reader", "read").await;
    assert_eq!(
        schedule(
            &app,
            &reader,
            json!({"status": "x", "scheduled_at": in_minutes(60)})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    if let Some(complaints) = validate(&[
        ("ScheduledStatus", moved, "a scheduled status".into()),
        ("ScheduledStatus[]", list, "scheduled statuses".into()),
    ])
    .await
    {
        assert!(complaints.is_empty(), "{complaints}");
    }
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/scheduled_statuses/{id}"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(res.ok(), json!({}));
    assert_eq!(
        app.get(&alice, "/api/v1/scheduled_statuses").await.ok(),
        json!([])
    );
}

#[tokio::test]
async fn the_clock_publishes_a_due_status_with_its_reply_and_poll() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let parent = app.post_status(&bob, "Question?", "public").await;
    let scheduled = schedule(
        &app,
        &alice,
        json!({
            "status": "@bob answer",
            "scheduled_at": in_minutes(30),
            "in_reply_to_id": parent["id"],
            "visibility": "unlisted",
            "poll": {"options": ["yes", "no"], "expires_in": 600},
        }),
    )
    .await
    .ok();
    let id: i64 = scheduled["id"].as_str().unwrap().parse().unwrap();
    // Its time comes.
    app.state
        .store
        .reschedule(alice.id.parse().unwrap(), id, now_millis() - 1)
        .await
        .unwrap();
    eventually("the scheduled status is published", || async {
        !own_statuses(&app, &alice).await.is_empty()
    })
    .await;
    let posted = own_statuses(&app, &alice).await;
    assert_eq!(posted.len(), 1);
    let status = &posted[0];
    assert_eq!(status["in_reply_to_id"], parent["id"]);
    assert_eq!(status["visibility"], "unlisted");
    assert_eq!(status["poll"]["options"][0]["title"], "yes");
    assert_eq!(
        app.get(&alice, "/api/v1/scheduled_statuses").await.ok(),
        json!([])
    );
    // Its consequences follow as for any post: bob is mentioned.
    eventually("bob hears of the reply", || async {
        app.drain().await;
        let n = app
            .get(&bob, "/api/v1/notifications?types[]=mention")
            .await
            .ok();
        n.as_array().is_some_and(|l| l.len() == 1)
    })
    .await;
}

#[tokio::test]
async fn a_publication_cut_short_finishes_once_and_idempotency_keys_schedule_once() {
    // No clock in this process: the test plays it, as a restarted server would.
    let app = spawn_with(|c| c.worker = false).await;
    let alice = app.user("alice").await;
    let send = |key: &'static str| {
        let app = &app;
        let alice = &alice;
        async move {
            app.client
                .post(app.url("/api/v1/statuses"))
                .bearer_auth(&alice.token)
                .header("Idempotency-Key", key)
                .json(&json!({"status": "once", "scheduled_at": in_minutes(30)}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let first = send("k1").await;
    let again = send("k1").await;
    assert_eq!(first["id"], again["id"]);
    assert_eq!(
        app.get(&alice, "/api/v1/scheduled_statuses")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let id: i64 = first["id"].as_str().unwrap().parse().unwrap();
    let me: i64 = alice.id.parse().unwrap();
    app.state
        .store
        .reschedule(me, id, now_millis() - 1)
        .await
        .unwrap();
    // A publication that crashed after posting, before forgetting the scheduled row.
    let viewer = cascade_server::app::Viewer::load(&app.state, Some(me))
        .await
        .unwrap();
    cascade_server::app::statuses::create(
        &app.state,
        &viewer,
        cascade_server::app::statuses::StatusInput {
            text: "once".into(),
            idempotency_key: Some(format!("scheduled-{id}")),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for _ in 0..2 {
        cascade_server::app::scheduled::publish_due(&app.state)
            .await
            .unwrap();
    }
    app.drain().await;
    assert_eq!(own_statuses(&app, &alice).await.len(), 1, "posted once");
    assert_eq!(
        app.get(&alice, "/api/v1/scheduled_statuses").await.ok(),
        json!([])
    );
}

#[tokio::test]
async fn at_most_25_statuses_are_scheduled_on_one_day() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    // Noon tomorrow (UTC): one day whatever the time now.
    let day = now_millis().div_euclid(86_400_000) + 1;
    let noon = |minute: i64| rfc3339(day * 86_400_000 + 12 * 3_600_000 + minute * 60_000);
    for m in 0..25 {
        schedule(
            &app,
            &alice,
            json!({"status": format!("{m}"), "scheduled_at": noon(m)}),
        )
        .await
        .ok();
    }
    let res = schedule(
        &app,
        &alice,
        json!({"status": "26", "scheduled_at": noon(30)}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Another day is fine, and the list pages.
    schedule(
        &app,
        &alice,
        json!({"status": "later", "scheduled_at": rfc3339((day + 2) * 86_400_000)}),
    )
    .await
    .ok();
    let pages = app
        .walk(&alice, "/api/v1/scheduled_statuses?limit=10", "next")
        .await;
    assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), 26);
}

#[tokio::test]
async fn uploads_are_kept_for_a_scheduled_status_and_published_with_it() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let picture = crate::media::upload(
        &app,
        &alice,
        crate::media::png(12, 8, false),
        "p.png",
        "image/png",
    )
    .await;
    let spare = crate::media::upload(
        &app,
        &alice,
        crate::media::png(8, 8, false),
        "q.png",
        "image/png",
    )
    .await;
    let scheduled = schedule(
        &app,
        &alice,
        json!({"status": "later, with a picture", "scheduled_at": in_minutes(30),
               "media_ids": [picture["id"]]}),
    )
    .await
    .ok();
    assert_eq!(scheduled["media_attachments"][0]["id"], picture["id"]);
    assert_eq!(scheduled["params"]["media_ids"], json!([picture["id"]]));
    if let Some(bad) = validate(&[(
        "ScheduledStatus",
        scheduled.clone(),
        "scheduled with media".into(),
    )])
    .await
    {
        assert!(bad.is_empty(), "{bad}");
    }
    // Kept for it: no other status takes the upload, and the sweep of old unattached
    // uploads leaves it alone.
    let taken = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "now", "media_ids": [picture["id"]]}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    let twice = schedule(
        &app,
        &alice,
        json!({"status": "again", "scheduled_at": in_minutes(40), "media_ids": [picture["id"]]}),
    )
    .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    let a_week_on = now_millis() + 7 * 86_400_000;
    cascade_server::app::media::sweep(&app.state, a_week_on)
        .await
        .unwrap();
    let kept = format!("/api/v1/media/{}", picture["id"].as_str().unwrap());
    assert_eq!(app.get(&alice, &kept).await.status, StatusCode::OK);
    let spare_path = format!("/api/v1/media/{}", spare["id"].as_str().unwrap());
    assert_eq!(
        app.get(&alice, &spare_path).await.status,
        StatusCode::NOT_FOUND,
        "an upload nobody keeps is swept"
    );

    // Its time comes: the status is published with the picture.
    let id: i64 = scheduled["id"].as_str().unwrap().parse().unwrap();
    app.state
        .store
        .reschedule(alice.id.parse().unwrap(), id, now_millis() - 1)
        .await
        .unwrap();
    eventually("the scheduled status is published", || async {
        !own_statuses(&app, &alice).await.is_empty()
    })
    .await;
    let posted = own_statuses(&app, &alice).await;
    assert_eq!(posted[0]["media_attachments"][0]["id"], picture["id"]);

    // A cancelled scheduled status lets its uploads go.
    let another = crate::media::upload(
        &app,
        &alice,
        crate::media::png(8, 8, false),
        "r.png",
        "image/png",
    )
    .await;
    let cancelled = schedule(
        &app,
        &alice,
        json!({"status": "never", "scheduled_at": in_minutes(30), "media_ids": [another["id"]]}),
    )
    .await
    .ok();
    app.request(
        Method::DELETE,
        &format!(
            "/api/v1/scheduled_statuses/{}",
            cancelled["id"].as_str().unwrap()
        ),
        Some(&alice.token),
        None,
    )
    .await
    .ok();
    let freed = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "now then", "media_ids": [another["id"]]}),
        )
        .await
        .ok();
    assert_eq!(freed["media_attachments"][0]["id"], another["id"]);
}
