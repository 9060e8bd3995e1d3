//! Pictures: decoded and encoded again by the `image` crate, so that nothing of the
//! uploaded file but its pixels survives (EXIF with its GPS position, XMP, comments, ICC
//! profiles). The EXIF orientation is applied to the pixels first, so the picture stays
//! upright without its tag. Dimensions are read from the header and checked before any
//! pixel is decoded, and the decoder runs under `image::Limits`, so a small file that
//! claims a huge picture (a decompression bomb) is refused at no cost.
//!
//! Everything here is CPU work on bytes in memory: callers run it on the blocking pool,
//! a bounded number at a time (`media::MediaState::permits`).

use std::io::Cursor;

use cascade_core::media::{self, Format, MediaError};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits};

/// Bytes the decoder may allocate: enough for the largest picture accepted
/// (`MAX_IMAGE_PIXELS`) at four bytes a pixel, and no more.
const MAX_ALLOC: u64 = media::MAX_IMAGE_PIXELS * 4 + 16 * 1024 * 1024;

/// JPEG quality of stored pictures and previews.
const JPEG_QUALITY: u8 = 85;

/// An encoded picture.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub width: u32,
    pub height: u32,
}

/// A processed upload: the picture to serve, its preview and its blurhash.
#[derive(Debug, Clone)]
pub struct Processed {
    pub original: Encoded,
    pub preview: Encoded,
    pub blurhash: String,
}

fn invalid(msg: impl Into<String>) -> MediaError {
    MediaError::Invalid(msg.into())
}

fn image_format(format: Format) -> Result<ImageFormat, MediaError> {
    Ok(match format {
        Format::Jpeg => ImageFormat::Jpeg,
        Format::Png => ImageFormat::Png,
        Format::Gif => ImageFormat::Gif,
        Format::Webp => ImageFormat::WebP,
        _ => return Err(invalid("Not a picture")),
    })
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(65_535);
    limits.max_image_height = Some(65_535);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

/// Decodes a picture upright: dimensions checked from the header first, then the pixels
/// under `Limits`, then the EXIF orientation applied.
pub fn decode(bytes: &[u8], format: Format) -> Result<DynamicImage, MediaError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format(format)?);
    reader.limits(limits());
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| invalid(format!("The file could not be read as a picture: {e}")))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(invalid("The picture is empty"));
    }
    if u64::from(w) * u64::from(h) > media::MAX_IMAGE_PIXELS {
        return Err(invalid(format!(
            "The picture is too large: {w}×{h} pixels (at most {} in all)",
            media::MAX_IMAGE_PIXELS
        )));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder)
        .map_err(|e| invalid(format!("The picture is damaged or incomplete: {e}")))?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// Whether any pixel is at all transparent (an alpha channel alone is not enough: most
/// PNGs carry one that is opaque everywhere).
fn transparent(img: &DynamicImage) -> bool {
    if !img.color().has_alpha() {
        return false;
    }
    match img {
        DynamicImage::ImageRgba8(rgba) => rgba.pixels().any(|p| p.0[3] < 255),
        DynamicImage::ImageLumaA8(la) => la.pixels().any(|p| p.0[1] < 255),
        other => other.to_rgba8().pixels().any(|p| p.0[3] < 255),
    }
}

/// Encodes a picture without any metadata: PNG when it has transparency, else JPEG.
pub fn encode(img: &DynamicImage) -> Result<Encoded, MediaError> {
    let (width, height) = (img.width(), img.height());
    let mut bytes = Vec::new();
    let failed = |e: image::ImageError| invalid(format!("The picture could not be encoded: {e}"));
    let format = if transparent(img) {
        let rgba = img.to_rgba8();
        PngEncoder::new(&mut bytes)
            .write_image(&rgba, width, height, image::ExtendedColorType::Rgba8)
            .map_err(failed)?;
        Format::Png
    } else {
        let rgb = img.to_rgb8();
        JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)
            .write_image(&rgb, width, height, image::ExtendedColorType::Rgb8)
            .map_err(failed)?;
        Format::Jpeg
    };
    Ok(Encoded {
        bytes,
        format,
        width,
        height,
    })
}

/// The picture scaled down to at most `max_pixels` (never up). Area averaging
/// (`thumbnail_exact`) rather than a filtered resize: it reads the picture once with integer
/// sums, where a filtered resize keeps a float copy of the whole picture, about three
/// times the memory of a 24-megapixel photo.
fn fit(img: DynamicImage, max_pixels: u64) -> DynamicImage {
    let (w, h) = media::fit(img.width(), img.height(), max_pixels);
    if (w, h) == (img.width(), img.height()) {
        img
    } else {
        img.thumbnail_exact(w, h)
    }
}

/// A smaller copy of the picture, of at most `max_pixels`.
fn smaller(img: &DynamicImage, max_pixels: u64) -> DynamicImage {
    let (w, h) = media::fit(img.width(), img.height(), max_pixels);
    img.thumbnail_exact(w, h)
}

/// The blurhash of a picture (4×3 components, computed on a small copy).
pub fn blurhash(img: &DynamicImage) -> String {
    let small = img.thumbnail(32, 32).to_rgba8();
    blurhash::encode(4, 3, small.width(), small.height(), small.as_raw()).unwrap_or_default()
}

/// A blurhash drawn as a small PNG (32×32: a page stretches it under the picture while
/// the picture loads); `None` for what is not a blurhash.
pub fn blurhash_png(hash: &str) -> Option<Vec<u8>> {
    const SIDE: u32 = 32;
    // Four bytes a component, at most 9×9 components: a longer string is no blurhash.
    if hash.len() < 6 || hash.len() > 6 + 2 * 81 {
        return None;
    }
    let pixels = blurhash::decode(hash, SIDE, SIDE, 1.0).ok()?;
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(&pixels, SIDE, SIDE, image::ExtendedColorType::Rgba8)
        .ok()?;
    Some(out)
}

/// Processes an uploaded still picture: upright, scaled down past the stored size,
/// stripped of metadata, with a preview and a blurhash.
pub fn process(bytes: &[u8], format: Format) -> Result<Processed, MediaError> {
    let stored = fit(decode(bytes, format)?, media::STORED_IMAGE_PIXELS);
    let preview_img = smaller(&stored, media::PREVIEW_PIXELS);
    Ok(Processed {
        blurhash: blurhash(&preview_img),
        preview: encode(&preview_img)?,
        original: encode(&stored)?,
    })
}

/// Processes an animated GIF: the file is kept (its metadata blocks stripped by
/// `media::strip_gif`), its first frame gives the preview and the blurhash.
pub fn process_animation(bytes: &[u8]) -> Result<Processed, MediaError> {
    let first = decode(bytes, Format::Gif)?;
    let preview_img = smaller(&first, media::PREVIEW_PIXELS);
    let kept = media::strip_gif(bytes)?;
    Ok(Processed {
        blurhash: blurhash(&preview_img),
        preview: encode(&preview_img)?,
        original: Encoded {
            bytes: kept.bytes,
            format: Format::Gif,
            width: first.width(),
            height: first.height(),
        },
    })
}

/// Whether a GIF has more than one frame.
pub fn is_animated(bytes: &[u8]) -> Result<bool, MediaError> {
    Ok(media::strip_gif(bytes)?.frames > 1)
}

/// An avatar (a square of `AVATAR_SIDE`) or a header (cropped to 3:1, at most
/// `HEADER_SIZE`), from an uploaded picture; an animation keeps its first frame.
pub fn profile(bytes: &[u8], format: Format, avatar: bool) -> Result<Encoded, MediaError> {
    let img = decode(bytes, format)?;
    let (target_w, target_h) = if avatar {
        (media::AVATAR_SIDE, media::AVATAR_SIDE)
    } else {
        media::HEADER_SIZE
    };
    let aspect = f64::from(target_w) / f64::from(target_h);
    let (x, y, w, h) = media::crop_to_aspect(img.width(), img.height(), aspect);
    let cropped = img.crop_imm(x, y, w, h);
    drop(img);
    let out = if w > target_w {
        cropped.thumbnail_exact(target_w, target_h)
    } else {
        cropped
    };
    encode(&out)
}

/// The longest side a custom emoji is stored at; emojis show at text size.
pub const EMOJI_SIDE: u32 = 256;

/// A custom emoji from an uploaded picture: a still one scaled down past `EMOJI_SIDE` and
/// stripped of metadata, and its still image (the same picture, or an animated GIF's
/// first frame; `None` when it is the same).
pub fn emoji(bytes: &[u8], format: Format) -> Result<(Encoded, Option<Encoded>), MediaError> {
    let first = decode(bytes, format)?;
    let still = if first.width() > EMOJI_SIDE || first.height() > EMOJI_SIDE {
        first.thumbnail(EMOJI_SIDE, EMOJI_SIDE)
    } else {
        first
    };
    let still = encode(&still)?;
    if format == Format::Gif && is_animated(bytes)? {
        let kept = media::strip_gif(bytes)?;
        let animated = Encoded {
            bytes: kept.bytes,
            format: Format::Gif,
            width: still.width,
            height: still.height,
        };
        return Ok((animated, Some(still)));
    }
    Ok((still, None))
}

/// A default avatar drawn from a seed (an account id): a symmetric 5×5 pattern in a colour
/// of its own, as a 200×200 PNG, the same for the same seed.
pub fn identicon(seed: i64) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(seed.to_be_bytes());
    let hue = f64::from(u16::from_be_bytes([digest[0], digest[1]])) / 65_536.0 * 360.0;
    let (r, g, b) = hsl(hue, 0.55, 0.5);
    let background = [240u8, 240, 240, 255];
    let colour = [r, g, b, 255];
    // 15 bits choose the left three columns; the right two mirror them.
    let bits = u32::from_be_bytes([digest[2], digest[3], digest[4], digest[5]]);
    let on = |col: u32, row: u32| {
        let c = col.min(4 - col);
        bits >> (c * 5 + row) & 1 == 1
    };
    const SIDE: u32 = 200;
    const CELL: u32 = 32;
    const MARGIN: u32 = (SIDE - CELL * 5) / 2;
    let img = image::RgbaImage::from_fn(SIDE, SIDE, |x, y| {
        let inside = (MARGIN..SIDE - MARGIN).contains(&x) && (MARGIN..SIDE - MARGIN).contains(&y);
        if inside && on((x - MARGIN) / CELL, (y - MARGIN) / CELL) {
            image::Rgba(colour)
        } else {
            image::Rgba(background)
        }
    });
    let mut bytes = Vec::new();
    // Encoding a small RGBA buffer in memory cannot fail.
    let _ = PngEncoder::new(&mut bytes).write_image(
        img.as_raw(),
        SIDE,
        SIDE,
        image::ExtendedColorType::Rgba8,
    );
    bytes
}

/// HSL (hue in degrees) to RGB.
fn hsl(h: f64, s: f64, l: f64) -> (u8, u8, u8) {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match h as u32 / 60 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    (to(r), to(g), to(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identicons_differ_by_seed_and_repeat_for_one() {
        assert_eq!(identicon(1), identicon(1));
        assert_ne!(identicon(1), identicon(2));
        let img = image::load_from_memory(&identicon(7)).expect("a PNG");
        assert_eq!((img.width(), img.height()), (200, 200));
    }

    #[test]
    fn a_picture_claiming_huge_dimensions_is_refused_from_its_header() {
        // A PNG header claiming 100,000 × 100,000 pixels, and nothing else.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&[0, 0, 0, 0]);
        assert!(decode(&png, Format::Png).is_err());
    }
}
