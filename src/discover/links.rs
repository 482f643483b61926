//! Links out of a page, wherever the CMS hid them.
//!
//! Ordinary `<a href>`; links opened by script (`onclick="window.open('…')"`,
//! `href="javascript:location.href='…'"`), which lists use to open articles in a new
//! window; Hanweb JCMS list records, which sit as CDATA inside
//! `<script type="text/xml"><datastore>` where an HTML parser sees only script text;
//! and TRS WCM's `createPageHTML(total, current, "index", "html")` pagers, which name
//! pages `index.html, index_1.html … index_{total-1}.html` that no anchor links to.
//! The pager's total is often a variable (`var countPage = 3//共多少页`), read from
//! the same script.
//!
//! A list prints each item's date beside its link (`<li><a>…</a><span>2024-01-25</span>`);
//! it comes with the link, since some article pages print no date at all.

use chrono::NaiveDate;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::metadata::date_in;
use crate::decode::normalize::fold;

/// A link with the text a reader sees for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: Url,
    pub text: String,
    /// The date printed beside the link in its list item, if any.
    pub date: Option<NaiveDate>,
}

/// Every link of a page: anchors, Hanweb datastore records, TRS pager pages.
pub fn links(html: &str, base: &Url) -> Vec<Link> {
    let doc = Html::parse_document(html);
    let base = base_href(&doc, base);
    let mut out = anchors(&doc, &base);
    // A Hanweb dataproxy.jsp reply is an XML datastore, not HTML: its records are CDATA.
    let head = html.trim_start();
    if head.starts_with("<?xml") || head.starts_with("<datastore") {
        for record in cdata_sections(html) {
            out.extend(anchors(&Html::parse_fragment(record), &base));
        }
    }
    for script in doc.select(&selector("script")) {
        let code: String = script.text().collect();
        if code.contains("<datastore") || code.contains("<recordset") {
            for record in cdata_sections(&code) {
                out.extend(anchors(&Html::parse_fragment(record), &base));
            }
        }
        out.extend(trs_pages(&code, &base));
    }
    out
}

/// Which links of a list page lead to its further pages ("下一页", "末页", page numbers).
pub fn is_pager_text(text: &str) -> bool {
    let t = fold(text);
    ["下一页", "下页", "尾页", "末页", ">", ">>", "»", "后页"].contains(&t.as_str())
        || (!t.is_empty() && t.len() <= 3 && t.bytes().all(|b| b.is_ascii_digit()))
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("static selector")
}

fn base_href(doc: &Html, page: &Url) -> Url {
    doc.select(&selector("base[href]"))
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page.join(h).ok())
        .unwrap_or_else(|| page.clone())
}

/// Anchors, and other elements that open a page by script (`onclick`).
fn anchors(doc: &Html, base: &Url) -> Vec<Link> {
    doc.select(&selector("a[href], [onclick]"))
        .filter_map(|a| {
            let href = a.value().attr("href").map(str::trim).unwrap_or("");
            let target = if href.to_ascii_lowercase().starts_with("javascript:") || href.is_empty() || href.starts_with('#') {
                // What a script opens: in the href itself, else in onclick.
                script_target(href).or_else(|| a.value().attr("onclick").and_then(script_target))?
            } else {
                href
            };
            let url = base.join(target).ok()?;
            let text = fold(&a.text().collect::<String>());
            let text = if text.is_empty() { fold(a.value().attr("title").unwrap_or("")) } else { text };
            Some(Link { url, text, date: date_beside(a) })
        })
        .collect()
}

/// The page a snippet of script opens: the first quoted string in it that reads as a
/// URL, as in `window.open('/art/2023/1/31/art_1_2.html','_blank')` or
/// `location.href="./202402/t20240227_1.html"`. Window names (`_blank`) and feature
/// lists (`width=600,…`) are not URLs.
fn script_target(code: &str) -> Option<&str> {
    let mut rest = code;
    while let Some(open) = rest.find(['\'', '"']) {
        let quote = rest[open..].chars().next()?;
        let body = &rest[open + 1..];
        let close = body.find(quote)?;
        let literal = body[..close].trim();
        let lower = literal.to_ascii_lowercase();
        let path = lower.split(['?', '#']).next().unwrap_or("");
        let is_url = !literal.contains(char::is_whitespace)
            && (!literal.contains('=') || literal.contains('?'))
            && (literal.contains('/') || [".html", ".htm", ".shtml", ".jsp", ".pdf", ".doc", ".docx"].iter().any(|e| path.ends_with(e)))
            && !lower.starts_with("javascript:");
        if is_url {
            return Some(literal);
        }
        rest = &body[close + 1..];
    }
    None
}

/// The date printed in the link's list item, outside the link text: the `<span>` in
/// `<li><a>…</a><span>2024-01-25</span></li>`, or the date cell of a table row.
fn date_beside(a: ElementRef<'_>) -> Option<NaiveDate> {
    let item = a.ancestors().filter_map(ElementRef::wrap).find(|e| matches!(e.value().name(), "li" | "tr" | "dd" | "p"))?;
    let mut item_text = String::new();
    for piece in item.text() {
        item_text.push_str(piece);
        if item_text.len() > 600 {
            // A paragraph of prose or a whole list, not one item's line: and read no
            // further, since every link in it would read all of it again.
            return None;
        }
    }
    // The link's own text (a title may name dates) is left out.
    let link_text: String = a.text().collect();
    date_in(&fold(&item_text.replacen(&link_text, " ", 1)))
}

/// The contents of every `<![CDATA[ … ]]>` section.
fn cdata_sections(code: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(start) = rest.find("<![CDATA[") {
        let body = &rest[start + 9..];
        let Some(end) = body.find("]]>") else { break };
        out.push(&body[..end]);
        rest = &body[end + 3..];
    }
    out
}

/// TRS pager calls: `createPageHTML(21, 0, "index", "html")`, `createPage(34, 0, "index", "shtml")`,
/// or with the total in a variable of the same script: `createPageHTML(countPage, …)`.
fn trs_pages(code: &str, base: &Url) -> Vec<Link> {
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
                out.push(Link { url, text: (n + 1).to_string(), date: None });
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
    use super::*;

    #[test]
    fn hanweb_datastore_records_are_links() {
        let page = r#"<div id="div1"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=73&columnid=103585"></a>]]></nextgroup>
<recordset><record><![CDATA[<li><a href="http://www.kmgd.gov.cn/art/2025/1/20/art_1234_567.html" title="昆明市官渡区人民政府2024年政府信息公开工作年度报告">昆明市官渡区人民政府2024年…</a></li>]]></record></recordset></datastore></script></div>"#;
        let base = Url::parse("http://www.kmgd.gov.cn/col/col1234/index.html").unwrap();
        let found = links(page, &base);
        assert!(found.iter().any(|l| l.url.as_str() == "http://www.kmgd.gov.cn/art/2025/1/20/art_1234_567.html"));
    }

    #[test]
    fn trs_pager_names_every_page() {
        let page = r#"<ul><li><a href="./202401/t20240125_1.html">a</a></li></ul><script>createPageHTML(3, 0, "index", "html");</script>"#;
        let base = Url::parse("http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/").unwrap();
        let urls: Vec<String> = links(page, &base).into_iter().map(|l| l.url.to_string()).collect();
        assert_eq!(
            urls,
            vec![
                "http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/202401/t20240125_1.html",
                "http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/index_1.html",
                "http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/index_2.html"
            ]
        );
    }

    #[test]
    fn javascript_and_fragment_links_are_skipped_and_title_stands_in_for_text() {
        let page = r##"<a href="javascript:void(0)">x</a><a href="#top">top</a><a href="a.html" title="年报"><img src=x></a>"##;
        let found = links(page, &Url::parse("http://a.gov.cn/").unwrap());
        assert_eq!(found, vec![Link { url: Url::parse("http://a.gov.cn/a.html").unwrap(), text: "年报".into(), date: None }]);
        assert!(is_pager_text("下一页") && is_pager_text("12") && !is_pager_text("2023"));
    }

    #[test]
    fn trs_pager_total_held_in_a_variable() {
        // The classic TRS WCM list template: the total is a variable, with a comment
        // and no semicolon after it.
        let page = r#"<div class="page"><script language="javascript">var countPage = 3//共多少页
var currentPage = 0;//当前页
createPageHTML(countPage, currentPage, "index", "html");</script></div>"#;
        let base = Url::parse("http://www.zt.gov.cn/zwgk/xxgknb/index.html").unwrap();
        let urls: Vec<String> = links(page, &base).into_iter().map(|l| l.url.to_string()).collect();
        assert_eq!(urls, vec!["http://www.zt.gov.cn/zwgk/xxgknb/index_1.html", "http://www.zt.gov.cn/zwgk/xxgknb/index_2.html"]);
        // A variable the script never assigns names no pages.
        assert!(links("<script>createPageHTML(pages, 0, \"index\", \"html\");</script>", &base).is_empty());
    }

    #[test]
    fn links_opened_by_script_are_links() {
        let page = r#"<ul><li><a href="javascript:void(0);" onclick="window.open('/art/2023/1/31/art_49283_3818329.html')" title="云县人民政府2022年政府信息公开工作年度报告">云县人民政府2022年政府信息公开工作年度报告</a><span>2023-01-31</span></li>
<li><a href="javascript:window.open('./202402/t20240227_3932077.html','_blank','width=800,height=600')">双流区2023年年报</a></li>
<li onclick="location.href='detail.jsp?id=9'">政务公开</li>
<li><a href="javascript:void(0)" onclick="window.print()">打印</a></li></ul>"#;
        let base = Url::parse("http://www.ynyx.gov.cn/col/col49283/index.html").unwrap();
        let found: Vec<(String, Option<NaiveDate>)> = links(page, &base).into_iter().map(|l| (l.url.to_string(), l.date)).collect();
        assert_eq!(
            found,
            vec![
                ("http://www.ynyx.gov.cn/art/2023/1/31/art_49283_3818329.html".to_string(), NaiveDate::from_ymd_opt(2023, 1, 31)),
                ("http://www.ynyx.gov.cn/col/col49283/202402/t20240227_3932077.html".to_string(), None),
                ("http://www.ynyx.gov.cn/col/col49283/detail.jsp?id=9".to_string(), None),
            ]
        );
    }

    #[test]
    fn the_date_beside_a_link_in_its_list_item_not_in_its_title() {
        let page = r#"<ul class="list"><li><a href="./202501/t20250121_1.html" title="海淀区2024年年报">北京市海淀区人民政府关于2024年政府信息公开工作年度报告</a><span>2025-01-21</span></li>
<li><a href="./202401/t20240101_2.html">2024年1月1日起施行的规定</a></li></ul>
<table><tr><td><a href="a.html">年报</a></td><td>2023年02月02日</td></tr></table>"#;
        let base = Url::parse("http://www.bjhd.gov.cn/xxgk/ndbg/list.html").unwrap();
        let dates: Vec<Option<NaiveDate>> = links(page, &base).into_iter().map(|l| l.date).collect();
        assert_eq!(dates, vec![NaiveDate::from_ymd_opt(2025, 1, 21), None, NaiveDate::from_ymd_opt(2023, 2, 2)]);
    }
}
