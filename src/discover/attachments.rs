//! Attachments of a report article: the PDF, Word or Excel file that often holds the
//! tables the HTML page lacks. TRS marks them `appendix="true"` (its `OLDSRC` is
//! often dead, so `href` is used); Hanweb serves them through `downfile.jsp?filename=…`.

use url::Url;

use crate::html::{Page, Select};

const EXTENSIONS: [&str; 6] = [".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps"];

/// The attachment links of a (parsed) page, each once.
pub fn attachments(page: &Page, base: &Url) -> Vec<Url> {
    let mut out: Vec<Url> = Vec::new();
    for a in page.select(Select::Tag("a")) {
        let Some(href) = page.attr(a, "href").map(str::trim) else { continue };
        let lower = href.to_ascii_lowercase();
        let path = lower.split(['?', '#']).next().unwrap_or("");
        let is_file = page.attr(a, "appendix") == Some("true")
            || EXTENSIONS.iter().any(|e| path.ends_with(e))
            || path.ends_with("downfile.jsp");
        if let Some(url) = is_file.then(|| base.join(href).ok()).flatten()
            && !out.contains(&url)
        {
            out.push(url);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trs_appendix_and_hanweb_downfile_links() {
        let page = r#"<a appendix="true" href="./P020240125342787864103.pdf" OLDSRC="/protect/P0202401/P020240125342787864103.pdf">附件：年报.pdf</a>
            <a href="/module/download/downfile.jsp?classid=0&filename=9f2c.xlsx&showname=%E5%B9%B4%E6%8A%A5">年报</a>
            <a href="./t20240125_1.html">相关新闻</a><a href="./P020240125342787864103.pdf">重复</a>"#;
        let base = Url::parse("http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/202401/t20240125_1581.html").unwrap();
        let found: Vec<String> = attachments(&Page::parse(page), &base).into_iter().map(|u| u.to_string()).collect();
        assert_eq!(
            found,
            vec![
                "http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/202401/P020240125342787864103.pdf",
                "http://www.sxgp.gov.cn/module/download/downfile.jsp?classid=0&filename=9f2c.xlsx&showname=%E5%B9%B4%E6%8A%A5"
            ]
        );
    }
}
