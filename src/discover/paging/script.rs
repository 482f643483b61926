//! Pagers written by script: the list's script knows how many pages there are and
//! writes the pager at view time (`document.write`, `createPageHTML`, `setPage`, a
//! jQuery plugin…), naming pages `index.html, index_1.html … index_{n-1}.html` that no
//! anchor links to. Whatever function writes them, the script holds the pager's
//! variables, and those are read here:
//!
//! - the page count: the first argument of a call shaped `f(count, current, "index",
//!   "html")` (TRS WCM's `createPageHTML`, and any other of that shape), or a number
//!   given to a name that says so (`countPage`, `pageCount`, `totalPage`,
//!   `_nPageCount`, `page_total: 5`);
//! - the name stem and the extension: that call's third and fourth arguments, strings
//!   given to names that say so (`_sPageName = "index"`, `pageExt = "shtml"`), or
//!   the pieces a page name is built from (`"index_" + i + ".html"`); for a stem alone,
//!   the extension of the list's own URL.
//!
//! A count with no stem, or a stem with no count, names nothing.

use url::Url;

use super::{ListPage, NextPage};
use crate::discover::links::selector;

/// Pages one pager may name: a pager claiming more than any list has is a trap or a typo.
const MAX_PAGES: u32 = 500;

/// Script read for a pager, at most, per script.
const MAX_SCRIPT: usize = 64 << 10;

/// Extensions list pages are served with.
const PAGE_EXTENSIONS: [&str; 8] = ["html", "htm", "shtml", "jhtml", "jsp", "asp", "aspx", "php"];

/// The pages the list's scripts name.
pub fn next_pages(list: &ListPage<'_>) -> Vec<NextPage> {
    let mut out: Vec<NextPage> = Vec::new();
    for script in list.doc.select(&selector("script")) {
        let code: String = script.text().collect();
        for page in pager(bounded(&code), list.url).map(|p| p.pages(list.base)).unwrap_or_default() {
            if !out.iter().any(|o| o.url == page.url) {
                out.push(page);
            }
        }
    }
    out
}

/// The further pages one script names, from the page at `base`: a list's, or an
/// article's continued over several pages.
pub(crate) fn pages_named_by_script(code: &str, base: &Url) -> Vec<Url> {
    pager(bounded(code), base).map(|p| p.pages(base).into_iter().map(|page| page.url).collect()).unwrap_or_default()
}

/// The first [`MAX_SCRIPT`] bytes of a script, cut at a character's edge.
fn bounded(code: &str) -> &str {
    let mut cut = code.len().min(MAX_SCRIPT);
    while !code.is_char_boundary(cut) {
        cut -= 1;
    }
    &code[..cut]
}

/// A pager: how many pages, and how they are named.
#[derive(Debug, PartialEq)]
struct Pager {
    count: u32,
    stem: String,
    extension: String,
}

impl Pager {
    fn pages(&self, base: &Url) -> Vec<NextPage> {
        (1..self.count.min(MAX_PAGES))
            .filter_map(|n| Some(NextPage { url: base.join(&format!("{}_{n}.{}", self.stem, self.extension)).ok()?, text: (n + 1).to_string(), form: None }))
            .collect()
    }
}

/// The pager a script's variables describe, if they describe one.
fn pager(code: &str, list: &Url) -> Option<Pager> {
    let script = Script::read(code);
    if let Some(pager) = script.pager_call() {
        return Some(pager);
    }
    let count = script.numbers.iter().filter(|(name, _)| names_a_count(name)).map(|&(_, n)| n).max()?;
    let named = |words: &[&str]| script.strings.iter().rev().find(|(name, _)| words.iter().any(|w| name.contains(w))).map(|(_, v)| v.clone());
    let built = script.literals.iter().find_map(|l| l.strip_suffix('_').filter(|s| is_stem(s.rsplit('/').next().unwrap_or(s))));
    let stem = named(&["name", "prefix", "stem"]).filter(|s| is_stem(s)).or_else(|| built.map(|s| s.rsplit('/').next().unwrap_or(s).to_string()))?;
    let own = list.path().rsplit('/').next().and_then(|f| f.rsplit_once('.')).map(|(_, e)| e.to_string());
    let extension = named(&["ext", "suffix"])
        .or_else(|| script.literals.iter().find(|l| l.starts_with('.') && is_extension(&l[1..])).map(|l| l[1..].to_string()))
        .or(own)
        .unwrap_or_else(|| "html".to_string());
    is_extension(&extension).then_some(Pager { count, stem, extension })
}

/// Whether a variable's name says it holds the page count: `countPage`, `pageCount`,
/// `totalPages`, `_nPageCount`, `page_total`, `maxPage`; not the current page or the
/// page size.
fn names_a_count(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace(['_', '$'], "");
    n.contains("page")
        && ["count", "total", "sum", "max", "last", "all"].iter().any(|w| n.contains(w))
        && !["size", "cur", "index"].iter().any(|w| n.contains(w))
}

fn is_stem(text: &str) -> bool {
    !text.is_empty() && text.len() <= 40 && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_extension(text: &str) -> bool {
    PAGE_EXTENSIONS.contains(&text.to_ascii_lowercase().as_str())
}

/// What a script assigns and says: numbers and strings given to names (`x = 5`,
/// `x: "a"`, each name's last), every string literal, and the calls it makes.
#[derive(Default)]
struct Script {
    numbers: Vec<(String, u32)>,
    strings: Vec<(String, String)>,
    literals: Vec<String>,
    /// Each call's arguments, as written.
    calls: Vec<Vec<String>>,
}

impl Script {
    fn read(code: &str) -> Script {
        let mut script = Script::default();
        let chars: Vec<char> = code.chars().collect();
        let mut at = 0;
        while at < chars.len() {
            let c = chars[at];
            if c == '"' || c == '\'' {
                let end = (at + 1..chars.len()).find(|&i| chars[i] == c && chars[i - 1] != '\\').unwrap_or(chars.len());
                script.literals.push(chars[at + 1..end].iter().collect());
                at = end + 1;
            } else if c.is_alphabetic() || c == '_' || c == '$' {
                let end = (at..chars.len()).find(|&i| !(chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')).unwrap_or(chars.len());
                let name: String = chars[at..end].iter().collect();
                script.assignment(&name, &chars[end..]);
                if chars[end..].iter().find(|c| !c.is_whitespace()) == Some(&'(') {
                    script.call(&chars[end..]);
                }
                at = end;
            } else {
                at += 1;
            }
        }
        script
    }

    /// `name = 5`, `name: "x"` (never `==`).
    fn assignment(&mut self, name: &str, rest: &[char]) {
        let mut i = rest.iter().take_while(|c| c.is_whitespace()).count();
        if !matches!(rest.get(i), Some('=' | ':')) || rest.get(i + 1) == Some(&'=') {
            return;
        }
        i += 1;
        i += rest[i..].iter().take_while(|c| c.is_whitespace()).count();
        match rest.get(i) {
            Some(d) if d.is_ascii_digit() => {
                let digits: String = rest[i..].iter().take_while(|c| c.is_ascii_digit()).collect();
                if let Ok(n) = digits.parse() {
                    self.numbers.push((name.to_string(), n));
                }
            }
            Some(&q @ ('"' | '\'')) => {
                let value: String = rest[i + 1..].iter().take_while(|&&c| c != q).collect();
                self.strings.push((name.to_ascii_lowercase(), value));
            }
            _ => {}
        }
    }

    /// A call's arguments, up to its closing parenthesis (no nesting).
    fn call(&mut self, rest: &[char]) {
        let open = rest.iter().position(|&c| c == '(').unwrap_or(0);
        let Some(close) = rest[open..].iter().take(400).position(|&c| c == ')') else { return };
        let args: String = rest[open + 1..open + close].iter().collect();
        self.calls.push(args.split(',').map(|a| a.trim().to_string()).collect());
    }

    /// A call shaped `f(count, current, "stem", "ext")`, its count a number or a
    /// variable of the script.
    fn pager_call(&self) -> Option<Pager> {
        let quoted = |a: &str| Some(a.strip_prefix(['"', '\''])?.strip_suffix(['"', '\''])?.to_string());
        self.calls
            .iter()
            .filter_map(|args| {
                let (stem, extension) = (quoted(args.get(2)?)?, quoted(args.get(3)?)?);
                let count = args[0].parse().ok().or_else(|| self.numbers.iter().rev().find(|(n, _)| *n == args[0]).map(|&(_, v)| v))?;
                (is_stem(&stem) && is_extension(&extension)).then_some(Pager { count, stem, extension })
            })
            .max_by_key(|p| p.count)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{pages_of, urls};
    use super::*;

    const LIST: &str = "http://www.zt.gov.cn/zwgk/xxgknb/index.html";

    fn named(script: &str) -> Vec<String> {
        urls(&pages_of(next_pages, &format!("<ul><li><a href=\"./t1.html\">a</a></li></ul><script>{script}</script>"), LIST, None))
    }

    fn pages(stem: &str, ext: &str, count: u32) -> Vec<String> {
        (1..count).map(|n| format!("http://www.zt.gov.cn/zwgk/xxgknb/{stem}_{n}.{ext}")).collect()
    }

    #[test]
    fn trs_create_page_html_with_a_number_or_a_variable() {
        assert_eq!(named("createPageHTML(3, 0, \"index\", \"html\");"), pages("index", "html", 3));
        // The classic TRS WCM template: the total in a variable, a comment and no semicolon after it.
        assert_eq!(
            named("var countPage = 3//共多少页\nvar currentPage = 0;//当前页\ncreatePageHTML(countPage, currentPage, \"index\", \"html\");"),
            pages("index", "html", 3)
        );
        assert_eq!(named("createPageHTML(pages, 0, \"index\", \"html\");"), Vec::<String>::new(), "a variable never assigned names nothing");
    }

    #[test]
    fn any_function_of_that_shape_and_pagers_written_with_document_write() {
        assert_eq!(named("setPage( 4 ,0,'list','shtml')"), pages("list", "shtml", 4));
        let written = "var _nPageCount = 5; var _nCurrIndex = 0; var _sPageName = \"index\"; var _sPageExt = \"htm\";\n\
                       for (var i = 1; i < _nPageCount; i++) { document.write('<a href=\"' + _sPageName + '_' + i + '.' + _sPageExt + '\">' + (i + 1) + '</a>'); }";
        assert_eq!(named(written), pages("index", "htm", 5));
        let built = "var pageCount = 3; var cur = 0;\nfunction go(n){ location.href = n == 0 ? 'index.html' : 'index_' + n + '.html'; }";
        assert_eq!(named(built), pages("index", "html", 3));
        let plugin = "$('#pager').pagination({ totalPage: 2, currentPage: 1, pageName: 'list' });";
        assert_eq!(named(plugin), pages("list", "html", 2), "the list's own extension");
    }

    #[test]
    fn a_count_or_a_stem_alone_names_nothing() {
        assert_eq!(named("var pageCount = 9; $('.slider').start(pageCount);"), Vec::<String>::new());
        assert_eq!(named("var pageSize = 20; var pageName = 'index';"), Vec::<String>::new(), "a page size is no count");
        assert_eq!(named("var totalPage = 99999; var pageName = 'index';").len(), MAX_PAGES as usize - 1, "bounded");
    }
}
