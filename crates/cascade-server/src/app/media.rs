//! Media attachments: uploads, their descriptions and focal points, attaching them to
//! statuses, avatars and headers, and their removal.
//!
//! An upload is judged by its bytes, never by its name or claimed content type. A picture
//! is processed at once (on the blocking pool, a bounded number at a time) and stored
//! re-encoded; video and audio are stored as uploaded and owe a `ProcessMedia` job that
//! runs ffmpeg off the request path. Files are written before their row; a row that could
//! not be written (quota, a store error) takes its files with it, so nothing is stored
//! half-way. Every removal of a row writes a `RemoveMedia` job with the files' keys in the
//! same transaction, so a crash never leaves a file no job will remove.

use cascade_core::job::JobKind;
use cascade_core::media::{self, Focus, Format, MediaKind};
use cascade_core::{time, Id};
use cascade_store::{removal_payload, Job, MediaRecord, NewJob, ProfileImage, StoreError};
use serde_json::{json, Value};

use crate::app::entity;
use crate::error::{ApiError, ApiResult};
use crate::media::image::{Encoded, Processed};
use crate::media::storage::new_key;
use crate::state::AppState;

/// How long an upload may wait for a status before it is removed.
pub const UNATTACHED_TTL_MS: i64 = 24 * 3_600_000;

/// An uploaded file with what the client said about it.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub bytes: Vec<u8>,
    pub description: Option<String>,
    pub focus: Option<String>,
}

pub(crate) fn invalid(e: media::MediaError) -> ApiError {
    match e {
        media::MediaError::Invalid(msg) => ApiError::Unprocessable(msg),
    }
}

/// The URL a stored file is served at: under the public base URL when one is set, else
/// by this server.
pub fn file_url(state: &AppState, key: &str) -> String {
    match &state.config.media_public_url {
        Some(base) => format!("{}/{key}", base.trim_end_matches('/')),
        None => state.url(&format!("/system/media/{key}")),
    }
}

/// The generated default avatar of an account.
pub fn default_avatar_url(state: &AppState, account: Id) -> String {
    state.url(&format!("/system/identicons/{account}.png"))
}

/// The MIME types uploads may have, as `/api/v2/instance` reports them: pictures always,
/// video, audio and AVIF pictures when ffmpeg is there.
pub fn supported_types(state: &AppState) -> Vec<&'static str> {
    Format::ALL
        .into_iter()
        .filter(|f| !f.needs_ffmpeg() || state.media.ffmpeg.is_some())
        .map(Format::mime)
        .collect()
}

pub(crate) fn size_meta(width: u32, height: u32) -> Value {
    json!({
        "width": width,
        "height": height,
        "size": format!("{width}x{height}"),
        "aspect": f64::from(width) / f64::from(height.max(1)),
    })
}

/// Renders a record as Mastodon's entity.
pub fn entity(state: &AppState, m: &MediaRecord) -> entity::MediaAttachment {
    let mut meta: Value = serde_json::from_str(&m.meta_json).unwrap_or_else(|_| json!({}));
    if let (Some(x), Some(y), Some(obj)) = (m.focus_x, m.focus_y, meta.as_object_mut()) {
        obj.insert("focus".into(), json!({ "x": x, "y": y }));
    }
    entity::MediaAttachment {
        id: m.id.to_string(),
        kind: m.kind.clone(),
        // A remote attachment is not cached: its URL is its server's.
        url: m
            .file_key
            .as_deref()
            .map(|k| file_url(state, k))
            .or_else(|| m.remote_url.clone()),
        preview_url: m
            .preview_key
            .as_deref()
            .or(m.file_key.as_deref().filter(|_| m.kind == "image"))
            .map(|k| file_url(state, k))
            .or_else(|| m.remote_url.clone().filter(|_| m.kind == "image")),
        remote_url: m.remote_url.clone(),
        preview_remote_url: None,
        text_url: None,
        meta,
        description: (!m.description.is_empty()).then(|| m.description.clone()),
        blurhash: m.blurhash.clone(),
    }
}

/// Whether the upload is done (200) or still processing (202 from v2, 206 from `GET`).
pub fn is_ready(m: &MediaRecord) -> bool {
    m.state != "processing"
}

/// The job that removes stored files.
fn removal(state: &AppState, subject: Id, keys: &[String]) -> NewJob {
    NewJob::new(
        state.ids.next(),
        JobKind::RemoveMedia,
        subject,
        time::now_millis(),
    )
    .carrying(removal_payload(keys))
}

/// Removes files written for a row that was not written.
pub(crate) async fn discard(state: &AppState, keys: &[String]) {
    for key in keys {
        if let Err(e) = state.media.store.delete(key).await {
            tracing::warn!(error = %e, key, "an unused media file was not removed");
        }
    }
}

/// Writes a file, after recording the intent to (`media_intents`): if the process dies
/// before the row that names the file is committed, the sweep finds the intent and
/// removes the file. The caller settles the intent once its row is committed.
pub(crate) async fn put(state: &AppState, key: &str, bytes: &[u8]) -> ApiResult<()> {
    state
        .store
        .record_media_intents(&[key], time::now_millis())
        .await?;
    state
        .media
        .store
        .put(key, bytes)
        .await
        .map_err(|e| ApiError::Internal(e.into()))
}

/// Forgets the intents of files a committed row now names (a failure only leaves them for
/// the sweep, which checks that a row names a file before it removes it).
pub(crate) async fn settle(state: &AppState, keys: &[String]) {
    if let Err(e) = state.store.settle_media_intents(keys).await {
        tracing::warn!(error = %e, "media intents were not settled; the sweep will");
    }
}

/// How long an intent may stay unsettled before the sweep looks at it: far longer than
/// any write of a file and its row.
const INTENT_TTL_MS: i64 = 3_600_000;

/// Removes the files of intents older than an hour that no row names: what a process
/// that died between writing a file and committing its row left. Returns how many files
/// went.
pub async fn sweep_intents(state: &AppState, now: i64) -> ApiResult<usize> {
    let mut removed = 0;
    loop {
        let stale = state
            .store
            .stale_media_intents(now - INTENT_TTL_MS, 100)
            .await?;
        for key in &stale {
            if !state.store.media_key_in_use(key).await? {
                match state.media.store.delete(key).await {
                    Ok(()) => removed += 1,
                    // No file could have such a key: nothing to remove.
                    Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {}
                    // The storage is away: the intent stays for the next sweep.
                    Err(e) => return Err(ApiError::Internal(e.into())),
                }
            }
        }
        state.store.settle_media_intents(&stale).await?;
        if stale.len() < 100 {
            return Ok(removed);
        }
    }
}

/// Stores the processed picture and its preview, then its row (within the account's
/// quota); on any failure the files go again.
async fn store_processed(
    state: &AppState,
    me: Id,
    kind: MediaKind,
    processed: Processed,
    description: String,
    focus: Option<Focus>,
) -> ApiResult<MediaRecord> {
    let Processed {
        original,
        preview,
        blurhash,
    } = processed;
    let file_key = new_key('m', original.format.extension());
    let preview_key = new_key('p', preview.format.extension());
    let keys = vec![file_key.clone(), preview_key.clone()];
    let record = MediaRecord {
        id: state.ids.next(),
        account_id: me,
        status_id: None,
        position: 0,
        kind: kind.as_str().to_string(),
        state: "ready".into(),
        content_type: original.format.mime().to_string(),
        file_key: Some(file_key.clone()),
        preview_key: Some(preview_key.clone()),
        meta_json: json!({
            "original": size_meta(original.width, original.height),
            "small": size_meta(preview.width, preview.height),
        })
        .to_string(),
        description,
        focus_x: focus.map(|f| f.x),
        focus_y: focus.map(|f| f.y),
        blurhash: Some(blurhash),
        bytes: (original.bytes.len() + preview.bytes.len()) as i64,
        created_at: time::now_millis(),
        remote_url: None,
    };
    let written = async {
        put(state, &file_key, &original.bytes).await?;
        put(state, &preview_key, &preview.bytes).await?;
        insert(state, &record, &[]).await
    }
    .await;
    if written.is_err() {
        discard(state, &keys).await;
    }
    settle(state, &keys).await;
    written.map(|()| record)
}

/// Writes a row within the quota (with the jobs it owes): 422 past the quota.
async fn insert(state: &AppState, record: &MediaRecord, owed: &[NewJob]) -> ApiResult<()> {
    let quota = i64::try_from(state.config.media_quota_bytes).unwrap_or(i64::MAX);
    if !state.store.insert_media(record, quota, owed).await? {
        return Err(ApiError::unprocessable(format!(
            "Your media storage quota ({} MB) is used up: delete some media first",
            state.config.media_quota_bytes / (1024 * 1024)
        )));
    }
    Ok(())
}

/// Checks the description and focal point a client sent.
fn details(upload: &Upload) -> ApiResult<(String, Option<Focus>)> {
    let description = upload.description.clone().unwrap_or_default();
    media::check_description(&description).map_err(invalid)?;
    let focus = match upload.focus.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => Some(Focus::parse(f).map_err(invalid)?),
        None => None,
    };
    Ok((description, focus))
}

/// What an upload's first bytes say it is; 422 for anything not accepted.
fn sniff(state: &AppState, bytes: &[u8]) -> ApiResult<Format> {
    if bytes.is_empty() {
        return Err(ApiError::unprocessable("The file is empty"));
    }
    if media::is_heic(bytes) {
        return Err(ApiError::unprocessable(format!(
            "HEIC pictures are not supported: no decoder this server has reads them. \
             Send one of {}",
            supported_types(state).join(", ")
        )));
    }
    let format = Format::sniff(bytes).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "File type is not supported: its contents are none of {}",
            supported_types(state).join(", ")
        ))
    })?;
    if format.needs_ffmpeg() && state.media.ffmpeg.is_none() {
        return Err(ApiError::unprocessable(if format == Format::Avif {
            "AVIF pictures are not supported on this server (ffmpeg is not installed)"
        } else {
            "Video and audio are not supported on this server (ffmpeg is not installed)"
        }));
    }
    let limit = if format.is_image() {
        state.config.media_image_bytes
    } else {
        state.config.media_video_bytes
    };
    if bytes.len() > limit {
        return Err(ApiError::TooLarge);
    }
    Ok(format)
}

/// Processes and stores an upload. Pictures are done when this returns; video and audio
/// are stored as uploaded and processed by a job (the record says `processing`).
pub async fn upload(state: &AppState, me: Id, upload: Upload) -> ApiResult<MediaRecord> {
    let (description, focus) = details(&upload)?;
    let format = sniff(state, &upload.bytes)?;
    if media::truncated(format, &upload.bytes) {
        return Err(ApiError::unprocessable(
            "The file is incomplete: it ends before its format says it does",
        ));
    }
    if !format.is_image() {
        let kind = if format.is_audio() {
            MediaKind::Audio
        } else {
            MediaKind::Video
        };
        let bytes = upload.bytes;
        return upload_for_processing(state, me, bytes, format, kind, description, focus).await;
    }
    let bytes = upload.bytes;
    if format == Format::Avif {
        let png = avif_to_png(state, &bytes).await?;
        return store_image(state, me, png, Format::Png, description, focus).await;
    }
    if format == Format::Gif && state.media.ffmpeg.is_some() {
        // An animated GIF becomes a looping video without sound, `gifv`, as Mastodon
        // makes it: far smaller, and played by every client. Its first frame is decoded
        // here, so a bomb is refused before ffmpeg sees it.
        let stripped = state
            .media
            .process(move || {
                if !crate::media::image::is_animated(&bytes)? {
                    return Ok(Err(bytes));
                }
                crate::media::image::decode(&bytes, Format::Gif)?;
                Ok(Ok(media::strip_gif(&bytes)?.bytes))
            })
            .await
            .map_err(ApiError::Internal)?
            .map_err(invalid)?;
        match stripped {
            Ok(animation) => {
                let kind = MediaKind::Gifv;
                return upload_for_processing(
                    state,
                    me,
                    animation,
                    format,
                    kind,
                    description,
                    focus,
                )
                .await;
            }
            Err(still) => return store_image(state, me, still, format, description, focus).await,
        }
    }
    store_image(state, me, bytes, format, description, focus).await
}

/// Decodes an AVIF picture to PNG with ffmpeg, on the request as every picture is: its
/// dimensions are read from its header (ffprobe) and held to the limit every picture is
/// held to before any pixel is decoded. The PNG then goes through the usual pipeline.
async fn avif_to_png(state: &AppState, bytes: &[u8]) -> ApiResult<Vec<u8>> {
    let Some(ffmpeg) = state.media.ffmpeg.clone() else {
        return Err(ApiError::unprocessable(
            "AVIF pictures are not supported on this server (ffmpeg is not installed)",
        ));
    };
    let unreadable = |_| ApiError::unprocessable("The AVIF picture could not be read");
    let _permit = state.media.permit().await.map_err(ApiError::Internal)?;
    let dir = WorkDir(
        state
            .config
            .data_dir
            .join("tmp")
            .join(format!("avif-{}", state.ids.next())),
    );
    let (input, output) = (dir.path().join("input.avif"), dir.path().join("out.png"));
    let io = |e: std::io::Error| ApiError::Internal(e.into());
    tokio::fs::create_dir_all(dir.path()).await.map_err(io)?;
    tokio::fs::write(&input, bytes).await.map_err(io)?;
    let probe = ffmpeg.probe(&input).await.map_err(unreadable)?;
    let (Some(w), Some(h)) = (probe.width, probe.height) else {
        return Err(ApiError::unprocessable("The AVIF picture has no image"));
    };
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > media::MAX_IMAGE_PIXELS {
        return Err(ApiError::unprocessable(format!(
            "The picture is too large: {w}×{h} pixels (at most {} in all)",
            media::MAX_IMAGE_PIXELS
        )));
    }
    ffmpeg.poster(&input, &output).await.map_err(unreadable)?;
    tokio::fs::read(&output).await.map_err(io)
}

/// Processes a still picture (or, without ffmpeg, an animated GIF, kept a GIF) on the
/// request and stores it ready.
async fn store_image(
    state: &AppState,
    me: Id,
    bytes: Vec<u8>,
    format: Format,
    description: String,
    focus: Option<Focus>,
) -> ApiResult<MediaRecord> {
    let processed = state
        .media
        .process(move || {
            if format == Format::Gif && crate::media::image::is_animated(&bytes)? {
                crate::media::image::process_animation(&bytes)
            } else {
                crate::media::image::process(&bytes, format)
            }
        })
        .await
        .map_err(ApiError::Internal)?
        .map_err(invalid)?;
    let kind = MediaKind::Image;
    store_processed(state, me, kind, processed, description, focus).await
}

/// Stores an upload for the `ProcessMedia` job (video, audio, an animation to become
/// `gifv`) and answers it processing.
async fn upload_for_processing(
    state: &AppState,
    me: Id,
    bytes: Vec<u8>,
    format: Format,
    kind: MediaKind,
    description: String,
    focus: Option<Focus>,
) -> ApiResult<MediaRecord> {
    let raw_key = new_key('u', format.extension());
    let record = MediaRecord {
        id: state.ids.next(),
        account_id: me,
        status_id: None,
        position: 0,
        kind: kind.as_str().to_string(),
        state: "processing".into(),
        content_type: format.mime().to_string(),
        file_key: None,
        preview_key: None,
        meta_json: "{}".into(),
        description,
        focus_x: focus.map(|f| f.x),
        focus_y: focus.map(|f| f.y),
        blurhash: None,
        bytes: bytes.len() as i64,
        created_at: time::now_millis(),
        remote_url: None,
    };
    let job = NewJob::new(
        state.ids.next(),
        JobKind::ProcessMedia,
        record.id,
        record.created_at,
    )
    .carrying(raw_key.clone());
    let written = async {
        put(state, &raw_key, &bytes).await?;
        insert(state, &record, std::slice::from_ref(&job)).await
    }
    .await;
    if written.is_err() {
        discard(state, std::slice::from_ref(&raw_key)).await;
    }
    settle(state, std::slice::from_ref(&raw_key)).await;
    written?;
    state.jobs.ring();
    Ok(record)
}

/// One of the viewer's uploads; 404 for anyone else's.
pub async fn own(state: &AppState, me: Id, id: Id) -> ApiResult<MediaRecord> {
    let m = state.store.media(id).await?;
    if m.account_id != me {
        return Err(ApiError::NotFound);
    }
    Ok(m)
}

/// Changes an unattached upload's description or focal point (Mastodon answers 404 for
/// one a status took).
pub async fn update(
    state: &AppState,
    me: Id,
    id: Id,
    description: Option<String>,
    focus: Option<String>,
) -> ApiResult<MediaRecord> {
    let m = own(state, me, id).await?;
    if m.status_id.is_some() {
        return Err(ApiError::NotFound);
    }
    if let Some(d) = &description {
        media::check_description(d).map_err(invalid)?;
    }
    let focus = match focus.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => Some(Focus::parse(f).map_err(invalid)?),
        None => None,
    };
    state
        .store
        .update_media(id, description.as_deref(), focus.map(|f| (f.x, f.y)))
        .await?;
    Ok(state.store.media(id).await?)
}

/// A new description or focal point for one of an edited status's attachments.
#[derive(Debug, Clone, Default)]
pub struct MediaAttribute {
    pub id: Id,
    pub description: Option<String>,
    pub focus: Option<String>,
}

/// A checked attribute change: the attachment, its new description, its new focus.
pub type AttributeChange = (Id, Option<String>, Option<(f64, f64)>);

/// Checks an edit's `media_attributes`: each names an attachment the edited status will
/// have (`attached`, comma-separated ids), with a valid description and focus. Returns
/// what to write.
pub fn check_attributes(
    attributes: &[MediaAttribute],
    attached: &str,
) -> ApiResult<Vec<AttributeChange>> {
    let ids: Vec<Id> = attached.split(',').filter_map(|i| i.parse().ok()).collect();
    attributes
        .iter()
        .map(|a| {
            if !ids.contains(&a.id) {
                return Err(ApiError::unprocessable(format!(
                    "Media attachment {} is not attached to this status",
                    a.id
                )));
            }
            if let Some(d) = &a.description {
                media::check_description(d).map_err(invalid)?;
            }
            let focus = match a.focus.as_deref().filter(|f| !f.is_empty()) {
                Some(f) => Some(Focus::parse(f).map_err(invalid)?),
                None => None,
            };
            Ok((a.id, a.description.clone(), focus.map(|f| (f.x, f.y))))
        })
        .collect()
}

/// Writes checked `media_attributes`.
pub async fn apply_attributes(state: &AppState, attributes: &[AttributeChange]) -> ApiResult<()> {
    for (id, description, focus) in attributes {
        state
            .store
            .update_media(*id, description.as_deref(), *focus)
            .await?;
    }
    Ok(())
}

/// Deletes an unattached upload and, through a job, its files.
pub async fn delete(state: &AppState, me: Id, id: Id) -> ApiResult<()> {
    let m = own(state, me, id).await?;
    if m.status_id.is_some() {
        return Err(ApiError::unprocessable(
            "Media attachment is currently used by a status",
        ));
    }
    let job = removal(state, m.id, &m.keys());
    if !state.store.delete_unattached_media(id, &job).await? {
        return Err(ApiError::unprocessable(
            "Media attachment is currently used by a status",
        ));
    }
    state.jobs.ring();
    Ok(())
}

/// Parses and checks the `media_ids` of a status being written by `me`: at most four,
/// each the author's, done processing, and unattached (or, when editing, attached to
/// `editing`) and not kept for a scheduled status (but `scheduled`'s own, when it is
/// being published); no video beside pictures. Returns the ids in the client's order.
pub async fn for_status(
    state: &AppState,
    me: Id,
    raw: &[String],
    editing: Option<Id>,
    scheduled: Option<Id>,
) -> ApiResult<Vec<Id>> {
    let mut ids: Vec<Id> = Vec::with_capacity(raw.len());
    for r in raw.iter().filter(|r| !r.is_empty()) {
        let id: Id = r
            .parse()
            .map_err(|_| ApiError::unprocessable(format!("Media attachment {r} not found")))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.len() > media::MAX_ATTACHMENTS {
        return Err(ApiError::unprocessable(format!(
            "Cannot attach more than {} files",
            media::MAX_ATTACHMENTS
        )));
    }
    let found = state.store.media_by_ids(&ids).await?;
    let reserved = state.store.media_reservations(&ids).await?;
    for id in &ids {
        let Some(m) = found.iter().find(|m| m.id == *id && m.account_id == me) else {
            return Err(ApiError::unprocessable(format!(
                "Media attachment {id} not found"
            )));
        };
        let kept_for_other = reserved
            .iter()
            .any(|(upload, by)| upload == id && Some(*by) != scheduled);
        if (m.status_id.is_some() && m.status_id != editing) || kept_for_other {
            return Err(ApiError::unprocessable(format!(
                "Media attachment {id} is already attached to another status"
            )));
        }
        if m.state == "processing" {
            return Err(ApiError::unprocessable(
                "Cannot attach files that have not finished processing. Try again in a moment!",
            ));
        }
        if m.state == "failed" {
            return Err(ApiError::unprocessable(format!(
                "Media attachment {id} could not be processed"
            )));
        }
    }
    let moving = found
        .iter()
        .any(|m| m.kind == "video" || m.kind == "audio" || m.kind == "gifv");
    if moving && found.len() > 1 {
        return Err(ApiError::unprocessable(
            "Cannot attach a video or audio to a post that contains other media",
        ));
    }
    Ok(ids)
}

/// Sets an edited status's attachments; the ones it drops are deleted with their files.
pub async fn set_for_status(state: &AppState, me: Id, status: Id, ids: &[Id]) -> ApiResult<()> {
    let job = removal(state, status, &[]);
    let removed = match state.store.set_status_media(status, me, ids, job).await {
        Ok(removed) => removed,
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::unprocessable(
                "A media attachment is already attached to another status",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    if !removed.is_empty() {
        state.jobs.ring();
    }
    Ok(())
}

/// The job a deleted status owes for its attachments' files, if it has any.
pub async fn status_removal(state: &AppState, status: Id) -> ApiResult<Option<NewJob>> {
    let keys: Vec<String> = state
        .store
        .media_of(&[status])
        .await?
        .iter()
        .flat_map(MediaRecord::keys)
        .collect();
    Ok((!keys.is_empty()).then(|| removal(state, status, &keys)))
}

/// `RemoveMedia`: removes the files a deleted row named (or, for an edit, the rows it
/// dropped, whose keys are read from the job's payload). Idempotent.
pub async fn remove_job(state: &AppState, job: &Job) -> ApiResult<()> {
    for key in job.payload.as_deref().unwrap_or("").lines() {
        if key.is_empty() {
            continue;
        }
        state
            .media
            .store
            .delete(key)
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
    }
    Ok(())
}

/// Removes the uploads no status took within a day of `now`, a batch at a time, each with
/// a job for its files. Returns how many went.
pub async fn sweep(state: &AppState, now: i64) -> ApiResult<usize> {
    let mut removed = 0;
    loop {
        let stale = state
            .store
            .stale_unattached_media(now - UNATTACHED_TTL_MS, 100)
            .await?;
        if stale.is_empty() {
            break;
        }
        let batch = stale.len();
        for m in stale {
            let job = removal(state, m.id, &m.keys());
            if state.store.delete_unattached_media(m.id, &job).await? {
                removed += 1;
            }
        }
        state.jobs.ring();
        if batch < 100 {
            break;
        }
    }
    Ok(removed)
}

/// Sweeps stale uploads, files of unfinished writes and inbound signatures too old to be
/// replayed every hour, from the start.
pub async fn run_sweeper(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3_600));
    loop {
        every.tick().await;
        match sweep(&state, time::now_millis()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "unattached uploads removed"),
            Err(e) => tracing::warn!(error = %e, "unattached uploads were not swept"),
        }
        match sweep_intents(&state, time::now_millis()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "files of unfinished writes removed"),
            Err(e) => tracing::warn!(error = %e, "unfinished writes were not swept"),
        }
        if let Err(e) =
            crate::app::federation::inbox::sweep_signatures(&state, time::now_millis()).await
        {
            tracing::warn!(error = %e, "old inbound signatures were not swept");
        }
    }
}

/// `ProcessMedia`: transcodes an uploaded video or audio file with ffmpeg, takes a
/// poster frame from video, stores the results and marks the upload ready (or failed,
/// when ffmpeg cannot read it). The raw upload is removed afterwards. Runs again harmlessly:
/// an upload no longer processing (or gone) is left alone.
pub async fn process_job(state: &AppState, job: &Job) -> ApiResult<()> {
    let Some(raw_key) = job.payload.clone() else {
        return Ok(());
    };
    let m = match state.store.media(job.subject_id).await {
        Ok(m) if m.state == "processing" => m,
        Ok(_) | Err(StoreError::NotFound) => {
            discard(state, std::slice::from_ref(&raw_key)).await;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let Some(ffmpeg) = state.media.ffmpeg.clone() else {
        return fail(state, m, &raw_key, "ffmpeg is not installed").await;
    };
    let Some(raw) = state
        .media
        .store
        .get(&raw_key, None)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
    else {
        return fail(state, m, &raw_key, "the upload is gone").await;
    };
    let _permit = state.media.permit().await.map_err(ApiError::Internal)?;
    // A folder of its own under the data folder, emptied whatever happens below.
    let dir = WorkDir(
        state
            .config
            .data_dir
            .join("tmp")
            .join(format!("media-{}", m.id)),
    );
    tokio::fs::create_dir_all(dir.path())
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let input = dir.path().join("input");
    tokio::fs::write(&input, &raw.bytes)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    drop(raw);
    let audio = m.kind == "audio";
    let output = dir.path().join(if audio { "out.mp3" } else { "out.mp4" });
    let poster = dir.path().join("poster.png");
    let outcome = async {
        let probe = ffmpeg.probe(&input).await?;
        if audio && !probe.has_audio {
            anyhow::bail!("no audio stream");
        }
        if !audio && !probe.has_video {
            anyhow::bail!("no video stream");
        }
        if audio {
            ffmpeg.audio(&input, &output).await?;
        } else {
            ffmpeg.video(&input, &output).await?;
            ffmpeg.poster(&output, &poster).await?;
        }
        let out_probe = ffmpeg.probe(&output).await?;
        Ok::<_, anyhow::Error>((probe, out_probe))
    }
    .await;
    let (probe, out_probe) = match outcome {
        Ok(p) => p,
        Err(e) => return fail(state, m, &raw_key, &e.to_string()).await,
    };
    let file = tokio::fs::read(&output)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let preview: Option<Processed> = if audio {
        None
    } else {
        let png = tokio::fs::read(&poster)
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        state
            .media
            .process(move || crate::media::image::process(&png, Format::Png))
            .await
            .map_err(ApiError::Internal)?
            .ok()
    };
    let format = if audio { Format::Mp3 } else { Format::Mp4 };
    let file_key = new_key('m', format.extension());
    let preview_key = preview
        .as_ref()
        .map(|p| new_key('p', p.preview.format.extension()));
    let mut original = json!({});
    if let (Some(w), Some(h)) = (out_probe.width, out_probe.height) {
        original = size_meta(w, h);
    }
    if let Some(obj) = original.as_object_mut() {
        if let Some(d) = out_probe.duration.or(probe.duration) {
            obj.insert("duration".into(), json!(d));
        }
        if let Some(fps) = out_probe.frame_rate.as_deref().filter(|_| !audio) {
            obj.insert("frame_rate".into(), json!(fps));
        }
    }
    let mut meta = json!({ "original": original });
    if let Some(p) = &preview {
        meta["small"] = size_meta(p.preview.width, p.preview.height);
    }
    let keys: Vec<String> = std::iter::once(file_key.clone())
        .chain(preview_key.clone())
        .collect();
    let stored = async {
        put(state, &file_key, &file).await?;
        if let (Some(k), Some(p)) = (&preview_key, &preview) {
            put(state, k, &p.preview.bytes).await?;
        }
        let done = MediaRecord {
            state: "ready".into(),
            content_type: format.mime().to_string(),
            file_key: Some(file_key.clone()),
            preview_key: preview_key.clone(),
            meta_json: meta.to_string(),
            blurhash: preview.as_ref().map(|p| p.blurhash.clone()),
            bytes: (file.len() + preview.as_ref().map_or(0, |p| p.preview.bytes.len())) as i64,
            ..m.clone()
        };
        if !state.store.finish_media(&done).await? {
            // Deleted while it was processed: its new files are nobody's.
            return Err(ApiError::NotFound);
        }
        Ok(())
    }
    .await;
    // Named by the finished row, or removed below.
    settle(state, &keys).await;
    match stored {
        Ok(()) => {
            discard(state, std::slice::from_ref(&raw_key)).await;
            if let Some(id) = m.status_id {
                state.forget(crate::cluster::Forget::Status(id));
            }
            Ok(())
        }
        Err(ApiError::NotFound) => {
            discard(state, &keys).await;
            discard(state, std::slice::from_ref(&raw_key)).await;
            Ok(())
        }
        Err(e) => {
            discard(state, &keys).await;
            Err(e)
        }
    }
}

/// A scratch folder, removed when dropped.
struct WorkDir(std::path::PathBuf);

impl WorkDir {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Marks an upload that cannot be processed as failed, and removes the raw upload.
async fn fail(state: &AppState, m: MediaRecord, raw_key: &str, why: &str) -> ApiResult<()> {
    tracing::warn!(media = m.id, why, "an upload could not be processed");
    let failed = MediaRecord {
        state: "failed".into(),
        bytes: 0,
        ..m
    };
    state.store.finish_media(&failed).await?;
    discard(state, &[raw_key.to_string()]).await;
    Ok(())
}

/// Sets or clears an avatar or header: an uploaded picture is cropped and scaled as
/// Mastodon does, stored under a new key; the previous one is removed by a job written
/// with the change.
pub async fn set_profile_image(
    state: &AppState,
    me: Id,
    which: ProfileImage,
    bytes: Option<Vec<u8>>,
) -> ApiResult<()> {
    let job = NewJob::new(
        state.ids.next(),
        JobKind::RemoveMedia,
        me,
        time::now_millis(),
    );
    let Some(bytes) = bytes else {
        state.store.set_profile_image(me, which, None, job).await?;
        state.forget(crate::cluster::Forget::Account(me));
        state.jobs.ring();
        return Ok(());
    };
    let mut format = sniff(state, &bytes)?;
    if !format.is_image() || media::truncated(format, &bytes) {
        return Err(ApiError::unprocessable(
            "Avatars and headers must be complete pictures (JPEG, PNG, GIF, WebP or AVIF)",
        ));
    }
    let mut bytes = bytes;
    if format == Format::Avif {
        bytes = avif_to_png(state, &bytes).await?;
        format = Format::Png;
    }
    let avatar = which == ProfileImage::Avatar;
    let encoded: Encoded = state
        .media
        .process(move || crate::media::image::profile(&bytes, format, avatar))
        .await
        .map_err(ApiError::Internal)?
        .map_err(invalid)?;
    let key = new_key(if avatar { 'a' } else { 'h' }, encoded.format.extension());
    put(state, &key, &encoded.bytes).await?;
    let set = state
        .store
        .set_profile_image(me, which, Some(&key), job)
        .await;
    if set.is_err() {
        discard(state, std::slice::from_ref(&key)).await;
    }
    settle(state, std::slice::from_ref(&key)).await;
    set?;
    state.forget(crate::cluster::Forget::Account(me));
    state.jobs.ring();
    Ok(())
}

/// Stores a picture drawn by the server (the demo world's) as an upload of `account` and
/// attaches it to `status`, after any attachments it has.
pub async fn attach_picture(
    state: &AppState,
    account: Id,
    status: Id,
    picture: image::RgbaImage,
    description: String,
) -> ApiResult<MediaRecord> {
    let processed = state
        .media
        .process(move || {
            let img = image::DynamicImage::ImageRgba8(picture);
            let preview = img.thumbnail(640, 360);
            Ok::<_, media::MediaError>(Processed {
                blurhash: crate::media::image::blurhash(&preview),
                preview: crate::media::image::encode(&preview)?,
                original: crate::media::image::encode(&img)?,
            })
        })
        .await
        .map_err(ApiError::Internal)?
        .map_err(invalid)?;
    let record = store_processed(
        state,
        account,
        MediaKind::Image,
        processed,
        description,
        None,
    )
    .await?;
    let mut ids: Vec<Id> = state
        .store
        .media_of(&[status])
        .await?
        .iter()
        .map(|m| m.id)
        .collect();
    ids.push(record.id);
    set_for_status(state, account, status, &ids).await?;
    state.forget(crate::cluster::Forget::Status(status));
    Ok(record)
}
