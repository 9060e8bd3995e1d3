//! `/api/v1/push/subscription`: one Web Push subscription per access token, as in Mastodon.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::params::{flex, Params};
use crate::app::push::{self as uc, DataInput, SubscriptionInput};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/push/subscription",
        get(get_subscription)
            .post(create_subscription)
            .put(update_subscription)
            .delete(delete_subscription),
    )
}

#[derive(Debug, Default, Deserialize)]
struct Keys {
    #[serde(default, deserialize_with = "flex::opt_string")]
    p256dh: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    auth: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct SubscriptionParams {
    #[serde(default, deserialize_with = "flex::opt_string")]
    endpoint: Option<String>,
    keys: Option<Keys>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    standard: Option<bool>,
}

/// An alert switch: `true`, `"1"`, `"on"`... as forms send them.
#[derive(Debug, Deserialize)]
struct Flag(#[serde(deserialize_with = "flex::bool")] bool);

#[derive(Debug, Default, Deserialize)]
struct DataParams {
    alerts: Option<BTreeMap<String, Flag>>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    policy: Option<String>,
}

impl From<Option<DataParams>> for DataInput {
    fn from(d: Option<DataParams>) -> DataInput {
        let d = d.unwrap_or_default();
        DataInput {
            alerts: d
                .alerts
                .unwrap_or_default()
                .into_iter()
                .map(|(k, Flag(on))| (k, on))
                .collect(),
            policy: d.policy,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct SubscriptionForm {
    subscription: Option<SubscriptionParams>,
    data: Option<DataParams>,
}

/// The user and token of a request with the `push` scope.
fn caller(auth: &Auth) -> ApiResult<(cascade_core::Id, cascade_core::Id)> {
    let me = auth.user("push")?;
    Ok((me, auth.token("push")?.token_id))
}

async fn create_subscription(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<SubscriptionForm>,
) -> ApiResult<Json<model::WebPushSubscription>> {
    let (me, token) = caller(&auth)?;
    let sub = form.subscription.ok_or_else(|| {
        ApiError::BadRequest("param is missing or the value is empty: subscription".into())
    })?;
    let keys = sub.keys.unwrap_or_default();
    let missing = |what: &str| ApiError::unprocessable(format!("{what} can't be blank"));
    let input = SubscriptionInput {
        endpoint: sub.endpoint.ok_or_else(|| missing("Endpoint"))?,
        p256dh: keys.p256dh.ok_or_else(|| missing("Key p256dh"))?,
        auth: keys.auth.ok_or_else(|| missing("Key auth"))?,
        standard: sub.standard.unwrap_or(false),
        data: form.data.into(),
    };
    Ok(Json(uc::subscribe(&state, me, token, input).await?))
}

async fn get_subscription(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<model::WebPushSubscription>> {
    let (_, token) = caller(&auth)?;
    Ok(Json(uc::subscription(&state, token).await?))
}

/// Changes only the `data` part (alerts and policy), as in Mastodon: the alerts not sent
/// are turned off.
async fn update_subscription(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<SubscriptionForm>,
) -> ApiResult<Json<model::WebPushSubscription>> {
    let (_, token) = caller(&auth)?;
    Ok(Json(uc::update(&state, token, form.data.into()).await?))
}

async fn delete_subscription(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<serde_json::Value>> {
    let (_, token) = caller(&auth)?;
    uc::unsubscribe(&state, token).await?;
    Ok(Json(serde_json::json!({})))
}
