//! Links out of a page, wherever the CMS hid them.
//!
//! Ordinary `<a href>`; Hanweb JCMS list records, which sit as CDATA inside
//! `<script type="text/xml"><datastore>` where an HTML parser sees only script text;
//! and TRS WCM's `createPageHTML(total, current, "index", "html")` pagers, which name
//! pages `index.html, index_1.html … index_{total-1}.html` that no anchor links to.

use scraper::{Html, Selector};
use url::Url;

use crate::decode::normalize::fold;

/// A link with the text a reader sees for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: Url,
    pub text: String,
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

fn anchors(doc: &Html, base: &Url) -> Vec<Link> {
    doc.select(&selector("a[href]"))
        .filter_map(|a| {
            let href = a.value().attr("href")?.trim();
            if href.is_empty() || href.starts_with('#') || href.to_ascii_lowercase().starts_with("javascript:") {
                return None;
            }
            let url = base.join(href).ok()?;
            let text = fold(&a.text().collect::<String>());
            let text = if text.is_empty() { fold(a.value().attr("title").unwrap_or("")) } else { text };
            Some(Link { url, text })
        })
        .collect()
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

/// TRS pager calls: `createPageHTML(21, 0, "index", "html")`, `createPage(34, 0, "index", "shtml")`.
fn trs_pages(code: &str, base: &Url) -> Vec<Link> {
    let mut out = Vec::new();
    for call in ["createPageHTML(", "createPage("] {
        let mut rest = code;
        while let Some(at) = rest.find(call) {
            let args = &rest[at + call.len()..];
            rest = args;
            let Some(end) = args.find(')') else { break };
            let parts: Vec<&str> = args[..end].split(',').map(|p| p.trim().trim_matches(|c| c == '"' || c == '\'')).collect();
            let (Some(total), Some(name), Some(ext)) = (parts.first().and_then(|t| t.parse::<u32>().ok()), parts.get(2), parts.get(3)) else {
                continue;
            };
            // Bounded: a pager claiming more pages than any list has is a trap or a typo.
            for n in 1..total.min(500) {
                if let Ok(url) = base.join(&format!("{name}_{n}.{ext}")) {
                    out.push(Link { url, text: (n + 1).to_string() });
                }
            }
        }
    }
    out
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
        assert_eq!(found, vec![Link { url: Url::parse("http://a.gov.cn/a.html").unwrap(), text: "年报".into() }]);
        assert!(is_pager_text("下一页") && is_pager_text("12") && !is_pager_text("2023"));
    }
}
