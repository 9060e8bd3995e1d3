//! Revoking access tokens: every kind of token can be revoked, a revoked token's open
//! streams close, and a revocation made by another process (`cascade admin tokens
//! --revoke`) takes effect within the token cache's lifetime.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{eventually, spawn_app, spawn_with, TestApp};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const VERIFY: &str = "/api/v1/accounts/verify_credentials";

async fn socket(app: &TestApp, token: &str, stream: &str) -> Socket {
    let url = format!(
        "ws://{}/api/v1/streaming?access_token={token}&stream={stream}",
        app.addr
    );
    tokio_tungstenite::connect_async(url)
        .await
        .expect("the socket opens")
        .0
}

/// Reads the socket until the server closes it; its close code and reason. Fails if the
/// socket stays open for ten seconds.
async fn closed(ws: &mut Socket) -> (u16, String) {
    let wait = async {
        while let Some(msg) = ws.next().await {
            if let Ok(Message::Close(frame)) = msg {
                return frame
                    .map(|f| (u16::from(f.code), f.reason.as_str().to_string()))
                    .unwrap_or_default();
            }
        }
        (0, String::new())
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("the server closes the socket")
}

async fn status(app: &TestApp, token: &str, path: &str) -> u16 {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn revoke(app: &TestApp, form: &[(&str, &str)]) -> u16 {
    app.client
        .post(app.url("/oauth/revoke"))
        .form(form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn revoking_a_token_closes_its_open_streams_at_once() {
    // The default heartbeat is 30 s: what closes the streams is the revocation itself.
    let app = spawn_app().await;
    // Made as `cascade admin token` makes tokens: without an application.
    let alice = app.user("alice").await;
    let other = cascade_server::app::accounts::issue_token(
        &app.state,
        Some(alice.id.parse().unwrap()),
        None,
        "read",
    )
    .await
    .unwrap()
    .access_token;
    let mut ws = socket(&app, &alice.token, "user").await;
    let mut kept = socket(&app, &other, "user").await;
    let mut sse = app
        .client
        .get(app.url("/api/v1/streaming/user"))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    eventually("the three streams are open", || async {
        app.state.streams.connections() == 3
    })
    .await;

    // Whoever holds a token issued without an application may revoke it.
    assert_eq!(revoke(&app, &[("token", alice.token.as_str())]).await, 200);

    assert_eq!(
        closed(&mut ws).await,
        (1008, "The access token was revoked".to_string())
    );
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = sse.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the event stream ends");
    eventually("only the other token's stream is left", || async {
        app.state.streams.connections() == 1
    })
    .await;
    assert_eq!(status(&app, &alice.token, VERIFY).await, 401);
    assert_eq!(status(&app, &other, VERIFY).await, 200);
    let still_open = tokio::time::timeout(Duration::from_millis(200), kept.next()).await;
    assert!(
        !matches!(still_open, Ok(None) | Ok(Some(Ok(Message::Close(_))))),
        "the other token's socket stays open"
    );
}

#[tokio::test]
async fn a_revocation_by_another_process_takes_effect_within_the_cache_lifetime() {
    let app = spawn_with(|c| {
        c.token_ttl = Duration::from_millis(100);
        c.heartbeat = Duration::from_millis(100);
    })
    .await;
    let alice = app.user("alice").await;
    assert_eq!(status(&app, &alice.token, VERIFY).await, 200, "now cached");
    let mut ws = socket(&app, &alice.token, "user").await;
    eventually("the stream is open", || async {
        app.state.streams.connections() == 1
    })
    .await;

    // What `cascade admin tokens --revoke` does from its own process: a write to the
    // store, which this server's cache does not hear of.
    let record = cascade_server::app::tokens::find(&app.state, &alice.token)
        .await
        .unwrap()
        .expect("a live token");
    let now = cascade_core::time::now_millis();
    assert!(app.state.store.revoke_token(record.id, now).await.unwrap());

    eventually("the revoked token is refused", || async {
        status(&app, &alice.token, VERIFY).await == 401
    })
    .await;
    assert_eq!(
        closed(&mut ws).await,
        (1008, "The access token was revoked".to_string())
    );
}

#[tokio::test]
async fn an_applications_token_is_revoked_only_by_that_application() {
    let app = spawn_app().await;
    let client: Value = app
        .client
        .post(app.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Revoker"),
            ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
            ("scopes", "read"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other: Value = app
        .client
        .post(app.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Stranger"),
            ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    let token: Value = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap();
    let check = "/api/v1/apps/verify_credentials";

    assert_eq!(revoke(&app, &[("token", token)]).await, 403, "no client");
    let stranger = other["client_id"].as_str().unwrap();
    assert_eq!(
        revoke(&app, &[("client_id", stranger), ("token", token)]).await,
        403,
        "another client"
    );
    assert_eq!(
        revoke(
            &app,
            &[
                ("client_id", id),
                ("client_secret", "wrong"),
                ("token", token)
            ]
        )
        .await,
        403,
        "a wrong secret"
    );
    assert_eq!(status(&app, token, check).await, 200, "still valid");

    // A public client (PKCE) has no secret to send: its client_id is enough.
    assert_eq!(
        revoke(&app, &[("client_id", id), ("token", token)]).await,
        200
    );
    assert_eq!(status(&app, token, check).await, 401);
    assert_eq!(
        revoke(&app, &[("client_id", id), ("token", token)]).await,
        200,
        "revoking twice is harmless"
    );
}
