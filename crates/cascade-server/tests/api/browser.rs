//! A real browser on the cascade page of the demo world's viral post: headless Chromium
//! (Debian's `chromium`, installed by scripts/test) renders it, the rendered SVG must hold
//! one node per reshare plus the root, and a screenshot is saved for people to look at.

use std::path::PathBuf;
use std::process::Command;

use crate::helpers::spawn_app;

pub(crate) fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        let out = Command::new("which").arg(name).output().ok()?;
        out.status
            .success()
            .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must run the browser test: chromium is not installed"
        );
        eprintln!("\n#### SKIPPED: chromium is not installed, so the cascade page was not checked in a browser. Use scripts/test. ####\n");
    }
    found
}

/// Runs headless Chromium with the flags this machine needs (no network beyond loopback).
fn headless(
    browser: &PathBuf,
    profile: &std::path::Path,
    extra: &[&str],
    url: &str,
) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs")
}

#[tokio::test]
async fn the_demo_worlds_viral_post_has_a_cascade_page_a_browser_renders() {
    let Some(browser) = chromium() else { return };
    let app = spawn_app().await;
    let summary = cascade_server::demo::build(
        &app.state.store,
        &app.state.ids,
        &app.state.config.domain,
        &app.state.config.base_url,
    )
    .await
    .expect("the demo world");
    // As `serve --demo` does: the viral post and some others get a drawn picture.
    cascade_server::demo::illustrate(&app.state, &summary)
        .await
        .expect("the demo pictures");
    let api = app
        .get_anon(&format!(
            "/api/v1/statuses/{}/cascade",
            summary.viral_status_id
        ))
        .await
        .ok();
    let reshares = api["stats"]["size"].as_u64().unwrap() - 1;
    assert!(
        reshares >= 100,
        "the viral post has a rich cascade: {reshares}"
    );
    let url = app.url(&format!(
        "/@{}/{}/cascade",
        summary.viral_author, summary.viral_status_id
    ));

    let profile = tempfile::tempdir().unwrap();
    let url_for_browser = url.clone();
    let browser_for_dom = browser.clone();
    let profile_path = profile.path().to_path_buf();
    let dom = tokio::task::spawn_blocking(move || {
        headless(
            &browser_for_dom,
            &profile_path,
            &["--dump-dom"],
            &url_for_browser,
        )
    })
    .await
    .unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    let circles = dom.matches("class=\"node ").count() as u64;
    let drawn = (reshares + 1).min(cascade_server::web::draw::MAX_DRAWN_NODES as u64);
    assert_eq!(
        circles, drawn,
        "one node per reshare and the root, up to the bound"
    );
    if drawn < reshares + 1 {
        assert!(
            dom.contains("nodes nearest the original of"),
            "the page says so"
        );
    }
    assert!(dom.contains("How this post spread"));

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("cascade-page.png");
    let arg = format!("--screenshot={}", shot.display());
    let profile_path = profile.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        headless(
            &browser,
            &profile_path,
            &[&arg, "--window-size=1000,2400"],
            &url,
        )
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10_000,
        "a screenshot with something in it: {} bytes",
        size
    );
    eprintln!("cascade page screenshot: {}", shot.display());
}

/// A picture attached to a post shows on its page in a real browser: the screenshot holds
/// the picture's colour, which nothing else on the page has.
#[tokio::test]
async fn a_status_page_shows_its_picture_in_a_browser() {
    let Some(browser) = chromium() else { return };
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let yellow = image::Rgba([250, 210, 0, 255]);
    let picture = image::RgbaImage::from_pixel(300, 200, yellow);
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(picture)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let media = app
        .send_multipart(
            reqwest::Method::POST,
            "/api/v2/media",
            &alice,
            &[
                crate::helpers::Part::file("file", "sun.png", "image/png", png),
                crate::helpers::Part::text("description", "A yellow field"),
            ],
        )
        .await
        .ok();
    let post = app
        .post(
            &alice,
            "/api/v1/statuses",
            serde_json::json!({"status": "a picture", "media_ids": [media["id"]]}),
        )
        .await
        .ok();
    let url = post["url"].as_str().unwrap().to_string();

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("status-with-picture.png");
    let arg = format!("--screenshot={}", shot.display());
    let profile = tempfile::tempdir().unwrap();
    let profile_path = profile.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        headless(
            &browser,
            &profile_path,
            &[&arg, "--window-size=900,900"],
            &url,
        )
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let screenshot = image::open(&shot).expect("a screenshot").to_rgb8();
    let yellowish = screenshot
        .pixels()
        .filter(|p| p.0[0] > 220 && p.0[1] > 180 && p.0[1] < 240 && p.0[2] < 60)
        .count();
    assert!(
        yellowish > 10_000,
        "the picture is drawn on the page: {yellowish} yellow pixels in {}",
        shot.display()
    );
    eprintln!("status page screenshot: {}", shot.display());
}
