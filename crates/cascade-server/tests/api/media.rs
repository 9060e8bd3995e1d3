//! Media attachments end to end: uploads of every picture format (fixtures drawn here),
//! EXIF stripped and orientation applied (read back from the served bytes), bombs and lying
//! files refused with nothing stored, attaching to statuses, visibility, removal, quotas,
//! avatars and headers, and how files are served.

use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{Delay, Frame, ImageEncoder, Rgba, RgbaImage};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{eventually, spawn_app, spawn_with, Part, TestApp, User};

// ---------------------------------------------------------------------------------------
// Fixtures, drawn here.

/// A picture with a left half and right half of different colours, so a rotation shows.
fn picture(width: u32, height: u32) -> RgbaImage {
    RgbaImage::from_fn(width, height, |x, y| {
        if x < width / 2 {
            Rgba([200, 30, 30, 255])
        } else {
            Rgba([30, 30, (y * 255 / height.max(1)) as u8, 255])
        }
    })
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let rgb = image::DynamicImage::ImageRgba8(picture(width, height)).to_rgb8();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(&rgb, width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

pub(crate) fn png(width: u32, height: u32, alpha: bool) -> Vec<u8> {
    let mut img = picture(width, height);
    if alpha {
        img.put_pixel(0, 0, Rgba([0, 0, 0, 0]));
    }
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(&img, width, height, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

fn webp(width: u32, height: u32) -> Vec<u8> {
    let img = picture(width, height);
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out)
        .write_image(&img, width, height, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

pub(crate) fn gif(frames: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut out);
        enc.set_repeat(Repeat::Infinite).unwrap();
        for i in 0..frames {
            let img = RgbaImage::from_fn(16, 12, |x, _| {
                if (x as usize + i).is_multiple_of(2) {
                    Rgba([255, 0, 0, 255])
                } else {
                    Rgba([0, 0, 255, 255])
                }
            });
            enc.encode_frame(Frame::from_parts(
                img,
                0,
                0,
                Delay::from_numer_denom_ms(100, 1),
            ))
            .unwrap();
        }
    }
    out
}

/// Where the photo was taken, as the test writes it into EXIF: 52° 31' 12.34" N.
const GPS_LATITUDE: [u32; 6] = [52, 1, 31, 1, 1234, 100];

/// A TIFF block for EXIF, little-endian, written by hand: IFD0 with the orientation and a
/// pointer to a GPS IFD holding a latitude.
fn exif(orientation: u16) -> Vec<u8> {
    fn entry(t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value);
    }
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: two entries, then the next IFD's offset (none).
    let gps_ifd: u32 = 8 + 2 + 2 * 12 + 4;
    t.extend_from_slice(&2u16.to_le_bytes());
    let o = orientation.to_le_bytes();
    entry(&mut t, 0x0112, 3, 1, [o[0], o[1], 0, 0]);
    entry(&mut t, 0x8825, 4, 1, gps_ifd.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    // The GPS IFD: latitude reference and latitude (three rationals after the IFD).
    let rationals: u32 = gps_ifd + 2 + 2 * 12 + 4;
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, rationals.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    for n in GPS_LATITUDE {
        t.extend_from_slice(&n.to_le_bytes());
    }
    t
}

/// A JPEG carrying an APP1 EXIF segment right after its start marker.
fn jpeg_with_exif(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let plain = jpeg(width, height);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&exif(orientation));
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&plain[2..]);
    out
}

fn gps_bytes() -> Vec<u8> {
    GPS_LATITUDE.iter().flat_map(|n| n.to_le_bytes()).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// CRC-32 (IEEE), for PNG chunks written by hand.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A decompression bomb: a valid PNG of a few hundred bytes whose header claims
/// 60,000 × 60,000 pixels (14 GB decoded).
fn png_bomb() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // A zlib stream of a few zero bytes: the start of rows that would go on and on.
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

// ---------------------------------------------------------------------------------------
// Helpers.

pub(crate) async fn upload(
    app: &TestApp,
    user: &User,
    bytes: Vec<u8>,
    name: &str,
    mime: &str,
) -> Value {
    let res = upload_raw(app, user, bytes, name, mime, &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{name}: {}", res.body);
    res.body
}

async fn upload_raw(
    app: &TestApp,
    user: &User,
    bytes: Vec<u8>,
    name: &str,
    mime: &str,
    fields: &[(&str, &str)],
) -> crate::helpers::Response {
    let mut parts = vec![Part::file("file", name, mime, bytes)];
    for (k, v) in fields {
        parts.push(Part::text(k, v));
    }
    app.send_multipart(Method::POST, "/api/v2/media", user, &parts)
        .await
}

/// A served file: status, headers and bytes.
async fn fetch(app: &TestApp, url: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let res = app
        .client
        .get(url)
        .send()
        .await
        .expect("the server answers");
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.expect("a body").to_vec())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Files under the media folder, wherever they lie.
fn stored_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&app.state.config.data_dir.join("media"), &mut out);
    out
}

fn id(v: &Value) -> &str {
    v["id"].as_str().expect("an id")
}

// ---------------------------------------------------------------------------------------
// Tests.

#[tokio::test]
async fn a_photo_is_stored_upright_without_its_location() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    // 64×32 as stored by the camera, turned 90° by its EXIF orientation (6).
    let original = jpeg_with_exif(64, 32, 6);
    assert!(contains(&original, &gps_bytes()) && contains(&original, b"Exif"));
    let media = upload(&app, &alice, original, "photo.jpg", "image/jpeg").await;
    assert_eq!(media["type"], "image");
    assert_eq!(media["meta"]["original"]["width"], 32);
    assert_eq!(media["meta"]["original"]["height"], 64);
    assert_eq!(media["meta"]["original"]["size"], "32x64");
    assert_eq!(media["meta"]["original"]["aspect"], 0.5);
    assert!(media["meta"]["small"]["width"].as_u64().is_some());
    assert!(media["blurhash"].as_str().is_some_and(|b| b.len() >= 6));

    let url = media["url"].as_str().expect("a url");
    let (status, headers, bytes) = fetch(&app, url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "image/jpeg");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert!(header(&headers, "cache-control").contains("max-age=31536000"));
    assert!(!header(&headers, "etag").is_empty());
    assert!(!contains(&bytes, b"Exif"), "the EXIF block is gone");
    assert!(!contains(&bytes, &gps_bytes()), "the location is gone");
    let served = image::load_from_memory(&bytes).expect("a picture");
    assert_eq!((served.width(), served.height()), (32, 64), "upright");
    // Turned clockwise: the camera's left half (red) is now on top.
    let top = served.to_rgb8().get_pixel(16, 4).0;
    assert!(top[0] > 150 && top[2] < 100, "red on top, got {top:?}");

    let (status, headers, preview) = fetch(&app, media["preview_url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&headers, "content-type").starts_with("image/"));
    assert!(!contains(&preview, &gps_bytes()));

    // The owner reads and describes it; a stranger cannot.
    let got = app
        .get(&alice, &format!("/api/v1/media/{}", id(&media)))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    let res = app
        .request(
            Method::PUT,
            &format!("/api/v1/media/{}", id(&media)),
            Some(&alice.token),
            Some(json!({"description": "A red and blue square", "focus": "0.5,-0.25"})),
        )
        .await
        .ok();
    assert_eq!(res["description"], "A red and blue square");
    assert_eq!(res["meta"]["focus"], json!({"x": 0.5, "y": -0.25}));
    let carol = app.user("carol").await;
    let other = app
        .get(&carol, &format!("/api/v1/media/{}", id(&media)))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let bad = app
        .request(
            Method::PUT,
            &format!("/api/v1/media/{}", id(&media)),
            Some(&alice.token),
            Some(json!({"focus": "3,3"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn every_picture_format_is_accepted_and_served_as_what_it_is() {
    // Without ffmpeg an animation stays a GIF; with it, it becomes `gifv` (below).
    let app = spawn_with(|c| c.media_ffmpeg = false).await;
    let alice = app.user("alice").await;
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("opaque.png", png(40, 30, false), "image", "image/jpeg"),
        ("clear.png", png(40, 30, true), "image", "image/png"),
        ("still.gif", gif(1), "image", "image/jpeg"),
        ("moving.gif", gif(3), "image", "image/gif"),
        ("photo.webp", webp(40, 30), "image", "image/jpeg"),
        ("photo.jpg", jpeg(40, 30), "image", "image/jpeg"),
    ];
    for (name, bytes, kind, served_as) in cases {
        // The claimed type is a lie for some: the bytes decide.
        let media = upload(&app, &alice, bytes, name, "application/octet-stream").await;
        assert_eq!(media["type"], kind, "{name}");
        let (status, headers, body) = fetch(&app, media["url"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(header(&headers, "content-type"), served_as, "{name}");
        if name == "moving.gif" {
            assert!(body.starts_with(b"GIF89a"), "an animation stays a GIF");
        }
        assert!(image::load_from_memory(&body).is_ok(), "{name} decodes");
    }
}

#[tokio::test]
async fn bad_uploads_are_refused_with_nothing_stored() {
    let app = spawn_with(|c| c.media_image_bytes = 200_000).await;
    let alice = app.user("alice").await;
    let script = b"#!/bin/sh\necho pwned\n".to_vec();
    let whole = jpeg(300, 200);
    let truncated = whole[..whole.len() / 2].to_vec();
    let mut oversize = jpeg(8, 8);
    oversize.resize(300_000, 0);
    let cases: Vec<(&str, Vec<u8>, &str, u16)> = vec![
        ("empty.png", Vec::new(), "image/png", 422),
        ("script.png", script, "image/png", 422),
        ("truncated.jpg", truncated, "image/jpeg", 422),
        ("bomb.png", png_bomb(), "image/png", 422),
        ("huge.jpg", oversize, "image/jpeg", 413),
    ];
    for (name, bytes, mime, want) in cases {
        let res = upload_raw(&app, &alice, bytes, name, mime, &[]).await;
        assert_eq!(res.status.as_u16(), want, "{name}: {}", res.body);
        assert!(
            res.body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{name}: a JSON error, got {}",
            res.body
        );
    }
    // No file at all, or not multipart.
    let res = app
        .send_multipart(
            Method::POST,
            "/api/v2/media",
            &alice,
            &[Part::text("description", "no file")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let res = app
        .post(&alice, "/api/v2/media", json!({"file": "aGVsbG8="}))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    // A description past the limit, on a good picture.
    let long = "x".repeat(1_501);
    let res = upload_raw(
        &app,
        &alice,
        jpeg(10, 10),
        "a.jpg",
        "image/jpeg",
        &[("description", &long)],
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

    let me: i64 = alice.id.parse().unwrap();
    assert_eq!(app.state.store.media_bytes(me).await.unwrap(), 0);
    assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));
}

#[tokio::test]
async fn statuses_carry_their_media_in_order() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let first = upload(&app, &alice, jpeg(20, 10), "a.jpg", "image/jpeg").await;
    let second = upload(&app, &alice, png(10, 20, true), "b.png", "image/png").await;
    let status = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({
                "status": "",
                "media_ids": [id(&second), id(&first)],
                "sensitive": true,
                "spoiler_text": "colours",
                "visibility": "public",
            }),
        )
        .await
        .ok();
    let ids: Vec<&str> = status["media_attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    assert_eq!(ids, vec![id(&second), id(&first)]);
    assert_eq!(status["sensitive"], true);
    let shown = app
        .get(&bob, &format!("/api/v1/statuses/{}", id(&status)))
        .await
        .ok();
    assert_eq!(shown["media_attachments"][0]["type"], "image");
    assert_eq!(
        shown["media_attachments"][0]["url"], second["url"],
        "the entity in a status is the upload's"
    );

    // Used once only, by its owner only, four at most.
    let again = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "again", "media_ids": [id(&first)]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body["error"].as_str().unwrap().contains("already"));
    let mine = upload(&app, &alice, jpeg(8, 8), "c.jpg", "image/jpeg").await;
    let stolen = app
        .post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "mine now", "media_ids": [id(&mine)]}),
        )
        .await;
    assert_eq!(stolen.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ids: Vec<String> = (0..5).map(|i| format!("{}", 1_000 + i)).collect();
    let many = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "many", "media_ids": ids}),
        )
        .await;
    assert_eq!(many.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing was posted by the refused requests.
    let posted = app
        .get(&alice, &format!("/api/v1/accounts/{}/statuses", alice.id))
        .await
        .ok();
    assert_eq!(posted.as_array().unwrap().len(), 1);

    // only_media, on every timeline that has it.
    app.post_status(&alice, "words only #colours", "public")
        .await;
    let with_tag = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "#colours", "media_ids": [id(&mine)]}),
        )
        .await
        .ok();
    let public = app
        .get_anon("/api/v1/timelines/public?only_media=true")
        .await
        .ok();
    let found: Vec<&str> = public.as_array().unwrap().iter().map(id).collect();
    assert_eq!(found, vec![id(&with_tag), id(&status)]);
    let tag = app
        .get_anon("/api/v1/timelines/tag/colours?only_media=true")
        .await
        .ok();
    let found: Vec<&str> = tag.as_array().unwrap().iter().map(id).collect();
    assert_eq!(found, vec![id(&with_tag)]);
    let account = app
        .get_anon(&format!(
            "/api/v1/accounts/{}/statuses?only_media=true",
            alice.id
        ))
        .await
        .ok();
    assert_eq!(account.as_array().unwrap().len(), 2);

    // An edit keeps what it lists: the one dropped is deleted with its files.
    let dropped_url = first["url"].as_str().unwrap().to_string();
    let edited = app
        .request(
            Method::PUT,
            &format!("/api/v1/statuses/{}", id(&status)),
            Some(&alice.token),
            Some(json!({"status": "", "spoiler_text": "colours", "media_ids": [id(&second)]})),
        )
        .await
        .ok();
    assert_eq!(edited["media_attachments"].as_array().unwrap().len(), 1);
    app.drain().await;
    assert_eq!(fetch(&app, &dropped_url).await.0, StatusCode::NOT_FOUND);
    // An edit that does not name media keeps them.
    let kept = app
        .request(
            Method::PUT,
            &format!("/api/v1/statuses/{}", id(&status)),
            Some(&alice.token),
            Some(json!({"status": "now with words"})),
        )
        .await
        .ok();
    assert_eq!(kept["media_attachments"].as_array().unwrap().len(), 1);
    // An attached upload cannot be deleted on its own.
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/media/{}", id(&second)),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_private_posts_media_is_never_shown_to_strangers() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let friend = app.user("friend").await;
    let stranger = app.user("stranger").await;
    app.follow(&friend, &alice).await;
    let media = upload(&app, &alice, jpeg(16, 16), "secret.jpg", "image/jpeg").await;
    let url = media["url"].as_str().unwrap().to_string();
    // The file's name is 128 random bits: nothing about the post or the account.
    let name = url.rsplit('/').next().unwrap();
    let stem = name.split('.').next().unwrap();
    assert_eq!(stem.len(), 32);
    assert!(!url.contains(&alice.id) && !url.contains(id(&media)));
    let post = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "for followers", "visibility": "private", "media_ids": [id(&media)]}),
        )
        .await
        .ok();
    let path = format!("/api/v1/statuses/{}", id(&post));
    let seen = app.get(&friend, &path).await.ok();
    assert_eq!(seen["media_attachments"][0]["url"], url);
    assert_eq!(
        app.get(&stranger, &path).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get_anon(&path).await.status, StatusCode::NOT_FOUND);
    for timeline in [
        "/api/v1/timelines/public?only_media=true".to_string(),
        format!("/api/v1/accounts/{}/statuses", alice.id),
        format!("/api/v1/accounts/{}/statuses?only_media=true", alice.id),
        "/api/v1/timelines/home".to_string(),
    ] {
        let page = app.get(&stranger, &timeline).await.ok();
        assert!(
            !page.to_string().contains(stem),
            "{timeline} shows the private media"
        );
    }
    let media_path = format!("/api/v1/media/{}", id(&media));
    assert_eq!(
        app.get(&stranger, &media_path).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn deleted_statuses_and_stale_uploads_take_their_files_with_them() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let me: i64 = alice.id.parse().unwrap();
    let media = upload(&app, &alice, jpeg(16, 16), "a.jpg", "image/jpeg").await;
    let post = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "soon gone", "media_ids": [id(&media)]}),
        )
        .await
        .ok();
    assert!(app.state.store.media_bytes(me).await.unwrap() > 0);
    let deleted = app
        .request(
            Method::DELETE,
            &format!("/api/v1/statuses/{}", id(&post)),
            Some(&alice.token),
            None,
        )
        .await
        .ok();
    assert_eq!(deleted["media_attachments"].as_array().unwrap().len(), 1);
    app.drain().await;
    for url in [&media["url"], &media["preview_url"]] {
        assert_eq!(
            fetch(&app, url.as_str().unwrap()).await.0,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(app.state.store.media_bytes(me).await.unwrap(), 0);
    assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));

    // An upload never attached goes a day later; a fresh one stays.
    let stale = upload(&app, &alice, jpeg(16, 16), "b.jpg", "image/jpeg").await;
    let now = cascade_core::time::now_millis();
    let removed = cascade_server::app::media::sweep(&app.state, now)
        .await
        .unwrap();
    assert_eq!(removed, 0, "a fresh upload stays");
    let removed = cascade_server::app::media::sweep(&app.state, now + 25 * 3_600_000)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    app.drain().await;
    assert_eq!(
        fetch(&app, stale["url"].as_str().unwrap()).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(stored_files(&app).is_empty());

    // Deleting an unattached upload.
    let unused = upload(&app, &alice, jpeg(16, 16), "c.jpg", "image/jpeg").await;
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/media/{}", id(&unused)),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    app.drain().await;
    assert!(stored_files(&app).is_empty());
}

#[tokio::test]
async fn a_file_left_by_a_write_that_died_before_its_row_is_swept() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    // A finished upload: its files were settled with its row.
    let kept = upload(&app, &alice, jpeg(16, 16), "kept.jpg", "image/jpeg").await;
    let settled = app
        .state
        .store
        .stale_media_intents(i64::MAX, 100)
        .await
        .unwrap();
    assert!(settled.is_empty(), "{settled:?}");
    // What a process that died between writing a file and committing its row leaves:
    // the intent and the file, and no row.
    let an_hour_ago = cascade_core::time::now_millis() - 2 * 3_600_000;
    app.state
        .store
        .record_media_intents(&["m/0123456789abcdef0123456789abcdef.jpg"], an_hour_ago)
        .await
        .unwrap();
    app.state
        .media
        .store
        .put("m/0123456789abcdef0123456789abcdef.jpg", b"half a story")
        .await
        .unwrap();
    // An intent whose settling was lost while its row was committed: the row wins.
    let url = kept["url"].as_str().unwrap();
    let kept_key = url[url.find("/system/media/").unwrap() + "/system/media/".len()..].to_string();
    app.state
        .store
        .record_media_intents(&[kept_key.as_str()], an_hour_ago)
        .await
        .unwrap();
    let files = |app: &TestApp| -> Vec<String> {
        stored_files(app)
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect()
    };
    assert!(files(&app)
        .iter()
        .any(|f| f.ends_with("0123456789abcdef0123456789abcdef.jpg")));

    let now = cascade_core::time::now_millis();
    let removed = cascade_server::app::media::sweep_intents(&app.state, now)
        .await
        .unwrap();

    assert_eq!(removed, 1, "only the orphan goes");
    let after = files(&app);
    assert!(
        !after
            .iter()
            .any(|f| f.ends_with("0123456789abcdef0123456789abcdef.jpg")),
        "{after:?}"
    );
    assert!(after.iter().any(|f| f.ends_with(&kept_key)), "{after:?}");
    assert_eq!(
        fetch(&app, kept["url"].as_str().unwrap()).await.0,
        StatusCode::OK
    );
    assert!(app
        .state
        .store
        .stale_media_intents(i64::MAX, 100)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn past_the_quota_an_upload_is_a_422() {
    let app = spawn_with(|c| c.media_quota_bytes = 3_000).await;
    let alice = app.user("alice").await;
    let me: i64 = alice.id.parse().unwrap();
    let first = upload_raw(&app, &alice, jpeg(8, 8), "a.jpg", "image/jpeg", &[]).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let used = app.state.store.media_bytes(me).await.unwrap();
    let mut refused = 0;
    for _ in 0..10 {
        let res = upload_raw(&app, &alice, jpeg(64, 64), "b.jpg", "image/jpeg", &[]).await;
        if res.status == StatusCode::UNPROCESSABLE_ENTITY {
            assert!(res.body["error"].as_str().unwrap().contains("quota"));
            refused += 1;
            break;
        }
    }
    assert_eq!(refused, 1, "the quota was reached");
    let after = app.state.store.media_bytes(me).await.unwrap();
    assert!(after <= 3_000 && after >= used);
    // The refused upload left no file behind.
    let rows = after > used;
    let files = stored_files(&app).len();
    assert_eq!(files, if rows { 4 } else { 2 });
}

#[tokio::test]
async fn avatars_are_generated_uploaded_and_removed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let me = app
        .get(&alice, "/api/v1/accounts/verify_credentials")
        .await
        .ok();
    let other = app
        .get(&bob, "/api/v1/accounts/verify_credentials")
        .await
        .ok();
    let default_avatar = me["avatar"].as_str().unwrap().to_string();
    assert_ne!(default_avatar, other["avatar"].as_str().unwrap());
    let (status, headers, a) = fetch(&app, &default_avatar).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "image/png");
    let (_, _, b) = fetch(&app, other["avatar"].as_str().unwrap()).await;
    assert_ne!(a, b, "each account has its own picture");

    let res = app
        .send_multipart(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            &alice,
            &[
                Part::text("display_name", "Alice"),
                Part::file(
                    "avatar",
                    "me.jpg",
                    "image/jpeg",
                    jpeg_with_exif(600, 300, 1),
                ),
                Part::file("header", "wide.png", "image/png", png(900, 600, false)),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["display_name"], "Alice");
    let avatar = res.body["avatar"].as_str().unwrap().to_string();
    assert_ne!(avatar, default_avatar);
    let (status, _, bytes) = fetch(&app, &avatar).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!contains(&bytes, &gps_bytes()));
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (300, 300), "a centred square");
    let (_, _, bytes) = fetch(&app, res.body["header"].as_str().unwrap()).await;
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (900, 300), "cropped to 3:1");

    // A file that is no picture refuses the whole update.
    let res = app
        .send_multipart(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            &alice,
            &[
                Part::text("display_name", "Mallory"),
                Part::file("avatar", "x.png", "image/png", b"<?php ?>".to_vec()),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let me = app
        .get(&alice, "/api/v1/accounts/verify_credentials")
        .await
        .ok();
    assert_eq!(me["display_name"], "Alice");
    assert_eq!(me["avatar"], avatar);

    // Deleting it brings the generated one back and removes the file.
    let res = app
        .request(
            Method::DELETE,
            "/api/v1/profile/avatar",
            Some(&alice.token),
            None,
        )
        .await
        .ok();
    assert_eq!(res["avatar"], default_avatar);
    app.drain().await;
    assert_eq!(fetch(&app, &avatar).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn files_are_served_in_ranges_and_revalidated() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let media = upload(&app, &alice, jpeg(64, 64), "a.jpg", "image/jpeg").await;
    let url = media["url"].as_str().unwrap();
    let (_, headers, whole) = fetch(&app, url).await;
    let etag = header(&headers, "etag").to_string();

    let res = app
        .client
        .get(url)
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(res.headers(), "content-range"),
        format!("bytes 0-9/{}", whole.len())
    );
    assert_eq!(res.bytes().await.unwrap().to_vec(), whole[..10].to_vec());
    let res = app
        .client
        .get(url)
        .header("range", "bytes=-4")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        res.bytes().await.unwrap().to_vec(),
        whole[whole.len() - 4..].to_vec()
    );
    let res = app
        .client
        .get(url)
        .header("range", format!("bytes={}-", whole.len() + 10))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let res = app
        .client
        .get(url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    // Paths that are not keys Cascade makes are not found, whatever they try.
    for bad in [
        "/system/media/m/..%2F..%2Fcascade.db",
        "/system/media/m/cascade.db",
        "/system/media/x/0123456789abcdef0123456789abcdef.jpg",
    ] {
        let (status, _, _) = fetch(&app, &app.url(bad)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
    }
}

#[tokio::test]
async fn the_instance_reports_its_media_limits() {
    let app = spawn_app().await;
    let v2 = app.get_anon("/api/v2/instance").await.ok();
    let conf = &v2["configuration"];
    assert_eq!(conf["statuses"]["max_media_attachments"], 4);
    let types = conf["media_attachments"]["supported_mime_types"]
        .as_array()
        .unwrap();
    for t in ["image/jpeg", "image/png", "image/gif", "image/webp"] {
        assert!(types.iter().any(|x| x == t), "{t}");
    }
    assert_eq!(
        conf["media_attachments"]["image_size_limit"],
        app.state.config.media_image_bytes
    );
    assert!(conf["media_attachments"]["image_matrix_limit"].as_u64() > Some(0));
}

/// A short video made by ffmpeg itself (a test pattern with a tone), when it is there.
async fn test_video(dir: &std::path::Path) -> Option<Vec<u8>> {
    let out = dir.join("clip.mp4");
    let made = tokio::process::Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-y",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=96x64:rate=10",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-t",
            "1",
            "-metadata",
            "title=cascade-secret-place",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .arg(&out)
        .status()
        .await
        .ok()?;
    if !made.success() {
        return None;
    }
    std::fs::read(out).ok()
}

#[tokio::test]
async fn video_is_processed_by_a_job_or_refused_without_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let Some(video) = test_video(dir.path()).await else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI must run the video test: ffmpeg is not installed");
        }
        eprintln!("\n#### SKIPPED: ffmpeg is not installed, so the video test did not run. ####\n");
        return;
    };
    assert!(
        contains(&video, b"cascade-secret-place"),
        "the fixture carries metadata"
    );

    // Without ffmpeg, a clear refusal.
    let without = spawn_with(|c| c.media_ffmpeg = false).await;
    let alice = without.user("alice").await;
    let res = upload_raw(
        &without,
        &alice,
        video.clone(),
        "clip.mp4",
        "video/mp4",
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body["error"].as_str().unwrap().contains("ffmpeg"));
    let v2 = without.get_anon("/api/v2/instance").await.ok();
    let types = v2["configuration"]["media_attachments"]["supported_mime_types"].to_string();
    assert!(!types.contains("video/mp4"));

    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let res = upload_raw(&app, &alice, video, "clip.mp4", "video/mp4", &[]).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    assert_eq!(res.body["type"], "video");
    assert!(res.body["url"].is_null(), "no URL while processing");
    let path = format!("/api/v1/media/{}", id(&res.body));
    // Attaching it before it is done is refused.
    let early = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "too soon", "media_ids": [id(&res.body)]}),
        )
        .await;
    assert!(
        early.status == StatusCode::UNPROCESSABLE_ENTITY || early.status == StatusCode::OK,
        "{}",
        early.body
    );
    eventually("the video is processed", || async {
        app.get(&alice, &path).await.status == StatusCode::OK
    })
    .await;
    let done = app.get(&alice, &path).await.ok();
    assert_eq!(done["type"], "video");
    assert!(done["meta"]["original"]["duration"].as_f64().is_some());
    assert_eq!(done["meta"]["original"]["width"], 96);
    let (status, headers, bytes) = fetch(&app, done["url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "video/mp4");
    assert!(
        !contains(&bytes, b"cascade-secret-place"),
        "the metadata is gone"
    );
    let (status, _, poster) = fetch(&app, done["preview_url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(image::load_from_memory(&poster).is_ok());
}

#[tokio::test]
async fn an_animated_gif_becomes_a_looping_video_and_a_still_one_a_picture() {
    let ffmpeg = tokio::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .await
        .is_ok_and(|o| o.status.success());
    if !ffmpeg {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI must run the gifv test: ffmpeg is not installed");
        }
        eprintln!("\n#### SKIPPED: ffmpeg is not installed, so the gifv test did not run. ####\n");
        return;
    }
    let app = spawn_app().await;
    let alice = app.user("alice").await;

    let still = upload(&app, &alice, gif(1), "still.gif", "image/gif").await;
    assert_eq!(still["type"], "image");

    let res = upload_raw(&app, &alice, gif(3), "moving.gif", "image/gif", &[]).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    assert_eq!(res.body["type"], "gifv");
    let path = format!("/api/v1/media/{}", id(&res.body));
    eventually("the animation is processed", || async {
        app.get(&alice, &path).await.status == StatusCode::OK
    })
    .await;
    let done = app.get(&alice, &path).await.ok();
    assert_eq!(done["type"], "gifv");
    assert!(done["blurhash"].is_string());
    let (status, headers, bytes) = fetch(&app, done["url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "video/mp4");
    assert_eq!(&bytes[4..8], b"ftyp", "an MP4 file");
    let (status, _, poster) = fetch(&app, done["preview_url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(image::load_from_memory(&poster).is_ok());
    let post = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "it moves", "media_ids": [id(&done)]}),
        )
        .await
        .ok();
    assert_eq!(post["media_attachments"][0]["type"], "gifv");
}

/// An AVIF picture made by ffmpeg (AV1 through libaom), when it is there.
async fn test_avif(dir: &std::path::Path) -> Option<Vec<u8>> {
    let out = dir.join("still.avif");
    let made = tokio::process::Command::new("ffmpeg")
        .args(["-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i"])
        .args(["testsrc=size=64x48", "-frames:v", "1", "-c:v", "libaom-av1"])
        .args(["-still-picture", "1"])
        .arg(&out)
        .status()
        .await
        .ok()?;
    made.success().then(|| std::fs::read(out).ok()).flatten()
}

#[tokio::test]
async fn avif_is_decoded_by_ffmpeg_and_heic_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let Some(avif) = test_avif(dir.path()).await else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI must run the AVIF test: ffmpeg cannot make an AVIF picture");
        }
        eprintln!(
            "\n#### SKIPPED: ffmpeg cannot make AVIF here, so the AVIF test did not run. ####\n"
        );
        return;
    };
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let v2 = app.get_anon("/api/v2/instance").await.ok();
    let types = v2["configuration"]["media_attachments"]["supported_mime_types"].to_string();
    assert!(types.contains("image/avif"), "{types}");

    let media = upload(&app, &alice, avif.clone(), "still.avif", "image/avif").await;
    assert_eq!(media["type"], "image");
    assert_eq!(media["meta"]["original"]["width"], 64);
    assert_eq!(media["meta"]["original"]["height"], 48);
    let (status, headers, body) = fetch(&app, media["url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "image/jpeg");
    assert!(image::load_from_memory(&body).is_ok());

    // A phone's HEIC picture: a clear refusal, nothing stored.
    let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    heic.extend_from_slice(&[0u8; 64]);
    let res = upload_raw(&app, &alice, heic, "photo.heic", "image/heic", &[]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body["error"].as_str().unwrap().contains("HEIC"),
        "{}",
        res.body
    );

    // Without ffmpeg, AVIF is refused and not offered.
    let without = spawn_with(|c| c.media_ffmpeg = false).await;
    let bob = without.user("bob").await;
    let res = upload_raw(&without, &bob, avif, "still.avif", "image/avif", &[]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body["error"].as_str().unwrap().contains("ffmpeg"));
    let v2 = without.get_anon("/api/v2/instance").await.ok();
    let types = v2["configuration"]["media_attachments"]["supported_mime_types"].to_string();
    assert!(!types.contains("image/avif"), "{types}");
}

#[tokio::test]
async fn status_pages_show_pictures_with_their_alt_text() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let media = upload_raw(
        &app,
        &alice,
        jpeg(40, 30),
        "a.jpg",
        "image/jpeg",
        &[("description", "Two <b>colours</b> side by side")],
    )
    .await
    .ok();
    let post = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "look", "media_ids": [id(&media)]}),
        )
        .await
        .ok();
    let res = app
        .client
        .get(post["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    // Attributes are escaped as HTML (a slash becomes `&#x2f;`), which browsers read back.
    let escaped = |url: &str| url.replace('/', "&#x2f;");
    let preview = escaped(media["preview_url"].as_str().unwrap());
    assert!(html.contains(&format!("<img src=\"{preview}\"")), "{html}");
    assert!(
        html.contains("alt=\"Two &lt;b&gt;colours&lt;&#x2f;b&gt; side by side\"")
            || html.contains("alt=\"Two &lt;b&gt;colours&lt;/b&gt; side by side\""),
        "the alt text, escaped: {html}"
    );
    let url = escaped(media["url"].as_str().unwrap());
    assert!(html.contains(&format!("<meta property=\"og:image\" content=\"{url}\">")));
}

/// The `s3s-fs` program (an S3 server on a folder, from crates.io): `CASCADE_S3S_FS`, or
/// on the `PATH`.
fn s3s_fs() -> Option<std::path::PathBuf> {
    if let Ok(path) = std::env::var("CASCADE_S3S_FS") {
        return Some(path.into());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("s3s-fs"))
            .find(|p| p.is_file())
    })
}

/// A running s3s-fs on a free port with one bucket, stopped when dropped.
struct S3Server {
    _child: tokio::process::Child,
    root: tempfile::TempDir,
    settings: cascade_server::media::storage::S3Settings,
}

async fn start_s3(program: &std::path::Path) -> S3Server {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("media")).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = tokio::process::Command::new(program)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--access-key",
            "cascade-test",
            "--secret-key",
            "cascade-test-secret",
        ])
        .arg(root.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("s3s-fs starts");
    eventually("s3s-fs listens", || async move {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await;
    S3Server {
        _child: child,
        root,
        settings: cascade_server::media::storage::S3Settings {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: "media".into(),
            region: "us-east-1".into(),
            access_key_id: "cascade-test".into(),
            secret_access_key: "cascade-test-secret".into(),
        },
    }
}

#[tokio::test]
async fn media_lives_in_s3_compatible_storage_too() {
    let Some(program) = s3s_fs() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI must run the S3 test: s3s-fs is not installed (CASCADE_S3S_FS)");
        }
        eprintln!("\n#### SKIPPED: s3s-fs is not installed (set CASCADE_S3S_FS), so the S3 storage test did not run. ####\n");
        return;
    };
    let s3 = start_s3(&program).await;
    let store = cascade_server::media::MediaStore::s3(&s3.settings).expect("an S3 store");
    let app = spawn_with(move |c| c.media_store = Some(store)).await;
    let alice = app.user("alice").await;
    let media = upload(
        &app,
        &alice,
        jpeg_with_exif(64, 32, 6),
        "a.jpg",
        "image/jpeg",
    )
    .await;
    let url = media["url"].as_str().unwrap();
    let key = url.split("/system/media/").nth(1).unwrap().to_string();
    let object = s3.root.path().join("media").join(&key);
    assert!(object.is_file(), "the object is in the bucket: {object:?}");
    assert!(stored_files(&app).is_empty(), "nothing in the data folder");
    // Proxied by Cascade, with ranges.
    let (status, headers, bytes) = fetch(&app, url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "image/jpeg");
    assert!(!contains(&bytes, &gps_bytes()));
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 32);
    let res = app
        .client
        .get(url)
        .header("range", "bytes=2-5")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes[2..6].to_vec());
    // A deleted post's objects go.
    let post = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "in a bucket", "media_ids": [id(&media)]}),
        )
        .await
        .ok();
    app.request(
        Method::DELETE,
        &format!("/api/v1/statuses/{}", id(&post)),
        Some(&alice.token),
        None,
    )
    .await
    .ok();
    app.drain().await;
    assert!(!object.exists(), "the object was removed");
    assert_eq!(fetch(&app, url).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn media_urls_can_point_at_a_public_base_url() {
    let app =
        spawn_with(|c| c.media_public_url = Some("https://cdn.example.test/media/".into())).await;
    let alice = app.user("alice").await;
    let media = upload(&app, &alice, jpeg(16, 16), "a.jpg", "image/jpeg").await;
    let url = media["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://cdn.example.test/media/m/"),
        "{url}"
    );
    let key = url.trim_start_matches("https://cdn.example.test/media/");
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(&format!("/system/media/{key}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(header(res.headers(), "location"), url);
}

#[tokio::test]
async fn an_edit_changes_its_attachments_descriptions_and_focus() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let picture = upload(&app, &alice, png(16, 12, false), "p.png", "image/png").await;
    let other = upload(&app, &alice, png(8, 8, false), "q.png", "image/png").await;
    let post = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "look", "media_ids": [picture["id"]]}),
        )
        .await
        .ok();
    let path = format!("/api/v1/statuses/{}", post["id"].as_str().unwrap());
    let edited = app
        .request(
            reqwest::Method::PUT,
            &path,
            Some(&alice.token),
            Some(json!({"status": "look again",
                        "media_attributes": [{"id": picture["id"], "description": "A grey square", "focus": "0.5,-0.5"}]})),
        )
        .await
        .ok();
    let shown = &edited["media_attachments"][0];
    assert_eq!(shown["description"], "A grey square");
    assert_eq!(shown["meta"]["focus"], json!({"x": 0.5, "y": -0.5}));
    // Rails-style form keys work too.
    let res = app
        .client
        .put(app.url(&path))
        .bearer_auth(&alice.token)
        .form(&[
            ("status", "and again"),
            ("media_attributes[0][id]", picture["id"].as_str().unwrap()),
            ("media_attributes[0][description]", "Grey, square"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["media_attachments"][0]["description"], "Grey, square");
    // An attachment the status does not have, or a bad focus, changes nothing.
    for attributes in [
        json!([{"id": other["id"], "description": "not mine to say"}]),
        json!([{"id": picture["id"], "focus": "9,9"}]),
    ] {
        let res = app
            .request(
                reqwest::Method::PUT,
                &path,
                Some(&alice.token),
                Some(json!({"status": "changed?", "media_attributes": attributes})),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{attributes}");
    }
    let now = app.get_anon(&path).await.ok();
    assert_eq!(now["content"], "<p>and again</p>");
    assert_eq!(now["media_attachments"][0]["description"], "Grey, square");
}
