//! Blocks and limits of whole servers, between real Cascade servers on loopback: a person's
//! own domain block (`/api/v1/domain_blocks`), a moderator's (`/api/v1/admin/domain_blocks`,
//! published at `/api/v1/instance/domain_blocks`), and the inbox allowance of each server.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::admin::staff;
use crate::federation::{
    ap_get, domain, home_texts, post_inbox, relationship, remote_id, server, Send, AP,
};
use crate::helpers::{eventually, spawn_with, TestApp, User};

/// Follow number `n` of `target` (a local actor on `to`) signed by `who` on `from` (with a
/// wrong key when `forged`), POSTed to `to`'s shared inbox.
async fn signed_follow(
    from: &TestApp,
    who: &User,
    to: &TestApp,
    target: &str,
    forged: bool,
    n: usize,
) -> reqwest::Response {
    assert_eq!(
        ap_get(from, &format!("/users/{}", who.username), AP)
            .await
            .status(),
        200
    );
    let pem = if forged {
        cascade_server::httpsig::generate().unwrap().1
    } else {
        let id: i64 = who.id.parse().unwrap();
        from.state.store.account_key(id).await.unwrap().unwrap().1
    };
    let key = cascade_server::httpsig::private_key(&pem).unwrap();
    let actor = from.url(&format!("/users/{}", who.username));
    let body = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/follows/{n}"),
        "type": "Follow",
        "actor": actor,
        "object": to.url(&format!("/users/{target}")),
    })
    .to_string();
    let key_id = format!("{actor}#main-key");
    post_inbox(
        to,
        Send {
            key_id: &key_id,
            key: &key,
            signed_body: body.as_bytes(),
            sent_body: body.as_bytes(),
            date_ms: cascade_core::time::now_millis(),
        },
    )
    .await
}

async fn follow(app: &TestApp, user: &User, id: &str) -> crate::helpers::Response {
    app.post(user, &format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await
}

async fn domain_blocks(app: &TestApp, method: Method, user: &User, body: Option<Value>) -> Value {
    app.request(method, "/api/v1/domain_blocks", Some(&user.token), body)
        .await
        .ok()
}

#[tokio::test]
async fn a_person_blocking_a_domain_no_longer_sees_it_and_loses_its_followers() {
    let a = server().await;
    let b = server().await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;

    // Bob (on B) follows alice (on A), and alice follows bob.
    let alice_there = remote_id(&b, &bob, &a, "alice").await;
    follow(&b, &bob, &alice_there).await.ok();
    eventually("alice's server accepts bob's follow", || async {
        relationship(&b, &bob, &alice_there).await["following"] == true
    })
    .await;
    let bob_here = remote_id(&a, &alice, &b, "bob").await;
    follow(&a, &alice, &bob_here).await.ok();
    eventually("bob's server accepts alice's follow", || async {
        relationship(&a, &alice, &bob_here).await["following"] == true
    })
    .await;
    b.post_status(&bob, "a post from B", "public").await;
    eventually("bob's post reaches alice's home", || async {
        home_texts(&a, &alice)
            .await
            .iter()
            .any(|(text, _)| text.contains("a post from B"))
    })
    .await;

    // Bad input first: nothing is stored.
    for bad in [
        json!({}),
        json!({"domain": "not a domain!"}),
        json!({"domain": domain(&a)}),
    ] {
        let res = a
            .request(
                Method::POST,
                "/api/v1/domain_blocks",
                Some(&alice.token),
                Some(bad.clone()),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(res.body["error"].is_string(), "{bad}");
    }
    assert_eq!(
        domain_blocks(&a, Method::GET, &alice, None).await,
        json!([])
    );

    // Alice blocks B (typed as a URL, as people paste it).
    let typed = format!("http://{}/", domain(&b));
    domain_blocks(&a, Method::POST, &alice, Some(json!({ "domain": typed }))).await;
    domain_blocks(&a, Method::POST, &alice, Some(json!({ "domain": typed }))).await;
    assert_eq!(
        domain_blocks(&a, Method::GET, &alice, None).await,
        json!([domain(&b)])
    );
    let rel = relationship(&a, &alice, &bob_here).await;
    assert_eq!(rel["domain_blocking"], true);
    assert_eq!(
        rel["followed_by"], false,
        "bob no longer follows alice here"
    );
    assert!(
        !home_texts(&a, &alice)
            .await
            .iter()
            .any(|(text, _)| text.contains("a post from B")),
        "B's posts left alice's home"
    );
    let public = a.get(&alice, "/api/v1/timelines/public").await.ok();
    assert!(!public.to_string().contains("a post from B"));
    let me = a
        .get(&alice, &format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(me["followers_count"], 0);
    eventually(
        "bob's server hears that bob no longer follows alice",
        || async { relationship(&b, &bob, &alice_there).await["following"] == false },
    )
    .await;
    // Neither may follow the other again while the block holds.
    let again = follow(&a, &alice, &bob_here).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);

    // Others on A still see B.
    let carol = a.user("carol").await;
    let public = a.get(&carol, "/api/v1/timelines/public").await.ok();
    assert!(public.to_string().contains("a post from B"));
    assert_eq!(
        relationship(&a, &carol, &bob_here).await["domain_blocking"],
        false
    );

    // Lifted: B shows again.
    domain_blocks(
        &a,
        Method::DELETE,
        &alice,
        Some(json!({ "domain": domain(&b) })),
    )
    .await;
    assert_eq!(
        domain_blocks(&a, Method::GET, &alice, None).await,
        json!([])
    );
    assert_eq!(
        relationship(&a, &alice, &bob_here).await["domain_blocking"],
        false
    );
    let public = a.get(&alice, "/api/v1/timelines/public").await.ok();
    assert!(public.to_string().contains("a post from B"));
}

#[tokio::test]
async fn a_moderator_suspending_a_domain_refuses_it_and_lifting_it_restores_its_accounts() {
    let a = server().await;
    let b = server().await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let admin = staff(&a, "admin", "admin").await;
    let bob_here = remote_id(&a, &alice, &b, "bob").await;
    let b_domain = domain(&b);

    // Only staff may see or make the moderators' blocks.
    let res = a.get(&alice, "/api/v1/admin/domain_blocks").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    for bad in [
        json!({}),
        json!({"domain": "bad domain"}),
        json!({"domain": b_domain, "severity": "obliterate"}),
    ] {
        let res = a
            .post(&admin, "/api/v1/admin/domain_blocks", bad.clone())
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    let block = a
        .post(
            &admin,
            "/api/v1/admin/domain_blocks",
            json!({"domain": b_domain, "severity": "suspend", "public_comment": "spam",
                   "private_comment": "seen in reports", "obfuscate": false}),
        )
        .await
        .ok();
    assert_eq!(block["domain"], b_domain);
    assert_eq!(block["severity"], "suspend");
    assert_eq!(block["private_comment"], "seen in reports");
    assert_eq!(block["digest"].as_str().map(str::len), Some(64));
    let id = block["id"].as_str().unwrap().to_string();
    let twice = a
        .post(
            &admin,
            "/api/v1/admin/domain_blocks",
            json!({"domain": b_domain}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    let list = a.get(&admin, "/api/v1/admin/domain_blocks").await.ok();
    assert_eq!(list[0]["id"], id);
    let published = a.get_anon("/api/v1/instance/domain_blocks").await.ok();
    assert_eq!(published[0]["domain"], b_domain);
    assert_eq!(published[0]["comment"], "spam");
    assert_eq!(published[0]["severity"], "suspend");
    assert!(published[0].get("private_comment").is_none());
    let complaints = crate::schemas::validate(&[
        (
            "AdminDomainBlock",
            block.clone(),
            "a moderator's block".into(),
        ),
        (
            "DomainBlock",
            published[0].clone(),
            "a published block".into(),
        ),
    ])
    .await;
    if let Some(complaints) = complaints {
        assert!(complaints.is_empty(), "{complaints}");
    }

    // The domain's known account is suspended; nothing new is fetched from it.
    let moderated = a
        .get(&admin, &format!("/api/v1/admin/accounts/{bob_here}"))
        .await
        .ok();
    assert_eq!(moderated["suspended"], true);
    let profile = a
        .get(&alice, &format!("/api/v1/accounts/{bob_here}"))
        .await
        .ok();
    assert_eq!(profile["suspended"], true);
    b.user("dave").await;
    let res = a
        .get(
            &alice,
            &format!("/api/v1/accounts/lookup?acct=dave@{b_domain}"),
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // A correctly signed activity from the domain is refused, and nothing is stored.
    assert_eq!(ap_get(&b, "/users/bob", AP).await.status(), 200);
    let bob_id: i64 = bob.id.parse().unwrap();
    let (_, pem) = b.state.store.account_key(bob_id).await.unwrap().unwrap();
    let key = cascade_server::httpsig::private_key(&pem).unwrap();
    let bob_uri = b.url("/users/bob");
    let follow_body = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{bob_uri}/follows/7"),
        "type": "Follow",
        "actor": bob_uri,
        "object": a.url("/users/alice"),
    })
    .to_string();
    let key_id = format!("{bob_uri}#main-key");
    let res = post_inbox(
        &a,
        Send {
            key_id: &key_id,
            key: &key,
            signed_body: follow_body.as_bytes(),
            sent_body: follow_body.as_bytes(),
            date_ms: cascade_core::time::now_millis(),
        },
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let me = a
        .get(&alice, &format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(me["followers_count"], 0);

    // Softened to a silence: the account is back, limited.
    let changed = a
        .request(
            Method::PUT,
            &format!("/api/v1/admin/domain_blocks/{id}"),
            Some(&admin.token),
            Some(json!({"severity": "silence"})),
        )
        .await
        .ok();
    assert_eq!(changed["severity"], "silence");
    let moderated = a
        .get(&admin, &format!("/api/v1/admin/accounts/{bob_here}"))
        .await
        .ok();
    assert_eq!(moderated["suspended"], false);
    assert_eq!(moderated["silenced"], true);

    // A silenced domain still federates: its Follow is now accepted.
    let follow_again = follow_body.replace("/follows/7", "/follows/8");
    let res = post_inbox(
        &a,
        Send {
            key_id: &key_id,
            key: &key,
            signed_body: follow_again.as_bytes(),
            sent_body: follow_again.as_bytes(),
            date_ms: cascade_core::time::now_millis(),
        },
    )
    .await;
    assert!(res.status().is_success(), "{}", res.status());

    // Lifted: the limit it put goes with it, and a moderator's own limit would stay.
    a.request(
        Method::DELETE,
        &format!("/api/v1/admin/domain_blocks/{id}"),
        Some(&admin.token),
        None,
    )
    .await
    .ok();
    let moderated = a
        .get(&admin, &format!("/api/v1/admin/accounts/{bob_here}"))
        .await
        .ok();
    assert_eq!(moderated["silenced"], false);
    assert_eq!(moderated["suspended"], false);
    assert_eq!(
        a.get_anon("/api/v1/instance/domain_blocks").await.ok(),
        json!([])
    );
    let res = a
        .get(&admin, &format!("/api/v1/admin/domain_blocks/{id}"))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_flood_from_one_server_is_throttled_while_others_get_through() {
    let a = spawn_with(|config| {
        config.allow_private_outgoing = true;
        config.rate_limit = None;
        config.inbox_per_domain = cascade_server::throttle::RateLimit {
            requests: 3,
            window: std::time::Duration::from_secs(600),
        };
    })
    .await;
    let b = server().await;
    let c = server().await;
    a.user("alice").await;
    let bob = b.user("bob").await;
    let carol = c.user("carol").await;

    // Forged signatures in bob's server's name are refused and spend nothing of its allowance.
    for n in 0..4 {
        let res = signed_follow(&b, &bob, &a, "alice", true, n).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    for n in 0..3 {
        let res = signed_follow(&b, &bob, &a, "alice", false, n).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED, "delivery {n}");
    }
    let res = signed_follow(&b, &bob, &a, "alice", false, 3).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 600, "{wait}");
    let body: Value = res.json().await.unwrap();
    assert!(body["error"].is_string());

    // Another server is not held back by the first one's flood.
    let res = signed_follow(&c, &carol, &a, "alice", false, 0).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_replayed_signed_request_is_refused_and_changes_nothing() {
    let a = server().await;
    let b = server().await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    // Bob's Follow, accepted; then bob's Undo of it, accepted: alice has no follower.
    let res = signed_follow(&b, &bob, &a, "alice", false, 1).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let id: i64 = bob.id.parse().unwrap();
    let pem = b.state.store.account_key(id).await.unwrap().unwrap().1;
    let key = cascade_server::httpsig::private_key(&pem).unwrap();
    let actor = b.url("/users/bob");
    let key_id = format!("{actor}#main-key");
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/follows/1/undo"),
        "type": "Undo",
        "actor": actor,
        "object": {"id": format!("{actor}/follows/1"), "type": "Follow", "actor": actor,
                   "object": a.url("/users/alice")},
    })
    .to_string();
    let date = cascade_core::time::now_millis();
    let send = || Send {
        key_id: &key_id,
        key: &key,
        signed_body: undo.as_bytes(),
        sent_body: undo.as_bytes(),
        date_ms: date,
    };
    assert_eq!(post_inbox(&a, send()).await.status(), StatusCode::ACCEPTED);
    let followers = |n: i64| {
        let a = &a;
        let alice = &alice;
        async move {
            let me = a
                .get(alice, &format!("/api/v1/accounts/{}", alice.id))
                .await
                .ok();
            assert_eq!(me["followers_count"], n);
        }
    };
    followers(0).await;
    // The Follow is sent again by bob's server (a new signature): followed again.
    let res = signed_follow(&b, &bob, &a, "alice", false, 2).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    followers(1).await;
    // An eavesdropper replays the old signed Undo, byte for byte: refused, still followed.
    let replayed = post_inbox(&a, send()).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    let body: Value = replayed.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("replay"), "{body}");
    followers(1).await;
}

/// The `Federate` job `app` would run to deliver `activity` from `signer` to `inbox`.
fn delivery(app: &TestApp, signer: &User, inbox: &str, activity: &Value) -> cascade_store::Job {
    let signer: i64 = signer.id.parse().unwrap();
    let now = cascade_core::time::now_millis();
    let job =
        cascade_server::app::federation::federate_job(&app.state, signer, inbox, activity, now);
    cascade_store::Job {
        id: job.id,
        kind: job.kind,
        subject_id: job.subject_id,
        actor_id: job.actor_id,
        target_id: job.target_id,
        payload: job.payload,
        progress: 0,
        attempts: 0,
        created_at: now,
    }
}

/// Why a delivery failed (an internal error's own cause, which the API never shows).
fn cause(result: Result<(), cascade_server::error::ApiError>) -> String {
    match result.expect_err("the delivery fails") {
        cascade_server::error::ApiError::Internal(cause) => cause.to_string(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn a_dead_server_trips_its_breaker_and_live_ones_are_still_delivered_to() {
    let a = spawn_with(|config| {
        config.allow_private_outgoing = true;
        config.rate_limit = None;
        config.metrics_token = Some("scrape".into());
    })
    .await;
    let b = server().await;
    let alice = a.user("alice").await;
    b.user("bob").await;
    // A port nothing listens on: every delivery there fails at once.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_inbox = format!("http://{}/inbox", dead.local_addr().unwrap());
    drop(dead);
    let actor = a.url("/users/alice");
    let note = |n: usize| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{actor}#test-{n}"),
            "type": "Follow",
            "actor": actor,
            "object": b.url("/users/bob"),
        })
    };
    for n in 0..cascade_core::breaker::THRESHOLD as usize {
        let job = delivery(&a, &alice, &dead_inbox, &note(n));
        let err = cause(cascade_server::app::federation::deliver(&a.state, &job).await);
        assert!(!err.contains("circuit"), "attempt {n}: {err}");
    }
    let job = delivery(&a, &alice, &dead_inbox, &note(99));
    let err = cause(cascade_server::app::federation::deliver(&a.state, &job).await);
    assert!(err.contains("circuit is open"), "{err}");

    // Bob's server is up, and is delivered to as before.
    let job = delivery(&a, &alice, &b.url("/inbox"), &note(100));
    cascade_server::app::federation::deliver(&a.state, &job)
        .await
        .expect("a live peer is delivered to");
    let text = a
        .request(Method::GET, "/metrics", Some("scrape"), None)
        .await
        .body
        .as_str()
        .unwrap_or_default()
        .to_string();
    for outcome in ["unreachable", "circuit_open", "delivered"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("cascade_federation_deliveries_total")
                    && l.contains(&format!("outcome=\"{outcome}\""))),
            "{outcome} counted:\n{text}"
        );
    }
}
