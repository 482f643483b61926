//! The run's budget of pictures read by OCR (`[ocr] pictures_per_run`): past it, a
//! picture gives no facts and says that `nianbao extract` reads it. Its own test
//! binary, since the budget is set once per process.
#![cfg(feature = "ocr")]

use std::path::Path;

use nianbao::extract::{SourceType, extract_file};

#[test]
fn past_the_budget_a_picture_waits_for_nianbao_extract() {
    nianbao::extract::configure_ocr(Path::new(env!("CARGO_MANIFEST_DIR")).join("models/ocr"), 1);
    let png = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract/guandu_2024_review_table_screenshot.png")).unwrap();
    let (first, _) = extract_file(SourceType::Image, &png, None, None, Some(2024));
    assert_eq!(first.facts.len(), 15, "{:?}", first.warnings);
    let (second, _) = extract_file(SourceType::Image, &png, None, None, Some(2024));
    assert!(second.facts.is_empty());
    assert!(second.warnings[0].contains("OCR budget of 1 pictures is spent: `nianbao extract` reads it"), "{:?}", second.warnings);
}
