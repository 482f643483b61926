//! The `<meta>` charset prescan, tolerant of what real portals write.
//!
//! Besides `<meta charset=…>` and `<meta http-equiv="Content-Type" content="…charset=…">`
//! this accepts the typos seen in the wild (`httpequiv="ContentType"`, scrapy/w3lib#155),
//! upper case, single quotes and no quotes: any `<meta` tag whose text contains
//! `charset` followed by `=` and a label. It never parses the whole document.

use encoding_rs::Encoding;

/// Finds a charset declared in a `<meta>` tag within `head` (the first bytes of a page).
pub fn prescan_meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let mut rest = head;
    while let Some(start) = find_ascii_ci(rest, b"<meta") {
        let tag_start = &rest[start + 5..];
        let tag_end = tag_start.iter().position(|&b| b == b'>').unwrap_or(tag_start.len());
        let tag = &tag_start[..tag_end];
        if let Some(encoding) = charset_in_tag(tag) {
            return Some(encoding);
        }
        rest = &tag_start[tag_end..];
    }
    None
}

fn charset_in_tag(tag: &[u8]) -> Option<&'static Encoding> {
    let at = find_ascii_ci(tag, b"charset")?;
    let after = &tag[at + 7..];
    let after = trim_start(after);
    let after = trim_start(after.strip_prefix(b"=")?);
    let after = after.strip_prefix(b"\"").or_else(|| after.strip_prefix(b"'")).unwrap_or(after);
    let end = after
        .iter()
        .position(|&b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'\t' | b'\n' | b'\r'))
        .unwrap_or(after.len());
    let label = std::str::from_utf8(&after[..end]).ok()?;
    super::label_to_encoding(label)
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

fn find_ascii_ci(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{GBK, UTF_8};

    #[test]
    fn finds_html5_and_http_equiv_forms() {
        assert_eq!(prescan_meta_charset(b"<head><meta charset=\"utf-8\">"), Some(UTF_8));
        let legacy = br#"<META http-equiv="Content-Type" content="text/html; charset=gb2312">"#;
        assert_eq!(prescan_meta_charset(legacy), Some(GBK));
    }

    #[test]
    fn tolerates_misspelled_http_equiv() {
        let typo = br#"<meta httpequiv="ContentType" content="text/html;charset=GBK" />"#;
        assert_eq!(prescan_meta_charset(typo), Some(GBK));
    }

    #[test]
    fn skips_metas_without_charset_and_unknown_labels() {
        let page = br#"<meta name="keywords" content="x"><meta charset="x-nonsense"><meta charset='gb18030'>"#;
        assert_eq!(prescan_meta_charset(page), Some(encoding_rs::GB18030));
        assert_eq!(prescan_meta_charset(b"<p>charset=gbk</p>"), None);
    }
}
