//! Federation between two real Cascade servers on loopback, each with its own domain
//! (`127.0.0.1:PORT`) and the test-only setting that lets outgoing requests reach loopback
//! over plain http: actors and WebFinger, follows both ways, posts and deletions reaching
//! a remote follower's home, and hostile inbound requests refused with nothing stored.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{eventually, spawn_with, TestApp, User};

pub(crate) const AP: &str = "application/activity+json";

pub(crate) async fn server() -> TestApp {
    spawn_with(|config| {
        config.allow_private_outgoing = true;
        config.rate_limit = None;
    })
    .await
}

/// A GET that asks for ActivityPub JSON and follows no redirect.
pub(crate) async fn ap_get(app: &TestApp, path: &str, accept: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header("accept", accept)
        .send()
        .await
        .unwrap()
}

pub(crate) fn domain(app: &TestApp) -> String {
    app.addr.to_string()
}

/// `viewer` on `app` looks up `name` on `other` and gets the remote account's id here.
pub(crate) async fn remote_id(app: &TestApp, viewer: &User, other: &TestApp, name: &str) -> String {
    let acct = format!("{name}@{}", domain(other));
    let found = app
        .get(viewer, &format!("/api/v1/accounts/lookup?acct={acct}"))
        .await
        .ok();
    assert_eq!(found["acct"], acct);
    assert_eq!(found["uri"], other.url(&format!("/users/{name}")));
    found["id"].as_str().unwrap().to_string()
}

pub(crate) async fn relationship(app: &TestApp, user: &User, id: &str) -> Value {
    app.get(user, &format!("/api/v1/accounts/relationships?id[]={id}"))
        .await
        .ok()[0]
        .clone()
}

pub(crate) async fn home_texts(app: &TestApp, user: &User) -> Vec<(String, String)> {
    app.home(user, "")
        .await
        .iter()
        .map(|s| {
            (
                s["content"].as_str().unwrap_or_default().to_string(),
                s["account"]["acct"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn local_accounts_are_actors_found_through_webfinger() {
    let app = server().await;
    let alice = app.user("alice").await;
    let wf = app
        .get_anon(&format!(
            "/.well-known/webfinger?resource=acct:alice@{}",
            domain(&app)
        ))
        .await
        .ok();
    let actor_url = app.url("/users/alice");
    assert!(
        wf["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "self" && l["type"] == AP && l["href"] == actor_url.as_str()),
        "{wf}"
    );

    for accept in [
        AP,
        "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
    ] {
        let res = ap_get(&app, "/users/alice", accept).await;
        assert_eq!(res.status(), 200);
        let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(content_type.starts_with(AP), "{content_type}");
        let person: Value = res.json().await.unwrap();
        assert_eq!(person["type"], "Person");
        assert_eq!(person["id"], actor_url.as_str());
        assert_eq!(person["preferredUsername"], "alice");
        assert_eq!(person["inbox"], app.url("/users/alice/inbox"));
        assert_eq!(person["endpoints"]["sharedInbox"], app.url("/inbox"));
        assert_eq!(person["publicKey"]["owner"], actor_url.as_str());
        assert!(person["publicKey"]["publicKeyPem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----"));
        assert!(person.get("privateKeyPem").is_none());
        assert_eq!(person["manuallyApprovesFollowers"], false);
    }
    // A browser is sent to the profile page.
    let page = ap_get(&app, "/users/alice", "text/html").await;
    assert!(page.status().is_redirection());
    assert_eq!(page.headers()["location"], "/@alice");

    let public = app.post_status(&alice, "hello #fediverse", "public").await;
    let private = app.post_status(&alice, "friends only", "private").await;
    let note: Value = ap_get(
        &app,
        &format!("/users/alice/statuses/{}", public["id"].as_str().unwrap()),
        AP,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(note["type"], "Note");
    assert_eq!(note["attributedTo"], actor_url.as_str());
    assert_eq!(
        note["to"][0],
        "https://www.w3.org/ns/activitystreams#Public"
    );
    assert_eq!(note["cc"][0], app.url("/users/alice/followers"));
    let hidden = ap_get(
        &app,
        &format!("/users/alice/statuses/{}", private["id"].as_str().unwrap()),
        AP,
    )
    .await;
    assert_eq!(hidden.status(), 404);

    let outbox: Value = ap_get(&app, "/users/alice/outbox", AP)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(outbox["totalItems"], 2);
    let instance: Value = ap_get(&app, "/actor", AP).await.json().await.unwrap();
    assert_eq!(instance["type"], "Application");
    let ni = app.get_anon("/nodeinfo/2.0").await.ok();
    assert_eq!(ni["protocols"], json!(["activitypub"]));
}

#[tokio::test]
async fn a_remote_follow_is_accepted_and_posts_and_deletions_reach_the_follower() {
    let a = server().await;
    let b = server().await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;

    let alice_there = remote_id(&b, &bob, &a, "alice").await;
    let followed = b
        .post(
            &bob,
            &format!("/api/v1/accounts/{alice_there}/follow"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(followed["following"], false);
    assert_eq!(followed["requested"], true);
    eventually("alice's server accepts bob's follow", || async {
        relationship(&b, &bob, &alice_there).await["following"] == true
    })
    .await;
    let alice_here = a
        .get(&alice, &format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(alice_here["followers_count"], 1);
    let followers = a
        .get(&alice, &format!("/api/v1/accounts/{}/followers", alice.id))
        .await
        .ok();
    assert_eq!(followers[0]["acct"], format!("bob@{}", domain(&b)));

    let post = a.post_status(&alice, "hello from A", "public").await;
    let acct = format!("alice@{}", domain(&a));
    eventually("the post reaches bob's home", || async {
        home_texts(&b, &bob)
            .await
            .iter()
            .any(|(text, by)| text.contains("hello from A") && *by == acct)
    })
    .await;
    let public = b.get(&bob, "/api/v1/timelines/public").await.ok();
    assert!(public.to_string().contains("hello from A"));
    let remote = b
        .get(&bob, "/api/v1/timelines/public?remote=true")
        .await
        .ok();
    assert!(remote.to_string().contains("hello from A"));
    let local = b
        .get(&bob, "/api/v1/timelines/public?local=true")
        .await
        .ok();
    assert_eq!(local, json!([]));

    a.request(
        Method::DELETE,
        &format!("/api/v1/statuses/{}", post["id"].as_str().unwrap()),
        Some(&alice.token),
        None,
    )
    .await
    .ok();
    eventually("the deletion reaches bob's home", || async {
        !home_texts(&b, &bob)
            .await
            .iter()
            .any(|(text, _)| text.contains("hello from A"))
    })
    .await;

    b.post(
        &bob,
        &format!("/api/v1/accounts/{alice_there}/unfollow"),
        json!({}),
    )
    .await
    .ok();
    eventually("alice's server hears of the unfollow", || async {
        a.get(&alice, &format!("/api/v1/accounts/{}", alice.id))
            .await
            .ok()["followers_count"]
            == 0
    })
    .await;
}

#[tokio::test]
async fn a_locked_account_answers_a_remote_follow_request() {
    let a = server().await;
    let b = server().await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    a.request(
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&alice.token),
        Some(json!({"locked": true})),
    )
    .await
    .ok();
    let alice_there = remote_id(&b, &bob, &a, "alice").await;
    b.post(
        &bob,
        &format!("/api/v1/accounts/{alice_there}/follow"),
        json!({}),
    )
    .await
    .ok();
    eventually("alice sees bob's request", || async {
        let requests = a.get(&alice, "/api/v1/follow_requests").await.ok();
        requests.as_array().is_some_and(|r| !r.is_empty())
    })
    .await;
    let requests = a.get(&alice, "/api/v1/follow_requests").await.ok();
    assert_eq!(requests[0]["acct"], format!("bob@{}", domain(&b)));
    assert_eq!(
        relationship(&b, &bob, &alice_there).await["requested"],
        true
    );
    let bob_here = requests[0]["id"].as_str().unwrap().to_string();
    a.post(
        &alice,
        &format!("/api/v1/follow_requests/{bob_here}/authorize"),
        json!({}),
    )
    .await
    .ok();
    eventually("bob's server hears the request was accepted", || async {
        relationship(&b, &bob, &alice_there).await["following"] == true
    })
    .await;
}

/// What a peer sends: a body signed (or not) as the test says.
pub(crate) struct Send<'a> {
    pub(crate) key_id: &'a str,
    pub(crate) key: &'a rsa::RsaPrivateKey,
    pub(crate) signed_body: &'a [u8],
    pub(crate) sent_body: &'a [u8],
    pub(crate) date_ms: i64,
}

pub(crate) async fn post_inbox(app: &TestApp, s: Send<'_>) -> reqwest::Response {
    let headers = cascade_server::httpsig::sign_request(
        s.key_id,
        s.key,
        "POST",
        &domain(app),
        "/inbox",
        Some(s.signed_body),
        s.date_ms,
    )
    .unwrap();
    let mut req = app
        .client
        .post(app.url("/inbox"))
        .header("content-type", AP)
        .body(s.sent_body.to_vec());
    for (name, value) in headers {
        req = req.header(name, value);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn hostile_inbound_requests_are_refused_and_nothing_is_stored() {
    let a = server().await;
    let b = server().await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    // Bob's actor is served by his server, with the key the test signs with as a peer.
    assert_eq!(ap_get(&b, "/users/bob", AP).await.status(), 200);
    let bob_id: i64 = bob.id.parse().unwrap();
    let (_, private_pem) = b.state.store.account_key(bob_id).await.unwrap().unwrap();
    let bob_key = cascade_server::httpsig::private_key(&private_pem).unwrap();
    let (_, other_pem) = cascade_server::httpsig::generate().unwrap();
    let other_key = cascade_server::httpsig::private_key(&other_pem).unwrap();
    let bob_uri = b.url("/users/bob");
    let key_id = format!("{bob_uri}#main-key");
    let alice_uri = a.url("/users/alice");
    let now = cascade_core::time::now_millis();
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{bob_uri}/follows/1"),
        "type": "Follow",
        "actor": bob_uri,
        "object": alice_uri,
    })
    .to_string();
    let follow = follow.as_bytes();

    let unsigned = a
        .client
        .post(a.url("/inbox"))
        .header("content-type", AP)
        .body(follow.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let body: Value = unsigned.json().await.unwrap();
    assert!(body["error"].as_str().is_some());

    for (why, s) in [
        (
            "a signature by another key",
            Send {
                key_id: &key_id,
                key: &other_key,
                signed_body: follow,
                sent_body: follow,
                date_ms: now,
            },
        ),
        (
            "a body other than the one signed",
            Send {
                key_id: &key_id,
                key: &bob_key,
                signed_body: follow,
                sent_body: b"{\"type\":\"Follow\"}",
                date_ms: now,
            },
        ),
        (
            "a date thirteen hours old",
            Send {
                key_id: &key_id,
                key: &bob_key,
                signed_body: follow,
                sent_body: follow,
                date_ms: now - 13 * 3_600_000,
            },
        ),
    ] {
        let res = post_inbox(&a, s).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{why}");
    }
    let me = a
        .get(&alice, &format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(me["followers_count"], 0, "no refused follow was stored");

    // Signed by bob, but about someone else's note: refused.
    let create = json!({
        "id": format!("{bob_uri}/statuses/9/activity"),
        "type": "Create",
        "actor": bob_uri,
        "object": {
            "id": format!("{}/statuses/9", a.url("/users/alice")),
            "type": "Note",
            "attributedTo": alice_uri,
            "content": "<p>forged</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    })
    .to_string();
    let forged = post_inbox(
        &a,
        Send {
            key_id: &key_id,
            key: &bob_key,
            signed_body: create.as_bytes(),
            sent_body: create.as_bytes(),
            date_ms: now,
        },
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // An activity whose actor is not the signer: refused.
    let impostor = json!({
        "id": format!("{bob_uri}/follows/2"),
        "type": "Follow",
        "actor": b.url("/users/carol"),
        "object": alice_uri,
    })
    .to_string();
    let res = post_inbox(
        &a,
        Send {
            key_id: &key_id,
            key: &bob_key,
            signed_body: impostor.as_bytes(),
            sent_body: impostor.as_bytes(),
            date_ms: now,
        },
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let public = a.get(&alice, "/api/v1/timelines/public").await.ok();
    assert_eq!(public, json!([]), "no forged note was stored");

    // The same Follow, signed properly, is accepted: the refusals above were for their
    // faults alone.
    let res = post_inbox(
        &a,
        Send {
            key_id: &key_id,
            key: &bob_key,
            signed_body: follow,
            sent_body: follow,
            date_ms: now,
        },
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let me = a
        .get(&alice, &format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(me["followers_count"], 1);

    // A remote bob is known here now; a local bob may still sign up, and local lookups
    // find only him.
    let local_bob = a.user("bob").await;
    let found = a.get(&alice, "/api/v1/accounts/lookup?acct=bob").await.ok();
    assert_eq!(found["id"], local_bob.id.as_str());
    assert_eq!(found["acct"], "bob");
    let remote = a
        .get(
            &alice,
            &format!("/api/v1/accounts/lookup?acct=bob@{}", domain(&b)),
        )
        .await
        .ok();
    assert_ne!(remote["id"], local_bob.id.as_str());
    assert_eq!(remote["url"], b.url("/@bob"));
}

/// Two servers whose alice (on A) and bob (on B) follow each other, with the id each
/// server gives the other's account.
struct Pair {
    a: TestApp,
    b: TestApp,
    alice: User,
    bob: User,
    alice_on_b: String,
    bob_on_a: String,
}

pub(crate) async fn follow_remote(app: &TestApp, user: &User, id: &str) {
    app.post(user, &format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await
        .ok();
    eventually("the remote server accepts the follow", || async {
        relationship(app, user, id).await["following"] == true
    })
    .await;
}

async fn pair() -> Pair {
    let a = server().await;
    let b = server().await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let alice_on_b = remote_id(&b, &bob, &a, "alice").await;
    let bob_on_a = remote_id(&a, &alice, &b, "bob").await;
    follow_remote(&b, &bob, &alice_on_b).await;
    follow_remote(&a, &alice, &bob_on_a).await;
    Pair {
        a,
        b,
        alice,
        bob,
        alice_on_b,
        bob_on_a,
    }
}

/// The status (not a reblog) containing `text` in `user`'s home, once it arrives.
pub(crate) async fn arrived(app: &TestApp, user: &User, text: &str) -> Value {
    let find = || async {
        app.home(user, "")
            .await
            .into_iter()
            .find(|s| s["reblog"].is_null() && s["content"].as_str().unwrap().contains(text))
    };
    eventually("the post arrives", || async { find().await.is_some() }).await;
    find().await.unwrap()
}

async fn status(app: &TestApp, user: &User, id: &str) -> Value {
    app.get(user, &format!("/api/v1/statuses/{id}")).await.ok()
}

async fn notifications(app: &TestApp, user: &User, kind: &str) -> Vec<String> {
    app.get(user, &format!("/api/v1/notifications?types[]={kind}"))
        .await
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["account"]["acct"].as_str().unwrap().to_string())
        .collect()
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

#[tokio::test]
async fn boosts_and_their_undos_travel_both_ways_and_join_the_cascade() {
    let Pair {
        a,
        b,
        alice,
        bob,
        bob_on_a,
        ..
    } = pair().await;
    let bob_acct = format!("bob@{}", domain(&b));
    // Carol, on A, follows bob: his boosts reach her home there.
    let carol = a.user("carol").await;
    follow_remote(&a, &carol, &bob_on_a).await;
    // Bob follows dave, on A, who boosts alice's post before bob does: bob's boost hangs
    // under dave's in the cascade, as it would have locally.
    let dave = a.user("dave").await;
    let dave_on_b = remote_id(&b, &bob, &a, "dave").await;
    follow_remote(&b, &bob, &dave_on_b).await;

    let post = a.post_status(&alice, "boost me", "public").await;
    let there = arrived(&b, &bob, "boost me").await;
    let dave_reblog = a
        .post(
            &dave,
            &format!("/api/v1/statuses/{}/reblog", id(&post)),
            json!({}),
        )
        .await
        .ok();
    let reblogged = b
        .post(
            &bob,
            &format!("/api/v1/statuses/{}/reblog", id(&there)),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(reblogged["reblog"]["reblogged"], true, "{reblogged}");

    eventually("alice's post counts bob's boost", || async {
        status(&a, &alice, id(&post)).await["reblogs_count"] == 2
    })
    .await;
    eventually("alice is told of bob's boost", || async {
        notifications(&a, &alice, "reblog")
            .await
            .contains(&bob_acct)
    })
    .await;
    let boost_at_carol = || async {
        a.home(&carol, "")
            .await
            .into_iter()
            .find(|s| s["account"]["acct"] == bob_acct.as_str() && s["reblog"]["id"] == post["id"])
    };
    eventually("bob's boost reaches carol's home", || async {
        boost_at_carol().await.is_some()
    })
    .await;
    let bob_reblog = boost_at_carol().await.unwrap();
    a.drain().await;
    let cascade = a
        .get(&alice, &format!("/api/v1/statuses/{}/cascade", id(&post)))
        .await
        .ok();
    let node = cascade["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == bob_reblog["id"])
        .unwrap_or_else(|| panic!("bob's boost in {cascade}"))
        .clone();
    assert_eq!(node["acct"], bob_acct.as_str());
    assert_eq!(node["kind"], "reblog");
    assert_eq!(node["parent_id"], dave_reblog["id"], "{cascade}");

    b.post(
        &bob,
        &format!("/api/v1/statuses/{}/unreblog", id(&there)),
        json!({}),
    )
    .await
    .ok();
    eventually("the unboost reaches A", || async {
        status(&a, &alice, id(&post)).await["reblogs_count"] == 1
    })
    .await;
    assert!(boost_at_carol().await.is_none());

    // The other way: alice boosts bob's post, which bob's server counts and tells him.
    let bobs = b.post_status(&bob, "boost me back", "public").await;
    let here = arrived(&a, &alice, "boost me back").await;
    a.post(
        &alice,
        &format!("/api/v1/statuses/{}/reblog", id(&here)),
        json!({}),
    )
    .await
    .ok();
    let alice_acct = format!("alice@{}", domain(&a));
    eventually("bob's post counts alice's boost", || async {
        status(&b, &bob, id(&bobs)).await["reblogs_count"] == 1
    })
    .await;
    eventually("bob is told of alice's boost", || async {
        notifications(&b, &bob, "reblog")
            .await
            .contains(&alice_acct)
    })
    .await;
    a.post(
        &alice,
        &format!("/api/v1/statuses/{}/unreblog", id(&here)),
        json!({}),
    )
    .await
    .ok();
    eventually("alice's unboost reaches B", || async {
        status(&b, &bob, id(&bobs)).await["reblogs_count"] == 0
    })
    .await;
    assert!(!notifications(&b, &bob, "reblog")
        .await
        .contains(&alice_acct));
}

#[tokio::test]
async fn favourites_and_their_undos_travel_both_ways() {
    let Pair {
        a, b, alice, bob, ..
    } = pair().await;
    let bob_acct = format!("bob@{}", domain(&b));
    let alice_acct = format!("alice@{}", domain(&a));

    let post = a.post_status(&alice, "like me", "public").await;
    let there = arrived(&b, &bob, "like me").await;
    let faved = b
        .post(
            &bob,
            &format!("/api/v1/statuses/{}/favourite", id(&there)),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(faved["favourited"], true);
    eventually("alice's post counts bob's favourite", || async {
        status(&a, &alice, id(&post)).await["favourites_count"] == 1
    })
    .await;
    eventually("alice is told of bob's favourite", || async {
        notifications(&a, &alice, "favourite").await == vec![bob_acct.clone()]
    })
    .await;
    b.post(
        &bob,
        &format!("/api/v1/statuses/{}/unfavourite", id(&there)),
        json!({}),
    )
    .await
    .ok();
    eventually("the unfavourite reaches A", || async {
        status(&a, &alice, id(&post)).await["favourites_count"] == 0
    })
    .await;
    assert!(notifications(&a, &alice, "favourite").await.is_empty());

    let bobs = b.post_status(&bob, "like me back", "public").await;
    let here = arrived(&a, &alice, "like me back").await;
    a.post(
        &alice,
        &format!("/api/v1/statuses/{}/favourite", id(&here)),
        json!({}),
    )
    .await
    .ok();
    eventually("bob is told of alice's favourite", || async {
        notifications(&b, &bob, "favourite").await == vec![alice_acct.clone()]
    })
    .await;
    assert_eq!(status(&b, &bob, id(&bobs)).await["favourites_count"], 1);
    a.post(
        &alice,
        &format!("/api/v1/statuses/{}/unfavourite", id(&here)),
        json!({}),
    )
    .await
    .ok();
    eventually("alice's unfavourite reaches B", || async {
        status(&b, &bob, id(&bobs)).await["favourites_count"] == 0
    })
    .await;
}

#[tokio::test]
async fn edits_and_profile_changes_reach_followers_and_forged_updates_are_refused() {
    let Pair {
        a,
        b,
        alice,
        bob,
        alice_on_b,
        ..
    } = pair().await;
    let post = a.post_status(&alice, "first words", "public").await;
    let there = arrived(&b, &bob, "first words").await;
    a.request(
        Method::PUT,
        &format!("/api/v1/statuses/{}", id(&post)),
        Some(&alice.token),
        Some(json!({"status": "second words #edited", "spoiler_text": "a warning", "sensitive": true})),
    )
    .await
    .ok();
    eventually("the edit reaches B", || async {
        status(&b, &bob, id(&there)).await["content"]
            .as_str()
            .unwrap()
            .contains("second words")
    })
    .await;
    let edited = status(&b, &bob, id(&there)).await;
    assert_eq!(edited["spoiler_text"], "a warning");
    assert_eq!(edited["sensitive"], true);
    assert!(edited["edited_at"].is_string(), "{edited}");
    let history = b
        .get(&bob, &format!("/api/v1/statuses/{}/history", id(&there)))
        .await
        .ok();
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
    assert!(history[0]["content"]
        .as_str()
        .unwrap()
        .contains("first words"));

    a.request(
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&alice.token),
        Some(json!({"display_name": "Alice of A", "note": "new bio"})),
    )
    .await
    .ok();
    eventually("the profile change reaches B", || async {
        b.get(&bob, &format!("/api/v1/accounts/{alice_on_b}"))
            .await
            .ok()["display_name"]
            == "Alice of A"
    })
    .await;

    // Bob's server signs an Update of alice's note, and one of alice herself: both are
    // refused, and nothing changes on A.
    let bob_id: i64 = bob.id.parse().unwrap();
    let (_, private_pem) = b.state.store.account_key(bob_id).await.unwrap().unwrap();
    let bob_key = cascade_server::httpsig::private_key(&private_pem).unwrap();
    let bob_uri = b.url("/users/bob");
    let key_id = format!("{bob_uri}#main-key");
    let alice_uri = a.url("/users/alice");
    let forged_note = json!({
        "id": format!("{bob_uri}#updates/1"),
        "type": "Update",
        "actor": bob_uri,
        "object": {
            "id": format!("{alice_uri}/statuses/{}", id(&post)),
            "type": "Note",
            "attributedTo": bob_uri,
            "content": "<p>forged</p>",
        },
    })
    .to_string();
    let forged_person = json!({
        "id": format!("{bob_uri}#updates/2"),
        "type": "Update",
        "actor": bob_uri,
        "object": {"id": alice_uri, "type": "Person", "name": "forged"},
    })
    .to_string();
    for body in [forged_note, forged_person] {
        let res = post_inbox(
            &a,
            Send {
                key_id: &key_id,
                key: &bob_key,
                signed_body: body.as_bytes(),
                sent_body: body.as_bytes(),
                date_ms: cascade_core::time::now_millis(),
            },
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{body}");
    }
    let mine = status(&a, &alice, id(&post)).await;
    assert!(mine["content"].as_str().unwrap().contains("second words"));
    let me = a
        .get(&alice, &format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(me["display_name"], "Alice of A");
}

#[tokio::test]
async fn a_block_ends_follows_on_both_servers_and_its_undo_lets_them_follow_again() {
    let Pair {
        a,
        b,
        alice,
        bob,
        alice_on_b,
        bob_on_a,
    } = pair().await;
    let notified_before = a
        .get(&alice, "/api/v1/notifications")
        .await
        .ok()
        .as_array()
        .unwrap()
        .len();
    b.post(
        &bob,
        &format!("/api/v1/accounts/{alice_on_b}/block"),
        json!({}),
    )
    .await
    .ok();
    let there = relationship(&b, &bob, &alice_on_b).await;
    assert_eq!(there["blocking"], true);
    assert_eq!(there["following"], false);
    assert_eq!(there["followed_by"], false);
    eventually("the block ends both follows on A", || async {
        let r = relationship(&a, &alice, &bob_on_a).await;
        r["following"] == false && r["followed_by"] == false
    })
    .await;
    let me = a
        .get(&alice, &format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(me["followers_count"], 0);
    assert_eq!(me["following_count"], 0);
    a.drain().await;
    let notified = a.get(&alice, "/api/v1/notifications").await.ok();
    assert_eq!(
        notified.as_array().unwrap().len(),
        notified_before,
        "alice is not told she was blocked: {notified}"
    );
    // While the block stands, alice cannot follow bob.
    let refused = a
        .post(
            &alice,
            &format!("/api/v1/accounts/{bob_on_a}/follow"),
            json!({}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    b.post(
        &bob,
        &format!("/api/v1/accounts/{alice_on_b}/unblock"),
        json!({}),
    )
    .await
    .ok();
    eventually(
        "the unblock reaches A and alice may follow bob again",
        || async {
            a.post(
                &alice,
                &format!("/api/v1/accounts/{bob_on_a}/follow"),
                json!({}),
            )
            .await
            .status
                == StatusCode::OK
        },
    )
    .await;
    eventually("bob's server accepts alice's new follow", || async {
        relationship(&a, &alice, &bob_on_a).await["following"] == true
    })
    .await;
}

#[tokio::test]
async fn a_block_and_its_undo_are_written_with_the_block_and_sent_once() {
    let a = server().await;
    // B's jobs run only when the test drains them, so what each request wrote is seen.
    let b = spawn_with(|config| {
        config.allow_private_outgoing = true;
        config.rate_limit = None;
        config.worker = false;
    })
    .await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let alice_on_b = remote_id(&b, &bob, &a, "alice").await;
    let jobs = || async { b.state.store.count_jobs().await.unwrap() };
    b.drain().await;
    assert_eq!(jobs().await, 0);

    // Each request first runs what the one before wrote (`TestApp::request` drains): the
    // first Block is sent before the second block, which finds the block and owes nothing.
    let block = format!("/api/v1/accounts/{alice_on_b}/block");
    b.post(&bob, &block, json!({})).await.ok();
    assert_eq!(jobs().await, 1, "the Block is written with the block");
    b.post(&bob, &block, json!({})).await.ok();
    assert_eq!(jobs().await, 0, "blocking again writes nothing more");
    let bob_on_a = remote_id(&a, &alice, &b, "bob").await;
    assert_eq!(
        relationship(&a, &alice, &bob_on_a).await["blocked_by"],
        true
    );

    let unblock = format!("/api/v1/accounts/{alice_on_b}/unblock");
    b.post(&bob, &unblock, json!({})).await.ok();
    assert_eq!(jobs().await, 1, "the Undo is written with the unblock");
    b.post(&bob, &unblock, json!({})).await.ok();
    assert_eq!(jobs().await, 0, "unblocking again writes nothing more");
    assert_eq!(
        relationship(&a, &alice, &bob_on_a).await["blocked_by"],
        false
    );
}

#[tokio::test]
async fn attachments_are_sent_in_notes_and_shown_by_reference_on_the_other_server() {
    let Pair {
        a, b, alice, bob, ..
    } = pair().await;
    let png = crate::media::png(4, 3, false);
    let uploaded = crate::media::upload(&a, &alice, png, "red.png", "image/png").await;
    a.request(
        Method::PUT,
        &format!("/api/v1/media/{}", id(&uploaded)),
        Some(&alice.token),
        Some(json!({"description": "a red rectangle"})),
    )
    .await
    .ok();
    let post = a
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "look at this", "media_ids": [id(&uploaded)]}),
        )
        .await
        .ok();
    let sent = &post["media_attachments"][0];
    let note: Value = ap_get(&a, &format!("/users/alice/statuses/{}", id(&post)), AP)
        .await
        .json()
        .await
        .unwrap();
    let doc = &note["attachment"][0];
    assert_eq!(doc["type"], "Document");
    assert!(
        doc["mediaType"].as_str().unwrap().starts_with("image/"),
        "{doc}"
    );
    assert_eq!(doc["url"], sent["url"]);
    assert_eq!(doc["name"], "a red rectangle");
    assert_eq!(doc["blurhash"], sent["blurhash"]);
    assert_eq!(
        (doc["width"].clone(), doc["height"].clone()),
        (json!(4), json!(3))
    );

    // B keeps it by reference: its URL is A's file, which B neither fetches nor caches.
    let shown = arrived(&b, &bob, "look at this").await["media_attachments"][0].clone();
    assert_eq!(shown["type"], "image");
    assert_eq!(shown["remote_url"], sent["url"]);
    assert_eq!(shown["url"], sent["url"]);
    assert_eq!(shown["description"], "a red rectangle");
    assert_eq!(shown["blurhash"], sent["blurhash"]);
    assert_eq!(shown["meta"]["original"]["width"], 4);
}

#[tokio::test]
async fn the_same_like_announce_or_update_twice_changes_nothing_the_second_time() {
    let Pair {
        a, b, alice, bob, ..
    } = pair().await;
    let post = a.post_status(&alice, "once only", "public").await;
    let bob_id: i64 = bob.id.parse().unwrap();
    let (_, private_pem) = b.state.store.account_key(bob_id).await.unwrap().unwrap();
    let bob_key = cascade_server::httpsig::private_key(&private_pem).unwrap();
    let bob_uri = b.url("/users/bob");
    let key_id = format!("{bob_uri}#main-key");
    let note = a.url(&format!("/users/alice/statuses/{}", id(&post)));
    let public = "https://www.w3.org/ns/activitystreams#Public";
    let like = json!({
        "id": format!("{bob_uri}#likes/1"),
        "type": "Like",
        "actor": bob_uri,
        "object": note,
    });
    let announce = json!({
        "id": format!("{bob_uri}/statuses/1/activity"),
        "type": "Announce",
        "actor": bob_uri,
        "to": [public],
        "cc": [format!("{bob_uri}/followers")],
        "object": note,
    });
    // A peer that delivers an activity again signs it again: a Date of its own (a
    // second apart here, counted from one start, so that slow requests never make two
    // attempts share a second), so the request is not a replay but the activity is a
    // repeat.
    let start = cascade_core::time::now_millis();
    let send = |activity: &Value, attempt: i64| {
        let body = activity.to_string();
        let (a, key, key_id) = (&a, &bob_key, &key_id);
        async move {
            post_inbox(
                a,
                Send {
                    key_id,
                    key,
                    signed_body: body.as_bytes(),
                    sent_body: body.as_bytes(),
                    date_ms: start - attempt * 1_000,
                },
            )
            .await
            .status()
        }
    };
    for attempt in 0..2 {
        assert_eq!(send(&like, attempt).await, StatusCode::ACCEPTED);
        assert_eq!(send(&announce, attempt).await, StatusCode::ACCEPTED);
    }
    a.drain().await;
    let counted = status(&a, &alice, id(&post)).await;
    assert_eq!(counted["favourites_count"], 1);
    assert_eq!(counted["reblogs_count"], 1);
    assert_eq!(notifications(&a, &alice, "favourite").await.len(), 1);
    assert_eq!(notifications(&a, &alice, "reblog").await.len(), 1);

    // An Undo naming the Announce only by its id takes the reblog back; twice is harmless.
    let undo = json!({
        "id": format!("{bob_uri}/statuses/1/activity#undo"),
        "type": "Undo",
        "actor": bob_uri,
        "object": announce["id"],
    });
    for attempt in 0..2 {
        assert_eq!(send(&undo, attempt).await, StatusCode::ACCEPTED);
    }
    assert_eq!(status(&a, &alice, id(&post)).await["reblogs_count"], 0);
}
