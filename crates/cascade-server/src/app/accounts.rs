//! Registering, describing and relating accounts.

use cascade_core::job::JobKind;
use cascade_core::{time, Id};
use std::sync::Arc;

use cascade_store::{Account, NewAccount, NewFollow, NewJob, StoreError};

use crate::app::entity;
use crate::app::federation;
use crate::app::render;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The user a login (username or email) and password name, or `None` when either is
/// wrong. Both cases cost one argon2 verification, so the time of the answer does not
/// tell whether the account exists.
pub async fn login(
    state: &AppState,
    login: &str,
    password: &str,
) -> ApiResult<Option<cascade_store::UserRecord>> {
    let user = match state.store.user_by_login(login).await {
        Ok(user) => Some(user),
        Err(StoreError::NotFound) => None,
        Err(other) => return Err(other.into()),
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = state.passwords.verify(password, hash).await;
    Ok(user.filter(|_| matches))
}

/// Checks a new account's username, email and password as Mastodon does.
pub fn validate_registration(username: &str, email: &str, password: &str) -> ApiResult<()> {
    if username.is_empty()
        || username.len() > 30
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(ApiError::unprocessable(
            "Username must contain only letters, numbers and underscores (at most 30)",
        ));
    }
    let at = email.find('@');
    if !at.is_some_and(|i| i > 0 && i + 1 < email.len()) || email.contains(char::is_whitespace) {
        return Err(ApiError::unprocessable("Email is invalid"));
    }
    if password.chars().count() < 8 || password.len() > 72 {
        return Err(ApiError::unprocessable(
            "Password must be 8 to 72 characters long",
        ));
    }
    Ok(())
}

/// Where a sign-up comes from and what it says, beyond its login.
#[derive(Debug, Default, Clone, Copy)]
pub struct SignUp<'a> {
    /// The client's address, checked against the moderators' IP blocks; `None` for an
    /// account an administrator creates (the command line), which waits for nothing.
    pub address: Option<std::net::IpAddr>,
    /// Why the person wants to join, shown to moderators when the sign-up waits.
    pub reason: Option<&'a str>,
    pub display_name: Option<&'a str>,
}

/// Creates a local user. Returns its account, which waits for a moderator's approval
/// when the server says sign-ups need it or an IP block on the address does.
pub async fn register(
    state: &AppState,
    username: &str,
    email: &str,
    password: &str,
    sign_up: SignUp<'_>,
) -> ApiResult<Account> {
    use crate::app::admin::{self, Severity};
    validate_registration(username, email, password)?;
    let severity = match sign_up.address {
        Some(ip) => state.ip_blocks.severity(state, ip).await,
        None => None,
    };
    if severity >= Some(Severity::SignUpBlock) {
        return Err(ApiError::Forbidden(
            "Sign-ups from your address are not allowed".into(),
        ));
    }
    if admin::email_blocked(state, email).await? {
        return Err(ApiError::unprocessable("Email is blocked"));
    }
    let reason = sign_up.reason.unwrap_or_default().trim();
    if reason.chars().count() > 1_000 {
        return Err(ApiError::unprocessable(
            "Reason is too long (maximum is 1000 characters)",
        ));
    }
    let waits = sign_up.address.is_some() && (state.config.approval_required || severity.is_some());
    let display_name = sign_up.display_name;
    let max_name = cascade_core::limits::MAX_DISPLAY_NAME_CHARS;
    if display_name.is_some_and(|n| n.chars().count() > max_name) {
        return Err(ApiError::unprocessable(format!(
            "Display name is too long (maximum is {max_name} characters)"
        )));
    }
    let now = time::now_millis();
    let account = NewAccount {
        id: state.ids.next(),
        username: username.to_string(),
        email: email.to_string(),
        password_hash: state
            .passwords
            .hash(password)
            .await
            .map_err(|e| ApiError::Internal(e.into()))?,
        display_name: display_name.unwrap_or_default().to_string(),
        note: String::new(),
        note_html: String::new(),
        bot: false,
        locked: false,
        created_at: now,
        pending: waits.then(|| reason.to_string()),
    };
    state
        .store
        .create_account(&account)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(what) if what == "email" => {
                ApiError::unprocessable("Email has already been taken")
            }
            StoreError::Conflict(_) => ApiError::unprocessable("Username has already been taken"),
            other => other.into(),
        })
}

/// The signed-in user's own account, with its `source` (what the settings form edits).
pub async fn credential_account(state: &AppState, me: Id) -> ApiResult<entity::Account> {
    Ok((**credentials(state, me).await?).clone())
}

/// The account as its owner sees it (`verify_credentials`), rendered once per version of
/// its record (`app::rendered`): the call every client makes at start, and again and
/// again, answers from memory with no query. A change of the defaults or of the follow
/// requests forgets the account's record, and so this rendering; the away notice, which
/// changes with the clock, is added per request.
pub async fn credentials(
    state: &AppState,
    me: Id,
) -> ApiResult<Arc<entity::Rendered<entity::Account>>> {
    let account = state
        .records
        .accounts(&state.store, &[me], std::time::Instant::now())
        .await?
        .remove(&me)
        .ok_or(StoreError::NotFound)?;
    let emojis = state.emojis.generation();
    let shared = match state.rendered.credentials(&account, emojis) {
        Some(shared) => shared,
        None => {
            let user = state.store.user(me).await?;
            let requests = state.store.count_follow_requests(me).await?;
            let mut rendered = render::account(state, &account);
            rendered.cascade_away = None;
            let fields: Vec<(String, String)> =
                serde_json::from_str(&account.fields_json).unwrap_or_default();
            rendered.source = Some(entity::Source {
                privacy: user.default_visibility,
                sensitive: user.default_sensitive,
                language: user.default_language,
                note: account.note.clone(),
                fields: fields
                    .into_iter()
                    .map(|(name, value)| entity::Field {
                        name,
                        value,
                        verified_at: None,
                    })
                    .collect(),
                follow_requests_count: requests,
                hide_collections: false,
                discoverable: account.discoverable,
                indexable: account.discoverable,
                quote_policy: "public".into(),
            });
            rendered.role = Some(serde_json::json!({
                "id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": false
            }));
            state
                .rendered
                .put_credentials(&account, emojis, entity::Rendered::new(rendered))
        }
    };
    Ok(match state.away.notice(me) {
        Some(notice) if account.suspended_at.is_none() => {
            Arc::new(entity::Rendered::new(entity::Account {
                cascade_away: Some(notice),
                ..(**shared).clone()
            }))
        }
        _ => shared,
    })
}

pub async fn relationship(state: &AppState, me: Id, target: Id) -> ApiResult<entity::Relationship> {
    let rels = relationships(state, me, &[target]).await?;
    rels.into_iter().next().ok_or(ApiError::NotFound)
}

pub async fn relationships(
    state: &AppState,
    me: Id,
    targets: &[Id],
) -> ApiResult<Vec<entity::Relationship>> {
    let rels = state
        .store
        .relationships(me, targets, time::now_millis())
        .await?;
    // The viewer's own private notes and endorsements (`app::profiles`).
    let notes: std::collections::HashMap<Id, String> = state
        .store
        .account_notes(me, targets)
        .await?
        .into_iter()
        .collect();
    let endorsed = state.store.endorsed_among(me, targets).await?;
    let domain_blocked = state.store.domain_blocked_among(me, targets).await?;
    Ok(rels
        .into_iter()
        .map(|r| entity::Relationship {
            id: r.id.to_string(),
            following: r.following,
            showing_reblogs: r.showing_reblogs,
            notifying: r.notifying,
            languages: None,
            followed_by: r.followed_by,
            blocking: r.blocking,
            blocked_by: r.blocked_by,
            muting: r.muting,
            muting_notifications: r.muting_notifications,
            muting_expires_at: r.muting_expires_at.map(time::rfc3339),
            requested: r.requested,
            requested_by: r.requested_by,
            domain_blocking: domain_blocked.contains(&r.id),
            endorsed: endorsed.contains(&r.id),
            note: notes.get(&r.id).cloned().unwrap_or_default(),
        })
        .collect())
}

/// Follows an account, or asks to when it is locked. Following again updates the options.
pub async fn follow(
    state: &AppState,
    me: Id,
    target: Id,
    reblogs: bool,
    notify: bool,
) -> ApiResult<entity::Relationship> {
    if me == target {
        return Err(ApiError::Forbidden("You cannot follow yourself".into()));
    }
    let account = state.store.account(target).await?;
    if state.store.blocked_either_way(me, target).await? {
        return Err(ApiError::Forbidden(
            "You are blocked or blocking this account".into(),
        ));
    }
    // The notification and the target's follow-back rule are the follow's job.
    follow_or_request(state, me, &account, reblogs, notify).await?;
    relationship(state, me, target).await
}

/// The followed account's follow-back rule may answer a new follow (run by the follow's
/// job; following back again changes nothing).
pub async fn apply_follow_back(state: &AppState, follower: Id, target: Id) -> ApiResult<()> {
    if crate::app::suggestions::should_follow_back(state, follower, target).await? {
        let follower = state.store.account(follower).await?;
        follow_or_request(state, target, &follower, true, false).await?;
    }
    Ok(())
}

/// Follows `account`, or asks to when it is locked; returns whether a new follow was made.
async fn follow_or_request(
    state: &AppState,
    me: Id,
    account: &Account,
    reblogs: bool,
    notify: bool,
) -> ApiResult<bool> {
    let target = account.id;
    let now = time::now_millis();
    // A new follow or request owes the followed account's notification.
    let owed = [NewJob::new(state.ids.next(), JobKind::Follow, me, now).on(target)];
    let f = NewFollow {
        id: state.ids.next(),
        from: me,
        to: target,
        reblogs,
        notify,
        now,
    };
    if account.domain.is_some() && !state.store.is_following(me, target).await? {
        // A remote account answers for itself: the request stands until its Accept
        // arrives, and owes the Follow sent to it.
        let follower = state.store.account(me).await?;
        let Some(job) = federation::follow_job(state, &follower, account, now).await? else {
            return Err(ApiError::unprocessable("The account cannot be reached"));
        };
        if state.store.request_follow(f, &[job]).await? {
            state.jobs.ring();
        }
        return Ok(false);
    }
    if account.locked && !state.store.is_following(me, target).await? {
        let new = state.store.request_follow(f, &owed).await?;
        if new {
            state.jobs.ring();
        }
        // The target's follow requests count (`verify_credentials`) moved.
        state.forget(crate::cluster::Forget::Account(target));
        Ok(false)
    } else {
        let new = state.store.follow(f, &owed).await?;
        if new {
            state.jobs.ring();
        }
        // The cached home timeline does not hold the new author's posts: rebuild it.
        state.graph_changed(&[me, target], true);
        Ok(new)
    }
}

pub async fn unfollow(state: &AppState, me: Id, target: Id) -> ApiResult<entity::Relationship> {
    let account = state.store.account(target).await?;
    if account.domain.is_some() {
        // The remote server is told, in the unfollow's own transaction.
        let follower = state.store.account(me).await?;
        let now = time::now_millis();
        let owed: Vec<NewJob> = federation::unfollow_job(state, &follower, &account, now)
            .await?
            .into_iter()
            .collect();
        state.store.unfollow_owing(me, target, &owed).await?;
        state.jobs.ring();
    } else {
        state.store.unfollow(me, target).await?;
    }
    // An endorsement needs the follow, as in Mastodon.
    state.store.unendorse(me, target, false).await?;
    state.graph_changed(&[me, target], true);
    relationship(state, me, target).await
}

/// Accepts (or rejects) `from`'s request to follow `me`; a remote requester is sent the
/// answer, in the answer's own transaction. False when there was no such request.
pub async fn answer_follow_request(
    state: &AppState,
    me: Id,
    from: Id,
    accept: bool,
) -> ApiResult<bool> {
    let now = time::now_millis();
    let requester = state.store.account(from).await?;
    let mut owed = Vec::new();
    if requester.domain.is_some() {
        let target = state.store.account(me).await?;
        let follow_id = state.store.follow_request_uri(from, me).await?;
        let kind = if accept { "Accept" } else { "Reject" };
        owed.extend(
            federation::answer_job(state, kind, &target, &requester, follow_id.as_deref(), now)
                .await?,
        );
    }
    let done = if accept {
        state
            .store
            .accept_follow_request(state.ids.next(), from, me, now, &owed)
            .await?
    } else {
        state.store.delete_follow_request(from, me, &owed).await?
    };
    if done {
        state.graph_changed(&[me, from], true);
        state.jobs.ring();
    }
    Ok(done)
}

/// Issues a new access token for an account (or, without one, for an application alone)
/// with the given space-separated scopes. Only its hash is stored; the secret is in the
/// returned entity and nowhere else.
pub async fn issue_token(
    state: &AppState,
    account: Option<Id>,
    app: Option<Id>,
    scopes: &str,
) -> ApiResult<entity::Token> {
    let secret = crate::secrets::new_secret();
    let now = time::now_millis();
    state
        .store
        .create_token(&cascade_store::TokenRecord {
            id: state.ids.next(),
            token_hash: crate::secrets::hash_secret(&secret),
            app_id: app,
            account_id: account,
            scopes: scopes.to_string(),
            created_at: now,
            revoked_at: None,
        })
        .await?;
    Ok(entity::Token {
        access_token: secret,
        token_type: "Bearer".into(),
        scope: scopes.to_string(),
        created_at: now / 1000,
    })
}

/// Ends another account's follow of `me`. A remote follower's server is sent a `Reject`
/// of the Follow, as Mastodon sends, in the unfollow's own transaction.
pub async fn remove_follower(
    state: &AppState,
    me: Id,
    follower: Id,
) -> ApiResult<entity::Relationship> {
    let account = state.store.account(follower).await?;
    if account.domain.is_some() {
        let target = state.store.account(me).await?;
        let owed: Vec<NewJob> =
            federation::answer_job(state, "Reject", &target, &account, None, time::now_millis())
                .await?
                .into_iter()
                .collect();
        state.store.unfollow_owing(follower, me, &owed).await?;
        state.jobs.ring();
    } else {
        state.store.unfollow(follower, me).await?;
    }
    state.store.unendorse(follower, me, false).await?;
    state.graph_changed(&[me, follower], true);
    relationship(state, me, follower).await
}

/// Blocks an account: follows both ways end, and nothing of either reaches the other. A
/// remote account's server is sent a Block (which ends the follows there too), written in
/// the block's own transaction, so a crash loses neither without the other.
pub async fn block(state: &AppState, me: Id, target: Id) -> ApiResult<entity::Relationship> {
    state.store.account(target).await?;
    if target == me {
        return Err(ApiError::Forbidden("You cannot block yourself".into()));
    }
    let owed: Vec<NewJob> = federation::block_job(state, me, target, false)
        .await?
        .into_iter()
        .collect();
    let new = state
        .store
        .block(state.ids.next(), me, target, time::now_millis(), &owed)
        .await?;
    // Both follows ended, and the endorsements with them.
    state.store.unendorse(me, target, true).await?;
    state.graph_changed(&[me, target], true);
    if new && !owed.is_empty() {
        state.jobs.ring();
    }
    relationship(state, me, target).await
}

/// Lifts a block; a remote account's server is sent the Undo of the Block, in the same
/// transaction, when there was a block to lift.
pub async fn unblock(state: &AppState, me: Id, target: Id) -> ApiResult<entity::Relationship> {
    state.store.account(target).await?;
    let owed: Vec<NewJob> = federation::block_job(state, me, target, true)
        .await?
        .into_iter()
        .collect();
    if state.store.unblock(me, target, &owed).await? && !owed.is_empty() {
        state.jobs.ring();
    }
    state.graph_changed(&[me, target], false);
    relationship(state, me, target).await
}

/// Mutes an account, for `duration` seconds when given (0 or none: until unmuted).
pub async fn mute(
    state: &AppState,
    me: Id,
    target: Id,
    notifications: bool,
    duration: Option<i64>,
) -> ApiResult<entity::Relationship> {
    state.store.account(target).await?;
    if target == me {
        return Err(ApiError::Forbidden("You cannot mute yourself".into()));
    }
    let now = time::now_millis();
    let expires = match duration {
        Some(d) if d < 0 => return Err(ApiError::unprocessable("Duration must not be negative")),
        Some(d) if d > 0 => Some(now + d.min(i64::MAX / 2000) * 1000),
        _ => None,
    };
    state
        .store
        .mute(state.ids.next(), me, target, notifications, expires, now)
        .await?;
    state.graph_changed(&[me], false);
    relationship(state, me, target).await
}

pub async fn unmute(state: &AppState, me: Id, target: Id) -> ApiResult<entity::Relationship> {
    state.store.account(target).await?;
    state.store.unmute(me, target).await?;
    state.graph_changed(&[me], false);
    relationship(state, me, target).await
}

/// Suspends an account (`cascade admin suspend`) or, with `suspended: false`, lifts the
/// suspension; false when there is no such account. Nothing is deleted: rendering and
/// token verification read `suspended_at` from the account's record (`app::render`,
/// `api::auth::resolve_token`), so the account's posts, profile and logins vanish and come
/// back together. This process forgets the record at once; any other process serving the
/// same store notices within its record cache's TTL.
pub async fn suspend(state: &AppState, account: Id, suspended: bool) -> ApiResult<bool> {
    let at = suspended.then(time::now_millis);
    let found = state.store.set_suspended(account, at).await?;
    state.forget(crate::cluster::Forget::Account(account));
    Ok(found)
}

/// Checks the display name and note a person sets (core's bounds) and renders the note,
/// into `update`; `None` leaves a value as it is.
pub fn profile_text(
    state: &AppState,
    update: &mut cascade_store::AccountUpdate,
    display_name: Option<String>,
    note: Option<String>,
) -> ApiResult<()> {
    use cascade_core::limits;
    if let Some(name) = display_name {
        if name.chars().count() > limits::MAX_DISPLAY_NAME_CHARS {
            return Err(ApiError::unprocessable(format!(
                "Display name is too long (maximum is {} characters)",
                limits::MAX_DISPLAY_NAME_CHARS
            )));
        }
        update.display_name = Some(name);
    }
    if let Some(note) = note {
        if note.chars().count() > limits::MAX_NOTE_CHARS {
            return Err(ApiError::unprocessable(format!(
                "Note is too long (maximum is {} characters)",
                limits::MAX_NOTE_CHARS
            )));
        }
        let html = cascade_core::text::render_html(
            &note,
            |_, _| None,
            |t| state.url(&format!("/tags/{}", t.to_lowercase())),
        );
        update.note = Some((note, html));
    }
    Ok(())
}

/// Writes a checked profile update and forgets the cached record; answers the account
/// as its owner sees it.
pub async fn update_profile(
    state: &AppState,
    me: Id,
    update: &cascade_store::AccountUpdate,
) -> ApiResult<entity::Account> {
    // Remote followers' servers keep a copy of the profile: they are sent the new one, by
    // a job written with the change.
    let owed = [federation::profile_update_job(state, me)];
    state.store.update_account(me, update, &owed).await?;
    state.forget(crate::cluster::Forget::Account(me));
    state.jobs.ring();
    credential_account(state, me).await
}
