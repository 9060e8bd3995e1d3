//! The instance's own pages from configuration, its weekly activity, and oEmbed.

use cascade_core::time::{now_millis, week_start, WEEK_MS};
use cascade_server::config::{InstancePages, PageText};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_with};
use crate::schemas::validate;

#[tokio::test]
async fn without_configuration_the_instance_has_no_rules_or_policies() {
    let app = spawn_app().await;
    assert_eq!(app.get_anon("/api/v1/instance/rules").await.ok(), json!([]));
    assert_eq!(app.get_anon("/api/v1/instance/peers").await.ok(), json!([]));
    assert_eq!(
        app.get_anon("/api/v1/instance/translation_languages")
            .await
            .ok(),
        json!({})
    );
    let about = app
        .get_anon("/api/v1/instance/extended_description")
        .await
        .ok();
    assert_eq!(about["content"], "");
    for path in [
        "/api/v1/instance/privacy_policy",
        "/api/v1/instance/terms_of_service",
        "/api/v1/instance/terms_of_service/2025-01-01",
    ] {
        let res = app.get_anon(path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert!(res.body["error"].is_string());
    }
    let v2 = app.get_anon("/api/v2/instance").await.ok();
    assert_eq!(v2["rules"], json!([]));
    assert_eq!(
        v2["contact"]["email"],
        format!("admin@{}", app.addr).as_str()
    );
}

#[tokio::test]
async fn rules_policies_and_contact_come_from_the_configuration() {
    let updated = cascade_core::time::parse_rfc3339("2026-03-01T10:00:00Z").unwrap();
    let page = |text: &str| {
        Some(PageText {
            text: text.into(),
            updated_at: updated,
        })
    };
    let app = spawn_with(|c| {
        c.pages = InstancePages {
            rules: vec![
                ("Be kind".into(), "No harassment.".into()),
                ("No spam".into(), String::new()),
            ],
            extended_description: page("About us.\n\nSee https://example.org <script>"),
            privacy_policy: page("We keep little."),
            terms_of_service: page("Be nice."),
            contact_email: Some("mods@example.test".into()),
            contact_account: Some("bob".into()),
            registrations_message: Some("Invite only, ask first.".into()),
        }
    })
    .await;
    app.user("alice").await;
    let bob = app.user("bob").await;
    let rules = app.get_anon("/api/v1/instance/rules").await.ok();
    assert_eq!(rules[0]["id"], "1");
    assert_eq!(rules[0]["text"], "Be kind");
    assert_eq!(rules[0]["hint"], "No harassment.");
    assert_eq!(rules[1]["text"], "No spam");
    let about = app
        .get_anon("/api/v1/instance/extended_description")
        .await
        .ok();
    let content = about["content"].as_str().unwrap();
    assert!(content.contains("<p>About us.</p>"), "{content}");
    assert!(
        content.contains("href=\"https://example.org\""),
        "{content}"
    );
    assert!(
        !content.contains("<script>"),
        "page text is escaped: {content}"
    );
    assert_eq!(about["updated_at"], "2026-03-01T10:00:00.000Z");
    let privacy = app.get_anon("/api/v1/instance/privacy_policy").await.ok();
    assert!(privacy["content"]
        .as_str()
        .unwrap()
        .contains("We keep little."));
    let terms = app.get_anon("/api/v1/instance/terms_of_service").await.ok();
    assert_eq!(terms["effective_date"], "2026-03-01");
    assert_eq!(terms["effective"], true);
    let same = app
        .get_anon("/api/v1/instance/terms_of_service/2026-03-01")
        .await
        .ok();
    assert_eq!(same, terms);
    let res = app
        .get_anon("/api/v1/instance/terms_of_service/2020-01-01")
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let v2 = app.get_anon("/api/v2/instance").await.ok();
    assert_eq!(v2["rules"], rules);
    assert_eq!(v2["contact"]["email"], "mods@example.test");
    assert_eq!(v2["contact"]["account"]["id"], bob.id.as_str());
    assert_eq!(v2["registrations"]["message"], "Invite only, ask first.");
    let v1 = app.get_anon("/api/v1/instance").await.ok();
    assert_eq!(v1["rules"], rules);
    assert_eq!(v1["email"], "mods@example.test");
    assert_eq!(v1["contact_account"]["username"], "bob");
    if let Some(complaints) = validate(&[
        ("Rule[]", rules, "rules".into()),
        ("ExtendedDescription", about, "about".into()),
        ("PrivacyPolicy", privacy, "privacy".into()),
        ("TermsOfService", terms, "terms".into()),
        ("Instance", v2, "instance v2".into()),
        ("V1Instance", v1, "instance v1".into()),
    ])
    .await
    {
        assert!(complaints.is_empty(), "{complaints}");
    }
}

#[tokio::test]
async fn activity_counts_real_weeks() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app.post_status(&alice, "one", "public").await;
    app.post_status(&bob, "two", "private").await;
    app.post(
        &bob,
        &format!("/api/v1/statuses/{}/reblog", post["id"].as_str().unwrap()),
        json!({}),
    )
    .await
    .ok();
    // A status from three weeks ago, written straight into the store.
    let then = week_start(now_millis()) - 3 * WEEK_MS + 3_600_000;
    let record = crate::helpers::public_status(
        app.state.ids.next_at(then),
        alice.id.parse().unwrap(),
        "old",
        then,
    );
    app.state
        .store
        .insert_statuses_bulk(&[record])
        .await
        .unwrap();
    let weeks = app.get_anon("/api/v1/instance/activity").await.ok();
    let weeks: Vec<Value> = weeks.as_array().unwrap().clone();
    assert_eq!(weeks.len(), 12);
    let current = week_start(now_millis()) / 1000;
    assert_eq!(weeks[0]["week"], current.to_string().as_str());
    assert_eq!(
        weeks[1]["week"],
        (current - WEEK_MS / 1000).to_string().as_str()
    );
    assert_eq!(weeks[0]["statuses"], "2", "reblogs are not counted");
    assert_eq!(weeks[0]["registrations"], "2");
    assert_eq!(weeks[0]["logins"], "2");
    assert_eq!(weeks[3]["statuses"], "1");
    assert_eq!(weeks[2]["statuses"], "0");
}

#[tokio::test]
async fn oembed_describes_public_statuses_only() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let post = app.post_status(&alice, "Hello <world>", "public").await;
    let url = post["url"].as_str().unwrap();
    let embed = app
        .get_anon(&format!("/api/oembed?url={url}&maxwidth=500"))
        .await
        .ok();
    assert_eq!(embed["type"], "rich");
    assert_eq!(embed["author_name"], "alice");
    assert_eq!(embed["width"], 500);
    let html = embed["html"].as_str().unwrap();
    assert!(html.contains("Hello &lt;world&gt;"), "{html}");
    assert!(html.contains(url), "{html}");
    let private = app.post_status(&alice, "secret", "private").await;
    for bad in [
        private["url"].as_str().unwrap().to_string(),
        "https://elsewhere.example/@alice/1".to_string(),
        format!("{url}0"),
        app.url("/@bob/1"),
    ] {
        let res = app.get_anon(&format!("/api/oembed?url={bad}")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{bad}");
    }
    let res = app.get_anon("/api/oembed").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    if let Some(complaints) = validate(&[("OEmbedResponse", embed, "oembed".into())]).await {
        assert!(complaints.is_empty(), "{complaints}");
    }
}

#[tokio::test]
async fn a_trailing_slash_reaches_the_same_endpoint() {
    let app = crate::helpers::spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    for path in [
        "/api/v1/instance/",
        "/api/v2/instance/",
        "/api/v1/timelines/public/?limit=1",
    ] {
        assert_eq!(app.get_anon(path).await.status, 200, "{path}");
    }
    let report = app
        .post(
            &alice,
            "/api/v1/reports/",
            serde_json::json!({"account_id": bob.id, "category": "other"}),
        )
        .await
        .ok();
    assert_eq!(report["target_account"]["id"], bob.id.as_str());
    assert_eq!(
        app.get_anon("/").await.status,
        app.get_anon("//").await.status
    );
}
