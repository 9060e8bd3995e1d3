//! CORS: browser clients on another origin can call the API, the OAuth token and revoke
//! endpoints and the streaming endpoint, as on Mastodon; pages get no CORS headers.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{spawn_app, spawn_with};

const ORIGIN: &str = "https://elk.example";

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn preflight(
    app: &crate::helpers::TestApp,
    path: &str,
    method: &str,
    headers: &str,
) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", headers)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn preflights_allow_any_origin_with_authorization_and_idempotency_keys() {
    let app = spawn_app().await;
    let res = preflight(
        &app,
        "/api/v1/statuses",
        "POST",
        "authorization,content-type,idempotency-key",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "access-control-allow-origin"), "*");
    let methods = header(&res, "access-control-allow-methods");
    for m in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
        assert!(methods.contains(m), "{methods}");
    }
    let allowed = header(&res, "access-control-allow-headers").to_lowercase();
    for h in ["authorization", "idempotency-key", "content-type"] {
        assert!(allowed.contains(h), "{allowed}");
    }
    assert!(
        res.headers()
            .get("access-control-allow-credentials")
            .is_none(),
        "tokens travel in headers, never cookies"
    );
    // A preflight names no token: it is answered without one, even on user endpoints.
    let res = preflight(&app, "/api/v1/timelines/home", "GET", "authorization").await;
    assert_eq!(res.status(), StatusCode::OK);
    for path in ["/oauth/token", "/oauth/revoke"] {
        let res = preflight(&app, path, "POST", "content-type").await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, "access-control-allow-origin"), "*", "{path}");
        assert!(header(&res, "access-control-allow-methods").contains("POST"));
    }
    let res = preflight(&app, "/api/v1/streaming/user", "GET", "authorization").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "access-control-allow-origin"), "*");
}

#[tokio::test]
async fn responses_carry_the_origin_and_expose_paging_and_rate_limit_headers() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for i in 0..3 {
        app.post_status(&alice, &format!("post {i}"), "public")
            .await;
    }
    let res = app
        .client
        .get(app.url("/api/v1/timelines/home?limit=1"))
        .header("Origin", ORIGIN)
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "access-control-allow-origin"), "*");
    let exposed = header(&res, "access-control-expose-headers").to_lowercase();
    for h in [
        "link",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(exposed.contains(h), "{exposed}");
    }
    assert!(res.headers().get("link").is_some());
    // Errors are readable across origins too, or a client could not tell why it failed.
    let res = app
        .client
        .get(app.url("/api/v1/timelines/home"))
        .header("Origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&res, "access-control-allow-origin"), "*");
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("Origin", ORIGIN)
        .json(&json!({"grant_type": "client_credentials", "client_id": "nope"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());
    assert_eq!(header(&res, "access-control-allow-origin"), "*");
}

#[tokio::test]
async fn pages_get_no_cors_headers() {
    let app = spawn_app().await;
    app.user("alice").await;
    for path in ["/@alice", "/oauth/authorize?client_id=x&response_type=code"] {
        let res = app
            .client
            .get(app.url(path))
            .header("Origin", ORIGIN)
            .send()
            .await
            .unwrap();
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "{path}"
        );
    }
    let res = preflight(&app, "/oauth/authorize", "POST", "content-type").await;
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_rate_limited_browser_client_can_read_its_refusal_and_preflights_are_not_counted() {
    let app = spawn_with(|c| {
        c.rate_limit = Some(cascade_server::throttle::RateLimit {
            requests: 3,
            window: std::time::Duration::from_secs(300),
        })
    })
    .await;
    let alice = app.user("alice").await;
    for _ in 0..10 {
        let res = preflight(&app, "/api/v1/timelines/home", "GET", "authorization").await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let mut last = None;
    for _ in 0..4 {
        last = Some(
            app.client
                .get(app.url("/api/v1/timelines/home"))
                .header("Origin", ORIGIN)
                .bearer_auth(&alice.token)
                .send()
                .await
                .unwrap(),
        );
    }
    let res = last.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&res, "access-control-allow-origin"), "*");
    assert!(res.headers().get("x-ratelimit-reset").is_some());
}
