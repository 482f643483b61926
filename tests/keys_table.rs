//! The key map (`docs/keys.csv`, written beside the dataset as `keys.parquet`) says
//! what the data dictionary says, and names every key the extractor produces.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use nianbao::dataset::keys::{KeyInfo, all};

fn dictionary() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/dataset.md")).unwrap()
}

/// The rows of the first Markdown table after `heading`, as cells.
fn table_after<'a>(doc: &'a str, heading: &str) -> Vec<Vec<&'a str>> {
    let start = doc.find(heading).unwrap_or_else(|| panic!("{heading} not in docs/dataset.md"));
    doc[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.trim().trim_matches('|').split('|').map(str::trim).collect())
        .collect()
}

/// The `` `key` 中文 `` items of a prose line ("Columns (…): …", "Rows: …").
fn named_items(line: &str) -> Vec<(&str, &str)> {
    let mut items = Vec::new();
    let mut rest = line;
    while let Some((_, after)) = rest.split_once('`') {
        let Some((key, after)) = after.split_once('`') else { break };
        let word = after.trim_start().split([' ', '(', ',', '.']).next().unwrap_or("");
        // `requests/<row>/<column>` is the pattern the line ends with, not an item.
        if !key.contains('/') {
            items.push((key, word));
        }
        rest = after;
    }
    items
}

#[test]
fn the_key_map_lists_exactly_the_keys_of_the_data_dictionary_with_their_labels() {
    let doc = dictionary();
    let by_key: BTreeMap<&str, &KeyInfo> = all().iter().map(|k| (k.key.as_str(), k)).collect();
    assert_eq!(by_key.len(), all().len(), "keys are unique");

    let mut documented = BTreeSet::new();
    for heading in ["### Section `active` (二、主动公开政府信息情况), format 2021", "### Section `active`, format 2019"] {
        for cells in table_after(&doc, heading) {
            let key = cells[0].trim_matches('`');
            let info = by_key.get(key).unwrap_or_else(|| panic!("{key} is documented but not in keys.csv"));
            // A key both templates print carries the 2021 template's words.
            if documented.insert(key.to_string()) {
                assert_eq!((info.label_zh.as_str(), info.gloss_en.as_str()), (cells[1], cells[2]), "{key}");
            }
        }
    }
    let requests_columns = doc.lines().find(|l| l.starts_with("Columns (申请人情况")).unwrap();
    let columns = named_items(requests_columns);
    assert_eq!(columns.len(), 7, "{columns:?}");
    for cells in table_after(&doc, "### Section `requests`") {
        let row = cells[0].trim_matches('`');
        for (column, zh) in &columns {
            let key = format!("requests/{row}/{column}");
            let info = by_key.get(key.as_str()).unwrap_or_else(|| panic!("{key} is documented but not in keys.csv"));
            assert!(info.label_zh.ends_with(&format!(" · {zh}")), "{key}: {}", info.label_zh);
            documented.insert(key);
        }
    }
    let review = doc.lines().find(|l| l.starts_with("Rows: `review`")).unwrap();
    let (rows, columns) = review.split_once(". Columns: ").unwrap();
    for (row, _) in named_items(rows) {
        for (column, _) in named_items(columns) {
            documented.insert(format!("review/{row}/{column}"));
        }
    }
    let listed: BTreeSet<String> = by_key.keys().map(|k| k.to_string()).collect();
    assert_eq!(listed, documented, "keys.csv and docs/dataset.md list the same keys");
}

#[test]
fn every_key_the_extractor_gives_on_the_fixtures_is_in_the_key_map() {
    let known: BTreeSet<&str> = all().iter().map(|k| k.key.as_str()).collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".expected.json") {
            continue;
        }
        let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
        for key in expected["facts"].as_object().into_iter().flat_map(|f| f.keys()) {
            assert!(known.contains(key.as_str()), "{name}: {key} is not in keys.csv");
            seen += 1;
        }
    }
    assert!(seen > 1000, "{seen} fixture facts checked");
}
