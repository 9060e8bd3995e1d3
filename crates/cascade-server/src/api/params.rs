//! Request parameters as Mastodon accepts them: from the query string and from a JSON,
//! form-urlencoded, multipart (text fields) or empty body, merged into one object.
//! Rails-style keys (`id[]=1`, `fields_attributes[0][name]=x`) become arrays and objects,
//! and the `flex` helpers accept
//! `"true"`/`"1"` and numeric strings, so form clients (Mastodon.py) and JSON clients
//! (masto.js) are served by the same handler types.
//!
//! Every format is held to the same bounds (`cascade_core::limits`): bracket depth, number
//! of values, key and value bytes. Past them the request is a 400 that names the bound,
//! before anything recurses or allocates in proportion to the input.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use cascade_core::limits::{
    MAX_PARAMS, MAX_PARAM_DEPTH, MAX_PARAM_KEY_BYTES, MAX_PARAM_VALUE_BYTES,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Deserialized parameters of a request. Malformed bodies are a 400, too-large ones a 413.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        parse(req, state, None).await
    }
}

/// A file sent in a multipart body (`avatar`, `header`), with its field name.
#[derive(Debug, Clone)]
pub struct FilePart {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Parameters as `Params` reads them, and the files of a multipart body: at most
/// `MAX_FILES`, each of at most the route's body limit.
pub struct ParamsWithFiles<T>(pub T, pub Vec<FilePart>);

/// Files one request may carry.
pub const MAX_FILES: usize = 4;

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ParamsWithFiles<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut files = Vec::new();
        let Params(params) = parse(req, state, Some(&mut files)).await?;
        Ok(ParamsWithFiles(params, files))
    }
}

/// Reads the parameters; files in a multipart body are refused, unless `files` takes
/// them.
async fn parse<S: Send + Sync, T: DeserializeOwned>(
    req: Request,
    state: &S,
    files: Option<&mut Vec<FilePart>>,
) -> Result<Params<T>, ApiError> {
    let mut budget = Budget::default();
    let mut merged = parse_form(req.uri().query().unwrap_or("").as_bytes(), &mut budget)?;
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        merged.extend(multipart_to_json(req, state, &mut budget, files).await?);
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
                Ok(Value::Object(map)) => {
                    budget.object(&map, 1)?;
                    map
                }
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
            parse_form(&bytes, &mut budget)?
        } else {
            return Err(ApiError::BadRequest(format!(
                "Unsupported content type {content_type:?}: send JSON or form-urlencoded parameters"
            )));
        };
        merged.extend(body);
    }
    deserialize(merged)
}

fn deserialize<T: DeserializeOwned>(merged: Map<String, Value>) -> Result<Params<T>, ApiError> {
    serde_json::from_value(Value::Object(merged))
        .map(Params)
        .map_err(|e| ApiError::BadRequest(format!("Invalid parameters: {e}")))
}

/// The text fields of a multipart body (masto.js sends sign-ups and profile updates this
/// way), with Rails-style keys as in forms. File fields go to `files` where the route
/// takes them, and are refused elsewhere: dropping a file silently would mislead the
/// client.
async fn multipart_to_json<S: Send + Sync>(
    req: Request,
    state: &S,
    budget: &mut Budget,
    mut files: Option<&mut Vec<FilePart>>,
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
            let Some(files) = files.as_deref_mut() else {
                return Err(ApiError::unprocessable(format!(
                    "File uploads ({name}) are not accepted here"
                )));
            };
            if files.len() >= MAX_FILES {
                return Err(ApiError::BadRequest(format!(
                    "Too many files (at most {MAX_FILES})"
                )));
            }
            let bytes = field.bytes().await.map_err(bad)?.to_vec();
            files.push(FilePart { name, bytes });
            continue;
        }
        budget.key(&name)?;
        let value = field.text().await.map_err(bad)?;
        budget.value(&value)?;
        let path = split_key(&name)?;
        if !path[0].is_empty() {
            insert(&mut root, &path, value);
        }
    }
    for v in root.values_mut() {
        numeric_objects_to_arrays(v);
    }
    Ok(root)
}

/// What a request's parameters have used of their bounds so far: the query string, then
/// the body, count against one budget.
#[derive(Debug, Default)]
pub struct Budget {
    values: usize,
}

impl Budget {
    fn count(&mut self) -> Result<(), ApiError> {
        self.values += 1;
        if self.values > MAX_PARAMS {
            return Err(ApiError::BadRequest(format!(
                "Too many parameters (at most {MAX_PARAMS})"
            )));
        }
        Ok(())
    }

    fn key(&mut self, key: &str) -> Result<(), ApiError> {
        self.count()?;
        if key.len() > MAX_PARAM_KEY_BYTES {
            return Err(ApiError::BadRequest(format!(
                "A parameter name is too long (at most {MAX_PARAM_KEY_BYTES} bytes)"
            )));
        }
        Ok(())
    }

    fn value(&mut self, value: &str) -> Result<(), ApiError> {
        if value.len() > MAX_PARAM_VALUE_BYTES {
            return Err(ApiError::BadRequest(format!(
                "A parameter value is too long (at most {MAX_PARAM_VALUE_BYTES} bytes)"
            )));
        }
        Ok(())
    }

    fn depth(depth: usize) -> Result<(), ApiError> {
        if depth > MAX_PARAM_DEPTH {
            return Err(ApiError::BadRequest(format!(
                "Parameters are nested too deeply (at most {MAX_PARAM_DEPTH} levels)"
            )));
        }
        Ok(())
    }

    /// Checks a parsed JSON object at `depth` (the body itself is depth 1). serde_json
    /// stops at 128 levels, so this recursion is bounded before it starts.
    fn object(&mut self, map: &Map<String, Value>, depth: usize) -> Result<(), ApiError> {
        Self::depth(depth)?;
        for (key, value) in map {
            self.key(key)?;
            self.json(value, depth)?;
        }
        Ok(())
    }

    fn json(&mut self, value: &Value, depth: usize) -> Result<(), ApiError> {
        match value {
            Value::Object(map) => self.object(map, depth + 1),
            Value::Array(items) => {
                Self::depth(depth + 1)?;
                for item in items {
                    self.count()?;
                    self.json(item, depth + 1)?;
                }
                Ok(())
            }
            Value::String(s) => self.value(s),
            _ => Ok(()),
        }
    }
}

/// Parses `a=1&b[]=2&b[]=3&c[0][name]=x` into `{"a":"1","b":["2","3"],"c":[{"name":"x"}]}`,
/// or refuses it past the bounds of `cascade_core::limits`.
pub fn form_to_json(input: &[u8]) -> Result<Map<String, Value>, ApiError> {
    parse_form(input, &mut Budget::default())
}

fn parse_form(input: &[u8], budget: &mut Budget) -> Result<Map<String, Value>, ApiError> {
    let mut root = Map::new();
    for (key, value) in form_urlencoded::parse(input) {
        budget.key(&key)?;
        budget.value(&value)?;
        let path = split_key(&key)?;
        if path[0].is_empty() {
            continue;
        }
        insert(&mut root, &path, value.into_owned());
    }
    for v in root.values_mut() {
        numeric_objects_to_arrays(v);
    }
    Ok(root)
}

/// The segments of a Rails-style key; never empty, and never deeper than the bound, so
/// `insert` and `numeric_objects_to_arrays` recurse a bounded number of times.
fn split_key(key: &str) -> Result<Vec<String>, ApiError> {
    let (base, rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    let mut path = vec![base.to_string()];
    let mut rest = rest;
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(end) = stripped.find(']') else { break };
        path.push(stripped[..end].to_string());
        Budget::depth(path.len())?;
        rest = &stripped[end + 1..];
    }
    Ok(path)
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

    /// An `offset`: refused past `MAX_OFFSET`, since skipping costs as much as reading.
    pub fn opt_offset<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        let max = cascade_core::limits::MAX_OFFSET;
        match opt_usize(d)? {
            Some(n) if n > max => Err(D::Error::custom(format!("offset must be at most {max}"))),
            n => Ok(n),
        }
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

    /// As `strings`, `None` when the parameter was not sent (or was null).
    pub fn opt_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
        let v = Value::deserialize(d)?;
        if v.is_null() {
            return Ok(None);
        }
        strings(v).map(Some).map_err(D::Error::custom)
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
        let v = form_to_json(b"a=1&id[]=2&id[]=3&fields_attributes[1][name]=y&fields_attributes[0][name]=x&fields_attributes[0][value]=v").unwrap();
        assert_eq!(
            Value::Object(v),
            serde_json::json!({"a":"1","id":["2","3"],"fields_attributes":[{"name":"x","value":"v"},{"name":"y"}]})
        );
    }

    #[test]
    fn parameters_past_their_bounds_are_refused() {
        let deep = format!("a{}=1", "[x]".repeat(MAX_PARAM_DEPTH));
        assert!(form_to_json(deep.as_bytes()).is_err());
        let ok = format!("a{}=1", "[x]".repeat(MAX_PARAM_DEPTH - 1));
        assert!(form_to_json(ok.as_bytes()).is_ok());
        let many = "a[]=1&".repeat(MAX_PARAMS + 1);
        assert!(form_to_json(many.as_bytes()).is_err());
        let long_key = format!("{}=1", "k".repeat(MAX_PARAM_KEY_BYTES + 1));
        assert!(form_to_json(long_key.as_bytes()).is_err());
        let long_value = format!("k={}", "v".repeat(MAX_PARAM_VALUE_BYTES + 1));
        assert!(form_to_json(long_value.as_bytes()).is_err());
    }

    fn nested_key() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        (
            "[a-z0-9]{0,4}",
            proptest::collection::vec(
                prop_oneof!["", "[0-9]{1,3}", "[a-z]{1,3}", "[\\[\\]]"],
                0..40,
            ),
        )
            .prop_map(|(base, segments)| {
                let mut key = base;
                for s in segments {
                    key.push('[');
                    key.push_str(&s);
                    key.push(']');
                }
                key
            })
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_the_form_parser(input in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
            let _ = form_to_json(&input);
        }

        #[test]
        fn arbitrary_nested_keys_parse_or_are_refused(
            keys in proptest::collection::vec((nested_key(), "[a-z0-9%]{0,8}"), 0..64)
        ) {
            let input = keys
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&");
            if let Ok(map) = form_to_json(input.as_bytes()) {
                // What the parser accepts it can also check as a JSON body.
                let mut budget = Budget::default();
                proptest::prop_assert!(budget.object(&map, 1).is_ok());
            }
        }

        #[test]
        fn arbitrary_json_bodies_never_panic_the_bounds(input in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&input) {
                let _ = Budget::default().object(&map, 1);
            }
        }
    }
}
