//! Mastodon's streaming API: the multiplexed WebSocket at `/api/v1/streaming` and the
//! server-sent-events routes, one stream each. Both deliver the hub's frames (see
//! `app::stream`) and send heartbeats so proxies keep idle connections open.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{self, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;
use serde::Deserialize;

use super::auth::{bearer_header, covers, resolve_token};
use crate::app::stream::{Channel, Conn, Holder};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, TokenInfo};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/streaming", get(websocket))
        .route("/api/v1/streaming/", get(websocket))
        .route("/api/v1/streaming/health", get(|| async { "OK" }))
        .route(
            "/api/v1/streaming/user",
            get(|s, a, h, q| events(s, a, h, q, "user")),
        )
        .route(
            "/api/v1/streaming/user/notification",
            get(|s, a, h, q| events(s, a, h, q, "user:notification")),
        )
        .route(
            "/api/v1/streaming/public",
            get(|s, a, h, q| events(s, a, h, q, "public")),
        )
        .route(
            "/api/v1/streaming/public/local",
            get(|s, a, h, q| events(s, a, h, q, "public:local")),
        )
        .route(
            "/api/v1/streaming/public/remote",
            get(|s, a, h, q| events(s, a, h, q, "public:remote")),
        )
        .route(
            "/api/v1/streaming/hashtag",
            get(|s, a, h, q| events(s, a, h, q, "hashtag")),
        )
        .route(
            "/api/v1/streaming/hashtag/local",
            get(|s, a, h, q| events(s, a, h, q, "hashtag:local")),
        )
        .route(
            "/api/v1/streaming/list",
            get(|s, a, h, q| events(s, a, h, q, "list")),
        )
        .route(
            "/api/v1/streaming/direct",
            get(|s, a, h, q| events(s, a, h, q, "direct")),
        )
        .route(
            "/api/v1/streaming/cascade/watch",
            get(|s, a, h, q| events(s, a, h, q, "cascade:watch")),
        )
}

/// The largest message a client may send on the socket (subscriptions are tiny).
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;

#[derive(Debug, Default, Deserialize)]
struct StreamQuery {
    stream: Option<String>,
    tag: Option<String>,
    list: Option<String>,
    /// The watch of a `cascade:watch` stream.
    watch: Option<String>,
    access_token: Option<String>,
    #[serde(default)]
    only_media: Option<String>,
}

/// The token of a streaming request: the `access_token` parameter, the Authorization
/// header, or (browsers cannot set headers on a WebSocket) the Sec-WebSocket-Protocol.
fn token_of<'a>(q: &'a StreamQuery, headers: &'a HeaderMap) -> Option<(&'a str, bool)> {
    if let Some(t) = q.access_token.as_deref().filter(|t| !t.is_empty()) {
        return Some((t, false));
    }
    if let Some(t) = bearer_header(headers) {
        return Some((t, false));
    }
    headers
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| (t, true))
}

async fn authenticate(state: &AppState, token: Option<&str>) -> ApiResult<Option<TokenInfo>> {
    match token {
        Some(t) => Ok(Some(resolve_token(state, t).await?)),
        None => Ok(None),
    }
}

/// Resolves a stream name and its parameters into a channel the token may read.
async fn channel(
    state: &AppState,
    token: Option<&TokenInfo>,
    name: &str,
    tag: Option<&str>,
    list: Option<&str>,
    watch: Option<&str>,
) -> ApiResult<Channel> {
    let me = token.and_then(|t| t.account_id);
    if name == "cascade:watch" {
        return watch_channel(state, token, watch).await;
    }
    let list = match list {
        Some(l) => Some(l.parse().map_err(|_| ApiError::NotFound)?),
        None => None,
    };
    let channel = Channel::parse(name, tag, list, me)?;
    // Mastodon's rule per stream: notifications need `read:notifications`, every timeline
    // `read:statuses` (`read` covers both). Anonymous callers may read the public ones.
    let scope = match &channel {
        Channel::Notifications(_) => "read:notifications",
        _ => "read:statuses",
    };
    if let Some(t) = token {
        if !covers(&t.scopes, scope) {
            return Err(ApiError::OutsideScopes);
        }
    }
    if let Channel::List(id) = channel {
        let owned = match state.store.list(id).await {
            Ok(l) => Some(l.account_id) == me,
            Err(cascade_store::StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        };
        if !owned {
            return Err(ApiError::NotFound);
        }
    }
    Ok(channel)
}

/// A brand watch's stream (a Cascade extension): only its owner may read it; anyone else
/// gets the 404 an unknown watch gets.
async fn watch_channel(
    state: &AppState,
    token: Option<&TokenInfo>,
    watch: Option<&str>,
) -> ApiResult<Channel> {
    let token = token.ok_or(ApiError::Unauthorized)?;
    let me = token.account_id.ok_or(ApiError::Unauthorized)?;
    if !covers(&token.scopes, "read:statuses") {
        return Err(ApiError::OutsideScopes);
    }
    let watch = watch.ok_or_else(|| ApiError::BadRequest("No watch for stream provided".into()))?;
    let id = watch.parse().map_err(|_| ApiError::NotFound)?;
    match state.store.watch(id).await {
        Ok(w) if w.account_id == me => Ok(Channel::Watch(id)),
        Ok(_) | Err(cascade_store::StoreError::NotFound) => Err(ApiError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Who holds a connection opened with this token.
fn holder(token: Option<&TokenInfo>) -> Holder {
    Holder {
        viewer: token.and_then(|t| t.account_id),
        token: token.map(|t| t.token_id),
        notifications: token.is_some_and(|t| covers(&t.scopes, "read:notifications")),
    }
}

/// A place for one more stream from the client's address, or a 429 that names the cap.
fn stream_slot(
    state: &AppState,
    addr: super::limits::ClientAddr,
) -> ApiResult<crate::throttle::Slot> {
    state.stream_slots.take(addr.0).ok_or_else(|| {
        ApiError::TooMany(format!(
            "Too many streaming connections from this address (at most {})",
            state.config.streams_per_address
        ))
    })
}

/// `GET /api/v1/streaming`: one WebSocket, many streams.
async fn websocket(
    State(state): State<AppState>,
    addr: super::limits::ClientAddr,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade = upgrade.map_err(|_| {
        ApiError::BadRequest("This endpoint speaks WebSocket; send an upgrade request".into())
    })?;
    let (token, via_protocol) = token_of(&q, &headers).unzip();
    let info = authenticate(&state, token).await?;
    let slot = stream_slot(&state, addr)?;
    let initial = match q.stream.as_deref() {
        Some(name) => Some(
            channel(
                &state,
                info.as_ref(),
                name,
                q.tag.as_deref(),
                q.list.as_deref(),
                q.watch.as_deref(),
            )
            .await?,
        ),
        None => None,
    };
    let mut upgrade = upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE);
    if via_protocol == Some(true) {
        if let Some(t) = token {
            upgrade = upgrade.protocols([t.to_string()]);
        }
    }
    Ok(upgrade
        .on_upgrade(move |socket| async move {
            serve_socket(state, socket, info, initial).await;
            drop(slot);
        })
        .into_response())
}

/// A client's subscription message.
#[derive(Debug, Deserialize)]
struct Command {
    #[serde(rename = "type")]
    kind: String,
    stream: String,
    tag: Option<String>,
    list: Option<serde_json::Value>,
    watch: Option<serde_json::Value>,
}

/// Applies a subscribe or unsubscribe message; returns the error frame to send back.
async fn command(
    state: &AppState,
    conn: &Arc<Conn>,
    token: Option<&TokenInfo>,
    text: &str,
) -> Option<String> {
    let error = |e: ApiError| {
        Some(serde_json::json!({"error": e.to_string(), "status": e.status().as_u16()}).to_string())
    };
    let cmd: Command = match serde_json::from_str(text) {
        Ok(c) => c,
        Err(_) => {
            return error(ApiError::BadRequest(
                "Could not parse the message as a subscription".into(),
            ))
        }
    };
    let as_text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let list = cmd.list.as_ref().map(as_text);
    let watch = cmd.watch.as_ref().map(as_text);
    let channel = match channel(
        state,
        token,
        &cmd.stream,
        cmd.tag.as_deref(),
        list.as_deref(),
        watch.as_deref(),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return error(e),
    };
    match cmd.kind.as_str() {
        "subscribe" => {
            if let Err(e) = state.streams.subscribe(conn, channel) {
                return error(e);
            }
        }
        "unsubscribe" => state.streams.unsubscribe(conn, &channel),
        _ => {
            return error(ApiError::BadRequest(
                "type must be subscribe or unsubscribe".into(),
            ))
        }
    }
    None
}

async fn serve_socket(
    state: AppState,
    mut socket: WebSocket,
    token: Option<TokenInfo>,
    initial: Option<Channel>,
) {
    let (conn, mut frames) = state.streams.connect(holder(token.as_ref()));
    if let Some(channel) = initial {
        // The first subscription of a fresh connection is always within its quota.
        let _ = state.streams.subscribe(&conn, channel);
    }
    let mut beat = tokio::time::interval(state.config.heartbeat);
    beat.tick().await;
    loop {
        tokio::select! {
            frame = frames.recv() => {
                let Some(frame) = frame else { break };
                // A client that stopped reading blocks this send; the hub's kick ends it.
                tokio::select! {
                    sent = socket.send(Message::Text(frame.to_json().into())) => {
                        if sent.is_err() {
                            break;
                        }
                    }
                    _ = conn.kick.notified() => break,
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Some(reply) = command(&state, &conn, token.as_ref(), &text).await {
                        if socket.send(Message::Text(reply.into())).await.is_err() {
                            break;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = beat.tick() => {
                // A token refused since the socket opened (revoked by another process, or
                // its account suspended) ends the connection at the next heartbeat.
                if let Some(reason) = refused(&state, token.as_ref()).await {
                    let close = CloseFrame { code: 1008, reason: reason.into() };
                    let _ = socket.send(Message::Close(Some(close))).await;
                    break;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            _ = conn.kick.notified() => {
                let close = if conn.is_revoked() {
                    CloseFrame { code: 1008, reason: REVOKED.into() }
                } else {
                    CloseFrame { code: 1013, reason: "Too slow: events were dropped; reconnect".into() }
                };
                let _ = socket.send(Message::Close(Some(close))).await;
                break;
            }
        }
    }
    state.streams.disconnect(&conn);
}

/// Why a stream's connection must close when its token was revoked.
const REVOKED: &str = "The access token was revoked";

/// Why a connection's token may no longer stream, if it may not: it was revoked (by
/// another process: a revocation here closes the connection at once), or its account was
/// suspended. Both checks go through caches (tokens, records), so they cost no query
/// while those entries are fresh.
async fn refused(state: &AppState, token: Option<&TokenInfo>) -> Option<String> {
    let token = token?;
    if !crate::app::tokens::still_live(state, token).await {
        return Some(REVOKED.to_string());
    }
    let account = token.account_id?;
    let found = state
        .records
        .accounts(&state.store, &[account], std::time::Instant::now())
        .await
        .ok()?;
    found
        .get(&account)
        .is_some_and(|a| a.suspended_at.is_some())
        .then(|| "Your login is currently disabled".to_string())
}

/// Leaves the hub when a server-sent-events response ends (the client went away).
struct Leave {
    state: AppState,
    conn: Arc<Conn>,
}

impl Drop for Leave {
    fn drop(&mut self) {
        self.state.streams.disconnect(&self.conn);
    }
}

/// One server-sent-events stream: `event: <name>` and `data: <payload>` per event, and a
/// `: thump` comment as heartbeat.
async fn events(
    State(state): State<AppState>,
    addr: super::limits::ClientAddr,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
    name: &'static str,
) -> ApiResult<Response> {
    // The web app's pages hold no token a script could read: their stream is
    // authenticated by the session cookie, for requests from our own pages only.
    let (token, _) = token_of(&q, &headers).unzip();
    let token = token.or_else(|| crate::web::session::same_origin_session(&state, &headers));
    let info = authenticate(&state, token).await?;
    let slot = stream_slot(&state, addr)?;
    let media = q
        .only_media
        .as_deref()
        .is_some_and(|v| v == "true" || v == "1");
    let name = match (name, media) {
        ("public", true) => "public:media",
        ("public:local", true) => "public:local:media",
        ("public:remote", true) => "public:remote:media",
        (n, _) => n,
    };
    let channel = channel(
        &state,
        info.as_ref(),
        name,
        q.tag.as_deref(),
        q.list.as_deref(),
        q.watch.as_deref(),
    )
    .await?;
    let (conn, frames) = state.streams.connect(holder(info.as_ref()));
    // The one subscription of a fresh connection is always within its quota.
    let _ = state.streams.subscribe(&conn, channel);
    let heartbeat = state.config.heartbeat;
    let leave = Leave { state, conn };
    // As on a WebSocket, a revocation elsewhere or a suspension ends the stream at the
    // next heartbeat.
    let check = tokio::time::interval(heartbeat);
    let start = (frames, leave, check, info, slot);
    let stream = futures_util::stream::unfold(
        start,
        |(mut frames, leave, mut check, info, slot)| async move {
            let frame = loop {
                tokio::select! {
                    frame = frames.recv() => break frame?,
                    _ = leave.conn.kick.notified() => return None,
                    _ = check.tick() => {
                        if refused(&leave.state, info.as_ref()).await.is_some() {
                            return None;
                        }
                    }
                }
            };
            let event = sse::Event::default()
                .event(frame.event.name)
                .data(frame.event.payload.as_str());
            Some((
                Ok::<_, std::convert::Infallible>(event),
                (frames, leave, check, info, slot),
            ))
        },
    );
    // A first comment sends the headers at once, so the client knows it is connected.
    let hello = sse::Event::default().comment(")");
    let stream = futures_util::stream::once(async { Ok(hello) }).chain(stream);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(heartbeat).text("thump"))
        .into_response())
}
