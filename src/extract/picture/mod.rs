//! Tables published as pictures: a screenshot pasted into the article, or the pages
//! of a scanned PDF. Read by OCR, offline, when nianbao is built with the `ocr`
//! feature.
//!
//! A picture is straightened (`skew`), its ruling lines found (`rules`), and its
//! lines of text read by PaddleOCR's detection and recognition models (`recognizer`),
//! the confusions that change a figure put right from the picture (`confusables`).
//! The text lines and rules then make a page as a PDF's glyphs and rules do, and
//! the PDF's own table builder rebuilds the cells from the rules where the picture
//! has them and lays the text out by position where it has none: one table reader
//! for every fixed-layout form.
//!
//! Pictures are untrusted input: their size is read from the header and refused
//! beyond [`MAX_PIXELS`] before any pixel is decoded (`decode`).

// Without the `ocr` feature nothing calls the geometry but its tests: it stays in the
// default build so that those tests run there.
#![cfg_attr(not(feature = "ocr"), allow(dead_code))]

mod cells;
mod confusables;
#[cfg(feature = "ocr")]
mod decode;
#[cfg(feature = "ocr")]
mod recognizer;
mod rules;
mod skew;

#[cfg(feature = "ocr")]
pub use recognizer::configure;

use super::pdf_glyphs::{Glyph, NO_TEXT_LAYER, PdfPage, Rule};
use super::pdf_grid::ruled_cells as pdf_grid_cells;
use super::pdf_pictures::PagePicture;
#[cfg(feature = "ocr")]
use super::pdf_pictures::inflated;

/// The largest picture read, in pixels: an A4 page scanned at 600 dpi has 35 million.
pub(super) const MAX_PIXELS: u64 = 40_000_000;

/// How much darker than the paper ink is, at least.
const PAPER_MARGIN: u8 = 40;

/// The ink cut never goes below this: on a dark picture everything would be paper.
const MIN_INK: u8 = 60;

/// A picture in shades of grey, row by row, 0 black to 255 white.
#[derive(Clone)]
pub(super) struct Gray {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl Gray {
    pub fn blank(width: usize, height: usize) -> Gray {
        Gray { width, height, pixels: vec![255; width * height] }
    }

    pub fn at(&self, x: usize, y: usize) -> u8 {
        self.pixels[y * self.width + x]
    }

    pub fn set(&mut self, x: usize, y: usize, value: u8) {
        if x < self.width && y < self.height {
            self.pixels[y * self.width + x] = value;
        }
    }

    /// The shade below which a pixel is ink: well darker than the paper, the picture's
    /// commonest shade. A fixed cut would lose the thin rules a picture scaled down
    /// leaves grey (a 1-pixel line at two thirds is ~170) and take a grey scan's paper
    /// for ink.
    pub fn ink(&self) -> u8 {
        let mut counts = [0usize; 256];
        self.pixels.iter().for_each(|&p| counts[p as usize] += 1);
        let paper = (0..256).max_by_key(|&shade| counts[shade]).unwrap_or(255) as u8;
        paper.saturating_sub(PAPER_MARGIN).max(MIN_INK)
    }

    /// The picture enlarged `factor` times, bilinearly.
    pub fn scaled(&self, factor: f64) -> Gray {
        let (width, height) = ((self.width as f64 * factor) as usize, (self.height as f64 * factor) as usize);
        let mut out = Gray::blank(width, height);
        for y in 0..height {
            for x in 0..width {
                out.pixels[y * width + x] = self.sample(x as f64 / factor, y as f64 / factor);
            }
        }
        out
    }

    /// The shade at a point between pixels, bilinearly; white outside the picture.
    pub fn sample(&self, x: f64, y: f64) -> u8 {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let at = |dx: f64, dy: f64| -> f64 {
            let (px, py) = (x0 + dx, y0 + dy);
            if px < 0.0 || py < 0.0 || px >= self.width as f64 || py >= self.height as f64 { 255.0 } else { self.at(px as usize, py as usize) as f64 }
        };
        let top = at(0.0, 0.0) * (1.0 - fx) + at(1.0, 0.0) * fx;
        let bottom = at(0.0, 1.0) * (1.0 - fx) + at(1.0, 1.0) * fx;
        (top * (1.0 - fy) + bottom * fy).round() as u8
    }
}

/// A line of text OCR found in a picture: its box in pixels (y downwards), what it
/// reads, and how sure the recognizer was (the mean probability of its characters).
#[derive(Debug, Clone)]
pub(super) struct TextBox {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
    pub text: String,
    pub confidence: f32,
}

impl TextBox {
    /// The box found in a picture `scale` times larger than, and at `dx`, `dy` in,
    /// the one it belongs to: in that one's pixels.
    fn shifted(self, dx: f64, dy: f64, scale: f64) -> TextBox {
        let (left, right) = (dx + self.left / scale, dx + self.right / scale);
        let (top, bottom) = (dy + self.top / scale, dy + self.bottom / scale);
        TextBox { left, top, right, bottom, ..self }
    }
}

/// A picture's page for the table builder: its rules, and each text line as one
/// glyph placed so that its centre is the box's centre (PDF space, y upwards).
fn page(picture: &Gray, rules: Vec<Rule>, boxes: Vec<TextBox>) -> PdfPage {
    let (height, ink) = (picture.height as f64, picture.ink());
    let glyphs = boxes
        .into_iter()
        .filter(|b| !b.text.trim().is_empty())
        .map(|b| {
            let size = (b.bottom - b.top).max(1.0);
            // The builder takes a glyph's centre as (x + width / 2, y + 0.3 size).
            let y = height - (b.top + b.bottom) / 2.0 - 0.3 * size;
            let text = confusables::tidied(picture, ink, &b);
            Glyph { x: b.left, y, width: b.right - b.left, size, text, confidence: Some(b.confidence) }
        })
        .collect();
    PdfPage { glyphs, rules, pictures: Vec::new() }
}

/// Whether a picture's rules draw a table: two lines each way at least. A photo, a
/// logo or a chart has none; a screenshot of a template table has dozens.
fn draws_a_table(rules: &[Rule]) -> bool {
    let across = rules.iter().filter(|r| r.horizontal).count();
    across >= 2 && rules.len() - across >= 2
}

/// The row height, in pixels, at which the detector finds a table's text reliably:
/// its text is then about 24 pixels high. Single digits 15 pixels high (a wide table
/// shrunk onto a page scanned at 150 dpi) go unseen.
const READABLE_ROW: f64 = 48.0;

/// How much to enlarge a picture for reading: so that its table's median row (between
/// horizontal rules) is [`READABLE_ROW`] high; never smaller, at most three times.
fn enlargement(rules: &[Rule]) -> f64 {
    let mut ys: Vec<f64> = rules.iter().filter(|r| r.horizontal).map(|r| r.at).collect();
    ys.sort_by(f64::total_cmp);
    let mut rows: Vec<f64> = ys.windows(2).map(|w| w[1] - w[0]).filter(|&h| h > 8.0).collect();
    rows.sort_by(f64::total_cmp);
    match rows.get(rows.len() / 2) {
        Some(&row) if row * 1.25 < READABLE_ROW => (READABLE_ROW / row).min(3.0),
        _ => 1.0,
    }
}

/// What a picture is for: a file the article shows (read only when it draws a
/// table), or the scan of a PDF page (always read).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Purpose {
    Shown,
    Scan,
}

/// A picture file (PNG, JPEG …) read by OCR as a page of positioned text and rules.
#[cfg(feature = "ocr")]
pub(super) fn read_file(bytes: &[u8]) -> Result<PdfPage, String> {
    recognizer::read(decode::picture(bytes)?, Purpose::Shown)
}

#[cfg(not(feature = "ocr"))]
pub(super) fn read_file(_bytes: &[u8]) -> Result<PdfPage, String> {
    Err(unread())
}

/// Glyphs a page must have for its text layer to be the page: a scan may carry a
/// page number or a stamp's name as text, and a typed line or two.
const USABLE_TEXT: usize = 20;

/// A PDF's pages, each page with no usable text but a page-sized picture read by OCR
/// in its place (its few glyphs dropped), with a warning for each scanned page left
/// unread; Err when no page has text or a readable scan, with why.
pub(super) fn with_scans_read(mut pages: Vec<PdfPage>) -> Result<(Vec<PdfPage>, Vec<String>), String> {
    let mut warnings = Vec::new();
    let mut read = 0;
    let scanned = |p: &PdfPage| p.glyphs.len() < USABLE_TEXT && !p.pictures.is_empty();
    for (n, page) in pages.iter_mut().enumerate().filter(|(_, p)| scanned(p)) {
        match read_scan(&page.pictures) {
            Ok(scanned) => {
                *page = scanned;
                read += 1;
            }
            Err(why) => warnings.push(format!("scanned page {} not read: {why}", n + 1)),
        }
    }
    if pages.iter().all(|p| p.glyphs.is_empty()) {
        let why = warnings.first().and_then(|w| w.split_once(": ")).map_or(NO_TEXT_LAYER, |(_, why)| why);
        return Err(why.to_string());
    }
    if read > 0 {
        warnings.insert(0, format!("{read} scanned pages read by OCR: their cells say so (read_by, confidence)"));
    }
    Ok((pages, warnings))
}

/// A scanned page's largest picture read by OCR.
#[cfg(feature = "ocr")]
fn read_scan(pictures: &[PagePicture]) -> Result<PdfPage, String> {
    let decoded = |p: &PagePicture| match p {
        PagePicture::Jpeg(bytes) => decode::picture(bytes),
        PagePicture::Samples { width, height, channels, steps, content } => decode::samples(*width, *height, *channels, &inflated(steps, content)?),
        PagePicture::Unread(codec) => Err(format!("a picture in {codec}, a codec not read")),
    };
    let mut decoded: Vec<Gray> = pictures.iter().map(decoded).collect::<Result<_, _>>()?;
    decoded.sort_by_key(|g| std::cmp::Reverse(g.width * g.height));
    recognizer::read(decoded.swap_remove(0), Purpose::Scan)
}

#[cfg(not(feature = "ocr"))]
fn read_scan(_pictures: &[PagePicture]) -> Result<PdfPage, String> {
    Err(unread())
}

/// Whether this build reads pictures: without it, an article's pictures are not
/// fetched at all.
pub const READS_PICTURES: bool = cfg!(feature = "ocr");

/// What a report whose tables are only pictures says when it gives no facts: in a
/// build without the `ocr` feature, how to get one.
pub(super) fn unread() -> String {
    let how = "build with `--features ocr` and fetch the models with scripts/ocr-models.sh, as the README says";
    match READS_PICTURES {
        true => "tables only as images: no facts extracted".to_string(),
        false => format!("tables only as images: this build has no OCR ({how})"),
    }
}
