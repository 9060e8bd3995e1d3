//! The admin API: staff roles, the moderators' view of accounts and reports, and the
//! actions on accounts.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::cli::admin;
use crate::helpers::{spawn_app, TestApp, User};
use crate::schemas::validate;

const STAFF_SCOPES: &str = "read write follow admin:read admin:write";

async fn staff(app: &TestApp, name: &str, role: &str) -> User {
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
            &spammer.id,
            json!({"type": "sensitive"}),
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
