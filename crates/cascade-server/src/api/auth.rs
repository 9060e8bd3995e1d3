//! Bearer-token authentication and scope checks.
//!
//! Tokens are random 256-bit strings handed to the client once; the store keeps only their
//! SHA-256, so a leaked database grants no access. A request with an `Authorization` header
//! that names no live token is refused with 401 even on public endpoints, as Mastodon does.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use cascade_core::Id;

pub use crate::secrets::{hash_secret, new_secret};

use crate::error::ApiError;
use crate::state::{AppState, TokenInfo};

/// Scopes an application may ask for: Mastodon's top-level and granular scopes.
pub const KNOWN_SCOPES: &[&str] = &[
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
    "admin:read",
    "admin:write",
];

/// Splits and validates a scope string. Unknown scopes are a 422... as Mastodon's
/// `invalid_scope`; an empty string means `read`.
pub fn parse_scopes(text: &str) -> Result<Vec<String>, String> {
    let scopes: Vec<String> = text
        .split([' ', '+', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = scopes.iter().find(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
        return Err(format!(
            "The requested scope is invalid, unknown, or malformed: {bad}"
        ));
    }
    Ok(if scopes.is_empty() {
        vec!["read".into()]
    } else {
        scopes
    })
}

/// Whether `granted` covers `required`: the scope itself, its top-level parent
/// (`read` covers `read:statuses`), or the legacy `follow` scope for the graph scopes.
pub fn covers(granted: &[String], required: &str) -> bool {
    granted.iter().any(|g| {
        g == required
            || required
                .strip_prefix(g.as_str())
                .is_some_and(|rest| rest.starts_with(':'))
            || (g == "follow"
                && matches!(
                    required,
                    "read:blocks"
                        | "write:blocks"
                        | "read:follows"
                        | "write:follows"
                        | "read:mutes"
                        | "write:mutes"
                ))
            || (required == "profile" && (g == "read" || g == "read:accounts"))
    })
}

/// The caller: anonymous, an application, or a user through an application.
pub struct Auth(pub Option<TokenInfo>);

impl Auth {
    /// The user behind the token, if it has `scope`. 401 without a token, 422 for an
    /// application token (Mastodon's "This method requires an authenticated user"), 403
    /// when the scope is missing.
    pub fn user(&self, scope: &str) -> Result<Id, ApiError> {
        let token = self.0.as_ref().ok_or(ApiError::Unauthorized)?;
        let account = token
            .account_id
            .ok_or_else(|| ApiError::unprocessable("This method requires an authenticated user"))?;
        if !covers(&token.scopes, scope) {
            return Err(ApiError::OutsideScopes);
        }
        Ok(account)
    }

    /// The viewing user, when there is one, on an endpoint Mastodon serves to any token
    /// whatever its scopes (a hashtag, the trends).
    pub fn viewer(&self) -> Option<Id> {
        self.0.as_ref().and_then(|t| t.account_id)
    }

    /// The viewing user, if any, on a public endpoint: anonymous callers pass, but a token
    /// must carry `scope` (403 otherwise), as Mastodon's `authorize_if_got_token!` does, so
    /// a token narrowed to, say, `read:notifications` reads no statuses anywhere.
    pub fn viewer_with(&self, scope: &str) -> Result<Option<Id>, ApiError> {
        match &self.0 {
            None => Ok(None),
            Some(token) if covers(&token.scopes, scope) => Ok(token.account_id),
            Some(_) => Err(ApiError::OutsideScopes),
        }
    }

    /// Any valid token with `scope`, user or application.
    pub fn token(&self, scope: &str) -> Result<&TokenInfo, ApiError> {
        let token = self.0.as_ref().ok_or(ApiError::Unauthorized)?;
        if !covers(&token.scopes, scope) {
            return Err(ApiError::OutsideScopes);
        }
        Ok(token)
    }
}

pub fn bearer(parts: &Parts) -> Option<&str> {
    bearer_header(&parts.headers)
}

/// The bearer token of an `Authorization` header, if any.
pub fn bearer_header(headers: &axum::http::HeaderMap) -> Option<&str> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = bearer(parts) else {
            if parts
                .headers
                .contains_key(axum::http::header::AUTHORIZATION)
            {
                return Err(ApiError::Unauthorized);
            }
            return Ok(Auth(None));
        };
        resolve_token(state, token).await.map(|t| Auth(Some(t)))
    }
}

/// Looks a token up, through the token cache (`app::tokens`), and refuses it (403, as
/// Mastodon does) while its account is suspended, its login disabled or its sign-up
/// waiting for approval.
pub async fn resolve_token(state: &AppState, token: &str) -> Result<TokenInfo, ApiError> {
    let info = crate::app::tokens::verify(state, token).await?;
    if let Some(account) = info.account_id {
        // The account's record comes from the record cache, so a suspension written by
        // another process (`cascade admin suspend`) takes effect within its TTL.
        let found = state
            .records
            .accounts(&state.store, &[account], std::time::Instant::now())
            .await?;
        if let Some(a) = found.get(&account) {
            if a.pending_since.is_some() {
                return Err(ApiError::Forbidden(
                    "Your login is currently pending approval".into(),
                ));
            }
            if a.suspended_at.is_some() || a.disabled_at.is_some() {
                return Err(ApiError::Forbidden(
                    "Your login is currently disabled".into(),
                ));
            }
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn top_level_scopes_cover_their_granular_scopes() {
        assert!(covers(&s(&["read"]), "read:statuses"));
        assert!(!covers(&s(&["read"]), "write:statuses"));
        assert!(!covers(&s(&["read:accounts"]), "read:statuses"));
        assert!(covers(&s(&["follow"]), "write:follows"));
        assert!(
            !covers(&s(&["read"]), "reading"),
            "a prefix is not a parent scope"
        );
    }

    #[test]
    fn unknown_scopes_are_refused() {
        assert!(parse_scopes("read write").is_ok());
        assert!(parse_scopes("read superpowers").is_err());
        assert_eq!(parse_scopes("").unwrap(), vec!["read".to_string()]);
    }
}
