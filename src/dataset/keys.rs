//! The key map as data: every canonical key of the templates with its Chinese label,
//! English gloss, template order, the templates it appears in and its counterpart in
//! the other template. It is `docs/keys.csv`, built into the binary and written
//! beside the dataset as `keys.parquet`, so that researchers can join facts to
//! labels, sort them in template order and compare the 2019 and 2021 templates.
//!
//! The wide table `report_tables` takes its columns from it too: the requests
//! section's totals and the whole review section.

use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};
use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, Int32Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use serde::Deserialize;

/// One key of `docs/keys.csv`.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyInfo {
    pub key: String,
    pub section: String,
    pub row: String,
    pub column: String,
    pub label_zh: String,
    pub gloss_en: String,
    /// The key's place in the printed template, 1 = first cell of section 二.
    pub template_order: i32,
    /// `2021`, `2019`, or both, `;`-separated.
    pub templates: String,
    /// The other template's key for the same figure, where one exists: a key, or
    /// `… (sum)` / `… (part)` where one template splits a row the other keeps whole.
    pub counterpart: String,
}

const KEYS_CSV: &str = include_str!("../../docs/keys.csv");

/// Every key, in template order.
pub fn all() -> &'static [KeyInfo] {
    static KEYS: OnceLock<Vec<KeyInfo>> = OnceLock::new();
    KEYS.get_or_init(|| {
        csv::Reader::from_reader(KEYS_CSV.as_bytes()).deserialize().collect::<Result<Vec<KeyInfo>, _>>().expect("docs/keys.csv is checked by the tests")
    })
}

/// The wide table's figure columns, in template order: (key, column name). The
/// requests rows' totals are `requests_<row>`; the review cells are
/// `review_<row>_<column>` (dots become underscores).
pub fn wide_columns() -> &'static [(String, String)] {
    static COLUMNS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    COLUMNS.get_or_init(|| {
        all()
            .iter()
            .filter_map(|k| {
                let name = match k.section.as_str() {
                    "requests" if k.column == "total" => format!("requests_{}", k.row),
                    "review" => format!("review_{}_{}", k.row, k.column),
                    _ => return None,
                };
                Some((k.key.clone(), name.replace('.', "_")))
            })
            .collect()
    })
}

/// `keys.parquet`: the key map as one table.
pub fn keys_batch() -> Result<RecordBatch> {
    let keys = all();
    let text = |get: fn(&KeyInfo) -> &str| -> ArrayRef { Arc::new(StringArray::from_iter_values(keys.iter().map(get))) };
    let mut templates = ListBuilder::new(StringBuilder::new());
    for k in keys {
        for t in k.templates.split(';') {
            templates.values().append_value(t);
        }
        templates.append(true);
    }
    let counterpart: StringArray = keys.iter().map(|k| Some(k.counterpart.as_str()).filter(|c| !c.is_empty())).collect();
    let schema = Schema::new(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("section", DataType::Utf8, false),
        Field::new("row", DataType::Utf8, false),
        Field::new("column", DataType::Utf8, false),
        Field::new("label_zh", DataType::Utf8, false),
        Field::new("gloss_en", DataType::Utf8, false),
        Field::new("template_order", DataType::Int32, false),
        Field::new("templates", DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))), false),
        Field::new("counterpart", DataType::Utf8, true),
    ]);
    let columns: Vec<ArrayRef> = vec![
        text(|k| &k.key),
        text(|k| &k.section),
        text(|k| &k.row),
        text(|k| &k.column),
        text(|k| &k.label_zh),
        text(|k| &k.gloss_en),
        Arc::new(keys.iter().map(|k| Some(k.template_order)).collect::<Int32Array>()),
        Arc::new(templates.finish()),
        Arc::new(counterpart),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).context("cannot build the keys table")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_map_reads_whole_and_in_order() {
        let keys = all();
        assert_eq!(keys.len(), 226);
        assert!(keys.iter().enumerate().all(|(i, k)| k.template_order == i as i32 + 1));
        assert!(keys.iter().all(|k| k.key == format!("{}/{}/{}", k.section, k.row, k.column)));
        let in_2021 = keys.iter().filter(|k| k.templates.split(';').any(|t| t == "2021")).count();
        let in_2019 = keys.iter().filter(|k| k.templates.split(';').any(|t| t == "2019")).count();
        assert_eq!((in_2021, in_2019), (200, 198), "the cells of a complete report of each template");
        let wide = wide_columns();
        assert_eq!(wide.first().map(|(k, n)| (k.as_str(), n.as_str())), Some(("requests/new_received/total", "requests_new_received")));
        assert!(wide.iter().any(|(_, n)| n == "requests_result_denied_state_secret"));
        assert!(wide.iter().any(|(_, n)| n == "review_litigation_direct_total"));
        assert_eq!(keys_batch().unwrap().num_rows(), 226);
    }
}
