//! Mentions of remote accounts in local posts, and direct and private posts, between real
//! Cascade servers on loopback: a mention `@user@domain` is looked up and stored, the note
//! is addressed to the mentioned account and delivered to its server, and a direct post
//! reaches only its mentioned accounts' servers, never a follower's server or a public
//! collection; the reply comes back and threads.

use reqwest::Method;
use serde_json::{json, Value};

use crate::federation::{ap_get, domain, follow_remote, remote_id, server, AP};
use crate::helpers::{eventually, TestApp, User};

/// The status of `user`'s mention notification whose content holds `text`, once it comes.
/// Filtered ones count: as in Mastodon, a private mention from an account one does not
/// follow is filtered by the default policy.
async fn mentioned(app: &TestApp, user: &User, text: &str) -> Value {
    let find = || async {
        app.get(
            user,
            "/api/v1/notifications?types[]=mention&include_filtered=true",
        )
        .await
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["status"].clone())
        .find(|s| s["content"].as_str().unwrap_or_default().contains(text))
    };
    eventually("the mention arrives", || async { find().await.is_some() }).await;
    find().await.unwrap()
}

/// Whether `at` stored the note with this id at all, once `from` sent all it owed.
async fn has_note(from: &TestApp, at: &TestApp, uri: &str) -> bool {
    from.drain().await;
    at.drain().await;
    at.state.store.status_by_uri(uri).await.unwrap().is_some()
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

#[tokio::test]
async fn mentions_reach_remote_accounts_and_direct_posts_only_theirs_and_replies_thread_back() {
    // alice on A; bob on B, whom alice mentions and who does not follow her; carol on C,
    // who follows alice; dave on D, whom alice follows (A knows D's inbox).
    let (a, b, c, d) = (
        server().await,
        server().await,
        server().await,
        server().await,
    );
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let carol = c.user("carol").await;
    d.user("dave").await;
    let alice_on_c = remote_id(&c, &carol, &a, "alice").await;
    follow_remote(&c, &carol, &alice_on_c).await;
    let dave_on_a = remote_id(&a, &alice, &d, "dave").await;
    follow_remote(&a, &alice, &dave_on_a).await;
    let bob_acct = format!("bob@{}", domain(&b));
    let alice_acct = format!("alice@{}", domain(&a));
    let note_uri = |s: &Value| a.url(&format!("/users/alice/statuses/{}", id(s)));

    // A direct post: bob, unknown to A so far, is looked up through B's WebFinger.
    let dm = a
        .post_status(&alice, &format!("@{bob_acct} meet at noon"), "direct")
        .await;
    assert_eq!(dm["mentions"][0]["acct"], bob_acct.as_str());
    assert_eq!(dm["mentions"][0]["url"], b.url("/@bob"));
    assert!(
        dm["content"]
            .as_str()
            .unwrap()
            .contains(&format!("href=\"{}\"", b.url("/@bob"))),
        "{dm}"
    );
    let on_b = mentioned(&b, &bob, "meet at noon").await;
    assert_eq!(on_b["visibility"], "direct");
    assert_eq!(on_b["account"]["acct"], alice_acct.as_str());
    let conversations = b.get(&bob, "/api/v1/conversations").await.ok();
    assert_eq!(conversations[0]["last_status"]["id"], on_b["id"]);
    // Never a follower's server, never a server alice merely knows, never public.
    assert!(!has_note(&a, &c, &note_uri(&dm)).await);
    assert!(!has_note(&a, &d, &note_uri(&dm)).await);
    let path = format!("/users/alice/statuses/{}", id(&dm));
    assert_eq!(ap_get(&a, &path, AP).await.status(), 404);
    let outbox: Value = ap_get(&a, "/users/alice/outbox?page=true", AP)
        .await
        .json()
        .await
        .unwrap();
    assert!(!outbox.to_string().contains(&note_uri(&dm)), "{outbox}");

    // bob answers on B; the reply reaches alice on A and threads under her post.
    let reply = b
        .post(
            &bob,
            "/api/v1/statuses",
            json!({
                "status": format!("@{alice_acct} noon works"),
                "visibility": "direct",
                "in_reply_to_id": on_b["id"],
            }),
        )
        .await
        .ok();
    assert_eq!(reply["mentions"][0]["acct"], alice_acct.as_str());
    let back = mentioned(&a, &alice, "noon works").await;
    assert_eq!(back["visibility"], "direct");
    assert_eq!(back["in_reply_to_id"], dm["id"]);
    assert_eq!(back["account"]["acct"], bob_acct.as_str());
    let context = a
        .get(&alice, &format!("/api/v1/statuses/{}/context", id(&dm)))
        .await
        .ok();
    assert_eq!(context["descendants"][0]["id"], back["id"]);
    let reply_uri = b.url(&format!("/users/bob/statuses/{}", id(&reply)));
    assert!(!has_note(&b, &c, &reply_uri).await);

    // An edit and a deletion go where the post went.
    let edited = a
        .request(
            Method::PUT,
            &format!("/api/v1/statuses/{}", id(&dm)),
            Some(&alice.token),
            Some(json!({"status": format!("@{bob_acct} meet at one")})),
        )
        .await
        .ok();
    assert!(edited["content"].as_str().unwrap().contains("meet at one"));
    let bob_sees = || async {
        b.get(&bob, &format!("/api/v1/statuses/{}", id(&on_b)))
            .await
    };
    eventually("the edit reaches bob", || async {
        bob_sees().await.body["content"]
            .as_str()
            .is_some_and(|c| c.contains("meet at one"))
    })
    .await;
    a.request(
        Method::DELETE,
        &format!("/api/v1/statuses/{}", id(&dm)),
        Some(&alice.token),
        None,
    )
    .await
    .ok();
    eventually("the deletion reaches bob", || async {
        bob_sees().await.status == 404
    })
    .await;

    // A private post mentioning bob reaches him and alice's followers' servers, not D.
    let private = a
        .post_status(
            &alice,
            &format!("@{bob_acct} for friends and you"),
            "private",
        )
        .await;
    let seen = mentioned(&b, &bob, "for friends and you").await;
    assert_eq!(seen["visibility"], "private");
    eventually("the private post reaches carol", || async {
        c.home(&carol, "").await.iter().any(|s| {
            s["content"]
                .as_str()
                .unwrap()
                .contains("for friends and you")
        })
    })
    .await;
    assert!(!has_note(&a, &d, &note_uri(&private)).await);

    // A public post is addressed to the mentioned account as Mastodon addresses it.
    let public = a
        .post_status(&alice, &format!("@{bob_acct} hello world"), "public")
        .await;
    let note: Value = ap_get(&a, &format!("/users/alice/statuses/{}", id(&public)), AP)
        .await
        .json()
        .await
        .unwrap();
    let bob_uri = b.url("/users/bob");
    assert_eq!(
        note["to"],
        json!(["https://www.w3.org/ns/activitystreams#Public"])
    );
    assert_eq!(
        note["cc"],
        json!([a.url("/users/alice/followers"), bob_uri.as_str()])
    );
    assert!(
        note["tag"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["type"] == "Mention"
                && t["href"] == bob_uri.as_str()
                && t["name"] == format!("@{bob_acct}")),
        "{note}"
    );
    mentioned(&b, &bob, "hello world").await;
}
