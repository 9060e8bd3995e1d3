//! The public web pages: profiles and statuses, with Open Graph tags, only what an
//! anonymous visitor may see.

use crate::helpers::spawn_app;

async fn page(app: &crate::helpers::TestApp, path: &str) -> (u16, String) {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

#[tokio::test]
async fn profile_and_status_pages_show_public_posts_with_open_graph_tags() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app
        .post_status(&alice, "Hello <world> #Cascade", "public")
        .await;
    let id = post["id"].as_str().unwrap();
    app.post(
        &bob,
        "/api/v1/statuses",
        serde_json::json!({"status": "@alice nice", "in_reply_to_id": id}),
    )
    .await
    .ok();
    app.post_status(&alice, "only for followers", "private")
        .await;

    let (status, html) = page(&app, "/@alice").await;
    assert_eq!(status, 200);
    assert!(html.contains("og:type\" content=\"profile"));
    assert!(
        html.contains("Hello &lt;world&gt;"),
        "text is escaped once, not twice or zero times"
    );
    assert!(
        !html.contains("only for followers"),
        "private posts stay off public pages"
    );

    let (status, html) = page(&app, &format!("/@alice/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("og:description\" content=\"Hello &lt;world&gt; #Cascade"));
    assert!(
        html.contains("@alice nice") || html.contains("nice"),
        "replies are shown"
    );
    assert!(
        html.contains("/cascade"),
        "the page links to how the post spread"
    );
}

#[tokio::test]
async fn pages_of_private_or_missing_things_are_404_pages() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let private = app.post_status(&alice, "secret", "private").await;
    let (status, html) = page(
        &app,
        &format!("/@alice/{}", private["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 404);
    assert!(!html.contains("secret"));
    assert_eq!(page(&app, "/@nobody").await.0, 404);
    assert_eq!(page(&app, "/@alice/notanumber").await.0, 404);
    let public = app.post_status(&alice, "public", "public").await;
    assert_eq!(
        page(&app, &format!("/@bob/{}", public["id"].as_str().unwrap()))
            .await
            .0,
        404,
        "the handle must match the author"
    );
}
