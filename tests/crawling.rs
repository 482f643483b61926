//! What a browser does that a portal counts on, on a mock portal written from the
//! rules (docs/crawling.md): a home page that refreshes to the real one, a column shown
//! in a frameset, a session cookie its pager needs, an article link that redirects by
//! script, a download servlet that refuses a file without a Referer and names no file
//! type in its URL, and a report whose tables are in an iframe.

mod support;

use std::path::Path;

use support::mock_web::{MockWeb, Page, Site};
use support::parquet_read::{read_table, string};
use support::run::CrawlSetup;

const HOST: &str = "www.browser.gov.cn";
const OTHER: &str = "www.other.gov.cn";

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn portal() -> Site {
    let docx = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract/gaoping_2023_trs_word_cells.docx")).unwrap();
    let file = Page { body: docx, ..Page::html(200, "") }
        .header("Content-Type", "application/octet-stream")
        .header("Content-Disposition", "attachment; filename*=UTF-8''%E5%B9%B4%E6%8A%A5.docx");
    Site::empty(HOST)
        .html("/", "<html><head><meta http-equiv=\"Refresh\" content=\"0; URL='/index.shtml'\"></head><body>正在跳转</body></html>")
        .html("/index.shtml", "<a href=\"/nb/\">政府信息公开年报</a><a href=\"/xzzx/\">下载中心</a>")
        .html("/nb/", "<frameset rows=\"60,*\"><frame src=\"/top.html\"><frame src=\"/nb/list.jsp\" name=\"main\"></frameset>")
        .html("/top.html", "<p>浏览器县人民政府</p>")
        .page(
            "/nb/list.jsp",
            Page::html(
                200,
                &format!(
                    "<ul><li><a href=\"/a/2023.html\">浏览器县人民政府2023年政府信息公开工作年度报告</a></li></ul>\
                     <a href=\"/nb/list.jsp?page=2\">下一页</a><a href=\"http://{OTHER}/nb/\">政府信息公开年报</a>"
                ),
            )
            .header("Set-Cookie", "JSESSIONID=s3ss10n; Path=/; HttpOnly"),
        )
        .html("/a/2023.html", "<html><body><script type=\"text/javascript\">\n window.location.replace(\"/art/2023.html\");\n</script></body></html>")
        .html(
            "/art/2023.html",
            "<h1>浏览器县人民政府2023年政府信息公开工作年度报告</h1><p>本报告统计期限为2023年1月1日至12月31日。</p>\
             <p><a href=\"/servlet/FileDownload?fid=17\">附件：年度报告全文</a></p>",
        )
        .html(
            "/a/2022.html",
            "<h1>浏览器县人民政府2022年政府信息公开工作年度报告</h1><p>本报告统计期限为2022年1月1日至12月31日。</p>\
             <iframe src=\"/art/2022-tables.html\" width=\"100%\" height=\"2000\"></iframe>",
        )
        .article("/art/2022-tables.html", "guandu_2024_hanweb_one_table")
        .gate(move |path, headers| match path {
            // The session's second page needs the cookie the first set.
            "/nb/list.jsp?page=2" => Some(match header(headers, "cookie").is_some_and(|c| c.contains("JSESSIONID=s3ss10n")) {
                true => Page::html(200, "<ul><li><a href=\"/a/2022.html\">浏览器县人民政府2022年政府信息公开工作年度报告</a></li></ul>"),
                false => Page::html(200, "<p>会话已过期，请重新访问。</p>"),
            }),
            // Hotlinking refused: the file only to a visitor coming from the portal.
            "/servlet/FileDownload?fid=17" => Some(match header(headers, "referer").is_some_and(|r| r.starts_with(&format!("http://{HOST}/"))) {
                true => file.clone(),
                false => Page::html(403, "<p>禁止盗链</p>"),
            }),
            _ => None,
        })
}

#[test]
fn a_portal_that_counts_on_a_browser_gives_up_its_reports() {
    let other = Site::empty(OTHER).html("/nb/", "<p>其他门户</p>");
    let web = MockWeb::start(vec![portal(), other]);
    let setup = CrawlSetup::new(&web, &[HOST, OTHER], &[format!("http://{HOST}/,浏览器县人民政府,")], "per_host_rps = 50.0");
    // Other portals followed, to see the cookie stay home.
    let config = std::fs::read_to_string(&setup.config).unwrap().replace("[scope]\n", "[scope]\nfollow_other_portals = true\n");
    std::fs::write(&setup.config, config).unwrap();
    let (ok, log) = setup.crawl();
    assert!(ok, "{log}");

    // Each page that only sent the visitor on is recorded as such.
    for forwarded in ["/index.html", "/nb/index.html", "/a/2023.html"] {
        assert_eq!(setup.outcome(&format!("http://{HOST}{forwarded}")).as_deref(), Some("forwarded"), "{forwarded}\n{log}");
    }
    // Both reports, with their tables: from the download servlet and from the iframe.
    let mut reports = Vec::new();
    for (_, year, batch) in read_table(setup.out(), "reports") {
        for i in 0..batch.num_rows() {
            reports.push((year.clone(), string(&batch, "url", i).unwrap(), string(&batch, "source_type", i).unwrap()));
        }
    }
    reports.sort();
    assert_eq!(
        reports,
        vec![
            ("2022".to_string(), format!("http://{HOST}/a/2022.html"), "html".to_string()),
            ("2023".to_string(), format!("http://{HOST}/art/2023.html"), "docx".to_string()),
        ],
        "{log}"
    );
    let facts = read_table(setup.out(), "facts").iter().map(|(.., b)| b.num_rows()).sum::<usize>();
    assert!(facts > 300, "both reports' tables: {facts} facts");

    let hits = web.hits();
    let to = |path: &str| hits.iter().filter(|h| h.host == HOST && h.path == path).collect::<Vec<_>>();
    // The file was asked for with its article as Referer; robots.txt with none.
    assert_eq!(header(&to("/servlet/FileDownload?fid=17")[0].request_headers, "referer"), Some(format!("http://{HOST}/art/2023.html").as_str()));
    assert_eq!(header(&to("/nb/list.jsp")[0].request_headers, "referer"), Some(format!("http://{HOST}/nb/").as_str()));
    assert!(to("/robots.txt").iter().all(|h| header(&h.request_headers, "referer").is_none()));
    // The cookie went back to its host, and to no other.
    assert!(header(&to("/nb/list.jsp?page=2")[0].request_headers, "cookie").is_some_and(|c| c.contains("JSESSIONID=s3ss10n")));
    assert!(hits.iter().any(|h| h.host == OTHER));
    assert!(hits.iter().filter(|h| h.host == OTHER).all(|h| header(&h.request_headers, "cookie").is_none()));
    // Never in what nianbao keeps.
    let mut kept = Vec::new();
    for entry in walk(setup.out()) {
        kept.extend(std::fs::read(entry).unwrap());
    }
    assert!(!String::from_utf8_lossy(&kept).contains("s3ss10n"), "no cookie in the state, the dataset or the summaries");
}

/// Every file under `dir` but the raw archive (which keeps each response as it came,
/// its Set-Cookie header included, as WARC requires).
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "raw") {
            out.extend(walk(&path));
        } else if path.is_file() {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_report_continued_over_two_pages_is_one_report_with_all_its_tables() {
    // The report's sections 一 to 三 on its page, 四 to 六 on `_1`, the pager written by script.
    let whole = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract/gaoping_2023_trs_word_cells.html")).unwrap();
    // Right after the second table (三, the requests), before the heading of 四.
    let split = whole.match_indices("</table>").nth(1).map(|(at, end)| at + end.len()).unwrap();
    let first = format!("{}<script>createPageHTML(2, 0, \"t20240125_1581\", \"html\");</script></div></body></html>", &whole[..split]);
    let second = format!("<html><body><div class=\"TRS_Editor\">{}", &whole[split..]);
    let site = Site::empty(HOST)
        .html("/", "<a href=\"/nb/\">政府信息公开年报</a>")
        .html("/nb/", "<a href=\"/nb/t20240125_1581.html\">高平市人民政府办公室2023年政府信息公开工作年度报告</a>")
        .html("/nb/t20240125_1581.html", &first)
        .html("/nb/t20240125_1581_1.html", &second);
    let web = MockWeb::start(vec![site]);
    let setup = CrawlSetup::new(&web, &[HOST], &[format!("http://{HOST}/,高平市人民政府办公室,140581")], "per_host_rps = 50.0");
    let (ok, log) = setup.crawl();
    assert!(ok, "{log}");
    let facts: usize = read_table(setup.out(), "facts").iter().map(|(.., b)| b.num_rows()).sum();
    assert_eq!(facts, 200, "the 2021 template's 200 cells, from both pages");
    let reports = read_table(setup.out(), "reports");
    assert_eq!(reports.iter().map(|(.., b)| b.num_rows()).sum::<usize>(), 1, "one report, not two");
    let warnings = support::parquet_read::strings_list(&reports[0].2, "warnings", 0);
    assert!(warnings.iter().any(|w| w == "article read over its 2 pages"), "{warnings:?}");
    assert!(!warnings.iter().any(|w| w.contains("has no facts")), "{warnings:?}");
}
