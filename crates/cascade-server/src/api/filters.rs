//! `/api/v2/filters`: content filters, their keywords and their statuses (Mastodon 4).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use cascade_core::Id;
use serde::de::{Deserializer, Error};
use serde::Deserialize;
use serde_json::Value;

use super::auth::Auth;
use super::model;
use super::params::{flex, Params};
use super::path_id;
use crate::app::filters::{self, FilterInput, KeywordInput};
use crate::app::Viewer;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v2/filters", get(filters_index).post(create_filter))
        .route(
            "/api/v2/filters/{id}",
            get(get_filter).put(update_filter).delete(delete_filter),
        )
        .route(
            "/api/v2/filters/{id}/keywords",
            get(filter_keywords).post(add_filter_keyword),
        )
        .route(
            "/api/v2/filters/keywords/{id}",
            get(get_filter_keyword)
                .put(update_filter_keyword)
                .delete(delete_filter_keyword),
        )
        .route(
            "/api/v2/filters/{id}/statuses",
            get(filter_statuses).post(add_filter_status),
        )
        .route(
            "/api/v2/filters/statuses/{id}",
            get(get_filter_status).delete(delete_filter_status),
        )
}

/// A parameter that was sent, even empty: `Some(None)` clears (`expires_in=""`).
fn present_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    flex::opt_i64(d).map(Some)
}

/// A list that was sent (`context[]`), as opposed to one left out.
fn present_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    flex::strings(d).map(Some)
}

#[derive(Debug, Deserialize)]
struct KeywordForm {
    #[serde(default, deserialize_with = "flex::opt_id")]
    id: Option<Id>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    keyword: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    whole_word: Option<bool>,
    #[serde(default, rename = "_destroy", deserialize_with = "flex::bool")]
    destroy: bool,
}

/// `keywords_attributes` as a list, or as an object keyed by index (Rails accepts both).
fn keyword_forms<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<KeywordForm>, D::Error> {
    let items = match Value::deserialize(d)? {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        Value::Object(map) => map.into_iter().map(|(_, v)| v).collect(),
        _ => return Err(D::Error::custom("keywords_attributes must be a list")),
    };
    items
        .into_iter()
        .map(|v| serde_json::from_value(v).map_err(D::Error::custom))
        .collect()
}

#[derive(Debug, Deserialize)]
struct FilterForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    title: Option<String>,
    #[serde(default, deserialize_with = "present_strings")]
    context: Option<Vec<String>>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    filter_action: Option<String>,
    #[serde(default, deserialize_with = "present_i64")]
    expires_in: Option<Option<i64>>,
    #[serde(default, deserialize_with = "keyword_forms")]
    keywords_attributes: Vec<KeywordForm>,
}

impl From<FilterForm> for FilterInput {
    fn from(f: FilterForm) -> FilterInput {
        FilterInput {
            title: f.title,
            context: f.context,
            filter_action: f.filter_action,
            expires_in: f.expires_in,
            keywords: f
                .keywords_attributes
                .into_iter()
                .map(|k| KeywordInput {
                    id: k.id,
                    keyword: k.keyword,
                    whole_word: k.whole_word,
                    destroy: k.destroy,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct KeywordRuleForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    keyword: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    whole_word: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct StatusRuleForm {
    #[serde(default, deserialize_with = "flex::opt_id")]
    status_id: Option<Id>,
}

fn empty() -> Json<Value> {
    Json(serde_json::json!({}))
}

async fn filters_index(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<model::Filter>>> {
    let me = auth.user("read:filters")?;
    Ok(Json(filters::list(&state, me).await?))
}

async fn create_filter(
    State(state): State<AppState>,
    auth: Auth,
    Params(f): Params<FilterForm>,
) -> ApiResult<Json<model::Filter>> {
    let me = auth.user("write:filters")?;
    Ok(Json(filters::create(&state, me, f.into()).await?))
}

async fn get_filter(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Filter>> {
    let me = auth.user("read:filters")?;
    Ok(Json(filters::get(&state, me, path_id(&id)?).await?))
}

async fn update_filter(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(f): Params<FilterForm>,
) -> ApiResult<Json<model::Filter>> {
    let me = auth.user("write:filters")?;
    Ok(Json(
        filters::update(&state, me, path_id(&id)?, f.into()).await?,
    ))
}

async fn delete_filter(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:filters")?;
    filters::delete(&state, me, path_id(&id)?).await?;
    Ok(empty())
}

async fn filter_keywords(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<model::FilterKeyword>>> {
    let me = auth.user("read:filters")?;
    Ok(Json(filters::keywords(&state, me, path_id(&id)?).await?))
}

async fn add_filter_keyword(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(f): Params<KeywordRuleForm>,
) -> ApiResult<Json<model::FilterKeyword>> {
    let me = auth.user("write:filters")?;
    let id = path_id(&id)?;
    Ok(Json(
        filters::add_keyword(&state, me, id, f.keyword.as_deref(), f.whole_word).await?,
    ))
}

async fn get_filter_keyword(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::FilterKeyword>> {
    let me = auth.user("read:filters")?;
    Ok(Json(filters::keyword(&state, me, path_id(&id)?).await?))
}

async fn update_filter_keyword(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(f): Params<KeywordRuleForm>,
) -> ApiResult<Json<model::FilterKeyword>> {
    let me = auth.user("write:filters")?;
    let id = path_id(&id)?;
    Ok(Json(
        filters::update_keyword(&state, me, id, f.keyword.as_deref(), f.whole_word).await?,
    ))
}

async fn delete_filter_keyword(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:filters")?;
    filters::delete_keyword(&state, me, path_id(&id)?).await?;
    Ok(empty())
}

async fn filter_statuses(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<model::FilterStatus>>> {
    let me = auth.user("read:filters")?;
    Ok(Json(filters::statuses(&state, me, path_id(&id)?).await?))
}

async fn add_filter_status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(f): Params<StatusRuleForm>,
) -> ApiResult<Json<model::FilterStatus>> {
    let me = auth.user("write:filters")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    Ok(Json(
        filters::add_status(&state, &viewer, path_id(&id)?, f.status_id).await?,
    ))
}

async fn get_filter_status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::FilterStatus>> {
    let me = auth.user("read:filters")?;
    Ok(Json(filters::status_rule(&state, me, path_id(&id)?).await?))
}

async fn delete_filter_status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:filters")?;
    filters::delete_status_rule(&state, me, path_id(&id)?).await?;
    Ok(empty())
}
