//! Three real PDF reports yield every table cell of their ground truth: wrapped labels,
//! vertical group labels, `1、` numbering, hybrid (六) rows and all. Read from the PDF
//! files themselves, inside the binary, and from the text `pdftotext -layout` prints
//! for them: the table reader takes either.

use std::path::Path;

use nianbao::extract::{Extraction, extract_pdf, extract_pdf_text, pdf_layout_text};

const REPORTS: [&str; 3] = ["huaian_r002", "huaian_r003", "huaian_r004"];

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract/pdf_text")
}

fn truth(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join(format!("{name}.truth.json"))).unwrap()).unwrap()
}

fn year(truth: &serde_json::Value) -> Option<i32> {
    truth["report_year"].as_i64().map(|y| y as i32)
}

#[test]
fn real_pdf_files_give_their_true_cells() {
    for name in REPORTS {
        let truth = truth(name);
        let got = extract_pdf(&std::fs::read(dir().join(format!("{name}.pdf"))).unwrap(), year(&truth)).unwrap();
        assert!(got.warnings[0].contains("ruled cells"), "{name}: read from its ruled tables: {:?}", got.warnings);
        assert_true_cells(name, &truth, got);
    }
}

#[test]
fn their_text_laid_out_by_position_gives_the_same_cells() {
    for name in REPORTS {
        let truth = truth(name);
        let text = pdf_layout_text(&std::fs::read(dir().join(format!("{name}.pdf"))).unwrap()).unwrap();
        assert_true_cells(name, &truth, extract_pdf_text(&text, year(&truth)));
    }
}

#[test]
fn pdftotext_layout_text_gives_the_same_cells() {
    for name in REPORTS {
        let truth = truth(name);
        let text = std::fs::read_to_string(dir().join(format!("{name}.layout.txt"))).unwrap();
        assert_true_cells(name, &truth, extract_pdf_text(&text, year(&truth)));
    }
}

fn assert_true_cells(name: &str, truth: &serde_json::Value, got: Extraction) {
    {
        let want = truth["facts"].as_object().unwrap();
        let mut wrong = Vec::new();
        for (key, raw) in want {
            let fact = got.facts.iter().find(|f| &f.key() == key);
            if fact.map(|f| f.raw.as_str()) != raw.as_str() {
                wrong.push(format!("{key}: want {raw}, got {:?}", fact.map(|f| &f.raw)));
            }
        }
        let extra: Vec<String> = got.facts.iter().map(|f| f.key()).filter(|k| !want.contains_key(k)).collect();
        assert!(wrong.is_empty() && extra.is_empty(), "{name}: {} wrong {wrong:#?}, extra {extra:?}\nwarnings {:?}", wrong.len(), got.warnings);
        assert_eq!(got.format.as_str(), truth["format"].as_str().unwrap(), "{name}");
        assert_eq!(got.facts.len(), want.len(), "{name}");
        eprintln!("{name}: {} of {} cells, checks failed {:?}", got.facts.len(), want.len(), got.checks_failed);
    }
}

mod damaged {
    use super::*;
    use proptest::prelude::*;

    fn original() -> &'static [u8] {
        static PDF: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        PDF.get_or_init(|| std::fs::read(dir().join("huaian_r004.pdf")).unwrap())
    }

    fn compact(text: &str) -> String {
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

        /// A truncated or corrupted PDF gives a reason or facts, never a panic, and
        /// never a number its own glyphs do not print.
        #[test]
        fn damaged_pdfs_give_a_reason_or_only_printed_cells(
            flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 1..24),
            cut in proptest::option::weighted(0.2, 0.0f64..1.0),
        ) {
            let mut pdf = original().to_vec();
            for (at, byte) in flips {
                let i = (at * pdf.len() as f64) as usize % pdf.len();
                pdf[i] = byte;
            }
            if let Some(cut) = cut {
                pdf.truncate((cut * pdf.len() as f64) as usize);
            }
            if let Ok(got) = extract_pdf(&pdf, Some(2024)) {
                let printed = compact(&pdf_layout_text(&pdf).unwrap());
                for fact in got.facts.iter().filter(|f| !f.raw.is_empty()) {
                    prop_assert!(printed.contains(&compact(&fact.raw)), "{} = {:?} is not printed", fact.key(), fact.raw);
                }
            }
        }
    }
}
