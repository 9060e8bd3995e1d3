//! The test harness: `spawn_app()` and a typed client.

use std::net::SocketAddr;

use cascade_server::api::auth::new_secret;
use cascade_server::{AppState, Config};
use cascade_store::Store;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    /// Stops the server when the test ends (dropped with the app).
    _stop: tokio::sync::oneshot::Sender<()>,
    /// With `CASCADE_TEST_NODES` above 1: the other nodes of the app's cluster, which
    /// `request` takes turns with, so the suite checks that several nodes act as one.
    others: Vec<TestApp>,
    turn: std::sync::atomic::AtomicUsize,
}

pub struct User {
    pub id: String,
    pub token: String,
    #[allow(dead_code)]
    pub username: String,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Response {
    pub fn ok(self) -> Value {
        assert!(
            self.status.is_success(),
            "expected success, got {}: {}",
            self.status,
            self.body
        );
        self.body
    }

    pub fn link(&self) -> String {
        self.headers
            .get("link")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    /// The path and query of the `Link` header's `rel` ("next" or "prev"), to request next.
    pub fn link_path(&self, rel: &str) -> Option<String> {
        let link = self.link();
        let url = link
            .split(", ")
            .find(|l| l.ends_with(&format!("rel=\"{rel}\"")))?
            .strip_prefix('<')?
            .split('>')
            .next()?
            .to_string();
        let after_scheme = url.split_once("://")?.1;
        Some(after_scheme[after_scheme.find('/')?..].to_string())
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// Spawns a server whose configuration `tune` may adjust first.
pub async fn spawn_with(tune: impl FnOnce(&mut Config)) -> TestApp {
    let nodes: usize = std::env::var("CASCADE_TEST_NODES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    spawn_nodes(nodes, tune).await
}

/// Spawns one server even when the suite runs on a cluster: for the tests of what one
/// node does by itself (its own store closed under it, its own memory, a job staged by
/// hand), which a cluster would only blur.
pub async fn spawn_one_with(tune: impl FnOnce(&mut Config)) -> TestApp {
    spawn_nodes(1, tune).await
}

async fn spawn_nodes(nodes: usize, tune: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("an address");
    let mut config = Config::new(addr, dir.path().to_path_buf(), None, None);
    tune(&mut config);
    if nodes > 1 {
        return spawn_cluster(nodes, config, listener, dir).await;
    }
    let store = match std::env::var("CASCADE_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let schema = format!(
                "cascade_t_{}",
                new_secret()
                    .to_lowercase()
                    .replace(['-', '_'], "")
                    .chars()
                    .take(20)
                    .collect::<String>()
            );
            Store::connect_postgres_schema(&url, &schema)
                .await
                .expect("a PostgreSQL schema")
        }
        _ => Store::connect(&config.database_url)
            .await
            .expect("a SQLite store"),
    };
    let state = AppState::new(config, store);
    // The production start path: the API with its workers beside it.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = cascade_server::serve(state.clone(), listener, async move {
        let _ = stopped.await;
    });
    tokio::spawn(async move { server.await.expect("the server runs") });
    TestApp {
        addr,
        state,
        client: reqwest::Client::new(),
        _dir: dir,
        _stop: stop,
        others: Vec::new(),
        turn: Default::default(),
    }
}

/// `CASCADE_TEST_NODES` nodes on one fresh PostgreSQL schema, Redis and NATS prefix, all
/// configured as `config` (one domain), each with its own listener and data folder. The
/// first is the app; `request` takes turns among all of them.
async fn spawn_cluster(
    nodes: usize,
    config: Config,
    listener: tokio::net::TcpListener,
    dir: tempfile::TempDir,
) -> TestApp {
    let env = |name: &str, default: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_string())
    };
    let database = env(
        "CASCADE_TEST_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    );
    let tail: String = new_secret()
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    let schema = format!("cascade_n_{tail}");
    let mut config = config;
    config.redis_url = Some(env("CASCADE_TEST_REDIS_URL", "redis://127.0.0.1:6379"));
    config.nats_url = Some(env("CASCADE_TEST_NATS_URL", "nats://127.0.0.1:4222"));
    config.cluster_prefix = format!("cascade_n_{tail}");
    // Several nodes per test and two tests at once: small pools keep them all under the
    // database's 100 connections, as an operator sizes a cluster's pools.
    config.database_pool = 4;
    if config.media_store.is_none() {
        // Media files in one folder every node reaches, as a shared volume would be.
        config.media_store = Some(cascade_server::media::MediaStore::folder(dir.path()));
    }
    let mut slots = vec![(listener, dir)];
    for _ in 1..nodes {
        slots.push((
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a free port"),
            tempfile::tempdir().expect("a temporary directory"),
        ));
    }
    let mut started = Vec::new();
    for (listener, dir) in slots {
        let mut config = config.clone();
        config.listen = listener.local_addr().expect("an address");
        config.data_dir = dir.path().to_path_buf();
        started.push(start_node(&database, &schema, config, listener, dir).await);
    }
    let mut first = started.remove(0);
    first.others = started;
    first
}

async fn start_node(
    database_url: &str,
    schema: &str,
    config: Config,
    listener: tokio::net::TcpListener,
    dir: tempfile::TempDir,
) -> TestApp {
    let addr = listener.local_addr().expect("an address");
    let store = Store::connect_postgres_schema_pooled(database_url, schema, config.database_pool)
        .await
        .expect("a PostgreSQL schema");
    let cluster = cascade_server::cluster::Cluster::connect(&config)
        .await
        .expect("Redis and NATS");
    let state = AppState::with_cluster(config, store, cluster);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = cascade_server::serve(state.clone(), listener, async move {
        let _ = stopped.await;
    });
    tokio::spawn(async move { server.await.expect("the server runs") });
    TestApp {
        addr,
        state,
        client: reqwest::Client::new(),
        _dir: dir,
        _stop: stop,
        others: Vec::new(),
        turn: Default::default(),
    }
}

/// A node of a cluster: a server on the PostgreSQL schema `schema` of `database_url`
/// (migrated by the first node), with the Redis and NATS the configuration `tune` names.
pub async fn spawn_node(
    database_url: &str,
    schema: &str,
    tune: impl FnOnce(&mut Config),
) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("an address");
    let mut config = Config::new(addr, dir.path().to_path_buf(), None, None);
    tune(&mut config);
    start_node(database_url, schema, config, listener, dir).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The URL on the node whose turn it is (the app itself, unless it is a cluster).
    fn next_url(&self, path: &str) -> String {
        if self.others.is_empty() {
            return self.url(path);
        }
        let turn = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match turn % (self.others.len() + 1) {
            0 => self.url(path),
            i => self.others[i - 1].url(path),
        }
    }

    /// On a cluster, waits until every node applied what every other node told it so far
    /// (what a client meets on any node within a second): each node sends a mark, and
    /// the others must have heard it.
    async fn cluster_caught_up(&self) {
        if self.others.is_empty() {
            return;
        }
        let nodes: Vec<&TestApp> = std::iter::once(self).chain(&self.others).collect();
        for sender in &nodes {
            let cluster = sender.state.cluster.as_ref().expect("a node of a cluster");
            let mark = cluster.mark();
            cluster.flush().await;
            for receiver in nodes.iter().filter(|n| n.addr != sender.addr) {
                let heard = receiver
                    .state
                    .cluster
                    .as_ref()
                    .expect("a node of a cluster");
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                while !heard.heard(&cluster.node, mark) {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "a node did not hear another within 10 s"
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
            }
        }
    }

    /// Waits until every job that earlier requests wrote is done: the server's worker
    /// performs them (or, where a test turned it off, this runs them).
    pub async fn drain(&self) {
        if self.state.store.is_closed() {
            // A test that closed the store reads from the caches alone.
            return;
        }
        if !self.state.config.worker {
            cascade_server::worker::drain(&self.state)
                .await
                .expect("the jobs drain");
            return;
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self.state.store.count_jobs().await.expect("jobs count") > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the worker did not drain the jobs within a minute"
            );
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }

    /// Waits until everything earlier requests owe was done, pushes included: the jobs
    /// are drained and no push delivery due by now is left (a held or coalesced push,
    /// due later, stays queued).
    pub async fn settle(&self) {
        self.drain().await;
        let store = &self.state.store;
        eventually("the due pushes are delivered", || async {
            let next = store.next_push_due().await.expect("the push queue");
            next.is_none_or(|due| due > cascade_core::time::now_millis())
        })
        .await;
    }

    /// Writes buffered view counts, as the background flusher does every few seconds.
    pub async fn flush_views(&self) {
        cascade_server::app::views::flush(&self.state)
            .await
            .expect("views flush");
        for other in &self.others {
            cascade_server::app::views::flush(&other.state)
                .await
                .expect("views flush");
        }
    }

    /// A registered user with a full-scope token, made through the use case the CLI uses.
    pub async fn user(&self, username: &str) -> User {
        self.user_with_scopes(username, "read write follow push")
            .await
    }

    pub async fn user_with_scopes(&self, username: &str, scopes: &str) -> User {
        let account = cascade_server::app::accounts::register(
            &self.state,
            username,
            &format!("{username}@example.test"),
            "correct horse battery",
            Default::default(),
        )
        .await
        .expect("registration");
        let token =
            cascade_server::app::accounts::issue_token(&self.state, Some(account.id), None, scopes)
                .await
                .expect("a token")
                .access_token;
        User {
            id: account.id.to_string(),
            token,
            username: username.into(),
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        // What earlier requests owe is done first, as for a client that waited for it: a
        // test reads the consequences of its writes, never a race with the worker.
        self.drain().await;
        self.cluster_caught_up().await;
        let mut req = self.client.request(method, self.next_url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("the server answers");
        self.cluster_caught_up().await;
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Response {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, user: &User, path: &str) -> Response {
        self.request(Method::GET, path, Some(&user.token), None)
            .await
    }

    pub async fn get_anon(&self, path: &str) -> Response {
        self.request(Method::GET, path, None, None).await
    }

    pub async fn post(&self, user: &User, path: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(&user.token), Some(body))
            .await
    }

    pub async fn post_status(&self, user: &User, text: &str, visibility: &str) -> Value {
        self.post(
            user,
            "/api/v1/statuses",
            serde_json::json!({"status": text, "visibility": visibility}),
        )
        .await
        .ok()
    }

    pub async fn follow(&self, user: &User, target: &User) {
        self.post(
            user,
            &format!("/api/v1/accounts/{}/follow", target.id),
            serde_json::json!({}),
        )
        .await
        .ok();
    }

    /// Pages through a list endpoint from `path`, following the `Link` header's `rel`
    /// ("next" going down, "prev" going up) until a page comes back empty.
    pub async fn walk(&self, user: &User, path: &str, rel: &str) -> Vec<Vec<Value>> {
        let mut path = path.to_string();
        let mut pages = Vec::new();
        for _ in 0..100 {
            let res = self.get(user, &path).await;
            let onwards = res.link_path(rel);
            let page = res.ok().as_array().expect("a list").clone();
            if page.is_empty() {
                return pages;
            }
            pages.push(page);
            path = onwards.expect("a page with entries links onwards");
        }
        panic!("paging from {path} did not end");
    }

    pub async fn home(&self, user: &User, query: &str) -> Vec<Value> {
        self.drain().await;
        let v = self
            .get(user, &format!("/api/v1/timelines/home{query}"))
            .await
            .ok();
        v.as_array().cloned().unwrap_or_default()
    }
}

/// Accounts with tokens, made straight in the store (registration hashes a password per
/// account, which a test of thousands cannot afford), 90 days old.
pub async fn crowd(app: &TestApp, prefix: &str, n: usize) -> Vec<User> {
    let state = &app.state;
    let created_at = cascade_core::time::now_millis() - 90 * 86_400_000;
    let mut users = Vec::with_capacity(n);
    for i in 0..n {
        let username = format!("{prefix}{i}");
        let account = state
            .store
            .create_account(&cascade_store::NewAccount {
                id: state.ids.next(),
                username: username.clone(),
                email: format!("{username}@example.test"),
                password_hash: "not a hash: nobody logs in".into(),
                display_name: String::new(),
                note: String::new(),
                note_html: String::new(),
                bot: false,
                locked: false,
                created_at,
                pending: None,
            })
            .await
            .expect("an account");
        let token = cascade_server::app::accounts::issue_token(
            state,
            Some(account.id),
            None,
            "read write follow",
        )
        .await
        .expect("a token")
        .access_token;
        users.push(User {
            id: account.id.to_string(),
            token,
            username,
        });
    }
    users
}

/// The ids of a list of statuses.
pub fn ids(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A public original status as the store holds it, for tests that write records straight
/// into the store (imports, backdated posts).
pub fn public_status(
    id: i64,
    account: i64,
    text: &str,
    created_at: i64,
) -> cascade_store::StatusRecord {
    cascade_store::StatusRecord {
        id,
        account_id: account,
        text: text.into(),
        content_html: format!("<p>{text}</p>"),
        spoiler_text: String::new(),
        visibility: 0,
        sensitive: false,
        language: None,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        reblog_of_id: None,
        quote_of_id: None,
        quote_state: None,
        quote_policy: "public".into(),
        app_id: None,
        replies_count: 0,
        reblogs_count: 0,
        favourites_count: 0,
        quotes_count: 0,
        edited_at: None,
        created_at,
    }
}

/// Polls `probe` until it answers true, for effects the worker performs after a request
/// returns (notifications, pushes, replies); fails after half a minute, naming `what`.
pub async fn eventually<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !probe().await {
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// One part of a multipart body: a text field (`filename` `None`) or a file.
pub struct Part<'a> {
    pub name: &'a str,
    pub filename: Option<&'a str>,
    pub content_type: &'a str,
    pub bytes: Vec<u8>,
}

impl<'a> Part<'a> {
    pub fn file(name: &'a str, filename: &'a str, content_type: &'a str, bytes: Vec<u8>) -> Self {
        Part {
            name,
            filename: Some(filename),
            content_type,
            bytes,
        }
    }

    pub fn text(name: &'a str, value: &str) -> Self {
        Part {
            name,
            filename: None,
            content_type: "",
            bytes: value.as_bytes().to_vec(),
        }
    }
}

/// A `multipart/form-data` body, written by hand as browsers and Mastodon clients send
/// it; returns the body and its content type.
pub fn multipart(parts: &[Part<'_>]) -> (Vec<u8>, String) {
    let boundary = "----cascade-test-boundary-7d1f0e";
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match p.filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{f}\"\r\nContent-Type: {}\r\n\r\n",
                    p.name, p.content_type
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{}\"\r\n\r\n", p.name).as_bytes(),
            ),
        }
        body.extend_from_slice(&p.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

impl TestApp {
    /// Sends a multipart request (an upload, a profile update) as `user`.
    pub async fn send_multipart(
        &self,
        method: Method,
        path: &str,
        user: &User,
        parts: &[Part<'_>],
    ) -> Response {
        self.drain().await;
        let (body, content_type) = multipart(parts);
        let res = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&user.token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("the server answers");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Response {
            status,
            headers,
            body,
        }
    }
}
