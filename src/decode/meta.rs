//! The `<meta>` charset prescan, tolerant of what real portals write.
//!
//! It walks the first bytes of a page as the HTML spec's prescan does: comments are
//! skipped (a `<!--<meta charset=…>-->` left in a template declares nothing), and so
//! are other tags, quoted attribute values included (a `<meta` inside a `title="…"`
//! is text). Within a `<meta` tag it is lenient where real portals need it: besides
//! `<meta charset=…>` and `<meta http-equiv="Content-Type" content="…charset=…">` it
//! accepts the typos seen in the wild (`httpequiv="ContentType"`, scrapy/w3lib#155),
//! a `content=` with no `http-equiv` at all, upper case, single quotes and no quotes:
//! any `<meta` tag whose text holds `charset`, `=` and a label. `tests/html5lib_encoding.rs`
//! lists where this leniency differs from html5lib's encoding tests. It never parses
//! the whole document.

use encoding_rs::Encoding;

/// Finds a charset declared in a `<meta>` tag within `head` (the first bytes of a page).
pub fn prescan_meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let mut at = 0;
    while at < head.len() {
        let rest = &head[at..];
        if rest.starts_with(b"<!--") {
            // The end may overlap the start: `<!-->` is a whole comment.
            at += 2 + find(&rest[2..], b"-->").map_or(rest.len(), |end| end + 3);
        } else if rest.len() > 5 && rest[..5].eq_ignore_ascii_case(b"<meta") {
            let tag = &rest[5..];
            let end = tag.iter().position(|&b| b == b'>').unwrap_or(tag.len());
            if let Some(encoding) = charset_in_tag(&tag[..end]) {
                return Some(encoding);
            }
            at += 5 + end;
        } else if rest.starts_with(b"<") && rest.get(1).is_some_and(|&b| b.is_ascii_alphabetic() || b == b'/') {
            at += tag_length(rest);
        } else if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            at += rest.iter().position(|&b| b == b'>').map_or(rest.len(), |end| end + 1);
        } else {
            at += 1;
        }
    }
    None
}

/// The length of a tag other than `<meta`, through its `>`: a `>` inside a quoted
/// attribute value does not end it.
fn tag_length(tag: &[u8]) -> usize {
    let mut quote = None;
    for (i, &b) in tag.iter().enumerate().skip(1) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'>') => return i + 1,
            // A quote opens a value only after `=` (and spaces).
            (None, b'"' | b'\'') if tag[..i].iter().rev().find(|c| !c.is_ascii_whitespace()) == Some(&b'=') => quote = Some(b),
            (None, _) => {}
        }
    }
    tag.len()
}

fn charset_in_tag(tag: &[u8]) -> Option<&'static Encoding> {
    let at = find_ascii_ci(tag, b"charset")?;
    let after = &tag[at + 7..];
    let after = trim_start(after);
    let after = trim_start(after.strip_prefix(b"=")?);
    let quoted = after.strip_prefix(b"\"").or_else(|| after.strip_prefix(b"'"));
    // Spaces inside quotes are trimmed, as the spec trims an attribute's value.
    let after = quoted.map_or(after, trim_start);
    let end = after.iter().position(|&b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'\t' | b'\n' | b'\r')).unwrap_or(after.len());
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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
    fn a_commented_out_declaration_declares_nothing() {
        let page = br#"<!DOCTYPE html><!--<meta charset="ISO-8859-1">--><meta charset="gbk">"#;
        assert_eq!(prescan_meta_charset(page), Some(GBK));
        assert_eq!(prescan_meta_charset(br#"<!--<meta charset="gbk">-->"#), None);
        // A `<meta` inside another tag's quoted attribute is text.
        assert_eq!(prescan_meta_charset(br#"<p title="x><meta charset=gbk>"><meta charset=utf-8>"#), Some(UTF_8));
    }

    #[test]
    fn skips_metas_without_charset_and_unknown_labels() {
        let page = br#"<meta name="keywords" content="x"><meta charset="x-nonsense"><meta charset='gb18030'>"#;
        assert_eq!(prescan_meta_charset(page), Some(encoding_rs::GB18030));
        assert_eq!(prescan_meta_charset(b"<p>charset=gbk</p>"), None);
    }
}
