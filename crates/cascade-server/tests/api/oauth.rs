use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::spawn_app;

async fn create_app(app: &crate::helpers::TestApp, redirect: &str) -> serde_json::Value {
    let res = app
        .client
        .post(app.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Test client"),
            ("redirect_uris", redirect),
            ("scopes", "read write follow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The `name=value` of the CSRF cookie a login page sets, to send back as a browser would.
pub fn csrf_cookie(page: &reqwest::Response) -> String {
    let set = page
        .headers()
        .get("set-cookie")
        .expect("the login page sets its CSRF cookie")
        .to_str()
        .unwrap();
    set.split(';').next().unwrap().to_string()
}

/// The value of the hidden form field `name` in a page.
pub fn hidden_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("the hidden field") + marker.len();
    html[start..][..html[start..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn an_app_registers_a_user_with_client_credentials_and_the_token_works() {
    let app = spawn_app().await;
    let client = create_app(&app, "urn:ietf:wg:oauth:2.0:oob").await;
    assert!(client["client_secret"].as_str().is_some());
    let token: serde_json::Value = app
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
    let app_token = token["access_token"].as_str().unwrap().to_string();

    let verified = app
        .client
        .get(app.url("/api/v1/apps/verify_credentials"))
        .bearer_auth(&app_token)
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), 200);

    let registered = app.client.post(app.url("/api/v1/accounts")).bearer_auth(&app_token)
        .json(&json!({"username": "newbie", "email": "newbie@example.test", "password": "long enough pw", "agreement": true}))
        .send().await.unwrap();
    assert_eq!(registered.status(), 200);
    let user_token: serde_json::Value = registered.json().await.unwrap();
    let me: serde_json::Value = app
        .client
        .get(app.url("/api/v1/accounts/verify_credentials"))
        .bearer_auth(user_token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "newbie");
    assert_eq!(me["source"]["privacy"], "public");

    let again = app.client.post(app.url("/api/v1/accounts")).bearer_auth(&app_token)
        .json(&json!({"username": "NEWBIE", "email": "other@example.test", "password": "long enough pw", "agreement": true}))
        .send().await.unwrap();
    assert_eq!(
        again.status(),
        422,
        "usernames are unique regardless of case"
    );
}

#[tokio::test]
async fn authorization_code_with_pkce_logs_a_user_in_through_the_consent_page() {
    let app = spawn_app().await;
    app.user("carol").await;
    let redirect = "https://client.example/callback";
    let client = create_app(&app, redirect).await;
    let client_id = client["client_id"].as_str().unwrap();
    let verifier = "a-very-long-code-verifier-string-with-enough-entropy-1234567890";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));

    let page = app
        .client
        .get(app.url("/oauth/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("scope", "read write"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("state", "xyz"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookie = csrf_cookie(&page);
    let html = page.text().await.unwrap();
    assert!(html.contains("Test client") && html.contains("name=\"password\""));
    let csrf = hidden_value(&html, "authenticity_token");

    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect),
        ("scope", "read write"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "xyz"),
        ("username", "carol"),
        ("decision", "approve"),
        ("authenticity_token", csrf.as_str()),
    ];
    let mut wrong = form.to_vec();
    wrong.push(("password", "wrong password"));
    let denied = no_redirects
        .post(app.url("/oauth/authorize"))
        .header("cookie", &cookie)
        .form(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401);

    let mut right = form.to_vec();
    right.push(("password", "correct horse battery"));
    let res = no_redirects
        .post(app.url("/oauth/authorize"))
        .header("cookie", &cookie)
        .form(&right)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(redirect) && location.contains("state=xyz"));
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();

    let bad = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", "not-the-verifier"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        bad.status(),
        400,
        "a wrong verifier fails, and uses up the code"
    );

    // A second login for a fresh code, then the right verifier.
    let res = no_redirects
        .post(app.url("/oauth/authorize"))
        .header("cookie", &cookie)
        .form(&right)
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let token: serde_json::Value = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap().to_string();
    assert_eq!(token["scope"], "read write");
    let me = app
        .client
        .get(app.url("/api/v1/accounts/verify_credentials"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    let reused = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", &code),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), 400, "a code works once");

    let revoked = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[
            ("client_id", client_id),
            ("client_secret", client["client_secret"].as_str().unwrap()),
            ("token", &access),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let after = app
        .client
        .get(app.url("/api/v1/accounts/verify_credentials"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
}

#[tokio::test]
async fn the_password_grant_is_refused_and_metadata_is_published() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "x"),
            ("password", "y"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_grant_type");
    let meta = app
        .get_anon("/.well-known/oauth-authorization-server")
        .await
        .ok();
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
}

#[tokio::test]
async fn scopes_are_enforced() {
    let app = spawn_app().await;
    let reader = app.user_with_scopes("reader", "read").await;
    let res = app
        .post(&reader, "/api/v1/statuses", json!({"status": "hi"}))
        .await;
    assert_eq!(res.status, 403);
    let granular = app
        .user_with_scopes("granular", "read:accounts write:statuses")
        .await;
    assert_eq!(
        app.post(&granular, "/api/v1/statuses", json!({"status": "hi"}))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get(&granular, "/api/v1/timelines/home").await.status,
        403
    );
    assert_eq!(
        app.get(&granular, "/api/v1/accounts/verify_credentials")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn closed_registrations_refuse_new_accounts() {
    let app = crate::helpers::spawn_with(|c| c.registrations_open = false).await;
    let client = create_app(&app, "urn:ietf:wg:oauth:2.0:oob").await;
    let token: serde_json::Value = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client["client_id"].as_str().unwrap()),
            ("client_secret", client["client_secret"].as_str().unwrap()),
            ("scope", "write"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = app.client.post(app.url("/api/v1/accounts")).bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({"username": "late", "email": "late@example.test", "password": "long enough pw", "agreement": true}))
        .send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        app.get_anon("/api/v2/instance").await.ok()["registrations"]["enabled"],
        false
    );
}

#[tokio::test]
async fn redirect_uris_must_be_absolute_with_a_safe_scheme() {
    let app = spawn_app().await;
    for bad in [
        "javascript:alert(document.cookie)",
        "JavaScript://%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "relative/callback",
        "https://",
        "http:no-host",
        "https://client.example/cb#fragment",
    ] {
        let res = app
            .client
            .post(app.url("/api/v1/apps"))
            .form(&[("client_name", "Evil"), ("redirect_uris", bad)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{bad}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains("Redirect URI"),
            "{bad}"
        );
    }
    for good in [
        "urn:ietf:wg:oauth:2.0:oob",
        "https://client.example/callback",
        "http://localhost:4000/cb",
        "com.example.app:/oauth",
    ] {
        create_app(&app, good).await;
    }
}

async fn login_page(app: &crate::helpers::TestApp, client: &serde_json::Value) -> (String, String) {
    let page = app
        .client
        .get(app.url("/oauth/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client["client_id"].as_str().unwrap()),
            ("scope", "read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookie = csrf_cookie(&page);
    let html = page.text().await.unwrap();
    (cookie, hidden_value(&html, "authenticity_token"))
}

#[tokio::test]
async fn the_login_form_refuses_posts_without_its_csrf_token() {
    let app = spawn_app().await;
    app.user("carol").await;
    let client = create_app(&app, "urn:ietf:wg:oauth:2.0:oob").await;
    let (cookie, token) = login_page(&app, &client).await;
    let form = |token: &str| {
        vec![
            ("response_type", "code".to_string()),
            (
                "client_id",
                client["client_id"].as_str().unwrap().to_string(),
            ),
            ("scope", "read".to_string()),
            ("username", "carol".to_string()),
            ("password", "correct horse battery".to_string()),
            ("decision", "approve".to_string()),
            ("authenticity_token", token.to_string()),
        ]
    };
    // A cross-site post carries no cookie; a forged one carries the wrong token.
    let no_cookie = app
        .client
        .post(app.url("/oauth/authorize"))
        .form(&form(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(no_cookie.status(), 403);
    let wrong = app
        .client
        .post(app.url("/oauth/authorize"))
        .header("cookie", &cookie)
        .form(&form("forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let right = app
        .client
        .post(app.url("/oauth/authorize"))
        .header("cookie", &cookie)
        .form(&form(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert!(right.text().await.unwrap().contains("id=\"code\""));
}

#[tokio::test]
async fn an_unknown_login_is_answered_as_a_wrong_password() {
    let app = spawn_app().await;
    app.user("carol").await;
    let client = create_app(&app, "urn:ietf:wg:oauth:2.0:oob").await;
    let mut answers = Vec::new();
    for username in ["carol", "nobody"] {
        let (cookie, token) = login_page(&app, &client).await;
        let res = app
            .client
            .post(app.url("/oauth/authorize"))
            .header("cookie", &cookie)
            .form(&[
                ("response_type", "code"),
                ("client_id", client["client_id"].as_str().unwrap()),
                ("scope", "read"),
                ("username", username),
                ("password", "wrong password"),
                ("decision", "approve"),
                ("authenticity_token", &token),
            ])
            .send()
            .await
            .unwrap();
        let status = res.status();
        let html = res.text().await.unwrap();
        let message = html.contains("Invalid username or password.");
        answers.push((status, message));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, 401);
    assert!(answers[0].1);
}

#[tokio::test]
async fn every_html_page_forbids_script_framing_and_sniffing() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let post = app.post_status(&alice, "hello", "public").await;
    let client = create_app(&app, "urn:ietf:wg:oauth:2.0:oob").await;
    let id = post["id"].as_str().unwrap();
    for path in [
        "/@alice".to_string(),
        format!("/@alice/{id}"),
        format!("/@alice/{id}/cascade"),
        "/@nobody".to_string(),
        format!(
            "/oauth/authorize?response_type=code&client_id={}",
            client["client_id"].as_str().unwrap()
        ),
        "/oauth/authorize?response_type=code&client_id=unknown".to_string(),
    ] {
        let res = app.client.get(app.url(&path)).send().await.unwrap();
        let headers = res.headers();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert!(headers.contains_key("referrer-policy"), "{path}");
        let html = res.text().await.unwrap();
        assert!(!html.contains("<script"), "{path}: a page runs no script");
    }
}

#[tokio::test]
async fn userinfo_tells_who_the_token_belongs_to() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let meta = app
        .get_anon("/.well-known/oauth-authorization-server")
        .await
        .ok();
    assert_eq!(meta["userinfo_endpoint"], app.url("/oauth/userinfo"));
    let me = app
        .get(&alice, "/api/v1/accounts/verify_credentials")
        .await
        .ok();
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let info = app
            .request(method, "/oauth/userinfo", Some(&alice.token), None)
            .await
            .ok();
        assert_eq!(info["preferred_username"], "alice");
        assert_eq!(info["sub"], me["uri"]);
        assert_eq!(info["profile"], me["url"]);
        assert_eq!(info["picture"], me["avatar"]);
        assert_eq!(info["iss"], app.url("/"));
    }
    assert_eq!(app.get_anon("/oauth/userinfo").await.status, 401);
    let narrow = app.user_with_scopes("narrow", "read:statuses").await;
    assert_eq!(app.get(&narrow, "/oauth/userinfo").await.status, 403);
    let profile = app.user_with_scopes("profiled", "profile").await;
    assert_eq!(app.get(&profile, "/oauth/userinfo").await.status, 200);
}
