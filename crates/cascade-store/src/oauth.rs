//! OAuth applications, access tokens and authorization codes. Secrets, tokens and codes
//! are stored only as hashes: a copy of the database grants no access.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, write, Result, Store, StoreError};

#[derive(Debug, Clone, FromRow)]
pub struct AppRecord {
    pub id: Id,
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: String,
    pub scopes: String,
    pub client_id: String,
    pub client_secret_hash: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct TokenRecord {
    pub id: Id,
    pub token_hash: String,
    pub app_id: Option<Id>,
    pub account_id: Option<Id>,
    pub scopes: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, FromRow)]
pub struct AuthCode {
    pub code_hash: String,
    pub app_id: Id,
    pub account_id: Id,
    pub scopes: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub created_at: i64,
}

impl Store {
    pub async fn create_app(&self, app: &AppRecord) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO apps (id, name, website, redirect_uris, scopes, client_id, client_secret_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(app.id).bind(&app.name).bind(&app.website).bind(&app.redirect_uris).bind(&app.scopes)
        .bind(&app.client_id).bind(&app.client_secret_hash).bind(app.created_at)
        .execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn app(&self, id: Id) -> Result<AppRecord> {
        read!(self, db => Ok(sqlx::query_as("SELECT * FROM apps WHERE id = $1").bind(id).fetch_one(db).await?))
    }

    pub async fn app_by_client_id(&self, client_id: &str) -> Result<AppRecord> {
        read!(self, db => Ok(sqlx::query_as("SELECT * FROM apps WHERE client_id = $1").bind(client_id).fetch_one(db).await?))
    }

    pub async fn create_token(&self, t: &TokenRecord) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO tokens (id, token_hash, app_id, account_id, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(t.id).bind(&t.token_hash).bind(t.app_id).bind(t.account_id).bind(&t.scopes).bind(t.created_at)
        .execute(db).await?.rows_affected());
        Ok(())
    }

    /// A token that has not been revoked.
    pub async fn live_token(&self, token_hash: &str) -> Result<TokenRecord> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT * FROM tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        ).bind(token_hash).fetch_one(db).await?))
    }

    /// Revokes a token by its id, whoever it was issued to; true when a live token was
    /// revoked, false when it was unknown or already revoked.
    pub async fn revoke_token(&self, id: Id, now: i64) -> Result<bool> {
        let revoked = write!(self, db => sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        ).bind(now).bind(id).execute(db).await?.rows_affected());
        Ok(revoked == 1)
    }

    /// The tokens revoked at or after `since` (milliseconds), oldest revocation first, at
    /// most `limit` of them: each id with when it was revoked.
    pub async fn tokens_revoked_since(&self, since: i64, limit: i64) -> Result<Vec<(Id, i64)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT id, revoked_at FROM tokens WHERE revoked_at >= $1 ORDER BY revoked_at LIMIT $2",
        ).bind(since).bind(limit).fetch_all(db).await?))
    }

    /// An account's live tokens, oldest first.
    pub async fn live_tokens_of(&self, account_id: Id) -> Result<Vec<TokenRecord>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT * FROM tokens WHERE account_id = $1 AND revoked_at IS NULL ORDER BY id",
        ).bind(account_id).fetch_all(db).await?))
    }

    pub async fn create_auth_code(&self, c: &AuthCode) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO auth_codes (code_hash, app_id, account_id, scopes, redirect_uri, code_challenge, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&c.code_hash).bind(c.app_id).bind(c.account_id).bind(&c.scopes).bind(&c.redirect_uri)
        .bind(&c.code_challenge).bind(c.created_at)
        .execute(db).await?.rows_affected());
        Ok(())
    }

    /// Takes an unused code: marks it used and returns it, exactly once.
    pub async fn take_auth_code(&self, code_hash: &str) -> Result<AuthCode> {
        let taken = write!(self, db => sqlx::query(
            "UPDATE auth_codes SET used = TRUE WHERE code_hash = $1 AND used = FALSE",
        ).bind(code_hash).execute(db).await?.rows_affected());
        if taken != 1 {
            return Err(StoreError::NotFound);
        }
        write!(self, db => Ok(sqlx::query_as(
            "SELECT code_hash, app_id, account_id, scopes, redirect_uri, code_challenge, created_at FROM auth_codes WHERE code_hash = $1",
        ).bind(code_hash).fetch_one(db).await?))
    }
}
