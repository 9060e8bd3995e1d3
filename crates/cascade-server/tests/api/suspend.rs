//! Suspension: a suspended account's logins stop working and its posts disappear from
//! every timeline and endpoint, its profile shows as suspended, and lifting the suspension
//! brings all of it back.

use futures_util::FutureExt;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{ids, spawn_app, TestApp, User};

/// Bob's view of everything a suspension must reach, as comparable facts.
struct Seen {
    home: Vec<String>,
    /// The originals of the reblogs on the home timeline.
    home_reblogged: Vec<String>,
    public: Vec<String>,
    tag: Vec<String>,
    list: Vec<String>,
    account_statuses: Vec<String>,
    context: Vec<String>,
    favourites: Vec<String>,
    bookmarks: Vec<String>,
    notifications_from: Vec<String>,
    /// Every sample account of bob's grouped notifications.
    grouped_from: Vec<String>,
    followers_of_bob: Vec<String>,
    /// Who favourited bob's thread.
    favourited_thread: Vec<String>,
    quote: Value,
}

async fn list_ids(app: &TestApp, user: &User, path: &str) -> Vec<String> {
    ids(app.get(user, path).await.ok().as_array().expect("a list"))
}

async fn seen(app: &TestApp, bob: &User, alice: &User, list: &str, thread: &str) -> Seen {
    app.drain().await;
    let context = app
        .get(bob, &format!("/api/v1/statuses/{thread}/context"))
        .await
        .ok();
    let notifications = app.get(bob, "/api/v1/notifications").await.ok();
    let grouped = app.get(bob, "/api/v2/notifications").await.ok();
    let followers = app
        .get(bob, &format!("/api/v1/accounts/{}/followers", bob.id))
        .await
        .ok();
    let public = app.get(bob, "/api/v1/timelines/public").await.ok();
    let quote = public
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["content"]
                .as_str()
                .unwrap_or_default()
                .contains("look at this")
        })
        .map(|s| s["quote"].clone())
        .unwrap_or(Value::Null);
    let home = app.home(bob, "").await;
    Seen {
        home_reblogged: home
            .iter()
            .filter_map(|s| s["reblog"]["id"].as_str().map(str::to_string))
            .collect(),
        home: ids(&home),
        public: list_ids(app, bob, "/api/v1/timelines/public").await,
        tag: list_ids(app, bob, "/api/v1/timelines/tag/quiet").await,
        list: list_ids(app, bob, &format!("/api/v1/timelines/list/{list}")).await,
        account_statuses: list_ids(app, bob, &format!("/api/v1/accounts/{}/statuses", alice.id))
            .await,
        context: ids(context["descendants"].as_array().unwrap()),
        favourites: list_ids(app, bob, "/api/v1/favourites").await,
        bookmarks: list_ids(app, bob, "/api/v1/bookmarks").await,
        notifications_from: notifications
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["account"]["id"].as_str().unwrap().to_string())
            .collect(),
        grouped_from: grouped["notification_groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["sample_account_ids"].as_array().unwrap().clone())
            .map(|a| a.as_str().unwrap().to_string())
            .collect(),
        followers_of_bob: ids(followers.as_array().unwrap()),
        favourited_thread: list_ids(
            app,
            bob,
            &format!("/api/v1/statuses/{thread}/favourited_by"),
        )
        .await,
        quote,
    }
}

#[tokio::test]
async fn a_suspended_account_vanishes_everywhere_and_lifting_restores_it() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&bob, &alice).await;
    app.follow(&bob, &carol).await;
    app.follow(&alice, &bob).await;
    let list = app
        .post(&bob, "/api/v1/lists", json!({"title": "friends"}))
        .await
        .ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &bob,
        &format!("/api/v1/lists/{list}/accounts"),
        json!({"account_ids": [alice.id, carol.id]}),
    )
    .await
    .ok();
    let thread = app.post_status(&bob, "a thread", "public").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let post = app.post_status(&alice, "hello @bob #quiet", "public").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &alice,
        "/api/v1/statuses",
        json!({"status": "a reply", "in_reply_to_id": thread}),
    )
    .await
    .ok();
    let carols = app.post_status(&carol, "carol here #quiet", "public").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &carol,
        &format!("/api/v1/statuses/{post}/reblog"),
        json!({}),
    )
    .await
    .ok();
    app.post(
        &carol,
        "/api/v1/statuses",
        json!({"status": "look at this", "quoted_status_id": post}),
    )
    .await
    .ok();
    app.post(
        &bob,
        &format!("/api/v1/statuses/{post}/favourite"),
        json!({}),
    )
    .await
    .ok();
    app.post(
        &bob,
        &format!("/api/v1/statuses/{post}/bookmark"),
        json!({}),
    )
    .await
    .ok();
    // One favourite group on bob's thread, with a sample from each of them.
    for fan in [&alice, &carol] {
        app.post(
            fan,
            &format!("/api/v1/statuses/{thread}/favourite"),
            json!({}),
        )
        .await
        .ok();
    }

    let before = seen(&app, &bob, &alice, &list, &thread).await;
    assert!(before.home.contains(&post));
    assert_eq!(before.home_reblogged, vec![post.clone()]);
    assert!(before.account_statuses.contains(&post));
    assert_eq!(before.context.len(), 1);
    assert_eq!(before.favourites, vec![post.clone()]);
    assert_eq!(before.bookmarks, vec![post.clone()]);
    assert!(before.notifications_from.contains(&alice.id));
    assert!(before.grouped_from.contains(&alice.id));
    assert!(before.followers_of_bob.contains(&alice.id));
    assert_eq!(before.favourited_thread.len(), 2);
    assert!(before.tag.contains(&post));
    assert!(before.list.contains(&post));
    assert_eq!(before.quote["state"], "accepted");

    let alice_id: i64 = alice.id.parse().unwrap();
    assert!(
        cascade_server::app::accounts::suspend(&app.state, alice_id, true)
            .await
            .unwrap()
    );

    let during = seen(&app, &bob, &alice, &list, &thread).await;
    // Carol's reblog of alice's post goes too; carol's own posts stay.
    assert!(
        during.home_reblogged.is_empty(),
        "{:?}",
        during.home_reblogged
    );
    assert!(during.home.contains(&carols));
    for (name, list) in [
        ("home", &during.home),
        ("public", &during.public),
        ("tag", &during.tag),
        ("list", &during.list),
    ] {
        assert!(!list.contains(&post), "{name} still shows the post");
    }
    assert!(during.tag.contains(&carols));
    assert!(during.account_statuses.is_empty());
    assert!(during.context.is_empty(), "the reply left the thread");
    assert!(during.favourites.is_empty());
    assert!(during.bookmarks.is_empty());
    assert!(!during.notifications_from.contains(&alice.id));
    assert!(!during.grouped_from.contains(&alice.id));
    assert!(
        during.grouped_from.contains(&carol.id),
        "carol's favourite stays"
    );
    assert!(!during.followers_of_bob.contains(&alice.id));
    assert_eq!(during.favourited_thread, vec![carol.id.clone()]);
    assert_eq!(during.quote["state"], "unauthorized");
    assert!(during.quote["quoted_status"].is_null());

    let single = app.get(&bob, &format!("/api/v1/statuses/{post}")).await;
    assert_eq!(single.status, StatusCode::NOT_FOUND);
    let anon = app.get_anon(&format!("/api/v1/statuses/{post}")).await;
    assert_eq!(anon.status, StatusCode::NOT_FOUND);
    let profile = app
        .get_anon(&format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(profile["suspended"], true);
    assert_eq!(profile["username"], "alice");
    assert_eq!(profile["statuses_count"], 0);
    assert_eq!(profile["followers_count"], 0);
    assert_eq!(profile["note"], "");
    let refused = app.get(&alice, "/api/v1/accounts/verify_credentials").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.body["error"], "Your login is currently disabled",
        "{}",
        refused.body
    );
    let posting = app
        .post(&alice, "/api/v1/statuses", json!({"status": "still here?"}))
        .await;
    assert_eq!(posting.status, StatusCode::FORBIDDEN);
    // Streaming refuses the token too (bounded, since a stream that opened would not end).
    let stream = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        app.get(&alice, "/api/v1/streaming/user"),
    )
    .await
    .expect("a refused stream answers at once");
    assert_eq!(stream.status, StatusCode::FORBIDDEN);

    assert!(
        cascade_server::app::accounts::suspend(&app.state, alice_id, false)
            .await
            .unwrap()
    );
    let after = seen(&app, &bob, &alice, &list, &thread).await;
    assert_eq!(after.home, before.home);
    assert_eq!(after.home_reblogged, before.home_reblogged);
    assert_eq!(after.public, before.public);
    assert_eq!(after.tag, before.tag);
    assert_eq!(after.list, before.list);
    assert_eq!(after.account_statuses, before.account_statuses);
    assert_eq!(after.context, before.context);
    assert_eq!(after.favourites, before.favourites);
    assert_eq!(after.bookmarks, before.bookmarks);
    assert_eq!(after.notifications_from, before.notifications_from);
    assert_eq!(after.grouped_from, before.grouped_from);
    assert_eq!(after.followers_of_bob, before.followers_of_bob);
    assert_eq!(after.favourited_thread, before.favourited_thread);
    assert_eq!(after.quote["state"], "accepted");
    let profile = app
        .get_anon(&format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert!(profile.get("suspended").is_none(), "{profile}");
    app.get(&alice, "/api/v1/accounts/verify_credentials")
        .await
        .ok();
}

#[tokio::test]
async fn suspending_an_unknown_account_reports_it() {
    let app = spawn_app().await;
    assert!(
        !cascade_server::app::accounts::suspend(&app.state, 12345, true)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_suspended_accounts_posts_show_no_history_and_take_no_favourites_or_reblogs() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app.post_status(&alice, "first words", "public").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.request(
        reqwest::Method::PUT,
        &format!("/api/v1/statuses/{post}"),
        Some(&alice.token),
        Some(json!({"status": "second words"})),
    )
    .await
    .ok();
    let history = format!("/api/v1/statuses/{post}/history");
    assert_eq!(
        app.get(&bob, &history).await.ok().as_array().unwrap().len(),
        2
    );

    let alice_id: i64 = alice.id.parse().unwrap();
    cascade_server::app::accounts::suspend(&app.state, alice_id, true)
        .await
        .unwrap();

    for res in [
        app.get(&bob, &history).await,
        app.get_anon(&history).await,
        app.get(&bob, &format!("/api/v1/statuses/{post}/source"))
            .await,
        app.post(
            &bob,
            &format!("/api/v1/statuses/{post}/favourite"),
            json!({}),
        )
        .await,
        app.post(&bob, &format!("/api/v1/statuses/{post}/reblog"), json!({}))
            .await,
    ] {
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
        assert!(res.body["error"].is_string(), "{}", res.body);
    }
    let own_source = app
        .get(&alice, &format!("/api/v1/statuses/{post}/source"))
        .await;
    assert!(!own_source.status.is_success(), "{}", own_source.body);
    assert!(
        !own_source.body.to_string().contains("words"),
        "{}",
        own_source.body
    );
    let counted = app.state.store.status(post.parse().unwrap()).await.unwrap();
    assert_eq!((counted.favourites_count, counted.reblogs_count), (0, 0));
}

#[tokio::test]
async fn a_suspended_account_matches_the_mastodon_account_schema() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let alice_id: i64 = alice.id.parse().unwrap();
    cascade_server::app::accounts::suspend(&app.state, alice_id, true)
        .await
        .unwrap();
    let profile = app
        .get_anon(&format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(profile["suspended"], true);
    let complaints =
        crate::schemas::validate(&[("Account", profile, "suspended account".into())]).await;
    if let Some(complaints) = complaints {
        assert!(complaints.is_empty(), "{complaints}");
    }
}

/// Polls `check` until it holds; the server notices another process's write within its
/// record cache's TTL, so this gives it far longer than that.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what} never happened");
}

#[tokio::test]
async fn cascade_admin_suspend_reaches_a_running_server_and_lift_undoes_it() {
    use crate::cli::{admin, free_port, serve};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let (_server, _) = serve(&[
        "--data",
        data,
        "--listen",
        &listen,
        "--record-cache-secs",
        "0.5",
    ])
    .await;
    for name in ["alice", "bob"] {
        let made = admin(&[
            "create-user",
            name,
            "--email",
            &format!("{name}@example.test"),
            "--password",
            "long enough pw",
            "--data",
            data,
        ])
        .await;
        assert!(made.status.success());
    }
    let token = |name: &'static str| {
        let data = data.to_string();
        async move {
            let out = admin(&["token", name, "--data", &data]).await;
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        }
    };
    let (alice, bob) = (token("alice").await, token("bob").await);
    let client = reqwest::Client::new();
    let post: Value = client
        .post(format!("http://{listen}/api/v1/statuses"))
        .bearer_auth(&alice)
        .json(&json!({"status": "before the suspension"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = post["id"].as_str().unwrap().to_string();
    let status_of = |path: String, token: String| {
        let client = client.clone();
        async move {
            client
                .get(path)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let post_url = format!("http://{listen}/api/v1/statuses/{id}");
    let me_url = format!("http://{listen}/api/v1/accounts/verify_credentials");
    assert_eq!(
        status_of(post_url.clone(), bob.clone()).await,
        StatusCode::OK
    );

    assert!(admin(&["suspend", "alice", "--data", data])
        .await
        .status
        .success());
    eventually("the post disappearing", || {
        status_of(post_url.clone(), bob.clone()).map(|s| s == StatusCode::NOT_FOUND)
    })
    .await;
    eventually("alice's token being refused", || {
        status_of(me_url.clone(), alice.clone()).map(|s| s == StatusCode::FORBIDDEN)
    })
    .await;

    assert!(admin(&["suspend", "alice", "--lift", "--data", data])
        .await
        .status
        .success());
    eventually("the post coming back", || {
        status_of(post_url.clone(), bob.clone()).map(|s| s == StatusCode::OK)
    })
    .await;
    assert_eq!(
        status_of(me_url.clone(), alice.clone()).await,
        StatusCode::OK
    );
    assert!(!admin(&["suspend", "nobody", "--data", data])
        .await
        .status
        .success());
}

#[tokio::test]
async fn an_open_websocket_of_a_suspended_account_is_closed() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let app =
        crate::helpers::spawn_with(|c| c.heartbeat = std::time::Duration::from_millis(100)).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let open = |user: &User| {
        let url = format!(
            "ws://{}/api/v1/streaming?access_token={}&stream=user",
            app.addr, user.token
        );
        async move {
            tokio_tungstenite::connect_async(url)
                .await
                .expect("the socket opens")
                .0
        }
    };
    let mut alice_ws = open(&alice).await;
    let mut bob_ws = open(&bob).await;
    cascade_server::app::accounts::suspend(&app.state, id_of(&alice), true)
        .await
        .unwrap();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            match alice_ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code.into()),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the socket is closed");
    assert_eq!(closed, Some(1008u16));
    // Bob's socket lives on: a few heartbeats later it still answers.
    let alive = tokio::time::timeout(std::time::Duration::from_millis(500), async {
        loop {
            match bob_ws.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return false,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(alive.is_err(), "bob's socket stayed open");
}

#[tokio::test]
async fn an_open_event_stream_of_a_suspended_account_ends() {
    let app =
        crate::helpers::spawn_with(|c| c.heartbeat = std::time::Duration::from_millis(100)).await;
    let alice = app.user("alice").await;
    let res = app
        .client
        .get(app.url("/api/v1/streaming/user"))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    cascade_server::app::accounts::suspend(&app.state, id_of(&alice), true)
        .await
        .unwrap();
    // The body ends only when the server ends the stream.
    let body = tokio::time::timeout(std::time::Duration::from_secs(30), res.text())
        .await
        .expect("the stream ends")
        .unwrap();
    assert!(body.starts_with(": )"), "the stream had opened: {body}");
}

fn id_of(user: &User) -> i64 {
    user.id.parse().unwrap()
}

#[tokio::test]
async fn a_suspended_account_leaves_search_the_ranked_feed_suggestions_and_watches() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice).await;
    app.follow(&alice, &bob).await;
    let post = app
        .post_status(&alice, "Gardening with #tomatoes", "public")
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &bob,
        "/api/v1/cascade/watches",
        json!({"name": "tomatoes", "hashtags": ["tomatoes"]}),
    )
    .await
    .ok();
    let watch = app.get(&bob, "/api/v1/cascade/watches").await.ok()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post_status(&alice, "More #tomatoes", "public").await;
    let carol = app.user("carol").await;
    app.post_status(&carol, "Tomatoes and more #tomatoes", "public")
        .await;
    app.follow(&carol, &bob).await;
    app.drain().await;
    let suggested = app.get(&bob, "/api/v2/suggestions").await.ok();
    assert_eq!(suggested[0]["account"]["username"], "carol");
    // The watch matches what is posted after it: alice's second post and carol's.
    assert_eq!(surfaces(&app, &bob, &watch).await, vec![1, 2, 2]);
    let found = app
        .get(&bob, "/api/v2/search?q=gardening&type=statuses")
        .await
        .ok();
    assert_eq!(found["statuses"][0]["id"], post.as_str());

    cascade_server::app::accounts::suspend(&app.state, alice.id.parse().unwrap(), true)
        .await
        .unwrap();
    cascade_server::app::accounts::suspend(&app.state, carol.id.parse().unwrap(), true)
        .await
        .unwrap();
    assert_eq!(surfaces(&app, &bob, &watch).await, vec![0, 0, 0]);
    let suggested = app.get(&bob, "/api/v2/suggestions").await.ok();
    assert!(suggested.as_array().unwrap().is_empty(), "{suggested}");
    let accounts = app
        .get(&bob, "/api/v2/search?q=alice&type=accounts")
        .await
        .ok();
    assert!(accounts["accounts"].as_array().unwrap().is_empty());
}

/// How many statuses bob finds by searching, in his ranked feed and on his watch.
async fn surfaces(app: &TestApp, bob: &User, watch: &str) -> Vec<usize> {
    let search = app
        .get(bob, "/api/v2/search?q=gardening&type=statuses")
        .await
        .ok();
    let ranked = app
        .get(bob, "/api/v1/timelines/home?order=ranked")
        .await
        .ok();
    let watched = app
        .get(bob, &format!("/api/v1/cascade/watches/{watch}/timeline"))
        .await
        .ok();
    [search["statuses"].clone(), ranked, watched]
        .iter()
        .map(|v| v.as_array().map_or(0, Vec::len))
        .collect()
}
