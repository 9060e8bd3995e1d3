//! Announcements: published by administrators (the use case the CLI calls, and the CLI
//! itself), read, dismissed and reacted to by users.

use cascade_server::app::announcements::{self, Draft};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::cli::admin;
use crate::helpers::spawn_app;
use crate::schemas::validate;

fn draft(text: &str) -> Draft {
    Draft {
        text: text.into(),
        ..Draft::default()
    }
}

/// `👍` and friends as a path segment.
fn enc(name: &str) -> String {
    name.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn users_read_dismiss_and_react_to_announcements() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    assert_eq!(
        app.get(&alice, "/api/v1/announcements").await.ok(),
        json!([])
    );
    let now = cascade_core::time::now_millis();
    let first = announcements::create(
        &app.state,
        Draft {
            text: "Maintenance tonight, ask @alice #ops".into(),
            starts_at: Some(now + 3_600_000),
            ends_at: Some(now + 7_200_000),
            all_day: false,
        },
    )
    .await
    .unwrap();
    let second = announcements::create(&app.state, draft("Welcome!"))
        .await
        .unwrap();
    let list = app.get(&alice, "/api/v1/announcements").await.ok();
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    let a = &list[0];
    assert_eq!(a["id"], first.id.to_string().as_str());
    assert!(a["content"].as_str().unwrap().contains("/tags/ops"), "{a}");
    assert_eq!(a["tags"][0]["name"], "ops");
    assert_eq!(a["mentions"][0]["id"], alice.id.as_str());
    assert_eq!(a["read"], false);
    assert!(a["starts_at"].is_string() && a["ends_at"].is_string());
    assert_eq!(a["reactions"], json!([]));
    // Reactions: one Unicode emoji each, counted per name, `me` for the viewer.
    let id = first.id;
    let thumbs = enc("👍");
    for user in [&alice, &bob] {
        let res = app
            .request(
                Method::PUT,
                &format!("/api/v1/announcements/{id}/reactions/{thumbs}"),
                Some(&user.token),
                None,
            )
            .await;
        assert_eq!(res.ok(), json!({}));
    }
    // Twice is once.
    app.request(
        Method::PUT,
        &format!("/api/v1/announcements/{id}/reactions/{thumbs}"),
        Some(&alice.token),
        None,
    )
    .await
    .ok();
    app.request(
        Method::PUT,
        &format!("/api/v1/announcements/{id}/reactions/{}", enc("🎉")),
        Some(&bob.token),
        None,
    )
    .await
    .ok();
    let seen = app.get(&alice, "/api/v1/announcements").await.ok();
    assert_eq!(
        seen[0]["reactions"],
        json!([{"name": "👍", "count": 2, "me": true}, {"name": "🎉", "count": 1, "me": false}])
    );
    for bad in ["blobcat", "%20", "a%F0%9F%91%8D"] {
        let res = app
            .request(
                Method::PUT,
                &format!("/api/v1/announcements/{id}/reactions/{bad}"),
                Some(&alice.token),
                None,
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(res.body["error"].is_string());
    }
    // At most 8 different reactions.
    for emoji in ["😀", "😁", "😂", "🤣", "😃", "😄"] {
        app.request(
            Method::PUT,
            &format!("/api/v1/announcements/{id}/reactions/{}", enc(emoji)),
            Some(&bob.token),
            None,
        )
        .await
        .ok();
    }
    let res = app
        .request(
            Method::PUT,
            &format!("/api/v1/announcements/{id}/reactions/{}", enc("😅")),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.request(
        Method::DELETE,
        &format!("/api/v1/announcements/{id}/reactions/{thumbs}"),
        Some(&alice.token),
        None,
    )
    .await
    .ok();
    let seen = app.get(&alice, "/api/v1/announcements").await.ok();
    assert_eq!(
        seen[0]["reactions"][0],
        json!({"name": "👍", "count": 1, "me": false})
    );
    // Dismissing hides it from the default list, not from `with_dismissed`.
    let res = app
        .post(
            &alice,
            &format!("/api/v1/announcements/{}/dismiss", second.id),
            json!({}),
        )
        .await;
    assert_eq!(res.ok(), json!({}));
    let seen = app.get(&alice, "/api/v1/announcements").await.ok();
    assert_eq!(seen.as_array().unwrap().len(), 1);
    let all = app
        .get(&alice, "/api/v1/announcements?with_dismissed=true")
        .await
        .ok();
    assert_eq!(all[1]["read"], true);
    assert_eq!(
        app.get(&bob, "/api/v1/announcements")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        2,
        "dismissals are per user"
    );
    if let Some(complaints) = validate(&[("Announcement[]", all, "announcements".into())]).await {
        assert!(complaints.is_empty(), "{complaints}");
    }
}

#[tokio::test]
async fn administrators_edit_and_remove_announcements_and_ended_ones_vanish() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let a = announcements::create(&app.state, draft("Old text"))
        .await
        .unwrap();
    let edited = announcements::edit(&app.state, a.id, draft("New text"))
        .await
        .unwrap();
    assert!(edited.updated_at >= a.updated_at);
    let seen = app.get(&alice, "/api/v1/announcements").await.ok();
    assert!(seen[0]["content"].as_str().unwrap().contains("New text"));
    announcements::delete(&app.state, a.id).await.unwrap();
    assert_eq!(
        app.get(&alice, "/api/v1/announcements").await.ok(),
        json!([])
    );
    let res = app
        .post(
            &alice,
            &format!("/api/v1/announcements/{}/dismiss", a.id),
            json!({}),
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // An announcement whose end has passed is not shown, nor can it be acted on.
    let now = cascade_core::time::now_millis();
    let ended = announcements::create(
        &app.state,
        Draft {
            text: "Over".into(),
            starts_at: Some(now - 7_200_000),
            ends_at: Some(now - 3_600_000),
            all_day: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        app.get(&alice, "/api/v1/announcements").await.ok(),
        json!([])
    );
    let res = app
        .post(
            &alice,
            &format!("/api/v1/announcements/{}/dismiss", ended.id),
            json!({}),
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    for bad in [
        draft(""),
        Draft {
            text: "x".into(),
            starts_at: Some(now),
            ends_at: Some(now - 1),
            all_day: false,
        },
    ] {
        assert!(announcements::create(&app.state, bad).await.is_err());
    }
    // Scopes, and users only.
    let live = announcements::create(&app.state, draft("Hi"))
        .await
        .unwrap();
    let reader = app.user_with_scopes("reader", "read").await;
    let res = app
        .post(
            &reader,
            &format!("/api/v1/announcements/{}/dismiss", live.id),
            json!({}),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .request(
            Method::PUT,
            &format!("/api/v1/announcements/{}/reactions/{}", live.id, enc("👍")),
            Some(&reader.token),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get_anon("/api/v1/announcements").await.status,
        StatusCode::UNAUTHORIZED
    );
    let res = app.get(&alice, "/api/v1/announcements/x/dismiss").await;
    assert!(res.status.is_client_error());
    let res = app
        .post(&alice, "/api/v1/announcements/nonsense/dismiss", json!({}))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_cli_publishes_edits_and_removes_announcements() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = admin(&[
        "announcements",
        "create",
        "Hello everyone",
        "--ends-at",
        "2099-01-01T00:00:00Z",
        "--data",
        data,
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(id.parse::<i64>().is_ok(), "{id}");
    let out = admin(&["announcements", "edit", &id, "Hello again", "--data", data]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = admin(&["announcements", "list", "--data", data]).await;
    let listed: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["text"], "Hello again");
    assert_eq!(
        listed[0]["ends_at"],
        Value::Null,
        "an edit replaces the times too"
    );
    let out = admin(&[
        "announcements",
        "create",
        "x",
        "--starts-at",
        "tomorrow",
        "--data",
        data,
    ])
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("RFC 3339"));
    let out = admin(&["announcements", "delete", &id, "--data", data]).await;
    assert!(out.status.success());
    let out = admin(&["announcements", "delete", &id, "--data", data]).await;
    assert!(!out.status.success(), "deleting twice fails");
    let out = admin(&["announcements", "list", "--data", data]).await;
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty());
}

#[tokio::test]
async fn administrators_write_announcements_through_the_api() {
    let app = spawn_app().await;
    let boss = app
        .user_with_scopes("boss", "read write admin:read admin:write")
        .await;
    cascade_server::app::admin::set_role(&app.state, boss.id.parse().unwrap(), Some("admin"))
        .await
        .unwrap();
    let moderator = app
        .user_with_scopes("mod", "read write admin:read admin:write")
        .await;
    cascade_server::app::admin::set_role(
        &app.state,
        moderator.id.parse().unwrap(),
        Some("moderator"),
    )
    .await
    .unwrap();
    let alice = app.user("alice").await;
    let path = "/api/v1/cascade/admin/announcements";
    let made = app
        .post(
            &boss,
            path,
            json!({"text": "Maintenance on #friday", "ends_at": "2099-01-01T00:00:00Z"}),
        )
        .await
        .ok();
    assert_eq!(made["text"], "Maintenance on #friday");
    let seen = app.get(&alice, "/api/v1/announcements").await.ok();
    assert_eq!(seen[0]["id"], made["id"]);
    assert!(seen[0]["content"]
        .as_str()
        .unwrap()
        .contains("/tags/friday"));
    let one = format!("{path}/{}", made["id"].as_str().unwrap());
    let edited = app
        .request(
            Method::PUT,
            &one,
            Some(&boss.token),
            Some(json!({"text": "Maintenance moved"})),
        )
        .await
        .ok();
    assert_eq!(edited["text"], "Maintenance moved");
    assert_eq!(
        app.get(&alice, "/api/v1/announcements").await.ok()[0]["content"],
        "<p>Maintenance moved</p>"
    );
    assert_eq!(app.get(&boss, path).await.ok().as_array().unwrap().len(), 1);
    // Only administrators write them, and only sensible ones.
    for who in [&moderator, &alice] {
        let res = app.post(who, path, json!({"text": "mine"})).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
    }
    for bad in [json!({"text": ""}), json!({"text": "x", "ends_at": "soon"})] {
        let res = app.post(&boss, path, bad.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let gone = app
        .request(Method::DELETE, &one, Some(&boss.token), None)
        .await
        .ok();
    assert_eq!(gone, json!({}));
    assert_eq!(
        app.get(&alice, "/api/v1/announcements").await.ok(),
        json!([])
    );
    let again = app
        .request(Method::DELETE, &one, Some(&boss.token), None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}
