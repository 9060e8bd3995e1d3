//! Profiles beyond the account: private notes, endorsements, featured tags, multi-fetch,
//! muted threads and the directory.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{ids, spawn_app, TestApp, User};
use crate::schemas::validate;

async fn check_schemas(samples: &[(&str, Value, String)]) {
    if let Some(complaints) = validate(samples).await {
        assert!(
            complaints.is_empty(),
            "entities that do not match the schemas:\n{complaints}"
        );
    }
}

async fn relationship(app: &TestApp, me: &User, other: &User) -> Value {
    let rels = app
        .get(
            me,
            &format!("/api/v1/accounts/relationships?id[]={}", other.id),
        )
        .await
        .ok();
    rels[0].clone()
}

#[tokio::test]
async fn private_notes_are_seen_by_their_author_only() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let rel = app
        .post(
            &alice,
            &format!("/api/v1/accounts/{}/note", bob.id),
            json!({"comment": "Met at the conference"}),
        )
        .await
        .ok();
    assert_eq!(rel["id"], bob.id.as_str());
    assert_eq!(rel["note"], "Met at the conference");
    assert_eq!(
        relationship(&app, &alice, &bob).await["note"],
        "Met at the conference"
    );
    // Nobody else sees it, not even its subject.
    assert_eq!(relationship(&app, &carol, &bob).await["note"], "");
    assert_eq!(relationship(&app, &bob, &alice).await["note"], "");
    // An empty comment (or none) clears it.
    let rel = app
        .post(
            &alice,
            &format!("/api/v1/accounts/{}/note", bob.id),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(rel["note"], "");
    let long = "x".repeat(2_001);
    let res = app
        .post(
            &alice,
            &format!("/api/v1/accounts/{}/note", bob.id),
            json!({"comment": long}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body["error"].is_string());
    let res = app
        .post(
            &alice,
            "/api/v1/accounts/12345/note",
            json!({"comment": "x"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let reader = app.user_with_scopes("reader", "read").await;
    let res = app
        .post(
            &reader,
            &format!("/api/v1/accounts/{}/note", bob.id),
            json!({"comment": "x"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/accounts/{}/note", bob.id),
            None,
            Some(json!({"comment": "x"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    check_schemas(&[("Relationship", rel, "a relationship with a note".into())]).await;
}

#[tokio::test]
async fn endorsements_need_a_follow_page_and_end_with_it() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let friends = [
        app.user("bob").await,
        app.user("carol").await,
        app.user("dave").await,
    ];
    let res = app
        .post(
            &alice,
            &format!("/api/v1/accounts/{}/endorse", friends[0].id),
            json!({}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let res = app
        .post(
            &alice,
            &format!("/api/v1/accounts/{}/endorse", alice.id),
            json!({}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in &friends {
        app.follow(&alice, f).await;
        let rel = app
            .post(
                &alice,
                &format!("/api/v1/accounts/{}/endorse", f.id),
                json!({}),
            )
            .await
            .ok();
        assert_eq!(rel["endorsed"], true);
    }
    // Endorsing twice changes nothing.
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/endorse", friends[0].id),
        json!({}),
    )
    .await
    .ok();
    let mine = app.get(&alice, "/api/v1/endorsements").await.ok();
    assert_eq!(
        ids(mine.as_array().unwrap()),
        vec![
            friends[2].id.clone(),
            friends[1].id.clone(),
            friends[0].id.clone()
        ]
    );
    // Anyone may read an account's endorsements, page by page.
    let path = format!("/api/v1/accounts/{}/endorsements?limit=1", alice.id);
    let stranger = app.user("stranger").await;
    let pages = app.walk(&stranger, &path, "next").await;
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|p| p.len() == 1));
    let anon = app
        .get_anon(&format!("/api/v1/accounts/{}/endorsements", alice.id))
        .await
        .ok();
    assert_eq!(anon.as_array().unwrap().len(), 3);
    // Unfollowing ends the endorsement; so does unendorsing.
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/unfollow", friends[0].id),
        json!({}),
    )
    .await
    .ok();
    let rel = app
        .post(
            &alice,
            &format!("/api/v1/accounts/{}/unendorse", friends[1].id),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(rel["endorsed"], false);
    let mine = app.get(&alice, "/api/v1/endorsements").await.ok();
    assert_eq!(ids(mine.as_array().unwrap()), vec![friends[2].id.clone()]);
    // Blocks hold: a blocked viewer sees none, and an endorsed account the viewer
    // blocks is left out.
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/block", stranger.id),
        json!({}),
    )
    .await
    .ok();
    let seen = app
        .get(
            &stranger,
            &format!("/api/v1/accounts/{}/endorsements", alice.id),
        )
        .await
        .ok();
    assert_eq!(seen, json!([]));
    let other = app.user("other").await;
    app.post(
        &other,
        &format!("/api/v1/accounts/{}/block", friends[2].id),
        json!({}),
    )
    .await
    .ok();
    let seen = app
        .get(
            &other,
            &format!("/api/v1/accounts/{}/endorsements", alice.id),
        )
        .await
        .ok();
    assert_eq!(seen, json!([]));
    let res = app.get(&alice, "/api/v1/accounts/999/endorsements").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    check_schemas(&[("Account[]", mine, "endorsements".into())]).await;
}

#[tokio::test]
async fn a_block_ends_endorsements_both_ways() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob).await;
    app.follow(&bob, &alice).await;
    for (a, b) in [(&alice, &bob), (&bob, &alice)] {
        app.post(a, &format!("/api/v1/accounts/{}/endorse", b.id), json!({}))
            .await
            .ok();
    }
    app.post(
        &bob,
        &format!("/api/v1/accounts/{}/block", alice.id),
        json!({}),
    )
    .await
    .ok();
    app.post(
        &bob,
        &format!("/api/v1/accounts/{}/unblock", alice.id),
        json!({}),
    )
    .await
    .ok();
    for u in [&alice, &bob] {
        assert_eq!(app.get(u, "/api/v1/endorsements").await.ok(), json!([]));
    }
}

#[tokio::test]
async fn featured_tags_count_the_public_posts_that_carry_them() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.post_status(&alice, "one #Rust", "public").await;
    app.post_status(&alice, "two #rust #cooking", "unlisted")
        .await;
    app.post_status(&alice, "secret #rust", "private").await;
    app.post_status(&alice, "three #rust", "public").await;
    let suggested = app
        .get(&alice, "/api/v1/featured_tags/suggestions")
        .await
        .ok();
    let names: Vec<&str> = suggested
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["rust", "cooking"]);
    let tag = app
        .post(&alice, "/api/v1/featured_tags", json!({"name": "#Rust"}))
        .await
        .ok();
    assert_eq!(tag["name"], "rust");
    assert_eq!(tag["statuses_count"], "3", "private posts are not counted");
    let today = cascade_core::time::date(cascade_core::time::now_millis());
    assert_eq!(tag["last_status_at"], today.as_str());
    assert!(tag["url"]
        .as_str()
        .unwrap()
        .ends_with("/@alice/tagged/rust"));
    // A tag nobody used yet may be featured too, with no posts.
    let fresh = app
        .post(
            &alice,
            "/api/v1/featured_tags",
            json!({"name": "gardening"}),
        )
        .await
        .ok();
    assert_eq!(fresh["statuses_count"], "0");
    assert_eq!(fresh["last_status_at"], Value::Null);
    for bad in [
        json!({"name": "rust"}),
        json!({"name": "no spaces"}),
        json!({}),
    ] {
        let res = app.post(&alice, "/api/v1/featured_tags", bad.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let suggested = app
        .get(&alice, "/api/v1/featured_tags/suggestions")
        .await
        .ok();
    assert_eq!(
        suggested[0]["name"], "cooking",
        "featured tags are not suggested"
    );
    let mine = app.get(&alice, "/api/v1/featured_tags").await.ok();
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let public = app
        .get_anon(&format!("/api/v1/accounts/{}/featured_tags", alice.id))
        .await
        .ok();
    assert_eq!(public, mine);
    // Through the hashtag's own endpoints as well.
    let hashtag = app
        .post(&alice, "/api/v1/tags/cooking/feature", json!({}))
        .await
        .ok();
    assert_eq!(hashtag["featuring"], true);
    let hashtag = app
        .post(&alice, "/api/v1/tags/cooking/unfeature", json!({}))
        .await
        .ok();
    assert_eq!(hashtag["featuring"], false);
    // Someone else's featured tag cannot be removed; one's own can.
    let bob = app.user("bob").await;
    let id = tag["id"].as_str().unwrap();
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/featured_tags/{id}"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/featured_tags/{id}"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(res.ok(), json!({}));
    // At most 10.
    for i in 0..9 {
        app.post(
            &alice,
            "/api/v1/featured_tags",
            json!({"name": format!("t{i}")}),
        )
        .await
        .ok();
    }
    let res = app
        .post(&alice, "/api/v1/featured_tags", json!({"name": "eleventh"}))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A blocked viewer sees none.
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/block", bob.id),
        json!({}),
    )
    .await
    .ok();
    let seen = app
        .get(
            &bob,
            &format!("/api/v1/accounts/{}/featured_tags", alice.id),
        )
        .await
        .ok();
    assert_eq!(seen, json!([]));
    check_schemas(&[
        ("FeaturedTag", tag, "a featured tag".into()),
        ("FeaturedTag[]", mine, "featured tags".into()),
        ("Tag[]", suggested, "suggestions".into()),
        ("Tag", hashtag, "a tag".into()),
    ])
    .await;
}

#[tokio::test]
async fn many_accounts_and_statuses_come_in_one_call_and_private_posts_stay_private() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let stranger = app.user("stranger").await;
    app.follow(&bob, &alice).await;
    let public = app.post_status(&alice, "hello", "public").await;
    let private = app.post_status(&alice, "friends only", "private").await;
    let direct = app.post_status(&alice, "@bob psst", "direct").await;
    let all = [&private, &public, &direct]
        .iter()
        .map(|s| format!("id[]={}", s["id"].as_str().unwrap()))
        .collect::<Vec<_>>()
        .join("&");
    let path = format!("/api/v1/statuses?{all}&id[]=999&id[]=nonsense");
    let seen = app.get(&bob, &path).await.ok();
    assert_eq!(
        ids(seen.as_array().unwrap()),
        ids(&[private.clone(), public.clone(), direct.clone()])
    );
    let seen = app.get(&stranger, &path).await.ok();
    assert_eq!(
        ids(seen.as_array().unwrap()),
        ids(std::slice::from_ref(&public))
    );
    let seen = app.get_anon(&path).await.ok();
    assert_eq!(
        ids(seen.as_array().unwrap()),
        ids(std::slice::from_ref(&public))
    );
    let accounts = app
        .get_anon(&format!(
            "/api/v1/accounts?id[]={}&id[]={}&id[]=424242&id[]={}",
            bob.id, alice.id, bob.id
        ))
        .await
        .ok();
    assert_eq!(
        ids(accounts.as_array().unwrap()),
        vec![bob.id.clone(), alice.id.clone()]
    );
    let too_many = (0..81)
        .map(|i| format!("id[]={i}"))
        .collect::<Vec<_>>()
        .join("&");
    for base in ["/api/v1/statuses", "/api/v1/accounts"] {
        let res = app.get(&bob, &format!("{base}?{too_many}")).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{base}");
    }
    let res = app.get_anon("/api/v1/statuses").await;
    assert_eq!(res.ok(), json!([]));
    let narrow = app.user_with_scopes("narrow", "read:notifications").await;
    let res = app.get(&narrow, &path).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    check_schemas(&[
        ("Status[]", seen, "statuses by id".into()),
        ("Account[]", accounts, "accounts by id".into()),
    ])
    .await;
}

async fn notification_count(app: &TestApp, user: &User) -> usize {
    app.settle().await;
    app.get(user, "/api/v1/notifications")
        .await
        .ok()
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_muted_thread_notifies_nothing_and_shows_muted() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let root = app.post_status(&alice, "a thought", "public").await;
    let root_id = root["id"].as_str().unwrap().to_string();
    let reply = app
        .post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "@alice indeed", "in_reply_to_id": root_id}),
        )
        .await
        .ok();
    let reply_id = reply["id"].as_str().unwrap().to_string();
    assert_eq!(notification_count(&app, &alice).await, 1);
    assert_eq!(root["muted"], false);
    // Muting through any status of the thread mutes the whole thread.
    let muted = app
        .post(
            &alice,
            &format!("/api/v1/statuses/{reply_id}/mute"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(muted["muted"], true);
    let shown = app
        .get(&alice, &format!("/api/v1/statuses/{root_id}"))
        .await
        .ok();
    assert_eq!(shown["muted"], true);
    // Only for alice.
    let shown = app
        .get(&bob, &format!("/api/v1/statuses/{root_id}"))
        .await
        .ok();
    assert_eq!(shown["muted"], false);
    app.post(
        &carol,
        "/api/v1/statuses",
        json!({"status": "@alice me too", "in_reply_to_id": reply_id}),
    )
    .await
    .ok();
    app.post(
        &carol,
        &format!("/api/v1/statuses/{root_id}/favourite"),
        json!({}),
    )
    .await
    .ok();
    assert_eq!(
        notification_count(&app, &alice).await,
        1,
        "nothing new from the muted thread"
    );
    // Another thread still notifies.
    app.post_status(&carol, "@alice elsewhere", "public").await;
    assert_eq!(notification_count(&app, &alice).await, 2);
    let unmuted = app
        .post(
            &alice,
            &format!("/api/v1/statuses/{root_id}/unmute"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(unmuted["muted"], false);
    app.post(
        &bob,
        &format!("/api/v1/statuses/{root_id}/favourite"),
        json!({}),
    )
    .await
    .ok();
    assert_eq!(notification_count(&app, &alice).await, 3);
    // A status one may not see cannot be muted, and is not revealed.
    let secret = app.post_status(&bob, "only mine", "private").await;
    let res = app
        .post(
            &alice,
            &format!("/api/v1/statuses/{}/mute", secret["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let reader = app.user_with_scopes("reader", "read write:statuses").await;
    let res = app
        .post(
            &reader,
            &format!("/api/v1/statuses/{root_id}/mute"),
            json!({}),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    check_schemas(&[("Status", muted, "a muted status".into())]).await;
}

#[tokio::test]
async fn the_directory_lists_discoverable_profiles_by_activity_or_age() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let hidden = app.user("hidden").await;
    app.request(
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&hidden.token),
        Some(json!({"discoverable": false})),
    )
    .await
    .ok();
    app.post_status(&bob, "first", "public").await;
    app.post_status(&alice, "later", "public").await;
    let list = |v: Value| ids(v.as_array().unwrap());
    let active = app.get_anon("/api/v1/directory").await.ok();
    let active_ids = list(active.clone());
    assert!(!active_ids.contains(&hidden.id));
    assert_eq!(active_ids.len(), 3);
    assert_eq!(
        active_ids[2], carol.id,
        "accounts that never posted come last"
    );
    let new = list(app.get_anon("/api/v1/directory?order=new").await.ok());
    assert_eq!(
        new,
        vec![carol.id.clone(), bob.id.clone(), alice.id.clone()]
    );
    let page = list(
        app.get_anon("/api/v1/directory?order=new&offset=1&limit=1")
            .await
            .ok(),
    );
    assert_eq!(page, vec![bob.id.clone()]);
    let local = list(
        app.get_anon("/api/v1/directory?order=new&local=true")
            .await
            .ok(),
    );
    assert_eq!(local, new);
    // Blocks hold both ways.
    app.post(
        &carol,
        &format!("/api/v1/accounts/{}/block", alice.id),
        json!({}),
    )
    .await
    .ok();
    let seen = list(app.get(&alice, "/api/v1/directory?order=new").await.ok());
    assert!(!seen.contains(&carol.id), "{seen:?}");
    let seen = list(app.get(&carol, "/api/v1/directory?order=new").await.ok());
    assert!(!seen.contains(&alice.id), "{seen:?}");
    for bad in ["order=popular", "offset=100000000"] {
        let res = app.get_anon(&format!("/api/v1/directory?{bad}")).await;
        assert!(res.status.is_client_error(), "{bad}: {}", res.status);
        assert!(res.body["error"].is_string());
    }
    check_schemas(&[("Account[]", active, "the directory".into())]).await;
}
