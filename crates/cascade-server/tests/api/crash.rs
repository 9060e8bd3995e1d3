//! The crash test: the real `cascade` binary under a write load that owes consequences
//! (posts with mentions and quotes, direct messages, favourites, follows) is killed with
//! SIGKILL at random moments, round after round, and restarted. At the end, once its
//! worker has caught up: every acknowledged write is stored; every stored write's owed
//! notifications and conversation entries exist exactly once; every owed push reached the
//! push receiver; counters equal rows; no job is left. On SQLite, and on PostgreSQL when
//! `CASCADE_TEST_DATABASE_URL` is set; and as a two-node cluster (PostgreSQL, Redis, NATS)
//! whose writers spread over both nodes and whose nodes are killed one after the other,
//! mid fan-out and mid push delivery, while the other goes on.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use serde_json::{json, Value};
use sqlx::Row;

use crate::cli::{admin, free_port, serve_with};
use crate::helpers::eventually;
use crate::push::{Browser, Receiver};

/// Kill rounds per store; the bar is 20 out of 20.
const ROUNDS: usize = 20;
/// Writers at once, each a random account doing random writes.
const WRITERS: usize = 6;
/// Accounts in the world; `bob` (index 1) is the one with a push subscription.
const NAMES: [&str; 8] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
];

/// Where the binary keeps its data: a folder, and a PostgreSQL schema when set; for a
/// cluster, the arguments that join its nodes (Redis, NATS, prefix, one domain).
struct Place {
    dir: tempfile::TempDir,
    database_url: Option<String>,
    cluster: Vec<String>,
}

impl Place {
    fn args(&self, listen: &str) -> Vec<String> {
        self.node_args(listen, 0)
    }

    /// Node `node`'s arguments: each node of a cluster has a data folder of its own.
    fn node_args(&self, listen: &str, node: usize) -> Vec<String> {
        let dir = if node == 0 {
            self.dir.path().to_path_buf()
        } else {
            self.dir.path().join(format!("node{node}"))
        };
        let mut args = vec![
            "--data".to_string(),
            dir.to_str().expect("a UTF-8 path").to_string(),
            "--listen".to_string(),
            listen.to_string(),
        ];
        if let Some(url) = &self.database_url {
            args.extend(["--database-url".to_string(), url.clone()]);
        }
        args.extend(self.cluster.iter().cloned());
        args
    }
}

/// What the writers were told succeeded.
#[derive(Default)]
struct Acked {
    statuses: HashSet<i64>,
    favourites: HashSet<(i64, i64)>,
    follows: HashSet<(i64, i64)>,
}

impl Acked {
    fn total(&self) -> usize {
        self.statuses.len() + self.favourites.len() + self.follows.len()
    }
}

struct World {
    ids: Vec<i64>,
    tokens: Vec<String>,
}

#[tokio::test]
async fn killed_at_random_moments_the_server_keeps_every_write_and_owes_nothing_on_sqlite() {
    let place = Place {
        dir: tempfile::tempdir().unwrap(),
        database_url: None,
        cluster: Vec::new(),
    };
    crash_rounds(place, 1, ROUNDS).await;
}

#[tokio::test]
async fn killed_at_random_moments_the_server_keeps_every_write_and_owes_nothing_on_postgres() {
    let Ok(url) = std::env::var("CASCADE_TEST_DATABASE_URL") else {
        eprintln!(
            "SKIPPED: the PostgreSQL crash test needs CASCADE_TEST_DATABASE_URL \
             (scripts/test sets it when PostgreSQL answers)"
        );
        return;
    };
    let place = Place {
        dir: tempfile::tempdir().unwrap(),
        database_url: Some(fresh_schema(&url).await),
        cluster: Vec::new(),
    };
    crash_rounds(place, 1, ROUNDS).await;
}

#[tokio::test]
async fn killed_at_random_moments_a_two_node_cluster_keeps_every_write_and_owes_nothing() {
    let test = "killed_at_random_moments_a_two_node_cluster_keeps_every_write_and_owes_nothing";
    let Some(s) = crate::cluster::services(test).await else {
        return;
    };
    let place = Place {
        dir: tempfile::tempdir().unwrap(),
        database_url: Some(fresh_schema(&s.database).await),
        cluster: vec![
            "--redis-url".into(),
            s.redis.clone(),
            "--nats-url".into(),
            s.nats.clone(),
            "--cluster-prefix".into(),
            crate::cluster::fresh("crash"),
            "--domain".into(),
            "crash.cluster.test".into(),
        ],
    };
    crash_rounds(place, 2, CLUSTER_ROUNDS).await;
}

/// Kill rounds of the two-node cluster: each kills both nodes, one after the other.
const CLUSTER_ROUNDS: usize = 8;

/// A fresh PostgreSQL schema at `url`, as a URL that uses it.
async fn fresh_schema(url: &str) -> String {
    let schema = format!(
        "cascade_t_crash{}",
        rand::thread_rng().gen_range(0..u32::MAX)
    );
    cascade_store::Store::connect_postgres_schema(url, &schema)
        .await
        .expect("a PostgreSQL schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options[search_path]={schema}")
}

/// `rounds` rounds of `nodes` nodes under the writers, every node killed in each round (one
/// after the other, the writers going on with the rest), then one last start that catches
/// up, and the checks.
async fn crash_rounds(place: Place, nodes: usize, rounds: usize) {
    let world = make_world(&place).await;
    let receiver = Receiver::start().await;
    let browser = Browser::new();
    let acked = Arc::new(Mutex::new(Acked::default()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    for round in 0..rounds {
        let mut servers = Vec::new();
        let mut listens = Vec::new();
        for node in 0..nodes {
            let listen = format!("127.0.0.1:{}", free_port());
            servers.push(start(&place, &listen, node).await.0);
            listens.push(listen);
        }
        if round == 0 {
            subscribe(&client, &listens[0], &world.tokens[1], &receiver, &browser).await;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (client, listens) = (client.clone(), listens.clone());
                let (acked, stop) = (acked.clone(), stop.clone());
                let world = (world.ids.clone(), world.tokens.clone());
                tokio::spawn(
                    async move { write(&client, &listens, &world, &acked, &stop, w).await },
                )
            })
            .collect();
        // Not before the load got going (a busy machine may take a while to answer the
        // first write), so that every round kills the server mid-load.
        let before = acked.lock().unwrap().total();
        let started = std::time::Instant::now();
        while acked.lock().unwrap().total() == before && started.elapsed() < Duration::from_secs(30)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Killed one after the other, in a random order, the writers going on meanwhile.
        let first = rand::thread_rng().gen_range(0..nodes);
        for k in 0..nodes {
            let pause = rand::thread_rng().gen_range(150..900);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            let server = &mut servers[(first + k) % nodes];
            server.start_kill().expect("SIGKILL");
            server.wait().await.expect("the server dies");
        }
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.await.expect("a writer");
        }
    }

    // The last start: the worker catches up on what the killed rounds owed.
    let listen = format!("127.0.0.1:{}", free_port());
    let (_server, _) = start(&place, &listen, 0).await;
    let db = Db::open(&place).await;
    eventually(
        "the worker does every job the killed rounds left",
        || async {
            db.count("SELECT COUNT(*) FROM jobs").await == 0
                && db.count("SELECT COUNT(*) FROM push_deliveries").await == 0
        },
    )
    .await;
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    check_acknowledged(&db, &acked).await;
    check_owed(&db).await;
    check_pushes(&db, &receiver, &browser, world.ids[1]).await;
    check_counters(&db).await;
}

async fn start(place: &Place, listen: &str, node: usize) -> (tokio::process::Child, Vec<String>) {
    let mut args = place.node_args(listen, node);
    args.extend(["--coalesce-secs".to_string(), "0".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The push receiver is on loopback, which the server refuses unless told it is a test.
    serve_with(
        &args,
        &[("CASCADE_INSECURE_ALLOW_PRIVATE_OUTGOING", "true")],
    )
    .await
}

/// The accounts and their tokens, made with the admin commands.
async fn make_world(place: &Place) -> World {
    let (mut ids, mut tokens) = (Vec::new(), Vec::new());
    let store = place.args("127.0.0.1:1");
    let store: Vec<&str> = store.iter().map(String::as_str).collect();
    for name in NAMES {
        let email = format!("{name}@example.test");
        let mut args = vec![
            "create-user",
            name,
            "--email",
            &email,
            "--password",
            "long enough pw",
        ];
        args.extend(&store);
        let made = admin(&args).await;
        assert!(made.status.success(), "{made:?}");
        let said = String::from_utf8_lossy(&made.stderr);
        let id = said
            .split("(id ")
            .nth(1)
            .and_then(|s| s.split(')').next())
            .and_then(|s| s.parse().ok())
            .expect("the new account's id");
        let mut args = vec!["token", name];
        args.extend(&store);
        let token = admin(&args).await;
        assert!(token.status.success(), "{token:?}");
        ids.push(id);
        tokens.push(String::from_utf8(token.stdout).unwrap().trim().to_string());
    }
    World { ids, tokens }
}

async fn subscribe(
    client: &reqwest::Client,
    listen: &str,
    token: &str,
    receiver: &Receiver,
    browser: &Browser,
) {
    let res = client
        .post(format!("http://{listen}/api/v1/push/subscription"))
        .bearer_auth(token)
        .json(&json!({
            "subscription": {
                "endpoint": receiver.endpoint(),
                "keys": {"p256dh": browser.p256dh, "auth": browser.auth_b64},
                "standard": true,
            },
            "data": {"alerts": {"mention": true, "favourite": true}, "policy": "all"},
        }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{:?}", res.text().await);
}

/// One writer: random writes until the server dies under it.
async fn write(
    client: &reqwest::Client,
    listens: &[String],
    (ids, tokens): &(Vec<i64>, Vec<String>),
    acked: &Mutex<Acked>,
    stop: &AtomicBool,
    writer: usize,
) {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let (me, other, pick, known) = {
            let mut rng = rand::thread_rng();
            let me = rng.gen_range(0..NAMES.len());
            let mut other = rng.gen_range(0..NAMES.len() - 1);
            if other >= me {
                other += 1;
            }
            let a = acked.lock().unwrap();
            let known: Option<i64> = if a.statuses.is_empty() {
                None
            } else {
                let i = rng.gen_range(0..a.statuses.len());
                a.statuses.iter().nth(i).copied()
            };
            (me, other, rng.gen_range(0..5), known)
        };
        // Successive requests go to successive nodes, as behind a load balancer.
        let listen = &listens[(writer + n) % listens.len()];
        let url = |path: &str| format!("http://{listen}{path}");
        let text = format!("@{} note {writer}-{n}", NAMES[other]);
        let request = match (pick, known) {
            (0, _) | (1, None) | (3, None) => client
                .post(url("/api/v1/statuses"))
                .json(&json!({"status": text, "visibility": "public"})),
            (1, Some(q)) => client
                .post(url("/api/v1/statuses"))
                .json(&json!({"status": format!("quoting {writer}-{n}"), "quoted_status_id": q.to_string()})),
            (2, _) => client
                .post(url("/api/v1/statuses"))
                .json(&json!({"status": text, "visibility": "direct"})),
            (3, Some(s)) => client.post(url(&format!("/api/v1/statuses/{s}/favourite"))),
            _ => client.post(url(&format!("/api/v1/accounts/{}/follow", ids[other]))),
        };
        let Ok(res) = request.bearer_auth(&tokens[me]).send().await else {
            // The server was killed under the request: not acknowledged.
            continue;
        };
        let status = res.status();
        let Ok(body) = res.json::<Value>().await else {
            continue;
        };
        assert!(!status.is_server_error(), "{status}: {body}");
        if !status.is_success() {
            continue;
        }
        let mut a = acked.lock().unwrap();
        match (pick, known) {
            (3, Some(s)) => {
                a.favourites.insert((ids[me], s));
            }
            (4, _) => {
                a.follows.insert((ids[me], ids[other]));
            }
            _ => {
                let id = body["id"].as_str().and_then(|s| s.parse().ok());
                a.statuses.insert(id.expect("a status id"));
            }
        }
    }
}

/// The store, read directly: what the crash left is a question about rows.
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    async fn open(place: &Place) -> Db {
        match &place.database_url {
            Some(url) => Db::Postgres(sqlx::PgPool::connect(url).await.expect("PostgreSQL")),
            None => {
                let path = place.dir.path().join("cascade.db");
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .read_only(true);
                Db::Sqlite(
                    sqlx::SqlitePool::connect_with(options)
                        .await
                        .expect("SQLite"),
                )
            }
        }
    }

    /// Rows of integers (NULLs read as 0).
    async fn rows(&self, sql: &str) -> Vec<Vec<i64>> {
        macro_rules! ints {
            ($pool:expr) => {
                sqlx::query(sql)
                    .fetch_all($pool)
                    .await
                    .expect(sql)
                    .iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| r.try_get::<Option<i64>, _>(i).expect(sql).unwrap_or(0))
                            .collect()
                    })
                    .collect()
            };
        }
        match self {
            Db::Sqlite(pool) => ints!(pool),
            Db::Postgres(pool) => ints!(pool),
        }
    }

    async fn count(&self, sql: &str) -> i64 {
        self.rows(sql).await[0][0]
    }

    /// Asserts that a query finds nothing: each row it finds is a broken promise.
    async fn none(&self, what: &str, sql: &str) {
        let found = self.rows(sql).await;
        let first: Vec<_> = found.iter().take(10).collect();
        assert!(
            found.is_empty(),
            "{what}: {} rows, first {first:?}",
            found.len()
        );
    }
}

async fn check_acknowledged(db: &Db, acked: &Acked) {
    let stored: HashSet<i64> = db
        .rows("SELECT id FROM statuses")
        .await
        .into_iter()
        .map(|r| r[0])
        .collect();
    let lost: Vec<_> = acked.statuses.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged statuses lost: {lost:?}");
    let pairs = |sql: &'static str| async move {
        db.rows(sql)
            .await
            .into_iter()
            .map(|r| (r[0], r[1]))
            .collect::<HashSet<_>>()
    };
    let favourites = pairs("SELECT account_id, status_id FROM favourites").await;
    let lost: Vec<_> = acked.favourites.difference(&favourites).collect();
    assert!(lost.is_empty(), "acknowledged favourites lost: {lost:?}");
    let follows = pairs("SELECT account_id, target_id FROM follows").await;
    let lost: Vec<_> = acked.follows.difference(&follows).collect();
    assert!(lost.is_empty(), "acknowledged follows lost: {lost:?}");
    assert!(
        acked.statuses.len() > ROUNDS && !acked.favourites.is_empty() && !acked.follows.is_empty(),
        "the load wrote something of each kind: {} statuses, {} favourites, {} follows",
        acked.statuses.len(),
        acked.favourites.len(),
        acked.follows.len()
    );
}

/// Every stored write's notifications exist exactly once, and its conversation entries.
async fn check_owed(db: &Db) {
    db.none(
        "mentions without exactly one notification",
        "SELECT m.status_id, m.account_id, COUNT(n.id) FROM mentions m \
         JOIN statuses s ON s.id = m.status_id \
         LEFT JOIN notifications n ON n.account_id = m.account_id \
           AND n.status_id = m.status_id AND n.kind = 'mention' \
         WHERE m.account_id <> s.account_id \
         GROUP BY m.status_id, m.account_id HAVING COUNT(n.id) <> 1",
    )
    .await;
    db.none(
        "quotes without exactly one notification",
        "SELECT s.id, COUNT(n.id) FROM statuses s JOIN statuses q ON q.id = s.quote_of_id \
         LEFT JOIN notifications n ON n.account_id = q.account_id \
           AND n.status_id = s.id AND n.kind = 'quote' \
         WHERE q.account_id <> s.account_id \
         GROUP BY s.id HAVING COUNT(n.id) <> 1",
    )
    .await;
    db.none(
        "favourites without exactly one notification",
        "SELECT f.account_id, f.status_id, COUNT(n.id) FROM favourites f \
         JOIN statuses s ON s.id = f.status_id \
         LEFT JOIN notifications n ON n.account_id = s.account_id \
           AND n.from_account_id = f.account_id AND n.status_id = s.id AND n.kind = 'favourite' \
         WHERE f.account_id <> s.account_id \
         GROUP BY f.account_id, f.status_id HAVING COUNT(n.id) <> 1",
    )
    .await;
    db.none(
        "follows without exactly one notification",
        "SELECT f.account_id, f.target_id, COUNT(n.id) FROM follows f \
         LEFT JOIN notifications n ON n.account_id = f.target_id \
           AND n.from_account_id = f.account_id AND n.kind = 'follow' \
         GROUP BY f.account_id, f.target_id HAVING COUNT(n.id) <> 1",
    )
    .await;
    // A direct status sits in the conversation of each participant with the others.
    let direct = db
        .rows(
            "SELECT s.id, s.account_id, m.account_id FROM statuses s \
             JOIN mentions m ON m.status_id = s.id WHERE s.visibility = 3",
        )
        .await;
    let conversations: HashSet<(i64, i64)> = db
        .rows("SELECT c.account_id, c.id FROM conversations c")
        .await
        .into_iter()
        .map(|r| (r[0], r[1]))
        .collect();
    let mut by_account: HashMap<i64, usize> = HashMap::new();
    for (account, _) in &conversations {
        *by_account.entry(*account).or_default() += 1;
    }
    for row in &direct {
        let (author, mentioned) = (row[1], row[2]);
        if author == mentioned {
            continue;
        }
        for someone in [author, mentioned] {
            assert!(
                by_account.contains_key(&someone),
                "direct status {} has no conversation for {someone}",
                row[0]
            );
        }
    }
    // Each participant has one conversation per set of others, whatever ran twice.
    let pairs: HashSet<(i64, i64)> = direct
        .iter()
        .filter(|r| r[1] != r[2])
        .flat_map(|r| [(r[1], r[2]), (r[2], r[1])])
        .collect();
    let mut expected: BTreeMap<i64, usize> = BTreeMap::new();
    for (account, _) in &pairs {
        *expected.entry(*account).or_default() += 1;
    }
    let actual: BTreeMap<i64, usize> = by_account.into_iter().collect();
    assert_eq!(
        actual, expected,
        "one conversation per participant and partner"
    );
}

/// Every unfiltered mention of the subscribed account reached its push receiver, and so
/// did the newest favourite of each of its posts: a push carries its group's newest
/// notification when it is sent, so an older favourite of a post may be told only through
/// a newer one.
async fn check_pushes(db: &Db, receiver: &Receiver, browser: &Browser, bob: i64) {
    let owed: HashSet<i64> = db
        .rows(&format!(
            "SELECT id FROM notifications WHERE account_id = {bob} AND filtered = FALSE \
             AND kind = 'mention' \
             UNION SELECT MAX(id) FROM notifications WHERE account_id = {bob} \
             AND filtered = FALSE AND kind = 'favourite' GROUP BY status_id"
        ))
        .await
        .into_iter()
        .map(|r| r[0])
        .collect();
    assert!(!owed.is_empty(), "bob was owed pushes");
    let pushed: HashSet<i64> = receiver
        .accepted()
        .iter()
        .filter_map(|d| {
            let id = &browser.decrypt(&d.body)["notification_id"];
            id.as_i64().or_else(|| id.as_str()?.parse().ok())
        })
        .collect();
    let missing: Vec<_> = owed.difference(&pushed).collect();
    assert!(missing.is_empty(), "owed pushes never sent: {missing:?}");
}

async fn check_counters(db: &Db) {
    db.none(
        "accounts whose counters differ from their rows",
        "SELECT a.id, a.statuses_count, a.followers_count, a.following_count FROM accounts a \
         WHERE a.statuses_count <> (SELECT COUNT(*) FROM statuses s WHERE s.account_id = a.id) \
            OR a.followers_count <> (SELECT COUNT(*) FROM follows f WHERE f.target_id = a.id) \
            OR a.following_count <> (SELECT COUNT(*) FROM follows f WHERE f.account_id = a.id)",
    )
    .await;
    db.none(
        "statuses whose counters differ from their rows",
        "SELECT s.id, s.favourites_count, s.quotes_count FROM statuses s \
         WHERE s.favourites_count <> (SELECT COUNT(*) FROM favourites f WHERE f.status_id = s.id) \
            OR s.quotes_count <> (SELECT COUNT(*) FROM statuses q WHERE q.quote_of_id = s.id)",
    )
    .await;
}
