//! Interoperability with an independent ActivityPub implementation: a small Fedify server
//! (npm `@fedify/fedify`, `tests/clients/fedify/interop.mjs`; `npm ci` there, which
//! `scripts/test` runs) against a real Cascade server with a domain, both on loopback over
//! plain http (Cascade under the test-only `allow_private_outgoing`, Fedify under its
//! `allowPrivateAddress`). Fedify looks up a Cascade account by handle and by URL and a
//! public post by URL, reads NodeInfo, follows the account and gets its Accept, receives the account's
//! next post as Create(Note), and sends a signed Create(Note) mentioning it, which the
//! account sees as a mention notification. The script prints what it saw as JSON lines;
//! this test checks them, and Cascade's side through the client API.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

use crate::helpers::{eventually, spawn_with, TestApp};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
/// How long one step of the Fedify script may take (it waits up to 60 s itself).
const STEP_TIMEOUT: Duration = Duration::from_secs(90);

fn fedify_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients/fedify")
}

/// Whether CI is running the tests, where an interop test that cannot run is a failure.
fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Why the Fedify script cannot run here, if it cannot.
fn missing() -> Option<&'static str> {
    let node_runs = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node_runs {
        Some("`node` is not on PATH")
    } else if !fedify_dir()
        .join("node_modules/@fedify/fedify/package.json")
        .is_file()
    {
        Some("tests/clients/fedify/node_modules is missing (run `npm ci` there)")
    } else {
        None
    }
}

/// The running Fedify script: its JSON lines as they come, and its stderr (Fedify's log)
/// kept for failure messages.
struct Fedify {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl Fedify {
    fn start(base: &str, handle: &str, note_url: &str) -> Fedify {
        let mut child = tokio::process::Command::new("node")
            .arg(fedify_dir().join("interop.mjs"))
            .args([base, handle, note_url])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts the Fedify script");
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().expect("stderr");
        let keep = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                keep.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Fedify {
            child,
            lines,
            seen: Vec::new(),
            stderr,
        }
    }

    /// Everything the script said, for a failure message.
    fn transcript(&self) -> String {
        let log = self.stderr.lock().unwrap();
        // Fedify's debug log is long; its end says what went wrong.
        let skip = log.chars().count().saturating_sub(20_000);
        let tail: String = log.chars().skip(skip).collect();
        format!("stdout:\n{}\nstderr (end):\n{tail}", self.seen.join("\n"))
    }

    /// The next line whose `event` is `event`; fails on the script's failure, its end,
    /// or a step that takes too long.
    async fn next(&mut self, event: &str) -> Value {
        loop {
            let line = match tokio::time::timeout(STEP_TIMEOUT, self.lines.next_line()).await {
                Ok(Ok(Some(line))) => line,
                Ok(Ok(None)) => panic!(
                    "the Fedify script ended before `{event}`:\n{}",
                    self.transcript()
                ),
                Ok(Err(e)) => panic!("reading the Fedify script: {e}\n{}", self.transcript()),
                Err(_) => panic!(
                    "no `{event}` from the Fedify script in {STEP_TIMEOUT:?}:\n{}",
                    self.transcript()
                ),
            };
            self.seen.push(line.clone());
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if v["event"] == "fail" {
                panic!("the Fedify script failed:\n{}", self.transcript());
            }
            if v["event"] == event {
                return v;
            }
        }
    }

    async fn finish(mut self) {
        self.next("done").await;
        let status = tokio::time::timeout(STEP_TIMEOUT, self.child.wait())
            .await
            .expect("the Fedify script exits")
            .expect("its status");
        assert!(status.success(), "{status}:\n{}", self.transcript());
    }
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

async fn server() -> TestApp {
    spawn_with(|config| {
        config.allow_private_outgoing = true;
        config.rate_limit = None;
    })
    .await
}

#[tokio::test]
async fn fedify_looks_up_follows_receives_posts_and_mentions_a_cascade_account() {
    if let Some(why) = missing() {
        assert!(!in_ci(), "CI must run the Fedify interop test: {why}");
        eprintln!("\n#### SKIPPED: {why}, so the Fedify interop test did not run. Use scripts/test. ####\n");
        return;
    }
    let app = server().await;
    let domain = app.addr.to_string();
    let alice = app.user("alice").await;
    let first = app
        .post_status(&alice, "hello #fediverse from Cascade", "public")
        .await;
    let actor = app.url("/users/alice");
    let note_url = format!("{actor}/statuses/{}", first["id"].as_str().unwrap());
    let handle = format!("alice@{domain}");
    let served: Value = app
        .client
        .get(&actor)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(served["discoverable"].is_boolean(), "{served}");
    let mut fedify = Fedify::start(&app.url(""), &handle, &note_url);

    let listening = fedify.next("listening").await;
    let fedi = listening["actor"].as_str().unwrap().to_string();
    let fedi_domain = fedi
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_string();

    // (a) WebFinger, the actor by handle and by URL, the note by URL.
    let wf = fedify.next("webfinger").await;
    assert_eq!(wf["subject"], format!("acct:{handle}"));
    assert_eq!(wf["self"], actor.as_str());
    for via in ["handle", "url"] {
        let a = fedify.next("actor").await;
        assert_eq!(a["via"], via);
        assert_eq!(a["type"], "Person", "{a}");
        assert_eq!(a["id"], actor.as_str());
        assert_eq!(a["preferredUsername"], "alice");
        assert_eq!(a["inbox"], app.url("/users/alice/inbox"));
        assert_eq!(a["sharedInbox"], app.url("/inbox"));
        assert_eq!(a["outbox"], app.url("/users/alice/outbox"));
        assert_eq!(a["followers"], app.url("/users/alice/followers"));
        assert_eq!(a["following"], app.url("/users/alice/following"));
        assert_eq!(a["url"], app.url("/@alice"));
        assert_eq!(a["publicKeyId"], format!("{actor}#main-key"));
        assert_eq!(a["manuallyApprovesFollowers"], false);
        // Mastodon's terms, which JSON-LD drops unless the context defines them.
        assert_eq!(a["featured"], app.url("/users/alice/collections/featured"));
        assert_eq!(a["discoverable"], served["discoverable"], "{a}");
        assert_eq!(a["indexable"], served["indexable"], "{a}");
        if via == "url" {
            // WebFinger asked with the actor's URL names the handle back.
            assert_eq!(a["handle"], format!("@{handle}"));
            assert_eq!(a["keyOwner"], actor.as_str());
            assert_eq!(a["keyAlgorithm"], "RSASSA-PKCS1-v1_5");
        }
    }
    let note = fedify.next("note").await;
    assert_eq!(note["id"], note_url.as_str());
    assert_eq!(note["attributedTo"], actor.as_str());
    assert!(
        note["content"]
            .as_str()
            .is_some_and(|c| c.contains("from Cascade")),
        "{note}"
    );
    assert_eq!(strings(&note["to"]), [PUBLIC]);
    assert!(strings(&note["cc"]).contains(&app.url("/users/alice/followers").as_str()));
    let tag = &note["tags"][0];
    assert_eq!(tag["type"], "Hashtag", "{note}");
    assert_eq!(tag["name"], "#fediverse");
    assert_eq!(tag["href"], app.url("/tags/fediverse"));

    let nodeinfo = fedify.next("nodeinfo").await;
    assert_eq!(nodeinfo["software"], "cascade");
    assert_eq!(nodeinfo["protocols"], serde_json::json!(["activitypub"]));
    assert_eq!(nodeinfo["users"], 1);
    assert_eq!(nodeinfo["localPosts"], 1);

    // (b) Fedify follows alice; Cascade accepts.
    let follow = fedify.next("follow-sent").await;
    let accepted = fedify.next("accepted").await;
    assert_eq!(accepted["actor"], actor.as_str());
    assert_eq!(accepted["follow"], follow["id"]);
    assert_eq!(accepted["followObject"], actor.as_str());
    assert_eq!(
        accepted["inbox"], "fedi",
        "Accept goes to the follower's own inbox"
    );
    let fedi_acct = format!("fedi@{fedi_domain}");
    let followers = app
        .get(&alice, &format!("/api/v1/accounts/{}/followers", alice.id))
        .await
        .ok();
    assert_eq!(followers[0]["acct"], fedi_acct.as_str(), "{followers}");
    assert_eq!(followers[0]["uri"], fedi.as_str());
    assert_eq!(followers[0]["display_name"], "Fedify interop");
    let notified = app
        .get(&alice, "/api/v1/notifications?types[]=follow")
        .await
        .ok();
    assert_eq!(
        notified[0]["account"]["acct"],
        fedi_acct.as_str(),
        "{notified}"
    );

    // (c) Alice's next post reaches Fedify's shared inbox.
    let post = app
        .post_status(&alice, "a post for the Fedify follower", "public")
        .await;
    let create = fedify.next("create").await;
    assert_eq!(create["actor"], actor.as_str());
    assert_eq!(create["inbox"], "shared");
    let object = &create["object"];
    assert_eq!(object["type"], "Note", "{create}");
    assert_eq!(
        object["id"],
        format!("{actor}/statuses/{}", post["id"].as_str().unwrap())
    );
    assert_eq!(object["attributedTo"], actor.as_str());
    assert!(
        object["content"]
            .as_str()
            .is_some_and(|c| c.contains("a post for the Fedify follower")),
        "{create}"
    );
    assert_eq!(strings(&object["to"]), [PUBLIC]);

    // (d) Fedify mentions alice; she is notified.
    let mention = fedify.next("mention-sent").await;
    let mention_id = mention["id"].as_str().unwrap().to_string();
    fedify.finish().await;
    let mentions = || async {
        app.get(&alice, "/api/v1/notifications?types[]=mention")
            .await
            .ok()
    };
    eventually("alice is notified of Fedify's mention", || async {
        mentions().await.as_array().is_some_and(|n| !n.is_empty())
    })
    .await;
    let n = mentions().await;
    assert_eq!(n[0]["account"]["acct"], fedi_acct.as_str(), "{n}");
    let status = &n[0]["status"];
    assert_eq!(status["uri"], mention_id.as_str(), "{n}");
    assert_eq!(status["visibility"], "public");
    assert!(
        status["content"]
            .as_str()
            .is_some_and(|c| c.contains("from Fedify")),
        "{n}"
    );
    assert_eq!(status["mentions"][0]["acct"], "alice", "{n}");
}
