//! Federation over ActivityPub: the key pairs that sign for local accounts and the
//! instance actor, fetching remote actors (signed GETs through the outgoing guard), and the
//! outbound side, where every activity is a `Federate` job that signs and POSTs it to one
//! inbox. `documents` renders what we serve; `inbox` verifies and applies what we are sent.
//!
//! Nothing here trusts a peer's word: an actor is believed only as fetched from its own
//! URL, an activity only as signed by its actor's key, and remote HTML is reduced to text.

pub mod documents;
pub mod domains;
pub mod inbox;
pub mod moves;
pub mod objects;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cascade_core::activitypub::{self, ACTIVITY_JSON};
use cascade_core::job::JobKind;
use cascade_core::{time, Id, Visibility};
use cascade_store::{Account, Job, NewJob, NewRemoteAccount, StatusRecord};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::httpsig;
use crate::outgoing::Outgoing;
use crate::state::AppState;

/// Bytes of a document fetched from a peer (an actor, a note): Mastodon's actors are a few
/// kilobytes; a peer sending more is refused rather than buffered.
pub const MAX_FETCHED_BYTES: usize = 1024 * 1024;
/// How long an outgoing federation request may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// A remote actor's key is fetched again after a failed verification (the key may have
/// been rotated), but not more often than this, so bad signatures cannot make us fetch.
const REFETCH_AFTER_MS: i64 = 60_000;

/// The federation client and the parsed private keys of local accounts.
#[derive(Default)]
pub struct Federation {
    client: tokio::sync::OnceCell<Outgoing>,
    /// Parsed keys by account (the instance actor's under 0): parsing PEM on every
    /// delivery would cost more than signing.
    keys: Mutex<HashMap<Id, (String, Arc<RsaPrivateKey>)>>,
    /// The moderators' domain blocks.
    pub domains: domains::DomainBlocks,
    /// A circuit breaker per peer server (`host[:port]`) for deliveries.
    pub breakers: Mutex<cascade_core::breaker::Breakers>,
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("{e}"))
}

async fn client(state: &AppState) -> ApiResult<&Outgoing> {
    state
        .federation
        .client
        .get_or_try_init(|| async { Outgoing::new(state.config.allow_private_outgoing, TIMEOUT) })
        .await
        .map_err(internal)
}

/// The actor id of the local account `username`.
pub fn local_actor(state: &AppState, username: &str) -> String {
    state.url(&format!("/users/{username}"))
}

/// The instance actor, which signs fetches made for no account.
pub fn instance_actor(state: &AppState) -> String {
    state.url("/actor")
}

/// An account's actor id: its stored one when remote, derived from its name when local.
pub fn account_uri(state: &AppState, a: &Account) -> String {
    match &a.uri {
        Some(uri) => uri.clone(),
        None => local_actor(state, &a.username),
    }
}

/// The local username an actor id of ours names (`…/users/NAME`, or a path below it).
pub fn local_username<'a>(state: &AppState, uri: &'a str) -> Option<&'a str> {
    let prefix = state.url("/users/");
    let rest = uri.strip_prefix(prefix.as_str())?;
    let name = rest.split(['/', '#', '?']).next()?;
    (!name.is_empty()).then_some(name)
}

/// The public PEM and the private key of a local account (`None`: the instance actor),
/// made on first need and kept from then on.
pub async fn keys(
    state: &AppState,
    account: Option<Id>,
) -> ApiResult<(String, Arc<RsaPrivateKey>)> {
    let slot = account.unwrap_or(0);
    if let Some(found) = state
        .federation
        .keys
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&slot)
    {
        return Ok(found.clone());
    }
    let stored = match account {
        Some(id) => state.store.account_key(id).await?,
        None => state
            .store
            .instance_key("actor")
            .await?
            .map(|(private, public)| (public, private)),
    };
    let (public, private) = match stored {
        Some(pair) => pair,
        None => {
            let (public, private) = tokio::task::spawn_blocking(httpsig::generate)
                .await
                .map_err(internal)?
                .map_err(internal)?;
            let now = time::now_millis();
            match account {
                Some(id) => {
                    state
                        .store
                        .put_account_key(id, &public, &private, now)
                        .await?
                }
                None => {
                    let (private, public) = state
                        .store
                        .put_instance_key("actor", &private, &public, now)
                        .await?;
                    (public, private)
                }
            }
        }
    };
    let parsed = Arc::new(httpsig::private_key(&private).map_err(internal)?);
    let pair = (public, parsed);
    state
        .federation
        .keys
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(slot, pair.clone());
    Ok(pair)
}

/// The `host[:port]` a request to `url` names in its `Host` header.
fn host_of(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// The domain (`host[:port]`) an actor id lives on.
pub fn domain_of(uri: &str) -> Option<String> {
    host_of(&reqwest::Url::parse(uri).ok()?).map(|h| h.to_ascii_lowercase())
}

/// Reads a response's body up to `MAX_FETCHED_BYTES`.
async fn bounded_body(mut res: reqwest::Response) -> ApiResult<Vec<u8>> {
    if res
        .content_length()
        .is_some_and(|n| n > MAX_FETCHED_BYTES as u64)
    {
        return Err(ApiError::BadRequest(
            "the remote document is too large".into(),
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| ApiError::BadRequest(e.to_string()))?
    {
        if body.len() + chunk.len() > MAX_FETCHED_BYTES {
            return Err(ApiError::BadRequest(
                "the remote document is too large".into(),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A signed GET of an ActivityPub document (signed by the instance actor, so peers that
/// ask for authorized fetch answer), through the outgoing guard.
pub async fn fetch(state: &AppState, url: &str) -> ApiResult<Value> {
    let client = client(state).await?;
    let parsed = crate::outgoing::check_url(url, state.config.allow_private_outgoing)
        .map_err(|e| ApiError::BadRequest(format!("{url} {e}")))?;
    let host = host_of(&parsed).ok_or_else(|| ApiError::BadRequest("no host".into()))?;
    refuse_suspended(state, &host).await?;
    let path = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_string(),
    };
    let (_, key) = keys(state, None).await?;
    let key_id = format!("{}#main-key", instance_actor(state));
    let signed =
        httpsig::sign_request(&key_id, &key, "GET", &host, &path, None, time::now_millis())
            .map_err(internal)?;
    let mut req = client
        .get(url)
        .map_err(|e| ApiError::BadRequest(format!("{url} {e}")))?
        .header("accept", ACTIVITY_JSON);
    for (name, value) in signed {
        req = req.header(name, value);
    }
    let res = req
        .send()
        .await
        .map_err(|e| ApiError::BadRequest(format!("{url}: {e}")))?;
    if !res.status().is_success() {
        return Err(ApiError::BadRequest(format!(
            "{url} answered {}",
            res.status()
        )));
    }
    let body = bounded_body(res).await?;
    serde_json::from_slice(&body).map_err(|_| ApiError::BadRequest(format!("{url} sent no JSON")))
}

/// 403 for a domain a moderator suspended: nothing is fetched from it.
async fn refuse_suspended(state: &AppState, domain: &str) -> ApiResult<()> {
    if state.federation.domains.suspended(state, domain).await? {
        return Err(ApiError::Forbidden(format!(
            "{domain} is blocked by this server"
        )));
    }
    Ok(())
}

/// The `Note` of `author`'s status `id`, for anyone: public and unlisted statuses only
/// (private and direct ones are never served unsigned), no reblogs.
pub async fn public_note(state: &AppState, author: &Account, id: Id) -> ApiResult<Value> {
    let s = state.store.status(id).await?;
    let visibility = Visibility::from_code(s.visibility);
    if s.account_id != author.id
        || s.reblog_of_id.is_some()
        || !matches!(visibility, Visibility::Public | Visibility::Unlisted)
    {
        return Err(ApiError::NotFound);
    }
    documents::note(state, &s, author).await
}

/// A JSON value's id: the string itself, or an object's `id`.
pub fn id_of(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v.get("id").and_then(Value::as_str))
}

/// The ActivityPub types of actors (accounts), as Mastodon reads them.
pub const ACTOR_TYPES: [&str; 5] = ["Person", "Service", "Application", "Group", "Organization"];

/// Characters in a remote username or display name we keep.
const MAX_NAME_CHARS: usize = 100;
/// Characters of a remote bio we keep.
const MAX_NOTE_CHARS: usize = 5_000;

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Fetches the actor at `uri` and stores it as a remote account; returns its id. The
/// document must name itself `uri`, live on that host, and carry its own key.
pub async fn fetch_actor(state: &AppState, uri: &str) -> ApiResult<Id> {
    let doc = fetch(state, uri).await?;
    store_actor(state, uri, &doc).await
}

/// Stores an actor document fetched from `uri`.
async fn store_actor(state: &AppState, uri: &str, doc: &Value) -> ApiResult<Id> {
    let bad = |what: &str| ApiError::BadRequest(format!("{uri}: {what}"));
    let id = doc
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no id"))?;
    if id != uri {
        return Err(bad("the document names another actor"));
    }
    let domain = domain_of(id).ok_or_else(|| bad("no host"))?;
    if domain.eq_ignore_ascii_case(&state.config.domain) {
        return Err(bad("a local actor"));
    }
    let kind = doc.get("type").and_then(Value::as_str).unwrap_or_default();
    if !ACTOR_TYPES.contains(&kind) {
        return Err(bad("not an actor"));
    }
    let username = doc
        .get("preferredUsername")
        .and_then(Value::as_str)
        .filter(|u| {
            !u.is_empty()
                && u.chars().count() <= MAX_NAME_CHARS
                && u.chars().all(|c| {
                    c.is_alphanumeric()
                        || matches!(c, '_' | '-' | '.')
                        // An instance actor is named by its server's host, port included.
                        || (c == ':' && kind == "Application")
                })
        })
        .ok_or_else(|| bad("no usable preferredUsername"))?;
    let inbox = on_host(doc.get("inbox").and_then(Value::as_str), &domain)
        .ok_or_else(|| bad("no inbox on its host"))?;
    let shared_inbox = on_host(
        doc.get("endpoints")
            .and_then(|e| e.get("sharedInbox"))
            .and_then(Value::as_str),
        &domain,
    );
    let followers_url = on_host(doc.get("followers").and_then(Value::as_str), &domain);
    let key = doc.get("publicKey").ok_or_else(|| bad("no publicKey"))?;
    let key_id = key
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no key id"))?;
    let owner = key.get("owner").and_then(Value::as_str).unwrap_or(id);
    let pem = key
        .get("publicKeyPem")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no publicKeyPem"))?;
    if owner != id || domain_of(key_id).as_deref() != Some(domain.as_str()) {
        return Err(bad("the key belongs to another actor"));
    }
    httpsig::public_key(pem).map_err(|_| bad("the key is not an RSA key"))?;
    let note_text = activitypub::html_to_text(
        doc.get("summary")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    let note_text = clip(&note_text, MAX_NOTE_CHARS);
    let note_html = render_remote_text(state, &note_text);
    let now = time::now_millis();
    let created_at = doc
        .get("published")
        .and_then(Value::as_str)
        .and_then(time::parse_rfc3339)
        .map_or(now, |t| t.min(now));
    let account = NewRemoteAccount {
        id: state.ids.next(),
        username: username.to_string(),
        domain,
        uri: id.to_string(),
        url: doc.get("url").and_then(id_of).map(str::to_string),
        display_name: clip(
            &activitypub::html_to_text(doc.get("name").and_then(Value::as_str).unwrap_or_default()),
            MAX_NAME_CHARS,
        ),
        note: note_text,
        note_html,
        locked: doc
            .get("manuallyApprovesFollowers")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        bot: matches!(kind, "Service" | "Application"),
        discoverable: doc
            .get("discoverable")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        created_at,
        inbox: inbox.to_string(),
        shared_inbox: shared_inbox.map(str::to_string),
        followers_url: followers_url.map(str::to_string),
        key_id: key_id.to_string(),
        public_key_pem: pem.to_string(),
        fetched_at: now,
    };
    let id = match state.store.upsert_remote_account(&account).await {
        Ok(id) => id,
        // Two requests stored the same new actor at once: the other one won.
        Err(cascade_store::StoreError::Conflict(_)) => state
            .store
            .account_by_uri(&account.uri)
            .await?
            .map(|a| a.id)
            .ok_or(ApiError::NotFound)?,
        Err(e) => return Err(e.into()),
    };
    state.forget(crate::cluster::Forget::Account(id));
    domains::on_new_account(state, id, &account.domain).await?;
    Ok(id)
}

/// A URL an actor names, if it is on the actor's own host.
fn on_host<'a>(url: Option<&'a str>, domain: &str) -> Option<&'a str> {
    url.filter(|u| domain_of(u).as_deref() == Some(domain))
}

/// Plain text from a peer rendered as Cascade renders text: escaped, paragraphs, links,
/// hashtags; mentions stay text (they name accounts on the peer's server).
pub fn render_remote_text(state: &AppState, text: &str) -> String {
    cascade_core::text::render_html(text, |_, _| None, |tag| state.url(&format!("/tags/{tag}")))
}

/// The remote account with actor id `uri`, fetched when unknown.
pub async fn resolve_actor(state: &AppState, uri: &str) -> ApiResult<Account> {
    if let Some(a) = state.store.account_by_uri(uri).await? {
        return Ok(a);
    }
    let id = fetch_actor(state, uri).await?;
    Ok(state.store.account(id).await?)
}

/// The account `acct` names (`user`, `user@domain`, with or without a leading `@`): a
/// local one, a known remote one, or (with `resolve`) a remote one found through its
/// server's WebFinger and fetched. `None` when there is none to be found.
pub async fn lookup(state: &AppState, acct: &str, resolve: bool) -> ApiResult<Option<Account>> {
    let acct = acct.trim().trim_start_matches('@');
    let (user, domain) = match acct.split_once('@') {
        Some((user, domain)) if !domain.eq_ignore_ascii_case(&state.config.domain) => {
            (user, domain.to_ascii_lowercase())
        }
        Some((user, _)) => return local_by_name(state, user).await,
        None => return local_by_name(state, acct).await,
    };
    if let Some(a) = state.store.remote_account_by_acct(user, &domain).await? {
        return Ok(Some(a));
    }
    if !resolve {
        return Ok(None);
    }
    match webfinger(state, user, &domain).await {
        Ok(uri) => match resolve_actor(state, &uri).await {
            Ok(a) => Ok(Some(a)),
            Err(e) => {
                tracing::info!(%acct, error = %e, "a remote account could not be fetched");
                Ok(None)
            }
        },
        Err(e) => {
            tracing::info!(%acct, error = %e, "a remote account could not be found");
            Ok(None)
        }
    }
}

/// The remote accounts a local post's mentions (`user`, `domain`) name: the known ones,
/// and of the others at most `MAX_MENTION_LOOKUPS`, looked up together (WebFinger, then
/// the actor), each within `MENTION_LOOKUP_SECS`. A mention not found, or of a suspended
/// account, names nobody and stays text.
pub async fn mentioned(state: &AppState, names: &[(String, String)]) -> ApiResult<Vec<Account>> {
    use cascade_core::limits::{MAX_MENTION_LOOKUPS, MENTION_LOOKUP_SECS};
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for (user, domain) in names {
        match state.store.remote_account_by_acct(user, domain).await? {
            Some(a) => known.push(Some(a)),
            None if unknown.len() < MAX_MENTION_LOOKUPS => unknown.push(format!("{user}@{domain}")),
            None => {}
        }
    }
    // The unknown ones are looked up at once, all within one bound: a post waits for its
    // mentions' servers at most that long, and one that fails or is slow leaves its
    // mention as text rather than failing the post.
    let lookups = unknown.iter().map(|acct| async move {
        let wait = Duration::from_secs(MENTION_LOOKUP_SECS);
        match tokio::time::timeout(wait, lookup(state, acct, true)).await {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                tracing::info!(%acct, error = %e, "a mentioned account could not be looked up");
                None
            }
            Err(_) => {
                tracing::info!(%acct, "a mentioned account's lookup timed out");
                None
            }
        }
    });
    known.extend(futures_util::future::join_all(lookups).await);
    let mut found: Vec<Account> = Vec::new();
    for a in known.into_iter().flatten() {
        if a.domain.is_some() && a.suspended_at.is_none() && !found.iter().any(|f| f.id == a.id) {
            found.push(a);
        }
    }
    Ok(found)
}

async fn local_by_name(state: &AppState, name: &str) -> ApiResult<Option<Account>> {
    match state.store.account_by_username(name).await {
        Ok(a) => Ok(Some(a)),
        Err(cascade_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The actor id `user@domain`'s WebFinger names (its `self` link of ActivityPub type).
/// Over https; plain http only under the test-only setting that also lets requests reach
/// loopback.
async fn webfinger(state: &AppState, user: &str, domain: &str) -> ApiResult<String> {
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_');
    if user.is_empty()
        || domain.is_empty()
        || !domain.chars().all(valid)
        || !user.chars().all(valid)
    {
        return Err(ApiError::BadRequest("not an account address".into()));
    }
    refuse_suspended(state, domain).await?;
    let scheme = if state.config.allow_private_outgoing {
        "http"
    } else {
        "https"
    };
    let url = format!("{scheme}://{domain}/.well-known/webfinger?resource=acct:{user}@{domain}");
    let res = client(state)
        .await?
        .get(&url)
        .map_err(|e| ApiError::BadRequest(format!("{url} {e}")))?
        .header("accept", "application/jrd+json, application/json")
        .send()
        .await
        .map_err(|e| ApiError::BadRequest(format!("{url}: {e}")))?;
    if !res.status().is_success() {
        return Err(ApiError::BadRequest(format!(
            "{url} answered {}",
            res.status()
        )));
    }
    let jrd: Value = serde_json::from_slice(&bounded_body(res).await?)
        .map_err(|_| ApiError::BadRequest(format!("{url} sent no JSON")))?;
    jrd.get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|l| {
            l.get("rel").and_then(Value::as_str) == Some("self")
                && l.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(activitypub::wants_activity_json)
        })
        .and_then(|l| l.get("href").and_then(Value::as_str))
        .map(str::to_string)
        .ok_or_else(|| ApiError::BadRequest(format!("{url} names no actor")))
}

/// What a `Federate` job carries: the inbox and the activity, as the exact text to send.
#[derive(serde::Serialize, serde::Deserialize)]
struct Delivery {
    inbox: String,
    activity: String,
}

/// The job that POSTs `activity` to `inbox`, signed by `signer` (a local account).
pub fn federate_job(
    state: &AppState,
    signer: Id,
    inbox: &str,
    activity: &Value,
    now: i64,
) -> NewJob {
    let payload = serde_json::to_string(&Delivery {
        inbox: inbox.to_string(),
        activity: activity.to_string(),
    })
    .unwrap_or_default();
    NewJob::new(state.ids.next(), JobKind::Federate, signer, now)
        .by(signer)
        .carrying(payload)
}

/// Performs a `Federate` job: signs the activity with its actor's key and POSTs it. A peer
/// that refuses it for good (4xx other than 408 and 429) is not asked again; a peer that is
/// down or failing is (the job fails, and the worker backs off).
pub async fn deliver(state: &AppState, job: &Job) -> ApiResult<()> {
    let Some(d) = job
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str::<Delivery>(p).ok())
    else {
        return Ok(());
    };
    let signer = match job.actor_id {
        Some(id) => Some(state.store.account(id).await?),
        None => None,
    };
    let key_id = match &signer {
        Some(a) => format!("{}#main-key", account_uri(state, a)),
        None => format!("{}#main-key", instance_actor(state)),
    };
    let (_, key) = keys(state, signer.as_ref().map(|a| a.id)).await?;
    let url = match crate::outgoing::check_url(&d.inbox, state.config.allow_private_outgoing) {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(inbox = %d.inbox, error = %e, "an inbox the guard refuses; not delivered");
            return Ok(());
        }
    };
    let host = host_of(&url).unwrap_or_default();
    if state.federation.domains.suspended(state, &host).await? {
        tracing::info!(inbox = %d.inbox, "an inbox on a suspended domain; not delivered");
        return Ok(());
    }
    // A peer that failed again and again is not asked until its breaker lets a trial
    // through: the job fails at once and is retried on its own schedule, so a dead server
    // holds no delivery slot for a timeout.
    if !breakers(state).allow(&host, time::now_millis()) {
        state.metrics.federation_delivery("circuit_open");
        return Err(internal(format!("{host} is failing; its circuit is open")));
    }
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let body = d.activity.into_bytes();
    let signed = httpsig::sign_request(
        &key_id,
        &key,
        "POST",
        &host,
        &path,
        Some(&body),
        time::now_millis(),
    )
    .map_err(internal)?;
    let mut req = client(state)
        .await?
        .post(url.as_str())
        .map_err(internal)?
        .header("content-type", ACTIVITY_JSON);
    for (name, value) in signed {
        req = req.header(name, value);
    }
    let res = match req.body(body).send().await {
        Ok(res) => res,
        Err(e) => {
            breakers(state).failed(&host, time::now_millis());
            state.metrics.federation_delivery("unreachable");
            return Err(internal(e));
        }
    };
    let status = res.status();
    if status.is_server_error() {
        breakers(state).failed(&host, time::now_millis());
    } else {
        breakers(state).succeeded(&host);
    }
    if status.is_success() {
        state.metrics.federation_delivery("delivered");
        return Ok(());
    }
    if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
        tracing::warn!(inbox = %d.inbox, %status, "the peer refused an activity; not sent again");
        state.metrics.federation_delivery("refused");
        return Ok(());
    }
    state.metrics.federation_delivery("retry");
    Err(internal(format!("{} answered {status}", d.inbox)))
}

fn breakers(state: &AppState) -> std::sync::MutexGuard<'_, cascade_core::breaker::Breakers> {
    state
        .federation
        .breakers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// The inboxes a local post (not a reblog) by `author` goes to, as Mastodon delivers it:
/// its author's remote followers' servers unless it is direct, and the servers of the
/// remote accounts it mentions (`mentioned`); each server's shared inbox once (an
/// account's own inbox when its server names none). A direct post reaches only the
/// servers of those it mentions.
async fn post_audience(
    state: &AppState,
    author: Id,
    visibility: Visibility,
    mentioned: &[Id],
) -> ApiResult<Vec<String>> {
    let mut inboxes = if visibility == Visibility::Direct {
        Vec::new()
    } else {
        state.store.remote_follower_inboxes(author).await?
    };
    for &account in mentioned {
        if let Some(r) = state.store.remote_actor(account).await? {
            inboxes.push(r.shared_inbox.unwrap_or(r.inbox));
        }
    }
    inboxes.sort_unstable();
    inboxes.dedup();
    Ok(inboxes)
}

/// The local status `s` as federated from its author, to its audience (`post_audience`:
/// followers' servers as its visibility allows, mentioned accounts' servers): run by the
/// status's `Deliver` job. A reblog goes out as an `Announce` (`reblogged`). Remote
/// statuses are never federated from here.
pub async fn status_created(state: &AppState, s: &StatusRecord) -> ApiResult<()> {
    let author = state.store.account(s.account_id).await?;
    if author.domain.is_some() {
        return Ok(());
    }
    if let Some(original) = s.reblog_of_id {
        let Some((inboxes, object, original_author)) =
            announce_audience(state, &author, original).await?
        else {
            return Ok(());
        };
        let activity = documents::announce(state, &author, s, &object, &original_author);
        return enqueue(state, author.id, &inboxes, &activity).await;
    }
    let mentioned = crate::app::delivery::mentions(state, s.id).await?;
    let visibility = Visibility::from_code(s.visibility);
    let inboxes = post_audience(state, author.id, visibility, &mentioned).await?;
    if inboxes.is_empty() {
        return Ok(());
    }
    let note = documents::note(state, s, &author).await?;
    let activity = documents::create(state, &author, note);
    enqueue(state, author.id, &inboxes, &activity).await
}

/// Who hears of a local account's reblog of `original`: the reblogger's remote followers
/// and, when remote, the original's author; with the original's id and its author's.
/// `None` when the original is gone or nobody remote is to be told.
async fn announce_audience(
    state: &AppState,
    reblogger: &Account,
    original: Id,
) -> ApiResult<Option<(Vec<String>, String, String)>> {
    let o = match state.store.status(original).await {
        Ok(o) => o,
        Err(cascade_store::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let author = state.store.account(o.account_id).await?;
    let mut inboxes = state.store.remote_follower_inboxes(reblogger.id).await?;
    if author.domain.is_some() {
        // Its server's shared inbox, which the reblogger's followers there may share.
        let actor = state.store.remote_actor(author.id).await?;
        inboxes.extend(actor.map(|r| r.shared_inbox.unwrap_or(r.inbox)));
    }
    inboxes.sort_unstable();
    inboxes.dedup();
    let Some(object) = documents::any_status_uri(state, o.id).await? else {
        return Ok(None);
    };
    if inboxes.is_empty() {
        return Ok(None);
    }
    Ok(Some((inboxes, object, account_uri(state, &author))))
}

/// An edited local status, told as `Update` to the audience of the status as it is now
/// (`post_audience`: the servers its `Create` went to, and of accounts the edit newly
/// mentions; the status's `Edit` job).
pub async fn status_edited(state: &AppState, s: &StatusRecord) -> ApiResult<()> {
    if s.reblog_of_id.is_some() {
        return Ok(());
    }
    let author = state.store.account(s.account_id).await?;
    if author.domain.is_some() {
        return Ok(());
    }
    let mentioned = crate::app::delivery::mentions(state, s.id).await?;
    let visibility = Visibility::from_code(s.visibility);
    let inboxes = post_audience(state, author.id, visibility, &mentioned).await?;
    if inboxes.is_empty() {
        return Ok(());
    }
    let note = documents::note(state, s, &author).await?;
    let activity = documents::update(
        &local_actor(state, &author.username),
        note,
        s.edited_at.unwrap_or_else(time::now_millis),
    );
    enqueue(state, author.id, &inboxes, &activity).await
}

/// The job a change to a local account's profile owes, for the change's own transaction:
/// its `Update` is rendered and sent when the job runs (`profile_updated`).
pub fn profile_update_job(state: &AppState, account: Id) -> NewJob {
    NewJob::new(
        state.ids.next(),
        JobKind::ProfileUpdate,
        account,
        time::now_millis(),
    )
}

/// A local account's changed profile, told as `Update` of its `Person` to the servers its
/// followers are on (the `ProfileUpdate` job).
pub async fn profile_updated(state: &AppState, account: Id) -> ApiResult<()> {
    let a = state.store.account(account).await?;
    if a.domain.is_some() {
        return Ok(());
    }
    let inboxes = state.store.remote_follower_inboxes(a.id).await?;
    if inboxes.is_empty() {
        return Ok(());
    }
    let person = documents::person(state, &a).await?;
    let activity = documents::update(&local_actor(state, &a.username), person, time::now_millis());
    enqueue(state, a.id, &inboxes, &activity).await
}

/// A deleted local status, told to the audience its `Create` had (`post_audience`, with
/// the accounts it mentioned: `mentioned`; the `Delete` job); a deleted reblog
/// (`reblog_of`: its original) is the `Undo` of its `Announce`.
pub async fn status_deleted(
    state: &AppState,
    id: Id,
    author: Id,
    visibility: i64,
    reblog_of: Option<Id>,
    mentioned: &[Id],
) -> ApiResult<()> {
    let Ok(author) = state.store.account(author).await else {
        return Ok(());
    };
    if author.domain.is_some() {
        return Ok(());
    }
    if let Some(original) = reblog_of {
        let Some((inboxes, object, original_author)) =
            announce_audience(state, &author, original).await?
        else {
            return Ok(());
        };
        let reblog = StatusRecord {
            id,
            account_id: author.id,
            visibility,
            reblog_of_id: Some(original),
            created_at: time::now_millis(),
            ..StatusRecord::default()
        };
        let announce = documents::announce(state, &author, &reblog, &object, &original_author);
        let activity = documents::undo(announce);
        return enqueue(state, author.id, &inboxes, &activity).await;
    }
    let visibility = Visibility::from_code(visibility);
    let inboxes = post_audience(state, author.id, visibility, mentioned).await?;
    if inboxes.is_empty() {
        return Ok(());
    }
    let activity = documents::delete(state, &author, id);
    enqueue(state, author.id, &inboxes, &activity).await
}

async fn enqueue(
    state: &AppState,
    signer: Id,
    inboxes: &[String],
    activity: &Value,
) -> ApiResult<()> {
    let now = time::now_millis();
    let jobs: Vec<NewJob> = inboxes
        .iter()
        .map(|inbox| federate_job(state, signer, inbox, activity, now))
        .collect();
    state.store.enqueue_jobs(&jobs).await?;
    state.jobs.ring();
    Ok(())
}

/// The inbox a remote account is reached at for activities meant for it alone.
async fn inbox_of(state: &AppState, account: Id) -> ApiResult<Option<String>> {
    Ok(state.store.remote_actor(account).await?.map(|r| r.inbox))
}

/// The Follow `follower` (local) sends `target` (remote), as a job for the follow's own
/// transaction; `None` when the target cannot be reached.
pub async fn follow_job(
    state: &AppState,
    follower: &Account,
    target: &Account,
    now: i64,
) -> ApiResult<Option<NewJob>> {
    let Some(inbox) = inbox_of(state, target.id).await? else {
        return Ok(None);
    };
    let activity = documents::follow(state, follower, target, now);
    Ok(Some(federate_job(
        state,
        follower.id,
        &inbox,
        &activity,
        now,
    )))
}

/// The Undo of `follower`'s Follow of the remote `target`.
pub async fn unfollow_job(
    state: &AppState,
    follower: &Account,
    target: &Account,
    now: i64,
) -> ApiResult<Option<NewJob>> {
    let Some(inbox) = inbox_of(state, target.id).await? else {
        return Ok(None);
    };
    let follow = documents::follow(state, follower, target, now);
    let activity = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#undo-follow-{}", account_uri(state, follower), state.ids.next()),
        "type": "Undo",
        "actor": account_uri(state, follower),
        "object": follow,
    });
    Ok(Some(federate_job(
        state,
        follower.id,
        &inbox,
        &activity,
        now,
    )))
}

/// The answer (`Accept` or `Reject`) `target` (local) sends to the remote `follower`'s
/// Follow, whose id was `follow_id` (when known).
pub async fn answer_job(
    state: &AppState,
    kind: &str,
    target: &Account,
    follower: &Account,
    follow_id: Option<&str>,
    now: i64,
) -> ApiResult<Option<NewJob>> {
    let Some(inbox) = inbox_of(state, follower.id).await? else {
        return Ok(None);
    };
    let target_uri = account_uri(state, target);
    let mut follow = json!({
        "type": "Follow",
        "actor": account_uri(state, follower),
        "object": target_uri,
    });
    if let Some(id) = follow_id {
        follow["id"] = json!(id);
    }
    let activity = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{target_uri}#{}-{}", kind.to_ascii_lowercase(), state.ids.next()),
        "type": kind,
        "actor": target_uri,
        "object": follow,
    });
    Ok(Some(federate_job(state, target.id, &inbox, &activity, now)))
}

/// What a local account's action on a remote account or its status owes the remote
/// server, as a job for the action's own transaction (`None`: nothing to send).
async fn to_author(
    state: &AppState,
    sender: &Account,
    recipient: &Account,
    activity: Value,
) -> ApiResult<Option<NewJob>> {
    if sender.domain.is_some() || recipient.domain.is_none() {
        return Ok(None);
    }
    let Some(inbox) = inbox_of(state, recipient.id).await? else {
        return Ok(None);
    };
    Ok(Some(federate_job(
        state,
        sender.id,
        &inbox,
        &activity,
        time::now_millis(),
    )))
}

/// The `Like` (or, with `undo`, its `Undo`) a local account's favourite of the remote
/// status `s` sends its author.
pub async fn like_job(
    state: &AppState,
    account: Id,
    s: &StatusRecord,
    undo: bool,
) -> ApiResult<Option<NewJob>> {
    let author = state.store.account(s.account_id).await?;
    if author.domain.is_none() {
        return Ok(None);
    }
    let Some((uri, _)) = state.store.remote_status(s.id).await? else {
        return Ok(None);
    };
    let me = state.store.account(account).await?;
    let like = documents::like(state, &me, s.id, &uri);
    let activity = if undo { documents::undo(like) } else { like };
    to_author(state, &me, &author, activity).await
}

/// The `Block` (or, with `undo`, its `Undo`) a local account's block of a remote one
/// sends it.
pub async fn block_job(
    state: &AppState,
    account: Id,
    target: Id,
    undo: bool,
) -> ApiResult<Option<NewJob>> {
    let target = state.store.account(target).await?;
    if target.domain.is_none() {
        return Ok(None);
    }
    let me = state.store.account(account).await?;
    let block = documents::block(state, &me, &target);
    let activity = if undo { documents::undo(block) } else { block };
    to_author(state, &me, &target, activity).await
}

/// The `Flag` forwarding local report `report` about the remote `target` (citing
/// `statuses`, stored remote ones) to its server, signed by the instance actor, as a job
/// for the report's own transaction. `None` when the server cannot be reached.
pub async fn flag_job(
    state: &AppState,
    report: Id,
    target: &Account,
    statuses: &[Id],
    comment: &str,
) -> ApiResult<Option<NewJob>> {
    let Some(actor) = state.store.remote_actor(target.id).await? else {
        return Ok(None);
    };
    let mut ids = Vec::with_capacity(statuses.len());
    for &id in statuses {
        if let Some((uri, _)) = state.store.remote_status(id).await? {
            ids.push(uri);
        }
    }
    let activity = documents::flag(state, report, &account_uri(state, target), &ids, comment);
    let inbox = actor.shared_inbox.unwrap_or(actor.inbox);
    let payload = serde_json::to_string(&Delivery {
        inbox,
        activity: activity.to_string(),
    })
    .unwrap_or_default();
    // No signer: `deliver` signs a job without one as the instance actor.
    Ok(Some(
        NewJob::new(
            state.ids.next(),
            JobKind::Federate,
            report,
            time::now_millis(),
        )
        .carrying(payload),
    ))
}
