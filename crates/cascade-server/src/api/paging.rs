//! Mastodon's pagination, parsed and rendered in one place: `max_id`, `since_id`,
//! `min_id` and `limit` in, a `Link` header with `next` and `prev` out.

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cascade_core::timeline::Page;
use cascade_core::Id;
use serde::{Deserialize, Serialize};

use super::params::flex;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct PageParams {
    #[serde(default, deserialize_with = "flex::opt_id")]
    pub max_id: Option<Id>,
    #[serde(default, deserialize_with = "flex::opt_id")]
    pub since_id: Option<Id>,
    #[serde(default, deserialize_with = "flex::opt_id")]
    pub min_id: Option<Id>,
    #[serde(default, deserialize_with = "flex::opt_usize")]
    pub limit: Option<usize>,
}

impl PageParams {
    pub fn page(&self, default: usize, max: usize) -> Page {
        Page {
            max_id: self.max_id,
            since_id: self.since_id,
            min_id: self.min_id,
            limit: self.limit.unwrap_or(default).clamp(1, max),
        }
    }
}

/// A JSON list with a `Link` header for the next (older) and previous (newer) pages,
/// keyed by the first and last paging ids of the items.
pub struct Paged<T> {
    /// The body: a list of entities, or an object holding them.
    pub items: T,
    /// The paging key of the newest and oldest item (often but not always the item's id).
    pub bounds: Option<(Id, Id)>,
    /// The absolute URL of the endpoint, with its non-paging query parameters.
    pub url: String,
    /// Whether there is a `prev` link: not for lists that only page forward.
    pub prev: bool,
    /// A queue served oldest first: `next` goes to newer items (`min_id`), `prev` to older.
    pub oldest_first: bool,
}

impl<T> Paged<T> {
    pub fn new(items: T, keys: &[Id], url: String) -> Paged<T> {
        let bounds = match (keys.first(), keys.last()) {
            (Some(&first), Some(&last)) => Some((first, last)),
            _ => None,
        };
        Paged {
            items,
            bounds,
            url,
            prev: true,
            oldest_first: false,
        }
    }

    /// A list that pages only forward, from an opaque cursor given as `max_id`.
    pub fn forward(items: T, next: Option<Id>, url: String) -> Paged<T> {
        Paged {
            bounds: next.map(|n| (n, n)),
            prev: false,
            ..Paged::new(items, &[], url)
        }
    }

    /// A page of a queue whose items (and `keys`) are oldest first.
    pub fn oldest_first(items: T, keys: &[Id], url: String) -> Paged<T> {
        Paged {
            oldest_first: true,
            ..Paged::new(items, keys, url)
        }
    }
}

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        if let Some((first, last)) = self.bounds {
            let sep = if self.url.contains('?') { '&' } else { '?' };
            // Newest first, `next` goes down to older items; a queue goes up to newer ones.
            let (next, prev) = if self.oldest_first {
                (format!("min_id={last}"), format!("max_id={first}"))
            } else {
                (format!("max_id={last}"), format!("min_id={first}"))
            };
            let mut link = format!("<{url}{sep}{next}>; rel=\"next\"", url = self.url);
            if self.prev {
                link.push_str(&format!(
                    ", <{url}{sep}{prev}>; rel=\"prev\"",
                    url = self.url
                ));
            }
            if let Ok(v) = HeaderValue::from_str(&link) {
                headers.insert(axum::http::header::LINK, v);
            }
        }
        (headers, Json(self.items)).into_response()
    }
}

/// A JSON list paged by `offset` and `limit` (Mastodon's trends): a `Link` header with
/// `next` when the page is full and `prev` when it does not start at the top.
pub struct OffsetPaged<T> {
    pub items: Vec<T>,
    pub offset: usize,
    pub limit: usize,
    /// The endpoint's absolute URL with its query, `offset` left out.
    pub url: String,
}

impl<T> OffsetPaged<T> {
    pub fn new(items: Vec<T>, offset: usize, limit: usize, here: LinkBase) -> OffsetPaged<T> {
        let (path, query) = here.0.split_once('?').unwrap_or((&here.0, ""));
        let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k != "offset")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut url = path.to_string();
        url.push('?');
        url.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept)
                .finish(),
        );
        OffsetPaged {
            items,
            offset,
            limit,
            url,
        }
    }
}

impl<T: Serialize> IntoResponse for OffsetPaged<T> {
    fn into_response(self) -> Response {
        let mut links = Vec::new();
        let sep = if self.url.ends_with('?') { "" } else { "&" };
        if self.items.len() >= self.limit {
            let next = self.offset + self.limit;
            links.push(format!("<{}{sep}offset={next}>; rel=\"next\"", self.url));
        }
        if self.offset > 0 {
            let prev = self.offset.saturating_sub(self.limit);
            links.push(format!("<{}{sep}offset={prev}>; rel=\"prev\"", self.url));
        }
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
            if !links.is_empty() {
                headers.insert(axum::http::header::LINK, v);
            }
        }
        (headers, Json(self.items)).into_response()
    }
}

/// The absolute URL of the current request without its paging parameters: the base of
/// the `Link` header's URLs, so following a link keeps `limit` and the filters.
pub struct LinkBase(pub String);

impl axum::extract::FromRequestParts<AppState> for LinkBase {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let kept: Vec<(String, String)> =
            form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                .filter(|(k, _)| !matches!(k.as_ref(), "max_id" | "min_id" | "since_id"))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        let mut url = state.url(parts.uri.path());
        if !kept.is_empty() {
            url.push('?');
            url.push_str(
                &form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(kept)
                    .finish(),
            );
        }
        Ok(LinkBase(url))
    }
}
