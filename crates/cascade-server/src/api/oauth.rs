//! OAuth 2 as Mastodon does it: application registration, the authorization-code grant
//! with PKCE (S256) behind a real login and consent page, client credentials, revocation,
//! and the server metadata document. There is no password grant, as in Mastodon 4.4+.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use cascade_core::text::escape_html;
use cascade_core::time;
use cascade_store::{AppRecord, AuthCode};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::auth::{covers, hash_secret, new_secret, parse_scopes, Auth, KNOWN_SCOPES};
use super::model;
use super::params::{flex, Params};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
/// The cookie that carries the login form's CSRF token; the form carries it too, and a
/// post whose two copies differ did not come from our page.
const CSRF_COOKIE: &str = "cascade_csrf";
/// Schemes a redirect may never use: they run code or read files in the browser.
const FORBIDDEN_SCHEMES: &[&str] = &["javascript", "data", "file", "vbscript", "blob", "about"];
/// How long an authorization code stays valid.
const CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps", post(create_app))
        .route("/api/v1/apps/verify_credentials", get(verify_app))
        .route("/oauth/authorize", get(authorize_page).post(authorize))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .route("/oauth/userinfo", get(userinfo).post(userinfo))
        .route("/.well-known/oauth-authorization-server", get(metadata))
}

#[derive(Debug, Deserialize)]
struct AppForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    client_name: Option<String>,
    #[serde(default, deserialize_with = "flex::strings")]
    redirect_uris: Vec<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    scopes: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    website: Option<String>,
}

fn render_app(app: &AppRecord, secret: Option<String>) -> model::Application2 {
    let uris: Vec<String> = app.redirect_uris.split('\n').map(str::to_string).collect();
    model::Application2 {
        id: app.id.to_string(),
        name: app.name.clone(),
        website: app.website.clone(),
        scopes: app.scopes.split(' ').map(str::to_string).collect(),
        redirect_uri: app.redirect_uris.clone(),
        redirect_uris: uris,
        vapid_key: String::new(),
        client_id: secret.as_ref().map(|_| app.client_id.clone()),
        client_secret_expires_at: secret.as_ref().map(|_| 0),
        client_secret: secret,
    }
}

async fn create_app(
    State(state): State<AppState>,
    Params(form): Params<AppForm>,
) -> ApiResult<Json<model::Application2>> {
    let name = form.client_name.unwrap_or_default();
    if name.trim().is_empty() || name.chars().count() > 60 {
        return Err(ApiError::unprocessable(
            "Application name can't be blank (and at most 60 characters)",
        ));
    }
    let uris: Vec<String> = form
        .redirect_uris
        .iter()
        .flat_map(|u| u.split('\n'))
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    if uris.is_empty() {
        return Err(ApiError::unprocessable("Redirect URI can't be blank"));
    }
    for uri in &uris {
        check_redirect_uri(uri).map_err(ApiError::Unprocessable)?;
    }
    let scopes =
        parse_scopes(form.scopes.as_deref().unwrap_or("read")).map_err(ApiError::Unprocessable)?;
    let secret = new_secret();
    let app = AppRecord {
        id: state.ids.next(),
        name,
        website: form.website.filter(|w| !w.is_empty()),
        redirect_uris: uris.join("\n"),
        scopes: scopes.join(" "),
        client_id: new_secret(),
        client_secret_hash: hash_secret(&secret),
        created_at: time::now_millis(),
    };
    state.store.create_app(&app).await?;
    Ok(Json(render_app(&app, Some(secret))))
}

async fn verify_app(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<model::Application2>> {
    let token = auth.0.as_ref().ok_or(ApiError::Unauthorized)?;
    let app_id = token.app_id.ok_or(ApiError::Unauthorized)?;
    Ok(Json(render_app(&state.store.app(app_id).await?, None)))
}

/// A redirect URI is the out-of-band URN or an absolute URI without a fragment whose
/// scheme is neither one that runs code or reads files in the browser (`javascript:`,
/// `data:`, `file:`…); `http` and `https` need a host. Native apps' own schemes
/// (`com.example.app:/callback`) are allowed, as in Mastodon.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    if uri == OOB {
        return Ok(());
    }
    let bad = |why: &str| Err(format!("Redirect URI {why}: {uri}"));
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return bad("must not contain spaces or control characters");
    }
    if uri.contains('#') {
        return bad("must not contain a fragment");
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return bad("must be an absolute URI");
    };
    let valid_scheme = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme || rest.is_empty() {
        return bad("must be an absolute URI");
    }
    let scheme = scheme.to_ascii_lowercase();
    if FORBIDDEN_SCHEMES.contains(&scheme.as_str()) {
        return bad("uses a scheme that is not allowed");
    }
    if matches!(scheme.as_str(), "http" | "https") {
        let host = rest
            .strip_prefix("//")
            .map(|r| r.split(['/', '?']).next().unwrap_or_default());
        if host.is_none_or(|h| h.is_empty() || h.starts_with('@')) {
            return bad("must name a host");
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct AuthorizeParams {
    #[serde(default, deserialize_with = "flex::opt_string")]
    response_type: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    client_id: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    redirect_uri: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    scope: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    state: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    code_challenge: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    code_challenge_method: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    username: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    password: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    decision: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    authenticity_token: Option<String>,
}

/// A validated authorization request.
struct Request {
    app: AppRecord,
    redirect_uri: String,
    scopes: Vec<String>,
}

async fn check_request(state: &AppState, p: &AuthorizeParams) -> Result<Request, String> {
    if p.response_type.as_deref() != Some("code") {
        return Err("response_type must be \"code\"".into());
    }
    let client_id = p.client_id.as_deref().ok_or("client_id is missing")?;
    let app = state
        .store
        .app_by_client_id(client_id)
        .await
        .map_err(|_| "Unknown client_id".to_string())?;
    let registered: Vec<&str> = app.redirect_uris.split('\n').collect();
    let redirect_uri = match p.redirect_uri.as_deref() {
        Some(u) if registered.contains(&u) => u.to_string(),
        None if registered.len() == 1 => registered[0].to_string(),
        _ => return Err("redirect_uri does not match a registered URI of this application".into()),
    };
    // Applications registered before the scheme rule was enforced are held to it here.
    check_redirect_uri(&redirect_uri)?;
    let scopes = parse_scopes(p.scope.as_deref().unwrap_or("read"))?;
    let granted: Vec<String> = app.scopes.split(' ').map(str::to_string).collect();
    if let Some(extra) = scopes.iter().find(|s| !covers(&granted, s)) {
        return Err(format!("The application may not ask for the scope {extra}"));
    }
    match (
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref(),
    ) {
        (None, _) => {}
        (Some(c), Some("S256")) if (43..=128).contains(&c.len()) => {}
        _ => return Err("code_challenge_method must be S256 with a valid code_challenge".into()),
    }
    Ok(Request {
        app,
        redirect_uri,
        scopes,
    })
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title} · Cascade</title><style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1b1f}}\
         label{{display:block;margin:.8rem 0 .2rem}}input[type=text],input[type=password]{{width:100%;padding:.5rem;box-sizing:border-box}}\
         button{{margin-top:1rem;padding:.6rem 1.2rem}}.error{{color:#b00020}}code{{word-break:break-all}}</style></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>"
    ))
}

fn authorize_form(
    p: &AuthorizeParams,
    r: &Request,
    csrf: &str,
    error: Option<&str>,
) -> Html<String> {
    let hidden = |name: &str, v: &Option<String>| {
        v.as_ref().map_or(String::new(), |v| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape_html(v)
            )
        })
    };
    let scopes: String = r
        .scopes
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", escape_html(s)))
        .collect();
    let error = error.map_or(String::new(), |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", escape_html(e))
    });
    page(
        "Authorize",
        &format!(
            "<p><strong>{app}</strong> would like to use your account with these permissions:</p><ul>{scopes}</ul>{error}\
             <form method=\"post\" action=\"/oauth/authorize\">{h1}{h2}{h3}{h4}{h5}{h6}{h7}{h8}\
             <label for=\"username\">Username or email</label><input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" required>\
             <label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Authorize</button> \
             <button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button></form>",
            app = escape_html(&r.app.name),
            h1 = hidden("response_type", &p.response_type),
            h2 = hidden("client_id", &p.client_id),
            h3 = hidden("redirect_uri", &Some(r.redirect_uri.clone())),
            h4 = hidden("scope", &Some(r.scopes.join(" "))),
            h5 = hidden("state", &p.state),
            h6 = hidden("code_challenge", &p.code_challenge),
            h7 = hidden("code_challenge_method", &p.code_challenge_method),
            h8 = hidden("authenticity_token", &Some(csrf.to_string())),
        ),
    )
}

/// The `Set-Cookie` value that hands the browser a form's CSRF token: readable by no
/// script, sent only with requests from our own pages.
fn csrf_cookie(state: &AppState, token: &str) -> Option<HeaderValue> {
    let secure = if state.config.base_url.starts_with("https:") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{CSRF_COOKIE}={token}; Path=/oauth; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

/// The CSRF token of the request's cookie, if any.
fn csrf_from_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CSRF_COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// Whether the form's token is the cookie's, compared by hash so the time taken does not
/// depend on how many leading characters match.
fn csrf_matches(headers: &HeaderMap, form: Option<&str>) -> bool {
    match (csrf_from_cookie(headers), form) {
        (Some(cookie), Some(form)) => hash_secret(cookie) == hash_secret(form),
        _ => false,
    }
}

async fn authorize_page(
    State(state): State<AppState>,
    Params(p): Params<AuthorizeParams>,
) -> Response {
    match check_request(&state, &p).await {
        Ok(r) => {
            let token = new_secret();
            let mut response = authorize_form(&p, &r, &token, None).into_response();
            if let Some(cookie) = csrf_cookie(&state, &token) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            page(
                "Invalid request",
                &format!("<p class=\"error\">{}</p>", escape_html(&e)),
            ),
        )
            .into_response(),
    }
}

fn redirect_with(uri: &str, params: &[(&str, &str)]) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{query}")
}

async fn authorize(
    State(state): State<AppState>,
    addr: super::limits::ClientAddr,
    headers: HeaderMap,
    Params(p): Params<AuthorizeParams>,
) -> ApiResult<Response> {
    if !csrf_matches(&headers, p.authenticity_token.as_deref()) {
        return Ok((
            StatusCode::FORBIDDEN,
            page(
                "Invalid request",
                "<p class=\"error\">This form has expired or did not come from this server. Go back, reload the page and try again.</p>",
            ),
        )
            .into_response());
    }
    let csrf = p.authenticity_token.clone().unwrap_or_default();
    let r = match check_request(&state, &p).await {
        Ok(r) => r,
        Err(e) => {
            return Ok((
                StatusCode::BAD_REQUEST,
                page(
                    "Invalid request",
                    &format!("<p class=\"error\">{}</p>", escape_html(&e)),
                ),
            )
                .into_response())
        }
    };
    let state_param = p.state.clone().unwrap_or_default();
    if p.decision.as_deref() == Some("deny") {
        if r.redirect_uri == OOB {
            return Ok(page("Denied", "<p>You denied the request.</p>").into_response());
        }
        let mut params = vec![("error", "access_denied")];
        if !state_param.is_empty() {
            params.push(("state", &state_param));
        }
        return Ok(Redirect::to(&redirect_with(&r.redirect_uri, &params)).into_response());
    }
    let login = p.username.as_deref().unwrap_or_default();
    let password = p.password.as_deref().unwrap_or_default();
    if let Err(throttled) = super::limits::login(&state, addr, login).await {
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            [throttled.header()],
            authorize_form(
                &p,
                &r,
                &csrf,
                Some("Too many attempts. Wait a few minutes before trying again."),
            ),
        )
            .into_response());
    }
    let Some(user) = crate::app::accounts::login(&state, login, password).await? else {
        super::limits::login_failed(&state, login).await;
        return Ok((
            StatusCode::UNAUTHORIZED,
            authorize_form(&p, &r, &csrf, Some("Invalid username or password.")),
        )
            .into_response());
    };
    let code = new_secret();
    state
        .store
        .create_auth_code(&AuthCode {
            code_hash: hash_secret(&code),
            app_id: r.app.id,
            account_id: user.account_id,
            scopes: r.scopes.join(" "),
            redirect_uri: r.redirect_uri.clone(),
            code_challenge: p.code_challenge.clone(),
            created_at: time::now_millis(),
        })
        .await?;
    if r.redirect_uri == OOB {
        return Ok(page(
            "Authorization code",
            &format!(
                "<p>Copy this code into the application:</p><p><code id=\"code\">{code}</code></p>"
            ),
        )
        .into_response());
    }
    let mut params = vec![("code", code.as_str())];
    if !state_param.is_empty() {
        params.push(("state", &state_param));
    }
    Ok(Redirect::to(&redirect_with(&r.redirect_uri, &params)).into_response())
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    grant_type: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    client_id: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    client_secret: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    code: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    redirect_uri: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    code_verifier: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    scope: Option<String>,
}

fn invalid_client() -> ApiError {
    ApiError::oauth(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
}

fn invalid_grant() -> ApiError {
    ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
}

/// The application named by `client_id`, if `client_secret` is its secret.
async fn client(state: &AppState, id: Option<&str>, secret: Option<&str>) -> ApiResult<AppRecord> {
    let app = state
        .store
        .app_by_client_id(id.ok_or_else(invalid_client)?)
        .await
        .map_err(|_| invalid_client())?;
    let secret = secret.ok_or_else(invalid_client)?;
    if hash_secret(secret) != app.client_secret_hash {
        return Err(invalid_client());
    }
    Ok(app)
}

async fn token(
    State(state): State<AppState>,
    Params(f): Params<TokenForm>,
) -> ApiResult<Json<model::Token>> {
    Ok(Json(grant(&state, f).await?))
}

/// Redeems an authorization code of a public client (PKCE, no secret): the web app's
/// sign-in, which holds the code and the verifier in the server, not in a browser.
pub async fn redeem_code(
    state: &AppState,
    client_id: &str,
    code: &str,
    redirect_uri: &str,
    code_verifier: &str,
) -> ApiResult<model::Token> {
    let form = TokenForm {
        grant_type: Some("authorization_code".into()),
        client_id: Some(client_id.into()),
        client_secret: None,
        code: Some(code.into()),
        redirect_uri: Some(redirect_uri.into()),
        code_verifier: Some(code_verifier.into()),
        scope: None,
    };
    grant(state, form).await
}

async fn grant(state: &AppState, f: TokenForm) -> ApiResult<model::Token> {
    let (app, account, scopes) = match f.grant_type.as_deref() {
        Some("authorization_code") => {
            let code = state
                .store
                .take_auth_code(&hash_secret(f.code.as_deref().unwrap_or_default()))
                .await
                .map_err(|_| invalid_grant())?;
            // A public client (PKCE) may omit its secret; a confidential one must send it.
            let app = state.store.app(code.app_id).await?;
            if f.client_id.as_deref() != Some(app.client_id.as_str()) {
                return Err(invalid_grant());
            }
            match (&code.code_challenge, f.client_secret.as_deref()) {
                (_, Some(secret)) if hash_secret(secret) == app.client_secret_hash => {}
                (Some(_), None) => {}
                _ => return Err(invalid_client()),
            }
            if time::now_millis() - code.created_at > CODE_LIFETIME_MS {
                return Err(invalid_grant());
            }
            if f.redirect_uri
                .as_deref()
                .is_some_and(|u| u != code.redirect_uri)
            {
                return Err(invalid_grant());
            }
            if let Some(challenge) = &code.code_challenge {
                let verifier = f.code_verifier.as_deref().ok_or_else(invalid_grant)?;
                let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(Sha256::digest(verifier.as_bytes()));
                if &computed != challenge {
                    return Err(invalid_grant());
                }
            }
            (app, Some(code.account_id), code.scopes)
        }
        Some("client_credentials") => {
            let app = client(state, f.client_id.as_deref(), f.client_secret.as_deref()).await?;
            let asked = parse_scopes(f.scope.as_deref().unwrap_or("read"))
                .map_err(|e| ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_scope", e))?;
            let granted: Vec<String> = app.scopes.split(' ').map(str::to_string).collect();
            if asked.iter().any(|s| !covers(&granted, s)) {
                return Err(ApiError::oauth(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "The requested scope is invalid, unknown, or malformed.",
                ));
            }
            (app, None, asked.join(" "))
        }
        Some("password") => {
            return Err(ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The password grant is not supported; use authorization_code with PKCE.",
            ))
        }
        _ => {
            return Err(ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            ))
        }
    };
    crate::app::accounts::issue_token(state, account, Some(app.id), &scopes).await
}

#[derive(Debug, Deserialize)]
struct RevokeForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    client_id: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    client_secret: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    token: Option<String>,
}

/// `POST /oauth/revoke` (RFC 7009). A token issued to an application is revoked by that
/// application: its `client_id`, and its secret when it sends one (a public client, which
/// got the token through PKCE, has none to send). A token issued without an application
/// (`cascade admin token`) is revoked by whoever holds it, as Doorkeeper does for tokens
/// without a client. An unknown or already revoked token answers 200 and does nothing.
async fn revoke(
    State(state): State<AppState>,
    Params(f): Params<RevokeForm>,
) -> ApiResult<Json<serde_json::Value>> {
    let refused = || {
        ApiError::oauth(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            "You are not authorized to revoke this token",
        )
    };
    let app = match f.client_id.as_deref() {
        Some(id) => Some(
            state
                .store
                .app_by_client_id(id)
                .await
                .map_err(|_| refused())?,
        ),
        None => None,
    };
    if let (Some(app), Some(secret)) = (&app, f.client_secret.as_deref()) {
        if hash_secret(secret) != app.client_secret_hash {
            return Err(refused());
        }
    }
    let token = f.token.unwrap_or_default();
    let Some(record) = crate::app::tokens::find(&state, &token).await? else {
        return Ok(Json(serde_json::json!({})));
    };
    if let Some(owner) = record.app_id {
        if app.as_ref().map(|a| a.id) != Some(owner) {
            return Err(refused());
        }
    }
    crate::app::tokens::revoke(&state, record.id).await?;
    Ok(Json(serde_json::json!({})))
}

/// `GET` or `POST /oauth/userinfo` (Mastodon 4.4): the OpenID Connect claims about the
/// token's user, for the `profile` scope (which `read` and `read:accounts` cover too).
async fn userinfo(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("profile")?;
    let account = crate::app::accounts::credential_account(&state, me).await?;
    Ok(Json(serde_json::json!({
        "iss": state.url("/"),
        "sub": account.uri,
        "name": account.display_name,
        "preferred_username": account.username,
        "profile": account.url,
        "picture": account.avatar,
    })))
}

async fn metadata(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "issuer": state.url("/"),
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": state.url("/oauth/authorize"),
        "token_endpoint": state.url("/oauth/token"),
        "revocation_endpoint": state.url("/oauth/revoke"),
        "userinfo_endpoint": state.url("/oauth/userinfo"),
        "app_registration_endpoint": state.url("/api/v1/apps"),
        "scopes_supported": KNOWN_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
    }))
}
