//! Direct conversations (`/api/v1/conversations`): one per set of participants as each
//! of them sees it, with its latest status and whether it is unread; paging, reading,
//! removing, and what blocks do.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, User};

async fn conversations(app: &TestApp, user: &User) -> Vec<Value> {
    app.drain().await;
    app.get(user, "/api/v1/conversations")
        .await
        .ok()
        .as_array()
        .unwrap()
        .clone()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A conversation as `(other participants, sorted; last status; unread)`.
fn summary(c: &Value) -> (Vec<String>, String, bool) {
    let mut accounts: Vec<String> = c["accounts"].as_array().unwrap().iter().map(id).collect();
    accounts.sort();
    (
        accounts,
        id(&c["last_status"]),
        c["unread"].as_bool().unwrap(),
    )
}

fn others(users: &[&User]) -> Vec<String> {
    let mut ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    ids.sort();
    ids
}

async fn direct(app: &TestApp, user: &User, text: &str, reply_to: Option<&str>) -> String {
    id(&app
        .post(
            user,
            "/api/v1/statuses",
            json!({"status": text, "visibility": "direct", "in_reply_to_id": reply_to}),
        )
        .await
        .ok())
}

#[tokio::test]
async fn a_direct_message_opens_one_conversation_for_each_participant() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    app.follow(&dave, &alice).await;
    app.post_status(&alice, "@dave a public word", "public")
        .await;
    app.post_status(&alice, "@dave for followers", "private")
        .await;
    assert!(
        conversations(&app, &dave).await.is_empty(),
        "only direct statuses make conversations"
    );

    let first = direct(&app, &alice, "@bob @carol plans", None).await;
    for (user, rest, unread) in [
        (&alice, others(&[&bob, &carol]), false),
        (&bob, others(&[&alice, &carol]), true),
        (&carol, others(&[&alice, &bob]), true),
    ] {
        let mine = conversations(&app, user).await;
        assert_eq!(mine.len(), 1, "{}", user.username);
        assert_eq!(
            summary(&mine[0]),
            (rest, first.clone(), unread),
            "{}",
            user.username
        );
    }
    assert!(conversations(&app, &dave).await.is_empty());

    let answer = direct(&app, &carol, "@alice @bob count me in", Some(&first)).await;
    for (user, unread) in [(&alice, true), (&bob, true), (&carol, false)] {
        let mine = conversations(&app, user).await;
        assert_eq!(mine.len(), 1, "still one for {}", user.username);
        assert_eq!(
            (id(&mine[0]["last_status"]), mine[0]["unread"].as_bool()),
            (answer.clone(), Some(unread)),
            "{}",
            user.username
        );
    }

    let bobs = id(&conversations(&app, &bob).await[0]);
    let read = app
        .post(
            &bob,
            &format!("/api/v1/conversations/{bobs}/read"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(
        summary(&read),
        (others(&[&alice, &carol]), answer.clone(), false)
    );
    assert_eq!(conversations(&app, &bob).await[0]["unread"], false);
    assert_eq!(
        conversations(&app, &alice).await[0]["unread"],
        true,
        "each participant reads for itself"
    );
}

#[tokio::test]
async fn a_removed_conversation_comes_back_with_the_next_message_and_others_are_not_found() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let first = direct(&app, &alice, "@bob hello", None).await;
    let bobs = id(&conversations(&app, &bob).await[0]);

    for (method, path) in [
        (Method::POST, format!("/api/v1/conversations/{bobs}/read")),
        (Method::DELETE, format!("/api/v1/conversations/{bobs}")),
        (Method::POST, "/api/v1/conversations/12345/read".to_string()),
        (Method::DELETE, "/api/v1/conversations/12345".to_string()),
    ] {
        let res = app.request(method, &path, Some(&eve.token), None).await;
        assert_eq!(
            (res.status.as_u16(), res.body),
            (404, json!({"error": "Record not found"})),
            "{path}"
        );
    }
    assert_eq!(
        summary(&conversations(&app, &bob).await[0]),
        (others(&[&alice]), first, true),
        "untouched by eve"
    );

    let removed = app
        .request(
            Method::DELETE,
            &format!("/api/v1/conversations/{bobs}"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!((removed.status.as_u16(), removed.body), (200, json!({})));
    assert!(conversations(&app, &bob).await.is_empty());
    assert_eq!(
        conversations(&app, &alice).await.len(),
        1,
        "removed for bob only"
    );
    let next = direct(&app, &alice, "@bob still there?", None).await;
    let back = conversations(&app, &bob).await;
    assert_eq!(back.len(), 1);
    assert_eq!(summary(&back[0]), (others(&[&alice]), next, true));
}

/// The last status of each conversation on each page, paging down from the top
/// (`next`) or up from the bottom (`min_id=0`, `prev`).
async fn all_pages(app: &TestApp, user: &User, limit: usize, up: bool) -> Vec<Vec<String>> {
    let pages = if up {
        app.walk(
            user,
            &format!("/api/v1/conversations?limit={limit}&min_id=0"),
            "prev",
        )
        .await
    } else {
        app.walk(
            user,
            &format!("/api/v1/conversations?limit={limit}"),
            "next",
        )
        .await
    };
    pages
        .iter()
        .map(|page| {
            assert!(page.len() <= limit);
            page.iter().map(|c| id(&c["last_status"])).collect()
        })
        .collect()
}

#[tokio::test]
async fn conversations_page_by_latest_activity_each_exactly_once() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut people = Vec::new();
    let mut latest = Vec::new();
    for i in 0..7 {
        let p = app.user(&format!("p{i}")).await;
        latest.push(direct(&app, &alice, &format!("@p{i} hello"), None).await);
        people.push(p);
    }
    // An answer moves its conversation to the top.
    latest[2] = direct(&app, &people[2], "@alice hi back", Some(&latest[2])).await;
    let mut newest_first: Vec<String> = vec![latest[2].clone()];
    newest_first.extend(
        latest
            .iter()
            .enumerate()
            .rev()
            .filter(|(i, _)| *i != 2)
            .map(|(_, s)| s.clone()),
    );

    for limit in [1, 3, 7, 40] {
        let down = all_pages(&app, &alice, limit, false).await;
        assert_eq!(down.concat(), newest_first, "limit {limit}, down");
        let up = all_pages(&app, &alice, limit, true).await;
        assert_eq!(
            up.into_iter().rev().flatten().collect::<Vec<_>>(),
            newest_first,
            "limit {limit}, up: each page newest first, the pages rising"
        );
    }
    let top = app.get(&alice, "/api/v1/conversations?limit=3").await;
    let page: Vec<String> = top
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| id(&c["last_status"]))
        .collect();
    assert_eq!(page, newest_first[..3].to_vec());
    assert!(top
        .link_path("next")
        .unwrap()
        .contains(&format!("max_id={}", newest_first[2])));
}

#[tokio::test]
async fn blocks_keep_conversations_from_the_blocker() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.post(
        &carol,
        &format!("/api/v1/accounts/{}/block", alice.id),
        json!({}),
    )
    .await
    .ok();
    let first = direct(&app, &alice, "@bob @carol hello", None).await;
    assert!(
        conversations(&app, &carol).await.is_empty(),
        "a participant who blocks the author gets none"
    );
    assert_eq!(conversations(&app, &bob).await.len(), 1);

    // Blocking later removes it from the blocker's list, as Mastodon does.
    app.post(
        &bob,
        &format!("/api/v1/accounts/{}/block", alice.id),
        json!({}),
    )
    .await
    .ok();
    assert!(conversations(&app, &bob).await.is_empty());
    assert_eq!(
        summary(&conversations(&app, &alice).await[0]),
        (others(&[&bob, &carol]), first, false),
        "the blocked author keeps its own"
    );
}
