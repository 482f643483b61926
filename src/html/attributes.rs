//! A pre-pass that bounds the attributes of each tag before the tokenizer reads the
//! page: html5gum reads a tag's attributes by recursion, and a hostile tag with
//! thousands of them overflowed the stack of the thread reading it.

use std::borrow::Cow;

/// Attributes one tag may have, at the most. html5gum reads a tag's attributes by
/// recursion, one level for each: a hostile tag with thousands overflows the stack (an
/// abort, not a panic). Word's busiest cells have a dozen.
const MAX_ATTRIBUTES: usize = 128;

/// A page with at most this many `=` in all has no tag html5gum cannot read on a
/// handler thread's stack (8 MiB; 8,000 attributes overflowed 2 MiB in a release
/// build), and is not searched: report pages have up to about 2,000.
const EQUALS_WITHOUT_SEARCH: usize = 4096;

/// The page with every tag cut after its [`MAX_ATTRIBUTES`]th attribute (the rest of the
/// tag dropped), borrowed unchanged when no tag has that many. It jumps from `=` to
/// `=` with memchr, over quoted values.
pub(super) fn few_attributes(html: &str) -> Cow<'_, str> {
    let bytes = html.as_bytes();
    // A count the compiler vectorises (in u8 lanes, 255 bytes at a time): the search
    // below costs a seventh of a parse.
    let equals: usize = bytes.chunks(255).map(|c| usize::from(c.iter().map(|&b| u8::from(b == b'=')).sum::<u8>())).sum();
    if equals <= EQUALS_WITHOUT_SEARCH {
        return Cow::Borrowed(html);
    }
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while let Some(open) = memchr::memchr(b'<', &bytes[at..]).map(|i| at + i) {
        at = open + 1;
        if !bytes.get(at).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let (mut attributes, mut cut) = (0, None);
        // Each `=` outside a quoted value is an attribute's value; a `>` there ends the tag.
        while let Some(i) = memchr::memchr2(b'=', b'>', &bytes[at..]) {
            at += i + 1;
            if bytes[at - 1] == b'>' {
                break;
            }
            attributes += 1;
            if attributes > MAX_ATTRIBUTES && cut.is_none() {
                // Back to the space before this attribute's name.
                cut = Some(bytes[..at].iter().rposition(u8::is_ascii_whitespace).unwrap_or(at - 1));
            }
            while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                at += 1;
            }
            if let Some(&quote) = bytes.get(at).filter(|&&b| b == b'"' || b == b'\'') {
                at = memchr::memchr(quote, &bytes[at + 1..]).map_or(bytes.len(), |end| at + 1 + end + 1);
            }
        }
        let end = at.min(bytes.len());
        if let Some(from) = cut {
            // The tag's `>` stays, to close what is kept of it.
            cuts.push((from, if bytes.get(end - 1) == Some(&b'>') { end - 1 } else { end }));
        }
        if at >= bytes.len() {
            break;
        }
    }
    if cuts.is_empty() {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut kept = 0;
    for (from, to) in cuts {
        out.push_str(&html[kept..from]);
        kept = to;
    }
    out.push_str(&html[kept..]);
    Cow::Owned(out)
}
