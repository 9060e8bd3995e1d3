//! A private post never reaches a non-follower, a direct post only the accounts it
//! mentions, and blocks hide everything: checked on every endpoint that shows statuses.

use serde_json::json;

use crate::helpers::{ids, spawn_app, TestApp, User};

/// Every surface through which `viewer` might see `id`.
async fn surfaces_showing(
    app: &TestApp,
    viewer: Option<&User>,
    author: &User,
    id: &str,
) -> Vec<String> {
    let mut paths = vec![
        format!("/api/v1/statuses/{id}"),
        format!("/api/v1/accounts/{}/statuses", author.id),
        "/api/v1/timelines/public".to_string(),
        "/api/v1/timelines/tag/secret".to_string(),
        format!("/api/v1/statuses/{id}/context"),
        format!("/api/v1/statuses/{id}/favourited_by"),
        format!("/api/v1/statuses/{id}/reblogged_by"),
    ];
    if viewer.is_some() {
        paths.push("/api/v1/timelines/home".to_string());
        paths.push("/api/v1/favourites".to_string());
    }
    app.drain().await;
    let mut leaks = Vec::new();
    for path in paths {
        let res = match viewer {
            Some(v) => app.get(v, &path).await,
            None => app.get_anon(&path).await,
        };
        if res.status.is_success() && res.body.to_string().contains(&format!("\"id\":\"{id}\"")) {
            leaks.push(path);
        }
    }
    leaks
}

#[tokio::test]
async fn private_posts_reach_followers_only() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let follower = app.user("follower").await;
    let stranger = app.user("stranger").await;
    app.follow(&follower, &alice).await;
    let s = app
        .post_status(&alice, "for my followers #secret", "private")
        .await;
    let id = s["id"].as_str().unwrap();
    assert!(surfaces_showing(&app, Some(&stranger), &alice, id)
        .await
        .is_empty());
    assert!(surfaces_showing(&app, None, &alice, id).await.is_empty());
    let seen = surfaces_showing(&app, Some(&follower), &alice, id).await;
    assert!(
        seen.iter().any(|p| p.contains("/timelines/home")),
        "{seen:?}"
    );
    assert!(seen.iter().any(|p| p.ends_with(id)));
    // Interacting with an invisible status is a 404 as well.
    assert_eq!(
        app.post(
            &stranger,
            &format!("/api/v1/statuses/{id}/favourite"),
            json!({})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.post(
            &stranger,
            "/api/v1/statuses",
            json!({"status": "reply", "in_reply_to_id": id})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.post(
            &follower,
            &format!("/api/v1/statuses/{id}/reblog"),
            json!({})
        )
        .await
        .status,
        403
    );
}

#[tokio::test]
async fn direct_posts_reach_only_mentioned_accounts() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let follower = app.user("follower").await;
    app.follow(&follower, &alice).await;
    app.follow(&bob, &alice).await;
    let s = app
        .post_status(&alice, "@bob just between us #secret", "direct")
        .await;
    let id = s["id"].as_str().unwrap();
    assert!(surfaces_showing(&app, Some(&follower), &alice, id)
        .await
        .is_empty());
    assert!(surfaces_showing(&app, None, &alice, id).await.is_empty());
    let seen = surfaces_showing(&app, Some(&bob), &alice, id).await;
    assert!(seen.iter().any(|p| p.ends_with(id)), "{seen:?}");
    assert!(
        seen.iter().any(|p| p.contains("/timelines/home")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn blocks_hide_posts_both_ways_and_end_follows() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let troll = app.user("troll").await;
    app.follow(&troll, &alice).await;
    let s = app
        .post_status(&alice, "public words #secret", "public")
        .await;
    let id = s["id"].as_str().unwrap();
    app.post(
        &alice,
        &format!("/api/v1/accounts/{}/block", troll.id),
        json!({}),
    )
    .await
    .ok();
    assert!(surfaces_showing(&app, Some(&troll), &alice, id)
        .await
        .is_empty());
    let rel = app
        .get(
            &troll,
            &format!("/api/v1/accounts/relationships?id[]={}", alice.id),
        )
        .await
        .ok();
    assert_eq!(rel[0]["following"], false);
    assert_eq!(rel[0]["blocked_by"], true);
    assert_eq!(
        app.post(
            &troll,
            &format!("/api/v1/accounts/{}/follow", alice.id),
            json!({})
        )
        .await
        .status,
        403
    );
    let theirs = app
        .post_status(&troll, "troll post #secret", "public")
        .await;
    let public = app.get(&alice, "/api/v1/timelines/public").await.ok();
    assert!(!ids(public.as_array().unwrap()).contains(&theirs["id"].as_str().unwrap().to_string()));
    let blocks = app.get(&alice, "/api/v1/blocks").await.ok();
    assert_eq!(blocks[0]["id"], troll.id.as_str());
}

mod properties {
    use proptest::prelude::*;

    use crate::helpers::spawn_app;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

        /// Whatever mix of visibilities and follows, a viewer's timelines and lookups show
        /// exactly the statuses the visibility rule allows.
        #[test]
        fn no_endpoint_shows_what_the_rule_forbids(
            posts in proptest::collection::vec((0usize..4, any::<bool>()), 1..6),
            follows in any::<bool>(),
        ) {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let app = spawn_app().await;
                let author = app.user("author").await;
                let viewer = app.user("viewer").await;
                if follows { app.follow(&viewer, &author).await; }
                for (v, mention) in &posts {
                    let vis = ["public", "unlisted", "private", "direct"][*v];
                    let text = if *mention { "hello @viewer" } else { "hello world" };
                    let s = app.post_status(&author, text, vis).await;
                    let id = s["id"].as_str().unwrap().to_string();
                    let allowed = match vis { "public" | "unlisted" => true, "private" => follows || *mention, _ => *mention };
                    let got = app.get(&viewer, &format!("/api/v1/statuses/{id}")).await;
                    prop_assert_eq!(got.status.is_success(), allowed, "GET of a {} post", vis);
                    let listed = app.get(&viewer, &format!("/api/v1/accounts/{}/statuses", author.id)).await.ok();
                    let in_list = listed.to_string().contains(&id);
                    prop_assert!(!in_list || allowed, "account statuses leaked a {} post", vis);
                }
                Ok(())
            })?;
        }
    }
}
