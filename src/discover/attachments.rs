//! Attachments of a report article: the PDF, Word or Excel file that often holds the
//! tables the HTML page lacks. TRS marks them `appendix="true"` (its `OLDSRC` is
//! often dead, so `href` is used); Hanweb serves them through `downfile.jsp?filename=…`;
//! many portals through a download servlet whose link names no file type at all
//! (`/servlet/FileDownload?fid=…`, `/module/file/get.jsp?id=…`). A link is taken as a
//! file when its path names a file type, when it reads as a download (its text says
//! 附件 or 下载, or names a file; its path is a download endpoint), or when the page
//! frames it; what it is, is then decided from the answer (see [`disposition_filename`]
//! and the crawl's sniffing of the bytes), never from the link alone.

use url::Url;

use crate::html::{Page, Select};

/// The file types reports are published in, by their extensions.
const EXTENSIONS: [&str; 12] = [".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".et", ".ofd", ".png", ".jpg", ".jpeg", ".zip"];

/// Whether a URL's path names a document file: by its extension, or Hanweb's
/// `downfile.jsp`. Such a link gets the attachment size cap.
pub fn names_a_file(url: &Url) -> bool {
    let path = url.path().to_ascii_lowercase();
    EXTENSIONS.iter().any(|e| path.ends_with(e)) || path.ends_with("downfile.jsp")
}

/// Whether a link with no file extension reads as a download: its text says so
/// (附件, 下载) or names a file (`年报.pdf`), or its path is a download endpoint with
/// no page extension (`/servlet/FileDownload?fid=7`, `/module/file/get.jsp?id=3`).
fn reads_as_download(url: &Url, text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    let by_text = text.contains("附件") || text.contains("下载") || EXTENSIONS.iter().any(|e| text.trim_end().ends_with(e));
    let path = url.path().to_ascii_lowercase();
    let last = path.rsplit('/').next().unwrap_or("");
    let a_page = path.ends_with('/') || [".html", ".htm", ".shtml", ".jhtml", ".xhtml"].iter().any(|e| last.ends_with(e));
    let endpoint = ["down", "file", "attach", "fujian"].iter().any(|w| path.contains(w)) && (url.query().is_some() || !last.contains('.'));
    !a_page && (by_text || endpoint)
}

/// Pages an article continues on, at most.
const MAX_CONTINUATIONS: usize = 20;

/// Whether `other` continues the article at `page`: the same name with `_N` before
/// its extension (`t20240125_1581.html` → `t20240125_1581_1.html`), as TRS and most
/// CMSs split a long article; the N, if it does.
pub fn continues(page: &Url, other: &Url) -> Option<u32> {
    let (stem, ext) = page.path().rsplit_once('.')?;
    let rest = other.path().strip_prefix(stem)?.strip_prefix('_')?.strip_suffix(ext)?.strip_suffix('.')?;
    let n = rest.parse().ok().filter(|_| rest.bytes().all(|b| b.is_ascii_digit()))?;
    (other.host_str() == page.host_str()).then_some(n)
}

/// The attachment links of a (parsed) page at `base`, each once: its files, the pages
/// it frames, and the pages the article continues on (linked, or named by its pager's
/// script), whose tables are the same report's.
pub fn attachments(page: &Page, base: &Url, framed: &[Url]) -> Vec<Url> {
    let mut out: Vec<Url> = Vec::new();
    let scripts = page.select(Select::Tag("script")).flat_map(|s| super::paging::pages_named_by_script(&page.text(s), base));
    for url in scripts.filter(|u| continues(base, u).is_some()).take(MAX_CONTINUATIONS) {
        if !out.contains(&url) {
            out.push(url);
        }
    }
    for a in page.select(Select::Tag("a")) {
        let Some(href) = page.attr(a, "href").map(str::trim) else { continue };
        if href.is_empty() || href.starts_with('#') || href.to_ascii_lowercase().starts_with("javascript:") {
            continue;
        }
        let Ok(url) = base.join(href) else { continue };
        let continued = continues(base, &url).is_some() && out.len() < MAX_CONTINUATIONS;
        let is_file = continued || page.attr(a, "appendix") == Some("true") || names_a_file(&url) || reads_as_download(&url, &page.text(a));
        if is_file && !out.contains(&url) {
            out.push(url);
        }
    }
    out.extend(framed.iter().filter(|u| !out.contains(u)).cloned().collect::<Vec<_>>());
    out
}

/// The file name a `Content-Disposition` gives: RFC 6266's `filename*=UTF-8''…`
/// (percent-encoded) first, else `filename=`, quoted or not, whose raw bytes portals
/// send in UTF-8 or GBK (decoded as such when the header was read).
pub fn disposition_filename(value: &str) -> Option<String> {
    let params: Vec<(String, &str)> =
        value.split(';').skip(1).filter_map(|p| p.split_once('=')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim())).collect();
    let extended = params.iter().find(|(k, _)| k == "filename*").and_then(|(_, v)| {
        let (charset, rest) = v.split_once('\'')?;
        let encoded = rest.split_once('\'')?.1;
        let bytes = percent_decoded(encoded);
        match charset.to_ascii_lowercase().as_str() {
            "gbk" | "gb2312" | "gb18030" => Some(encoding_rs::GBK.decode(&bytes).0.into_owned()),
            _ => Some(String::from_utf8_lossy(&bytes).into_owned()),
        }
    });
    let plain = || params.iter().find(|(k, _)| k == "filename").map(|(_, v)| v.trim_matches('"').to_string());
    extended.or_else(plain).filter(|n| !n.is_empty())
}

/// `%XX` escapes as the bytes they stand for; the rest as it is.
fn percent_decoded(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let (mut out, mut at) = (Vec::with_capacity(bytes.len()), 0);
    while at < bytes.len() {
        let hex = bytes.get(at + 1..at + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[at], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                at += 3;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(page: &str, framed: &[Url]) -> Vec<String> {
        let base = Url::parse("http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/202401/t20240125_1581.html").unwrap();
        attachments(&Page::parse(page), &base, framed).into_iter().map(|u| u.to_string()).collect()
    }

    #[test]
    fn trs_appendix_and_hanweb_downfile_links() {
        let page = r#"<a appendix="true" href="./P020240125342787864103.pdf" OLDSRC="/protect/P0202401/P020240125342787864103.pdf">附件：年报.pdf</a>
            <a href="/module/download/downfile.jsp?classid=0&filename=9f2c.xlsx&showname=%E5%B9%B4%E6%8A%A5">年报</a>
            <a href="./t20240125_1.html">相关新闻</a><a href="./P020240125342787864103.pdf">重复</a>"#;
        assert_eq!(
            found(page, &[]),
            vec![
                "http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/202401/P020240125342787864103.pdf",
                "http://www.sxgp.gov.cn/module/download/downfile.jsp?classid=0&filename=9f2c.xlsx&showname=%E5%B9%B4%E6%8A%A5"
            ]
        );
    }

    #[test]
    fn download_links_without_an_extension_are_candidates_and_pages_are_not() {
        let page = r#"<a href="/servlet/FileDownload?fid=8812">2023年政府信息公开工作年度报告</a>
            <a href="/module/file/get.jsp?id=301">附件1</a>
            <a href="/getContent?cid=7">高平市2023年年报.docx</a>
            <a href="/xzzx/">下载中心</a><a href="/zwgk/fj/index.html">附件说明</a><a href="/news/detail?id=5">相关新闻</a>"#;
        assert_eq!(
            found(page, &[Url::parse("http://www.sxgp.gov.cn/nb/frame.html").unwrap()]),
            vec![
                "http://www.sxgp.gov.cn/servlet/FileDownload?fid=8812",
                "http://www.sxgp.gov.cn/module/file/get.jsp?id=301",
                "http://www.sxgp.gov.cn/getContent?cid=7",
                "http://www.sxgp.gov.cn/nb/frame.html",
            ]
        );
    }

    #[test]
    fn the_pages_an_article_continues_on_are_its_own() {
        let page = r#"<p>一、总体情况</p><script>createPageHTML(3, 0, "t20240125_1581", "html");</script>
            <a href="./t20240125_1581_1.html">下一页</a><a href="./t20240125_1582.html">另一篇</a>"#;
        assert_eq!(
            found(page, &[]),
            vec!["http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/202401/t20240125_1581_1.html", "http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/202401/t20240125_1581_2.html"]
        );
        let base = Url::parse("http://www.sxgp.gov.cn/a/t1.html").unwrap();
        let at = |u: &str| continues(&base, &Url::parse(u).unwrap());
        assert_eq!(
            (at("http://www.sxgp.gov.cn/a/t1_2.html"), at("http://www.sxgp.gov.cn/a/t1_x.html"), at("http://other.gov.cn/a/t1_2.html")),
            (Some(2), None, None)
        );
    }

    #[test]
    fn the_file_name_of_a_content_disposition_in_each_form() {
        assert_eq!(disposition_filename("attachment; filename*=UTF-8''%E5%B9%B4%E6%8A%A5.pdf").as_deref(), Some("年报.pdf"));
        assert_eq!(disposition_filename("attachment; filename=\"nb.pdf\"; filename*=utf-8''%E5%B9%B4%E6%8A%A5.pdf").as_deref(), Some("年报.pdf"));
        assert_eq!(disposition_filename("attachment;filename=\"2023年报.doc\"").as_deref(), Some("2023年报.doc"));
        assert_eq!(disposition_filename("attachment; filename*=GBK''%C4%EA%B1%A8.wps").as_deref(), Some("年报.wps"));
        assert_eq!(disposition_filename("inline"), None);
    }
}
