//! The `cascade` binary as a newcomer uses it: `serve --demo`, and the admin commands run
//! against the same data folder while the server is running.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::eventually;

const BIN: &str = env!("CARGO_BIN_EXE_cascade");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts `cascade serve` and waits for it to say it listens; returns the process and the
/// lines it printed on the way.
pub async fn serve(args: &[&str]) -> (Child, Vec<String>) {
    serve_with(args, &[]).await
}

/// `serve` with extra environment variables.
pub async fn serve_with(args: &[&str], env: &[(&str, &str)]) -> (Child, Vec<String>) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .env_remove("CASCADE_DATABASE_URL")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cascade starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    let wait = async {
        while let Ok(Some(line)) = lines.next_line().await {
            let done = line.contains("listening on");
            seen.push(line);
            if done {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), wait)
        .await
        .expect("the server starts in time");
    assert!(
        seen.last().is_some_and(|l| l.contains("listening on")),
        "the server did not start: {seen:?}"
    );
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, seen)
}

pub async fn admin(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("admin")
        .args(args)
        .env_remove("CASCADE_DATABASE_URL")
        .output()
        .await
        .expect("cascade admin runs")
}

#[tokio::test]
async fn admin_commands_work_on_the_store_of_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let (_server, _) = serve(&["--data", data, "--listen", &listen]).await;

    let created = admin(&[
        "create-user",
        "operator",
        "--email",
        "op@example.test",
        "--password",
        "long enough pw",
        "--data",
        data,
    ])
    .await;
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let token = admin(&[
        "token",
        "operator",
        "--scopes",
        "read write",
        "--data",
        data,
    ])
    .await;
    assert!(token.status.success());
    let token = String::from_utf8(token.stdout).unwrap();
    assert_eq!(token.lines().count(), 1, "stdout holds only the token");

    let client = reqwest::Client::new();
    let me: serde_json::Value = client
        .get(format!(
            "http://{listen}/api/v1/accounts/verify_credentials"
        ))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "operator");

    let unknown = admin(&["token", "nobody", "--data", data]).await;
    assert!(!unknown.status.success());
    assert!(unknown.stdout.is_empty());

    // A limited account's notifications wait in a request (the default policy filters
    // them) until the limit is lifted.
    let made = admin(&[
        "create-user",
        "noisy",
        "--email",
        "n@example.test",
        "--password",
        "long enough pw",
        "--data",
        data,
    ])
    .await;
    assert!(made.status.success());
    let noisy = String::from_utf8(admin(&["token", "noisy", "--data", data]).await.stdout).unwrap();
    let mention = |text: &'static str| {
        let (client, listen, noisy) = (client.clone(), listen.clone(), noisy.trim().to_string());
        async move {
            let res = client
                .post(format!("http://{listen}/api/v1/statuses"))
                .bearer_auth(noisy)
                .json(&serde_json::json!({"status": text}))
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success());
        }
    };
    let mentions = || {
        let (client, listen, token) = (client.clone(), listen.clone(), token.trim().to_string());
        async move {
            let list: Vec<serde_json::Value> = client
                .get(format!(
                    "http://{listen}/api/v1/notifications?types[]=mention"
                ))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            list.len()
        }
    };
    let requests = || {
        let (client, listen, token) = (client.clone(), listen.clone(), token.trim().to_string());
        async move {
            let list: Vec<serde_json::Value> = client
                .get(format!("http://{listen}/api/v1/notifications/requests"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            list.len()
        }
    };
    mention("@operator one").await;
    eventually("the first mention", || async { mentions().await == 1 }).await;
    assert!(admin(&["limit", "noisy", "--data", data])
        .await
        .status
        .success());
    mention("@operator two").await;
    eventually("the limited mention waits in a request", || async {
        requests().await == 1
    })
    .await;
    assert_eq!(
        mentions().await,
        1,
        "the limited account's mention is filtered"
    );
    assert!(admin(&["limit", "noisy", "--lift", "--data", data])
        .await
        .status
        .success());
    mention("@operator three").await;
    eventually("the mention after the lift", || async {
        mentions().await == 2
    })
    .await;
    assert!(!admin(&["limit", "nobody", "--data", data])
        .await
        .status
        .success());
    let spam = admin(&["spam", "noisy", "--data", data]).await;
    assert!(spam.status.success());
    let verdict: serde_json::Value = serde_json::from_slice(&spam.stdout).unwrap();
    assert_eq!(verdict["account"], "noisy");
    assert_eq!(verdict["spam"], false, "{verdict}");
    assert!(verdict["likelihood"].as_f64().unwrap() < 0.5);
}

#[tokio::test]
async fn admin_tokens_lists_and_revokes_a_users_tokens_beside_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    // The polls below would soon reach the rate limit of one account.
    let (_server, _) = serve(&["--data", data, "--listen", &listen, "--rate-limit", "0"]).await;
    let made = admin(&[
        "create-user",
        "operator",
        "--email",
        "op@example.test",
        "--password",
        "long enough pw",
        "--data",
        data,
    ])
    .await;
    assert!(made.status.success());
    let issue = || async {
        let out = admin(&["token", "operator", "--data", data]).await;
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let (first, second) = (issue().await, issue().await);
    let client = reqwest::Client::new();
    let status = |token: String| {
        let (client, listen) = (client.clone(), listen.clone());
        async move {
            client
                .get(format!(
                    "http://{listen}/api/v1/accounts/verify_credentials"
                ))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(first.clone()).await, 200, "cached by the server now");
    let listed = || async {
        let out = admin(&["tokens", "operator", "--data", data]).await;
        assert!(out.status.success());
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    let tokens = listed().await;
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert_eq!(tokens[0][2], "cascade admin token");
    assert_eq!(tokens[0][3], "read write follow push");

    let revoked = admin(&[
        "tokens",
        "operator",
        "--revoke",
        &tokens[0][0],
        "--data",
        data,
    ])
    .await;
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    eventually("the running server refuses the revoked token", || async {
        status(first.clone()).await == 401
    })
    .await;
    assert_eq!(
        status(second.clone()).await,
        200,
        "the other token still works"
    );
    assert_eq!(listed().await.len(), 1);

    let unknown = admin(&["tokens", "operator", "--revoke", "12345", "--data", data]).await;
    assert!(!unknown.status.success(), "no such token");
    assert!(
        admin(&["tokens", "operator", "--revoke", "all", "--data", data])
            .await
            .status
            .success()
    );
    eventually("every token is refused", || async {
        status(second.clone()).await == 401
    })
    .await;
    assert!(listed().await.is_empty());
}

#[tokio::test]
async fn serve_demo_builds_a_world_with_a_viral_post_and_a_login() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let (_server, said) = serve(&["--demo", "--data", data, "--listen", &listen]).await;
    let said = said.join("\n");
    let url = said
        .split_whitespace()
        .find(|w| w.contains("/@") && w.starts_with("http"))
        .expect("the viral post's URL")
        .to_string();
    assert!(said.contains("demo-password-123"), "{said}");
    let id = url.rsplit('/').next().unwrap();
    let client = reqwest::Client::new();
    let viral: serde_json::Value = client
        .get(format!("http://{listen}/api/v1/statuses/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(viral["reblogs_count"].as_i64().unwrap() >= 100, "{viral}");
    assert!(viral["quotes_count"].as_i64().unwrap() >= 1);
    assert!(
        viral["account"]["followers_count"].as_i64().unwrap() < 50,
        "a small account went viral"
    );

    let token = admin(&["token", "demo", "--data", data]).await;
    let token = String::from_utf8(token.stdout).unwrap();
    let home: serde_json::Value = client
        .get(format!("http://{listen}/api/v1/timelines/home"))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        home.as_array().unwrap().len(),
        20,
        "the demo login has a full home timeline"
    );
    let instance: serde_json::Value = client
        .get(format!("http://{listen}/api/v2/instance"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(instance["usage"]["users"]["active_month"].as_i64().unwrap() >= 1);
}

fn shared_data() -> Option<std::path::PathBuf> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.exists() {
        Some(dir)
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must have shared/data beside the repository"
        );
        eprintln!("\n#### SKIPPED: shared/data is not beside the repository; cascade analyze was not checked on real data. ####\n");
        None
    }
}

async fn analyze(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("analyze")
        .args(args)
        .output()
        .await
        .expect("cascade analyze runs")
}

#[tokio::test]
async fn analyze_matches_the_seismic_reference_on_its_example_tweet() {
    let Some(data) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("tweet.csv");
    let unpacked = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(data.join("seismic-example-tweet/tweet.csv.gz"))
        .output()
        .unwrap();
    std::fs::write(&csv, unpacked.stdout).unwrap();
    let out = analyze(&[csv.to_str().unwrap(), "--at", "3600", "21600"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reference =
        std::fs::read_to_string(data.join("seismic-example-tweet/seismic_reference_6h_step60.csv"))
            .unwrap();
    for (i, at) in ["3600", "21600"].into_iter().enumerate() {
        let row: Vec<f64> = reference
            .lines()
            .find(|l| l.starts_with(&format!("{at},")))
            .unwrap()
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        let got = &results[i];
        assert_eq!(got["observed"].as_f64().unwrap(), row[5]);
        for (field, want) in [("infectiousness", row[1]), ("final_reshares", row[4])] {
            let value = got["prediction"][field].as_f64().unwrap();
            assert!(
                ((value - want) / want).abs() < 1e-6,
                "{field} at {at}: {value} vs {want}"
            );
        }
    }
}

#[tokio::test]
async fn analyze_reads_propagation_trees_and_names_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree.txt");
    std::fs::write(
        &tree,
        "['ROOT', 'ROOT', '0.0']->['1', '7', '0.0']\n['1', '7', '0.0']->['2', '7', '1.5']\n['2', '7', '1.5']->['3', '7', '4.0']\n['1', '7', '0.0']->['4', '7', '9.0']\n",
    )
    .unwrap();
    let out = analyze(&[tree.to_str().unwrap(), "--at", "300"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        results[0]["tree"]["size"], 3,
        "only what happened by 5 minutes"
    );
    assert_eq!(results[0]["tree"]["depth"], 2);
    assert!(
        results[0]["prediction"].is_null(),
        "trees carry no follower counts"
    );

    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "0 10\n5 10\n7 many\n").unwrap();
    let out = analyze(&[bad.to_str().unwrap()]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3"), "{err}");
    assert!(!err.contains("backtrace"), "{err}");
}
