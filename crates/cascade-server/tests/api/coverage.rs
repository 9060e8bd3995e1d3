//! docs/API.md is the truth about what Cascade serves: it must list every operation of the
//! community OpenAPI description of the Mastodon API (`../shared/mastodon-openapi`, or
//! `CASCADE_OPENAPI`), and what it calls served must be routed, and what it calls "Not
//! yet" or "Not supported" must not be. Rows are the API.md tables' `| Method | Path |
//! Status | …` lines; a later path in the same cell that does not start at a root (`/unpin`)
//! replaces the first path's last segment.

use std::collections::BTreeSet;
use std::path::PathBuf;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::spawn_with;

/// Where a documented operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Served {
    Yes,
    No,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    method: String,
    path: String,
    served: Served,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `{id}`, `{account_id}` and `{}` all name one path parameter.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

const ROOTS: [&str; 11] = [
    "/api/",
    "/users/",
    "/inbox",
    "/actor",
    "/oauth/",
    "/.well-known/",
    "/nodeinfo",
    "/@",
    "/avatars/",
    "/headers/",
    "/system/",
];

/// The documented operations, from every table whose first two columns are the method and
/// the path. A table with a "Status" column says per row; the others (extensions) are served.
fn documented() -> Vec<Row> {
    let text = std::fs::read_to_string(repo().join("docs/API.md")).expect("docs/API.md");
    let mut rows = Vec::new();
    let mut status_column = None;
    for line in text.lines() {
        let Some(inner) = line.trim().strip_prefix('|') else {
            status_column = None;
            continue;
        };
        let cells: Vec<&str> = inner
            .trim_end_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.first() == Some(&"Method") {
            status_column = Some(cells.iter().position(|c| c.starts_with("Status")));
            continue;
        }
        let Some(status_at) = status_column else {
            continue;
        };
        if cells.len() < 2 || cells[0].starts_with("---") {
            continue;
        }
        let served = match status_at.map(|at| cells.get(at).copied().unwrap_or("")) {
            Some(s) if s.starts_with("Not yet") || s.starts_with("Not supported") => Served::No,
            _ => Served::Yes,
        };
        let mut paths: Vec<String> = Vec::new();
        for (n, piece) in cells[1].split('`').enumerate() {
            // Code spans between backticks; a prefix such as `/api/v1/` names no operation.
            if n % 2 == 0 || !piece.starts_with('/') || piece.ends_with('/') {
                continue;
            }
            let path = if ROOTS.iter().any(|r| piece.starts_with(r)) || paths.is_empty() {
                piece.to_string()
            } else {
                let first = &paths[0];
                format!("{}{piece}", &first[..first.rfind('/').unwrap_or(0)])
            };
            paths.push(path);
        }
        for method in cells[0].split(',').map(str::trim) {
            assert!(
                method.chars().all(|c| c.is_ascii_uppercase()) && !method.is_empty(),
                "docs/API.md: a row's method must be GET, POST, …, not {method:?} ({line})"
            );
            for path in &paths {
                rows.push(Row {
                    method: method.to_string(),
                    path: path.clone(),
                    served,
                });
            }
        }
    }
    rows
}

fn openapi() -> Option<Value> {
    let path = std::env::var("CASCADE_OPENAPI")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join("../shared/mastodon-openapi/mastodon-openapi.json"));
    match std::fs::read(&path) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).expect("the OpenAPI document parses")),
        Err(_) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI must check API coverage: the OpenAPI description is missing"
            );
            eprintln!("\n#### SKIPPED: the Mastodon OpenAPI description was not found (set CASCADE_OPENAPI), so docs/API.md was not checked against it. ####\n");
            None
        }
    }
}

#[test]
fn api_md_lists_every_operation_of_the_openapi_description() {
    let Some(spec) = openapi() else { return };
    let documented: BTreeSet<(String, String)> = documented()
        .into_iter()
        .map(|row| (row.method, shape(&row.path)))
        .collect();
    let mut missing = Vec::new();
    let mut total = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            total += 1;
            let key = (method.to_uppercase(), shape(path));
            if !documented.contains(&key) {
                missing.push(format!("{} {path}", key.0));
            }
        }
    }
    assert!(
        total > 150,
        "the OpenAPI description has {total} operations"
    );
    assert!(
        missing.is_empty(),
        "docs/API.md does not list these operations of the OpenAPI description: {missing:#?}"
    );
}

/// Whether the router has a route for `method` on `path`: anything but 404 and 405 is a
/// handler answering; a 404 may be a handler's "Record not found", so the path is probed
/// with a method no route uses, which a routed path answers 405.
async fn routed(client: &reqwest::Client, base: &str, method: &str, path: &str) -> bool {
    let url = format!("{base}{}", concrete(path));
    let send = |m: Method| {
        let request = client.request(m, &url);
        async move { request.send().await.expect("the server answers").status() }
    };
    let status = send(Method::from_bytes(method.as_bytes()).unwrap()).await;
    match status.as_u16() {
        405 => false,
        404 => send(Method::TRACE).await == 405,
        _ => true,
    }
}

/// A documented path with its parameters filled in.
fn concrete(path: &str) -> String {
    shape(path).replace("{}", "1").replace("*", "")
}

#[tokio::test]
async fn what_api_md_calls_served_is_routed_and_nothing_else_is() {
    let app = spawn_with(|config| config.rate_limit = None).await;
    let base = format!("http://{}", app.addr);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let rows = documented();
    assert!(
        rows.len() > 200,
        "only {} documented operations",
        rows.len()
    );
    let mut wrong = Vec::new();
    for row in &rows {
        let is_routed = routed(&client, &base, &row.method, &row.path).await;
        match (row.served, is_routed) {
            (Served::Yes, false) => wrong.push(format!(
                "{} {} is documented as served but is not routed",
                row.method, row.path
            )),
            (Served::No, true) => wrong.push(format!(
                "{} {} is documented as not served but is routed",
                row.method, row.path
            )),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
