//! Request parameters as Mastodon accepts them: from the query string and from a JSON,
//! form-urlencoded, multipart (text fields) or empty body, merged into one object.
//! Rails-style keys (`id[]=1`, `fields_attributes[0][name]=x`) become arrays and objects,
//! and the `flex` helpers accept
//! `"true"`/`"1"` and numeric strings, so form clients (Mastodon.py) and JSON clients
//! (masto.js) are served by the same handler types.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Deserialized parameters of a request. Malformed bodies are a 400, too-large ones a 413.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut merged = form_to_json(req.uri().query().unwrap_or("").as_bytes());
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            merged.extend(multipart_to_json(req, state).await?);
            return deserialize(merged);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::BadRequest("Could not read the request body".into())
            }
        })?;
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            let body = if content_type.starts_with("application/json") {
                match serde_json::from_slice::<Value>(&bytes) {
                    Ok(Value::Object(map)) => map,
                    Ok(_) => {
                        return Err(ApiError::BadRequest(
                            "The JSON body must be an object".into(),
                        ))
                    }
                    Err(e) => {
                        return Err(ApiError::BadRequest(format!(
                            "The request body is not valid JSON: {e}"
                        )))
                    }
                }
            } else if content_type.is_empty()
                || content_type.starts_with("application/x-www-form-urlencoded")
            {
                form_to_json(&bytes)
            } else {
                return Err(ApiError::BadRequest(format!(
                    "Unsupported content type {content_type:?}: send JSON or form-urlencoded parameters"
                )));
            };
            merged.extend(body);
        }
        deserialize(merged)
    }
}

fn deserialize<T: DeserializeOwned>(merged: Map<String, Value>) -> Result<Params<T>, ApiError> {
    serde_json::from_value(Value::Object(merged))
        .map(Params)
        .map_err(|e| ApiError::BadRequest(format!("Invalid parameters: {e}")))
}

/// The text fields of a multipart body (masto.js sends sign-ups and profile updates this
/// way), with Rails-style keys as in forms. File fields are refused: Cascade stores no
/// media yet, and dropping a file silently would mislead the client.
async fn multipart_to_json<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<Map<String, Value>, ApiError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            ApiError::BadRequest(format!("The multipart body is malformed: {e}"))
        }
    };
    let mut multipart = axum::extract::Multipart::from_request(req, state)
        .await
        .map_err(|e| ApiError::BadRequest(format!("The multipart body is malformed: {e}")))?;
    let mut root = Map::new();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if field.file_name().is_some() {
            return Err(ApiError::unprocessable(format!(
                "File uploads ({name}) are not supported by this server yet"
            )));
        }
        let value = field.text().await.map_err(bad)?;
        let path = split_key(&name);
        if !path.is_empty() && !path[0].is_empty() {
            insert(&mut root, &path, value);
        }
    }
    for v in root.values_mut() {
        numeric_objects_to_arrays(v);
    }
    Ok(root)
}

/// Parses `a=1&b[]=2&b[]=3&c[0][name]=x` into `{"a":"1","b":["2","3"],"c":[{"name":"x"}]}`.
pub fn form_to_json(input: &[u8]) -> Map<String, Value> {
    let mut root = Map::new();
    for (key, value) in form_urlencoded::parse(input) {
        let path = split_key(&key);
        if path.is_empty() || path[0].is_empty() {
            continue;
        }
        insert(&mut root, &path, value.into_owned());
    }
    for v in root.values_mut() {
        numeric_objects_to_arrays(v);
    }
    root
}

fn split_key(key: &str) -> Vec<String> {
    let (base, rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    let mut path = vec![base.to_string()];
    let mut rest = rest;
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(end) = stripped.find(']') else { break };
        path.push(stripped[..end].to_string());
        rest = &stripped[end + 1..];
    }
    path
}

fn insert(map: &mut Map<String, Value>, path: &[String], value: String) {
    let key = path[0].clone();
    match path.get(1) {
        None => {
            map.insert(key, Value::String(value));
        }
        Some(next) if next.is_empty() => {
            let entry = map.entry(key).or_insert_with(|| Value::Array(Vec::new()));
            if !entry.is_array() {
                *entry = Value::Array(Vec::new());
            }
            if let Value::Array(items) = entry {
                items.push(Value::String(value));
            }
        }
        Some(_) => {
            let entry = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                insert(inner, &path[1..], value);
            }
        }
    }
}

fn numeric_objects_to_arrays(v: &mut Value) {
    if let Value::Object(map) = v {
        for inner in map.values_mut() {
            numeric_objects_to_arrays(inner);
        }
        if !map.is_empty() && map.keys().all(|k| k.parse::<u32>().is_ok()) {
            let mut items: Vec<(u32, Value)> = std::mem::take(map)
                .into_iter()
                .map(|(k, v)| (k.parse().unwrap_or(0), v))
                .collect();
            items.sort_by_key(|(k, _)| *k);
            *v = Value::Array(items.into_iter().map(|(_, v)| v).collect());
        }
    }
}

/// Lenient deserializers for values that arrive as strings from forms and query strings.
pub mod flex {
    use serde::de::{Deserialize, Deserializer, Error};
    use serde_json::Value;

    fn to_bool<E: Error>(v: &Value) -> Result<bool, E> {
        match v {
            Value::Bool(b) => Ok(*b),
            Value::Number(n) => Ok(n.as_i64() != Some(0)),
            Value::String(s) => match s.as_str() {
                "true" | "1" | "on" | "yes" | "True" => Ok(true),
                "false" | "0" | "off" | "no" | "False" | "" => Ok(false),
                _ => Err(E::custom(format!("{s:?} is not a boolean"))),
            },
            Value::Null => Ok(false),
            _ => Err(E::custom("expected a boolean")),
        }
    }

    pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        to_bool(&Value::deserialize(d)?)
    }

    pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            v => to_bool(&v).map(Some),
        }
    }

    fn to_i64<E: Error>(v: &Value) -> Result<Option<i64>, E> {
        match v {
            Value::Null => Ok(None),
            Value::Number(n) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| E::custom("expected an integer")),
            Value::String(s) if s.is_empty() => Ok(None),
            Value::String(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| E::custom(format!("{s:?} is not an integer"))),
            _ => Err(E::custom("expected an integer")),
        }
    }

    pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        to_i64(&Value::deserialize(d)?)
    }

    pub fn opt_usize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        Ok(to_i64::<D::Error>(&Value::deserialize(d)?)?.map(|n| n.max(0) as usize))
    }

    /// An id: a string of digits or a number. Anything else is `Some(-1)`, an id that
    /// matches nothing, so an unknown id is a 404 as in Mastodon, not a 400.
    pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.parse().unwrap_or(-1)),
            Value::Number(n) => Some(n.as_i64().unwrap_or(-1)),
            _ => Some(-1),
        })
    }

    /// One string or a list of strings (and numbers, rendered as strings).
    pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        fn one<E: Error>(v: Value) -> Result<String, E> {
            match v {
                Value::String(s) => Ok(s),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(E::custom("expected a string")),
            }
        }
        match Value::deserialize(d)? {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items.into_iter().map(one).collect(),
            v => Ok(vec![one(v)?]),
        }
    }

    /// A string, or a number rendered as one.
    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            _ => Err(D::Error::custom("expected a string")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rails_style_keys_become_arrays_and_objects() {
        let v = form_to_json(b"a=1&id[]=2&id[]=3&fields_attributes[1][name]=y&fields_attributes[0][name]=x&fields_attributes[0][value]=v");
        assert_eq!(
            Value::Object(v),
            serde_json::json!({"a":"1","id":["2","3"],"fields_attributes":[{"name":"x","value":"v"},{"name":"y"}]})
        );
    }
}
