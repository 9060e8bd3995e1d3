//! The web app's session: signing in through Cascade's own OAuth authorization-code flow
//! with PKCE, the session cookie that keeps the token, the CSRF token every form carries,
//! and signing out, which revokes the token.
//!
//! The web app is a first-party client like any other: an application row whose one
//! redirect URI is this server's `/web/callback`. Its `client_id` is derived from the base
//! URL, so a server moved to another address registers a new client instead of sending
//! codes to the old one. The PKCE verifier and the `state` wait in a short-lived cookie
//! between the redirect to `/oauth/authorize` and the callback; the token then lives only
//! in an `HttpOnly` cookie (`Secure` over https), out of reach of any script.
//!
//! CSRF: each form carries a token derived from the session's access token (a hash
//! with a fixed prefix), so it needs no storage, differs per session and dies with it;
//! every POST compares it with the cookie's before anything is written. `SameSite=Lax`
//! keeps the cookie off cross-site POSTs as a second line.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use cascade_core::{time, Id};
use cascade_store::AppRecord;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::api::auth::{hash_secret, new_secret};
use crate::app::{tokens, Viewer};
use crate::error::ApiError;
use crate::state::AppState;

/// The cookie that holds the access token.
pub const SESSION_COOKIE: &str = "cascade_session";
/// The cookie that holds the sign-in's `state` and PKCE verifier until the callback.
const SIGN_IN_COOKIE: &str = "cascade_sign_in";
/// What the web app may do: everything a person does from a client.
const SCOPES: &str = "read write follow push";
/// How long a sign-in may take between leaving for the consent page and coming back.
const SIGN_IN_SECONDS: u32 = 600;

/// The Content-Security-Policy of the signed-in pages: the global one, except that our
/// own script (`/web/app.js`) may run and open the stream, and forms post only here.
pub const APP_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A signed-in person: the token from the cookie, verified, and their viewer snapshot.
pub struct Session {
    pub token: String,
    pub me: Id,
    pub viewer: Arc<Viewer>,
    /// The path and query of the page, where its forms come back to.
    pub here: String,
}

impl Session {
    /// The CSRF token of this session's forms.
    pub fn csrf(&self) -> String {
        csrf_for(&self.token)
    }

    /// Whether a form's CSRF token is this session's, compared by hash so the time taken
    /// does not depend on how much of it matches.
    pub fn csrf_ok(&self, form: Option<&str>) -> bool {
        form.is_some_and(|f| hash_secret(f) == hash_secret(&self.csrf()))
    }
}

fn csrf_for(token: &str) -> String {
    hash_secret(&format!("cascade-web-csrf:{token}"))[..32].to_string()
}

/// The value of a cookie of the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// The session token of a request from one of our own pages (the streaming endpoint's
/// cookie authentication): a request another site started (its `Origin` or its
/// `Sec-Fetch-Site` says so) does not get to use the cookie.
pub fn same_origin_session<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    let foreign_origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|o| o.trim_end_matches('/') != state.config.base_url.trim_end_matches('/'));
    let foreign_fetch = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| s != "same-origin" && s != "none");
    if foreign_origin || foreign_fetch {
        return None;
    }
    cookie(headers, SESSION_COOKIE)
}

/// The session, when the request carries a live one. A dead or revoked token is no
/// session: the page is shown as to a visitor, and the next sign-in replaces the cookie.
pub struct MaybeSession(pub Option<Session>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(MaybeSession(None));
        };
        let Ok(info) = crate::api::auth::resolve_token(state, token).await else {
            return Ok(MaybeSession(None));
        };
        let Some(me) = info.account_id else {
            return Ok(MaybeSession(None));
        };
        let Ok(viewer) = Viewer::load(state, Some(me)).await else {
            return Ok(MaybeSession(None));
        };
        Ok(MaybeSession(Some(Session {
            token: token.to_string(),
            me,
            viewer,
            here: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_string(), |p| p.as_str().to_string()),
        })))
    }
}

fn secure(state: &AppState) -> &'static str {
    if state.config.base_url.starts_with("https:") {
        "; Secure"
    } else {
        ""
    }
}

fn set_cookie(response: &mut Response, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The redirect URI of the web app.
fn callback_uri(state: &AppState) -> String {
    state.url("/web/callback")
}

/// The web app's client, registered on first use.
async fn client(state: &AppState) -> Result<AppRecord, ApiError> {
    let redirect = callback_uri(state);
    let client_id = format!("cascade-web-{}", &hash_secret(&redirect)[..16]);
    if let Ok(app) = state.store.app_by_client_id(&client_id).await {
        return Ok(app);
    }
    let app = AppRecord {
        id: state.ids.next(),
        name: format!("{} (web)", state.config.title),
        website: Some(state.url("/")),
        redirect_uris: redirect,
        scopes: SCOPES.into(),
        client_id: client_id.clone(),
        // A public client: the secret exists because the row needs one, and nobody has it.
        client_secret_hash: hash_secret(&new_secret()),
        created_at: time::now_millis(),
    };
    // Two first sign-ins at once: one row wins, and both use it.
    if state.store.create_app(&app).await.is_err() {
        return Ok(state.store.app_by_client_id(&client_id).await?);
    }
    Ok(app)
}

/// `GET /web/sign_in`: leaves for the consent page with a fresh `state` and PKCE pair.
pub async fn sign_in(State(state): State<AppState>) -> Response {
    let app = match client(&state).await {
        Ok(app) => app,
        Err(e) => return super::page_error(&state, e),
    };
    let nonce = new_secret();
    let verifier = new_secret();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", app.client_id.as_str()),
            ("redirect_uri", callback_uri(&state).as_str()),
            ("scope", SCOPES),
            ("state", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let mut response = Redirect::to(&format!("/oauth/authorize?{query}")).into_response();
    set_cookie(
        &mut response,
        format!(
            "{SIGN_IN_COOKIE}={nonce}.{verifier}; Path=/web; HttpOnly; SameSite=Lax; Max-Age={SIGN_IN_SECONDS}{}",
            secure(&state)
        ),
    );
    response
}

#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /web/callback`: checks the `state`, redeems the code with the verifier, and keeps
/// the token in the session cookie.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let refused = |message: &str| {
        super::pages().error(&state, StatusCode::BAD_REQUEST, "Sign-in failed", message)
    };
    if q.error.is_some() {
        return Redirect::to("/").into_response();
    }
    let Some((nonce, verifier)) = cookie(&headers, SIGN_IN_COOKIE).and_then(|c| c.split_once('.'))
    else {
        return refused("This sign-in has expired. Please sign in again.");
    };
    let (Some(code), Some(returned)) = (q.code.as_deref(), q.state.as_deref()) else {
        return refused("The answer of the sign-in page is incomplete.");
    };
    if hash_secret(returned) != hash_secret(nonce) {
        return refused("This sign-in was not started here. Please sign in again.");
    }
    let app = match client(&state).await {
        Ok(app) => app,
        Err(e) => return super::page_error(&state, e),
    };
    let token = match crate::api::oauth::redeem_code(
        &state,
        &app.client_id,
        code,
        &callback_uri(&state),
        verifier,
    )
    .await
    {
        Ok(token) => token,
        Err(_) => return refused("The sign-in code was not accepted. Please sign in again."),
    };
    let mut response = Redirect::to("/").into_response();
    set_cookie(
        &mut response,
        format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{}",
            token.access_token,
            secure(&state)
        ),
    );
    set_cookie(
        &mut response,
        format!("{SIGN_IN_COOKIE}=; Path=/web; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// `POST /web/sign_out`: revokes the token and forgets the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    let Some(session) = session else {
        return Redirect::to("/").into_response();
    };
    if !session.csrf_ok(form.csrf.as_deref()) {
        return super::forbidden(&state);
    }
    if let Ok(Some(record)) = tokens::find(&state, &session.token).await {
        if let Err(e) = tokens::revoke(&state, record.id).await {
            return super::page_error(&state, e);
        }
    }
    let mut response = Redirect::to("/").into_response();
    set_cookie(
        &mut response,
        format!(
            "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
            secure(&state)
        ),
    );
    response
}

/// The cookie that carries the sign-up form's CSRF token (double submit: a visitor has
/// no session to derive one from).
const FORM_COOKIE: &str = "cascade_form";

fn sign_up_form(state: &AppState, csrf: &str, error: Option<&str>, status: StatusCode) -> Response {
    let mut response = super::pages().render(
        "sign_up.html",
        minijinja::context! {
            instance => &state.config.title,
            title => "Sign up",
            open => state.config.registrations_open,
            message => &state.config.pages.registrations_message,
            rules => state.config.pages.rules.iter().map(|(r, _)| r.clone()).collect::<Vec<_>>(),
            csrf,
            error,
        },
    );
    *response.status_mut() = status;
    response
}

/// `GET /web/sign_up`: the sign-up form, when registrations are open.
pub async fn sign_up_page(State(state): State<AppState>) -> Response {
    let csrf = new_secret();
    let mut response = sign_up_form(&state, &csrf, None, StatusCode::OK);
    set_cookie(
        &mut response,
        format!(
            "{FORM_COOKIE}={csrf}; Path=/web; HttpOnly; SameSite=Strict{}",
            secure(&state)
        ),
    );
    response
}

#[derive(Debug, Deserialize)]
pub struct SignUpForm {
    csrf: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    agreement: Option<String>,
}

/// `POST /web/sign_up`: registers, under the same throttle as the API's registration,
/// then signs in through the usual flow.
pub async fn sign_up(
    State(state): State<AppState>,
    addr: crate::api::limits::ClientAddr,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SignUpForm>,
) -> Response {
    let matches = match (cookie(&headers, FORM_COOKIE), form.csrf.as_deref()) {
        (Some(c), Some(f)) => hash_secret(c) == hash_secret(f),
        _ => false,
    };
    if !matches {
        return super::forbidden(&state);
    }
    let csrf = form.csrf.clone().unwrap_or_default();
    if !state.config.registrations_open {
        return sign_up_form(
            &state,
            &csrf,
            Some("Registrations are closed on this server."),
            StatusCode::FORBIDDEN,
        );
    }
    if let Err(throttled) = crate::api::limits::registration(&state, addr).await {
        return throttled.into_response();
    }
    if form.agreement.is_none() {
        return sign_up_form(
            &state,
            &csrf,
            Some("Please accept the rules."),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let sign_up = crate::app::accounts::SignUp {
        address: Some(addr.0),
        reason: None,
        display_name: None,
    };
    match crate::app::accounts::register(
        &state,
        &form.username,
        &form.email,
        &form.password,
        sign_up,
    )
    .await
    {
        Ok(_) => Redirect::to("/web/sign_in").into_response(),
        Err(e) => {
            let message = match e {
                ApiError::Unprocessable(m) | ApiError::Forbidden(m) => m,
                other => {
                    tracing::error!(error = %other, "sign-up failed");
                    "Something went wrong. Please try again later.".into()
                }
            };
            sign_up_form(
                &state,
                &csrf,
                Some(&message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}
