//! Tables published as pictures (tests/fixtures/make_picture_fixtures.py): a report's
//! section 四 table as a screenshot and as a tilted, speckled scanned PDF page. With
//! the `ocr` feature (and the models of scripts/ocr-models.sh in models/ocr), both
//! read as the HTML fixture's own cells, each fact saying it was read by OCR; without
//! it, both say how to get the feature.

use std::path::{Path, PathBuf};

use nianbao::extract::{Extraction, ReadBy, SourceType, extract_file};
#[cfg(feature = "ocr")]
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract").join(name)
}

/// The picture fixture read as the crawl reads a file: its type from its bytes.
fn read(name: &str) -> (SourceType, Extraction) {
    #[cfg(feature = "ocr")]
    nianbao::extract::configure_ocr(Path::new(env!("CARGO_MANIFEST_DIR")).join("models/ocr"), u64::MAX);
    let bytes = std::fs::read(fixture(name)).unwrap();
    let kind = SourceType::sniff(&bytes);
    (kind, extract_file(kind, &bytes, None, None, Some(2024)).0)
}

/// The section 四 facts of the report the pictures were drawn from.
#[cfg(feature = "ocr")]
fn expected_review() -> Vec<(String, String)> {
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(fixture("guandu_2024_blanks_and_marks.expected.json")).unwrap()).unwrap();
    let facts = expected["facts"].as_object().unwrap();
    facts.iter().filter(|(k, _)| k.starts_with("review/")).map(|(k, v)| (k.clone(), v["raw"].as_str().unwrap().to_string())).collect()
}

#[cfg(feature = "ocr")]
fn assert_read_as_printed(name: &str, kind: SourceType) {
    let (sniffed, got) = read(name);
    assert_eq!(sniffed, kind);
    let mut facts: Vec<(String, String)> = got.facts.iter().map(|f| (f.key(), f.raw.clone())).collect();
    facts.sort();
    assert_eq!(facts, expected_review(), "{name}: {:?}", got.warnings);
    for fact in &got.facts {
        assert_eq!(fact.read_by, ReadBy::Ocr, "{}", fact.key());
        assert!(fact.confidence.is_some_and(|c| c > 0.5 && c <= 1.0), "{}: {:?}", fact.key(), fact.confidence);
    }
    assert!(got.checks_failed.is_empty(), "{:?}", got.checks_failed);
}

#[cfg(feature = "ocr")]
#[test]
fn a_screenshot_of_a_table_reads_as_its_printed_cells() {
    assert_read_as_printed("guandu_2024_review_table_screenshot.png", SourceType::Image);
}

#[cfg(feature = "ocr")]
#[test]
fn a_tilted_speckled_scan_reads_as_its_printed_cells() {
    assert_read_as_printed("guandu_2024_review_table_scanned.pdf", SourceType::Pdf);
}

#[cfg(not(feature = "ocr"))]
#[test]
fn without_ocr_pictures_and_scans_say_how_to_read_them() {
    for (name, kind) in [("guandu_2024_review_table_screenshot.png", SourceType::Image), ("guandu_2024_review_table_scanned.pdf", SourceType::Pdf)] {
        let (sniffed, got) = read(name);
        assert_eq!(sniffed, kind);
        assert!(got.facts.is_empty());
        assert!(got.warnings[0].contains("tables only as images: this build has no OCR (build with `--features ocr`"), "{name}: {:?}", got.warnings);
    }
}

/// A fact read from text says so, with no confidence.
#[test]
fn facts_read_from_text_say_so() {
    let html = std::fs::read_to_string(fixture("guandu_2024_blanks_and_marks.html")).unwrap();
    let got = nianbao::extract::extract_html(&html, Some(2024));
    assert!(!got.facts.is_empty() && got.facts.iter().all(|f| f.read_by == ReadBy::Text && f.confidence.is_none()));
}
