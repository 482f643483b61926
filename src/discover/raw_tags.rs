//! Tags read straight from a page's text, where a parse would cost more than the
//! question is worth: how deep a page nests (`nesting`), and whether it sends the
//! visitor on (`forward`). They follow the tokenizer where it matters (quoted
//! attribute values, the text of scripts) and need not be exact.

/// Where the tag whose name ends at `from` ends: after its `>`, outside quoted
/// attribute values (a `>` in an unclosed quote is taken as the end after all).
pub(super) fn tag_end(bytes: &[u8], from: usize) -> usize {
    let (mut quote, mut at) = (None, from);
    while let Some(&b) = bytes.get(at) {
        match (quote, b) {
            (None, b'>') => return at + 1,
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), b) if b == q => quote = None,
            _ => {}
        }
        at += 1;
    }
    memchr::memchr(b'>', &bytes[from..]).map_or(bytes.len(), |e| from + e + 1)
}

/// Where the end tag `</name` of a raw-text element starts, from `from`, in any case.
pub(super) fn end_tag_at(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut at = from;
    while let Some(found) = memchr::memmem::find(&bytes[at..], b"</") {
        let start = at + found;
        let tail = &bytes[start + 2..];
        if tail.len() >= name.len() && tail[..name.len()].eq_ignore_ascii_case(name) {
            return start;
        }
        at = start + 2;
    }
    bytes.len()
}

/// The start tags `<name …>` of a page, as (where the tag starts, its text), in order.
/// The name is matched in any case and must end there (`<frame` is not `<frameset`).
pub(super) fn start_tags<'a>(html: &'a str, name: &'a str) -> impl Iterator<Item = (usize, &'a str)> + 'a {
    let bytes = html.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some(found) = memchr::memchr(b'<', &bytes[at..]) {
            let open = at + found;
            at = open + 1;
            let after = open + 1 + name.len();
            let named = bytes.len() > after
                && bytes[open + 1..after].eq_ignore_ascii_case(name.as_bytes())
                && matches!(bytes[after], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>');
            if named {
                at = tag_end(bytes, after);
                return Some((open, &html[open..at]));
            }
        }
        None
    })
}

/// An attribute's value in a tag's text (`name=value`, `name = "value"`, `NAME='value'`),
/// entities left as they are but `&amp;`.
pub(super) fn attr(tag: &str, name: &str) -> Option<String> {
    let bytes = tag.as_bytes();
    let mut at = 0;
    while let Some(found) = bytes[at..].windows(name.len()).position(|w| w.eq_ignore_ascii_case(name.as_bytes())) {
        let start = at + found;
        at = start + name.len();
        // A whole attribute name: after a space or a quote, followed by `=`.
        let before_ok = start > 0 && matches!(bytes[start - 1], b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b'/');
        let rest = tag[at..].trim_start();
        let Some(value) = rest.strip_prefix('=').filter(|_| before_ok) else { continue };
        let value = value.trim_start();
        let text = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
            _ => value.split(|c: char| c.is_whitespace() || c == '>').next().unwrap_or(""),
        };
        return Some(text.trim().replace("&amp;", "&"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_tags_and_their_attributes_in_any_case_and_quoting() {
        let page = r#"<FRAMESET rows="*"><Frame SRC='/zwgk/index.html' name=main><frame src=/left.html></frameset><iframe src="/x?a=1&amp;b=2"></iframe>"#;
        let frames: Vec<Option<String>> = start_tags(page, "frame").map(|(_, t)| attr(t, "src")).collect();
        assert_eq!(frames, vec![Some("/zwgk/index.html".into()), Some("/left.html".into())]);
        let (_, iframe) = start_tags(page, "iframe").next().unwrap();
        assert_eq!(attr(iframe, "src").as_deref(), Some("/x?a=1&b=2"));
        assert_eq!(attr(r#"<meta http-equiv = "Refresh" content="0; URL=a.html">"#, "HTTP-EQUIV").as_deref(), Some("Refresh"));
        assert_eq!(attr(r#"<a data-src="x" href="y">"#, "src"), None, "data-src is not src");
    }
}
