//! Rate limits that cannot be walked around: keyed by the verified token's account or
//! the client's address, `X-Forwarded-For` only from trusted proxies, logins and sign-ups
//! throttled, Mastodon's headers on every answer.

use std::time::Duration;

use cascade_server::throttle::RateLimit;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_with, TestApp};
use crate::oauth::{csrf_cookie, hidden_value};

fn tight(requests: u32) -> Option<RateLimit> {
    Some(RateLimit {
        requests,
        window: Duration::from_secs(300),
    })
}

async fn get(app: &TestApp, token: Option<&str>, forwarded: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url("/api/v1/timelines/public"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_made_up_token_does_not_buy_a_fresh_bucket() {
    let app = spawn_with(|c| c.rate_limit = tight(3)).await;
    for _ in 0..3 {
        assert_eq!(get(&app, None, None).await.status(), 200);
    }
    assert_eq!(get(&app, None, None).await.status(), 429);
    for i in 0..3 {
        let res = get(&app, Some(&format!("random-{i}")), None).await;
        assert_eq!(
            res.status(),
            429,
            "a forged token counts against its address"
        );
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].is_string());
    }
}

#[tokio::test]
async fn every_token_of_an_account_shares_one_bucket() {
    let app = spawn_with(|c| c.rate_limit = tight(3)).await;
    let alice = app.user("alice").await;
    let second = cascade_server::app::accounts::issue_token(
        &app.state,
        Some(alice.id.parse().unwrap()),
        None,
        "read",
    )
    .await
    .unwrap()
    .access_token;
    // The address's bucket is spent; the account's own is not.
    for _ in 0..3 {
        get(&app, None, None).await;
    }
    for _ in 0..3 {
        assert_eq!(get(&app, Some(&alice.token), None).await.status(), 200);
    }
    assert_eq!(get(&app, Some(&second), None).await.status(), 429);
}

#[tokio::test]
async fn answers_carry_mastodons_rate_limit_headers() {
    let app = spawn_with(|c| c.rate_limit = tight(5)).await;
    let first = get(&app, None, None).await;
    let second = get(&app, None, None).await;
    for (res, remaining) in [(&first, "4"), (&second, "3")] {
        let h = res.headers();
        assert_eq!(h["x-ratelimit-limit"], "5");
        assert_eq!(h["x-ratelimit-remaining"], remaining);
        assert!(h["x-ratelimit-reset"].to_str().unwrap().ends_with('Z'));
    }
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let untrusted = spawn_with(|c| c.rate_limit = tight(2)).await;
    for (i, ip) in ["192.0.2.1", "192.0.2.2", "192.0.2.3"].iter().enumerate() {
        let status = get(&untrusted, None, Some(ip)).await.status();
        let expected = if i < 2 { 200 } else { 429 };
        assert_eq!(status, expected, "a client cannot choose its address");
    }

    let proxied = spawn_with(|c| {
        c.rate_limit = tight(2);
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.1"] {
        assert_eq!(get(&proxied, None, Some(ip)).await.status(), 200);
    }
    // What the client wrote left of the proxy's entry proves nothing.
    for spoofed in ["10.9.9.9, 192.0.2.1", "10.9.9.8, 192.0.2.1"] {
        assert_eq!(get(&proxied, None, Some(spoofed)).await.status(), 429);
    }
}

async fn app_token(app: &TestApp) -> String {
    let client: Value = app
        .client
        .post(app.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Signup"),
            ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
            ("scopes", "read write"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token: Value = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client["client_id"].as_str().unwrap()),
            ("client_secret", client["client_secret"].as_str().unwrap()),
            ("scope", "read write"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn sign_ups_are_throttled_per_address() {
    let app = spawn_with(|c| {
        c.registrations_per_address = RateLimit {
            requests: 2,
            window: Duration::from_secs(1800),
        }
    })
    .await;
    let token = app_token(&app).await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let res = app
            .client
            .post(app.url("/api/v1/accounts"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "username": format!("newbie{i}"),
                "email": format!("newbie{i}@example.test"),
                "password": "long enough pw",
                "agreement": true,
            }))
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
        }
    }
    assert_eq!(statuses, [200, 200, 429]);
}

/// Posts the login form for `username` with `password`; the status of the answer.
async fn try_login(app: &TestApp, username: &str, password: &str) -> StatusCode {
    let client: Value = app
        .client
        .post(app.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Login"),
            ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = client["client_id"].as_str().unwrap();
    let page = app
        .client
        .get(app.url("/oauth/authorize"))
        .query(&[("response_type", "code"), ("client_id", client_id)])
        .send()
        .await
        .unwrap();
    let cookie = csrf_cookie(&page);
    let token = hidden_value(&page.text().await.unwrap(), "authenticity_token");
    app.client
        .post(app.url("/oauth/authorize"))
        .header("cookie", cookie)
        .form(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("username", username),
            ("password", password),
            ("decision", "approve"),
            ("authenticity_token", &token),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn repeated_wrong_passwords_are_throttled_per_account() {
    let app = spawn_with(|c| c.rate_limit = None).await;
    app.user("carol").await;
    let mut tries = 0;
    loop {
        tries += 1;
        let status = try_login(&app, "carol", "guess").await;
        if status == 429 {
            break;
        }
        assert_eq!(status, 401);
        assert!(tries < 20, "still guessing after {tries} wrong passwords");
    }
    // Once throttled, even the right password waits, and another spelling of the same
    // name is the same bucket.
    assert_eq!(try_login(&app, "CAROL", "correct horse battery").await, 429);
}

#[tokio::test]
async fn login_attempts_are_throttled_per_address() {
    let app = spawn_with(|c| {
        c.rate_limit = None;
        c.login_per_address = RateLimit {
            requests: 4,
            window: Duration::from_secs(300),
        };
    })
    .await;
    app.user("carol").await;
    for name in ["a", "b", "c", "d"] {
        assert_eq!(try_login(&app, name, "guess").await, 401);
    }
    assert_eq!(try_login(&app, "e", "guess").await, 429);
    assert_eq!(try_login(&app, "carol", "correct horse battery").await, 429);
}
