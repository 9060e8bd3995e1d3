//! Account migration between Cascade servers: an account sets the accounts it also is
//! (`/api/v1/cascade/aliases`, published as `alsoKnownAs`), and a `Move` to it from one of
//! them moves the old account's followers on a third server; a Move the new account does
//! not confirm, or of another actor, is refused.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::federation::{
    ap_get, domain, follow_remote, post_inbox, relationship, remote_id, server, Send, AP,
};
use crate::helpers::{eventually, TestApp, User};

/// POSTs `activity` to `app`'s inbox, signed with `user`'s key on `home`.
async fn signed(app: &TestApp, home: &TestApp, user: &User, activity: &Value) -> StatusCode {
    let id: i64 = user.id.parse().unwrap();
    let (_, pem) = home.state.store.account_key(id).await.unwrap().unwrap();
    let key = cascade_server::httpsig::private_key(&pem).unwrap();
    let key_id = format!(
        "{}#main-key",
        home.url(&format!("/users/{}", user.username))
    );
    let body = activity.to_string();
    post_inbox(
        app,
        Send {
            key_id: &key_id,
            key: &key,
            signed_body: body.as_bytes(),
            sent_body: body.as_bytes(),
            date_ms: cascade_core::time::now_millis(),
        },
    )
    .await
    .status()
}

#[tokio::test]
async fn a_move_the_new_account_confirms_moves_the_old_ones_followers() {
    // Carol, on A, follows bob, on B, who moves to newbob, on C.
    let a = server().await;
    let b = server().await;
    let c = server().await;
    let carol = a.user("carol").await;
    let bob = b.user("bob").await;
    let newbob = c.user("newbob").await;
    let bob_uri = b.url("/users/bob");
    let newbob_uri = c.url("/users/newbob");
    let bob_on_a = remote_id(&a, &carol, &b, "bob").await;
    follow_remote(&a, &carol, &bob_on_a).await;
    let moving = |n: u32, object: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{bob_uri}#moves/{n}"),
            "type": "Move",
            "actor": bob_uri,
            "object": object,
            "target": newbob_uri,
        })
    };

    // newbob does not say he is bob yet: the Move is refused, and carol stays.
    assert_eq!(
        signed(&a, &b, &bob, &moving(1, &bob_uri)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(relationship(&a, &carol, &bob_on_a).await["following"], true);

    let set = c
        .request(
            reqwest::Method::PUT,
            "/api/v1/cascade/aliases",
            Some(&newbob.token),
            Some(json!({"also_known_as": [bob_uri]})),
        )
        .await
        .ok();
    assert_eq!(set["also_known_as"], json!([bob_uri]));
    let got = c.get(&newbob, "/api/v1/cascade/aliases").await.ok();
    assert_eq!(got, set);
    let actor: Value = ap_get(&c, "/users/newbob", AP).await.json().await.unwrap();
    assert_eq!(actor["alsoKnownAs"], json!([bob_uri]));
    let bad = c
        .request(
            reqwest::Method::PUT,
            "/api/v1/cascade/aliases",
            Some(&newbob.token),
            Some(json!({"also_known_as": ["not a url"]})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // An account may only move itself.
    let carol_uri = a.url("/users/carol");
    assert_eq!(
        signed(&a, &b, &bob, &moving(2, &carol_uri)).await,
        StatusCode::FORBIDDEN
    );

    // Now the Move is believed: bob shows where he went, and carol follows newbob.
    assert_eq!(
        signed(&a, &b, &bob, &moving(3, &bob_uri)).await,
        StatusCode::ACCEPTED
    );
    let old = a
        .get(&carol, &format!("/api/v1/accounts/{bob_on_a}"))
        .await
        .ok();
    assert_eq!(
        old["moved"]["acct"],
        format!("newbob@{}", domain(&c)),
        "{old}"
    );
    let newbob_on_a = old["moved"]["id"].as_str().unwrap().to_string();
    eventually("newbob's server accepts carol's follow", || async {
        relationship(&a, &carol, &newbob_on_a).await["following"] == true
    })
    .await;
    assert_eq!(
        relationship(&a, &carol, &bob_on_a).await["following"],
        false
    );
    let followers = c
        .get(
            &newbob,
            &format!("/api/v1/accounts/{}/followers", newbob.id),
        )
        .await
        .ok();
    assert_eq!(followers[0]["acct"], format!("carol@{}", domain(&a)));
    eventually("bob's server hears carol unfollowed", || async {
        b.get(&bob, &format!("/api/v1/accounts/{}", bob.id))
            .await
            .ok()["followers_count"]
            == 0
    })
    .await;
    // The lookup shows the move too.
    let looked = a
        .get(
            &carol,
            &format!("/api/v1/accounts/lookup?acct=bob@{}", domain(&b)),
        )
        .await
        .ok();
    assert_eq!(looked["moved"]["id"], newbob_on_a.as_str());
}
