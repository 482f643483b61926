//! Three real PDF reports yield every table cell of their ground truth: wrapped labels,
//! vertical group labels, `1、` numbering, hybrid (六) rows and all. Read from the PDF
//! files themselves, inside the binary, and from the text `pdftotext -layout` prints
//! for them: the table reader takes either.

use std::path::Path;

use nianbao::extract::{extract_pdf_text, pdf_layout_text};

const REPORTS: [&str; 3] = ["huaian_r002", "huaian_r003", "huaian_r004"];

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract/pdf_text")
}

#[test]
fn real_pdf_files_give_their_true_cells() {
    for name in REPORTS {
        let text = pdf_layout_text(&std::fs::read(dir().join(format!("{name}.pdf"))).unwrap()).unwrap();
        assert_true_cells(name, &text);
    }
}

#[test]
fn pdftotext_layout_text_gives_the_same_cells() {
    for name in REPORTS {
        assert_true_cells(name, &std::fs::read_to_string(dir().join(format!("{name}.layout.txt"))).unwrap());
    }
}

fn assert_true_cells(name: &str, text: &str) {
    {
        let truth: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir().join(format!("{name}.truth.json"))).unwrap()).unwrap();
        let got = extract_pdf_text(text, truth["report_year"].as_i64().map(|y| y as i32));
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
