use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn unknown_routes_and_records_are_json_404s() {
    let app = spawn_app().await;
    let res = app.get_anon("/api/v1/nothing/here").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body["error"], "Record not found");
    assert_eq!(app.get_anon("/api/v1/statuses/12345").await.status, 404);
    assert_eq!(app.get_anon("/api/v1/statuses/not-an-id").await.status, 404);
    assert_eq!(app.get_anon("/api/v1/accounts/99").await.status, 404);
}

#[tokio::test]
async fn a_query_an_extractor_refuses_is_a_json_400() {
    // Found by fuzzing: the streaming endpoints read their query with axum's extractor,
    // whose refusal was plain text.
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for path in [
        "/api/v1/streaming/public?only_media=true&only_media=false",
        "/api/v1/streaming/public/local?only_media=true&only_media=1",
    ] {
        let res = app.get(&alice, path).await;
        assert_eq!(res.status, 400, "{path}");
        assert!(
            res.body["error"]
                .as_str()
                .is_some_and(|e| e.contains("only_media")),
            "{path}: {}",
            res.body
        );
        assert_eq!(res.headers["content-type"], "application/json", "{path}");
    }
}

#[tokio::test]
async fn missing_and_invalid_tokens_are_401() {
    let app = spawn_app().await;
    let res = app.get_anon("/api/v1/timelines/home").await;
    assert_eq!(res.status, 401);
    assert!(res.body["error"].is_string());
    let res = app
        .request(
            Method::GET,
            "/api/v1/timelines/public",
            Some("forged"),
            None,
        )
        .await;
    assert_eq!(
        res.status, 401,
        "a bad token is refused even where none is needed"
    );
}

#[tokio::test]
async fn bad_bodies_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let res = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&alice.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("JSON"));

    let huge = "a".repeat(10 * 1024 * 1024);
    let res = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&alice.token)
        .json(&json!({"status": huge}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"].is_string());

    let res = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "x".repeat(501)}),
        )
        .await;
    assert_eq!(res.status, 422);
    let res = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "hi", "visibility": "secret"}),
        )
        .await;
    assert_eq!(res.status, 422);
    let res = app
        .post(&alice, "/api/v1/statuses", json!({"status": "   "}))
        .await;
    assert_eq!(res.status, 422);
    let res = app
        .post(
            &alice,
            &format!("/api/v1/accounts/{}/follow", alice.id),
            json!({}),
        )
        .await;
    assert_eq!(res.status, 403, "following yourself is refused");

    let mine = app
        .get(&alice, &format!("/api/v1/accounts/{}/statuses", alice.id))
        .await
        .ok();
    assert_eq!(mine.as_array().unwrap().len(), 0, "nothing was stored");
}

#[tokio::test]
async fn requests_past_the_rate_limit_get_429_with_headers() {
    let limit = cascade_server::api::limits::RateLimit {
        requests: 3,
        window: std::time::Duration::from_secs(300),
    };
    let app = crate::helpers::spawn_with(|c| c.rate_limit = Some(limit)).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    for left in [2, 1, 0] {
        let res = app.get(&alice, "/api/v1/timelines/home").await;
        assert_eq!(res.status, 200);
        assert_eq!(
            res.headers["x-ratelimit-remaining"],
            left.to_string().as_str()
        );
    }
    let res = app.get(&alice, "/api/v1/timelines/home").await;
    assert_eq!(res.status, 429);
    assert_eq!(res.body["error"], "Too many requests");
    assert!(res.headers.contains_key("x-ratelimit-reset"));
    assert_eq!(
        app.get(&bob, "/api/v1/timelines/home").await.status,
        200,
        "limits are per token"
    );
    for _ in 0..3 {
        app.get_anon("/api/v1/timelines/public").await;
    }
    assert_eq!(
        app.get_anon("/api/v1/timelines/public").await.status,
        429,
        "anonymous clients are limited by address"
    );
}
