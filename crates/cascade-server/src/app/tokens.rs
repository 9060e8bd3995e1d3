//! Access tokens: verifying a bearer secret, listing an account's tokens, revoking one.
//!
//! Verified tokens are cached by hash so a request does not query the store, but only for
//! `Config::token_ttl`: a token revoked by another process (`cascade admin tokens
//! --revoke` beside a running server) is refused here within that time. A revocation in
//! this process forgets the token at once and closes its open streams, and so do the
//! other nodes of a cluster when told over NATS (`cluster::Forget::Token`). This module knows
//! no HTTP: the scope rules and the `Authorization` header belong to `api::auth`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cascade_core::{time, Id};
use cascade_store::{StoreError, TokenRecord};

use crate::error::{ApiError, ApiResult};
use crate::secrets::hash_secret;
use crate::state::{AppState, TokenInfo};

/// Verified tokens remembered at most, whatever their lifetime: past it the expired
/// ones go, and if that frees nothing, all of them (they are one query each to reload).
const MAX_CACHED_TOKENS: usize = 100_000;

/// Verified tokens by the hash of their secret, each believed until its deadline. A map
/// with deadlines rather than an LRU: tokens are few per user, and the bound that matters
/// is the time a revoked token may still be believed, not memory.
pub struct TokenCache {
    entries: Mutex<HashMap<String, (TokenInfo, Instant)>>,
    ttl: Duration,
}

impl TokenCache {
    pub fn new(ttl: Duration) -> TokenCache {
        TokenCache {
            entries: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    fn get(&self, hash: &str, now: Instant) -> Option<TokenInfo> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(hash)
            .filter(|(_, until)| now < *until)
            .map(|(info, _)| info.clone())
    }

    fn put(&self, info: TokenInfo, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_CACHED_TOKENS {
            entries.retain(|_, (_, until)| now < *until);
            if entries.len() >= MAX_CACHED_TOKENS {
                entries.clear();
            }
        }
        entries.insert(info.hash.clone(), (info, now + self.ttl));
    }

    /// Forgets a token, so the next request with it asks the store.
    pub fn forget(&self, id: Id) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, (info, _)| info.token_id != id);
    }

    /// Forgets every token: this node may have missed revocations (a NATS cut).
    pub fn forget_all(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// The live token whose secret this is; `Unauthorized` for an unknown or revoked one.
pub async fn verify(state: &AppState, secret: &str) -> ApiResult<TokenInfo> {
    verify_hash(state, &hash_secret(secret)).await
}

async fn verify_hash(state: &AppState, hash: &str) -> ApiResult<TokenInfo> {
    let now = Instant::now();
    if let Some(info) = state.tokens.get(hash, now) {
        return Ok(info);
    }
    let record = state.store.live_token(hash).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::Unauthorized,
        other => other.into(),
    })?;
    let info = TokenInfo {
        token_id: record.id,
        hash: record.token_hash,
        app_id: record.app_id,
        account_id: record.account_id,
        scopes: record.scopes.split(' ').map(str::to_string).collect(),
    };
    state.tokens.put(info.clone(), now);
    Ok(info)
}

/// Whether a token verified earlier still stands, as far as the cache's lifetime lets
/// this process know. A store that cannot answer is no proof of revocation: true then.
pub async fn still_live(state: &AppState, token: &TokenInfo) -> bool {
    !matches!(
        verify_hash(state, &token.hash).await,
        Err(ApiError::Unauthorized)
    )
}

/// The live token whose secret this is, with whom it was issued to, if any.
pub async fn find(state: &AppState, secret: &str) -> ApiResult<Option<TokenRecord>> {
    match state.store.live_token(&hash_secret(secret)).await {
        Ok(record) => Ok(Some(record)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// An account's live tokens, oldest first.
pub async fn of_account(state: &AppState, account: Id) -> ApiResult<Vec<TokenRecord>> {
    Ok(state.store.live_tokens_of(account).await?)
}

/// Revokes a token: the store refuses it from now on, this process forgets it and closes
/// the streams it opened. True when a live token was revoked.
pub async fn revoke(state: &AppState, id: Id) -> ApiResult<bool> {
    let revoked = state.store.revoke_token(id, time::now_millis()).await?;
    state.forget(crate::cluster::Forget::Token(id));
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: Id) -> TokenInfo {
        TokenInfo {
            token_id: id,
            hash: format!("hash{id}"),
            app_id: None,
            account_id: Some(1),
            scopes: vec!["read".into()],
        }
    }

    #[test]
    fn a_cached_token_is_believed_only_for_the_lifetime() {
        let cache = TokenCache::new(Duration::from_secs(5));
        let now = Instant::now();
        cache.put(info(7), now);
        assert!(cache.get("hash7", now + Duration::from_secs(4)).is_some());
        assert!(cache.get("hash7", now + Duration::from_secs(5)).is_none());
    }

    #[test]
    fn forgetting_a_token_drops_it_by_id() {
        let cache = TokenCache::new(Duration::from_secs(5));
        let now = Instant::now();
        cache.put(info(7), now);
        cache.put(info(8), now);
        cache.forget(7);
        assert!(cache.get("hash7", now).is_none());
        assert!(cache.get("hash8", now).is_some());
    }
}
