//! Request rate limits, as Mastodon applies them: a fixed number of requests per window
//! for each account (or, without a valid token, each client address). Answers past the
//! limit are 429 with Mastodon's `X-RateLimit-*` headers, so clients can back off.
//!
//! The key is what the caller cannot choose: the account behind a *verified* token, or
//! the address the connection came from. A made-up `Authorization` header counts against
//! its address, so it cannot buy a fresh bucket; `X-Forwarded-For` is believed only from
//! the configured trusted proxies. Logins and sign-ups have their own, tighter throttles
//! (`login`, `registration`).

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::admin::Severity;
use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;
pub use crate::throttle::{Limiter, RateLimit};

/// The client's address as the limits see it: the peer, or what a trusted proxy says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts
            .extensions
            .get::<ClientAddr>()
            .copied()
            .unwrap_or(ClientAddr(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy, in which case
/// the rightmost `X-Forwarded-For` entry that is not itself a trusted proxy (entries
/// further left were written by the client and prove nothing).
pub fn client_addr(config: &Config, peer: Option<IpAddr>, headers: &HeaderMap) -> IpAddr {
    let Some(peer) = peer else {
        return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    };
    let trusted = |ip: IpAddr| config.trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for entry in forwarded.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted(ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// The middleware: finds the client address (kept in the request for the throttles),
/// counts the request against its key and refuses it past the limit.
pub async fn limit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let addr = client_addr(&state.config, peer, request.headers());
    request.extensions_mut().insert(ClientAddr(addr));
    if state.ip_blocks.severity(&state, addr).await == Some(Severity::NoAccess) {
        return ApiError::Forbidden("Access from your address is blocked".into()).into_response();
    }
    let Some(limit) = state.config.rate_limit else {
        return next.run(request).await;
    };
    let key = match super::auth::bearer_header(request.headers()) {
        Some(token) => match super::auth::resolve_token(&state, token).await {
            Ok(info) => match info.account_id {
                Some(account) => format!("account:{account}"),
                None => format!("app-token:{}", info.token_id),
            },
            // The handler will refuse the token; the attempt still counts, by address.
            Err(_) => format!("addr:{addr}"),
        },
        None => format!("addr:{addr}"),
    };
    let now = Instant::now();
    let (allowed, remaining, reset) = hit(&state, &key, limit, now).await;
    let mut response = if allowed {
        next.run(request).await
    } else {
        ApiError::RateLimited.into_response()
    };
    rate_headers(response.headers_mut(), limit, remaining, reset, now);
    response
}

/// Counts one request against `key`: in Redis for the whole cluster when there is one,
/// else in this process.
async fn hit(state: &AppState, key: &str, limit: RateLimit, now: Instant) -> (bool, u32, Instant) {
    crate::throttle::shared_hit(shared(state, key), &state.limiter, key, limit, now).await
}

/// The Redis connection and key of a counter, when the cluster has Redis.
fn shared(state: &AppState, key: &str) -> Option<(redis::aio::ConnectionManager, String)> {
    let cluster = state.cluster.as_ref()?;
    Some((cluster.redis()?, cluster.key(&format!("rate:{key}"))))
}

fn rate_headers(
    headers: &mut HeaderMap,
    limit: RateLimit,
    remaining: u32,
    reset: Instant,
    now: Instant,
) {
    let wait = reset.saturating_duration_since(now);
    let reset_at =
        cascade_core::time::rfc3339(cascade_core::time::now_millis() + wait.as_millis() as i64);
    let mut pairs = vec![
        ("x-ratelimit-limit", limit.requests.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", reset_at),
    ];
    if remaining == 0 {
        pairs.push(("retry-after", wait.as_secs().max(1).to_string()));
    }
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
}

/// A throttle's refusal: how long until the client may try again.
#[derive(Debug, Clone, Copy)]
pub struct Throttled {
    pub retry_after_secs: u64,
}

impl Throttled {
    fn at(reset: Instant, now: Instant) -> Throttled {
        Throttled {
            retry_after_secs: reset.saturating_duration_since(now).as_secs().max(1),
        }
    }

    /// The `Retry-After` header of the refusal.
    pub fn header(&self) -> (axum::http::HeaderName, HeaderValue) {
        (
            axum::http::header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs),
        )
    }
}

impl IntoResponse for Throttled {
    fn into_response(self) -> Response {
        let mut response = ApiError::RateLimited.into_response();
        let (name, value) = self.header();
        response.headers_mut().insert(name, value);
        response
    }
}

/// The key of a login name's failures: the name as typed, lowercased, whether or not an
/// account has it, so that a throttled answer tells nothing about which names exist.
fn login_key(login: &str) -> String {
    format!("login-name:{}", login.trim().to_lowercase())
}

/// Counts a login attempt from `addr`, and refuses it when that address tried too often
/// or `login` has failed too often lately.
pub async fn login(state: &AppState, addr: ClientAddr, login: &str) -> Result<(), Throttled> {
    let now = Instant::now();
    let per_address = state.config.login_per_address;
    let (allowed, _, reset) = hit(state, &format!("login-addr:{}", addr.0), per_address, now).await;
    if !allowed {
        return Err(Throttled::at(reset, now));
    }
    let per_account = state.config.login_failures_per_account;
    let key = login_key(login);
    let exhausted = crate::throttle::shared_exhausted(
        shared(state, &key),
        &state.limiter,
        &key,
        per_account,
        now,
    )
    .await;
    if let Some(reset) = exhausted {
        return Err(Throttled::at(reset, now));
    }
    Ok(())
}

/// Counts a failed login against its name.
pub async fn login_failed(state: &AppState, login: &str) {
    let limit = state.config.login_failures_per_account;
    hit(state, &login_key(login), limit, Instant::now()).await;
}

/// Refuses an inbox delivery from the server `domain` names when that server used up its
/// window; counts nothing (`inbox_delivered` does, once the signature verified, so that
/// forged signatures cannot spend a real server's allowance).
pub async fn inbox(state: &AppState, domain: &str) -> Result<(), Throttled> {
    let now = Instant::now();
    let key = inbox_key(domain);
    let limit = state.config.inbox_per_domain;
    let shared = shared(state, &key);
    match crate::throttle::shared_exhausted(shared, &state.limiter, &key, limit, now).await {
        Some(reset) => Err(Throttled::at(reset, now)),
        None => Ok(()),
    }
}

/// Counts an inbox delivery whose signature verified against its server's window.
pub async fn inbox_delivered(state: &AppState, domain: &str) {
    let limit = state.config.inbox_per_domain;
    hit(state, &inbox_key(domain), limit, Instant::now()).await;
}

fn inbox_key(domain: &str) -> String {
    format!("inbox-domain:{}", domain.to_ascii_lowercase())
}

/// Counts a sign-up from `addr`, and refuses it past the address's limit.
pub async fn registration(state: &AppState, addr: ClientAddr) -> Result<(), Throttled> {
    let now = Instant::now();
    let limit = state.config.registrations_per_address;
    let (allowed, _, reset) = hit(state, &format!("signup-addr:{}", addr.0), limit, now).await;
    if allowed {
        Ok(())
    } else {
        Err(Throttled::at(reset, now))
    }
}
