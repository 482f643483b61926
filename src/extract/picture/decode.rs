//! Picture bytes (PNG, JPEG, GIF, BMP, WebP; a PDF page's image) → [`Gray`], with
//! the size read from the header and refused before any pixel is decoded.

use std::io::Cursor;

use image::{ImageReader, Limits};

use super::{Gray, MAX_PIXELS};

/// A picture file decoded to grey, or why not.
pub(in crate::extract) fn picture(bytes: &[u8]) -> Result<Gray, String> {
    let reader = || ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| format!("unreadable picture: {e}"));
    let (width, height) = reader()?.into_dimensions().map_err(|e| format!("unreadable picture: {e}"))?;
    within_bounds(width as u64, height as u64)?;
    let mut limits = Limits::default();
    // Room for the decoded picture in its widest colour type, and nothing more.
    limits.max_alloc = Some(width as u64 * height as u64 * 8 + (1 << 20));
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    let mut reader = reader()?;
    reader.limits(limits);
    let grey = reader.decode().map_err(|e| format!("unreadable picture: {e}"))?.into_luma8();
    let (width, height) = (grey.width() as usize, grey.height() as usize);
    Ok(Gray { width, height, pixels: grey.into_raw() })
}

/// Raw samples of a PDF image (8 bits, grey or RGB, after its filters), as grey.
pub(in crate::extract) fn samples(width: u64, height: u64, channels: usize, data: &[u8]) -> Result<Gray, String> {
    within_bounds(width, height)?;
    let (width, height) = (width as usize, height as usize);
    if channels == 0 || data.len() < width * height * channels {
        return Err("PDF image shorter than its size says: not read".to_string());
    }
    let pixels = data
        .chunks_exact(channels)
        .take(width * height)
        .map(|px| match px {
            [r, g, b, ..] => ((*r as u32 * 299 + *g as u32 * 587 + *b as u32 * 114) / 1000) as u8,
            [grey, ..] => *grey,
            [] => 255,
        })
        .collect();
    Ok(Gray { width, height, pixels })
}

fn within_bounds(width: u64, height: u64) -> Result<(), String> {
    if width == 0 || height == 0 {
        return Err("empty picture: not read".to_string());
    }
    if width * height > MAX_PIXELS {
        return Err(format!("picture of {width} × {height} pixels, over the {MAX_PIXELS} read: not read"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_bigger_than_the_bound_is_refused_from_its_header() {
        // A PNG header claiming 50,000 × 50,000 pixels, with no pixels behind it.
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        png.extend(50_000u32.to_be_bytes());
        png.extend(50_000u32.to_be_bytes());
        png.extend([8, 0, 0, 0, 0]);
        png.extend(crc(&png[12..]).to_be_bytes());
        let why = picture(&png).err().unwrap();
        assert!(why.contains("50000 × 50000"), "{why}");
    }

    /// The CRC-32 PNG chunks carry.
    fn crc(bytes: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in bytes {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }

    #[test]
    fn rgb_samples_become_grey() {
        let g = samples(2, 1, 3, &[255, 255, 255, 0, 0, 0]).unwrap();
        assert_eq!(g.pixels, [255, 0]);
        assert!(samples(2, 2, 3, &[0; 6]).is_err());
    }
}
