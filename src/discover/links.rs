//! Links out of a page, wherever the CMS hid them.
//!
//! Ordinary `<a href>`; links opened by script (`onclick="window.open('…')"`,
//! `href="javascript:location.href='…'"`), which lists use to open articles in a new
//! window; and Hanweb JCMS list records, which sit as CDATA inside
//! `<script type="text/xml"><datastore>` where an HTML parser sees only script text.
//! Pages a list names only by script are its pagers' business (`paging`).
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

/// Every link of a page (`doc`, parsed from `html`): anchors and Hanweb datastore
/// records, resolved against `base` (the page's `<base href>`, see [`base_href`]).
pub fn links(doc: &Html, html: &str, base: &Url) -> Vec<Link> {
    let mut out = anchors(doc, base);
    // A Hanweb dataproxy.jsp reply is an XML datastore, not HTML: its records are CDATA.
    let head = html.trim_start();
    if head.starts_with("<?xml") || head.starts_with("<datastore") {
        for record in cdata_sections(html) {
            out.extend(anchors(&Html::parse_fragment(record), base));
        }
    }
    for script in doc.select(&selector("script")) {
        let code: String = script.text().collect();
        if code.contains("<datastore") || code.contains("<recordset") {
            for record in cdata_sections(&code) {
                out.extend(anchors(&Html::parse_fragment(record), base));
            }
        }
    }
    out
}

pub(super) fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("static selector")
}

/// The URL a page's relative links resolve against: its `<base href>`, else its own.
pub fn base_href(doc: &Html, page: &Url) -> Url {
    doc.select(&selector("base[href]")).next().and_then(|b| b.value().attr("href")).and_then(|h| page.join(h).ok()).unwrap_or_else(|| page.clone())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn links_of(page: &str, base: &Url) -> Vec<Link> {
        let doc = Html::parse_document(page);
        links(&doc, page, &base_href(&doc, base))
    }

    #[test]
    fn hanweb_datastore_records_are_links() {
        let page = r#"<div id="div1"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=73&columnid=103585"></a>]]></nextgroup>
<recordset><record><![CDATA[<li><a href="http://www.kmgd.gov.cn/art/2025/1/20/art_1234_567.html" title="昆明市官渡区人民政府2024年政府信息公开工作年度报告">昆明市官渡区人民政府2024年…</a></li>]]></record></recordset></datastore></script></div>"#;
        let base = Url::parse("http://www.kmgd.gov.cn/col/col1234/index.html").unwrap();
        let found = links_of(page, &base);
        assert!(found.iter().any(|l| l.url.as_str() == "http://www.kmgd.gov.cn/art/2025/1/20/art_1234_567.html"));
    }

    #[test]
    fn javascript_and_fragment_links_are_skipped_and_title_stands_in_for_text() {
        let page = r##"<a href="javascript:void(0)">x</a><a href="#top">top</a><a href="a.html" title="年报"><img src=x></a>"##;
        let found = links_of(page, &Url::parse("http://a.gov.cn/").unwrap());
        assert_eq!(found, vec![Link { url: Url::parse("http://a.gov.cn/a.html").unwrap(), text: "年报".into(), date: None }]);
    }

    #[test]
    fn links_opened_by_script_are_links() {
        let page = r#"<ul><li><a href="javascript:void(0);" onclick="window.open('/art/2023/1/31/art_49283_3818329.html')" title="云县人民政府2022年政府信息公开工作年度报告">云县人民政府2022年政府信息公开工作年度报告</a><span>2023-01-31</span></li>
<li><a href="javascript:window.open('./202402/t20240227_3932077.html','_blank','width=800,height=600')">双流区2023年年报</a></li>
<li onclick="location.href='detail.jsp?id=9'">政务公开</li>
<li><a href="javascript:void(0)" onclick="window.print()">打印</a></li></ul>"#;
        let base = Url::parse("http://www.ynyx.gov.cn/col/col49283/index.html").unwrap();
        let found: Vec<(String, Option<NaiveDate>)> = links_of(page, &base).into_iter().map(|l| (l.url.to_string(), l.date)).collect();
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
        let dates: Vec<Option<NaiveDate>> = links_of(page, &base).into_iter().map(|l| l.date).collect();
        assert_eq!(dates, vec![NaiveDate::from_ymd_opt(2025, 1, 21), None, NaiveDate::from_ymd_opt(2023, 2, 2)]);
    }
}
