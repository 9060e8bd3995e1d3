//! Real clients against the running server: Mastodon.py, from a virtualenv that
//! `scripts/test` installs, goes register → follow → post → home → favourite → reblog →
//! quote, and validates every entity it receives against the community OpenAPI schemas.
//! The `toot` CLI (same virtualenv) and masto.js (`npm ci` in tests/clients/masto, which
//! `scripts/test` also runs) go register → follow → post → home → favourite → reblog and
//! page through timelines by their Link headers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::helpers::spawn_app;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test]
async fn mastodon_py_registers_follows_posts_and_reshares() {
    let Ok(python) = std::env::var("CASCADE_PYTHON") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must run the Mastodon.py test: CASCADE_PYTHON is not set"
        );
        eprintln!("\n#### SKIPPED: CASCADE_PYTHON is not set, so the Mastodon.py client test did not run. Use scripts/test. ####\n");
        return;
    };
    let app = spawn_app().await;
    let script = repo_root().join("tests/clients/mastodon_py_flow.py");
    let base = app.url("");
    let output = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(&base)
        .output()
        .await
        .expect("the Python client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "Mastodon.py flow failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("quote"),
        "the flow reached the quote step:\n{stdout}"
    );
}

/// Mastodon.py's calls for media, polls, scheduled statuses, account notes, featured
/// tags, announcements, custom emojis and the admin API, each answer schema-checked.
#[tokio::test]
async fn mastodon_py_uploads_media_votes_schedules_and_notes() {
    let Ok(python) = std::env::var("CASCADE_PYTHON") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must run the Mastodon.py test: CASCADE_PYTHON is not set"
        );
        eprintln!("\n#### SKIPPED: CASCADE_PYTHON is not set, so the Mastodon.py client test did not run. Use scripts/test. ####\n");
        return;
    };
    let app = spawn_app().await;
    let moderator = app
        .user_with_scopes("moderator", "read write follow admin:read admin:write")
        .await;
    cascade_server::app::admin::set_role(
        &app.state,
        moderator.id.parse().unwrap(),
        Some("moderator"),
    )
    .await
    .unwrap();
    let output = tokio::process::Command::new(&python)
        .arg(repo_root().join("tests/clients/mastodon_py_more.py"))
        .arg(app.url(""))
        .arg(&moderator.token)
        .output()
        .await
        .expect("the Python client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("PASS"),
        "Mastodon.py (media, polls, ...) failed:\n{stdout}\n{stderr}"
    );
}

/// How long one client flow may take before the test gives up on it.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

/// Whether CI is running the tests, where a client that cannot run is a failure.
fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Runs a client flow against `base` and returns its stdout, failing with all it printed.
async fn run_flow(what: &str, program: &Path, args: &[&Path], base: &str) -> String {
    let mut command = tokio::process::Command::new(program);
    command.args(args).arg(base).kill_on_drop(true);
    let output = tokio::time::timeout(CLIENT_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("the {what} flow did not finish in {CLIENT_TIMEOUT:?}"))
        .unwrap_or_else(|e| {
            panic!(
                "the {what} flow could not start ({}): {e}",
                program.display()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what} flow failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout
}

#[tokio::test]
async fn masto_js_registers_follows_posts_and_reads_timelines() {
    let dir = repo_root().join("tests/clients/masto");
    let node_runs = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let missing = if !node_runs {
        Some("`node` is not on PATH")
    } else if !dir.join("node_modules/masto/package.json").is_file() {
        Some("tests/clients/masto/node_modules is missing (run `npm ci` there)")
    } else {
        None
    };
    if let Some(why) = missing {
        assert!(!in_ci(), "CI must run the masto.js test: {why}");
        eprintln!("\n#### SKIPPED: {why}, so the masto.js client test did not run. Use scripts/test. ####\n");
        return;
    }
    let app = spawn_app().await;
    let stdout = run_flow(
        "masto.js",
        Path::new("node"),
        &[&dir.join("flow.mjs")],
        &app.url(""),
    )
    .await;
    assert!(
        stdout.contains("PASS: masto.js flow"),
        "the masto.js flow did not report PASS:\n{stdout}"
    );
}

#[tokio::test]
async fn toot_posts_follows_and_reads_timelines() {
    let Ok(python) = std::env::var("CASCADE_PYTHON") else {
        assert!(
            !in_ci(),
            "CI must run the toot test: CASCADE_PYTHON is not set"
        );
        eprintln!("\n#### SKIPPED: CASCADE_PYTHON is not set, so the toot client test did not run. Use scripts/test. ####\n");
        return;
    };
    let app = spawn_app().await;
    let stdout = run_flow(
        "toot",
        Path::new(&python),
        &[&repo_root().join("tests/clients/toot_flow.py")],
        &app.url(""),
    )
    .await;
    assert!(
        stdout.contains("PASS: toot flow"),
        "the toot flow did not report PASS:\n{stdout}"
    );
}
