use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn posting_renders_links_mentions_and_hashtags_safely() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.user("bob").await;
    let s = app
        .post_status(
            &alice,
            "Hi @bob and @ghost, see https://example.org/x #Rust <b>bold</b>",
            "public",
        )
        .await;
    let html = s["content"].as_str().unwrap();
    assert!(html.contains("class=\"u-url mention\""));
    assert!(html.contains("@ghost"), "unknown mentions stay text");
    assert!(html.contains("href=\"https://example.org/x\""));
    assert!(
        html.contains("&lt;b&gt;bold&lt;/b&gt;"),
        "HTML in text is escaped"
    );
    assert_eq!(s["mentions"][0]["username"], "bob");
    assert_eq!(s["tags"][0]["name"], "rust");
    assert_eq!(s["visibility"], "public");
    assert_eq!(s["quote_approval"]["automatic"], json!(["public"]));
}

#[tokio::test]
async fn delete_returns_the_source_and_edit_keeps_history() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let s = app.post_status(&alice, "first version", "public").await;
    let id = s["id"].as_str().unwrap();
    let edited = app
        .request(
            Method::PUT,
            &format!("/api/v1/statuses/{id}"),
            Some(&alice.token),
            Some(json!({"status": "second version"})),
        )
        .await
        .ok();
    assert!(edited["content"]
        .as_str()
        .unwrap()
        .contains("second version"));
    assert!(edited["edited_at"].is_string());
    let history = app
        .get(&alice, &format!("/api/v1/statuses/{id}/history"))
        .await
        .ok();
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert!(history[0]["content"]
        .as_str()
        .unwrap()
        .contains("first version"));
    let source = app
        .get(&alice, &format!("/api/v1/statuses/{id}/source"))
        .await
        .ok();
    assert_eq!(source["text"], "second version");

    let deleted = app
        .request(
            Method::DELETE,
            &format!("/api/v1/statuses/{id}"),
            Some(&alice.token),
            None,
        )
        .await
        .ok();
    assert_eq!(deleted["text"], "second version");
    assert_eq!(
        app.get(&alice, &format!("/api/v1/statuses/{id}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn only_the_author_may_edit_or_delete() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    let s = app.post_status(&alice, "mine", "public").await;
    let id = s["id"].as_str().unwrap();
    assert_eq!(
        app.request(
            Method::DELETE,
            &format!("/api/v1/statuses/{id}"),
            Some(&mallory.token),
            None
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.request(
            Method::PUT,
            &format!("/api/v1/statuses/{id}"),
            Some(&mallory.token),
            Some(json!({"status": "yours"}))
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.get_anon(&format!("/api/v1/statuses/{id}")).await.body["content"],
        "<p>mine</p>"
    );
}

#[tokio::test]
async fn an_idempotency_key_creates_one_status() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let res = app
            .client
            .post(app.url("/api/v1/statuses"))
            .bearer_auth(&alice.token)
            .header("Idempotency-Key", "same-key")
            .json(&json!({"status": "once"}))
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = res.json().await.unwrap();
        ids.push(body["id"].as_str().unwrap().to_string());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    let me = app
        .get(&alice, "/api/v1/accounts/verify_credentials")
        .await
        .ok();
    assert_eq!(me["statuses_count"], 1);
}

#[tokio::test]
async fn concurrent_favourites_and_reblogs_are_counted_exactly() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let s = app.post_status(&alice, "popular", "public").await;
    let id = s["id"].as_str().unwrap().to_string();
    let mut fans = Vec::new();
    for i in 0..24 {
        fans.push(app.user(&format!("fan{i}")).await);
    }
    let mut tasks = Vec::new();
    for fan in &fans {
        for action in ["favourite", "favourite", "reblog", "reblog"] {
            let req = app
                .client
                .post(app.url(&format!("/api/v1/statuses/{id}/{action}")))
                .bearer_auth(&fan.token)
                .send();
            tasks.push(req);
        }
    }
    for res in futures_join(tasks).await {
        assert!(res.status().is_success(), "{}", res.status());
    }
    let s = app.get_anon(&format!("/api/v1/statuses/{id}")).await.ok();
    assert_eq!(s["favourites_count"], 24);
    assert_eq!(s["reblogs_count"], 24);
    let by = app
        .get_anon(&format!("/api/v1/statuses/{id}/favourited_by?limit=80"))
        .await
        .ok();
    assert_eq!(by.as_array().unwrap().len(), 24);

    app.post(
        &fans[0],
        &format!("/api/v1/statuses/{id}/unfavourite"),
        json!({}),
    )
    .await
    .ok();
    app.post(
        &fans[0],
        &format!("/api/v1/statuses/{id}/unfavourite"),
        json!({}),
    )
    .await
    .ok();
    app.post(
        &fans[0],
        &format!("/api/v1/statuses/{id}/unreblog"),
        json!({}),
    )
    .await
    .ok();
    let s = app
        .get(&fans[0], &format!("/api/v1/statuses/{id}"))
        .await
        .ok();
    assert_eq!(s["favourites_count"], 23);
    assert_eq!(s["reblogs_count"], 23);
    assert_eq!(s["favourited"], false);
    assert_eq!(s["reblogged"], false);
}

async fn futures_join(
    reqs: Vec<
        impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static,
    >,
) -> Vec<reqwest::Response> {
    let handles: Vec<_> = reqs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap().unwrap());
    }
    out
}

#[tokio::test]
async fn reblogging_a_reblog_reblogs_the_original() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let s = app.post_status(&alice, "original", "public").await;
    let id = s["id"].as_str().unwrap();
    let wrapper = app
        .post(&bob, &format!("/api/v1/statuses/{id}/reblog"), json!({}))
        .await
        .ok();
    assert_eq!(wrapper["reblog"]["id"], id);
    let wrapper_id = wrapper["id"].as_str().unwrap();
    let second = app
        .post(
            &carol,
            &format!("/api/v1/statuses/{wrapper_id}/reblog"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(second["reblog"]["id"], id);
    let again = app
        .post(&carol, &format!("/api/v1/statuses/{id}/reblog"), json!({}))
        .await
        .ok();
    assert_eq!(
        again["id"], second["id"],
        "reblogging twice returns the first reblog"
    );
    let by = app
        .get_anon(&format!("/api/v1/statuses/{id}/reblogged_by"))
        .await
        .ok();
    assert_eq!(by.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn quotes_are_accepted_counted_and_listed_but_private_posts_cannot_be_quoted() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let s = app.post_status(&alice, "quote me", "public").await;
    let id = s["id"].as_str().unwrap();
    let q = app
        .post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "so true", "quoted_status_id": id}),
        )
        .await
        .ok();
    assert_eq!(q["quote"]["state"], "accepted");
    assert_eq!(q["quote"]["quoted_status"]["id"], id);
    let quotes = app
        .get_anon(&format!("/api/v1/statuses/{id}/quotes"))
        .await
        .ok();
    assert_eq!(quotes[0]["id"], q["id"]);
    assert_eq!(
        app.get_anon(&format!("/api/v1/statuses/{id}")).await.ok()["quotes_count"],
        1
    );

    app.follow(&bob, &alice).await;
    let private = app.post_status(&alice, "followers only", "private").await;
    let res = app
        .post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "leak", "quoted_status_id": private["id"]}),
        )
        .await;
    assert_eq!(res.status, 422);

    let closed = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "no quotes", "quote_approval_policy": "nobody"}),
        )
        .await
        .ok();
    assert_eq!(closed["quote_approval"]["automatic"], json!([]));
    let res = app
        .post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "quote anyway", "quoted_status_id": closed["id"]}),
        )
        .await;
    assert_eq!(res.status, 403);
}

#[tokio::test]
async fn bookmarks_pins_and_favourites_lists() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let s = app.post_status(&alice, "keep this", "public").await;
    let id = s["id"].as_str().unwrap();
    assert_eq!(
        app.post(
            &alice,
            &format!("/api/v1/statuses/{id}/bookmark"),
            json!({})
        )
        .await
        .ok()["bookmarked"],
        true
    );
    assert_eq!(
        app.post(&alice, &format!("/api/v1/statuses/{id}/pin"), json!({}))
            .await
            .ok()["pinned"],
        true
    );
    app.post(
        &alice,
        &format!("/api/v1/statuses/{id}/favourite"),
        json!({}),
    )
    .await
    .ok();
    assert_eq!(app.get(&alice, "/api/v1/bookmarks").await.ok()[0]["id"], id);
    assert_eq!(
        app.get(&alice, "/api/v1/favourites").await.ok()[0]["id"],
        id
    );
    let pinned = app
        .get(
            &alice,
            &format!("/api/v1/accounts/{}/statuses?pinned=true", alice.id),
        )
        .await
        .ok();
    assert_eq!(pinned[0]["id"], id);
    app.post(
        &alice,
        &format!("/api/v1/statuses/{id}/unbookmark"),
        json!({}),
    )
    .await
    .ok();
    assert_eq!(
        app.get(&alice, "/api/v1/bookmarks")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn context_lists_ancestors_and_descendants() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let root = app.post_status(&alice, "root", "public").await;
    let reply = app
        .post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "reply", "in_reply_to_id": root["id"]}),
        )
        .await
        .ok();
    let nested = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "nested", "in_reply_to_id": reply["id"]}),
        )
        .await
        .ok();
    let ctx = app
        .get_anon(&format!(
            "/api/v1/statuses/{}/context",
            reply["id"].as_str().unwrap()
        ))
        .await
        .ok();
    assert_eq!(ctx["ancestors"][0]["id"], root["id"]);
    assert_eq!(ctx["descendants"][0]["id"], nested["id"]);
    assert_eq!(
        app.get_anon(&format!(
            "/api/v1/statuses/{}",
            root["id"].as_str().unwrap()
        ))
        .await
        .ok()["replies_count"],
        1
    );
}

mod properties {
    use std::collections::BTreeSet;

    use proptest::prelude::*;
    use serde_json::json;

    use crate::helpers::spawn_app;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

        /// Whatever order of favourites, unfavourites, reblogs and unreblogs by several
        /// accounts, the counters equal the number of accounts whose last act was "on".
        #[test]
        fn counters_equal_the_set_of_accounts_that_acted(ops in proptest::collection::vec((0usize..4, 0usize..4), 1..24)) {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let app = spawn_app().await;
                let author = app.user("author").await;
                let mut users = Vec::new();
                for i in 0..4 {
                    users.push(app.user(&format!("u{i}")).await);
                }
                let id = app.post_status(&author, "count me", "public").await["id"].as_str().unwrap().to_string();
                let (mut favs, mut reblogs) = (BTreeSet::new(), BTreeSet::new());
                for (who, op) in ops {
                    let action = ["favourite", "unfavourite", "reblog", "unreblog"][op];
                    app.post(&users[who], &format!("/api/v1/statuses/{id}/{action}"), json!({})).await.ok();
                    match op {
                        0 => { favs.insert(who); }
                        1 => { favs.remove(&who); }
                        2 => { reblogs.insert(who); }
                        _ => { reblogs.remove(&who); }
                    }
                }
                let s = app.get_anon(&format!("/api/v1/statuses/{id}")).await.ok();
                prop_assert_eq!(s["favourites_count"].as_u64().unwrap() as usize, favs.len());
                prop_assert_eq!(s["reblogs_count"].as_u64().unwrap() as usize, reblogs.len());
                Ok(())
            })?;
        }
    }
}

#[tokio::test]
async fn edits_keep_language() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let s = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "bonjour", "language": "en"}),
        )
        .await
        .ok();
    let id = s["id"].as_str().unwrap();
    let edited = app
        .request(
            Method::PUT,
            &format!("/api/v1/statuses/{id}"),
            Some(&alice.token),
            Some(json!({"status": "bonjour !", "language": "fr"})),
        )
        .await
        .ok();
    assert_eq!(edited["language"], "fr");
}

#[tokio::test]
async fn the_quote_policy_can_change_and_a_quote_can_be_revoked() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let s = app.post_status(&alice, "quote me", "public").await;
    let id = s["id"].as_str().unwrap();
    let q = app
        .post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "so true", "quoted_status_id": id}),
        )
        .await
        .ok();
    let qid = q["id"].as_str().unwrap();

    // Only the author changes the policy; an unknown value is refused.
    let policy = format!("/api/v1/statuses/{id}/interaction_policy");
    let put = |who, body| app.request(Method::PUT, &policy, Some(who), Some(body));
    assert_eq!(
        put(&bob.token, json!({"quote_approval_policy": "nobody"}))
            .await
            .status,
        403
    );
    assert_eq!(
        put(&alice.token, json!({"quote_approval_policy": "anyone"}))
            .await
            .status,
        422
    );
    let closed = put(&alice.token, json!({"quote_approval_policy": "nobody"}))
        .await
        .ok();
    assert_eq!(closed["quote_approval"]["automatic"], json!([]));
    let again = app
        .post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "once more", "quoted_status_id": id}),
        )
        .await;
    assert_eq!(again.status, 403);

    // Only the quoted author revokes, and only a quote of that status.
    let revoke = format!("/api/v1/statuses/{id}/quotes/{qid}/revoke");
    assert_eq!(app.post(&bob, &revoke, json!({})).await.status, 404);
    let other = app.post_status(&alice, "another", "public").await;
    let wrong = format!(
        "/api/v1/statuses/{}/quotes/{qid}/revoke",
        other["id"].as_str().unwrap()
    );
    assert_eq!(app.post(&alice, &wrong, json!({})).await.status, 404);
    let revoked = app.post(&alice, &revoke, json!({})).await.ok();
    assert_eq!(revoked["id"], qid);
    assert_eq!(revoked["quote"]["state"], "revoked");
    assert!(revoked["quote"]["quoted_status"].is_null());
    let seen = app.get_anon(&format!("/api/v1/statuses/{qid}")).await.ok();
    assert_eq!(seen["quote"]["state"], "revoked");
    assert_eq!(
        app.get_anon(&format!("/api/v1/statuses/{id}")).await.ok()["quotes_count"],
        0
    );
    let quotes = app
        .get_anon(&format!("/api/v1/statuses/{id}/quotes"))
        .await
        .ok();
    assert_eq!(quotes, json!([]));
}

#[tokio::test]
async fn each_version_in_the_history_keeps_its_poll_and_attachments() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let upload = |name: &'static str| {
        let app = &app;
        let alice = &alice;
        async move {
            crate::media::upload(
                app,
                alice,
                crate::media::png(8, 8, false),
                name,
                "image/png",
            )
            .await
        }
    };
    let first = upload("a.png").await;
    let second = upload("b.png").await;
    let post = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "which?", "media_ids": [first["id"]],
                   "poll": {"options": ["tea", "coffee"], "expires_in": 3600}}),
        )
        .await
        .ok();
    let id = post["id"].as_str().unwrap();
    let path = format!("/api/v1/statuses/{id}");
    let put = |body: serde_json::Value| {
        let app = &app;
        let token = alice.token.clone();
        let path = path.clone();
        async move {
            app.request(Method::PUT, &path, Some(&token), Some(body))
                .await
                .ok()
        }
    };
    put(
        json!({"status": "which one?", "media_ids": [first["id"], second["id"]],
                "poll": {"options": ["milk", "juice"], "expires_in": 3600}}),
    )
    .await;
    put(json!({"status": "never mind", "media_ids": [first["id"], second["id"]]})).await;
    let history = app
        .get_anon(&format!("/api/v1/statuses/{id}/history"))
        .await
        .ok();
    let versions = history.as_array().unwrap();
    assert_eq!(versions.len(), 3);
    let titles = |v: &serde_json::Value| -> Vec<String> {
        v["poll"]["options"]
            .as_array()
            .map(|o| {
                o.iter()
                    .map(|x| x["title"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let media = |v: &serde_json::Value| -> Vec<String> {
        v["media_attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (a, b) = (
        first["id"].as_str().unwrap().to_string(),
        second["id"].as_str().unwrap().to_string(),
    );
    assert_eq!(titles(&versions[0]), ["tea", "coffee"]);
    assert_eq!(media(&versions[0]), std::slice::from_ref(&a));
    assert_eq!(titles(&versions[1]), ["milk", "juice"]);
    assert_eq!(media(&versions[1]), [a.clone(), b.clone()]);
    assert!(versions[2]["poll"].is_null());
    assert_eq!(media(&versions[2]), [a, b]);
    if let Some(bad) =
        crate::schemas::validate(&[("StatusEdit[]", history.clone(), "history".into())]).await
    {
        assert!(bad.is_empty(), "{bad}");
    }
}
