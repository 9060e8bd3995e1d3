//! Follow suggestions (`/api/v2/suggestions`) ranked by interest overlap, with their
//! sources and explanations, and the opt-in follow-back rule.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{crowd, spawn_app, TestApp, User};

async fn suggestions(app: &TestApp, user: &User) -> Vec<Value> {
    app.get(user, "/api/v2/suggestions")
        .await
        .ok()
        .as_array()
        .cloned()
        .unwrap()
}

fn usernames(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|s| s["account"]["username"].as_str().unwrap().to_string())
        .collect()
}

fn find<'a>(list: &'a [Value], username: &str) -> &'a Value {
    list.iter()
        .find(|s| s["account"]["username"] == username)
        .unwrap_or_else(|| panic!("{username} is not suggested: {list:?}"))
}

/// Makes `user` a likely spam account: new, following 60 accounts within the hour,
/// posting bait.
async fn make_spammy(app: &TestApp, user: &User) {
    for target in crowd(app, &format!("{}target", user.username), 60).await {
        app.follow(user, &target).await;
    }
    for _ in 0..3 {
        app.post_status(
            user,
            "FREE FOLLOWERS at https://spam.example/now #gardening",
            "public",
        )
        .await;
    }
}

async fn follows(app: &TestApp, from: &User, to: &User) -> bool {
    let rel = app
        .get(
            from,
            &format!("/api/v1/accounts/relationships?id[]={}", to.id),
        )
        .await
        .ok();
    rel[0]["following"].as_bool().unwrap()
}

#[tokio::test]
async fn followers_friends_of_friends_and_tag_users_are_ranked_by_shared_interests() {
    let app = spawn_app().await;
    let me = app.user("me").await;
    app.post_status(
        &me,
        "Planting garlic and tomatoes in the garden #gardening",
        "public",
    )
    .await;
    app.post_status(
        &me,
        "Compost and mulch, the secret of tomatoes #gardening",
        "public",
    )
    .await;

    // Two followers: one who gardens, one who writes about code.
    let gardener = app.user("gardener").await;
    app.post_status(
        &gardener,
        "My garden tomatoes are ripe #gardening",
        "public",
    )
    .await;
    app.follow(&gardener, &me).await;
    let coder = app.user("coder").await;
    app.post_status(&coder, "Refactoring the parser again #rustlang", "public")
        .await;
    app.follow(&coder, &me).await;
    // A friend of a friend, and a stranger who uses my hashtag.
    let friend = app.user("friend").await;
    let fof = app.user("fof").await;
    app.post_status(&fof, "Mulch and compost for tomatoes", "public")
        .await;
    app.follow(&me, &friend).await;
    app.follow(&friend, &fof).await;
    let stranger = app.user("stranger").await;
    app.post_status(&stranger, "Garlic harvest #gardening", "public")
        .await;
    // Private words explain nothing to others.
    let quiet = app.user("quiet").await;
    app.post_status(
        &quiet,
        "tomatoes garden compost garlic #gardening",
        "private",
    )
    .await;
    app.follow(&quiet, &me).await;

    let list = suggestions(&app, &me).await;
    let names = usernames(&list);
    assert_eq!(names[0], "gardener", "{names:?}");
    assert!(!names.contains(&"friend".to_string()), "already followed");
    assert!(!names.contains(&"me".to_string()));
    let scores: Vec<f64> = list
        .iter()
        .map(|s| s["cascade"]["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    let g = find(&list, "gardener");
    // The gardener follows me, and uses my hashtag too.
    assert_eq!(g["sources"], json!(["most_interactions", "most_followed"]));
    assert_eq!(
        g["cascade"]["reasons"],
        json!(["follows_you", "popular_in_your_interests"])
    );
    assert_eq!(g["source"], "past_interactions");
    assert_eq!(g["cascade"]["shared_interests"][0], "#gardening");
    assert!(g["cascade"]["overlap"].as_f64().unwrap() > 0.3);

    let f = find(&list, "fof");
    assert_eq!(f["cascade"]["reasons"], json!(["friends_of_friends"]));
    assert_eq!(f["sources"], json!(["friends_of_friends"]));
    assert_eq!(f["cascade"]["mutuals"], 1);
    assert!(f["cascade"]["shared_interests"]
        .as_array()
        .unwrap()
        .contains(&json!("tomatoes")));

    let s = find(&list, "stranger");
    assert_eq!(
        s["cascade"]["reasons"],
        json!(["popular_in_your_interests"])
    );
    assert_eq!(s["source"], "global");

    let c = find(&list, "coder");
    assert_eq!(c["cascade"]["overlap"], 0.0);
    let q = find(&list, "quiet");
    assert_eq!(q["cascade"]["overlap"], 0.0, "private posts were not read");
    assert!(q["cascade"]["shared_interests"]
        .as_array()
        .unwrap()
        .is_empty());
    let last_two: Vec<&String> = names.iter().rev().take(2).collect();
    assert!(last_two.contains(&&"coder".to_string()) && last_two.contains(&&"quiet".to_string()));

    // v1 lists the same accounts.
    let v1 = app.get(&me, "/api/v1/suggestions").await.ok();
    let v1_names: Vec<&str> = v1
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        v1_names,
        names.iter().map(String::as_str).collect::<Vec<_>>()
    );

    let samples = [
        ("Suggestion", g.clone(), "suggestion".to_string()),
        ("Account", v1[0].clone(), "v1 suggestion".to_string()),
    ];
    if let Some(complaints) = crate::schemas::validate(&samples).await {
        assert!(complaints.is_empty(), "{complaints}");
    }
}

#[tokio::test]
async fn blocked_muted_dismissed_and_spam_accounts_are_never_suggested() {
    let app = spawn_app().await;
    let me = app.user("me").await;
    app.post_status(&me, "Tomatoes and garlic #gardening", "public")
        .await;
    let mut names = Vec::new();
    for name in ["blocked", "muted", "dismissed", "kept"] {
        let user = app.user(name).await;
        app.post_status(&user, "Tomatoes in my garden #gardening", "public")
            .await;
        app.follow(&user, &me).await;
        names.push(user);
    }
    let spammer = app.user("spammer").await;
    make_spammy(&app, &spammer).await;
    app.follow(&spammer, &me).await;
    assert_eq!(
        suggestions(&app, &me).await.len(),
        4,
        "the spammer is left out"
    );

    app.post(
        &me,
        &format!("/api/v1/accounts/{}/block", names[0].id),
        json!({}),
    )
    .await
    .ok();
    app.post(
        &me,
        &format!("/api/v1/accounts/{}/mute", names[1].id),
        json!({}),
    )
    .await
    .ok();
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/suggestions/{}", names[2].id),
            Some(&me.token),
            None,
        )
        .await;
    assert_eq!(res.ok(), json!({}));
    assert_eq!(usernames(&suggestions(&app, &me).await), vec!["kept"]);

    let res = app
        .request(
            Method::DELETE,
            "/api/v1/suggestions/12345",
            Some(&me.token),
            None,
        )
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(app.get_anon("/api/v2/suggestions").await.status, 401);
}

#[tokio::test]
async fn the_follow_back_rule_follows_back_only_overlapping_non_spam_followers() {
    let app = spawn_app().await;
    let me = app.user("me").await;
    app.post_status(&me, "Tomatoes, garlic and compost #gardening", "public")
        .await;
    let rule = app.get(&me, "/api/v1/cascade/follow_back").await.ok();
    assert_eq!(rule, json!({"enabled": false, "min_overlap": 0.2}));

    let early = app.user("early").await;
    app.post_status(&early, "Tomatoes in my garden #gardening", "public")
        .await;
    app.follow(&early, &me).await;
    assert!(!follows(&app, &me, &early).await, "the rule is off");

    let set = |body: Value| {
        let app = &app;
        let me = &me;
        async move {
            app.request(
                Method::PUT,
                "/api/v1/cascade/follow_back",
                Some(&me.token),
                Some(body),
            )
            .await
        }
    };
    assert_eq!(
        set(json!({"enabled": true, "min_overlap": 2})).await.status,
        422
    );
    assert_eq!(
        set(json!({"enabled": true, "min_overlap": "lots"}))
            .await
            .status,
        422
    );
    assert_eq!(set(json!({"min_overlap": 0.3})).await.status, 422);
    let on = set(json!({"enabled": true, "min_overlap": 0.3})).await.ok();
    assert_eq!(on, json!({"enabled": true, "min_overlap": 0.3}));

    let gardener = app.user("gardener").await;
    app.post_status(
        &gardener,
        "Garlic and tomatoes, compost too #gardening",
        "public",
    )
    .await;
    let coder = app.user("coder").await;
    app.post_status(&coder, "Refactoring the parser #rustlang", "public")
        .await;
    let spammer = app.user("spammer").await;
    make_spammy(&app, &spammer).await;
    app.post_status(
        &spammer,
        "Garlic and tomatoes, compost too #gardening",
        "public",
    )
    .await;
    for follower in [&gardener, &coder, &spammer] {
        app.follow(follower, &me).await;
    }
    assert!(
        follows(&app, &me, &gardener).await,
        "overlap passes: followed back"
    );
    assert!(!follows(&app, &me, &coder).await, "no overlap");
    assert!(!follows(&app, &me, &spammer).await, "likely spam");
    assert!(
        !follows(&app, &me, &early).await,
        "followed before the rule"
    );
    let notes = app.get(&gardener, "/api/v1/notifications").await.ok();
    assert_eq!(notes[0]["type"], "follow");
    assert_eq!(notes[0]["account"]["username"], "me");

    let off = set(json!({"enabled": false})).await.ok();
    assert_eq!(off["enabled"], false);
    let late = app.user("late").await;
    app.post_status(
        &late,
        "Garlic and tomatoes, compost too #gardening",
        "public",
    )
    .await;
    app.follow(&late, &me).await;
    assert!(!follows(&app, &me, &late).await, "the rule is off again");
}
