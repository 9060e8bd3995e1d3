//! Several nodes as one server: two nodes share one fresh PostgreSQL schema, one Redis
//! (under a key prefix of their own) and one NATS (under a subject prefix of their own),
//! and what one node's write changes shows through the other within a second: streams,
//! home timelines, revoked tokens, rate limits. Jobs are claimed by one worker each.
//!
//! These tests need PostgreSQL, Redis and NATS (`CASCADE_TEST_DATABASE_URL`,
//! `CASCADE_TEST_REDIS_URL`, `CASCADE_TEST_NATS_URL`, or the local defaults). Where one is
//! unreachable they are skipped with a banner, except under CI (`CI=true`), where they fail.

use std::time::{Duration, Instant};

use cascade_core::job::{JobKind, Lane};
use cascade_server::api::auth::new_secret;
use cascade_server::throttle::RateLimit;
use cascade_store::{NewJob, Store};
use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{spawn_node, TestApp};

/// Where the shared services are.
pub(crate) struct Services {
    pub(crate) database: String,
    pub(crate) redis: String,
    pub(crate) nats: String,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

async fn reachable(url: &str, default_port: u16) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_string();
    let port = parsed.port().unwrap_or(default_port);
    matches!(
        tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await,
        Ok(Ok(_))
    )
}

/// The services, or `None` (with a loud banner) when one is unreachable outside CI.
pub(crate) async fn services(test: &str) -> Option<Services> {
    let s = Services {
        database: env_or(
            "CASCADE_TEST_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/test",
        ),
        redis: env_or("CASCADE_TEST_REDIS_URL", "redis://127.0.0.1:6379"),
        nats: env_or("CASCADE_TEST_NATS_URL", "nats://127.0.0.1:4222"),
    };
    let mut missing = Vec::new();
    for (name, url, port) in [
        ("PostgreSQL", &s.database, 5432),
        ("Redis", &s.redis, 6379),
        ("NATS", &s.nats, 4222),
    ] {
        if !reachable(url, port).await {
            missing.push(format!("{name} at {url}"));
        }
    }
    if missing.is_empty() {
        return Some(s);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: CI must reach {}",
        missing.join(", ")
    );
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !!  SKIPPED {test}: cannot reach {}\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
        missing.join(", ")
    );
    None
}

/// A fresh name: lowercase letters and digits, fit for a schema, a key and a subject.
pub(crate) fn fresh(kind: &str) -> String {
    let tail: String = new_secret()
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    format!("cascade_{kind}_{tail}")
}

/// `n` nodes on one fresh schema, Redis prefix and NATS prefix; `tune` adjusts each.
async fn cluster(
    s: &Services,
    n: usize,
    tune: impl Fn(&mut cascade_server::Config),
) -> Vec<TestApp> {
    let schema = fresh("c");
    let prefix = fresh("p");
    let mut nodes = Vec::new();
    for _ in 0..n {
        nodes.push(
            spawn_node(&s.database, &schema, |c| {
                c.redis_url = Some(s.redis.clone());
                c.nats_url = Some(s.nats.clone());
                c.cluster_prefix = prefix.clone();
                tune(c);
            })
            .await,
        );
    }
    nodes
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(app: &TestApp, token: &str, stream: &str) -> Socket {
    let url = format!(
        "ws://{}/api/v1/streaming?access_token={token}&stream={stream}",
        app.addr
    );
    tokio_tungstenite::connect_async(url)
        .await
        .expect("the socket opens")
        .0
}

/// The next event's name and payload, or `None` after `wait`.
async fn next(ws: &mut Socket, wait: Duration) -> Option<(String, Value)> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next()).await.ok()??;
        if let Ok(Message::Text(text)) = msg {
            let v: Value = serde_json::from_str(&text).expect("JSON frames");
            let payload = v["payload"]
                .as_str()
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or(Value::Null);
            return Some((v["event"].as_str().unwrap_or("").to_string(), payload));
        }
    }
}

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_post_through_one_node_reaches_a_socket_on_another_within_a_second() {
    let Some(s) = services("a_post_through_one_node_reaches_a_socket_on_another").await else {
        return;
    };
    let nodes = cluster(&s, 2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let alice = a.user("alice").await;
    let bob = a.user("bob").await;
    a.follow(&alice, &bob).await;
    let mut home = socket(b, &alice.token, "user").await;
    let mut public = socket(b, &alice.token, "public").await;
    // The sockets are registered on node B before the post is made.
    crate::helpers::eventually("both sockets are open on node B", || async {
        b.state.streams.connections() == 2
    })
    .await;

    let posted = Instant::now();
    let post = a.post_status(&bob, "hello from node A", "public").await;

    for ws in [&mut home, &mut public] {
        let (event, payload) = next(ws, Duration::from_secs(5))
            .await
            .expect("an event on node B");
        assert_eq!(event, "update");
        assert_eq!(payload["id"], post["id"]);
    }
    let took = posted.elapsed();
    assert!(took < SECOND, "streamed across nodes in {took:?}");

    // The same rules as on one node: a muted author's posts stay out.
    a.post(
        &alice,
        &format!("/api/v1/accounts/{}/mute", bob.id),
        serde_json::json!({}),
    )
    .await
    .ok();
    a.post_status(&bob, "muted now", "public").await;
    assert!(
        next(&mut public, Duration::from_millis(500))
            .await
            .is_none(),
        "a muted author's post is not streamed on the other node"
    );
}

#[tokio::test]
async fn a_post_through_one_node_is_in_a_followers_home_on_another_within_a_second() {
    let Some(s) = services("a_post_through_one_node_is_in_a_followers_home_on_another").await
    else {
        return;
    };
    let nodes = cluster(&s, 2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let alice = a.user("alice").await;
    let bob = a.user("bob").await;
    a.follow(&alice, &bob).await;
    let before = a.post_status(&bob, "before", "public").await;
    // Node B caches alice's home timeline now.
    let home = b.home(&alice, "").await;
    assert_eq!(home[0]["id"], before["id"]);

    let posted = Instant::now();
    let post = a.post_status(&bob, "after", "public").await;
    loop {
        let home = b.home(&alice, "").await;
        if home.first().is_some_and(|s| s["id"] == post["id"]) {
            break;
        }
        assert!(
            posted.elapsed() < SECOND,
            "node B's home still lacks the post: {home:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_token_revoked_through_one_node_is_refused_by_every_node_within_a_second() {
    let Some(s) = services("a_token_revoked_through_one_node_is_refused_by_every_node").await
    else {
        return;
    };
    // A token cache believed for ten minutes: only the cluster's message can make node B
    // forget it in time.
    let nodes = cluster(&s, 2, |c| c.token_ttl = Duration::from_secs(600)).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let alice = a.user("alice").await;
    const VERIFY: &str = "/api/v1/accounts/verify_credentials";
    assert_eq!(b.get(&alice, VERIFY).await.status, 200, "node B caches it");

    let revoked = Instant::now();
    let status = a
        .client
        .post(a.url("/oauth/revoke"))
        .form(&[("token", alice.token.as_str())])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    loop {
        let status = b.get(&alice, VERIFY).await.status;
        if status == 401 {
            break;
        }
        assert!(
            revoked.elapsed() < SECOND,
            "node B still accepts the revoked token"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn the_rate_limit_is_counted_once_for_the_whole_cluster() {
    let Some(s) = services("the_rate_limit_is_counted_once_for_the_whole_cluster").await else {
        return;
    };
    let nodes = cluster(&s, 2, |c| {
        c.rate_limit = Some(RateLimit {
            requests: 6,
            window: Duration::from_secs(300),
        })
    })
    .await;
    let alice = nodes[0].user("alice").await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let node = &nodes[i % 2];
        statuses.push(
            node.get(&alice, "/api/v1/accounts/verify_credentials")
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(
        statuses,
        vec![200, 200, 200, 200, 200, 200, 429, 429],
        "six requests in all, whichever node answers"
    );
}

#[tokio::test]
async fn two_workers_claim_each_job_once_and_a_dead_workers_job_again() {
    let Some(s) = services("two_workers_claim_each_job_once").await else {
        return;
    };
    let schema = fresh("j");
    let one = Store::connect_postgres_schema(&s.database, &schema)
        .await
        .unwrap();
    let two = Store::connect_postgres_schema(&s.database, &schema)
        .await
        .unwrap();
    let now = cascade_core::time::now_millis();
    let jobs: Vec<NewJob> = (1..=200)
        .map(|id| NewJob::new(id, JobKind::Favourite, id, now))
        .collect();
    one.enqueue_jobs(&jobs).await.unwrap();

    async fn work(store: &Store, node: &str) -> Vec<i64> {
        let mut done = Vec::new();
        loop {
            let claimed = store.claim_jobs(Lane::Effects, 0, 8, node).await.unwrap();
            if claimed.is_empty() {
                return done;
            }
            for job in claimed {
                tokio::task::yield_now().await;
                store.finish_job(job.id).await.unwrap();
                done.push(job.id);
            }
        }
    }
    let (a, b) = tokio::join!(work(&one, "a"), work(&two, "b"));
    assert!(!a.is_empty() && !b.is_empty(), "both workers took jobs");
    let mut all: Vec<i64> = a.iter().chain(&b).copied().collect();
    all.sort();
    assert_eq!(all, (1..=200).collect::<Vec<i64>>(), "each job done once");

    // A worker that claimed a job and died: nobody else takes it while its lease runs,
    // and someone does once it ran out.
    one.enqueue_jobs(&[NewJob::new(500, JobKind::Favourite, 500, now)])
        .await
        .unwrap();
    assert_eq!(
        one.claim_jobs(Lane::Effects, 0, 8, "dead")
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(two
        .claim_jobs(Lane::Effects, 0, 8, "b")
        .await
        .unwrap()
        .is_empty());
    let Store::Postgres(pool) = &two else {
        panic!("a PostgreSQL store")
    };
    sqlx::query("UPDATE jobs SET claimed_until = $1 WHERE id = 500")
        .bind(now - 1)
        .execute(pool)
        .await
        .unwrap();
    let again = two.claim_jobs(Lane::Effects, 0, 8, "b").await.unwrap();
    assert_eq!(again.iter().map(|j| j.id).collect::<Vec<_>>(), vec![500]);
}

#[tokio::test]
async fn view_counts_flushed_by_two_nodes_at_once_add_up() {
    let Some(s) = services("view_counts_flushed_by_two_nodes_at_once_add_up").await else {
        return;
    };
    let nodes = cluster(&s, 2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let alice = a.user("alice").await;
    let post = a.post_status(&alice, "count me", "public").await;
    let id: i64 = post["id"].as_str().unwrap().parse().unwrap();
    let now = cascade_core::time::now_millis();
    for round in 0..3 {
        for viewer in 0..40 {
            a.state.views.record(&[id], Some(1_000 + viewer), now);
            b.state.views.record(&[id], Some(2_000 + viewer), now);
        }
        let (x, y) = tokio::join!(
            cascade_server::app::views::flush(&a.state),
            cascade_server::app::views::flush(&b.state)
        );
        x.unwrap();
        y.unwrap();
        // A background flush may still be writing what it took: wait for it.
        crate::helpers::eventually("no impression is lost", || async {
            let stored = a.state.store.views(&[id], false).await.unwrap();
            stored.first().is_some_and(|v| v.views == 80 * (round + 1))
        })
        .await;
    }
    let stored = b.state.store.views(&[id], false).await.unwrap();
    assert!(
        (70..=90).contains(&stored[0].reach),
        "both nodes' viewers are in the sketch: {}",
        stored[0].reach
    );
}

#[tokio::test]
async fn a_post_through_one_node_is_found_through_another_within_two_seconds() {
    let Some(s) = services("a_post_through_one_node_is_found_through_another").await else {
        return;
    };
    let nodes = cluster(&s, 2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let alice = a.user("alice").await;
    let posted = Instant::now();
    let post = a
        .post_status(&alice, "marmalade sandwiches at noon", "public")
        .await;
    loop {
        let found = b
            .get(&alice, "/api/v2/search?type=statuses&q=marmalade")
            .await
            .ok();
        if found["statuses"]
            .as_array()
            .is_some_and(|l| l.iter().any(|s| s["id"] == post["id"]))
        {
            break;
        }
        assert!(
            posted.elapsed() < Duration::from_secs(2),
            "node B does not find the post: {found}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn exactly_one_node_leads_the_trends() {
    let Some(s) = services("exactly_one_node_leads_the_trends").await else {
        return;
    };
    let nodes = cluster(&s, 3, |_| {}).await;
    for _ in 0..2 {
        let mut leaders = 0;
        for node in &nodes {
            if cascade_server::app::trends::leads(&node.state).await {
                leaders += 1;
            }
        }
        assert_eq!(leaders, 1, "one node holds the lease, and keeps it");
    }
}

#[tokio::test]
async fn an_account_suspended_through_one_node_is_refused_by_every_node_within_a_second() {
    let Some(s) = services("an_account_suspended_through_one_node_is_refused_by_every_node").await
    else {
        return;
    };
    let nodes = cluster(&s, 2, |c| c.record_cache.ttl = Duration::from_secs(600)).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let alice = a.user("alice").await;
    const VERIFY: &str = "/api/v1/accounts/verify_credentials";
    assert_eq!(b.get(&alice, VERIFY).await.status, 200, "node B caches her");

    let suspended = Instant::now();
    let id = alice.id.parse().unwrap();
    assert!(cascade_server::app::accounts::suspend(&a.state, id, true)
        .await
        .unwrap());
    loop {
        if b.get(&alice, VERIFY).await.status == 403 {
            break;
        }
        assert!(
            suspended.elapsed() < SECOND,
            "node B still serves the suspended account"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn an_account_suspended_by_the_admin_command_is_refused_by_a_running_node() {
    let Some(s) = services("an_account_suspended_by_the_admin_command").await else {
        return;
    };
    let (schema, prefix) = (fresh("c"), fresh("p"));
    let node = spawn_node(&s.database, &schema, |c| {
        c.redis_url = Some(s.redis.clone());
        c.nats_url = Some(s.nats.clone());
        c.cluster_prefix = prefix.clone();
        c.record_cache.ttl = Duration::from_secs(600);
    })
    .await;
    let alice = node.user("alice").await;
    const VERIFY: &str = "/api/v1/accounts/verify_credentials";
    assert_eq!(
        node.get(&alice, VERIFY).await.status,
        200,
        "the node caches her"
    );

    // The command is its own process: it writes, tells the cluster, and exits at once.
    let data = tempfile::tempdir().unwrap();
    let separator = if s.database.contains('?') { '&' } else { '?' };
    let database = format!(
        "{}{separator}options=-c%20search_path%3D{schema}",
        s.database
    );
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args(["admin", "suspend", "alice", "--data"])
        .arg(data.path())
        .args(["--database-url", &database, "--nats-url", &s.nats])
        .args(["--redis-url", &s.redis, "--cluster-prefix", &prefix])
        .output()
        .await
        .expect("cascade admin runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    within_a_second(
        "the node refuses the account the command suspended",
        || async { node.get(&alice, VERIFY).await.status == 403 },
    )
    .await;
}

/// Polls `probe` until it is true, failing once a second has passed.
async fn within_a_second<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !probe().await {
        assert!(start.elapsed() < SECOND, "not within a second: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn filters_and_notification_policies_changed_through_one_node_apply_on_another() {
    let Some(s) = services("filters_and_notification_policies_changed_through_one_node").await
    else {
        return;
    };
    let nodes = cluster(&s, 2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let alice = a.user("alice").await;
    let bob = a.user("bob").await;
    a.follow(&alice, &bob).await;
    a.post_status(&bob, "the finale was great", "public").await;
    assert_eq!(
        b.home(&alice, "").await.len(),
        1,
        "node B caches her filters"
    );
    let policy = b.get(&alice, "/api/v2/notifications/policy").await.ok();
    assert_eq!(policy["for_not_followers"], "accept", "and her policy");

    a.post(
        &alice,
        "/api/v2/filters",
        serde_json::json!({
            "title": "Spoilers",
            "context": ["home"],
            "filter_action": "hide",
            "keywords_attributes": [{"keyword": "finale"}],
        }),
    )
    .await
    .ok();
    a.request(
        reqwest::Method::PATCH,
        "/api/v2/notifications/policy",
        Some(&alice.token),
        Some(serde_json::json!({"for_not_followers": "drop"})),
    )
    .await
    .ok();

    within_a_second("node B hides the filtered post", || async {
        b.home(&alice, "").await.is_empty()
    })
    .await;
    within_a_second("node B has the new policy", || async {
        b.get(&alice, "/api/v2/notifications/policy").await.ok()["for_not_followers"] == "drop"
    })
    .await;
}

#[tokio::test]
async fn a_notification_through_one_node_reaches_a_socket_on_another() {
    let Some(s) = services("a_notification_through_one_node_reaches_a_socket_on_another").await
    else {
        return;
    };
    let nodes = cluster(&s, 2, |c| c.coalesce_ms = 0).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let alice = a.user("alice").await;
    let bob = a.user("bob").await;
    let post = a.post_status(&alice, "favourite me", "public").await;
    let mut ws = socket(b, &alice.token, "user:notification").await;
    crate::helpers::eventually("the socket is open on node B", || async {
        b.state.streams.connections() == 1
    })
    .await;

    let sent = Instant::now();
    a.post(
        &bob,
        &format!(
            "/api/v1/statuses/{}/favourite",
            post["id"].as_str().unwrap()
        ),
        serde_json::json!({}),
    )
    .await
    .ok();
    let (event, payload) = next(&mut ws, Duration::from_secs(5))
        .await
        .expect("a notification on node B");
    assert_eq!(event, "notification");
    assert_eq!(payload["type"], "favourite");
    assert_eq!(payload["account"]["id"], serde_json::json!(bob.id));
    assert!(sent.elapsed() < SECOND, "took {:?}", sent.elapsed());
}

#[tokio::test]
async fn a_burst_of_notifications_through_two_nodes_is_coalesced_once_for_the_cluster() {
    let Some(s) = services("a_burst_of_notifications_through_two_nodes_is_coalesced_once").await
    else {
        return;
    };
    let nodes = cluster(&s, 2, |c| c.coalesce_ms = 3_000).await;
    let alice = nodes[0].user("alice").await;
    let post = nodes[0].post_status(&alice, "a burst", "public").await;
    let mut fans = Vec::new();
    for i in 0..6 {
        fans.push(nodes[0].user(&format!("fan{i}")).await);
    }
    let mut ws = socket(&nodes[1], &alice.token, "user:notification").await;
    crate::helpers::eventually("the socket is open on node B", || async {
        nodes[1].state.streams.connections() == 1
    })
    .await;

    let path = format!(
        "/api/v1/statuses/{}/favourite",
        post["id"].as_str().unwrap()
    );
    for (i, fan) in fans.iter().enumerate() {
        nodes[i % 2]
            .post(fan, &path, serde_json::json!({}))
            .await
            .ok();
    }
    let mut events = 0;
    while next(&mut ws, Duration::from_millis(4_500)).await.is_some() {
        events += 1;
    }
    assert_eq!(
        events, 2,
        "the first favourite at once, then the burst's latest once"
    );
}

/// A TCP relay to `to` that the test can cut (every connection dropped, new ones refused
/// at once) and restore: a node behind it loses NATS while the others keep it.
struct Relay {
    addr: std::net::SocketAddr,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn start(to: &str) -> Relay {
        let parsed = reqwest::Url::parse(to).expect("a URL");
        let default_port = if parsed.scheme() == "redis" {
            6379
        } else {
            4222
        };
        let upstream = format!(
            "{}:{}",
            parsed.host_str().unwrap_or("127.0.0.1"),
            parsed.port().unwrap_or(default_port)
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, cut_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if *cut_rx.borrow() {
                    continue;
                }
                let upstream = upstream.clone();
                let mut cut_rx = cut_rx.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_rx.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Relay { addr, cut }
    }

    fn url(&self) -> String {
        self.url_for("nats")
    }

    fn url_for(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }

    fn set_cut(&self, cut: bool) {
        self.cut.send_replace(cut);
    }
}

#[tokio::test]
async fn a_node_cut_off_from_nats_catches_up_on_what_it_missed_when_it_returns() {
    let Some(s) = services("a_node_cut_off_from_nats_catches_up").await else {
        return;
    };
    let relay = Relay::start(&s.nats).await;
    let schema = fresh("c");
    let prefix = fresh("p");
    // Records believed for ten minutes: only the cluster's messages make node A forget.
    let a = spawn_node(&s.database, &schema, |c| {
        c.redis_url = Some(s.redis.clone());
        c.nats_url = Some(s.nats.clone());
        c.cluster_prefix = prefix.clone();
        c.record_cache.ttl = Duration::from_secs(600);
    })
    .await;
    // Node B does no jobs of its own: all it learns of A's posts comes over NATS.
    let b = spawn_node(&s.database, &schema, |c| {
        c.redis_url = Some(s.redis.clone());
        c.nats_url = Some(relay.url());
        c.cluster_prefix = prefix.clone();
        c.worker = false;
    })
    .await;
    let alice = a.user("alice").await;
    let found = |word: &'static str, id: Value| {
        let (b, alice) = (&b, &alice);
        async move {
            let found = b
                .get(alice, &format!("/api/v2/search?type=statuses&q={word}"))
                .await
                .ok();
            found["statuses"]
                .as_array()
                .is_some_and(|l| l.iter().any(|s| s["id"] == id))
        }
    };
    let before = a
        .post_status(&alice, "quokka before the cut", "public")
        .await;
    crate::helpers::eventually("node B indexes a post it heard of", || {
        found("quokka", before["id"].clone())
    })
    .await;

    // Node A has read the post's counts before the cut.
    let before_id = before["id"].as_str().unwrap();
    let counts = || favourites_count(&a, &alice, before_id);
    assert_eq!(counts().await, 0);

    let bob = b.user("bob").await;
    relay.set_cut(true);
    let during = a
        .post_status(&alice, "zebracorn while node B is cut off", "public")
        .await;
    // Node B writes into the cut: what it tells node A is lost.
    let favourited = b
        .client
        .post(b.url(&format!(
            "/api/v1/statuses/{}/favourite",
            before["id"].as_str().unwrap()
        )))
        .bearer_auth(&bob.token)
        .send()
        .await
        .expect("node B answers");
    assert!(
        favourited.status().is_success(),
        "a favourite through node B"
    );
    relay.set_cut(false);
    crate::helpers::eventually("node B, back on NATS, indexes the post it missed", || {
        found("zebracorn", during["id"].clone())
    })
    .await;
    crate::helpers::eventually(
        "node A, told to catch up, shows node B's favourite",
        || async { counts().await == 1 },
    )
    .await;
}

/// A status's favourites count as `user` reads it through `node`.
async fn favourites_count(node: &TestApp, user: &crate::helpers::User, id: &str) -> Value {
    node.get(user, &format!("/api/v1/statuses/{id}")).await.ok()["favourites_count"].clone()
}

/// Deletes every Redis key under `prefix`: what a restarted Redis (which keeps nothing on
/// disk) has forgotten of this cluster.
async fn forget_keys(redis_url: &str, prefix: &str) {
    let client = redis::Client::open(redis_url).expect("a Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .expect("the cluster's keys");
    for key in keys {
        let _: () = redis::cmd("DEL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("a key deleted");
    }
}

/// A load on a cluster: four writers take the fans in turn, spread over the nodes, and
/// each fan posts once and favourites the target once. What was acknowledged is recorded;
/// any other answer is a failure of the cluster.
struct Load {
    acked: std::sync::Arc<std::sync::Mutex<(Vec<String>, usize)>>,
    failures: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    writers: Vec<tokio::task::JoinHandle<()>>,
    fans: usize,
}

impl Load {
    fn start(
        nodes: std::sync::Arc<Vec<TestApp>>,
        fans: Vec<crate::helpers::User>,
        target_id: String,
    ) -> Load {
        let fans = std::sync::Arc::new(fans);
        let acked = std::sync::Arc::new(std::sync::Mutex::new((Vec::new(), 0)));
        let failures = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut writers = Vec::new();
        for _ in 0..4 {
            let (nodes, fans, acked, failures, next, target_id) = (
                nodes.clone(),
                fans.clone(),
                acked.clone(),
                failures.clone(),
                next.clone(),
                target_id.clone(),
            );
            writers.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(fan) = fans.get(i) else { return };
                    let node = &nodes[i % nodes.len()];
                    Load::write(node, fan, i, &target_id, &acked, &failures).await;
                }
            }));
        }
        Load {
            acked,
            failures,
            writers,
            fans: fans.len(),
        }
    }

    /// One fan's post and favourite, as straight requests: the harness's `request` waits
    /// for the jobs to drain and for the nodes to hear each other, which a running load
    /// (or a cut) never lets happen.
    async fn write(
        node: &TestApp,
        fan: &crate::helpers::User,
        i: usize,
        target_id: &str,
        acked: &std::sync::Mutex<(Vec<String>, usize)>,
        failures: &std::sync::Mutex<Vec<String>>,
    ) {
        let posted = node
            .client
            .post(node.url("/api/v1/statuses"))
            .bearer_auth(&fan.token)
            .json(&serde_json::json!({"status": format!("fan post {i}")}))
            .send()
            .await
            .expect("the node answers");
        let posted_status = posted.status();
        let posted: Value = posted.json().await.unwrap_or(Value::Null);
        let favourited = node
            .client
            .post(node.url(&format!("/api/v1/statuses/{target_id}/favourite")))
            .bearer_auth(&fan.token)
            .send()
            .await
            .expect("the node answers");
        let (favourited, why) = (favourited.status(), favourited.text().await);
        let mut acked = acked.lock().unwrap();
        for (what, status) in [("post", posted_status), ("favourite", favourited)] {
            if !status.is_success() {
                failures
                    .lock()
                    .unwrap()
                    .push(format!("{what} {i}: {status} {why:?}"));
            }
        }
        if posted_status.is_success() {
            acked
                .0
                .push(posted["id"].as_str().unwrap_or_default().to_string());
        }
        if favourited.is_success() {
            acked.1 += 1;
        }
    }

    /// Posts acknowledged so far.
    fn acks(&self) -> usize {
        self.acked.lock().unwrap().0.len()
    }

    /// Waits until at least `n` posts were acknowledged.
    async fn under_way(&self, n: usize) {
        crate::helpers::eventually(&format!("{n} posts acknowledged under load"), || async {
            self.acks() >= n
        })
        .await;
    }

    /// Waits for the writers; no request failed and every write was acknowledged. The
    /// acknowledged posts' ids and the favourites acknowledged.
    async fn finish(self) -> (Vec<String>, usize) {
        for writer in self.writers {
            writer.await.unwrap();
        }
        let failures = self.failures.lock().unwrap().clone();
        assert!(failures.is_empty(), "no request failed: {failures:?}");
        let (posted, favourites) = self.acked.lock().unwrap().clone();
        assert_eq!(posted.len(), self.fans, "every post was acknowledged");
        assert_eq!(favourites, self.fans, "every favourite was acknowledged");
        (posted, favourites)
    }
}

#[tokio::test]
async fn redis_restarted_under_load_leaves_the_cluster_working_and_the_store_whole() {
    let Some(s) = services("redis_restarted_under_load").await else {
        return;
    };
    // Both nodes reach Redis through the relay, so cutting it is Redis going away for
    // the whole cluster; NATS and PostgreSQL stay.
    let relay = Relay::start(&s.redis).await;
    let nodes = cluster(&s, 2, |c| {
        c.redis_url = Some(relay.url_for("redis"));
        c.rate_limit = Some(RateLimit {
            requests: 6,
            window: Duration::from_secs(300),
        });
    })
    .await;
    let prefix = nodes[0].state.config.cluster_prefix.clone();
    let number = |n: &TestApp| {
        let cluster = n.state.cluster.as_ref().expect("a node of a cluster");
        cluster.number.load(std::sync::atomic::Ordering::SeqCst)
    };
    assert_ne!(
        number(&nodes[0]),
        number(&nodes[1]),
        "each node its own ids"
    );
    let nodes = std::sync::Arc::new(nodes);
    let author = nodes[0].user("author").await;
    let target = nodes[0]
        .post_status(&author, "the post everyone favourites", "public")
        .await;
    let target_id = target["id"].as_str().unwrap().to_string();
    let fans = crate::helpers::crowd(&nodes[0], "fan", 60).await;
    let load = Load::start(nodes.clone(), fans, target_id.clone());
    load.under_way(10).await;
    relay.set_cut(true);
    forget_keys(&s.redis, &prefix).await;
    load.under_way(load.acks() + 10).await;
    relay.set_cut(false);
    let (posted, favourites) = load.finish().await;

    // The store is the truth: every acknowledged write is there, counted exactly.
    for node in nodes.iter() {
        node.drain().await;
    }
    for id in &posted {
        let stored = nodes[0].state.store.status(id.parse().unwrap()).await;
        assert!(stored.is_ok(), "acknowledged post {id} is stored");
    }
    let counted = nodes[1]
        .get(&author, &format!("/api/v1/statuses/{target_id}"))
        .await
        .ok();
    assert_eq!(counted["favourites_count"], favourites);

    // Redis back (and empty), the cluster shares again: one limit for both nodes...
    let probes = std::sync::atomic::AtomicUsize::new(0);
    crate::helpers::eventually("the rate limit is the cluster's again", || async {
        let n = probes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let probe = nodes[0]
            .user_with_scopes(&format!("probe{n}"), "read")
            .await;
        let mut answers = Vec::new();
        for i in 0..8 {
            answers.push(
                nodes[i % 2]
                    .get(&probe, "/api/v1/accounts/verify_credentials")
                    .await
                    .status
                    .as_u16(),
            );
        }
        answers == vec![200, 200, 200, 200, 200, 200, 429, 429]
    })
    .await;
    // ...and one node leads the trends.
    let mut leaders = 0;
    for node in nodes.iter() {
        if cascade_server::app::trends::leads(&node.state).await {
            leaders += 1;
        }
    }
    assert_eq!(leaders, 1, "one node took the lease again");
}

#[tokio::test]
async fn nats_restarted_under_load_leaves_the_cluster_working_and_the_store_whole() {
    let Some(s) = services("nats_restarted_under_load").await else {
        return;
    };
    // Both nodes reach NATS through the relay, so cutting it is NATS going away for the
    // whole cluster (every connection dropped, new ones refused until it returns).
    let relay = Relay::start(&s.nats).await;
    // Records and tokens believed for ten minutes: only the cluster's messages, and its
    // catching up after the cut, make a node forget them.
    let nodes = cluster(&s, 2, |c| {
        c.nats_url = Some(relay.url());
        c.record_cache.ttl = Duration::from_secs(600);
        c.token_ttl = Duration::from_secs(600);
    })
    .await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let author = a.user("author").await;
    let reader = a.user("reader").await;
    a.follow(&reader, &author).await;
    let target = a
        .post_status(&author, "the post everyone favourites", "public")
        .await;
    let target_id = target["id"].as_str().unwrap().to_string();
    // Node B holds what a cut could leave stale: the target's counts, the reader's home
    // timeline, and a socket of the reader's.
    assert_eq!(favourites_count(b, &reader, &target_id).await, 0);
    assert_eq!(b.home(&reader, "").await[0]["id"], target["id"]);
    let mut ws = socket(b, &reader.token, "user").await;
    crate::helpers::eventually("the socket is open on node B", || async {
        b.state.streams.connections() == 1
    })
    .await;

    let fans = crate::helpers::crowd(a, "fan", 60).await;
    let nodes = std::sync::Arc::new(nodes);
    let load = Load::start(nodes.clone(), fans, target_id.clone());
    load.under_way(10).await;
    relay.set_cut(true);
    // While NATS is away: writes go on, and the author posts through node A.
    load.under_way(load.acks() + 10).await;
    let missed = nodes[0]
        .client
        .post(nodes[0].url("/api/v1/statuses"))
        .bearer_auth(&author.token)
        .json(&serde_json::json!({"status": "posted while NATS was away"}))
        .send()
        .await
        .expect("node A answers");
    assert!(missed.status().is_success(), "a post while NATS is away");
    let missed: Value = missed.json().await.unwrap();
    relay.set_cut(false);
    let (posted, favourites) = load.finish().await;

    // The store is the truth: every acknowledged write is there, counted exactly.
    let (a, b) = (&nodes[0], &nodes[1]);
    for id in &posted {
        let stored = a.state.store.status(id.parse().unwrap()).await;
        assert!(stored.is_ok(), "acknowledged post {id} is stored");
    }
    // Node B, back on NATS, forgets what the cut left stale: the counts it cached and the
    // home timeline that lacked the post made while it could not hear.
    crate::helpers::eventually(
        "node B shows the favourites made during the cut",
        || async {
            let counted = b
                .get(&reader, &format!("/api/v1/statuses/{target_id}"))
                .await
                .ok();
            counted["favourites_count"] == favourites
        },
    )
    .await;
    crate::helpers::eventually(
        "the reader's home on node B has the post of the cut",
        || async { b.home(&reader, "").await[0]["id"] == missed["id"] },
    )
    .await;
    // And the socket it kept open hears node A's posts again.
    let after = a
        .post_status(&author, "after NATS came back", "public")
        .await;
    loop {
        let (event, payload) = next(&mut ws, Duration::from_secs(5))
            .await
            .expect("node B streams again");
        if event == "update" && payload["id"] == after["id"] {
            break;
        }
    }
}
