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

#[tokio::test]
async fn reports_are_filed_with_their_statuses_and_bad_ones_are_refused() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let troll = app.user("troll").await;
    let other = app.user("other").await;
    let insult = app.post_status(&troll, "you are all wrong", "public").await;
    let unrelated = app.post_status(&other, "hello", "public").await;
    let report = app
        .post(
            &alice,
            "/api/v1/reports",
            json!({"account_id": troll.id, "status_ids": [insult["id"]], "comment": "rude", "category": "violation"}),
        )
        .await
        .ok();
    assert_eq!(report["target_account"]["id"], json!(troll.id));
    assert_eq!(report["status_ids"], json!([insult["id"]]));
    assert_eq!(
        (report["category"].as_str(), report["comment"].as_str()),
        (Some("violation"), Some("rude"))
    );
    assert_eq!(
        (
            report["action_taken"].as_bool(),
            report["forwarded"].as_bool()
        ),
        (Some(false), Some(false))
    );
    let plain = app
        .post(&alice, "/api/v1/reports", json!({"account_id": troll.id}))
        .await
        .ok();
    assert_eq!(plain["category"], "other");

    for (body, status) in [
        (json!({"account_id": alice.id}), 422),
        (json!({}), 422),
        (json!({"account_id": "999999"}), 404),
        (
            json!({"account_id": troll.id, "status_ids": [unrelated["id"]]}),
            422,
        ),
        (json!({"account_id": troll.id, "category": "boring"}), 422),
        (
            json!({"account_id": troll.id, "comment": "x".repeat(1001)}),
            422,
        ),
    ] {
        let res = app.post(&alice, "/api/v1/reports", body.clone()).await;
        assert_eq!(res.status, status, "{body}: {}", res.body);
        assert!(res.body["error"].is_string());
    }
    let anonymous = app
        .request(
            reqwest::Method::POST,
            "/api/v1/reports",
            None,
            Some(json!({"account_id": troll.id})),
        )
        .await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn reports_from_brand_new_accounts_alone_do_not_mark_an_account_as_spam() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let target = app.user("target").await;
    let mentions_of_alice = || async {
        app.get(&alice, "/api/v1/notifications?types[]=mention")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len()
    };
    // A handful of accounts made a minute ago, as anyone can make them, report the
    // target, itself new.
    for i in 0..5 {
        let throwaway = app.user(&format!("throwaway{i}")).await;
        app.post(
            &throwaway,
            "/api/v1/reports",
            json!({"account_id": target.id, "category": "spam"}),
        )
        .await
        .ok();
    }
    app.post_status(&target, "@alice hello there", "public")
        .await;
    assert_eq!(mentions_of_alice().await, 1, "the mention is not filtered");

    // Reports from established accounts still count.
    reported_by_established_accounts(&app, &target, 3).await;
    app.post_status(&target, "@alice hello again", "public")
        .await;
    assert_eq!(
        mentions_of_alice().await,
        1,
        "the reported account's mention is filtered"
    );
}

#[tokio::test]
async fn a_report_is_weighed_at_once_not_after_the_assessment_expires() {
    let app = spawn_app().await;
    let moderator = crate::admin::staff(&app, "moderator", "moderator").await;
    let target = app.user("target").await;
    let spam_of_target = || async {
        app.get(&moderator, &format!("/api/v1/admin/accounts/{}", target.id))
            .await
            .ok()["cascade_spam"]
            .clone()
    };
    let before = spam_of_target().await;
    assert!(!before["reasons"].to_string().contains("reported"));
    // The target neither posts nor follows meanwhile, so nothing else tells a cached
    // assessment that it is out of date.
    reported_by_established_accounts(&app, &target, 3).await;
    let after = spam_of_target().await;
    assert!(
        after["reasons"]
            .to_string()
            .contains("reported by 3 accounts"),
        "the reports are weighed: {after}"
    );
    assert!(after["likelihood"].as_f64() > before["likelihood"].as_f64());
}

/// `n` accounts made 90 days ago report `target` as spam.
async fn reported_by_established_accounts(
    app: &crate::helpers::TestApp,
    target: &crate::helpers::User,
    n: usize,
) {
    for reporter in crate::helpers::crowd(app, "established", n).await {
        app.post(
            &reporter,
            "/api/v1/reports",
            json!({"account_id": target.id, "category": "spam"}),
        )
        .await
        .ok();
    }
}
