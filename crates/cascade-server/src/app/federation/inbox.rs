//! Activities POSTed to our inboxes. Each is verified before anything is read from it:
//! the HTTP Signature must cover the request target, host, date and digest, the date must
//! be within `MAX_DATE_SKEW_MS`, the digest must match the body, and the key must be the
//! signing actor's own, fetched from its server (cached, fetched again once when a
//! signature fails, for a rotated key). Then an activity may only act on what its actor
//! owns: a Create, Update or Delete of someone else's note (or an Update of another
//! actor, or the Undo of another's activity) is refused. Announce, Like and Block go
//! through the use cases a local account's reblog, favourite and block go through, with
//! the remote account as the viewer, so their rules and consequences are the same.
//! Activities are applied in the request (the peer retries on failure); what they owe
//! locally (notifications, fan-out) is written as jobs with them.

use std::collections::BTreeMap;

use cascade_core::activitypub::{self, SignatureError};
use cascade_core::job::JobKind;
use cascade_core::{text, time, Id, Visibility};
use cascade_store::{Account, EditRecord, Mark, NewFollow, NewJob, RemoteActor, StatusRecord};
use serde_json::Value;

use super::{
    answer_job, domain_of, fetch, fetch_actor, id_of, local_username, objects, render_remote_text,
    REFETCH_AFTER_MS,
};
use crate::app::{accounts, delivery, statuses, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::httpsig;
use crate::state::AppState;

/// Bytes of one inbound activity: Mastodon's notes with many tags and mentions stay well
/// below it.
pub const MAX_ACTIVITY_BYTES: usize = 256 * 1024;
/// Characters of a remote status's text we keep (Mastodon peers allow 500, others more).
const MAX_REMOTE_TEXT_CHARS: usize = 20_000;

/// A request to an inbox as the handler received it.
pub struct Signed<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    /// Header names lowercase; repeated headers joined with ", ".
    pub headers: &'a BTreeMap<String, String>,
    pub body: &'a [u8],
}

fn refused(why: impl std::fmt::Display) -> ApiError {
    ApiError::AuthRequired(format!("Request not signed correctly: {why}"))
}

/// Verifies a request's signature and returns the remote account that signed it. Nothing
/// is stored on a failure except (when the key was unknown) the signer's actor document,
/// which is what its server published.
pub async fn verify(state: &AppState, req: &Signed<'_>) -> ApiResult<Account> {
    let header = req
        .headers
        .get("signature")
        .ok_or_else(|| refused("no Signature header"))?;
    let sig = activitypub::parse_signature(header).map_err(refused)?;
    sig.require(!req.body.is_empty() || req.method == "POST")
        .map_err(refused)?;
    let date = req
        .headers
        .get("date")
        .and_then(|d| activitypub::parse_http_date(d))
        .ok_or_else(|| refused("no readable Date"))?;
    if !activitypub::date_is_fresh(date, time::now_millis()) {
        return Err(refused("the Date is too far from now"));
    }
    if req.method == "POST" {
        let digest = req
            .headers
            .get("digest")
            .ok_or_else(|| refused("no Digest"))?;
        if !httpsig::digest_matches(digest, req.body) {
            return Err(refused("the Digest does not match the body"));
        }
    }
    let text = activitypub::signing_string(req.method, req.path_and_query, &sig.headers, |h| {
        req.headers.get(h).cloned()
    })
    .map_err(|e: SignatureError| refused(e))?;
    let (mut actor, mut fresh) = match state.store.remote_actor_by_key(&sig.key_id).await? {
        Some(a) => (a, false),
        None => (fetch_key_owner(state, &sig.key_id).await?, true),
    };
    loop {
        let key =
            httpsig::public_key(&actor.public_key_pem).map_err(|_| refused("an unusable key"))?;
        if httpsig::verify(&key, &text, &sig.signature) {
            if req.method == "POST" {
                first_time(state, &sig.signature, date).await?;
            }
            return Ok(state.store.account(actor.account_id).await?);
        }
        // The actor may have rotated its key: fetch it once more, not too often.
        if fresh || time::now_millis() - actor.fetched_at < REFETCH_AFTER_MS {
            return Err(refused("the signature does not verify"));
        }
        actor = fetch_key_owner(state, &sig.key_id).await?;
        fresh = true;
    }
}

/// Refuses a signed POST already received (a replay): its signature is kept until its
/// `Date` is too old to be accepted anyway.
async fn first_time(state: &AppState, signature: &str, date_ms: i64) -> ApiResult<()> {
    use sha2::{Digest, Sha256};
    let digest: String = Sha256::digest(signature.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let until = date_ms + activitypub::MAX_DATE_SKEW_MS + 60_000;
    if state.store.note_signature(&digest, until).await? {
        Ok(())
    } else {
        Err(refused("this request was already received (a replay)"))
    }
}

/// Forgets the signatures too old to be replayed (run with the hourly sweeps).
pub async fn sweep_signatures(state: &AppState, now: i64) -> ApiResult<u64> {
    Ok(state.store.sweep_signatures(now).await?)
}

/// Fetches the actor a key id names (`…/users/alice#main-key`: the actor's document, or a
/// key document naming its `owner`), stores it and returns its key.
async fn fetch_key_owner(state: &AppState, key_id: &str) -> ApiResult<RemoteActor> {
    let url = key_id.split('#').next().unwrap_or(key_id);
    if domain_of(url).is_none_or(|d| d.eq_ignore_ascii_case(&state.config.domain)) {
        return Err(refused("the key is not a remote actor's"));
    }
    let doc = fetch(state, url)
        .await
        .map_err(|e| refused(format!("the key could not be fetched ({e})")))?;
    let actor_uri = match doc.get("owner").and_then(Value::as_str) {
        Some(owner) if doc.get("publicKeyPem").is_some() => owner.to_string(),
        _ => url.to_string(),
    };
    let id = fetch_actor(state, &actor_uri)
        .await
        .map_err(|e| refused(format!("the actor could not be fetched ({e})")))?;
    let actor = state
        .store
        .remote_actor(id)
        .await?
        .ok_or_else(|| refused("the actor has no key"))?;
    if actor.key_id != key_id {
        return Err(refused("the key is not the actor's"));
    }
    Ok(actor)
}

/// Verifies and applies one activity POSTed to an inbox.
pub async fn receive(state: &AppState, req: &Signed<'_>) -> ApiResult<()> {
    if req.body.len() > MAX_ACTIVITY_BYTES {
        return Err(ApiError::TooLarge);
    }
    let signer = verify(state, req).await?;
    let domain = signer.domain.as_deref().unwrap_or_default();
    if state.federation.domains.suspended(state, domain).await? {
        return Err(ApiError::Forbidden(format!(
            "{domain} is blocked by this server"
        )));
    }
    let activity: Value = serde_json::from_slice(req.body)
        .map_err(|_| ApiError::BadRequest("the activity is not JSON".into()))?;
    let actor = activity.get("actor").and_then(id_of).unwrap_or_default();
    if signer.uri.as_deref() != Some(actor) {
        return Err(refused("the activity's actor is not the signer"));
    }
    apply(state, &signer, &activity).await
}

async fn apply(state: &AppState, actor: &Account, activity: &Value) -> ApiResult<()> {
    let object = activity.get("object").cloned().unwrap_or(Value::Null);
    match activity
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "Follow" => followed(state, actor, activity).await,
        "Accept" => answered(state, actor, &object, true).await,
        "Reject" => answered(state, actor, &object, false).await,
        "Undo" => undone(state, actor, &object).await,
        "Create" => created(state, actor, &object).await,
        "Delete" => deleted(state, actor, &object).await,
        "Announce" => announced(state, actor, activity).await,
        "Like" => liked(state, actor, &object).await,
        "Update" => updated(state, actor, &object).await,
        "Block" => blocked(state, actor, &object).await,
        "Flag" => flagged(state, actor, activity).await,
        "Move" => super::moves::received(state, actor, activity).await,
        // Not applied yet (docs/FEDERATION.md); accepted so that the peer does not retry.
        _ => Ok(()),
    }
}

/// The local account an actor id of ours names.
async fn local_account(state: &AppState, uri: Option<&str>) -> ApiResult<Option<Account>> {
    let Some(name) = uri.and_then(|u| local_username(state, u)) else {
        return Ok(None);
    };
    match state.store.account_by_username(name).await {
        Ok(a) if a.suspended_at.is_none() => Ok(Some(a)),
        Ok(_) | Err(cascade_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A remote account follows a local one: a follow (answered with Accept), or a request
/// when the account is locked (answered when it decides). A blocked follower is rejected.
async fn followed(state: &AppState, actor: &Account, activity: &Value) -> ApiResult<()> {
    let Some(target) = local_account(state, activity.get("object").and_then(id_of)).await? else {
        return Ok(());
    };
    let follow_id = activity.get("id").and_then(Value::as_str);
    let now = time::now_millis();
    if state.store.blocked_either_way(actor.id, target.id).await? {
        let reject = answer_job(state, "Reject", &target, actor, follow_id, now).await?;
        state
            .store
            .enqueue_jobs(&reject.into_iter().collect::<Vec<_>>())
            .await?;
        state.jobs.ring();
        return Ok(());
    }
    let f = NewFollow {
        id: state.ids.next(),
        from: actor.id,
        to: target.id,
        reblogs: true,
        notify: false,
        now,
    };
    let notice = NewJob::new(state.ids.next(), JobKind::Follow, actor.id, now).on(target.id);
    if target.locked && !state.store.is_following(actor.id, target.id).await? {
        state.store.request_follow(f, &[notice]).await?;
        if let Some(uri) = follow_id {
            state
                .store
                .set_follow_request_uri(actor.id, target.id, uri)
                .await?;
        }
    } else {
        let accept = answer_job(state, "Accept", &target, actor, follow_id, now).await?;
        let mut owed = vec![notice];
        owed.extend(accept.clone());
        if !state.store.follow(f, &owed).await? {
            // Following already: the peer lost our Accept, so it gets another.
            state
                .store
                .enqueue_jobs(&accept.into_iter().collect::<Vec<_>>())
                .await?;
        }
        state.graph_changed(&[actor.id, target.id], true);
    }
    state.jobs.ring();
    Ok(())
}

/// The local follower a Follow (embedded, or only its id) names: its `actor`, or the
/// account whose id begins ours (`…/users/NAME/follows/…`).
async fn follower_of(state: &AppState, follow: &Value) -> ApiResult<Option<Account>> {
    let named = follow
        .get("actor")
        .and_then(id_of)
        .or_else(|| follow.as_str());
    local_account(state, named).await
}

/// A remote account accepts or rejects a local account's Follow.
async fn answered(
    state: &AppState,
    actor: &Account,
    follow: &Value,
    accepted: bool,
) -> ApiResult<()> {
    let Some(follower) = follower_of(state, follow).await? else {
        return Ok(());
    };
    // Only an answer about following the answering actor counts.
    if let Some(object) = follow.get("object").and_then(id_of) {
        if actor.uri.as_deref() != Some(object) {
            return Err(ApiError::Forbidden(
                "the answer is about another account".into(),
            ));
        }
    }
    let now = time::now_millis();
    if accepted {
        state
            .store
            .accept_follow_request(state.ids.next(), follower.id, actor.id, now, &[])
            .await?;
    } else {
        state.store.unfollow(follower.id, actor.id).await?;
    }
    state.graph_changed(&[follower.id, actor.id], true);
    Ok(())
}

/// A remote account takes back its Follow, Announce, Like or Block.
async fn undone(state: &AppState, actor: &Account, object: &Value) -> ApiResult<()> {
    match object.get("type").and_then(Value::as_str) {
        Some("Follow") => {}
        Some("Announce") => return unannounced(state, actor, object).await,
        Some("Like") => return unliked(state, actor, object).await,
        Some("Block") => return unblocked(state, actor, object).await,
        // Only an id: of what we keep, only a reblog is found by its activity's id.
        None => return unannounced(state, actor, object).await,
        _ => return Ok(()),
    }
    if object.get("actor").and_then(id_of) != actor.uri.as_deref() {
        return Err(ApiError::Forbidden("the Follow is another actor's".into()));
    }
    let Some(target) = local_account(state, object.get("object").and_then(id_of)).await? else {
        return Ok(());
    };
    state.store.unfollow(actor.id, target.id).await?;
    state.graph_changed(&[actor.id, target.id], true);
    Ok(())
}

/// The values of a property, which JSON-LD writes as one value or a list of them (Fedify
/// sends a lone `tag` as an object, Mastodon as a list of one).
pub(super) fn one_or_many(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::Array(list)) => list,
        Some(one) => std::slice::from_ref(one),
        None => &[],
    }
}

/// The ids of an addressing field (`to`, `cc`): one or a list, each an id or an object.
pub(super) fn addresses(v: Option<&Value>) -> Vec<String> {
    one_or_many(v)
        .iter()
        .filter_map(id_of)
        .map(str::to_string)
        .collect()
}

/// A remote note, stored when a local account follows its author or it mentions one. A
/// Create naming its note by id alone is fetched from the actor's server (and must be the
/// actor's own, public or unlisted); a reply's missing parents are fetched too
/// (`objects::ancestors`), so the thread is whole here.
async fn created(state: &AppState, actor: &Account, object: &Value) -> ApiResult<()> {
    let fetched;
    let note = match object.as_str() {
        Some(uri) => {
            if domain_of(uri) != actor.domain {
                return Err(ApiError::Forbidden("the note is not the actor's".into()));
            }
            if state.store.status_by_uri(uri).await?.is_some() {
                return Ok(());
            }
            fetched = match objects::fetch_note(state, uri).await {
                Ok(f) => f.note,
                Err(e @ ApiError::Internal(_)) => return Err(e),
                Err(e) => {
                    tracing::info!(%uri, error = %e, "a Create's note could not be fetched");
                    return Ok(());
                }
            };
            &fetched
        }
        None => object,
    };
    if !matches!(
        note.get("type").and_then(Value::as_str),
        Some("Note" | "Article" | "Question")
    ) {
        return Ok(());
    }
    let uri = owned_note_uri(actor, note)?;
    if state.store.status_by_uri(uri).await?.is_some() {
        return Ok(());
    }
    let remote = state.store.remote_actor(actor.id).await?;
    let to = addresses(note.get("to"));
    let cc = addresses(note.get("cc"));
    let followers = remote.as_ref().and_then(|r| r.followers_url.as_deref());
    let visibility = activitypub::visibility_of(&to, &cc, followers);
    let mentions = local_mentions(state, note).await?;
    let followed = state.store.follower_batch(actor.id, 0, 1).await?;
    if followed.is_empty() && mentions.is_empty() {
        // Nobody here asked for it.
        return Ok(());
    }
    let in_reply_to = match note.get("inReplyTo").and_then(id_of) {
        Some(parent) => objects::ancestors(state, parent).await?,
        None => None,
    };
    objects::store_note(
        state,
        actor,
        note,
        visibility,
        in_reply_to.as_ref(),
        mentions,
    )
    .await?;
    Ok(())
}

/// A status an id names: one of ours (`…/users/NAME/statuses/ID`) or a stored remote one.
pub(super) async fn local_or_known_status(
    state: &AppState,
    uri: &str,
) -> ApiResult<Option<StatusRecord>> {
    let id = match state.store.status_by_uri(uri).await? {
        Some(id) => Some(id),
        None => uri
            .strip_prefix(&state.url("/users/"))
            .and_then(|rest| rest.split_once("/statuses/"))
            .and_then(|(_, id)| id.parse::<Id>().ok()),
    };
    let Some(id) = id else { return Ok(None) };
    match state.store.status(id).await {
        Ok(s) => Ok(Some(s)),
        Err(cascade_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A remote status deleted by its author. A Delete of anything else the actor does not
/// own is refused; of the actor itself (an account deletion), not applied yet.
async fn deleted(state: &AppState, actor: &Account, object: &Value) -> ApiResult<()> {
    let Some(uri) = id_of(object) else {
        return Ok(());
    };
    let Some(id) = state.store.status_by_uri(uri).await? else {
        return Ok(());
    };
    let s = state.store.status(id).await?;
    if s.account_id != actor.id {
        return Err(ApiError::Forbidden("the status is not the actor's".into()));
    }
    let job = delivery::delete_job(state, &s, time::now_millis()).await?;
    let deleted = state.store.delete_status(id, &[job]).await?;
    state.forget(crate::cluster::Forget::Deleted(
        crate::cluster::Written::deleted(&deleted),
    ));
    state.jobs.ring();
    Ok(())
}

/// Refuses an embedded activity (the object of an Undo) that is not the actor's own.
fn own(actor: &Account, activity: &Value) -> ApiResult<()> {
    match activity.get("actor").and_then(id_of) {
        Some(by) if actor.uri.as_deref() != Some(by) => Err(ApiError::Forbidden(
            "the activity is another actor's".into(),
        )),
        _ => Ok(()),
    }
}

/// What a use case answers when the remote account may not do what it asked (the status
/// is not one it may see or reshare): the activity is dropped, as Mastodon drops it.
fn dropped(result: ApiResult<impl Sized>) -> ApiResult<()> {
    match result {
        Ok(_) | Err(ApiError::NotFound | ApiError::Forbidden(_) | ApiError::Unprocessable(_)) => {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// A remote account reblogs a status we have (a local one, or a remote one we stored):
/// the reblog is written by the reblog use case, as the account's own, so it counts,
/// notifies, reaches the account's local followers and joins the post's cascade as a
/// local reblog does. A status we do not have is fetched from its server
/// (`objects::resolve_note`) when someone here follows the booster; an Announce of a
/// remote status by an account nobody here follows is dropped.
async fn announced(state: &AppState, actor: &Account, activity: &Value) -> ApiResult<()> {
    let Some(object) = activity.get("object").and_then(id_of) else {
        return Ok(());
    };
    let announce = activity.get("id").and_then(Value::as_str);
    if announce.is_some_and(|id| domain_of(id) != actor.domain) {
        return Err(ApiError::Forbidden(
            "the Announce is not the actor's".into(),
        ));
    }
    // A boost of a remote status reaches no one here unless someone follows the booster:
    // only then is it kept, and only then is an unknown original fetched.
    let followed = !state.store.follower_batch(actor.id, 0, 1).await?.is_empty();
    let original = match local_or_known_status(state, object).await? {
        Some(s) => s,
        None if followed => match objects::resolve_note(state, object).await {
            Ok(Some(s)) => s,
            Ok(None) => return Ok(()),
            Err(e @ ApiError::Internal(_)) => return Err(e),
            Err(e) => {
                tracing::info!(%object, error = %e, "an Announce's note could not be fetched");
                return Ok(());
            }
        },
        None => return Ok(()),
    };
    let author = state.store.account(original.account_id).await?;
    if author.domain.is_some() && !followed {
        return Ok(());
    }
    let followers = state
        .store
        .remote_actor(actor.id)
        .await?
        .and_then(|r| r.followers_url);
    let visibility = activitypub::visibility_of(
        &addresses(activity.get("to")),
        &addresses(activity.get("cc")),
        followers.as_deref(),
    );
    if visibility == Visibility::Direct {
        return Ok(());
    }
    let viewer = Viewer::load(state, Some(actor.id)).await?;
    dropped(
        statuses::write_reblog(
            state,
            &viewer,
            original.id,
            Some(visibility.as_str()),
            announce,
        )
        .await,
    )
}

/// A remote account takes back its reblog: the Announce embedded (its object names the
/// original) or only its id (the id the reblog was stored under).
async fn unannounced(state: &AppState, actor: &Account, announce: &Value) -> ApiResult<()> {
    own(actor, announce)?;
    let mut original = None;
    if let Some(uri) = id_of(announce) {
        if let Some(id) = state.store.status_by_uri(uri).await? {
            let s = state.store.status(id).await?;
            if s.account_id != actor.id {
                return Err(ApiError::Forbidden("the reblog is another actor's".into()));
            }
            original = s.reblog_of_id;
        }
    }
    if original.is_none() {
        if let Some(uri) = announce.get("object").and_then(id_of) {
            original = local_or_known_status(state, uri).await?.map(|s| s.id);
        }
    }
    let Some(original) = original else {
        return Ok(());
    };
    if state.store.reblog_by(actor.id, original).await?.is_none() {
        return Ok(());
    }
    let viewer = Viewer::load(state, Some(actor.id)).await?;
    dropped(statuses::unreblog(state, &viewer, original).await)
}

/// The local status a Like (or its Undo) names, if it is ours: likes of other servers'
/// statuses are theirs to count.
async fn liked_status(state: &AppState, like: &Value) -> ApiResult<Option<StatusRecord>> {
    let Some(uri) = id_of(like) else {
        return Ok(None);
    };
    let Some(s) = local_or_known_status(state, uri).await? else {
        return Ok(None);
    };
    let author = state.store.account(s.account_id).await?;
    Ok(author.domain.is_none().then_some(s))
}

/// A remote account favourites a local status, through the favourite use case: counted,
/// and its author notified under the usual policy.
async fn liked(state: &AppState, actor: &Account, object: &Value) -> ApiResult<()> {
    let Some(s) = liked_status(state, object).await? else {
        return Ok(());
    };
    let viewer = Viewer::load(state, Some(actor.id)).await?;
    dropped(statuses::mark(state, &viewer, s.id, Mark::Favourite).await)
}

/// A remote account takes back its favourite.
async fn unliked(state: &AppState, actor: &Account, like: &Value) -> ApiResult<()> {
    own(actor, like)?;
    let Some(object) = like.get("object") else {
        return Ok(());
    };
    let Some(s) = liked_status(state, object).await? else {
        return Ok(());
    };
    let viewer = Viewer::load(state, Some(actor.id)).await?;
    dropped(statuses::unmark(state, &viewer, s.id, Mark::Favourite).await)
}

/// A remote account blocks a local one: recorded as a block (so nothing of either reaches
/// the other here either), which ends the follows both ways. As Mastodon does, the
/// blocked account is not told.
async fn blocked(state: &AppState, actor: &Account, object: &Value) -> ApiResult<()> {
    let Some(target) = local_account(state, id_of(object)).await? else {
        return Ok(());
    };
    accounts::block(state, actor.id, target.id).await?;
    Ok(())
}

/// Ids a Flag may name: the reported account and the statuses cited.
const MAX_FLAGGED_OBJECTS: usize = 100;
/// Characters of a forwarded report's comment we keep (Mastodon's limit on reports).
const MAX_FLAG_COMMENT_CHARS: usize = 1_000;

/// A peer's report about a local account (a `Flag`, usually from its instance actor):
/// kept as a report for our moderators, by the sending actor, so its server is the
/// origin they see, citing the statuses of that account it names. A moderator's domain
/// block with `reject_reports` drops it; a Flag naming no local account is dropped.
async fn flagged(state: &AppState, actor: &Account, activity: &Value) -> ApiResult<()> {
    let domain = actor.domain.as_deref().unwrap_or_default();
    if state
        .federation
        .domains
        .on(state, domain)
        .await?
        .is_some_and(|b| b.reject_reports)
    {
        return Ok(());
    }
    let named: Vec<&str> = one_or_many(activity.get("object"))
        .iter()
        .filter_map(id_of)
        .take(MAX_FLAGGED_OBJECTS)
        .collect();
    let mut target = None;
    let mut cited = Vec::new();
    for uri in &named {
        // A status first: its id names its author's actor too (`…/users/NAME/statuses/ID`).
        if let Some(s) = local_or_known_status(state, uri).await? {
            cited.push(s);
        } else if let Some(a) = local_account(state, Some(*uri)).await? {
            target.get_or_insert(a);
        }
    }
    // A Flag naming only statuses reports their author.
    if target.is_none() {
        if let Some(s) = cited.first() {
            target = local_account_by_id(state, s.account_id).await?;
        }
    }
    let Some(target) = target else {
        return Ok(());
    };
    let status_ids: Vec<String> = cited
        .iter()
        .filter(|s| s.account_id == target.id && s.reblog_of_id.is_none())
        .map(|s| s.id.to_string())
        .collect();
    let comment: String = activitypub::html_to_text(
        activity
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    )
    .chars()
    .take(MAX_FLAG_COMMENT_CHARS)
    .collect();
    let report = cascade_store::ReportRecord {
        id: state.ids.next(),
        account_id: actor.id,
        target_account_id: target.id,
        category: "other".into(),
        comment,
        status_ids: status_ids.join(","),
        created_at: time::now_millis(),
    };
    state.store.create_report(&report, &[]).await?;
    state.forget(crate::cluster::Forget::Spam(target.id));
    Ok(())
}

/// A local, unsuspended account by id.
async fn local_account_by_id(state: &AppState, id: Id) -> ApiResult<Option<Account>> {
    let a = state.store.account(id).await?;
    Ok((a.domain.is_none() && a.suspended_at.is_none()).then_some(a))
}

/// A remote account lifts its block of a local one.
async fn unblocked(state: &AppState, actor: &Account, block: &Value) -> ApiResult<()> {
    own(actor, block)?;
    let Some(target) = local_account(state, block.get("object").and_then(id_of)).await? else {
        return Ok(());
    };
    accounts::unblock(state, actor.id, target.id).await?;
    Ok(())
}

/// A remote account changed a note of its own or its profile. Anything else it names is
/// refused.
async fn updated(state: &AppState, actor: &Account, object: &Value) -> ApiResult<()> {
    match object.get("type").and_then(Value::as_str) {
        Some("Note" | "Article" | "Question") => note_updated(state, actor, object).await,
        Some("Person" | "Service" | "Application" | "Group" | "Organization") => {
            let uri = id_of(object).unwrap_or_default();
            if actor.uri.as_deref() != Some(uri) {
                return Err(ApiError::Forbidden("the actor is another one".into()));
            }
            // The profile is read again from the actor's own server, as when it was first
            // fetched, rather than taken from the activity.
            fetch_actor(state, uri).await?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The text, content warning and sensitive flag of a remote note, as Cascade keeps them.
pub(super) fn note_text(note: &Value) -> (String, String, bool) {
    let content = note
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let text: String = activitypub::html_to_text(content)
        .chars()
        .take(MAX_REMOTE_TEXT_CHARS)
        .collect();
    let spoiler: String = note
        .get("summary")
        .and_then(Value::as_str)
        .map(activitypub::html_to_text)
        .unwrap_or_default()
        .chars()
        .take(1_000)
        .collect();
    let sensitive = note
        .get("sensitive")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    (text, spoiler, sensitive)
}

/// The local accounts a remote note mentions.
pub(super) async fn local_mentions(state: &AppState, note: &Value) -> ApiResult<Vec<Id>> {
    let mut mentions: Vec<Id> = Vec::new();
    for tag in one_or_many(note.get("tag")) {
        if tag.get("type").and_then(Value::as_str) == Some("Mention") {
            if let Some(a) = local_account(state, tag.get("href").and_then(Value::as_str)).await? {
                mentions.push(a.id);
            }
        }
    }
    mentions.sort_unstable();
    mentions.dedup();
    Ok(mentions)
}

/// A note's id, when the note is attributed to `actor` and lives on its server: 400
/// without an id, 403 for someone else's note.
fn owned_note_uri<'a>(actor: &Account, note: &'a Value) -> ApiResult<&'a str> {
    let uri = note
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::BadRequest("the note has no id".into()))?;
    let author = note.get("attributedTo").and_then(id_of);
    if author != actor.uri.as_deref() || domain_of(uri) != actor.domain {
        return Err(ApiError::Forbidden("the note is not the actor's".into()));
    }
    Ok(uri)
}

/// A stored remote note edited by its author: its text, content warning and sensitive
/// flag are replaced, and the version before joins its history, as a local edit's does;
/// the status's `Edit` job then reindexes it, notifies who reshared it and streams
/// `status.update`. An Update that changes nothing (a repeat) writes nothing; one of a
/// note we never stored is dropped.
async fn note_updated(state: &AppState, actor: &Account, note: &Value) -> ApiResult<()> {
    let uri = owned_note_uri(actor, note)?;
    let Some(id) = state.store.status_by_uri(uri).await? else {
        return Ok(());
    };
    let s = state.store.status(id).await?;
    if s.account_id != actor.id || s.reblog_of_id.is_some() {
        return Err(ApiError::Forbidden("the status is not the actor's".into()));
    }
    let (text, spoiler, sensitive) = note_text(note);
    if text == s.text && spoiler == s.spoiler_text && sensitive == s.sensitive {
        return Ok(());
    }
    let now = time::now_millis();
    let edited_at = note
        .get("updated")
        .and_then(Value::as_str)
        .and_then(time::parse_rfc3339)
        .map_or(now, |t| t.min(now).max(s.created_at));
    let original = EditRecord::original(state.ids.next(), &s, None, String::new());
    let tags: Vec<(Id, String)> = text::hashtags(&text)
        .into_iter()
        .map(|t| (state.ids.next(), t))
        .collect();
    let edit = EditRecord {
        id: state.ids.next(),
        status_id: id,
        content_html: render_remote_text(state, &text),
        text,
        spoiler_text: spoiler,
        sensitive,
        created_at: edited_at,
        poll_options: None,
        media_ids: String::new(),
    };
    let mentions = local_mentions(state, note).await?;
    let job = NewJob::new(state.ids.next(), JobKind::Edit, id, now);
    state
        .store
        .edit_status(&edit, &original, &mentions, &tags, None, &[job])
        .await?;
    state.forget(crate::cluster::Forget::Status(id));
    state.jobs.ring();
    Ok(())
}
