//! The OCR models, loaded once per process, and the run's budget of pictures.
//!
//! PaddleOCR's PP-OCRv6 detection and recognition models (ONNX, from the `rapidocr`
//! wheel on PyPI: `scripts/ocr-models.sh` fetches and checks them) run in pure Rust
//! through `pure-onnx-ocr` on `tract`. The recognizer's dictionary is read from the
//! recognition model's own metadata, so the two cannot disagree.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use prost::Message;
use pure_onnx_ocr::{DetLimitType, OcrEngine, OcrEngineBuilder};

use super::rules::rules;
use super::skew::{rotated, tilt};
use super::{Gray, MAX_PIXELS, Purpose, TextBox, cells, draws_a_table, enlargement, page};
use crate::extract::pdf_glyphs::PdfPage;

/// The model files, as the wheel names them.
const DETECTION: &str = "PP-OCRv6_det_small.onnx";
const RECOGNITION: &str = "PP-OCRv6_rec_small.onnx";

/// Where the models are and how many pictures one run may read.
struct Settings {
    models: PathBuf,
    pages: u64,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();
static ENGINE: OnceLock<Result<OcrEngine, String>> = OnceLock::new();
static PAGES_READ: AtomicU64 = AtomicU64::new(0);

/// Sets the models' folder and the run's budget of pictures; the first call wins.
pub fn configure(models: PathBuf, pages: u64) {
    let _ = SETTINGS.set(Settings { models, pages });
}

fn settings() -> &'static Settings {
    SETTINGS.get_or_init(|| Settings { models: PathBuf::from("models/ocr"), pages: u64::MAX })
}

fn engine() -> Result<&'static OcrEngine, String> {
    ENGINE.get_or_init(load).as_ref().map_err(Clone::clone)
}

fn load() -> Result<OcrEngine, String> {
    let dir = &settings().models;
    let read =
        |name: &str| std::fs::read(dir.join(name)).map_err(|e| format!("OCR model {} missing ({e}): run scripts/ocr-models.sh", dir.join(name).display()));
    let recognition = read(RECOGNITION)?;
    let proto = tract_onnx::pb::ModelProto::decode(recognition.as_slice()).map_err(|e| format!("OCR model {RECOGNITION} unreadable: {e}"))?;
    let dictionary = proto.metadata_props.iter().find(|p| p.key == "character").map(|p| p.value.clone());
    let dictionary = dictionary.ok_or_else(|| format!("OCR model {RECOGNITION} carries no dictionary: not the model scripts/ocr-models.sh fetches"))?;
    OcrEngineBuilder::new()
        // Pictures at their own size, as PaddleOCR's pipeline reads them: scaled down to
        // the crate's default 960 pixels, a scanned A4 page's table text is 7 pixels
        // high and half its cells go unseen.
        .det_limit_type(DetLimitType::Min)
        .det_limit_side_len(64)
        // rapidocr's box threshold: at PaddleOCR's 0.6 lone digits in small print go.
        .det_box_threshold(0.5)
        .det_model_bytes(read(DETECTION)?)
        .rec_model_bytes(recognition)
        .dictionary_text(dictionary)
        .build()
        .map_err(|e| format!("OCR models not loaded: {e}"))
}

/// A picture read by OCR as a page of positioned text and rules: straightened, and
/// when it is one the article shows, only if it draws a table. Err when it draws
/// none, the models are missing, or the run's budget is spent.
pub(super) fn read(picture: Gray, purpose: Purpose) -> Result<PdfPage, String> {
    let level = rotated(&picture, tilt(&picture));
    let ruling = rules(&level);
    if purpose == Purpose::Shown && !draws_a_table(&ruling) {
        return Err("a picture that draws no table (a photo, logo or chart): not read by OCR".to_string());
    }
    let engine = engine()?;
    let budget = settings().pages;
    if PAGES_READ.fetch_add(1, Ordering::Relaxed) >= budget {
        return Err(format!("the run's OCR budget of {budget} pictures is spent: `nianbao extract` reads it"));
    }
    let started = std::time::Instant::now();
    // Small print is read at a size the detector finds it at, the boxes brought back.
    let room = (MAX_PIXELS as f64 / (level.width * level.height) as f64).sqrt();
    let scale = enlargement(&ruling).min(room).max(1.0);
    let read = if scale > 1.0 { level.scaled(scale) } else { level.clone() };
    let lines = recognize(engine, &read)?.into_iter().map(|b| b.shifted(0.0, 0.0, scale)).collect();
    drop(read);
    let mut boxes = cells::within_cells(lines, &ruling, level.height as f64);
    // What the detector missed on the whole picture, read again cell by cell, at a
    // few sizes: a lone thin digit is found at one and missed at the next.
    for area in cells::unread(&level, &ruling, &boxes).into_iter().take(MAX_CELL_READS) {
        for (scale, margin) in CELL_READINGS {
            let cut = cells::cut(&level, area, margin).scaled(scale);
            let (dx, dy) = (area.left as f64 - margin as f64, area.top as f64 - margin as f64);
            let read: Vec<TextBox> = recognize(engine, &cut)?.into_iter().map(|b| b.shifted(dx, dy, scale)).collect();
            if !read.is_empty() {
                boxes.extend(read);
                break;
            }
        }
    }
    let ms = started.elapsed().as_millis() as u64;
    tracing::debug!(width = level.width, height = level.height, scale, lines = boxes.len(), ms, "picture read by OCR");
    Ok(page(&level, ruling, boxes))
}

/// Cells one picture has read on their own, at most (a template table has ~250 in
/// all; each reading costs tens of milliseconds).
const MAX_CELL_READS: usize = 300;

/// How a cell is read on its own: enlarged so many times, with so many pixels of
/// white around it (the detector wants a margin), each tried until one finds text.
const CELL_READINGS: [(f64, usize); 3] = [(2.0, 16), (3.0, 8), (1.5, 30)];

fn recognize(engine: &OcrEngine, picture: &Gray) -> Result<Vec<TextBox>, String> {
    let grey = image::GrayImage::from_raw(picture.width as u32, picture.height as u32, picture.pixels.clone()).ok_or("picture of the wrong size")?;
    let found = engine.run_from_image(&image::DynamicImage::ImageLuma8(grey)).map_err(|e| format!("OCR failed: {e}"))?;
    Ok(found
        .into_iter()
        .map(|r| {
            let points: Vec<(f64, f64)> = r.bounding_box.exterior().points().map(|p| (p.x(), p.y())).collect();
            let (xs, ys) = (points.iter().map(|p| p.0), points.iter().map(|p| p.1));
            TextBox {
                left: xs.clone().fold(f64::INFINITY, f64::min),
                right: xs.fold(f64::NEG_INFINITY, f64::max),
                top: ys.clone().fold(f64::INFINITY, f64::min),
                bottom: ys.fold(f64::NEG_INFINITY, f64::max),
                text: r.text,
                confidence: r.confidence,
            }
        })
        .collect())
}
