//! The admin API: staff roles, the moderators' view of accounts and reports, and the
//! actions on accounts.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::cli::admin;
use crate::helpers::{spawn_app, spawn_with, TestApp, User};
use crate::schemas::validate;

const STAFF_SCOPES: &str = "read write follow admin:read admin:write";

pub(crate) async fn staff(app: &TestApp, name: &str, role: &str) -> User {
    let user = app.user_with_scopes(name, STAFF_SCOPES).await;
    cascade_server::app::admin::set_role(&app.state, user.id.parse().unwrap(), Some(role))
        .await
        .unwrap();
    user
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn only_staff_with_admin_scopes_see_accounts() {
    let app = spawn_app().await;
    let moderator = staff(&app, "moderator", "moderator").await;
    let alice = app.user_with_scopes("alice", STAFF_SCOPES).await;
    let res = app.get(&alice, "/api/v1/admin/accounts").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "not staff");
    assert!(res.body["error"].is_string());
    let plain = app.user_with_scopes("plain", "read write").await;
    cascade_server::app::admin::set_role(&app.state, plain.id.parse().unwrap(), Some("admin"))
        .await
        .unwrap();
    let res = app.get(&plain, "/api/v1/admin/accounts").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "no admin scope");
    assert_eq!(
        res.body["error"],
        "This action is outside the authorized scopes"
    );
    let list = app.get(&moderator, "/api/v1/admin/accounts").await.ok();
    assert_eq!(list.as_array().unwrap().len(), 3);
    let me = app
        .get(&moderator, &format!("/api/v1/admin/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(me["email"], "alice@example.test");
    assert_eq!(me["account"]["username"], "alice");
    assert!(me["cascade_spam"]["likelihood"].is_number());
    assert_eq!(me["silenced"], false);
    let res = app.get(&moderator, "/api/v1/admin/accounts/999").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Filters and paging.
    let found = app
        .get(&moderator, "/api/v1/admin/accounts?username=ALI")
        .await
        .ok();
    assert_eq!(ids(&found), vec![alice.id.clone()]);
    let found = app
        .get(&moderator, "/api/v2/admin/accounts?permissions=staff")
        .await
        .ok();
    assert_eq!(found.as_array().unwrap().len(), 2);
    for empty in [
        "/api/v1/admin/accounts?remote=true",
        "/api/v2/admin/accounts?origin=remote",
        "/api/v2/admin/accounts?status=pending",
    ] {
        assert_eq!(app.get(&moderator, empty).await.ok(), json!([]), "{empty}");
    }
    let res = app
        .get(&moderator, "/api/v2/admin/accounts?status=strange")
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let pages = app
        .walk(&moderator, "/api/v2/admin/accounts?limit=1", "next")
        .await;
    assert_eq!(pages.len(), 3);
    if let Some(complaints) = validate(&[
        ("AdminAccount", me, "an admin account".into()),
        ("AdminAccount[]", list, "admin accounts".into()),
    ])
    .await
    {
        assert!(complaints.is_empty(), "{complaints}");
    }
}

#[tokio::test]
async fn moderators_silence_and_suspend_and_lift_both() {
    let app = spawn_app().await;
    let moderator = staff(&app, "moderator", "moderator").await;
    let boss = staff(&app, "boss", "admin").await;
    let spammer = app.user("spammer").await;
    let act = |who: &User, target: &str, body: Value| {
        let app = &app;
        let token = who.token.clone();
        let path = format!("/api/v1/admin/accounts/{target}/action");
        async move {
            app.request(reqwest::Method::POST, &path, Some(&token), Some(body))
                .await
        }
    };
    let res = act(&moderator, &spammer.id, json!({"type": "silence"})).await;
    assert_eq!(res.ok(), json!({}));
    let seen = app
        .get(
            &moderator,
            &format!("/api/v1/admin/accounts/{}", spammer.id),
        )
        .await
        .ok();
    assert_eq!(seen["silenced"], true);
    let silenced = app
        .get(&moderator, "/api/v1/admin/accounts?silenced=true")
        .await
        .ok();
    assert_eq!(ids(&silenced), vec![spammer.id.clone()]);
    let lifted = app
        .post(
            &moderator,
            &format!("/api/v1/admin/accounts/{}/unsilence", spammer.id),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(lifted["silenced"], false);
    act(&moderator, &spammer.id, json!({"type": "suspend"}))
        .await
        .ok();
    // The suspended account's token stops working.
    let res = app
        .get(&spammer, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let back = app
        .post(
            &moderator,
            &format!("/api/v1/admin/accounts/{}/unsuspend", spammer.id),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(back["suspended"], false);
    // Not oneself, not staff unless an admin, known types only.
    for (who, target, body, status) in [
        (
            &moderator,
            &moderator.id,
            json!({"type": "silence"}),
            StatusCode::FORBIDDEN,
        ),
        (
            &moderator,
            &boss.id,
            json!({"type": "silence"}),
            StatusCode::FORBIDDEN,
        ),
        (
            &moderator,
            &spammer.id,
            json!({"type": "explode"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &moderator,
            &"4242".to_string(),
            json!({"type": "silence"}),
            StatusCode::NOT_FOUND,
        ),
        (
            &spammer,
            &moderator.id,
            json!({"type": "silence"}),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let res = act(who, target, body.clone()).await;
        assert_eq!(res.status, status, "{body} on {target}: {}", res.body);
    }
    let res = act(&boss, &moderator.id, json!({"type": "silence"})).await;
    assert_eq!(res.ok(), json!({}), "an admin may act on a moderator");
}

#[tokio::test]
async fn reports_are_assigned_resolved_and_reopened() {
    let app = spawn_app().await;
    let moderator = staff(&app, "moderator", "moderator").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let post = app.post_status(&carol, "buy now", "public").await;
    let report = app
        .post(
            &bob,
            "/api/v1/reports",
            json!({"account_id": carol.id, "status_ids": [post["id"]], "comment": "spam", "category": "spam"}),
        )
        .await
        .ok();
    let id = report["id"].as_str().unwrap().to_string();
    let open = app.get(&moderator, "/api/v1/admin/reports").await.ok();
    assert_eq!(ids(&open), vec![id.clone()]);
    let r = &open[0];
    assert_eq!(r["account"]["id"], bob.id.as_str());
    assert_eq!(r["target_account"]["id"], carol.id.as_str());
    assert_eq!(r["statuses"][0]["id"], post["id"]);
    assert_eq!(r["action_taken"], false);
    let assigned = app
        .post(
            &moderator,
            &format!("/api/v1/admin/reports/{id}/assign_to_self"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(assigned["assigned_account"]["id"], moderator.id.as_str());
    let unassigned = app
        .post(
            &moderator,
            &format!("/api/v1/admin/reports/{id}/unassign"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(unassigned["assigned_account"], Value::Null);
    let resolved = app
        .post(
            &moderator,
            &format!("/api/v1/admin/reports/{id}/resolve"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(resolved["action_taken"], true);
    assert_eq!(
        resolved["action_taken_by_account"]["id"],
        moderator.id.as_str()
    );
    assert_eq!(
        app.get(&moderator, "/api/v1/admin/reports").await.ok(),
        json!([])
    );
    let done = app
        .get(&moderator, "/api/v1/admin/reports?resolved=true")
        .await
        .ok();
    assert_eq!(ids(&done), vec![id.clone()]);
    let reopened = app
        .post(
            &moderator,
            &format!("/api/v1/admin/reports/{id}/reopen"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(reopened["action_taken"], false);
    // Acting on the reported account with the report resolves it; a report about
    // someone else is refused.
    let res = app
        .post(
            &moderator,
            &format!("/api/v1/admin/accounts/{}/action", bob.id),
            json!({"type": "none", "report_id": id}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.post(
        &moderator,
        &format!("/api/v1/admin/accounts/{}/action", carol.id),
        json!({"type": "silence", "report_id": id}),
    )
    .await
    .ok();
    let after = app
        .get(&moderator, &format!("/api/v1/admin/reports/{id}"))
        .await
        .ok();
    assert_eq!(after["action_taken"], true);
    assert_eq!(after["target_account"]["silenced"], true);
    let filtered = app
        .get(
            &moderator,
            &format!(
                "/api/v1/admin/reports?resolved=true&target_account_id={}",
                bob.id
            ),
        )
        .await
        .ok();
    assert_eq!(filtered, json!([]));
    assert_eq!(
        app.get(&bob, &format!("/api/v1/admin/reports/{id}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&moderator, "/api/v1/admin/reports/777")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    if let Some(complaints) = validate(&[("AdminReport", after, "an admin report".into())]).await {
        assert!(complaints.is_empty(), "{complaints}");
    }
}

#[tokio::test]
async fn the_cli_gives_and_takes_staff_roles() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = admin(&[
        "create-user",
        "operator",
        "--email",
        "operator@example.test",
        "--password",
        "correct horse battery",
        "--data",
        data,
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for role in ["admin", "moderator", "none"] {
        let out = admin(&["role", "operator", role, "--data", data]).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = admin(&["role", "operator", "king", "--data", data]).await;
    assert!(!out.status.success());
    let out = admin(&["role", "nobody", "admin", "--data", data]).await;
    assert!(!out.status.success());
}

async fn act_on(app: &TestApp, who: &User, target: &str, body: Value) -> crate::helpers::Response {
    let path = format!("/api/v1/admin/accounts/{target}/action");
    app.request(reqwest::Method::POST, &path, Some(&who.token), Some(body))
        .await
}

#[tokio::test]
async fn sensitive_and_disable_leave_warnings_and_are_lifted() {
    let app = spawn_app().await;
    let moderator = staff(&app, "moderator", "moderator").await;
    let troll = app.user("troll").await;
    let picture = crate::media::upload(
        &app,
        &troll,
        crate::media::png(8, 8, false),
        "p.png",
        "image/png",
    )
    .await;
    let post = app
        .post(
            &troll,
            "/api/v1/statuses",
            json!({"status": "look", "media_ids": [picture["id"]]}),
        )
        .await
        .ok();
    assert_eq!(post["sensitive"], false);
    let text_only = app.post_status(&troll, "just words", "public").await;

    let said = "Mark your pictures, please.";
    act_on(
        &app,
        &moderator,
        &troll.id,
        json!({"type": "sensitive", "text": said}),
    )
    .await
    .ok();
    let admin_view = format!("/api/v1/admin/accounts/{}", troll.id);
    assert_eq!(
        app.get(&moderator, &admin_view).await.ok()["sensitized"],
        true
    );
    let post_path = format!("/api/v1/statuses/{}", post["id"].as_str().unwrap());
    assert_eq!(app.get_anon(&post_path).await.ok()["sensitive"], true);
    let words = format!("/api/v1/statuses/{}", text_only["id"].as_str().unwrap());
    assert_eq!(app.get_anon(&words).await.ok()["sensitive"], false);
    let listed = app
        .get(&moderator, "/api/v2/admin/accounts?status=sensitized")
        .await;
    assert_eq!(listed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let warnings = app.get(&troll, "/api/v1/cascade/warnings").await.ok();
    assert_eq!(warnings[0]["action"], "sensitive");
    assert_eq!(warnings[0]["text"], said);
    assert_eq!(warnings[0]["target_account"]["id"], troll.id.as_str());

    act_on(&app, &moderator, &troll.id, json!({"type": "disable"}))
        .await
        .ok();
    let refused = app.get(&troll, "/api/v1/accounts/verify_credentials").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body["error"], "Your login is currently disabled");
    let disabled = app
        .get(&moderator, "/api/v2/admin/accounts?status=disabled")
        .await
        .ok();
    assert_eq!(ids(&disabled), vec![troll.id.clone()]);
    let back = app
        .post(&moderator, &format!("{admin_view}/enable"), json!({}))
        .await
        .ok();
    assert_eq!(back["disabled"], false);
    let clean = app
        .post(&moderator, &format!("{admin_view}/unsensitive"), json!({}))
        .await
        .ok();
    assert_eq!(clean["sensitized"], false);
    assert_eq!(app.get_anon(&post_path).await.ok()["sensitive"], false);
    let warnings = app.get(&troll, "/api/v1/cascade/warnings").await.ok();
    let actions: Vec<&str> = warnings
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["disable", "sensitive"]);
    // Nothing for an action of none without words.
    act_on(&app, &moderator, &troll.id, json!({"type": "none"}))
        .await
        .ok();
    let after = app.get(&troll, "/api/v1/cascade/warnings").await.ok();
    assert_eq!(after.as_array().unwrap().len(), 2);
    // The warnings are no one else's business.
    let stranger = app.user("stranger").await;
    let theirs = app.get(&stranger, "/api/v1/cascade/warnings").await.ok();
    assert_eq!(theirs, json!([]));
    let samples = vec![(
        "AdminAccount",
        app.get(&moderator, &admin_view).await.ok(),
        "admin account".to_string(),
    )];
    if let Some(bad) = validate(&samples).await {
        assert!(bad.is_empty(), "{bad}");
    }
}

/// A token for an application, which signs people up.
async fn app_token(app: &TestApp) -> String {
    let client: Value = app
        .client
        .post(app.url("/api/v1/apps"))
        .json(&json!({"client_name": "Joiner", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"}))
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

/// Signs up from `from` (an `X-Forwarded-For` address the server trusts, or none):
/// the status and the body.
async fn sign_up(
    app: &TestApp,
    app_token: &str,
    name: &str,
    email: &str,
    from: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(app_token)
        .json(
            &json!({"username": name, "email": email, "password": "long enough pw",
                      "agreement": true, "reason": format!("{name} likes cascades")}),
        );
    if let Some(ip) = from {
        request = request.header("x-forwarded-for", ip);
    }
    let res = request.send().await.unwrap();
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

async fn whoami(app: &TestApp, token: &Value) -> (StatusCode, Value) {
    let res = app
        .client
        .get(app.url("/api/v1/accounts/verify_credentials"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn sign_ups_wait_for_approval_when_the_server_asks_for_it() {
    let app = spawn_with(|c| c.approval_required = true).await;
    let moderator = staff(&app, "moderator", "moderator").await;
    let joiner = app_token(&app).await;
    let instance = app.get_anon("/api/v2/instance").await.ok();
    assert_eq!(instance["registrations"]["approval_required"], true);
    let (status, token) = sign_up(&app, &joiner, "hopeful", "hopeful@example.test", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = whoami(&app, &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "Your login is currently pending approval");
    let pending = app
        .get(&moderator, "/api/v2/admin/accounts?status=pending")
        .await
        .ok();
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["approved"], false);
    assert_eq!(pending[0]["invite_request"], "hopeful likes cascades");
    let id = pending[0]["id"].as_str().unwrap().to_string();
    let approved = app
        .post(
            &moderator,
            &format!("/api/v1/admin/accounts/{id}/approve"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(approved["approved"], true);
    let (status, me) = whoami(&app, &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "hopeful");
    // Approving twice, or rejecting an approved account, is not allowed.
    for what in ["approve", "reject"] {
        let res = app
            .post(
                &moderator,
                &format!("/api/v1/admin/accounts/{id}/{what}"),
                json!({}),
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{what}");
    }
    // A rejected sign-up is gone, and its name is free again.
    let (_, token) = sign_up(&app, &joiner, "spammy", "spammy@example.test", None).await;
    let pending = app
        .get(&moderator, "/api/v1/admin/accounts?pending=true")
        .await
        .ok();
    let id = pending[0]["id"].as_str().unwrap().to_string();
    let rejected = app
        .post(
            &moderator,
            &format!("/api/v1/admin/accounts/{id}/reject"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(rejected["account"]["username"], "spammy");
    let gone = app
        .get(&moderator, &format!("/api/v1/admin/accounts/{id}"))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let (status, _) = whoami(&app, &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = sign_up(&app, &joiner, "spammy", "spammy@example.test", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn canonical_email_blocks_refuse_sign_ups() {
    let app = spawn_app().await;
    let moderator = staff(&app, "moderator", "moderator").await;
    let joiner = app_token(&app).await;
    let block = app
        .post(
            &moderator,
            "/api/v1/admin/canonical_email_blocks",
            json!({"email": "Foo.Bar+news@Example.com"}),
        )
        .await
        .ok();
    let hash = block["canonical_email_hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);
    let again = app
        .post(
            &moderator,
            "/api/v1/admin/canonical_email_blocks",
            json!({"canonical_email_hash": hash}),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    let matched = app
        .post(
            &moderator,
            "/api/v1/admin/canonical_email_blocks/test",
            json!({"email": "foobar@example.com"}),
        )
        .await
        .ok();
    assert_eq!(matched[0]["id"], block["id"]);
    let unmatched = app
        .post(
            &moderator,
            "/api/v1/admin/canonical_email_blocks/test",
            json!({"email": "someone@example.com"}),
        )
        .await
        .ok();
    assert_eq!(unmatched, json!([]));
    let (status, body) = sign_up(&app, &joiner, "sneaky", "f.o.o.bar+2@example.com", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let id = block["id"].as_str().unwrap();
    let path = format!("/api/v1/admin/canonical_email_blocks/{id}");
    assert_eq!(app.get(&moderator, &path).await.ok(), block);
    let listed = app
        .get(&moderator, "/api/v1/admin/canonical_email_blocks")
        .await
        .ok();
    assert_eq!(ids(&listed), vec![id.to_string()]);
    let deleted = app
        .request(reqwest::Method::DELETE, &path, Some(&moderator.token), None)
        .await
        .ok();
    assert_eq!(deleted, json!({}));
    let (status, _) = sign_up(&app, &joiner, "sneaky", "f.o.o.bar+2@example.com", None).await;
    assert_eq!(status, StatusCode::OK);
    let plain = app.user("plain").await;
    let res = app
        .get(&plain, "/api/v1/admin/canonical_email_blocks")
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn ip_blocks_hold_back_sign_ups_and_shut_out_requests() {
    let app = spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let moderator = staff(&app, "moderator", "moderator").await;
    let joiner = app_token(&app).await;
    let bad = |body: Value| {
        let app = &app;
        let token = moderator.token.clone();
        async move {
            app.request(
                reqwest::Method::POST,
                "/api/v1/admin/ip_blocks",
                Some(&token),
                Some(body),
            )
            .await
            .status
        }
    };
    assert_eq!(
        bad(json!({"ip": "not an ip", "severity": "no_access"})).await,
        422
    );
    assert_eq!(
        bad(json!({"ip": "203.0.113.0/24", "severity": "maybe"})).await,
        422
    );
    let block = app
        .post(
            &moderator,
            "/api/v1/admin/ip_blocks",
            json!({"ip": "203.0.113.7/24", "severity": "sign_up_block", "comment": "a spam farm"}),
        )
        .await
        .ok();
    assert_eq!(block["ip"], "203.0.113.0/24");
    assert_eq!(block["severity"], "sign_up_block");
    assert!(block["expires_at"].is_null());
    let (status, _) = sign_up(
        &app,
        &joiner,
        "farm1",
        "farm1@example.test",
        Some("203.0.113.9"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = sign_up(
        &app,
        &joiner,
        "elsewhere",
        "else@example.test",
        Some("198.51.100.1"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let path = format!("/api/v1/admin/ip_blocks/{}", block["id"].as_str().unwrap());
    let changed = app
        .request(
            reqwest::Method::PUT,
            &path,
            Some(&moderator.token),
            Some(json!({"severity": "sign_up_requires_approval", "expires_in": 3600})),
        )
        .await
        .ok();
    assert_eq!(changed["severity"], "sign_up_requires_approval");
    assert_eq!(changed["comment"], "a spam farm");
    assert!(changed["expires_at"].is_string());
    let (status, token) = sign_up(
        &app,
        &joiner,
        "farm2",
        "farm2@example.test",
        Some("203.0.113.9"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        whoami(&app, &token).await.0,
        StatusCode::FORBIDDEN,
        "waits for approval"
    );

    app.request(
        reqwest::Method::PUT,
        &path,
        Some(&moderator.token),
        Some(json!({"severity": "no_access"})),
    )
    .await
    .ok();
    let from_the_range = || {
        app.client
            .get(app.url("/api/v1/timelines/public"))
            .header("x-forwarded-for", "203.0.113.200")
            .send()
    };
    // At once on one node; on a cluster, once the change reached every node (within 1 s).
    crate::helpers::eventually("the block shuts the range out", || async {
        from_the_range().await.unwrap().status() == StatusCode::FORBIDDEN
    })
    .await;
    let shut_out = from_the_range().await.unwrap();
    assert_eq!(shut_out.status(), StatusCode::FORBIDDEN);
    assert!(shut_out.json::<Value>().await.unwrap()["error"].is_string());
    let let_in = app
        .client
        .get(app.url("/api/v1/timelines/public"))
        .header("x-forwarded-for", "198.51.100.1")
        .send()
        .await
        .unwrap();
    assert_eq!(let_in.status(), StatusCode::OK);
    let listed = app.get(&moderator, "/api/v1/admin/ip_blocks").await.ok();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&moderator, &path).await.ok()["severity"],
        "no_access"
    );
    app.request(reqwest::Method::DELETE, &path, Some(&moderator.token), None)
        .await
        .ok();
    let back = app
        .client
        .get(app.url("/api/v1/timelines/public"))
        .header("x-forwarded-for", "203.0.113.200")
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_dashboard_counts_what_happened_day_by_day() {
    let app = spawn_app().await;
    let moderator = staff(&app, "moderator", "moderator").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "hello #cascades", "language": "fr"}),
        )
        .await
        .ok();
    app.post(
        &bob,
        "/api/v1/statuses",
        json!({"status": "hi", "language": "en"}),
    )
    .await
    .ok();
    let id = post["id"].as_str().unwrap();
    app.post(&bob, &format!("/api/v1/statuses/{id}/favourite"), json!({}))
        .await
        .ok();
    app.post(&bob, &format!("/api/v1/statuses/{id}/reblog"), json!({}))
        .await
        .ok();
    app.post(
        &bob,
        "/api/v1/reports",
        json!({"account_id": alice.id, "comment": "hm", "category": "other"}),
    )
    .await
    .ok();
    let tag = app.get(&alice, "/api/v1/tags/cascades").await.ok();
    let tag_id = tag["id"].as_str().unwrap().to_string();

    let today = cascade_core::time::date(cascade_core::time::now_millis());
    let week_ago =
        cascade_core::time::date(cascade_core::time::now_millis() - 6 * cascade_core::time::DAY_MS);
    let measures = app
        .post(
            &moderator,
            "/api/v1/admin/measures",
            json!({"keys": ["new_users", "active_users", "interactions", "opened_reports",
                            "resolved_reports", "tag_uses", "tag_accounts", "instance_statuses", "nonsense"],
                   "start_at": week_ago, "end_at": today,
                   "tag_uses": {"id": tag_id}, "tag_accounts": {"id": tag_id},
                   "instance_statuses": {"domain": "elsewhere.example"}}),
        )
        .await
        .ok();
    let by_key = |key: &str| {
        measures
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["key"] == key)
            .unwrap_or_else(|| panic!("{key} in {measures}"))
            .clone()
    };
    assert_eq!(
        measures.as_array().unwrap().len(),
        8,
        "unknown keys are left out"
    );
    let new_users = by_key("new_users");
    assert_eq!(new_users["total"], "3");
    assert_eq!(new_users["previous_total"], "0");
    let days = new_users["data"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[6]["value"], "3", "today is the last day");
    assert!(days[6]["date"].as_str().unwrap().starts_with(&today));
    assert_eq!(days[0]["value"], "0");
    assert_eq!(by_key("active_users")["total"], "2");
    assert_eq!(by_key("interactions")["total"], "2");
    assert_eq!(by_key("opened_reports")["total"], "1");
    assert_eq!(by_key("resolved_reports")["total"], "0");
    assert_eq!(by_key("tag_uses")["total"], "1");
    assert_eq!(by_key("tag_accounts")["total"], "1");
    assert_eq!(by_key("instance_statuses")["total"], "0");

    let dimensions = app
        .post(
            &moderator,
            "/api/v1/admin/dimensions",
            json!({"keys": ["languages", "servers", "space_usage", "software_versions", "sources", "tag_languages"],
                   "start_at": week_ago, "end_at": today, "limit": 5, "tag_languages": {"id": tag_id}}),
        )
        .await
        .ok();
    let dim = |key: &str| {
        dimensions
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["key"] == key)
            .unwrap_or_else(|| panic!("{key} in {dimensions}"))["data"]
            .clone()
    };
    let languages = dim("languages");
    let codes: Vec<&str> = languages
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["key"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"fr") && codes.contains(&"en"),
        "{languages}"
    );
    assert!(languages
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["human_key"] == "French"));
    assert_eq!(dim("tag_languages")[0]["key"], "fr");
    assert_eq!(dim("servers")[0]["value"], "3", "two posts and a reblog");
    let space = dim("space_usage");
    assert_eq!(space[0]["unit"], "bytes");
    assert!(space[0]["value"].as_str().unwrap().parse::<i64>().unwrap() > 0);
    let software = dim("software_versions");
    assert_eq!(software[0]["key"], "cascade");
    assert!(!dim("sources").as_array().unwrap().is_empty());

    // Dates are required and must make a period; only staff may look.
    let res = app
        .post(
            &moderator,
            "/api/v1/admin/measures",
            json!({"keys": ["new_users"]}),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = app
        .post(
            &moderator,
            "/api/v1/admin/measures",
            json!({"keys": ["new_users"], "start_at": today, "end_at": week_ago}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let outsider = app.user_with_scopes("outsider", STAFF_SCOPES).await;
    let res = app
        .post(
            &outsider,
            "/api/v1/admin/dimensions",
            json!({"keys": ["languages"], "start_at": week_ago, "end_at": today}),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}
