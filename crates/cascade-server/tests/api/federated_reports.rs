//! Reports across servers: a report about a remote account, forwarded, reaches its
//! server's moderators as a `Flag` from our instance actor; one not forwarded stays here;
//! and a moderator's domain block with `reject_reports` drops a peer's Flags.

use serde_json::{json, Value};

use crate::admin::staff;
use crate::federated_objects::{note_url, resolve};
use crate::federation::{domain, server};
use crate::helpers::{eventually, TestApp, User};

async fn reports(app: &TestApp, moderator: &User) -> Vec<Value> {
    app.get(moderator, "/api/v1/admin/reports")
        .await
        .ok()
        .as_array()
        .unwrap()
        .clone()
}

async fn with_comment(app: &TestApp, moderator: &User, comment: &str) -> Option<Value> {
    reports(app, moderator)
        .await
        .into_iter()
        .find(|r| r["comment"] == comment)
}

#[tokio::test]
async fn a_forwarded_report_reaches_the_reported_accounts_moderators_as_a_flag() {
    let a = server().await;
    let b = server().await;
    let alice = a.user("alice").await;
    let admin = staff(&a, "admin", "admin").await;
    let bob = b.user("bob").await;

    let post = a.post_status(&alice, "something to report", "public").await;
    let found = resolve(&b, &bob, &note_url(&a, "alice", &post)).await;
    let there = found["statuses"][0].clone();
    let alice_on_b = there["account"]["id"].as_str().unwrap().to_string();

    let kept = b
        .post(
            &bob,
            "/api/v1/reports",
            json!({"account_id": alice_on_b, "comment": "kept here"}),
        )
        .await
        .ok();
    assert_eq!(kept["forwarded"], false);
    let sent = b
        .post(
            &bob,
            "/api/v1/reports",
            json!({"account_id": alice_on_b, "status_ids": [there["id"]],
                   "comment": "please look", "forward": true}),
        )
        .await
        .ok();
    assert_eq!(sent["forwarded"], true, "{sent}");

    eventually("the Flag becomes a report on A", || async {
        with_comment(&a, &admin, "please look").await.is_some()
    })
    .await;
    let report = with_comment(&a, &admin, "please look").await.unwrap();
    assert_eq!(report["target_account"]["id"], alice.id.as_str());
    assert_eq!(report["statuses"][0]["id"], post["id"], "{report}");
    // Reported by B's instance actor: its server is the origin, the reporter stays unnamed.
    assert_eq!(report["account"]["domain"], domain(&b));
    assert_ne!(report["account"]["username"], "bob");
    assert_eq!(report["action_taken"], false);
    b.drain().await;
    assert!(with_comment(&a, &admin, "kept here").await.is_none());

    // A moderator on A rejects B's reports: the next Flag is dropped.
    a.post(
        &admin,
        "/api/v1/admin/domain_blocks",
        json!({"domain": domain(&b), "severity": "noop", "reject_reports": true}),
    )
    .await
    .ok();
    let again = b
        .post(
            &bob,
            "/api/v1/reports",
            json!({"account_id": alice_on_b, "comment": "not wanted", "forward": true}),
        )
        .await
        .ok();
    assert_eq!(again["forwarded"], true);
    b.drain().await;
    assert!(with_comment(&a, &admin, "not wanted").await.is_none());
    assert_eq!(reports(&a, &admin).await.len(), 1);
}
