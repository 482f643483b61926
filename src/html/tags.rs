//! The tag names the tree builder knows, and the rules that depend on them: which are
//! void, which close an open `<p>`, which are parts of a table, and which are common
//! enough to keep as `&'static str` rather than allocate.

use std::sync::LazyLock;

const VOID: &[&str] = &["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];

/// Start tags that close an open `<p>` (HTML's "closes a p element" list).
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];

pub(super) const TABLE_PARTS: &[&str] = &["td", "th", "tr", "tbody", "thead", "tfoot", "table"];

/// Tag names common on report pages besides those above (Word's `o:p` among them):
/// these are kept as `&'static str`, others are allocated.
const COMMON: &[&str] =
    &["a", "b", "body", "caption", "colgroup", "em", "font", "head", "html", "i", "o:p", "script", "span", "strong", "style", "sub", "sup", "title", "u"];

/// A tag name the builder knows, and the rules that depend on it.
pub(super) struct Known {
    key: u128,
    pub name: &'static str,
    pub void: bool,
    pub closes_p: bool,
}

/// Every name above, sorted by key for a binary search: looking each tag up in the
/// lists by string comparison was a sixth of the parse.
static KNOWN: LazyLock<Vec<Known>> = LazyLock::new(|| {
    let mut known: Vec<Known> = [VOID, CLOSES_P, TABLE_PARTS, COMMON]
        .concat()
        .into_iter()
        .map(|name| Known { key: key(name.as_bytes()).expect("known names are short"), name, void: VOID.contains(&name), closes_p: CLOSES_P.contains(&name) })
        .collect();
    known.sort_by_key(|k| k.key);
    known.dedup_by_key(|k| k.key);
    known
});

/// A tag name of up to 16 bytes as one integer, so a lookup compares integers.
#[inline]
fn key(name: &[u8]) -> Option<u128> {
    let mut bytes = [0; 16];
    bytes.get_mut(..name.len())?.copy_from_slice(name);
    Some(u128::from_le_bytes(bytes))
}

/// The rules of a tag name, if the builder knows it (once per tag: inlined into the
/// builder, which lives in another module).
#[inline]
pub(super) fn known(name: &[u8]) -> Option<&'static Known> {
    let key = key(name)?;
    KNOWN.binary_search_by_key(&key, |k| k.key).ok().map(|at| &KNOWN[at])
}
