//! An extraction as the crawl keeps it in its state until the dataset is built, so
//! each report page and attached file is parsed once per crawl, not again at every
//! build.
//!
//! postcard (a compact binary serde format: no field names, cheap to read back),
//! then zstd (a report's facts and text shrink ~10× from JSON). Each is tagged
//! with the extractor that made it: after an upgrade, a build extracts the report
//! again from the raw archive instead of reusing what an older extractor read.

use std::cell::RefCell;
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result};
use rustc_hash::FxHashSet;
use serde::{Deserialize, Deserializer, Serialize};
use zstd::bulk::{Compressor, Decompressor};

use super::{Extraction, SourceType, extract_file};

/// The extractor a stored extraction came from: this version of nianbao, and the
/// form its extractions are kept in (raised when `Extraction` changes shape, so kept
/// ones of another form are extracted again rather than misread).
pub const EXTRACTOR: &str = concat!("nianbao ", env!("CARGO_PKG_VERSION"), ", extraction form 4");

/// What the crawl read from a report page or file, with what the dataset needs of it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Stored {
    pub extraction: Extraction,
    pub source_type: SourceType,
    /// The page's text encoding, as `decode` named it ("binary" for a file).
    pub encoding: String,
    /// When the page was fetched, in whole seconds as its WARC record dates it.
    pub fetched_at: i64,
}

thread_local! {
    // zstd's contexts are large (about a megabyte at level 1): one per thread, reused.
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

impl Stored {
    /// Reads a report file of any type (its type sniffed from its bytes), fetched at
    /// `fetched_at`, for a report of `year`.
    pub fn of_file(body: &[u8], content_type: Option<&str>, host: Option<&str>, year: Option<i32>, fetched_at: i64) -> Stored {
        let source_type = SourceType::sniff(body);
        let (extraction, encoding) = extract_file(source_type, body, content_type, host, year);
        Stored { extraction, source_type, encoding, fetched_at }
    }

    pub fn encode(&self) -> Result<Vec<u8>> {
        let raw = postcard::to_stdvec(self)?;
        COMPRESSOR.with_borrow_mut(|c| {
            let compressor = match c {
                Some(c) => c,
                None => c.insert(Compressor::new(1)?),
            };
            Ok(compressor.compress(&raw)?)
        })
    }

    pub fn decode(bytes: &[u8]) -> Result<Stored> {
        let raw = DECOMPRESSOR.with_borrow_mut(|d| -> Result<Vec<u8>> {
            let decompressor = match d {
                Some(d) => d,
                None => d.insert(Decompressor::new()?),
            };
            // The encoding is never larger than the page it came from (a few MB at most).
            decompressor.decompress(bytes, 64 << 20).context("stored extraction is not zstd")
        })?;
        postcard::from_bytes(&raw).context("stored extraction is malformed")
    }
}

/// Reads a key part back as the `&'static str` facts carry. Keys are the templates'
/// few hundred names, so each distinct one is allocated once for the process.
pub(super) fn key<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    static KEYS: OnceLock<Mutex<FxHashSet<&'static str>>> = OnceLock::new();
    // Borrowed from postcard's input: no allocation for the keys already seen.
    let part = <&str>::deserialize(d)?;
    let mut keys = KEYS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    Ok(match keys.get(part) {
        Some(&k) => k,
        None => {
            let k: &'static str = Box::leak(part.into());
            keys.insert(k);
            k
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_html;

    #[test]
    fn a_stored_extraction_reads_back_equal_and_smaller() {
        let html = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/extract/guandu_2024_hanweb_one_table.html")).unwrap();
        let extraction = extract_html(&html, Some(2024));
        assert!(extraction.facts.len() > 100);
        let json = serde_json::to_vec(&extraction).unwrap().len();
        let stored = Stored { extraction: extraction.clone(), source_type: SourceType::Html, encoding: "UTF-8".into(), fetched_at: 1_737_000_000 };
        let bytes = stored.encode().unwrap();
        let back = Stored::decode(&bytes).unwrap();
        assert_eq!((back.encoding.as_str(), back.fetched_at), ("UTF-8", 1_737_000_000));
        let back = back.extraction;
        assert_eq!(back.facts, extraction.facts);
        assert_eq!(
            (back.format, back.text, back.checks_failed, back.warnings),
            (extraction.format, extraction.text, extraction.checks_failed, extraction.warnings)
        );
        assert!(bytes.len() * 5 < json, "{} compressed bytes of {json}", bytes.len());
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        assert!(Stored::decode(b"not zstd").is_err());
        assert!(Stored::decode(&zstd::bulk::compress(b"\x05\x00\xff", 1).unwrap()).is_err());
    }
}
