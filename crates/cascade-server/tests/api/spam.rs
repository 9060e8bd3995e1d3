//! Spam accounts: signals a server has (age, follow bursts, follow ratio, repeated posts,
//! bare links, bait phrases) make an account likely spam, and then the recipients'
//! notification policy treats it as a limited account.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_bait_posting_follow_burster_is_filtered_as_a_limited_account() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let newcomer = app.user("newcomer").await;
    let spammer = app.user("spammer").await;
    for i in 0..60 {
        let target = app.user(&format!("target{i}")).await;
        app.follow(&spammer, &target).await;
    }
    for _ in 0..3 {
        app.post_status(
            &spammer,
            "FREE FOLLOWERS at https://spam.example/now",
            "public",
        )
        .await;
    }
    app.post_status(&newcomer, "@alice hello, nice to meet you", "public")
        .await;
    app.post_status(&spammer, "@alice free followers for you!", "public")
        .await;

    let listed = app
        .get(&alice, "/api/v1/notifications?types[]=mention")
        .await
        .ok();
    let from: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["account"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        from,
        vec![newcomer.id.as_str()],
        "only the newcomer's mention is listed"
    );
    let requests = app.get(&alice, "/api/v1/notifications/requests").await.ok();
    assert_eq!(requests.as_array().unwrap().len(), 1);
    assert_eq!(requests[0]["account"]["id"], json!(spammer.id));

    // Alice may accept notifications from limited accounts.
    app.request(
        reqwest::Method::PATCH,
        "/api/v2/notifications/policy",
        Some(&alice.token),
        Some(json!({"for_limited_accounts": "accept"})),
    )
    .await
    .ok();
    app.post_status(&spammer, "@alice last chance: free followers", "public")
        .await;
    let listed = app
        .get(&alice, "/api/v1/notifications?types[]=mention")
        .await
        .ok();
    assert_eq!(listed.as_array().unwrap().len(), 2);
}
