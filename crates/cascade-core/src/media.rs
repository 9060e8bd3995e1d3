//! Media attachments as rules: which file formats Cascade accepts (told by their first
//! bytes, never by the name or the content type a client claims), how many a status may
//! carry, how large a picture may be before it is refused or scaled down, and focal points.
//! Decoding and storing happen in the server; nothing here does IO.

/// Attachments one status may carry (Mastodon's number).
pub const MAX_ATTACHMENTS: usize = 4;
/// Characters of a description (alt text), as in Mastodon.
pub const MAX_DESCRIPTION_CHARS: usize = 1_500;
/// Pixels a picture may have at all: past this (7680×4320) it is refused from its header,
/// before any pixel is decoded, so a small file that claims huge dimensions (a
/// decompression bomb) costs nothing.
pub const MAX_IMAGE_PIXELS: u64 = 33_177_600;
/// Pixels of a stored picture: a larger one is scaled down to this area (3840×2160).
pub const STORED_IMAGE_PIXELS: u64 = 8_294_400;
/// Pixels of a preview (640×360).
pub const PREVIEW_PIXELS: u64 = 230_400;
/// Frames an animated GIF may have, and pixels in all its frames together.
pub const MAX_GIF_FRAMES: u64 = 1_000;
/// Side of a stored avatar, a square (Mastodon's 400×400).
pub const AVATAR_SIDE: u32 = 400;
/// Width and height a header is cropped to (Mastodon's 1500×500).
pub const HEADER_SIZE: (u32, u32) = (1_500, 500);

/// What kind of medium a file is, as `MediaAttachment.type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Image,
    /// An animation shown as a looping video without sound.
    Gifv,
    Video,
    Audio,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Gifv => "gifv",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
        }
    }

    pub fn parse(s: &str) -> Option<MediaKind> {
        [
            MediaKind::Image,
            MediaKind::Gifv,
            MediaKind::Video,
            MediaKind::Audio,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A file format Cascade accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
    /// AV1 still pictures: decoded by ffmpeg, so only where it is installed.
    Avif,
    Mp4,
    Mov,
    Webm,
    Mp3,
    Ogg,
    Wav,
    M4a,
}

impl Format {
    pub const ALL: [Format; 12] = [
        Format::Jpeg,
        Format::Png,
        Format::Gif,
        Format::Webp,
        Format::Avif,
        Format::Mp4,
        Format::Mov,
        Format::Webm,
        Format::Mp3,
        Format::Ogg,
        Format::Wav,
        Format::M4a,
    ];

    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Webp => "image/webp",
            Format::Avif => "image/avif",
            Format::Mp4 => "video/mp4",
            Format::Mov => "video/quicktime",
            Format::Webm => "video/webm",
            Format::Mp3 => "audio/mpeg",
            Format::Ogg => "audio/ogg",
            Format::Wav => "audio/wav",
            Format::M4a => "audio/mp4",
        }
    }

    /// The file name extension a stored file of this format gets.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::Avif => "avif",
            Format::Mp4 => "mp4",
            Format::Mov => "mov",
            Format::Webm => "webm",
            Format::Mp3 => "mp3",
            Format::Ogg => "ogg",
            Format::Wav => "wav",
            Format::M4a => "m4a",
        }
    }

    pub fn from_extension(ext: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.extension() == ext)
    }

    /// Whether this is a picture rather than video or audio.
    pub fn is_image(self) -> bool {
        matches!(
            self,
            Format::Jpeg | Format::Png | Format::Gif | Format::Webp | Format::Avif
        )
    }

    /// Whether only ffmpeg reads it: video, audio, and AVIF pictures (the others are
    /// decoded in the process).
    pub fn needs_ffmpeg(self) -> bool {
        !self.is_image() || self == Format::Avif
    }

    pub fn is_audio(self) -> bool {
        matches!(self, Format::Mp3 | Format::Ogg | Format::Wav | Format::M4a)
    }

    /// Tells the format from a file's first bytes (its signature); `None` for anything
    /// else, whatever the client called it: a script named `.png` is no PNG.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        let at = |offset: usize, sig: &[u8]| {
            bytes
                .get(offset..offset + sig.len())
                .is_some_and(|b| b == sig)
        };
        if at(0, &[0xFF, 0xD8, 0xFF]) {
            return Some(Format::Jpeg);
        }
        if at(0, b"\x89PNG\r\n\x1a\n") {
            return Some(Format::Png);
        }
        if at(0, b"GIF87a") || at(0, b"GIF89a") {
            return Some(Format::Gif);
        }
        if at(0, b"RIFF") && at(8, b"WEBP") {
            return Some(Format::Webp);
        }
        if at(0, b"RIFF") && at(8, b"WAVE") {
            return Some(Format::Wav);
        }
        if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
            return Some(Format::Webm);
        }
        if at(0, b"OggS") {
            return Some(Format::Ogg);
        }
        if at(4, b"ftyp") {
            let brand = bytes.get(8..12)?;
            if is_avif(bytes) {
                return Some(Format::Avif);
            }
            if is_heic(bytes) {
                return None;
            }
            return Some(match brand {
                b"qt  " => Format::Mov,
                b"M4A " | b"M4B " => Format::M4a,
                _ => Format::Mp4,
            });
        }
        if at(0, b"ID3") || (bytes.len() > 1 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
            return Some(Format::Mp3);
        }
        None
    }
}

/// The brands of an ISO media file's `ftyp` box: its major brand, then its compatible
/// ones (empty for anything else).
fn brands(bytes: &[u8]) -> Vec<&[u8]> {
    if bytes.get(4..8) != Some(b"ftyp") {
        return Vec::new();
    }
    let size = bytes
        .get(0..4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .min(bytes.len())
        .min(256);
    let mut out: Vec<&[u8]> = bytes.get(8..12).into_iter().collect();
    let mut at = 16;
    while at + 4 <= size {
        out.push(&bytes[at..at + 4]);
        at += 4;
    }
    out
}

/// An AVIF picture (an AV1 image item in a HEIF container).
fn is_avif(bytes: &[u8]) -> bool {
    brands(bytes).iter().any(|b| *b == b"avif" || *b == b"avis")
}

/// A HEIC picture (HEVC in HEIF, as phones take them), which no decoder Cascade has reads.
pub fn is_heic(bytes: &[u8]) -> bool {
    !is_avif(bytes)
        && brands(bytes).iter().any(|b| {
            matches!(
                *b,
                b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1"
            )
        })
}

/// A focal point: where a crop should stay centred, each axis from -1 (left, bottom) to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Focus {
    pub x: f64,
    pub y: f64,
}

impl Focus {
    /// Parses Mastodon's `"x,y"`.
    pub fn parse(s: &str) -> Result<Focus, MediaError> {
        let bad = || MediaError::Invalid("Focus must be two numbers from -1 to 1, as x,y".into());
        let (x, y) = s.split_once(',').ok_or_else(bad)?;
        let x: f64 = x.trim().parse().map_err(|_| bad())?;
        let y: f64 = y.trim().parse().map_err(|_| bad())?;
        if !(-1.0..=1.0).contains(&x) || !(-1.0..=1.0).contains(&y) {
            return Err(bad());
        }
        Ok(Focus { x, y })
    }
}

/// Checks a description's length.
pub fn check_description(text: &str) -> Result<(), MediaError> {
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(MediaError::Invalid(format!(
            "Description is too long (maximum is {MAX_DESCRIPTION_CHARS} characters)"
        )));
    }
    Ok(())
}

/// The size a `width`×`height` picture is scaled to so that it has at most `max_pixels`
/// pixels, keeping its aspect ratio (never scaled up; each side at least 1).
pub fn fit(width: u32, height: u32, max_pixels: u64) -> (u32, u32) {
    let pixels = u64::from(width) * u64::from(height);
    if pixels <= max_pixels || pixels == 0 {
        return (width, height);
    }
    let scale = (max_pixels as f64 / pixels as f64).sqrt();
    let h = ((f64::from(height) * scale).floor() as u32).max(1);
    // A side rounded up to 1 takes area from the other (a 100,000 × 1 strip).
    let w = ((f64::from(width) * scale).floor() as u32).clamp(
        1,
        (max_pixels / u64::from(h)).clamp(1, u64::from(u32::MAX)) as u32,
    );
    (w, h)
}

/// The largest `aspect` (width / height) crop of a `width`×`height` picture, centred:
/// `(x, y, w, h)`.
pub fn crop_to_aspect(width: u32, height: u32, aspect: f64) -> (u32, u32, u32, u32) {
    let current = f64::from(width) / f64::from(height.max(1));
    if current > aspect {
        let w = ((f64::from(height) * aspect).round() as u32).clamp(1, width);
        ((width - w) / 2, 0, w, height)
    } else {
        let h = ((f64::from(width) / aspect).round() as u32).clamp(1, height);
        (0, (height - h) / 2, width, h)
    }
}

/// Whether a file of `format` visibly ends before its format says it does (an upload cut
/// short): a JPEG without an end marker after its last scan, a PNG without its end chunk,
/// a WebP or WAV shorter than its RIFF header says. Decoders fill in what is missing
/// rather than fail, so this is checked first. GIFs are checked by `strip_gif`; other
/// formats are left to ffmpeg.
pub fn truncated(format: Format, bytes: &[u8]) -> bool {
    let last = |needle: &[u8]| bytes.windows(needle.len()).rposition(|w| w == needle);
    match format {
        Format::Jpeg => match (last(&[0xFF, 0xDA]), last(&[0xFF, 0xD9])) {
            (Some(scan), Some(end)) => end < scan,
            _ => true,
        },
        Format::Png => last(b"IEND").is_none_or(|at| at + 8 > bytes.len()),
        Format::Webp | Format::Wav => {
            let Some(size) = bytes.get(4..8) else {
                return true;
            };
            let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
            bytes.len() < size.saturating_add(8)
        }
        _ => false,
    }
}

/// A GIF with only the blocks that draw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrippedGif {
    pub bytes: Vec<u8>,
    /// Its frames (image blocks).
    pub frames: u64,
}

/// Copies a GIF without its comments, plain-text blocks and application blocks other than
/// the loop count (XMP and ICC travel in application blocks), so an animation can be kept
/// as it is without what it says about its maker. A damaged or truncated file, or one with
/// more than `MAX_GIF_FRAMES` frames, is refused.
pub fn strip_gif(bytes: &[u8]) -> Result<StrippedGif, MediaError> {
    let damaged = || MediaError::Invalid("The GIF is damaged or incomplete".into());
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0usize;
    let take = |at: &mut usize, n: usize| -> Result<&[u8], MediaError> {
        let slice = bytes.get(*at..*at + n).ok_or_else(damaged)?;
        *at += n;
        Ok(slice)
    };
    // Sub-blocks up to and including the empty one that ends them.
    fn sub_blocks<'a>(
        bytes: &'a [u8],
        at: &mut usize,
        damaged: &dyn Fn() -> MediaError,
    ) -> Result<&'a [u8], MediaError> {
        let start = *at;
        loop {
            let n = *bytes.get(*at).ok_or_else(damaged)? as usize;
            *at += 1 + n;
            if *at > bytes.len() {
                return Err(damaged());
            }
            if n == 0 {
                return Ok(&bytes[start..*at]);
            }
        }
    }
    let table = |packed: u8| {
        if packed & 0x80 != 0 {
            3usize << ((packed & 7) + 1)
        } else {
            0
        }
    };
    let header = take(&mut at, 13)?;
    if !header.starts_with(b"GIF87a") && !header.starts_with(b"GIF89a") {
        return Err(damaged());
    }
    out.extend_from_slice(header);
    let global = table(header[10]);
    out.extend_from_slice(take(&mut at, global)?);
    let mut frames = 0u64;
    loop {
        match *bytes.get(at).ok_or_else(damaged)? {
            0x3B => {
                out.push(0x3B);
                return Ok(StrippedGif { bytes: out, frames });
            }
            0x2C => {
                frames += 1;
                if frames > MAX_GIF_FRAMES {
                    return Err(MediaError::Invalid(format!(
                        "The animation has too many frames (at most {MAX_GIF_FRAMES})"
                    )));
                }
                let descriptor = take(&mut at, 10)?;
                out.extend_from_slice(descriptor);
                let local = table(descriptor[9]);
                out.extend_from_slice(take(&mut at, local)?);
                out.extend_from_slice(take(&mut at, 1)?);
                out.extend_from_slice(sub_blocks(bytes, &mut at, &damaged)?);
            }
            0x21 => {
                let start = at;
                let label = *bytes.get(at + 1).ok_or_else(damaged)?;
                at += 2;
                let body = sub_blocks(bytes, &mut at, &damaged)?;
                let keep = match label {
                    0xF9 => true,
                    0xFF => {
                        let id = body.get(1..12).unwrap_or_default();
                        id == b"NETSCAPE2.0" || id == b"ANIMEXTS1.0"
                    }
                    _ => false,
                };
                if keep {
                    out.extend_from_slice(&bytes[start..at]);
                }
            }
            _ => return Err(damaged()),
        }
    }
}

/// Why an upload or a change to one was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("{0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_bytes_not_their_names() {
        assert_eq!(Format::sniff(b"\x89PNG\r\n\x1a\n...."), Some(Format::Png));
        assert_eq!(Format::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Format::Jpeg));
        assert_eq!(Format::sniff(b"GIF89a"), Some(Format::Gif));
        assert_eq!(Format::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::Webp));
        assert_eq!(Format::sniff(b"RIFF\0\0\0\0WAVEfmt "), Some(Format::Wav));
        assert_eq!(Format::sniff(b"\0\0\0\x18ftypisom"), Some(Format::Mp4));
        assert_eq!(Format::sniff(b"\0\0\0\x18ftypqt  "), Some(Format::Mov));
        assert_eq!(
            Format::sniff(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf"),
            Some(Format::Avif)
        );
        assert_eq!(
            Format::sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1avif"),
            Some(Format::Avif),
            "AVIF named by a compatible brand"
        );
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(Format::sniff(heic), None, "no decoder reads HEIC");
        assert!(is_heic(heic));
        assert!(!is_heic(b"\0\0\0\x18ftypisom\0\0\0\0isomiso2"));
        assert_eq!(Format::sniff(b"#!/bin/sh\nrm -rf /"), None);
        assert_eq!(Format::sniff(b""), None);
        assert_eq!(Format::sniff(b"<svg"), None);
        for f in Format::ALL {
            assert_eq!(Format::from_extension(f.extension()), Some(f));
        }
    }

    #[test]
    fn files_cut_short_are_told() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 3, 0xFF, 0xD9];
        assert!(!truncated(Format::Jpeg, &jpeg));
        assert!(truncated(Format::Jpeg, &jpeg[..6]));
        assert!(truncated(Format::Png, b"\x89PNG\r\n\x1a\n"));
        assert!(truncated(Format::Webp, b"RIFF\x20\0\0\0WEBP"));
        assert!(!truncated(Format::Webp, b"RIFF\x04\0\0\0WEBP"));
    }

    #[test]
    fn pictures_fit_an_area_keeping_their_aspect() {
        assert_eq!(fit(100, 50, 10_000), (100, 50));
        let (w, h) = fit(8_000, 6_000, STORED_IMAGE_PIXELS);
        assert!(u64::from(w) * u64::from(h) <= STORED_IMAGE_PIXELS);
        assert!((f64::from(w) / f64::from(h) - 8.0 / 6.0).abs() < 0.01);
        assert_eq!(fit(100_000, 1, 10), (10, 1));
    }

    #[test]
    fn crops_keep_the_centre() {
        assert_eq!(crop_to_aspect(200, 100, 1.0), (50, 0, 100, 100));
        assert_eq!(crop_to_aspect(100, 200, 1.0), (0, 50, 100, 100));
        assert_eq!(crop_to_aspect(3_000, 500, 3.0), (750, 0, 1_500, 500));
    }

    #[test]
    fn gifs_lose_their_comments_and_keep_their_frames() {
        let mut gif = b"GIF89a\x01\0\x01\0\x80\0\0".to_vec();
        gif.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        gif.extend_from_slice(b"\x21\xFE\x05where\0");
        gif.extend_from_slice(b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\0\0\0");
        gif.extend_from_slice(b"\x21\xFF\x0BXMP DataXMP\x03abc\0");
        let frame = b"\x21\xF9\x04\0\x0A\0\0\0\x2C\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\0";
        gif.extend_from_slice(frame);
        gif.extend_from_slice(frame);
        gif.push(0x3B);
        let stripped = strip_gif(&gif).expect("a GIF");
        assert_eq!(stripped.frames, 2);
        let text = String::from_utf8_lossy(&stripped.bytes);
        assert!(!text.contains("where") && !text.contains("XMP"));
        assert!(text.contains("NETSCAPE2.0"));
        assert!(strip_gif(&gif[..gif.len() - 5]).is_err());
        assert!(strip_gif(b"GIF89a").is_err());
    }

    #[test]
    fn focus_is_two_numbers_in_range() {
        assert_eq!(Focus::parse("0.5,-0.25"), Ok(Focus { x: 0.5, y: -0.25 }));
        assert!(Focus::parse("2,0").is_err());
        assert!(Focus::parse("nan").is_err());
        assert!(Focus::parse("NaN,0").is_err());
    }
}
