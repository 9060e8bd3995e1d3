//! Custom emojis: administrators upload them, `/api/v1/custom_emojis` lists them, and
//! statuses and accounts that use a `:shortcode:` list it in `emojis`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Part, TestApp, User};
use crate::media::{gif, png};

const ADMIN_SCOPES: &str = "read write follow admin:read admin:write";

async fn staff(app: &TestApp, name: &str, role: &str) -> User {
    let user = app.user_with_scopes(name, ADMIN_SCOPES).await;
    cascade_server::app::admin::set_role(&app.state, user.id.parse().unwrap(), Some(role))
        .await
        .unwrap();
    user
}

async fn upload(
    app: &TestApp,
    who: &User,
    shortcode: &str,
    bytes: Vec<u8>,
    extra: &[(&str, &str)],
) -> crate::helpers::Response {
    let mut parts = vec![
        Part::text("shortcode", shortcode),
        Part::file("file", "emoji.bin", "application/octet-stream", bytes),
    ];
    for (name, value) in extra {
        parts.push(Part::text(name, value));
    }
    app.send_multipart(
        Method::POST,
        "/api/v1/cascade/admin/custom_emojis",
        who,
        &parts,
    )
    .await
}

#[tokio::test]
async fn administrators_add_emojis_that_statuses_and_profiles_show() {
    let app = spawn_app().await;
    let admin = staff(&app, "boss", "admin").await;
    let moderator = staff(&app, "mod", "moderator").await;
    let alice = app.user("alice").await;
    assert_eq!(app.get_anon("/api/v1/custom_emojis").await.ok(), json!([]));

    let blob = upload(
        &app,
        &admin,
        "blobcat",
        png(300, 200, true),
        &[("category", "Blobs")],
    )
    .await
    .ok();
    assert_eq!(blob["shortcode"], "blobcat");
    assert_eq!(blob["category"], "Blobs");
    assert_eq!(blob["visible_in_picker"], true);
    assert_eq!(
        blob["url"], blob["static_url"],
        "a still picture is its own still"
    );
    let party = upload(
        &app,
        &admin,
        "party_parrot",
        gif(3),
        &[("visible_in_picker", "false")],
    )
    .await
    .ok();
    assert_ne!(
        party["url"], party["static_url"],
        "an animation has a still frame"
    );
    assert_eq!(party["visible_in_picker"], false);

    // The files are served: the still is scaled down and re-encoded.
    for url in [&blob["url"], &party["url"], &party["static_url"]] {
        let res = app.client.get(url.as_str().unwrap()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{url}");
    }
    let bytes = app
        .client
        .get(blob["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let stored = image::load_from_memory(&bytes).unwrap();
    assert_eq!((stored.width(), stored.height()), (256, 171));
    let animated = app
        .client
        .get(party["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(animated.starts_with(b"GIF8"));

    let listed = app.get_anon("/api/v1/custom_emojis").await.ok();
    let codes: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["shortcode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["blobcat", "party_parrot"]);

    let post = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "so happy :party_parrot: :blobcat::blobcat: :unknown:", "spoiler_text": ":blobcat:"}),
        )
        .await
        .ok();
    let used: Vec<&str> = post["emojis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["shortcode"].as_str().unwrap())
        .collect();
    assert_eq!(used, ["party_parrot", "blobcat"]);
    assert_eq!(post["emojis"][0]["url"], party["url"]);
    let me = app
        .request(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&alice.token),
            Some(json!({"display_name": "Alice :blobcat:"})),
        )
        .await
        .ok();
    assert_eq!(me["emojis"][0]["shortcode"], "blobcat");
    let plain = app
        .post_status(&alice, "no emoji here: none", "public")
        .await;
    assert_eq!(plain["emojis"], json!([]));

    // Replacing keeps one emoji under the shortcode; removing takes it away everywhere.
    upload(&app, &admin, "blobcat", png(16, 16, false), &[])
        .await
        .ok();
    let listed = app.get_anon("/api/v1/custom_emojis").await.ok();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["category"], Value::Null);
    let res = app
        .request(
            Method::DELETE,
            "/api/v1/cascade/admin/custom_emojis/blobcat",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(res.ok(), json!({}));
    let again = app
        .get_anon(&format!(
            "/api/v1/statuses/{}",
            post["id"].as_str().unwrap()
        ))
        .await
        .ok();
    let used: Vec<&str> = again["emojis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["shortcode"].as_str().unwrap())
        .collect();
    assert_eq!(used, ["party_parrot"]);
    let res = app
        .request(
            Method::DELETE,
            "/api/v1/cascade/admin/custom_emojis/blobcat",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // Only administrators, and only pictures under the limits.
    let res = upload(&app, &moderator, "nope", png(8, 8, false), &[]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = upload(&app, &alice, "nope", png(8, 8, false), &[]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    for (code, bytes) in [
        ("x", png(8, 8, false)),
        ("bad-dash", png(8, 8, false)),
        ("text", b"just words, not a picture".to_vec()),
        ("big", vec![0x89; 300 * 1024]),
    ] {
        let res = upload(&app, &admin, code, bytes, &[]).await;
        assert!(
            res.status == StatusCode::UNPROCESSABLE_ENTITY
                || res.status == StatusCode::PAYLOAD_TOO_LARGE,
            "{code}: {}",
            res.status
        );
    }
    let samples: Vec<(&str, Value, String)> = app
        .get_anon("/api/v1/custom_emojis")
        .await
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| ("CustomEmoji", e.clone(), "custom emoji".to_string()))
        .collect();
    if let Some(bad) = crate::schemas::validate(&samples).await {
        assert!(bad.is_empty(), "{bad}");
    }
}
