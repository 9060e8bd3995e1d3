//! Video and audio through Debian's `ffmpeg` and `ffprobe`, run as subprocesses (never
//! linked in): probed, transcoded to what every browser plays (H.264 and AAC in MP4 for
//! video, MP3 for audio) with no metadata kept, and a poster frame taken from video. Runs
//! from a durable job (`app::media::process_job`), never on the request path.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// The longest a transcode may run; past it the upload fails.
const TIMEOUT: Duration = Duration::from_secs(300);
/// Largest video frame kept: bigger ones are scaled down to fit 1920×1080.
const MAX_SIDE: &str =
    "scale='min(1920,iw)':'min(1080,ih)':force_original_aspect_ratio=decrease:force_divisible_by=2";

/// The two programs, found on the `PATH` at start.
#[derive(Debug, Clone)]
pub struct Ffmpeg {
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
    /// What `ffmpeg -version` says its version is.
    version: String,
}

/// What ffprobe says of a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probe {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration: Option<f64>,
    pub frame_rate: Option<String>,
    pub has_video: bool,
    pub has_audio: bool,
}

/// The version a program says it is (`ffmpeg version 5.1.6 …`), when it answers.
fn answers(program: &str) -> Option<String> {
    let out = std::process::Command::new(program)
        .arg("-version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or_default();
    Some(
        first
            .split_whitespace()
            .nth(2)
            .unwrap_or_default()
            .to_string(),
    )
}

async fn run(cmd: &mut Command) -> anyhow::Result<Vec<u8>> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(TIMEOUT, cmd.output())
        .await
        .map_err(|_| anyhow::anyhow!("ffmpeg took longer than {TIMEOUT:?}"))??;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: String = err.lines().rev().take(3).collect::<Vec<_>>().join(" / ");
        anyhow::bail!("ffmpeg failed: {tail}");
    }
    Ok(out.stdout)
}

impl Ffmpeg {
    /// The programs, when both answer; `None` otherwise (the server then refuses video
    /// and audio, and says so at start). Runs them once, at start.
    pub fn detect() -> Option<Ffmpeg> {
        let version = answers("ffmpeg")?;
        answers("ffprobe")?;
        Some(Ffmpeg {
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
            version,
        })
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub async fn probe(&self, input: &Path) -> anyhow::Result<Probe> {
        let out = run(Command::new(&self.ffprobe)
            .args([
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
            ])
            .arg(input))
        .await?;
        let json: serde_json::Value = serde_json::from_slice(&out)?;
        let mut probe = Probe {
            duration: json["format"]["duration"]
                .as_str()
                .and_then(|d| d.parse().ok()),
            ..Probe::default()
        };
        for s in json["streams"].as_array().into_iter().flatten() {
            match s["codec_type"].as_str() {
                Some("video") if !probe.has_video => {
                    probe.has_video = true;
                    probe.width = s["width"].as_u64().map(|w| w as u32);
                    probe.height = s["height"].as_u64().map(|h| h as u32);
                    probe.frame_rate = s["avg_frame_rate"].as_str().map(str::to_string);
                }
                Some("audio") => probe.has_audio = true,
                _ => {}
            }
        }
        Ok(probe)
    }

    /// Transcodes a video to H.264/AAC in MP4, without metadata, at most 1920×1080.
    pub async fn video(&self, input: &Path, output: &Path) -> anyhow::Result<()> {
        run(Command::new(&self.ffmpeg)
            .args(["-nostdin", "-y", "-v", "error", "-i"])
            .arg(input)
            .args([
                "-map_metadata",
                "-1",
                "-map",
                "0:v:0",
                "-map",
                "0:a:0?",
                "-vf",
                MAX_SIDE,
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-movflags",
                "+faststart",
                "-f",
                "mp4",
            ])
            .arg(output))
        .await
        .map(drop)
    }

    /// Transcodes audio to MP3, without metadata or cover pictures.
    pub async fn audio(&self, input: &Path, output: &Path) -> anyhow::Result<()> {
        run(Command::new(&self.ffmpeg)
            .args(["-nostdin", "-y", "-v", "error", "-i"])
            .arg(input)
            .args([
                "-map_metadata",
                "-1",
                "-vn",
                "-c:a",
                "libmp3lame",
                "-q:a",
                "4",
                "-f",
                "mp3",
            ])
            .arg(output))
        .await
        .map(drop)
    }

    /// The first frame of a video as a PNG, the poster.
    pub async fn poster(&self, input: &Path, output: &Path) -> anyhow::Result<()> {
        run(Command::new(&self.ffmpeg)
            .args(["-nostdin", "-y", "-v", "error", "-i"])
            .arg(input)
            .args([
                "-map_metadata",
                "-1",
                "-frames:v",
                "1",
                "-f",
                "image2",
                "-c:v",
                "png",
            ])
            .arg(output))
        .await
        .map(drop)
    }
}
