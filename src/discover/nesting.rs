//! Deep nesting flattened before a navigation page is parsed. The HTML tree builder
//! searches the stack of open elements at many start tags, so a page nesting n
//! elements costs n² (200,000 `<div>`s: minutes of CPU on one page). Portals nest a
//! few dozen deep; the tags that would nest past [`MAX_NESTING`] are blanked out
//! before parsing, so their content joins the deepest element kept, in one linear pass.
//!
//! The pass reads tags as a tokenizer would in the cases that matter (comments,
//! quoted attributes, script and style text), but need not be exact: it only ever
//! removes tags past a depth no real page reaches.

use std::borrow::Cow;

use super::raw_tags::{end_tag_at, tag_end};

/// Elements open within one another, at the most, in a navigation page.
pub(super) const MAX_NESTING: usize = 512;

/// Elements with no end tag, and those whose end tag may be left out (`<li>`, `<p>`,
/// `<td>` …): they do not count as nesting, or a list of 10,000 unclosed items would.
/// Nor do links: the tree builder closes an open `<a>` at the next, and a link is what
/// a navigation page is read for, at any depth.
const NOT_NESTING: &[&[u8]] = &[
    b"a",
    b"area",
    b"base",
    b"br",
    b"col",
    b"embed",
    b"hr",
    b"img",
    b"input",
    b"link",
    b"meta",
    b"param",
    b"source",
    b"track",
    b"wbr",
    b"li",
    b"p",
    b"dt",
    b"dd",
    b"tr",
    b"td",
    b"th",
    b"option",
    b"optgroup",
    b"tbody",
    b"thead",
    b"tfoot",
    b"colgroup",
    b"rt",
    b"rp",
];

/// Elements whose content is text up to their end tag.
const RAW_TEXT: &[&[u8]] = &[b"script", b"style", b"textarea", b"title", b"xmp"];

/// `html` with the start and end tags that nest past [`MAX_NESTING`] blanked out, and
/// how many tags were; borrowed when none was.
pub(super) fn flatten_deep(html: &str) -> (Cow<'_, str>, usize) {
    let bytes = html.as_bytes();
    let (mut depth, mut at, mut blank) = (0usize, 0usize, Vec::new());
    while let Some(found) = memchr::memchr(b'<', &bytes[at..]) {
        let open = at + found;
        let rest = &bytes[open + 1..];
        if rest.starts_with(b"!--") {
            at = memchr::memmem::find(&bytes[open + 4..], b"-->").map_or(bytes.len(), |e| open + 4 + e + 3);
            continue;
        }
        let is_end = rest.first() == Some(&b'/');
        let name_at = open + 1 + usize::from(is_end);
        let name_len = bytes[name_at..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        if name_len == 0 {
            at = open + 1;
            continue;
        }
        let name = bytes[name_at..name_at + name_len].to_ascii_lowercase();
        let close = tag_end(bytes, name_at + name_len);
        if !is_end && RAW_TEXT.contains(&name.as_slice()) {
            at = end_tag_at(bytes, close, &name);
            continue;
        }
        let self_closing = !is_end && bytes[..close].ends_with(b"/>");
        if !NOT_NESTING.contains(&name.as_slice()) && !self_closing {
            if !is_end {
                depth += 1;
            }
            if depth > MAX_NESTING {
                blank.push(open..close);
            }
            if is_end {
                depth = depth.saturating_sub(1);
            }
        }
        at = close;
    }
    if blank.is_empty() {
        return (Cow::Borrowed(html), 0);
    }
    let mut out = bytes.to_vec();
    for range in &blank {
        // Tags start at `<` and end after `>`, both ASCII: spaces keep the text UTF-8.
        out[range.clone()].fill(b' ');
    }
    (Cow::Owned(String::from_utf8(out).expect("only whole tags were blanked")), blank.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_ordinary_depth_is_left_as_it_is() {
        let page = "<html><body><div class=\"nav\"><ul><li><a href=\"/nb/\">年报</a><li>其他</ul></div><!-- <div><div> --></body></html>";
        assert!(matches!(flatten_deep(page), (Cow::Borrowed(_), 0)));
        // Ten thousand unclosed list items are a long list, not a deep one.
        let list = format!("<ul>{}</ul>", "<li><a href=\"/a.html\">a</a>".repeat(10_000));
        assert_eq!(flatten_deep(&list).1, 0);
    }

    #[test]
    fn tags_past_the_depth_are_blanked_and_their_content_kept() {
        let n = MAX_NESTING + 100;
        let page =
            format!("{}<a href=\"/nb/\" title='a > b'>政府信息公开年报</a>{}<script>if (a<b) {{ '<div>' }}</script>", "<div>".repeat(n), "</div>".repeat(n));
        let (flat, blanked) = flatten_deep(&page);
        assert_eq!(blanked, 200, "100 start tags and their 100 end tags");
        assert_eq!(flat[..flat.find("<script>").unwrap()].matches("<div>").count(), MAX_NESTING);
        assert!(flat.contains("<a href=\"/nb/\" title='a > b'>政府信息公开年报</a>"));
        assert!(flat.ends_with("<script>if (a<b) { '<div>' }</script>"), "script text is no markup");
    }
}
