//! html5lib-tests' encoding cases (tests/fixtures/html5lib-encoding, MIT) through the
//! `<meta>` prescan, as a peer suite for decode: each `#data` block is the start of a
//! page and `#encoding` the encoding a conforming prescan finds (windows-1252 when it
//! finds none).
//!
//! nianbao is deliberately more lenient than the spec where real portals need it; each
//! such case is listed below with its reason, and every other case must agree.

use std::path::Path;

use encoding_rs::{Encoding, WINDOWS_1252};
use nianbao::decode::prescan_meta_charset;

/// Why nianbao differs, by kind (see decode/meta.rs).
const CONTENT_WITHOUT_HTTP_EQUIV: &str =
    "a charset in content= counts without http-equiv=Content-Type, or with it misspelled: portals write httpequiv=ContentType, or leave it out";
const CHARSET_ANYWHERE_IN_META: &str = "any charset=label in a meta tag counts, even inside another attribute's value: the tag text is searched, not parsed";
const META_ENDS_AT_ITS_FIRST_GT: &str = "a meta tag ends at its first >, quotes or not: an unbalanced quote does not swallow the page";
const TAG_NAME_RUN_ON: &str = "<metacharset=…> is read as a meta tag: the typo declares what it means";
const CUT_TAG_COUNTS: &str = "a meta tag cut off by the end of the bytes still declares: the prescan reads only the first 10 kB";

/// (file, case number from 1, why nianbao differs). Every other case agrees.
const DELIBERATE: &[(&str, usize, &str)] = &[
    ("tests1.dat", 7, TAG_NAME_RUN_ON),
    ("tests1.dat", 11, CONTENT_WITHOUT_HTTP_EQUIV),
    ("tests1.dat", 12, CONTENT_WITHOUT_HTTP_EQUIV),
    ("tests1.dat", 13, CONTENT_WITHOUT_HTTP_EQUIV),
    ("tests1.dat", 15, CONTENT_WITHOUT_HTTP_EQUIV),
    ("tests1.dat", 16, CONTENT_WITHOUT_HTTP_EQUIV),
    ("tests1.dat", 17, CONTENT_WITHOUT_HTTP_EQUIV),
    ("tests1.dat", 18, CONTENT_WITHOUT_HTTP_EQUIV),
    ("tests1.dat", 19, CONTENT_WITHOUT_HTTP_EQUIV),
    ("tests1.dat", 20, CONTENT_WITHOUT_HTTP_EQUIV),
    ("tests1.dat", 21, CONTENT_WITHOUT_HTTP_EQUIV),
    ("tests1.dat", 25, META_ENDS_AT_ITS_FIRST_GT),
    ("tests1.dat", 26, META_ENDS_AT_ITS_FIRST_GT),
    ("tests1.dat", 29, CHARSET_ANYWHERE_IN_META),
    ("tests1.dat", 30, CHARSET_ANYWHERE_IN_META),
    ("tests1.dat", 31, CHARSET_ANYWHERE_IN_META),
    ("tests2.dat", 5, CUT_TAG_COUNTS),
    ("tests2.dat", 10, CHARSET_ANYWHERE_IN_META),
    ("tests2.dat", 12, CHARSET_ANYWHERE_IN_META),
];

fn cases(name: &str) -> Vec<(Vec<u8>, &'static Encoding)> {
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/html5lib-encoding").join(name)).unwrap();
    let mut out = Vec::new();
    let mut rest = &bytes[..];
    while let Some(start) = find(rest, b"#data\n") {
        let body = &rest[start + 6..];
        let end = find(body, b"#encoding\n").expect("every case names its encoding");
        let data = body[..end].strip_suffix(b"\n").unwrap_or(&body[..end]).to_vec();
        let after = &body[end + 10..];
        let line_end = after.iter().position(|&b| b == b'\n').unwrap_or(after.len());
        let label = std::str::from_utf8(&after[..line_end]).unwrap().trim();
        out.push((data, Encoding::for_label(label.as_bytes()).unwrap_or_else(|| panic!("label {label}"))));
        rest = &after[line_end..];
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn the_prescan_agrees_with_html5lib_but_for_its_documented_leniency() {
    let mut agree = 0;
    let mut differ = Vec::new();
    for file in ["tests1.dat", "tests2.dat", "test-yahoo-jp.dat"] {
        for (n, (data, want)) in cases(file).into_iter().enumerate() {
            // decode() reads a byte-order mark before any declaration.
            let got = Encoding::for_bom(&data).map(|(e, _)| e).or_else(|| prescan_meta_charset(&data)).unwrap_or(WINDOWS_1252);
            if got == want {
                agree += 1;
            } else {
                differ.push((file, n + 1, got.name(), want.name(), String::from_utf8_lossy(&data[..data.len().min(120)]).into_owned()));
            }
        }
    }
    let listed: Vec<(&str, usize)> = DELIBERATE.iter().map(|&(f, n, _)| (f, n)).collect();
    let found: Vec<(&str, usize)> = differ.iter().map(|d| (d.0, d.1)).collect();
    eprintln!("html5lib encoding: {agree} of {} agree, {} differ on purpose", agree + differ.len(), DELIBERATE.len());
    assert_eq!(found, listed, "differences: {differ:#?}");
}
