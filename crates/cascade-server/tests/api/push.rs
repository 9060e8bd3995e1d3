//! Web Push: the subscription endpoints, and deliveries to a push service played by a
//! local receiver. Each test subscribes a "browser" with a fresh P-256 key pair and auth
//! secret, and decrypts what arrives with its private key per RFC 8291, checking the VAPID
//! signature against the instance's key. `away.rs` shares the receiver and the browser.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use p256::ecdsa::signature::Verifier;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand::RngCore;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{spawn_app, spawn_with, TestApp, User};

/// A server whose pushes may reach the receiver on 127.0.0.1 over plain http: the
/// test-only setting, off by default (`outgoing.rs` tests the default).
pub async fn spawn_push_app() -> TestApp {
    spawn_with(|c| c.allow_private_outgoing = true).await
}

/// One request the push service received.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// What the receiver answered.
    pub status: u16,
}

#[derive(Default)]
struct Inbox {
    received: Mutex<Vec<Delivery>>,
    /// Statuses to answer with, in order; 201 once they run out.
    script: Mutex<VecDeque<u16>>,
}

/// A push service on 127.0.0.1 that records every request.
pub struct Receiver {
    pub origin: String,
    inbox: Arc<Inbox>,
}

async fn receive(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let status = inbox.script.lock().unwrap().pop_front().unwrap_or(201);
    inbox.received.lock().unwrap().push(Delivery {
        headers,
        body: body.to_vec(),
        status,
    });
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    pub async fn start() -> Receiver {
        let inbox = Arc::new(Inbox::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/push/{id}", axum::routing::post(receive))
            .with_state(inbox.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { origin, inbox }
    }

    /// A fresh endpoint on this receiver.
    pub fn endpoint(&self) -> String {
        format!("{}/push/{}", self.origin, rand::random::<u32>())
    }

    /// Answers the next requests with these statuses.
    pub fn answer(&self, statuses: &[u16]) {
        self.inbox.script.lock().unwrap().extend(statuses);
    }

    /// Every request so far, accepted or not.
    pub fn received(&self) -> Vec<Delivery> {
        self.inbox.received.lock().unwrap().clone()
    }

    /// The accepted deliveries so far.
    pub fn accepted(&self) -> Vec<Delivery> {
        self.received()
            .into_iter()
            .filter(|d| d.status < 300)
            .collect()
    }

    /// Waits until `n` deliveries were accepted (10 s at most) and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.accepted();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A browser's side of a subscription: its key pair and auth secret.
pub struct Browser {
    secret: p256::SecretKey,
    pub p256dh: String,
    auth: [u8; 16],
    pub auth_b64: String,
}

impl Browser {
    pub fn new() -> Browser {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let mut auth = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut auth);
        Browser {
            p256dh: URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes()),
            secret,
            auth,
            auth_b64: URL_SAFE_NO_PAD.encode(auth),
        }
    }

    /// Decrypts an `aes128gcm` body (RFC 8188 header, RFC 8291 keys) into its JSON.
    pub fn decrypt(&self, body: &[u8]) -> Value {
        let salt = &body[..16];
        let record_size = u32::from_be_bytes(body[16..20].try_into().unwrap());
        assert_eq!(record_size, 4096);
        let id_len = body[20] as usize;
        let sender = &body[21..21 + id_len];
        let ciphertext = &body[21 + id_len..];
        let sender_key = p256::PublicKey::from_sec1_bytes(sender).expect("the sender's key");
        let shared =
            p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), sender_key.as_affine());
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(self.secret.public_key().to_encoded_point(false).as_bytes());
        info.extend_from_slice(sender);
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes())
            .expand(&info, &mut ikm)
            .unwrap();
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let (mut key, mut nonce) = ([0u8; 16], [0u8; 12]);
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut key)
            .unwrap();
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
            .unwrap();
        let mut plain = Aes128Gcm::new_from_slice(&key)
            .unwrap()
            .decrypt(Nonce::from_slice(&nonce), ciphertext)
            .expect("the body decrypts with the subscription's key");
        while plain.last() == Some(&0) {
            plain.pop();
        }
        assert_eq!(plain.pop(), Some(2), "the last record's delimiter");
        serde_json::from_slice(&plain).expect("a JSON payload")
    }
}

/// Subscribes `user` with a new browser at `receiver`, with the given `data`.
pub async fn subscribe(
    app: &TestApp,
    user: &User,
    receiver: &Receiver,
    data: Value,
) -> (Browser, Value) {
    let browser = Browser::new();
    let sub = app
        .post(
            user,
            "/api/v1/push/subscription",
            json!({
                "subscription": {
                    "endpoint": receiver.endpoint(),
                    "keys": {"p256dh": browser.p256dh, "auth": browser.auth_b64},
                    "standard": true,
                },
                "data": data,
            }),
        )
        .await
        .ok();
    (browser, sub)
}

fn b64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// Checks the VAPID header of a delivery: signed by the instance's key for the receiver.
fn check_vapid(delivery: &Delivery, instance_key: &str, receiver: &Receiver) {
    let header = delivery.headers["authorization"].to_str().unwrap();
    let (token, key) = header
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .expect("vapid t=..., k=...");
    assert_eq!(key, instance_key);
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let verifier = p256::ecdsa::VerifyingKey::from_sec1_bytes(&b64(key)).unwrap();
    let signature = p256::ecdsa::Signature::from_slice(&b64(signature)).unwrap();
    verifier
        .verify(signed.as_bytes(), &signature)
        .expect("the JWT is signed by the instance's VAPID key");
    let (head, claims) = signed.split_once('.').unwrap();
    let head: Value = serde_json::from_slice(&b64(head)).unwrap();
    assert_eq!(head["alg"], "ES256");
    let claims: Value = serde_json::from_slice(&b64(claims)).unwrap();
    assert_eq!(claims["aud"], receiver.origin.as_str());
    assert!(claims["exp"].as_i64().unwrap() > cascade_core::time::now_millis() / 1000);
    assert!(claims["sub"].as_str().unwrap().starts_with("mailto:"));
}

async fn instance_key(app: &TestApp) -> String {
    let instance = app.get_anon("/api/v2/instance").await.ok();
    instance["configuration"]["vapid"]["public_key"]
        .as_str()
        .unwrap()
        .to_string()
}

pub async fn favourite(app: &TestApp, user: &User, status: &str) {
    app.post(
        user,
        &format!("/api/v1/statuses/{status}/favourite"),
        json!({}),
    )
    .await
    .ok();
}

#[tokio::test]
async fn a_subscription_is_created_read_changed_and_deleted_as_in_mastodon() {
    let app = spawn_push_app().await;
    let alice = app.user("alice").await;
    let receiver = Receiver::start().await;
    let (_, sub) = subscribe(
        &app,
        &alice,
        &receiver,
        json!({"alerts": {"mention": true, "favourite": "1"}, "policy": "followed"}),
    )
    .await;
    assert_eq!(sub["alerts"]["mention"], true);
    assert_eq!(sub["alerts"]["favourite"], true);
    assert_eq!(sub["alerts"]["reblog"], false);
    assert_eq!(sub["policy"], "followed");
    assert_eq!(sub["standard"], true);
    assert!(sub["id"].is_string());
    let key = instance_key(&app).await;
    assert_eq!(key.len(), 87, "an uncompressed P-256 point in base64url");
    assert_eq!(sub["server_key"], key.as_str());
    assert_eq!(app.get(&alice, "/api/v1/push/subscription").await.ok(), sub);

    // PUT changes only the data, with form keys too; the alerts not sent turn off.
    let res = app
        .client
        .put(app.url("/api/v1/push/subscription"))
        .bearer_auth(&alice.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("data[alerts][reblog]=true&data[policy]=none&subscription[endpoint]=https://elsewhere.example/x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["alerts"]["reblog"], true);
    assert_eq!(changed["alerts"]["mention"], false);
    assert_eq!(changed["policy"], "none");
    assert_eq!(changed["endpoint"], sub["endpoint"]);

    let gone = app
        .request(
            Method::DELETE,
            "/api/v1/push/subscription",
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(gone.ok(), json!({}));
    let missing = app.get(&alice, "/api/v1/push/subscription").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["error"], "Record not found");
    let put = app
        .request(
            Method::PUT,
            "/api/v1/push/subscription",
            Some(&alice.token),
            Some(json!({"data": {}})),
        )
        .await;
    assert_eq!(put.status, 404);
}

#[tokio::test]
async fn bad_subscriptions_get_mastodon_errors() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let reader = app.user_with_scopes("reader", "read write").await;
    let browser = Browser::new();
    let good = json!({"endpoint": "https://push.example.net/x", "keys": {"p256dh": browser.p256dh, "auth": browser.auth_b64}});
    let cases = [
        (json!({}), 400),
        (json!({"subscription": "yes"}), 400),
        (
            json!({"subscription": {"endpoint": "https://push.example.net/x"}}),
            422,
        ),
        (
            json!({"subscription": {"endpoint": "not a url", "keys": good["keys"]}}),
            422,
        ),
        (
            json!({"subscription": {"endpoint": "ftp://push.example.net/x", "keys": good["keys"]}}),
            422,
        ),
        (
            json!({"subscription": {"endpoint": "https://push.example.net/x", "keys": {"p256dh": "AAAA", "auth": browser.auth_b64}}}),
            422,
        ),
        (
            json!({"subscription": {"endpoint": "https://push.example.net/x", "keys": {"p256dh": browser.p256dh, "auth": "short"}}}),
            422,
        ),
        (
            json!({"subscription": good, "data": {"policy": "friends"}}),
            422,
        ),
        (
            json!({"subscription": good, "data": {"alerts": {"mention": "maybe"}}}),
            400,
        ),
    ];
    for (body, status) in cases {
        let res = app
            .post(&alice, "/api/v1/push/subscription", body.clone())
            .await;
        assert_eq!(res.status, status, "{body}: {}", res.body);
        assert!(res.body["error"].is_string(), "{}", res.body);
    }
    let scope = app
        .post(
            &reader,
            "/api/v1/push/subscription",
            json!({"subscription": good}),
        )
        .await;
    assert_eq!(scope.status, 403);
    let anonymous = app.get_anon("/api/v1/push/subscription").await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn endpoints_on_the_servers_own_network_are_refused() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let browser = Browser::new();
    let keys = json!({"p256dh": browser.p256dh, "auth": browser.auth_b64});
    for endpoint in [
        "http://push.example.net/x",
        "http://127.0.0.1:8080/push",
        "https://127.0.0.1/push",
        "https://127.1/push",
        "https://2130706433/push",
        "https://0.0.0.0/push",
        "https://10.0.0.1/push",
        "https://172.16.5.4/push",
        "https://192.168.0.10/push",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/push",
        "https://224.0.0.1/push",
        "https://[::1]/push",
        "https://[::]/push",
        "https://[::ffff:127.0.0.1]/push",
        "https://[::ffff:a00:1]/push",
        "https://[fe80::1]/push",
        "https://[fd00::1]/push",
        "https://[ff02::1]/push",
        "https://localhost/push",
        "https://localhost./push",
        "https://push.localhost/push",
        "https://intranet/push",
        "https://user:secret@push.example.net/x",
    ] {
        let res = app
            .post(
                &alice,
                "/api/v1/push/subscription",
                json!({"subscription": {"endpoint": endpoint, "keys": keys}}),
            )
            .await;
        assert_eq!(res.status, 422, "{endpoint}: {}", res.body);
        assert!(
            res.body["error"]
                .as_str()
                .unwrap()
                .starts_with("Validation failed: Endpoint"),
            "{endpoint}: {}",
            res.body
        );
    }
    let public = app
        .post(
            &alice,
            "/api/v1/push/subscription",
            json!({"subscription": {"endpoint": "https://push.example.net/x", "keys": keys}}),
        )
        .await;
    assert_eq!(public.status, 200, "{}", public.body);
}

#[tokio::test]
async fn a_stored_endpoint_on_the_servers_own_network_is_never_connected_to() {
    // A subscription stored before the rules (or by a server that allowed it) names a
    // receiver on 127.0.0.1; the worker must not reach it.
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let receiver = Receiver::start().await;
    let browser = Browser::new();
    app.post(
        &alice,
        "/api/v1/push/subscription",
        json!({
            "subscription": {
                "endpoint": "https://push.example.net/x",
                "keys": {"p256dh": browser.p256dh, "auth": browser.auth_b64},
            },
            "data": {"alerts": {"favourite": true}},
        }),
    )
    .await
    .ok();
    let alice_id = alice.id.parse().unwrap();
    let mut stored = app
        .state
        .store
        .push_subscriptions_of(alice_id)
        .await
        .unwrap();
    let mut sub = stored.pop().expect("the subscription");
    sub.endpoint = receiver.endpoint();
    app.state
        .store
        .replace_push_subscription(&sub)
        .await
        .unwrap();

    let post = app.post_status(&alice, "a watermelon", "public").await;
    favourite(&app, &bob, post["id"].as_str().unwrap()).await;
    app.settle().await;

    assert!(
        receiver.received().is_empty(),
        "the loopback receiver was reached"
    );
    let gone = app.get(&alice, "/api/v1/push/subscription").await;
    assert_eq!(gone.status, 404, "the refused subscription is dropped");
}

#[tokio::test]
async fn a_favourite_is_pushed_encrypted_and_signed_with_the_instance_key() {
    let app = spawn_push_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let receiver = Receiver::start().await;
    let (browser, _) = subscribe(
        &app,
        &alice,
        &receiver,
        json!({"alerts": {"favourite": true}}),
    )
    .await;
    let post = app.post_status(&alice, "a watermelon", "public").await;
    favourite(&app, &bob, post["id"].as_str().unwrap()).await;

    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1);
    let delivery = &got[0];
    assert_eq!(delivery.headers["content-encoding"], "aes128gcm");
    assert_eq!(delivery.headers["ttl"], "172800");
    assert_eq!(delivery.headers["urgency"], "normal");
    check_vapid(delivery, &instance_key(&app).await, &receiver);
    let payload = browser.decrypt(&delivery.body);
    let notes = app.get(&alice, "/api/v1/notifications").await.ok();
    assert_eq!(
        payload["notification_id"].to_string(),
        notes[0]["id"].as_str().unwrap()
    );
    assert_eq!(payload["notification_type"], "favourite");
    assert_eq!(payload["title"], "bob favourited your post");
    assert_eq!(payload["body"], "a watermelon");
    assert_eq!(payload["preferred_locale"], "en");
    assert!(payload["icon"].as_str().unwrap().starts_with("http"));
    assert!(payload.get("access_token").is_none(), "{payload}");
}

#[tokio::test]
async fn a_push_never_carries_a_status_the_recipient_could_not_see() {
    let app = spawn_push_app().await;
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    let receiver = Receiver::start().await;
    let (browser, _) = subscribe(&app, &alice, &receiver, json!({"alerts": {"quote": true}})).await;
    let post = app.post_status(&alice, "a watermelon", "public").await;
    let quote = |text: &str, visibility: &str| json!({"status": text, "visibility": visibility, "quoted_status_id": post["id"]});
    // Alice does not follow carol, so carol's followers-only quote is not hers to see.
    app.post(&carol, "/api/v1/statuses", quote("secret words", "private"))
        .await
        .ok();
    app.post(&carol, "/api/v1/statuses", quote("open words", "public"))
        .await
        .ok();
    app.settle().await;

    let got = receiver.accepted();
    let bodies: Vec<String> = got
        .iter()
        .map(|d| browser.decrypt(&d.body)["body"].to_string())
        .collect();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert!(bodies[0].contains("open words"), "{bodies:?}");
    let notes = app.get(&alice, "/api/v1/notifications").await.ok();
    assert!(!notes.to_string().contains("secret words"));
}

#[tokio::test]
async fn alerts_and_policy_decide_what_is_pushed() {
    let app = spawn_push_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&alice, &carol).await;
    let receiver = Receiver::start().await;
    let (browser, _) = subscribe(
        &app,
        &alice,
        &receiver,
        json!({"alerts": {"mention": true, "favourite": false}, "policy": "followed"}),
    )
    .await;
    let post = app.post_status(&alice, "hello", "public").await;
    favourite(&app, &carol, post["id"].as_str().unwrap()).await;
    app.post_status(&bob, "@alice from a stranger", "public")
        .await;
    app.post_status(&carol, "@alice from a friend", "public")
        .await;

    let got = receiver.wait_for(1).await;
    app.settle().await;
    let got_later = receiver.accepted();
    assert_eq!(got.len(), 1);
    assert_eq!(got_later.len(), 1, "only carol's mention is pushed");
    let payload = browser.decrypt(&got[0].body);
    assert_eq!(payload["notification_type"], "mention");
    assert_eq!(payload["title"], "You were mentioned by carol");
}

#[tokio::test]
async fn a_failing_push_service_is_retried_and_a_gone_subscription_removed() {
    let app = spawn_push_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let receiver = Receiver::start().await;
    let (browser, _) = subscribe(
        &app,
        &alice,
        &receiver,
        json!({"alerts": {"favourite": true}}),
    )
    .await;
    receiver.answer(&[500, 429]);
    let post = app.post_status(&alice, "first", "public").await;
    favourite(&app, &bob, post["id"].as_str().unwrap()).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1, "delivered after the retries");
    let tries = receiver.received();
    assert_eq!(
        tries.iter().map(|d| d.status).collect::<Vec<_>>(),
        vec![500, 429, 201]
    );
    assert_eq!(
        browser.decrypt(&got[0].body)["notification_type"],
        "favourite"
    );

    receiver.answer(&[410]);
    let second = app.post_status(&alice, "second", "public").await;
    favourite(&app, &bob, second["id"].as_str().unwrap()).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get(&alice, "/api/v1/push/subscription").await.status != 404 {
        assert!(
            Instant::now() < deadline,
            "the subscription was not removed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(receiver.received().len(), 4);
}

#[tokio::test]
async fn a_burst_of_favourites_is_coalesced_and_the_last_push_has_the_final_count() {
    let app = spawn_with(|c| {
        c.coalesce_ms = 1_000;
        c.allow_private_outgoing = true;
    })
    .await;
    let alice = app.user("alice").await;
    let receiver = Receiver::start().await;
    let (browser, _) = subscribe(
        &app,
        &alice,
        &receiver,
        json!({"alerts": {"favourite": true}}),
    )
    .await;
    let post = app.post_status(&alice, "the post", "public").await;
    let id = post["id"].as_str().unwrap().to_string();
    let fans = crowd(&app, 300).await;

    let started = Instant::now();
    for chunk in fans.chunks(10) {
        let requests = chunk.iter().map(|fan| {
            app.client
                .post(app.url(&format!("/api/v1/statuses/{id}/favourite")))
                .bearer_auth(&fan.token)
                .send()
        });
        for res in join_all(requests).await {
            assert!(res.unwrap().status().is_success());
        }
    }
    let burst = started.elapsed();

    // The last push comes at most one window after the burst.
    let deadline = Instant::now() + Duration::from_secs(10);
    let last = loop {
        let got = receiver.accepted();
        if let Some(last) = got.last().map(|d| browser.decrypt(&d.body)) {
            if last["body"]
                .as_str()
                .unwrap()
                .ends_with(" and 299 others favourited your post")
            {
                break last;
            }
        }
        assert!(Instant::now() < deadline, "no push with the final count");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let name = last["body"].as_str().unwrap().split(' ').next().unwrap();
    assert_eq!(last["title"], format!("{name} favourited your post"));
    let pushes = receiver.accepted().len();
    // One push at the start, then at most one per window the burst reaches into (a
    // partly used last window counts), and the final one.
    let bound = (burst.as_millis() as usize).div_ceil(1_000) + 2;
    assert!(pushes <= bound, "{pushes} pushes for a {burst:?} burst");
    assert!(
        app.state.push.windows() < 10,
        "the coalescer keeps few windows"
    );
}

/// `n` accounts with tokens, made straight through the store (no password hashing).
pub async fn crowd(app: &TestApp, n: usize) -> Vec<User> {
    let now = cascade_core::time::now_millis();
    let rows: Vec<(i64, String, String, i64)> = (0..n)
        .map(|i| (app.state.ids.next(), format!("fan{i}"), String::new(), now))
        .collect();
    app.state.store.insert_accounts_bulk(&rows).await.unwrap();
    let mut users = Vec::new();
    for (id, username, _, _) in rows {
        let token =
            cascade_server::app::accounts::issue_token(&app.state, Some(id), None, "read write")
                .await
                .unwrap()
                .access_token;
        users.push(User {
            id: id.to_string(),
            token,
            username,
        });
    }
    users
}

/// Awaits futures side by side (the test crate has no `futures`).
pub async fn join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|v| v.unwrap()).collect()
}
