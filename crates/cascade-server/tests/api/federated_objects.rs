//! Objects fetched by id between two Cascade servers: a remote status or actor pasted into
//! search, a boost or a Create naming a note we do not have, a reply whose parents we
//! never saw; and a lying peer whose notes claim another server's actor or id, which are
//! not stored.

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::federation::{
    ap_get, arrived, domain, follow_remote, post_inbox, remote_id, server, Send, AP,
};
use crate::helpers::{eventually, TestApp, User};

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

async fn reply(app: &TestApp, user: &User, text: &str, to: &Value) -> Value {
    app.post(
        user,
        "/api/v1/statuses",
        json!({"status": text, "visibility": "public", "in_reply_to_id": id(to)}),
    )
    .await
    .ok()
}

/// `/api/v2/search` for `url`, resolved.
pub(crate) async fn resolve(app: &TestApp, user: &User, url: &str) -> Value {
    app.get(user, &format!("/api/v2/search?q={url}&resolve=true"))
        .await
        .ok()
}

pub(crate) fn note_url(app: &TestApp, name: &str, status: &Value) -> String {
    app.url(&format!("/users/{name}/statuses/{}", id(status)))
}

#[tokio::test]
async fn a_remote_status_or_actor_is_fetched_by_its_url_with_the_thread_above_it() {
    let a = server().await;
    let b = server().await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let carol = b.user("carol").await;
    let b_domain = domain(&b);

    let first = b.post_status(&bob, "the first of a thread", "public").await;
    let second = reply(&b, &carol, "the second, by carol", &first).await;
    let third = reply(&b, &bob, "the third, back to bob", &second).await;
    let url = note_url(&b, "bob", &third);

    let found = resolve(&a, &alice, &url).await;
    let statuses = found["statuses"].as_array().unwrap();
    assert_eq!(statuses.len(), 1, "{found}");
    let here = &statuses[0];
    assert!(here["content"].as_str().unwrap().contains("back to bob"));
    assert_eq!(here["uri"], url.as_str());
    assert_eq!(here["account"]["acct"], format!("bob@{b_domain}"));
    assert_ne!(
        here["id"], third["id"],
        "stored here under an id of its own"
    );

    // The parents came with it, so the thread reads whole here.
    let context = a
        .get(&alice, &format!("/api/v1/statuses/{}/context", id(here)))
        .await
        .ok();
    let ancestors: Vec<(&str, &str)> = context["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["content"].as_str().unwrap(),
                s["account"]["acct"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(ancestors.len(), 2, "{context}");
    assert!(ancestors[0].0.contains("the first of a thread"));
    assert!(ancestors[1].0.contains("the second, by carol"));
    assert_eq!(ancestors[1].1, format!("carol@{b_domain}"));

    // Asked again, the same stored status is found, not a second copy.
    let again = resolve(&a, &alice, &url).await;
    assert_eq!(again["statuses"][0]["id"], here["id"]);

    // An actor's URL finds the account, fetched when unknown.
    b.user("dave").await;
    let dave = resolve(&a, &alice, &b.url("/users/dave")).await;
    assert_eq!(
        dave["accounts"][0]["acct"],
        format!("dave@{b_domain}"),
        "{dave}"
    );
    assert_eq!(dave["statuses"], json!([]));

    // A private post is not served, so nothing is found; nor is a status that never was.
    let private = b.post_status(&bob, "followers only", "private").await;
    let hidden = resolve(&a, &alice, &note_url(&b, "bob", &private)).await;
    assert_eq!(hidden["statuses"], json!([]), "{hidden}");
    let missing = resolve(&a, &alice, &b.url("/users/bob/statuses/1")).await;
    assert_eq!(missing["statuses"], json!([]));
    assert_eq!(missing["accounts"], json!([]));
}

#[tokio::test]
async fn an_announce_or_a_create_naming_an_unknown_note_fetches_it_and_replies_bring_parents() {
    let a = server().await;
    let b = server().await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let carol = b.user("carol").await;
    let b_domain = domain(&b);

    // Written before alice follows bob, so A never received them.
    let carols = b
        .post_status(&carol, "carol wrote this first", "public")
        .await;
    let parent = b.post_status(&bob, "a parent A never saw", "public").await;
    let by_id = b.post_status(&bob, "named by its id alone", "public").await;

    let bob_on_a = remote_id(&a, &alice, &b, "bob").await;
    follow_remote(&a, &alice, &bob_on_a).await;

    // Bob boosts carol's post: A fetches it from B (and carol with it), then applies
    // the boost, which reaches alice's home.
    b.post(
        &bob,
        &format!("/api/v1/statuses/{}/reblog", id(&carols)),
        json!({}),
    )
    .await
    .ok();
    let boost = || async {
        a.home(&alice, "").await.into_iter().find(|s| {
            s["account"]["acct"] == format!("bob@{b_domain}")
                && s["reblog"]["uri"] == note_url(&b, "carol", &carols).as_str()
        })
    };
    eventually("bob's boost of carol's post reaches alice", || async {
        boost().await.is_some()
    })
    .await;
    let boost = boost().await.unwrap();
    assert!(boost["reblog"]["content"]
        .as_str()
        .unwrap()
        .contains("carol wrote this first"));
    assert_eq!(
        boost["reblog"]["account"]["acct"],
        format!("carol@{b_domain}")
    );

    // Bob answers his own older post: A fetches the parent, and the reply hangs under it.
    reply(&b, &bob, "answering the parent", &parent).await;
    let answer = arrived(&a, &alice, "answering the parent").await;
    let context = a
        .get(&alice, &format!("/api/v1/statuses/{}/context", id(&answer)))
        .await
        .ok();
    assert_eq!(
        context["ancestors"].as_array().unwrap().len(),
        1,
        "{context}"
    );
    assert!(context["ancestors"][0]["content"]
        .as_str()
        .unwrap()
        .contains("a parent A never saw"));
    assert_eq!(answer["in_reply_to_id"], context["ancestors"][0]["id"]);

    // A Create naming bob's note by its id alone: A fetches it.
    let bob_id: i64 = bob.id.parse().unwrap();
    let (_, private_pem) = b.state.store.account_key(bob_id).await.unwrap().unwrap();
    let bob_key = cascade_server::httpsig::private_key(&private_pem).unwrap();
    let bob_uri = b.url("/users/bob");
    let key_id = format!("{bob_uri}#main-key");
    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activity", note_url(&b, "bob", &by_id)),
        "type": "Create",
        "actor": bob_uri,
        "object": note_url(&b, "bob", &by_id),
    })
    .to_string();
    let res = post_inbox(
        &a,
        Send {
            key_id: &key_id,
            key: &bob_key,
            signed_body: create.as_bytes(),
            sent_body: create.as_bytes(),
            date_ms: cascade_core::time::now_millis(),
        },
    )
    .await;
    assert_eq!(res.status(), 202);
    let fetched = arrived(&a, &alice, "named by its id alone").await;
    assert_eq!(fetched["uri"], note_url(&b, "bob", &by_id).as_str());
}

/// A peer that answers each path with the document given for it (404 otherwise), over
/// plain http on loopback: it says whatever the test makes it say.
async fn lying_peer(documents: impl Fn(&str) -> Vec<(String, Value)>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let documents = documents(&base);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let head = String::from_utf8_lossy(&request);
            let path = head.split_whitespace().nth(1).unwrap_or("/");
            let answer = match documents.iter().find(|(p, _)| p == path) {
                Some((_, doc)) => {
                    let body = doc.to_string();
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: {AP}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                }
                None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_string(),
            };
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    base
}

#[tokio::test]
async fn a_note_claiming_another_servers_actor_or_id_is_not_stored() {
    let a = server().await;
    let b = server().await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let bob_uri = b.url("/users/bob");
    let public = json!(["https://www.w3.org/ns/activitystreams#Public"]);
    let claimed = b.url("/users/bob/statuses/4242");
    let liar = lying_peer(|base| {
        vec![
            (
                "/notes/1".into(),
                json!({
                    "id": format!("{base}/notes/1"),
                    "type": "Note",
                    "attributedTo": bob_uri,
                    "content": "<p>words put in bob's mouth</p>",
                    "to": public,
                }),
            ),
            (
                "/notes/2".into(),
                json!({
                    "id": claimed,
                    "type": "Note",
                    "attributedTo": bob_uri,
                    "content": "<p>a note in B's name</p>",
                    "to": public,
                }),
            ),
        ]
    })
    .await;

    for path in ["/notes/1", "/notes/2"] {
        let url = format!("{liar}{path}");
        let found = resolve(&a, &alice, &url).await;
        assert_eq!(found["statuses"], json!([]), "{path}: {found}");
        assert_eq!(a.state.store.status_by_uri(&url).await.unwrap(), None);
    }
    assert_eq!(a.state.store.status_by_uri(&claimed).await.unwrap(), None);

    // Bob (really on B) sending a Create that names the liar's note by id is refused: a
    // note is fetched on an actor's word only from the actor's own server. (Serving his
    // actor makes the key the test signs with as his server.)
    assert_eq!(ap_get(&b, "/users/bob", AP).await.status(), 200);
    let bob_id: i64 = bob.id.parse().unwrap();
    let (_, private_pem) = b.state.store.account_key(bob_id).await.unwrap().unwrap();
    let bob_key = cascade_server::httpsig::private_key(&private_pem).unwrap();
    let key_id = format!("{bob_uri}#main-key");
    let create = json!({
        "id": format!("{bob_uri}/statuses/77/activity"),
        "type": "Create",
        "actor": bob_uri,
        "object": format!("{liar}/notes/1"),
    })
    .to_string();
    let res = post_inbox(
        &a,
        Send {
            key_id: &key_id,
            key: &bob_key,
            signed_body: create.as_bytes(),
            sent_body: create.as_bytes(),
            date_ms: cascade_core::time::now_millis(),
        },
    )
    .await;
    assert_eq!(res.status(), 403);
    let timeline = a.get(&alice, "/api/v1/timelines/public").await.ok();
    assert_eq!(timeline, json!([]), "nothing forged was stored");
}
