//! Content filters (`/api/v2/filters`): CRUD of filters, keywords and statuses with their
//! validation and ownership, and the filters applied where statuses are shown — every
//! timeline, threads, notifications and streams — by context, with hide, warn and blur,
//! whole words and substrings, expiry, status rules and reblogs, gapless paging, and
//! the entities checked against the OpenAPI schemas.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use cascade_server::app::stream::{Channel, Scope};

use crate::helpers::{ids, spawn_app, spawn_one_with, Response, TestApp, User};

async fn put(app: &TestApp, user: &User, path: &str, body: Value) -> Response {
    app.request(Method::PUT, path, Some(&user.token), Some(body))
        .await
}

async fn delete(app: &TestApp, user: &User, path: &str) -> Response {
    app.request(Method::DELETE, path, Some(&user.token), None)
        .await
}

/// Creates a filter of one keyword and returns it.
async fn filter(
    app: &TestApp,
    user: &User,
    context: &[&str],
    action: &str,
    keyword: &str,
    whole_word: bool,
) -> Value {
    app.post(
        user,
        "/api/v2/filters",
        json!({
            "title": format!("{action} {keyword}"),
            "context": context,
            "filter_action": action,
            "keywords_attributes": [{"keyword": keyword, "whole_word": whole_word}],
        }),
    )
    .await
    .ok()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// The statuses of a timeline (draining the fan-out first).
async fn timeline(app: &TestApp, user: &User, path: &str) -> Vec<Value> {
    app.drain().await;
    app.get(user, path)
        .await
        .ok()
        .as_array()
        .cloned()
        .expect("a list")
}

fn find<'a>(list: &'a [Value], status: &str) -> Option<&'a Value> {
    list.iter().find(|s| s["id"] == status)
}

#[tokio::test]
async fn filters_are_created_read_updated_and_deleted() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;

    let created = app
        .post(
            &alice,
            "/api/v2/filters",
            json!({
                "title": "Spoilers",
                "context": ["home", "public"],
                "filter_action": "hide",
                "expires_in": 3600,
                "keywords_attributes": [
                    {"keyword": "finale", "whole_word": true},
                    {"keyword": "ending"},
                    {"keyword": "dropped", "_destroy": true},
                ],
            }),
        )
        .await
        .ok();
    assert_eq!(created["title"], "Spoilers");
    assert_eq!(created["context"], json!(["home", "public"]));
    assert_eq!(created["filter_action"], "hide");
    assert_eq!(created["statuses"], json!([]));
    let keywords = created["keywords"].as_array().unwrap();
    assert_eq!(keywords.len(), 2, "the destroyed one is not attached");
    assert_eq!(keywords[0]["keyword"], "finale");
    assert_eq!(
        keywords[1]["whole_word"], true,
        "whole_word defaults to true"
    );
    let expires = cascade_core::time::parse_rfc3339(created["expires_at"].as_str().unwrap())
        .expect("an expiry");
    let now = cascade_core::time::now_millis();
    assert!(expires > now && expires <= now + 3_600_000);

    let fid = id(&created);
    let listed = app.get(&alice, "/api/v2/filters").await.ok();
    assert_eq!(ids(listed.as_array().unwrap()), vec![fid.clone()]);
    let one = app
        .get(&alice, &format!("/api/v2/filters/{fid}"))
        .await
        .ok();
    assert_eq!(one, created);

    let finale = id(&keywords[0]);
    let ending = id(&keywords[1]);
    let updated = put(
        &app,
        &alice,
        &format!("/api/v2/filters/{fid}"),
        json!({
            "title": "Spoilers!",
            "context": ["thread"],
            "filter_action": "blur",
            "expires_in": "",
            "keywords_attributes": [
                {"id": finale, "keyword": "season finale", "whole_word": false},
                {"id": ending, "_destroy": true},
                {"keyword": "cliffhanger"},
            ],
        }),
    )
    .await
    .ok();
    assert_eq!(updated["title"], "Spoilers!");
    assert_eq!(updated["context"], json!(["thread"]));
    assert_eq!(updated["filter_action"], "blur");
    assert_eq!(
        updated["expires_at"],
        Value::Null,
        "an empty expires_in clears it"
    );
    let words: Vec<(&str, bool)> = updated["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["keyword"].as_str().unwrap(),
                k["whole_word"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(words, vec![("season finale", false), ("cliffhanger", true)]);

    let untouched = put(&app, &alice, &format!("/api/v2/filters/{fid}"), json!({}))
        .await
        .ok();
    assert_eq!(untouched, updated, "what is not sent stays as it was");

    assert_eq!(
        delete(&app, &alice, &format!("/api/v2/filters/{fid}"))
            .await
            .ok(),
        json!({})
    );
    let gone = app.get(&alice, &format!("/api/v2/filters/{fid}")).await;
    assert_eq!(gone.status, 404);
    assert_eq!(app.get(&alice, "/api/v2/filters").await.ok(), json!([]));
}

#[tokio::test]
async fn keywords_and_statuses_have_their_own_endpoints() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app.post_status(&bob, "a post to filter", "public").await;
    let f = filter(&app, &alice, &["home"], "warn", "first", true).await;
    let fid = id(&f);

    let added = app
        .post(
            &alice,
            &format!("/api/v2/filters/{fid}/keywords"),
            json!({"keyword": "second", "whole_word": false}),
        )
        .await
        .ok();
    assert_eq!(added["keyword"], "second");
    assert_eq!(added["whole_word"], false);
    let kid = id(&added);
    let all = app
        .get(&alice, &format!("/api/v2/filters/{fid}/keywords"))
        .await
        .ok();
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(
        app.get(&alice, &format!("/api/v2/filters/keywords/{kid}"))
            .await
            .ok(),
        added
    );
    let changed = put(
        &app,
        &alice,
        &format!("/api/v2/filters/keywords/{kid}"),
        json!({"keyword": "third"}),
    )
    .await
    .ok();
    assert_eq!(changed["keyword"], "third");
    assert_eq!(changed["whole_word"], false, "left as it was");
    delete(&app, &alice, &format!("/api/v2/filters/keywords/{kid}"))
        .await
        .ok();
    assert_eq!(
        app.get(&alice, &format!("/api/v2/filters/keywords/{kid}"))
            .await
            .status,
        404
    );

    let rule = app
        .post(
            &alice,
            &format!("/api/v2/filters/{fid}/statuses"),
            json!({"status_id": post["id"]}),
        )
        .await
        .ok();
    assert_eq!(rule["status_id"], post["id"]);
    let sid = id(&rule);
    let rules = app
        .get(&alice, &format!("/api/v2/filters/{fid}/statuses"))
        .await
        .ok();
    assert_eq!(rules, json!([rule.clone()]));
    assert_eq!(
        app.get(&alice, &format!("/api/v2/filters/statuses/{sid}"))
            .await
            .ok(),
        rule
    );
    let whole = app
        .get(&alice, &format!("/api/v2/filters/{fid}"))
        .await
        .ok();
    assert_eq!(whole["statuses"], json!([rule]));
    delete(&app, &alice, &format!("/api/v2/filters/statuses/{sid}"))
        .await
        .ok();
    let rules = format!("/api/v2/filters/{fid}/statuses");
    assert_eq!(app.get(&alice, &rules).await.ok(), json!([]));

    app.post(&alice, &rules, json!({"status_id": post["id"]}))
        .await
        .ok();
    delete(&app, &bob, &format!("/api/v1/statuses/{}", id(&post)))
        .await
        .ok();
    assert_eq!(
        app.get(&alice, &rules).await.ok(),
        json!([]),
        "a deleted status takes its rules with it"
    );
}

#[tokio::test]
async fn form_bodies_with_rails_style_keys_create_filters() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let res = app
        .client
        .post(app.url("/api/v2/filters"))
        .bearer_auth(&alice.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            "title=Form&context[]=home&context[]=notifications&filter_action=warn\
             &keywords_attributes[0][keyword]=one&keywords_attributes[0][whole_word]=false\
             &keywords_attributes[1][keyword]=two",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let f: Value = res.json().await.unwrap();
    assert_eq!(f["context"], json!(["home", "notifications"]));
    assert_eq!(f["keywords"][0]["keyword"], "one");
    assert_eq!(f["keywords"][0]["whole_word"], false);
    assert_eq!(f["keywords"][1]["keyword"], "two");
    assert_eq!(f["keywords"][1]["whole_word"], true);
}

#[tokio::test]
async fn invalid_filters_are_refused_with_422() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let cases = [
        json!({"context": ["home"]}),
        json!({"title": "  ", "context": ["home"]}),
        json!({"title": "t"}),
        json!({"title": "t", "context": []}),
        json!({"title": "t", "context": ["everywhere"]}),
        json!({"title": "t", "context": ["home"], "filter_action": "mute"}),
        json!({"title": "t", "context": ["home"], "expires_in": 0}),
        json!({"title": "t", "context": ["home"], "expires_in": -5}),
        json!({"title": "t", "context": ["home"], "keywords_attributes": [{"keyword": ""}]}),
        json!({"title": "x".repeat(257), "context": ["home"]}),
    ];
    for body in cases {
        let res = app.post(&alice, "/api/v2/filters", body.clone()).await;
        assert_eq!(res.status, 422, "{body}: {}", res.body);
        assert!(res.body["error"]
            .as_str()
            .unwrap()
            .starts_with("Validation failed: "));
    }
    assert_eq!(
        app.get(&alice, "/api/v2/filters").await.ok(),
        json!([]),
        "nothing was stored"
    );

    let f = filter(&app, &alice, &["home"], "warn", "word", true).await;
    let fid = id(&f);
    let bad_update = put(
        &app,
        &alice,
        &format!("/api/v2/filters/{fid}"),
        json!({"title": "new", "context": ["nowhere"]}),
    )
    .await;
    assert_eq!(bad_update.status, 422);
    let unchanged = app
        .get(&alice, &format!("/api/v2/filters/{fid}"))
        .await
        .ok();
    assert_eq!(
        unchanged["title"], f["title"],
        "a refused update changes nothing"
    );
    let blank = app
        .post(
            &alice,
            &format!("/api/v2/filters/{fid}/keywords"),
            json!({"keyword": " "}),
        )
        .await;
    assert_eq!(blank.status, 422);
    let unknown_status = app
        .post(
            &alice,
            &format!("/api/v2/filters/{fid}/statuses"),
            json!({"status_id": "12345"}),
        )
        .await;
    assert_eq!(unknown_status.status, 422);
    assert_eq!(
        unknown_status.body["error"],
        "Validation failed: Status must exist"
    );

    let bob = app.user("bob").await;
    let private = app.post_status(&bob, "followers only", "private").await;
    let invisible = app
        .post(
            &alice,
            &format!("/api/v2/filters/{fid}/statuses"),
            json!({"status_id": private["id"]}),
        )
        .await;
    assert_eq!(
        invisible.status, 422,
        "a status one cannot see does not exist"
    );
    let public = app.post_status(&bob, "public", "public").await;
    let path = format!("/api/v2/filters/{fid}/statuses");
    app.post(&alice, &path, json!({"status_id": public["id"]}))
        .await
        .ok();
    let twice = app
        .post(&alice, &path, json!({"status_id": public["id"]}))
        .await;
    assert_eq!(twice.status, 422);
    assert_eq!(
        twice.body["error"],
        "Validation failed: Status has already been taken"
    );

    let with_keyword_id = app
        .post(
            &alice,
            "/api/v2/filters",
            json!({"title": "t", "context": ["home"], "keywords_attributes": [{"id": "1", "keyword": "x"}]}),
        )
        .await;
    assert_eq!(with_keyword_id.status, 404, "as Mastodon documents");
    let stranger_keyword = put(
        &app,
        &alice,
        &format!("/api/v2/filters/{fid}"),
        json!({"keywords_attributes": [{"id": "99", "keyword": "x"}]}),
    )
    .await;
    assert_eq!(stranger_keyword.status, 404);
}

#[tokio::test]
async fn another_users_filters_do_not_exist_for_you() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app.post_status(&bob, "post", "public").await;
    let f = filter(&app, &alice, &["home"], "warn", "secret", true).await;
    let fid = id(&f);
    let kid = id(&f["keywords"][0]);
    let rule = app
        .post(
            &alice,
            &format!("/api/v2/filters/{fid}/statuses"),
            json!({"status_id": post["id"]}),
        )
        .await
        .ok();
    let sid = id(&rule);

    assert_eq!(app.get(&bob, "/api/v2/filters").await.ok(), json!([]));
    for path in [
        format!("/api/v2/filters/{fid}"),
        format!("/api/v2/filters/{fid}/keywords"),
        format!("/api/v2/filters/{fid}/statuses"),
        format!("/api/v2/filters/keywords/{kid}"),
        format!("/api/v2/filters/statuses/{sid}"),
    ] {
        assert_eq!(app.get(&bob, &path).await.status, 404, "GET {path}");
    }
    let tries = [
        put(
            &app,
            &bob,
            &format!("/api/v2/filters/{fid}"),
            json!({"title": "mine"}),
        )
        .await,
        put(
            &app,
            &bob,
            &format!("/api/v2/filters/keywords/{kid}"),
            json!({"keyword": "x"}),
        )
        .await,
        app.post(
            &bob,
            &format!("/api/v2/filters/{fid}/keywords"),
            json!({"keyword": "x"}),
        )
        .await,
        app.post(
            &bob,
            &format!("/api/v2/filters/{fid}/statuses"),
            json!({"status_id": post["id"]}),
        )
        .await,
        delete(&app, &bob, &format!("/api/v2/filters/statuses/{sid}")).await,
        delete(&app, &bob, &format!("/api/v2/filters/keywords/{kid}")).await,
        delete(&app, &bob, &format!("/api/v2/filters/{fid}")).await,
    ];
    for res in tries {
        assert_eq!(res.status, 404, "{}", res.body);
    }
    let still = app
        .get(&alice, &format!("/api/v2/filters/{fid}"))
        .await
        .ok();
    assert_eq!(still["title"], f["title"]);
    assert_eq!(still["keywords"].as_array().unwrap().len(), 1);
    assert_eq!(still["statuses"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn filters_need_the_filters_scopes() {
    let app = spawn_app().await;
    let reader = app.user_with_scopes("reader", "read:filters").await;
    assert_eq!(app.get(&reader, "/api/v2/filters").await.ok(), json!([]));
    let refused = app
        .post(
            &reader,
            "/api/v2/filters",
            json!({"title": "t", "context": ["home"]}),
        )
        .await;
    assert_eq!(refused.status, 403);
    let writer = app.user_with_scopes("writer", "write:filters").await;
    app.post(
        &writer,
        "/api/v2/filters",
        json!({"title": "t", "context": ["home"]}),
    )
    .await
    .ok();
    assert_eq!(app.get(&writer, "/api/v2/filters").await.status, 403);
    assert_eq!(app.get_anon("/api/v2/filters").await.status, 401);
}

/// Where one status is shown to alice: each surface and the context it belongs to.
struct World {
    app: TestApp,
    alice: User,
    bob: User,
    list: String,
    root: String,
    status: String,
}

const SURFACES: [(&str, &str); 8] = [
    ("home", "home"),
    ("list", "home"),
    ("public", "public"),
    ("tag", "public"),
    ("account", "account"),
    ("thread", "thread"),
    ("notifications", "notifications"),
    ("grouped notifications", "notifications"),
];

/// Bob replies to himself with a post that mentions alice and carries a hashtag, so the
/// one status shows on every surface alice has: home, a list, the public and tag
/// timelines, bob's account, the thread and her notifications.
async fn world() -> World {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob).await;
    let list = id(&app
        .post(&alice, "/api/v1/lists", json!({"title": "Bob"}))
        .await
        .ok());
    app.post(
        &alice,
        &format!("/api/v1/lists/{list}/accounts"),
        json!({"account_ids": [bob.id]}),
    )
    .await
    .ok();
    let root = id(&app.post_status(&bob, "a thread begins", "public").await);
    let status = id(&app
        .post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "@alice the Zebra crossed #savanna", "in_reply_to_id": root}),
        )
        .await
        .ok());
    app.drain().await;
    World {
        app,
        alice,
        bob,
        list,
        root,
        status,
    }
}

impl World {
    /// How the status shows on a surface: `None` when it is left out, else its `filtered`.
    async fn shown_on(&self, surface: &str) -> Option<Value> {
        let (app, alice) = (&self.app, &self.alice);
        let list: Vec<Value> = match surface {
            "home" => timeline(app, alice, "/api/v1/timelines/home").await,
            "list" => timeline(app, alice, &format!("/api/v1/timelines/list/{}", self.list)).await,
            "public" => timeline(app, alice, "/api/v1/timelines/public").await,
            "tag" => timeline(app, alice, "/api/v1/timelines/tag/savanna").await,
            "account" => {
                timeline(
                    app,
                    alice,
                    &format!("/api/v1/accounts/{}/statuses", self.bob.id),
                )
                .await
            }
            "thread" => {
                let context = app
                    .get(alice, &format!("/api/v1/statuses/{}/context", self.root))
                    .await
                    .ok();
                context["descendants"].as_array().cloned().unwrap()
            }
            "notifications" => app
                .get(alice, "/api/v1/notifications")
                .await
                .ok()
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["status"].clone())
                .collect(),
            "grouped notifications" => app.get(alice, "/api/v2/notifications").await.ok()
                ["statuses"]
                .as_array()
                .cloned()
                .unwrap(),
            other => panic!("no surface {other}"),
        };
        find(&list, &self.status).map(|s| s["filtered"].clone())
    }
}

#[tokio::test]
async fn a_warn_filter_marks_statuses_only_on_the_surfaces_of_its_context() {
    let w = world().await;
    for (surface, _) in SURFACES {
        assert_eq!(w.shown_on(surface).await, Some(json!([])), "{surface}");
    }
    for context in ["home", "public", "account", "thread", "notifications"] {
        let f = filter(&w.app, &w.alice, &[context], "warn", "zebra", true).await;
        for (surface, of) in SURFACES {
            let filtered = w.shown_on(surface).await.expect("warn keeps the status");
            if of == context {
                assert_eq!(
                    filtered.as_array().unwrap().len(),
                    1,
                    "{context} on {surface}"
                );
                assert_eq!(filtered[0]["filter"]["id"], f["id"]);
                assert_eq!(filtered[0]["filter"]["filter_action"], "warn");
                assert_eq!(filtered[0]["keyword_matches"], json!(["zebra"]));
            } else {
                assert_eq!(filtered, json!([]), "a {context} filter on {surface}");
            }
        }
        delete(&w.app, &w.alice, &format!("/api/v2/filters/{}", id(&f)))
            .await
            .ok();
    }
}

#[tokio::test]
async fn a_hide_filter_leaves_statuses_out_only_on_the_surfaces_of_its_context() {
    let w = world().await;
    for context in ["home", "public", "account", "thread", "notifications"] {
        let f = filter(&w.app, &w.alice, &[context], "hide", "zebra", true).await;
        for (surface, of) in SURFACES {
            let shown = w.shown_on(surface).await;
            if of == context {
                assert_eq!(shown, None, "a {context} filter hides it on {surface}");
            } else {
                assert_eq!(shown, Some(json!([])), "a {context} filter on {surface}");
            }
        }
        delete(&w.app, &w.alice, &format!("/api/v2/filters/{}", id(&f)))
            .await
            .ok();
    }
}

#[tokio::test]
async fn a_status_shown_on_its_own_is_marked_by_every_filter_and_never_hidden() {
    let w = world().await;
    let f = filter(&w.app, &w.alice, &["public"], "hide", "zebra", true).await;
    let path = format!("/api/v1/statuses/{}", w.status);
    let single = w.app.get(&w.alice, &path).await.ok();
    assert_eq!(single["filtered"][0]["filter"]["id"], f["id"]);
    assert_eq!(single["filtered"][0]["filter"]["filter_action"], "hide");
    assert!(
        single["filtered"][0]["filter"].get("keywords").is_none(),
        "a filter inside a result has no rules"
    );
    let anonymous = w.app.get_anon(&path).await.ok();
    assert!(anonymous.get("filtered").is_none());
}

#[tokio::test]
async fn blur_marks_like_warn_and_whole_words_differ_from_substrings() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob).await;
    let word = id(&app.post_status(&bob, "I write Rust daily", "public").await);
    let inside = id(&app
        .post_status(&bob, "crustaceans and rusty nails", "public")
        .await);
    let other = id(&app.post_status(&bob, "nothing to see", "public").await);
    let whole = filter(&app, &alice, &["home"], "blur", "rust", true).await;

    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    let blurred = &find(&home, &word).unwrap()["filtered"];
    assert_eq!(blurred[0]["filter"]["filter_action"], "blur");
    assert_eq!(blurred[0]["keyword_matches"], json!(["rust"]));
    assert_eq!(blurred[0]["status_matches"], Value::Null);
    assert_eq!(
        find(&home, &inside).unwrap()["filtered"],
        json!([]),
        "not a whole word"
    );
    assert_eq!(find(&home, &other).unwrap()["filtered"], json!([]));

    let kid = id(&whole["keywords"][0]);
    put(
        &app,
        &alice,
        &format!("/api/v2/filters/keywords/{kid}"),
        json!({"whole_word": false}),
    )
    .await
    .ok();
    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    assert_eq!(
        find(&home, &word).unwrap()["filtered"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        find(&home, &inside).unwrap()["filtered"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "a substring matches inside words, in any case"
    );
    assert_eq!(find(&home, &other).unwrap()["filtered"], json!([]));
}

#[tokio::test]
async fn content_warnings_are_searched_and_own_posts_are_never_filtered() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob).await;
    let warned = app
        .post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "behind the warning", "spoiler_text": "Zebra talk"}),
        )
        .await
        .ok();
    let mine = id(&app.post_status(&alice, "my own zebra", "public").await);
    filter(&app, &alice, &["home"], "warn", "zebra", true).await;
    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    assert_eq!(
        find(&home, &id(&warned)).unwrap()["filtered"][0]["keyword_matches"],
        json!(["zebra"])
    );
    assert_eq!(find(&home, &mine).unwrap()["filtered"], json!([]));
}

#[tokio::test]
async fn a_reblog_is_filtered_by_its_original_and_status_rules_match_both() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&alice, &bob).await;
    let original = id(&app.post_status(&carol, "zebra facts", "public").await);
    let plain = id(&app.post_status(&carol, "plain facts", "public").await);
    let reblog = id(&app
        .post(
            &bob,
            &format!("/api/v1/statuses/{original}/reblog"),
            json!({}),
        )
        .await
        .ok());
    let plain_reblog = id(&app
        .post(&bob, &format!("/api/v1/statuses/{plain}/reblog"), json!({}))
        .await
        .ok());
    let f = filter(&app, &alice, &["home"], "warn", "zebra", true).await;

    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    let shown = find(&home, &reblog).expect("the reblog");
    assert_eq!(shown["filtered"][0]["keyword_matches"], json!(["zebra"]));
    assert_eq!(shown["reblog"]["filtered"][0]["filter"]["id"], f["id"]);
    assert_eq!(find(&home, &plain_reblog).unwrap()["filtered"], json!([]));

    let fid = id(&f);
    app.post(
        &alice,
        &format!("/api/v2/filters/{fid}/statuses"),
        json!({"status_id": plain}),
    )
    .await
    .ok();
    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    let by_id = &find(&home, &plain_reblog).unwrap()["filtered"][0];
    assert_eq!(by_id["status_matches"], json!([plain]));
    assert_eq!(by_id["keyword_matches"], Value::Null);

    put(
        &app,
        &alice,
        &format!("/api/v2/filters/{fid}"),
        json!({"filter_action": "hide"}),
    )
    .await
    .ok();
    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    assert!(
        find(&home, &reblog).is_none(),
        "hidden by the original's text"
    );
    assert!(
        find(&home, &plain_reblog).is_none(),
        "hidden by the status rule"
    );
}

#[tokio::test]
async fn expired_filters_no_longer_apply() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob).await;
    let post = id(&app.post_status(&bob, "zebra", "public").await);
    let f = app
        .post(
            &alice,
            "/api/v2/filters",
            json!({"title": "for an hour", "context": ["home"], "filter_action": "hide",
                   "expires_in": 3600, "keywords_attributes": [{"keyword": "zebra"}]}),
        )
        .await
        .ok();
    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    assert!(find(&home, &post).is_none(), "active until it expires");

    // The hour passes: the stored expiry moves into the past, and the cache is told, as
    // a filter's change through the API would.
    let fid: i64 = id(&f).parse().unwrap();
    let past = cascade_core::time::now_millis() - 1_000;
    app.state
        .store
        .set_filter_expiry(fid, Some(past))
        .await
        .unwrap();
    let me: i64 = alice.id.parse().unwrap();
    app.state.filters.forget(me);
    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    assert_eq!(
        find(&home, &post).expect("shown again")["filtered"],
        json!([])
    );
    let single = app
        .get(&alice, &format!("/api/v1/statuses/{post}"))
        .await
        .ok();
    assert_eq!(single["filtered"], json!([]));
    let listed = app.get(&alice, "/api/v2/filters").await.ok();
    assert_eq!(listed[0]["expires_at"], cascade_core::time::rfc3339(past));

    put(
        &app,
        &alice,
        &format!("/api/v2/filters/{fid}"),
        json!({"expires_in": null}),
    )
    .await
    .ok();
    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    assert!(
        find(&home, &post).is_none(),
        "never expiring, it applies again"
    );
}

#[tokio::test]
async fn pages_around_hidden_statuses_have_no_gaps_and_no_duplicates() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob).await;
    let mut expected = Vec::new();
    for i in 0..30 {
        let text = if i % 3 == 0 {
            format!("zebra {i}")
        } else {
            format!("post {i}")
        };
        let post = app.post_status(&bob, &text, "public").await;
        if i % 3 != 0 {
            expected.push(id(&post));
        }
    }
    expected.reverse();
    filter(&app, &alice, &["home", "public"], "hide", "zebra", true).await;
    app.drain().await;
    for path in [
        "/api/v1/timelines/home?limit=4",
        "/api/v1/timelines/public?limit=4",
    ] {
        let pages = app.walk(&alice, path, "next").await;
        assert!(pages.iter().all(|p| p.len() == 4), "{path}: full pages");
        let seen: Vec<String> = pages.iter().flat_map(|p| ids(p)).collect();
        assert_eq!(
            seen, expected,
            "{path}: every shown status once, newest first"
        );
    }
}

#[tokio::test]
async fn a_warm_home_timeline_applies_filters_without_the_store() {
    // One node: the test closes its store and reads what that node keeps in memory.
    let app = spawn_one_with(|_| {}).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob).await;
    let warned = id(&app.post_status(&bob, "pasta tonight", "public").await);
    let hidden = id(&app.post_status(&bob, "a zebra went by", "public").await);
    filter(&app, &alice, &["home"], "warn", "pasta", true).await;
    filter(&app, &alice, &["home"], "hide", "zebra", true).await;
    let warm = timeline(&app, &alice, "/api/v1/timelines/home").await;

    // Every query fails from here on: the filters must come from FilterBook.
    app.state.store.close().await;
    let again = app.get(&alice, "/api/v1/timelines/home").await.ok();
    let again = again.as_array().expect("a page");
    assert_eq!(ids(again), ids(&warm));
    assert!(find(again, &hidden).is_none());
    assert_eq!(
        find(again, &warned).unwrap()["filtered"][0]["keyword_matches"],
        json!(["pasta"])
    );
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A socket subscribed to `stream`, returned once the server has registered it.
async fn socket(app: &TestApp, user: &User, stream: &str, channel: Channel) -> Socket {
    let url = format!(
        "ws://{}/api/v1/streaming?access_token={}&stream={stream}",
        app.addr, user.token
    );
    let ws = tokio_tungstenite::connect_async(url)
        .await
        .expect("the socket opens")
        .0;
    for _ in 0..500 {
        if app.state.streams.has(&channel) {
            return ws;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the server never registered the subscription");
}

fn account(user: &User) -> i64 {
    user.id.parse().unwrap()
}

/// The next event, with its payload parsed when it is JSON.
async fn next(ws: &mut Socket) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("an event in time")
            .expect("an open socket")
            .expect("a frame");
        if let Message::Text(text) = msg {
            let mut v: Value = serde_json::from_str(&text).expect("JSON frames");
            if let Some(p) = v["payload"].as_str() {
                if let Ok(parsed) = serde_json::from_str::<Value>(p) {
                    v["payload"] = parsed;
                }
            }
            return v;
        }
    }
}

#[tokio::test]
async fn the_user_stream_hears_filter_changes_skips_hidden_posts_and_marks_warned_ones() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob).await;
    let mut ws = socket(&app, &alice, "user", Channel::User(account(&alice))).await;

    let hide = filter(&app, &alice, &["home"], "hide", "zebra", true).await;
    let changed = next(&mut ws).await;
    assert_eq!(changed["event"], "filters_changed");
    assert_eq!(changed["stream"], json!(["user"]));
    assert!(
        changed.get("payload").is_none(),
        "no payload, as Mastodon sends it"
    );
    filter(&app, &alice, &["home"], "warn", "pasta", true).await;
    assert_eq!(next(&mut ws).await["event"], "filters_changed");

    app.post_status(&bob, "a zebra went by", "public").await;
    let warned = app.post_status(&bob, "pasta tonight", "public").await;
    app.drain().await;
    let update = next(&mut ws).await;
    assert_eq!(update["event"], "update");
    assert_eq!(
        update["payload"]["id"], warned["id"],
        "the hidden post was not sent"
    );
    assert_eq!(
        update["payload"]["filtered"][0]["keyword_matches"],
        json!(["pasta"])
    );

    delete(&app, &alice, &format!("/api/v2/filters/{}", id(&hide)))
        .await
        .ok();
    assert_eq!(next(&mut ws).await["event"], "filters_changed");
    let shown = app.post_status(&bob, "another zebra", "public").await;
    app.drain().await;
    let update = next(&mut ws).await;
    assert_eq!(update["payload"]["id"], shown["id"], "the filter is gone");
    assert_eq!(update["payload"]["filtered"], json!([]));
}

#[tokio::test]
async fn the_notification_stream_leaves_out_what_a_notifications_filter_hides() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    filter(&app, &alice, &["notifications"], "hide", "zebra", true).await;
    filter(&app, &alice, &["notifications"], "warn", "pasta", true).await;
    let channel = Channel::Notifications(account(&alice));
    let mut ws = socket(&app, &alice, "user:notification", channel).await;

    app.post_status(&bob, "@alice a zebra went by", "public")
        .await;
    let warned = app
        .post_status(&bob, "@alice pasta tonight", "public")
        .await;
    let event = next(&mut ws).await;
    assert_eq!(event["event"], "notification");
    assert_eq!(event["payload"]["type"], "mention");
    assert_eq!(
        event["payload"]["status"]["id"], warned["id"],
        "the hidden one was not sent"
    );
    assert_eq!(
        event["payload"]["status"]["filtered"][0]["keyword_matches"],
        json!(["pasta"])
    );
}

#[tokio::test]
async fn the_list_stream_applies_home_filters() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob).await;
    let list = id(&app
        .post(&alice, "/api/v1/lists", json!({"title": "Bob"}))
        .await
        .ok());
    app.post(
        &alice,
        &format!("/api/v1/lists/{list}/accounts"),
        json!({"account_ids": [bob.id]}),
    )
    .await
    .ok();
    filter(&app, &alice, &["home"], "hide", "zebra", true).await;
    filter(&app, &alice, &["home"], "warn", "pasta", true).await;
    let channel = Channel::List(list.parse().unwrap());
    let mut ws = socket(&app, &alice, &format!("list&list={list}"), channel).await;

    app.post_status(&bob, "a zebra went by", "public").await;
    let warned = app.post_status(&bob, "pasta tonight", "public").await;
    app.drain().await;
    let update = next(&mut ws).await;
    assert_eq!(update["stream"], json!(["list", list]));
    assert_eq!(
        update["payload"]["id"], warned["id"],
        "the hidden post was not sent"
    );
    assert_eq!(
        update["payload"]["filtered"][0]["keyword_matches"],
        json!(["pasta"])
    );
}

#[tokio::test]
async fn public_streams_apply_each_connections_own_filters() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let dave = app.user("dave").await;
    let bob = app.user("bob").await;
    filter(&app, &alice, &["public"], "hide", "zebra", true).await;
    let warn = filter(&app, &dave, &["public"], "warn", "zebra", true).await;
    filter(&app, &dave, &["home"], "hide", "zebra", true).await;
    let public = Channel::Public {
        scope: Scope::All,
        media: false,
    };
    let mut alice_ws = socket(&app, &alice, "public", public).await;
    let savanna = Channel::Hashtag {
        tag: "savanna".into(),
        local: false,
    };
    let mut dave_ws = socket(&app, &dave, "hashtag&tag=savanna", savanna).await;

    let zebra = app.post_status(&bob, "a zebra #savanna", "public").await;
    let plain = app.post_status(&bob, "a lion #savanna", "public").await;
    app.drain().await;

    let first = next(&mut alice_ws).await;
    assert_eq!(
        first["payload"]["id"], plain["id"],
        "alice's hide filter kept it out"
    );
    let mut both = [next(&mut dave_ws).await, next(&mut dave_ws).await];
    both.sort_by_key(|e| e["payload"]["id"].as_str().unwrap().parse::<i64>().unwrap());
    let [marked, unmarked] = both;
    assert_eq!(marked["stream"], json!(["hashtag", "savanna"]));
    assert_eq!(
        marked["payload"]["id"], zebra["id"],
        "dave's home filter does not apply"
    );
    assert_eq!(marked["payload"]["filtered"][0]["filter"]["id"], warn["id"]);
    assert_eq!(unmarked["payload"]["id"], plain["id"]);
    assert!(unmarked["payload"]
        .get("filtered")
        .is_none_or(|f| f == &json!([])));
}

#[tokio::test]
async fn filter_entities_match_the_mastodon_openapi_schemas() {
    let w = world().await;
    let f = filter(&w.app, &w.alice, &["home", "thread"], "warn", "zebra", true).await;
    let fid = id(&f);
    let rule = w
        .app
        .post(
            &w.alice,
            &format!("/api/v2/filters/{fid}/statuses"),
            json!({"status_id": w.status}),
        )
        .await
        .ok();
    let expiring = w
        .app
        .post(
            &w.alice,
            "/api/v2/filters",
            json!({"title": "blur", "context": ["public"], "filter_action": "blur", "expires_in": 60}),
        )
        .await
        .ok();
    let get = |path: String| {
        let w = &w;
        async move { w.app.get(&w.alice, &path).await.ok() }
    };
    let home = timeline(&w.app, &w.alice, "/api/v1/timelines/home").await;
    let status = find(&home, &w.status).unwrap().clone();
    let result = status["filtered"][0].clone();
    assert_eq!(result["status_matches"], json!([w.status]));
    let samples = vec![
        ("Filter", f.clone(), "a new filter".to_string()),
        ("Filter", expiring, "an expiring filter".into()),
        (
            "Filter[]",
            get("/api/v2/filters".into()).await,
            "filters".into(),
        ),
        (
            "FilterKeyword[]",
            get(format!("/api/v2/filters/{fid}/keywords")).await,
            "keywords".into(),
        ),
        (
            "FilterKeyword",
            f["keywords"][0].clone(),
            "a keyword".into(),
        ),
        ("FilterStatus", rule, "a status rule".into()),
        (
            "FilterStatus[]",
            get(format!("/api/v2/filters/{fid}/statuses")).await,
            "status rules".into(),
        ),
        ("FilterResult", result, "a filter result".into()),
        ("Status", status, "a filtered status".into()),
        (
            "Status[]",
            Value::Array(home),
            "a home page with filters".into(),
        ),
    ];
    if let Some(complaints) = crate::schemas::validate(&samples).await {
        assert!(complaints.is_empty(), "{complaints}");
    }
}

#[tokio::test]
async fn a_page_whose_whole_batch_is_hidden_reads_on_to_the_next_shown_status() {
    let app = spawn_app().await;
    let reader = app.user("reader").await;
    let friend = app.user("friend").await;
    app.follow(&reader, &friend).await;
    filter(
        &app,
        &reader,
        &["home", "public", "account"],
        "hide",
        "spoiler",
        false,
    )
    .await;
    let plain = id(&app
        .post_status(&friend, "nothing to hide here", "public")
        .await);
    // More hidden posts than one widened batch of a 20-item page (50 candidates) holds.
    for i in 0..60 {
        app.post_status(&friend, &format!("spoiler number {i}"), "public")
            .await;
    }
    for path in [
        "/api/v1/timelines/home?limit=20".to_string(),
        "/api/v1/timelines/public?limit=20".to_string(),
        format!("/api/v1/accounts/{}/statuses?limit=20", friend.id),
    ] {
        app.drain().await;
        let res = app.get(&reader, &path).await;
        assert!(res.link_path("next").is_some(), "{path} links onwards");
        assert_eq!(
            ids(&res.ok().as_array().cloned().unwrap()),
            vec![plain.clone()],
            "{path}"
        );
    }
}
