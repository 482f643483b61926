//! Every report under tests/fixtures/extract/ (HTML pages, and the same reports as
//! Word, Word 97-2003, Excel, Excel 97-2003 and OFD files, see make_office_fixtures.py)
//! yields exactly the facts of its `<name>.expected.json` (made from the seed reports
//! by template position, see make_fixtures.py): same keys, same printed text, same
//! numbers, nothing more.

use std::collections::BTreeMap;
use std::path::Path;

use nianbao::extract::{Extraction, SourceType, extract_file, extract_html};
use serde_json::Value;

/// Each fixture's name, what was read from it, and the facts it should give.
fn fixtures() -> Vec<(String, Extraction, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
        let got = match ext.as_str() {
            "html" => extract_html(&std::fs::read_to_string(&path).unwrap(), None),
            "docx" | "xlsx" | "doc" | "xls" | "ofd" => {
                let bytes = std::fs::read(&path).unwrap();
                let kind = SourceType::sniff(&bytes);
                assert_eq!(kind.as_str(), ext, "{}: the type from its bytes", path.display());
                let mut got = extract_file(kind, &bytes, None, None, None).0;
                // An OFD's tables are rebuilt from its rules, and say so.
                got.warnings.retain(|w| !(ext == "ofd" && w.starts_with("tables rebuilt from the OFD file's ruled cells")));
                got
            }
            _ => continue,
        };
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let expected = std::fs::read_to_string(dir.join(format!("{stem}.expected.json"))).unwrap();
        out.push((format!("{stem}.{ext}"), got, serde_json::from_str(&expected).unwrap()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 25, "fixtures missing");
    out
}

#[test]
fn every_fixture_matches_its_expected_facts_exactly() {
    for (name, got, expected) in fixtures() {
        let got_facts: BTreeMap<String, (String, Option<f64>)> = got.facts.iter().map(|f| (f.key(), (f.raw.clone(), f.value))).collect();
        let want_facts: BTreeMap<String, (String, Option<f64>)> =
            expected["facts"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), (v["raw"].as_str().unwrap().to_string(), v["value"].as_f64()))).collect();
        for (key, want) in &want_facts {
            assert_eq!(got_facts.get(key), Some(want), "{name}: {key}");
        }
        let extra: Vec<_> = got_facts.keys().filter(|k| !want_facts.contains_key(*k)).collect();
        assert!(extra.is_empty(), "{name}: facts not in the page: {extra:?}");
        assert_eq!(got.facts.len(), got_facts.len(), "{name}: a key was produced twice");
        assert_eq!(got.format.as_str(), expected["format"].as_str().unwrap(), "{name}: format");

        let mut failed: Vec<String> = got.checks_failed.iter().map(|c| format!("{}/{}", c.check, c.scope)).collect();
        failed.sort();
        let want_failed: Vec<String> = expected["checks_failed"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        assert_eq!(failed, want_failed, "{name}: checks");
        for w in expected["warnings_contain"].as_array().unwrap() {
            let w = w.as_str().unwrap();
            assert!(got.warnings.iter().any(|g| g.contains(w)), "{name}: no warning {w:?} in {:?}", got.warnings);
        }
        if !want_facts.is_empty() {
            assert!(got.warnings.is_empty(), "{name}: unexpected warnings {:?}", got.warnings);
        }
    }
}

#[test]
fn wrong_totals_are_recorded_with_their_numbers() {
    let html = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract/guandu_2024_wrong_totals.html")).unwrap();
    let got = extract_html(&html, Some(2024));
    let balance = got.checks_failed.iter().map(ToString::to_string).find(|c| c.starts_with("requests.balance/total")).unwrap();
    assert_eq!(balance, "requests.balance/total: new_received+carried_over=363 ≠ result.total+carried_forward=367");
    // The wrong total is kept as printed, not repaired.
    let total = got.facts.iter().find(|f| f.key() == "requests/result.total/total").unwrap();
    assert_eq!(total.value, Some(350.0));
}

#[test]
fn every_printed_template_cell_has_a_fact_blank_ones_with_no_value() {
    let html = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract/guandu_2024_blanks_and_marks.html")).unwrap();
    let got = extract_html(&html, Some(2024));
    // A complete 2021-template report has exactly its 200 cells, so a missing row
    // tells "never extracted" apart from "printed blank".
    assert_eq!(got.facts.len(), 200);
    let blank: Vec<String> = got.facts.iter().filter(|f| f.raw.is_empty()).map(|f| f.key()).collect();
    assert_eq!(blank.len(), 8, "{blank:?}");
    assert!(blank.contains(&"requests/result.denied.internal_affairs/total".to_string()));
    assert!(got.facts.iter().filter(|f| f.raw.is_empty()).all(|f| f.value.is_none() && f.unit.is_none()));
    // Printed "nothing" marks keep their text, with no value either.
    let slash = got.facts.iter().find(|f| f.raw == "/").expect("a / cell");
    assert_eq!(slash.value, None);
}
