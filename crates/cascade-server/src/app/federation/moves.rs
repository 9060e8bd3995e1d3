//! Account migration (`Move`), the receiving side: an account elsewhere tells us it moved.
//! The move is believed only when the new account, read from its own server (or ours),
//! names the old one among the accounts it also is (`alsoKnownAs`), as Mastodon requires;
//! then the old account shows where it went, and a job written with that mark has each
//! local follower of it follow the new one instead, through the follow use case (so a remote new account is sent
//! `Follow`), and unfollows the old one. Local accounts set what they also are here
//! (`aliases`), which their actor publishes.

use cascade_core::job::JobKind;
use cascade_core::{time, Id};
use cascade_store::{Account, Job, NewJob};
use serde_json::Value;

use super::inbox::one_or_many;
use super::{domain_of, fetch, id_of, local_username, store_actor};
use crate::app::accounts;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Aliases a local account may name.
pub const MAX_ALIASES: usize = 10;
/// Characters of one alias.
const MAX_ALIAS_CHARS: usize = 2_000;
/// Followers moved per batch read.
const BATCH: usize = 500;

/// The actor ids a local account says it also is.
pub async fn aliases(state: &AppState, me: Id) -> ApiResult<Vec<String>> {
    Ok(state.store.account_aliases(me).await?)
}

/// Replaces a local account's aliases: each an http(s) URL of an actor on another server
/// (plain http only under the test-only setting that lets requests reach loopback), at
/// most `MAX_ALIASES`; 422 otherwise. Its remote followers are sent the actor again.
pub async fn set_aliases(state: &AppState, me: Id, uris: Vec<String>) -> ApiResult<Vec<String>> {
    if uris.len() > MAX_ALIASES {
        return Err(ApiError::unprocessable(format!(
            "at most {MAX_ALIASES} aliases"
        )));
    }
    let mut clean: Vec<String> = Vec::with_capacity(uris.len());
    for uri in uris {
        let uri = uri.trim().to_string();
        let scheme_ok = uri.starts_with("https://")
            || (state.config.allow_private_outgoing && uri.starts_with("http://"));
        let elsewhere =
            domain_of(&uri).is_some_and(|d| !d.eq_ignore_ascii_case(&state.config.domain));
        if !scheme_ok || !elsewhere || uri.chars().count() > MAX_ALIAS_CHARS {
            return Err(ApiError::unprocessable(format!(
                "{uri} is not the URL of an account on another server"
            )));
        }
        if !clean.contains(&uri) {
            clean.push(uri);
        }
    }
    // Its remote followers' servers are sent the actor by a job written with the change.
    let owed = [super::profile_update_job(state, me)];
    state
        .store
        .set_account_aliases(me, &clean, time::now_millis(), &owed)
        .await?;
    state.jobs.ring();
    Ok(clean)
}

/// The account an actor id names, as its own server describes it now (ours: the local
/// account and its aliases; another's: fetched and stored), with the ids it also is.
async fn target_and_aliases(state: &AppState, uri: &str) -> ApiResult<(Account, Vec<String>)> {
    if let Some(name) = local_username(state, uri) {
        let a = match state.store.account_by_username(name).await {
            Ok(a) if a.suspended_at.is_none() => a,
            Ok(_) | Err(cascade_store::StoreError::NotFound) => return Err(ApiError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let aliases = state.store.account_aliases(a.id).await?;
        return Ok((a, aliases));
    }
    let doc = fetch(state, uri).await?;
    let id = store_actor(state, uri, &doc).await?;
    let aliases = one_or_many(doc.get("alsoKnownAs"))
        .iter()
        .filter_map(id_of)
        .map(str::to_string)
        .collect();
    Ok((state.store.account(id).await?, aliases))
}

/// `old` (a remote account, the Move's actor and object) moved to `target`: believed only
/// when the target names `old` among its aliases (403 otherwise); then `old` is marked
/// moved, and a job written with the mark moves its local followers to the target
/// (`move_followers`), so the inbound request does no work sized by them.
pub async fn moved(state: &AppState, old: &Account, target: &str) -> ApiResult<()> {
    let old_uri = old.uri.as_deref().unwrap_or_default();
    if target == old_uri {
        return Ok(());
    }
    let (new, aliases) = target_and_aliases(state, target).await?;
    if !aliases.iter().any(|a| a == old_uri) {
        return Err(ApiError::Forbidden(
            "the target does not name the account among its aliases".into(),
        ));
    }
    let now = time::now_millis();
    let mut job = NewJob::new(state.ids.next(), JobKind::MoveFollowers, old.id, now);
    job.target_id = Some(new.id);
    state.store.set_moved(old.id, new.id, now, &[job]).await?;
    state.forget(crate::cluster::Forget::Account(old.id));
    Ok(())
}

/// The job of a move: the old account's local followers, a batch at a time from the
/// job's saved progress (the last follow moved), follow the new account and leave the
/// old one. Running it again moves nobody twice: a moved follower follows the old account
/// no more.
pub async fn move_followers(state: &AppState, job: &Job) -> ApiResult<()> {
    let Some(new_id) = job.target_id else {
        return Ok(());
    };
    let new = match state.store.account(new_id).await {
        Ok(a) => a,
        Err(cascade_store::StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let old = job.subject_id;
    let mut after = job.progress;
    loop {
        let batch = state.store.local_follower_batch(old, after, BATCH).await?;
        let Some(&(last, _)) = batch.last() else {
            return Ok(());
        };
        for (_, follower) in batch {
            move_follower(state, follower, old, &new).await?;
        }
        after = last;
        state.store.job_progress(job.id, after).await?;
    }
}

/// One local follower of a moved account follows the new one (unless it is the new one,
/// or blocked either way) and unfollows the old one.
async fn move_follower(state: &AppState, follower: Id, old: Id, new: &Account) -> ApiResult<()> {
    if follower != new.id {
        match accounts::follow(state, follower, new.id, true, false).await {
            Ok(_) | Err(ApiError::Forbidden(_) | ApiError::Unprocessable(_)) => {}
            Err(e) => return Err(e),
        }
    }
    accounts::unfollow(state, follower, old).await?;
    Ok(())
}

/// The account `account` moved to, if it moved (for the client API's `moved`).
pub async fn moved_to(state: &AppState, account: Id) -> ApiResult<Option<Account>> {
    match state.store.moved_to(account).await? {
        Some(id) => match state.store.account(id).await {
            Ok(a) => Ok(Some(a)),
            Err(cascade_store::StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        },
        None => Ok(None),
    }
}

/// The `Move` an activity describes, checked: its actor must be its object (an account
/// moves only itself); 403 otherwise.
pub async fn received(state: &AppState, actor: &Account, activity: &Value) -> ApiResult<()> {
    let object = activity.get("object").and_then(id_of);
    if object.is_none() || object != actor.uri.as_deref() {
        return Err(ApiError::Forbidden(
            "an account may only move itself".into(),
        ));
    }
    let Some(target) = activity.get("target").and_then(id_of) else {
        return Ok(());
    };
    moved(state, actor, target).await
}
