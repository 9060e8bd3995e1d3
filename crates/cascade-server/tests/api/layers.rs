//! The layers point one way: handlers (`api`, `web`) call use cases (`app`), which call
//! the store and core; the use cases, the worker and the composition root (`state`,
//! `config`) never reach up into the HTTP layer, and core does no IO. These tests read the
//! source, so a change that turns an arrow around fails here before review.

use std::path::{Path, PathBuf};

fn source(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("a source folder") {
            rust_files(&entry.expect("an entry").path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// Lines of code (not comments) in `files` that mention any of `forbidden`.
fn offenders(files: &[&str], forbidden: &[&str]) -> Vec<String> {
    let mut paths = Vec::new();
    for f in files {
        rust_files(&source(f), &mut paths);
    }
    assert!(!paths.is_empty(), "the guard reads some source");
    let mut found = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("a source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if forbidden.iter().any(|f| code.contains(f)) {
                found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn use_cases_the_worker_and_the_composition_root_never_use_the_http_layer() {
    let below = [
        "src/app",
        "src/state.rs",
        "src/config.rs",
        "src/worker.rs",
        "src/secrets.rs",
        "src/throttle.rs",
        "src/search.rs",
        "src/analyze.rs",
        "src/media",
    ];
    let up = [
        "crate::api",
        "crate::web::",
        "crate::web;",
        "super::api",
        "super::web::",
        "axum::",
    ];
    let found = offenders(&below, &up);
    assert!(found.is_empty(), "layers point up:\n{}", found.join("\n"));
}

#[test]
fn core_does_no_io() {
    let io = [
        "std::fs",
        "std::net",
        "std::process",
        "tokio",
        "sqlx",
        "reqwest",
    ];
    let found = offenders(&["../cascade-core/src"], &io);
    assert!(found.is_empty(), "core does IO:\n{}", found.join("\n"));
}

#[test]
fn the_guard_catches_an_upward_import() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.rs");
    std::fs::write(
        &file,
        "// crate::api in a comment is fine\nuse crate::api::model;\n",
    )
    .unwrap();
    let found = offenders(&[file.to_str().unwrap()], &["crate::api"]);
    assert_eq!(found.len(), 1, "{found:?}");
}
