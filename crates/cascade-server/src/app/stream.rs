//! Real-time delivery: the hub of streaming connections and the events published to them.
//!
//! A connection (one WebSocket, or one server-sent-events response) subscribes to
//! channels: a user's home and notifications, the public timelines, a hashtag, a list, the
//! direct conversations. Publishing never waits for a connection: each has a bounded
//! queue, and a connection whose queue is full is disconnected (its client reconnects and
//! catches up through the REST API), so one slow consumer never slows the others.
//!
//! Payloads are rendered once per audience: public and hashtag events once for everyone
//! (blocks and mutes are then applied per connection), home, list, notification and
//! conversation events once per recipient, with that recipient's view. Content filters
//! apply as on the timelines: a public event a connection's `hide` filter matches is not
//! sent to it, and one its other filters match is sent with its own `filtered`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use cascade_core::filter::FilterContext;
use cascade_core::{Id, Visibility};
use cascade_store::{NotificationRecord, StatusRecord};
use tokio::sync::{mpsc, Notify};

use crate::app::{render, Viewer};
use crate::cluster::{Keep, Message};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What a connection can subscribe to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Channel {
    /// The home timeline and notifications of an account (`user`).
    User(Id),
    /// Only the notifications (`user:notification`).
    Notifications(Id),
    /// `public`, `public:local`, `public:remote`, each optionally `:media`.
    Public {
        scope: Scope,
        media: bool,
    },
    /// `hashtag` and `hashtag:local`; the tag is lowercased.
    Hashtag {
        tag: String,
        local: bool,
    },
    List(Id),
    /// Direct conversations of an account (`direct`).
    Direct(Id),
    /// The new hits of a brand watch (`cascade:watch`, a Cascade extension).
    Watch(Id),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Scope {
    All,
    Local,
    Remote,
}

impl Channel {
    /// Parses Mastodon's stream names with their `tag` or `list` parameter; `me` is the
    /// authenticated account, which the personal streams require.
    pub fn parse(
        name: &str,
        tag: Option<&str>,
        list: Option<Id>,
        me: Option<Id>,
    ) -> ApiResult<Channel> {
        let me_or = || me.ok_or(ApiError::Unauthorized);
        let public = |scope, media| Ok(Channel::Public { scope, media });
        match name {
            "user" => Ok(Channel::User(me_or()?)),
            "user:notification" => Ok(Channel::Notifications(me_or()?)),
            "direct" => Ok(Channel::Direct(me_or()?)),
            "public" => public(Scope::All, false),
            "public:media" => public(Scope::All, true),
            "public:local" => public(Scope::Local, false),
            "public:local:media" => public(Scope::Local, true),
            "public:remote" => public(Scope::Remote, false),
            "public:remote:media" => public(Scope::Remote, true),
            "hashtag" | "hashtag:local" => {
                let tag = tag
                    .filter(|t| !t.trim_start_matches('#').is_empty())
                    .ok_or_else(|| ApiError::BadRequest("No tag for stream provided".into()))?;
                // Each distinct tag is a channel in the hub: only names a hashtag can have.
                let tag = cascade_core::text::tag_name(tag).ok_or_else(|| {
                    ApiError::unprocessable(
                        "Tag must be letters, digits and underscores, at most 100 of them",
                    )
                })?;
                Ok(Channel::Hashtag {
                    tag,
                    local: name == "hashtag:local",
                })
            }
            "list" => {
                let list =
                    list.ok_or_else(|| ApiError::BadRequest("No list for stream provided".into()))?;
                me_or()?;
                Ok(Channel::List(list))
            }
            _ => Err(ApiError::BadRequest("Unknown stream type".into())),
        }
    }

    /// The `stream` array of an event on this channel, as Mastodon sends it.
    pub fn names(&self) -> Vec<String> {
        let public = |scope: &Scope, media: &bool| {
            let mut name = String::from("public");
            match scope {
                Scope::All => {}
                Scope::Local => name.push_str(":local"),
                Scope::Remote => name.push_str(":remote"),
            }
            if *media {
                name.push_str(":media");
            }
            vec![name]
        };
        match self {
            Channel::User(_) => vec!["user".into()],
            Channel::Notifications(_) => vec!["user:notification".into()],
            Channel::Direct(_) => vec!["direct".into()],
            Channel::Public { scope, media } => public(scope, media),
            Channel::Hashtag { tag, local } => vec![
                if *local { "hashtag:local" } else { "hashtag" }.into(),
                tag.clone(),
            ],
            Channel::List(id) => vec!["list".into(), id.to_string()],
            Channel::Watch(id) => vec!["cascade:watch".into(), id.to_string()],
        }
    }
}

/// One event: its name (`update`, `delete`, `notification`, `status.update`,
/// `conversation`, `filters_changed`) and its payload, a JSON text (or a bare id for
/// `delete`, nothing for `filters_changed`).
#[derive(Debug)]
pub struct Event {
    pub name: &'static str,
    pub payload: String,
}

/// What a connection receives: an event and the channel it came through. Frames of one
/// event on one channel share their WebSocket text, written once for all connections.
#[derive(Debug, Clone)]
pub struct Frame {
    pub stream: Arc<Vec<String>>,
    pub event: Arc<Event>,
    text: Arc<std::sync::OnceLock<String>>,
}

impl Frame {
    fn new(stream: Arc<Vec<String>>, event: Arc<Event>) -> Frame {
        Frame {
            stream,
            event,
            text: Default::default(),
        }
    }

    /// The WebSocket text of this frame: `{"stream": [...], "event": ..., "payload": "..."}`,
    /// without `payload` for an event that has none, as Mastodon sends `filters_changed`.
    pub fn to_json(&self) -> String {
        self.text
            .get_or_init(|| {
                let mut frame = serde_json::json!({
                    "stream": *self.stream,
                    "event": self.event.name,
                });
                if !self.event.payload.is_empty() {
                    frame["payload"] = self.event.payload.clone().into();
                }
                frame.to_string()
            })
            .clone()
    }
}

/// Who holds a streaming connection: the token's account, the token (so that revoking
/// it closes the connection), and whether its scopes let it read notifications (a `user`
/// stream carries them only then, as Mastodon's does).
#[derive(Debug, Clone, Copy, Default)]
pub struct Holder {
    pub viewer: Option<Id>,
    pub token: Option<Id>,
    pub notifications: bool,
}

/// One streaming connection.
pub struct Conn {
    pub id: u64,
    pub viewer: Option<Id>,
    token: Option<Id>,
    notifications: bool,
    tx: mpsc::Sender<Frame>,
    channels: Mutex<Vec<Channel>>,
    kicked: AtomicBool,
    revoked: AtomicBool,
    /// Signalled when the connection fell too far behind, or its token was revoked, and
    /// it must close.
    pub kick: Notify,
    /// The hub's count of connections dropped for falling behind.
    dropped: Arc<AtomicU64>,
}

impl Conn {
    /// Whether the hub gave up on this connection.
    pub fn is_kicked(&self) -> bool {
        self.kicked.load(Ordering::Relaxed)
    }

    /// Whether the connection must close because its token was revoked.
    pub fn is_revoked(&self) -> bool {
        self.revoked.load(Ordering::Relaxed)
    }

    fn send(&self, frame: Frame) {
        if self.is_kicked() {
            return;
        }
        if self.tx.try_send(frame).is_err() {
            if !self.kicked.swap(true, Ordering::Relaxed) {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            self.kick.notify_one();
        }
    }
}

/// The registry of connections by channel.
pub struct Hub {
    channels: RwLock<HashMap<Channel, HashMap<u64, Arc<Conn>>>>,
    /// Open connections by the token that opened them, subscribed or not.
    by_token: Mutex<HashMap<Id, HashMap<u64, Arc<Conn>>>>,
    next: AtomicU64,
    /// Frames a connection may have queued before it is disconnected.
    buffer: usize,
    connections: AtomicU64,
    dropped: Arc<AtomicU64>,
}

impl Hub {
    pub fn new(buffer: usize) -> Hub {
        Hub {
            channels: Default::default(),
            by_token: Default::default(),
            next: AtomicU64::new(1),
            buffer: buffer.max(1),
            connections: AtomicU64::new(0),
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Opens a connection; the receiver yields its frames.
    pub fn connect(&self, holder: Holder) -> (Arc<Conn>, mpsc::Receiver<Frame>) {
        let (tx, rx) = mpsc::channel(self.buffer);
        self.connections.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            viewer: holder.viewer,
            token: holder.token,
            notifications: holder.notifications,
            tx,
            channels: Mutex::new(Vec::new()),
            kicked: AtomicBool::new(false),
            revoked: AtomicBool::new(false),
            kick: Notify::new(),
            dropped: self.dropped.clone(),
        });
        if let Some(token) = holder.token {
            self.tokens()
                .entry(token)
                .or_default()
                .insert(conn.id, conn.clone());
        }
        (conn, rx)
    }

    /// Closes every connection a token opened: it was revoked. Each stops receiving at
    /// once and its task ends it with a close frame that says why.
    pub fn revoke(&self, token: Id) {
        let conns = self.tokens().remove(&token).unwrap_or_default();
        for conn in conns.into_values() {
            conn.revoked.store(true, Ordering::Relaxed);
            conn.kicked.store(true, Ordering::Relaxed);
            conn.kick.notify_one();
        }
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, HashMap<Id, HashMap<u64, Arc<Conn>>>> {
        self.by_token.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Subscribes the connection to a channel; `Err` when it already has as many
    /// subscriptions as a connection may (`quota::MAX_STREAM_SUBSCRIPTIONS`).
    pub fn subscribe(&self, conn: &Arc<Conn>, channel: Channel) -> ApiResult<()> {
        let mut mine = conn.channels.lock().unwrap_or_else(|p| p.into_inner());
        if mine.contains(&channel) {
            return Ok(());
        }
        let max = cascade_core::quota::MAX_STREAM_SUBSCRIPTIONS;
        if mine.len() >= max {
            return Err(ApiError::unprocessable(format!(
                "A connection cannot subscribe to more than {max} streams"
            )));
        }
        mine.push(channel.clone());
        self.write()
            .entry(channel)
            .or_default()
            .insert(conn.id, conn.clone());
        Ok(())
    }

    pub fn unsubscribe(&self, conn: &Conn, channel: &Channel) {
        conn.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|c| c != channel);
        self.remove(conn.id, channel);
    }

    /// Forgets a connection that ended.
    pub fn disconnect(&self, conn: &Conn) {
        let channels =
            std::mem::take(&mut *conn.channels.lock().unwrap_or_else(|p| p.into_inner()));
        for channel in &channels {
            self.remove(conn.id, channel);
        }
        if let Some(token) = conn.token {
            let mut tokens = self.tokens();
            if let Some(conns) = tokens.get_mut(&token) {
                conns.remove(&conn.id);
                if conns.is_empty() {
                    tokens.remove(&token);
                }
            }
        }
        self.connections.fetch_sub(1, Ordering::Relaxed);
    }

    /// Open connections.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Connections dropped so far for falling behind (slow consumers).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn remove(&self, id: u64, channel: &Channel) {
        let mut channels = self.write();
        if let Some(conns) = channels.get_mut(channel) {
            conns.remove(&id);
            if conns.is_empty() {
                channels.remove(channel);
            }
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Channel, HashMap<u64, Arc<Conn>>>> {
        self.channels.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The connections subscribed to a channel (a snapshot).
    fn subscribers(&self, channel: &Channel) -> Vec<Arc<Conn>> {
        self.channels
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(channel)
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether anyone listens on a channel.
    pub fn has(&self, channel: &Channel) -> bool {
        self.channels
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(channel)
    }

    /// The channels of a kind that have listeners, e.g. every list or hashtag stream.
    fn active(&self, pick: impl Fn(&Channel) -> bool) -> Vec<Channel> {
        self.channels
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .filter(|c| pick(c))
            .cloned()
            .collect()
    }

    /// Sends an event to every subscriber of a channel.
    pub fn publish(&self, channel: &Channel, event: Arc<Event>) {
        self.publish_filtered(channel, event, |_| true);
    }

    fn publish_filtered(&self, channel: &Channel, event: Arc<Event>, keep: impl Fn(&Conn) -> bool) {
        let frame = Frame::new(Arc::new(channel.names()), event);
        for conn in self.subscribers(channel) {
            if keep(&conn) {
                conn.send(frame.clone());
            }
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Whether a status goes to the public streams (as on the public timeline: public, not a
/// reblog, a reply only to oneself).
fn is_public(s: &StatusRecord) -> bool {
    Visibility::from_code(s.visibility) == Visibility::Public
        && s.reblog_of_id.is_none()
        && s.in_reply_to_account_id.is_none_or(|to| to == s.account_id)
}

/// Whether an account lives on another server (its record, from the record cache, has a
/// domain). An account gone since counts as local, as a deleted status's author may be.
async fn is_remote(state: &AppState, account: Id) -> ApiResult<bool> {
    let now = std::time::Instant::now();
    let found = state
        .records
        .accounts(&state.store, &[account], now)
        .await?;
    Ok(found.get(&account).is_some_and(|a| a.domain.is_some()))
}

/// The accounts a connection's viewer must not see in an event about `s`: the author, and
/// for a reblog the original's author.
async fn hidden_from(state: &AppState, conn: &Conn, authors: &[Id]) -> bool {
    let Some(me) = conn.viewer else { return false };
    match Viewer::load(state, Some(me)).await {
        Ok(viewer) => authors.iter().any(|a| viewer.hides(*a)),
        Err(_) => true,
    }
}

/// What a connection's content filters make of a public event about `s`: `None` when a
/// `hide` filter of the public context matches, else the frame to send (the shared one
/// when nothing matches).
async fn filtered_frame(
    state: &AppState,
    conn: &Conn,
    s: &StatusRecord,
    status: &crate::app::entity::Status,
    shared: &Frame,
) -> ApiResult<Option<Frame>> {
    let Some(me) = conn.viewer else {
        return Ok(Some(shared.clone()));
    };
    let filters = state.filters.of(&state.store, me).await?;
    let now = cascade_core::time::now_millis();
    let matched = render::matching(&filters, Some(FilterContext::Public), now, Some(me), s, s);
    if matched.is_empty() {
        return Ok(Some(shared.clone()));
    }
    if matched
        .iter()
        .any(|(f, _)| f.action == cascade_core::filter::FilterAction::Hide)
    {
        return Ok(None);
    }
    let mut own = status.clone();
    own.filtered = Some(
        matched
            .into_iter()
            .map(|(f, m)| crate::app::filters::result(f, m))
            .collect(),
    );
    let event = Arc::new(Event {
        name: shared.event.name,
        payload: json(&own),
    });
    Ok(Some(Frame::new(shared.stream.clone(), event)))
}

/// Publishes `event` to the public and hashtag channels, leaving out the connections
/// whose viewer hides one of `authors`. With the rendered `status`, each connection's
/// content filters apply too.
async fn publish_public(
    state: &AppState,
    s: &StatusRecord,
    tags: &[String],
    authors: &[Id],
    event: Arc<Event>,
    status: Option<&crate::app::entity::Status>,
) -> ApiResult<()> {
    // Local posts go to the `:local` channels, remote ones to the `:remote` ones.
    let remote = is_remote(state, s.account_id).await?;
    let side = if remote { Scope::Remote } else { Scope::Local };
    let mut channels = vec![
        Channel::Public {
            scope: Scope::All,
            media: false,
        },
        Channel::Public {
            scope: side,
            media: false,
        },
    ];
    // The `:media` channels carry statuses with attachments, and every delete (a
    // deleted status's attachments are gone with it, so the event cannot tell).
    if status.is_none_or(|st| {
        !st.reblog
            .as_deref()
            .unwrap_or(st)
            .media_attachments
            .is_empty()
    }) {
        for scope in [Scope::All, side] {
            channels.push(Channel::Public { scope, media: true });
        }
    }
    for tag in tags {
        for local in [false, true] {
            if local && remote {
                continue;
            }
            channels.push(Channel::Hashtag {
                tag: tag.clone(),
                local,
            });
        }
    }
    for channel in channels {
        if !state.streams.has(&channel) {
            continue;
        }
        let frame = Frame::new(Arc::new(channel.names()), event.clone());
        for conn in state.streams.subscribers(&channel) {
            if hidden_from(state, &conn, authors).await {
                continue;
            }
            let frame = match status {
                Some(status) => filtered_frame(state, &conn, s, status, &frame).await?,
                None => Some(frame.clone()),
            };
            if let Some(frame) = frame {
                conn.send(frame);
            }
        }
    }
    Ok(())
}

/// What a status mentions and tags, read once per event for all its recipients.
struct About {
    mentions: Vec<Id>,
    tags: Vec<String>,
}

/// Renders `id` for the account of `conn` if its home would show it, else `None`.
async fn home_view(
    state: &AppState,
    me: Id,
    s: &StatusRecord,
    about: &About,
) -> ApiResult<Option<String>> {
    let viewer = Viewer::load(state, Some(me)).await?;
    let visibility = Visibility::from_code(s.visibility);
    let mut reaches = s.account_id == me
        || (viewer.follows(s.account_id)
            && (visibility != Visibility::Direct || about.mentions.contains(&me)));
    if !reaches && visibility == Visibility::Public && s.reblog_of_id.is_none() {
        reaches = about.tags.iter().any(|t| viewer.followed_tags.contains(t));
    }
    if !reaches {
        return Ok(None);
    }
    let page = cascade_core::timeline::Page {
        limit: 1,
        ..Default::default()
    };
    let (mut shown, _) = render::page_in(
        state,
        &viewer,
        &[s.id],
        &page,
        FilterContext::Home,
        |s, _| crate::app::timelines::home_keeps(&viewer, me, s),
    )
    .await?;
    Ok(shown.pop().map(|status| json(&status)))
}

/// Renders a status for the owner of a list if the list's timeline would show it.
async fn list_view(
    state: &AppState,
    list: Id,
    s: &StatusRecord,
) -> ApiResult<Option<(Id, String)>> {
    let record = match state.store.list(list).await {
        Ok(l) => l,
        Err(cascade_store::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let viewer = Viewer::load(state, Some(record.account_id)).await?;
    let hidden: Vec<Id> = viewer
        .blocked
        .iter()
        .chain(&viewer.muted)
        .copied()
        .collect();
    let range = cascade_store::Range {
        below: Some(s.id + 1),
        above: Some(s.id - 1),
        limit: 1,
        oldest_first: false,
    };
    let found = state
        .store
        .list_timeline(
            list,
            record.account_id,
            &record.replies_policy,
            &hidden,
            range,
        )
        .await?;
    if !found.contains(&s.id) {
        return Ok(None);
    }
    let page = cascade_core::timeline::Page {
        limit: 1,
        ..Default::default()
    };
    let (mut shown, _) = render::page_in(
        state,
        &viewer,
        &[s.id],
        &page,
        FilterContext::Home,
        |_, _| true,
    )
    .await?;
    Ok(shown.pop().map(|status| (record.account_id, json(&status))))
}

/// A new status (called by its delivery job): `update` events on
/// the home streams of the accounts whose home shows it, the lists that include it, and
/// the public and hashtag streams.
pub async fn status_created(state: &AppState, s: &StatusRecord) -> ApiResult<()> {
    state.tell(Message::Created { id: s.id });
    if state.streams.connections() == 0 {
        return Ok(());
    }
    announce(state, s, "update").await
}

/// A status was edited: `status.update` wherever it was announced.
async fn status_updated(state: &AppState, id: Id) -> ApiResult<()> {
    let s = state.store.status(id).await?;
    announce(state, &s, "status.update").await
}

async fn announce(state: &AppState, s: &StatusRecord, name: &'static str) -> ApiResult<()> {
    let hub = &state.streams;
    let mut authors = vec![s.account_id];
    if let Some(original) = s.reblog_of_id {
        if let Ok(o) = state.store.status(original).await {
            authors.push(o.account_id);
        }
    }
    let users = hub.active(|c| matches!(c, Channel::User(_)));
    let about = About {
        mentions: if users.is_empty() {
            Vec::new()
        } else {
            state
                .store
                .mentions_of(&[s.id])
                .await?
                .into_iter()
                .map(|(_, a)| a)
                .collect()
        },
        tags: state
            .store
            .tags_of(&[s.id])
            .await?
            .into_iter()
            .map(|(_, t)| t)
            .collect(),
    };
    for channel in users {
        let Channel::User(me) = channel else { continue };
        if let Some(payload) = home_view(state, me, s, &about).await? {
            hub.publish(&channel, Arc::new(Event { name, payload }));
        }
    }
    for channel in hub.active(|c| matches!(c, Channel::List(_))) {
        let Channel::List(list) = channel else {
            continue;
        };
        if let Some((owner, payload)) = list_view(state, list, s).await? {
            let event = Arc::new(Event { name, payload });
            hub.publish_filtered(&channel, event, |c| c.viewer == Some(owner));
        }
    }
    if is_public(s) {
        let anonymous = Viewer::anonymous();
        if let Some(status) = render::statuses(state, &anonymous, &[s.id]).await?.pop() {
            let event = Arc::new(Event {
                name,
                payload: json(&status),
            });
            publish_public(state, s, &about.tags, &authors, event, Some(&status)).await?;
        }
    }
    Ok(())
}

/// A status was edited: its `status.update` events wherever it was announced.
pub async fn edited(state: &AppState, id: Id) -> ApiResult<()> {
    state.tell(Message::Edited { id });
    if state.streams.connections() == 0 {
        return Ok(());
    }
    status_updated(state, id).await
}

/// A status was deleted: `delete` events wherever it may have been shown. What it mentioned
/// and tagged comes from its delete job, since the store no longer has it.
pub async fn status_deleted(
    state: &AppState,
    s: &StatusRecord,
    mentions: &[Id],
    tags: &[String],
) -> ApiResult<()> {
    state.tell(Message::Deleted {
        status: crate::cluster::Written::of(s),
        mentions: mentions.to_vec(),
        tags: tags.to_vec(),
    });
    deleted_locally(state, s, mentions, tags).await
}

async fn deleted_locally(
    state: &AppState,
    s: &StatusRecord,
    mentions: &[Id],
    tags: &[String],
) -> ApiResult<()> {
    if state.streams.connections() == 0 {
        return Ok(());
    }
    let event = Arc::new(Event {
        name: "delete",
        payload: s.id.to_string(),
    });
    let hub = &state.streams;
    for channel in
        hub.active(|c| matches!(c, Channel::User(_) | Channel::List(_) | Channel::Watch(_)))
    {
        let owners: Vec<Id> = hub
            .subscribers(&channel)
            .iter()
            .filter_map(|c| c.viewer)
            .collect();
        for owner in owners {
            let viewer = Viewer::load(state, Some(owner)).await?;
            if viewer.can_see(s, mentions) {
                hub.publish_filtered(&channel, event.clone(), |c| c.viewer == Some(owner));
            }
        }
    }
    if is_public(s) {
        publish_public(state, s, tags, &[], event, None).await?;
    }
    Ok(())
}

/// A notification was delivered: a `notification` event on the recipient's `user` and
/// `user:notification` streams, rendered as the v1 entity. (Opening a `user:notification`
/// stream already required `read:notifications`.)
pub async fn notification(state: &AppState, n: &NotificationRecord) -> ApiResult<()> {
    let channels = [
        Channel::User(n.account_id),
        Channel::Notifications(n.account_id),
    ];
    if !state.clustered() && !channels.iter().any(|c| state.streams.has(c)) {
        return Ok(());
    }
    let viewer = Viewer::load(state, Some(n.account_id)).await?;
    let Some(rendered) =
        crate::app::notifications::render_all(state, &viewer, std::slice::from_ref(n))
            .await?
            .pop()
    else {
        return Ok(());
    };
    let event = Arc::new(Event {
        name: "notification",
        payload: json(&rendered),
    });
    // A `user` stream whose token may not read notifications gets none of them.
    let [user, notifications] = channels;
    deliver(state, user, event.clone(), Keep::Notifications);
    deliver(state, notifications, event, Keep::All);
    Ok(())
}

/// A status matched a watch: an `update` event on the watch's stream, rendered for its
/// owner (the only one who may subscribe), unless the owner hides its author.
pub async fn watch_hit(state: &AppState, watch: Id, owner: Id, id: Id) -> ApiResult<()> {
    let channel = Channel::Watch(watch);
    if !state.clustered() && !state.streams.has(&channel) {
        return Ok(());
    }
    let viewer = Viewer::load(state, Some(owner)).await?;
    let page = cascade_core::timeline::Page {
        limit: 1,
        ..Default::default()
    };
    let (mut shown, _) = render::page(state, &viewer, &[id], &page, |s, _| {
        !viewer.hides(s.account_id)
    })
    .await?;
    if let Some(status) = shown.pop() {
        let event = Arc::new(Event {
            name: "update",
            payload: json(&status),
        });
        deliver(state, channel, event, Keep::Viewer(owner));
    }
    Ok(())
}

/// An account's filters changed: `filters_changed` (no payload) on its `user` streams, so
/// clients fetch them again.
pub fn filters_changed(state: &AppState, owner: Id) {
    let event = Arc::new(Event {
        name: "filters_changed",
        payload: String::new(),
    });
    deliver(state, Channel::User(owner), event, Keep::All);
}

/// A conversation changed: a `conversation` event on its owner's `direct` stream.
pub fn conversation(state: &AppState, owner: Id, rendered: &crate::app::entity::Conversation) {
    let event = Arc::new(Event {
        name: "conversation",
        payload: json(rendered),
    });
    deliver(state, Channel::Direct(owner), event, Keep::All);
}

/// Sends an event rendered for one audience to a channel's connections here, and to
/// those on the other nodes.
fn deliver(state: &AppState, channel: Channel, event: Arc<Event>, keep: Keep) {
    if state.clustered() {
        state.tell(Message::Frame {
            channel: channel.clone(),
            name: event.name.to_string(),
            payload: event.payload.clone(),
            keep,
        });
    }
    state
        .streams
        .publish_filtered(&channel, event, |c| keep.keeps(c));
}

impl Keep {
    fn keeps(&self, c: &Conn) -> bool {
        match self {
            Keep::All => true,
            Keep::Notifications => c.notifications,
            Keep::Viewer(v) => c.viewer == Some(*v),
        }
    }
}

/// The names of the events a node may be sent by another, as `'static` strings.
const EVENT_NAMES: [&str; 6] = [
    "update",
    "delete",
    "notification",
    "status.update",
    "conversation",
    "filters_changed",
];

/// Delivers a frame another node rendered to this node's connections.
pub fn frame_here(state: &AppState, channel: &Channel, name: &str, payload: String, keep: Keep) {
    let Some(name) = EVENT_NAMES.into_iter().find(|n| *n == name) else {
        return;
    };
    if !state.streams.has(channel) {
        return;
    }
    let event = Arc::new(Event { name, payload });
    state
        .streams
        .publish_filtered(channel, event, |c| keep.keeps(c));
}

/// Another node's new status: rendered here for this node's connections.
pub async fn created_elsewhere(state: &AppState, id: Id) {
    if state.streams.connections() == 0 {
        return;
    }
    let outcome = match state.store.status(id).await {
        Ok(s) => announce(state, &s, "update").await,
        Err(cascade_store::StoreError::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = outcome {
        tracing::warn!(error = %e, "another node's status was not streamed");
    }
}

/// Another node's edit: `status.update` for this node's connections.
pub async fn edited_here(state: &AppState, id: Id) {
    if state.streams.connections() == 0 {
        return;
    }
    if let Err(e) = status_updated(state, id).await {
        tracing::warn!(error = %e, "another node's edit was not streamed");
    }
}

/// Another node's deletion: `delete` events for this node's connections.
pub async fn deleted_here(state: &AppState, s: &StatusRecord, mentions: &[Id], tags: &[String]) {
    if state.streams.connections() == 0 {
        return;
    }
    if let Err(e) = deleted_locally(state, s, mentions, tags).await {
        tracing::warn!(error = %e, "another node's deletion was not streamed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Arc<Event> {
        Arc::new(Event {
            name: "update",
            payload: "{}".into(),
        })
    }

    #[test]
    fn a_full_queue_disconnects_only_the_slow_connection() {
        let hub = Hub::new(2);
        let (slow, _slow_rx) = hub.connect(Holder::default());
        let (fast, mut fast_rx) = hub.connect(Holder::default());
        let public = Channel::Public {
            scope: Scope::All,
            media: false,
        };
        hub.subscribe(&slow, public.clone()).unwrap();
        hub.subscribe(&fast, public.clone()).unwrap();
        for _ in 0..5 {
            hub.publish(&public, event());
            while fast_rx.try_recv().is_ok() {}
        }
        assert!(
            slow.is_kicked(),
            "the connection that never read was dropped"
        );
        assert!(!fast.is_kicked());
        hub.publish(&public, event());
        assert!(fast_rx.try_recv().is_ok(), "the fast one still receives");
    }

    #[test]
    fn disconnect_removes_every_subscription() {
        let hub = Hub::new(4);
        let (conn, _rx) = hub.connect(Holder {
            viewer: Some(1),
            ..Holder::default()
        });
        hub.subscribe(&conn, Channel::User(1)).unwrap();
        hub.subscribe(&conn, Channel::Direct(1)).unwrap();
        assert!(hub.has(&Channel::User(1)));
        hub.disconnect(&conn);
        assert!(!hub.has(&Channel::User(1)) && !hub.has(&Channel::Direct(1)));
        assert_eq!(hub.connections(), 0);
    }

    #[test]
    fn revoking_a_token_closes_only_its_connections() {
        let hub = Hub::new(4);
        let holder = |token| Holder {
            viewer: Some(1),
            token: Some(token),
            notifications: true,
        };
        let (revoked, _revoked_rx) = hub.connect(holder(10));
        let (other, _other_rx) = hub.connect(holder(11));
        hub.subscribe(&revoked, Channel::User(1)).unwrap();
        hub.revoke(10);
        assert!(revoked.is_revoked() && revoked.is_kicked());
        assert!(!other.is_revoked() && !other.is_kicked());
        hub.disconnect(&revoked);
        hub.disconnect(&other);
        assert_eq!(hub.connections(), 0);
    }

    #[test]
    fn stream_names_round_trip() {
        for name in [
            "user",
            "user:notification",
            "direct",
            "public",
            "public:local:media",
            "public:remote",
        ] {
            let channel = Channel::parse(name, None, None, Some(7)).unwrap();
            assert_eq!(channel.names(), vec![name.to_string()]);
        }
        let tag = Channel::parse("hashtag:local", Some("#Rust"), None, None).unwrap();
        assert_eq!(
            tag.names(),
            vec!["hashtag:local".to_string(), "rust".to_string()]
        );
        assert!(Channel::parse("user", None, None, None).is_err());
        assert!(Channel::parse("hashtag", None, None, None).is_err());
        assert!(Channel::parse("nope", None, None, Some(1)).is_err());
    }
}
