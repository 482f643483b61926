//! TRS WCM pagers: a list's script calls `createPageHTML(total, current, "index",
//! "html")`, which writes the pager at view time and names pages `index.html,
//! index_1.html … index_{total-1}.html` that no anchor links to. The total is often
//! a variable (`var countPage = 3//共多少页`), read from the same script.

use url::Url;

use super::{ListPage, NextPage};
use crate::discover::links::selector;

/// The pages every pager call in the list's scripts names.
pub fn next_pages(list: &ListPage<'_>) -> Vec<NextPage> {
    let mut out = Vec::new();
    for script in list.doc.select(&selector("script")) {
        let code: String = script.text().collect();
        out.extend(pager_pages(&code, list.base));
    }
    out
}

/// TRS pager calls: `createPageHTML(21, 0, "index", "html")`, `createPage(34, 0, "index", "shtml")`,
/// or with the total in a variable of the same script: `createPageHTML(countPage, …)`.
fn pager_pages(code: &str, base: &Url) -> Vec<NextPage> {
    // Each pager once, however often the script calls it (a page repeating the call a
    // thousand times named the same pages a thousand times), with its largest total.
    let mut pagers: Vec<(&str, &str, u32)> = Vec::new();
    let mut totals: Vec<(&str, Option<u32>)> = Vec::new();
    for call in ["createPageHTML(", "createPage("] {
        for (at, _) in code.match_indices(call) {
            let args = &code[at + call.len()..];
            let Some(end) = args.find(')') else { break };
            let parts: Vec<&str> = args[..end].split(',').map(|p| p.trim().trim_matches(|c| c == '"' || c == '\'')).collect();
            let (Some(&arg), Some(&name), Some(&ext)) = (parts.first(), parts.get(2), parts.get(3)) else { continue };
            let total = match totals.iter().find(|(a, _)| *a == arg) {
                Some(&(_, total)) => total,
                None => {
                    let total = number_or_variable(code, arg);
                    totals.push((arg, total));
                    total
                }
            };
            let Some(total) = total else { continue };
            if let Some(pager) = pagers.iter_mut().find(|(n, e, _)| (*n, *e) == (name, ext)) {
                pager.2 = pager.2.max(total);
            } else if pagers.len() < MAX_PAGERS {
                pagers.push((name, ext, total));
            }
        }
    }
    let mut out = Vec::new();
    for (name, ext, total) in pagers {
        // Bounded: a pager claiming more pages than any list has is a trap or a typo.
        for n in 1..total.min(500) {
            if let Ok(url) = base.join(&format!("{name}_{n}.{ext}")) {
                out.push(NextPage { url, text: (n + 1).to_string(), form: None });
            }
        }
    }
    out
}

/// Distinct pagers one script may name: a list has one.
const MAX_PAGERS: usize = 4;

/// A pager argument: a number, or a variable the script assigns a number to
/// (`var countPage = 3//共多少页`, `countPage=3;`), its last assignment before the call.
fn number_or_variable(code: &str, arg: &str) -> Option<u32> {
    if let Ok(n) = arg.parse() {
        return Some(n);
    }
    if arg.is_empty() || !arg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
        return None;
    }
    code.match_indices(arg)
        .filter(|&(at, _)| !code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .filter_map(|(at, _)| {
            let value = code[at + arg.len()..].trim_start().strip_prefix('=')?.trim_start();
            let digits: &str = &value[..value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len())];
            digits.parse().ok()
        })
        .last()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{pages_of, urls};
    use super::*;

    #[test]
    fn the_pager_names_every_page_but_the_first() {
        let page = r#"<ul><li><a href="./202401/t20240125_1.html">a</a></li></ul><script>createPageHTML(3, 0, "index", "html");</script>"#;
        let base = "http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/";
        let urls = urls(&pages_of(next_pages, page, base, None));
        assert_eq!(
            urls,
            vec![
                "http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/index_1.html",
                "http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/index_2.html"
            ]
        );
    }

    #[test]
    fn the_pager_total_held_in_a_variable() {
        // The classic TRS WCM list template: the total is a variable, with a comment
        // and no semicolon after it.
        let page = r#"<div class="page"><script language="javascript">var countPage = 3//共多少页
var currentPage = 0;//当前页
createPageHTML(countPage, currentPage, "index", "html");</script></div>"#;
        let base = "http://www.zt.gov.cn/zwgk/xxgknb/index.html";
        let urls = urls(&pages_of(next_pages, page, base, None));
        assert_eq!(urls, vec!["http://www.zt.gov.cn/zwgk/xxgknb/index_1.html", "http://www.zt.gov.cn/zwgk/xxgknb/index_2.html"]);
        // A variable the script never assigns names no pages.
        assert!(pages_of(next_pages, "<script>createPageHTML(pages, 0, \"index\", \"html\");</script>", base, None).is_empty());
    }
}
