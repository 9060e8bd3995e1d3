//! Hostile input: each class of request that could once size unbounded work (deep or
//! numerous parameters, huge numbers, huge texts) is answered with a JSON 4xx, and the
//! server still answers `/api/v1/health` afterwards.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// Asserts a Mastodon-style JSON error with `status`, then that the server is still up.
async fn refused(app: &TestApp, res: reqwest::Response, status: u16, what: &str) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got.as_u16(), status, "{what}: {body}");
    assert!(body["error"].is_string(), "{what}: {body}");
    still_up(app, what).await;
    body
}

async fn still_up(app: &TestApp, what: &str) {
    let health = app
        .client
        .get(app.url("/api/v1/health"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("the server is gone after {what}: {e}"));
    assert_eq!(health.status(), StatusCode::OK, "after {what}");
}

#[tokio::test]
async fn deeply_nested_form_keys_are_refused_and_the_server_lives() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let key = format!("status{}", "[a]".repeat(100_000));
    let res = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&alice.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("{key}=x"))
        .send()
        .await
        .unwrap();
    refused(&app, res, 400, "deep and long form keys").await;
    let res = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&alice.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("status{}=x", "[a]".repeat(20)))
        .send()
        .await
        .unwrap();
    let body = refused(&app, res, 400, "deep form keys").await;
    assert!(body["error"].as_str().unwrap().contains("nested"));

    let query = format!("/api/v1/timelines/public?limit{}=1", "[]".repeat(2_000));
    let res = app.client.get(app.url(&query)).send().await.unwrap();
    refused(&app, res, 400, "deep query keys").await;

    let multipart = format!(
        "--b\r\ncontent-disposition: form-data; name=\"note{}\"\r\n\r\nx\r\n--b--\r\n",
        "[0]".repeat(1_000)
    );
    let res = app
        .client
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice.token)
        .header("content-type", "multipart/form-data; boundary=b")
        .body(multipart)
        .send()
        .await
        .unwrap();
    refused(&app, res, 400, "deep multipart keys").await;
}

#[tokio::test]
async fn too_many_or_too_long_parameters_are_refused() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let many = "id[]=1&".repeat(50_000);
    let res = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&alice.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(many)
        .send()
        .await
        .unwrap();
    refused(&app, res, 400, "many form keys").await;

    let items: Vec<Value> = (0..5_000).map(|i| json!(i.to_string())).collect();
    let res = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&alice.token)
        .json(&json!({"status": "hi", "media_ids": items}))
        .send()
        .await
        .unwrap();
    refused(&app, res, 400, "a long JSON list").await;

    let res = app
        .client
        .get(app.url(&format!("/api/v1/timelines/public?{}=1", "k".repeat(5_000))))
        .send()
        .await
        .unwrap();
    refused(&app, res, 400, "a long key").await;

    let res = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&alice.token)
        .json(&json!({"status": "v".repeat(200_000)}))
        .send()
        .await
        .unwrap();
    refused(&app, res, 400, "a long value").await;
}

#[tokio::test]
async fn numbers_that_size_work_are_clamped_or_refused() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.post_status(&alice, "hello #world", "public").await;
    let huge = "18446744073709551615";
    for path in [
        format!("/api/v2/search?q=hello&type=statuses&offset={huge}"),
        format!("/api/v2/search?q=hello&offset={huge}"),
        format!("/api/v1/accounts/search?q=alice&offset={huge}"),
        format!("/api/v1/trends/tags?offset={huge}"),
        format!("/api/v1/trends/statuses?offset={huge}"),
        format!("/api/v1/trends/links?offset={huge}"),
    ] {
        let res = app
            .client
            .get(app.url(&path))
            .bearer_auth(&alice.token)
            .send()
            .await
            .unwrap();
        refused(&app, res, 400, &path).await;
    }
    let res = app
        .client
        .get(app.url(&format!("/api/v1/timelines/public?limit={huge}")))
        .send()
        .await
        .unwrap();
    refused(&app, res, 400, "a limit past 64 bits").await;
    let huge = "9223372036854775807";
    for path in [
        format!("/api/v1/timelines/public?limit={huge}"),
        format!("/api/v1/timelines/home?limit={huge}&max_id={huge}&min_id=-5"),
        "/api/v1/timelines/public?limit=-9223372036854775808".to_string(),
        format!("/api/v2/search?q=hello&limit={huge}"),
        format!("/api/v2/suggestions?limit={huge}"),
        format!("/api/v2/notifications?limit={huge}&grouped_types[]=favourite"),
        format!("/api/v1/notifications?limit={huge}"),
        format!("/api/v1/trends/statuses?limit={huge}"),
        format!("/api/v1/followed_tags?limit={huge}"),
        format!("/api/v1/accounts/{}/statuses?limit={huge}", alice.id),
        format!("/api/v1/accounts/{}/followers?limit={huge}", alice.id),
    ] {
        let res = app
            .client
            .get(app.url(&path))
            .bearer_auth(&alice.token)
            .send()
            .await
            .unwrap();
        let status = res.status();
        assert!(status.is_success(), "{path}: {status}");
        still_up(&app, &path).await;
    }
}

#[tokio::test]
async fn extreme_ids_in_paging_are_answered_without_overflow() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let post = app.post_status(&alice, "hello #world", "public").await;
    let list = app
        .post(&alice, "/api/v1/lists", json!({"title": "l"}))
        .await
        .ok();
    let extremes = ["-9223372036854775808", "9223372036854775807", "0", "-1"];
    let owned = [
        format!("/api/v1/accounts/{}/statuses", alice.id),
        format!("/api/v1/accounts/{}/followers", alice.id),
        format!("/api/v1/accounts/{}/following", alice.id),
        format!("/api/v1/timelines/list/{}", list["id"].as_str().unwrap()),
        format!(
            "/api/v1/statuses/{}/reblogged_by",
            post["id"].as_str().unwrap()
        ),
        format!(
            "/api/v1/statuses/{}/favourited_by",
            post["id"].as_str().unwrap()
        ),
        "/api/v2/notifications?grouped_types[]=favourite&grouped_types[]=follow".to_string(),
        "/api/v1/notifications/requests".to_string(),
        "/api/v1/followed_tags".to_string(),
        "/api/v1/lists/x/accounts".replace("x", list["id"].as_str().unwrap()),
    ];
    let endpoints = [
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/world",
        "/api/v1/notifications",
        "/api/v2/notifications",
        "/api/v1/favourites",
        "/api/v1/bookmarks",
        "/api/v1/conversations",
        "/api/v1/blocks",
        "/api/v1/mutes",
        "/api/v1/follow_requests",
        "/api/v2/search?q=hello&type=statuses",
    ];
    for endpoint in endpoints
        .iter()
        .copied()
        .chain(owned.iter().map(String::as_str))
    {
        for id in extremes {
            for key in ["max_id", "since_id", "min_id"] {
                let sep = if endpoint.contains('?') { '&' } else { '?' };
                let path = format!("{endpoint}{sep}{key}={id}&limit=40");
                let res = app
                    .client
                    .get(app.url(&path))
                    .bearer_auth(&alice.token)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{path}: {e}"));
                let status = res.status();
                assert!(status.is_success(), "{path}: {status}");
            }
        }
    }
    still_up(&app, "extreme ids").await;
}

#[tokio::test]
async fn texts_are_capped_in_bytes_and_characters() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    // A URL weighs 23 characters however long it is; its bytes are capped all the same.
    let url = format!("https://example.com/{}", "a".repeat(40_000));
    let res = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&alice.token)
        .json(&json!({ "status": url }))
        .send()
        .await
        .unwrap();
    let body = refused(&app, res, 422, "a megabyte-ish URL").await;
    assert!(body["error"].as_str().unwrap().contains("bytes"));
    let post = app.post_status(&alice, "short", "public").await;
    let res = app
        .client
        .put(app.url(&format!(
            "/api/v1/statuses/{}",
            post["id"].as_str().unwrap()
        )))
        .bearer_auth(&alice.token)
        .json(&json!({ "status": url }))
        .send()
        .await
        .unwrap();
    refused(&app, res, 422, "an edit to a huge URL").await;

    let res = app
        .client
        .post(app.url("/api/v1/lists"))
        .bearer_auth(&alice.token)
        .json(&json!({ "title": "t".repeat(1_000) }))
        .send()
        .await
        .unwrap();
    refused(&app, res, 422, "a long list title").await;

    let fields: Vec<Value> = (0..50)
        .map(|i| json!({"name": format!("n{i}"), "value": "v"}))
        .collect();
    let res = app
        .client
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice.token)
        .json(&json!({ "fields_attributes": fields }))
        .send()
        .await
        .unwrap();
    refused(&app, res, 422, "fifty profile fields").await;

    let res = app
        .client
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice.token)
        .json(&json!({ "display_name": "d".repeat(31), "note": "n".repeat(501) }))
        .send()
        .await
        .unwrap();
    refused(&app, res, 422, "a long display name").await;

    let res = app
        .client
        .post(app.url("/api/v2/filters"))
        .bearer_auth(&alice.token)
        .json(&json!({ "title": "f", "context": ["home"], "keywords_attributes": [{"keyword": "k".repeat(300)}] }))
        .send()
        .await
        .unwrap();
    refused(&app, res, 422, "a long filter keyword").await;

    let res = app
        .client
        .post(app.url("/api/v1/cascade/watches"))
        .bearer_auth(&alice.token)
        .json(&json!({ "name": "w", "keywords": ["k".repeat(300)] }))
        .send()
        .await
        .unwrap();
    refused(&app, res, 422, "a long watch term").await;
}

#[tokio::test]
async fn garbage_bodies_of_every_content_type_are_json_4xx() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let garbage: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", garbage.clone()),
        ("application/json", deep_json.into_bytes()),
        ("application/json", b"[1,2,3]".to_vec()),
        ("application/x-www-form-urlencoded", garbage.clone()),
        ("multipart/form-data; boundary=x", garbage.clone()),
        ("multipart/form-data", b"--x\r\n".to_vec()),
        ("text/plain", garbage.clone()),
        ("", garbage),
    ];
    for (content_type, body) in bodies {
        for path in [
            "/api/v1/statuses",
            "/api/v1/apps",
            "/oauth/token",
            "/api/v2/filters",
        ] {
            let mut req = app
                .client
                .post(app.url(path))
                .bearer_auth(&alice.token)
                .body(body.clone());
            if !content_type.is_empty() {
                req = req.header("content-type", content_type);
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            let what = format!("{content_type} to {path}");
            assert!(status.is_client_error(), "{what}: {status}");
            let json: Value = res.json().await.unwrap_or(Value::Null);
            assert!(json["error"].is_string(), "{what}: {json}");
            still_up(&app, &what).await;
        }
    }
}
