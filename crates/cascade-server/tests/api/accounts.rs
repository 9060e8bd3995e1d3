use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn profiles_update_and_look_up() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let res = app.request(Method::PATCH, "/api/v1/accounts/update_credentials", Some(&alice.token), Some(json!({
        "display_name": "Alice A.", "note": "I like #rust", "bot": true,
        "fields_attributes": [{"name": "site", "value": "https://alice.example"}], "source": {"privacy": "unlisted"}
    }))).await.ok();
    assert_eq!(res["display_name"], "Alice A.");
    assert!(res["note"].as_str().unwrap().contains("hashtag"));
    assert_eq!(res["bot"], true);
    assert_eq!(res["fields"][0]["name"], "site");
    assert_eq!(res["source"]["privacy"], "unlisted");
    let found = app
        .get_anon("/api/v1/accounts/lookup?acct=ALICE")
        .await
        .ok();
    assert_eq!(found["id"], alice.id.as_str());
    let by_id = app
        .get_anon(&format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(by_id["acct"], "alice");
    // The default visibility now applies to new posts.
    let s = app
        .post(&alice, "/api/v1/statuses", json!({"status": "defaults"}))
        .await
        .ok();
    assert_eq!(s["visibility"], "unlisted");
}

#[tokio::test]
async fn follows_update_counts_and_relationships() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let rel = app
        .post(
            &bob,
            &format!("/api/v1/accounts/{}/follow", alice.id),
            json!({"notify": true}),
        )
        .await
        .ok();
    assert_eq!(rel["following"], true);
    assert_eq!(rel["notifying"], true);
    app.follow(&carol, &alice).await;
    app.follow(&bob, &carol).await;
    let a = app
        .get_anon(&format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(a["followers_count"], 2);
    let followers = app
        .get_anon(&format!("/api/v1/accounts/{}/followers?limit=1", alice.id))
        .await;
    assert!(followers.link().contains("rel=\"next\""));
    assert_eq!(followers.body.as_array().unwrap().len(), 1);
    let familiar = app
        .get(
            &bob,
            &format!("/api/v1/accounts/familiar_followers?id[]={}", alice.id),
        )
        .await
        .ok();
    assert_eq!(familiar[0]["accounts"][0]["id"], carol.id.as_str());
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/remove_from_followers", bob.id),
        json!({}),
    )
    .await
    .ok();
    let rel = app
        .get(
            &bob,
            &format!(
                "/api/v1/accounts/relationships?id[]={}&id[]={}",
                alice.id, carol.id
            ),
        )
        .await
        .ok();
    assert_eq!(rel[0]["following"], false);
    assert_eq!(rel[1]["following"], true);
}

#[tokio::test]
async fn locked_accounts_receive_follow_requests() {
    let app = spawn_app().await;
    let star = app.user("star").await;
    let fan = app.user("fan").await;
    let other = app.user("other").await;
    app.request(
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&star.token),
        Some(json!({"locked": true})),
    )
    .await
    .ok();
    let rel = app
        .post(
            &fan,
            &format!("/api/v1/accounts/{}/follow", star.id),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(rel["following"], false);
    assert_eq!(rel["requested"], true);
    app.follow(&other, &star).await;
    let requests = app.get(&star, "/api/v1/follow_requests").await.ok();
    assert_eq!(requests.as_array().unwrap().len(), 2);
    let rel = app
        .post(
            &star,
            &format!("/api/v1/follow_requests/{}/authorize", fan.id),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(rel["followed_by"], true);
    let rel = app
        .post(
            &star,
            &format!("/api/v1/follow_requests/{}/reject", other.id),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(rel["followed_by"], false);
    assert_eq!(
        app.post(
            &star,
            &format!("/api/v1/follow_requests/{}/reject", other.id),
            json!({})
        )
        .await
        .status,
        404
    );
    let private = app
        .post_status(&star, "for approved followers", "private")
        .await;
    assert_eq!(
        app.get(
            &fan,
            &format!("/api/v1/statuses/{}", private["id"].as_str().unwrap())
        )
        .await
        .status,
        200
    );
    assert_eq!(
        app.get(
            &other,
            &format!("/api/v1/statuses/{}", private["id"].as_str().unwrap())
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn timed_mutes_expire() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let rel = app
        .post(
            &bob,
            &format!("/api/v1/accounts/{}/mute", alice.id),
            json!({"duration": 3600, "notifications": false}),
        )
        .await
        .ok();
    assert_eq!(rel["muting"], true);
    assert_eq!(rel["muting_notifications"], false);
    assert!(rel["muting_expires_at"].is_string());
}

#[tokio::test]
async fn the_instance_describes_itself_to_clients() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let v2 = app.get_anon("/api/v2/instance").await.ok();
    assert_eq!(v2["configuration"]["statuses"]["max_characters"], 500);
    assert!(v2["api_versions"]["mastodon"].as_i64().unwrap() >= 2);
    assert!(v2["version"].as_str().unwrap().starts_with("4."));
    let v1 = app.get_anon("/api/v1/instance").await.ok();
    assert_eq!(v1["stats"]["user_count"], 1);
    let wf = app
        .get_anon(&format!(
            "/.well-known/webfinger?resource=acct:alice@{}",
            app.addr
        ))
        .await
        .ok();
    assert_eq!(wf["subject"], format!("acct:alice@{}", app.addr));
    assert_eq!(
        app.get_anon("/.well-known/webfinger?resource=acct:nobody@elsewhere.test")
            .await
            .status,
        404
    );
    let ni = app.get_anon("/nodeinfo/2.0").await.ok();
    assert_eq!(ni["usage"]["users"]["total"], 1);
    assert_eq!(
        app.get(&alice, "/api/v1/preferences").await.ok()["posting:default:visibility"],
        "public"
    );
    assert_eq!(app.get_anon("/health").await.status, 200);
}

#[tokio::test]
async fn federation_is_advertised_and_every_uri_answers() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let ni = app.get_anon("/nodeinfo/2.0").await.ok();
    assert_eq!(ni["protocols"], serde_json::json!(["activitypub"]));
    let wf = app
        .get_anon(&format!(
            "/.well-known/webfinger?resource=acct:alice@{}",
            app.addr
        ))
        .await
        .ok();
    let links = wf["links"].as_array().unwrap();
    assert!(
        links
            .iter()
            .any(|l| l["type"] == "application/activity+json" && l["rel"] == "self"),
        "{wf}"
    );
    // Every URI a client is given answers.
    let account = app
        .get(&alice, "/api/v1/accounts/verify_credentials")
        .await
        .ok();
    let status = app.post_status(&alice, "hello", "public").await;
    for uri in [
        account["uri"].as_str().unwrap(),
        status["uri"].as_str().unwrap(),
    ]
    .into_iter()
    .chain(
        wf["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a.as_str()),
    ) {
        let res = app.client.get(uri).send().await.unwrap();
        assert_eq!(res.status(), 200, "{uri}");
    }
}
