//! A hostile portal beside a healthy one: every poison pill nianbao has met, served
//! from one mock host, and the crawl must finish, keep the healthy host's report, and
//! record each case with its reason. Everything goes through the mock web as a proxy,
//! so even a link to a public address stays on loopback.
//!
//! The cases: 3,000 nested tables; an Excel file naming a cell at XFD1048576; a Word
//! file inflating to 65 MiB; a PDF drawing a form 2^26 times; a UTF-8 page with a
//! stray byte; three PDFs whose content streams decode to 300 MiB, behind
//! `[/FlateDecode /FlateDecode]`, `[/FlateDecode]` and `/FlateDecode` with
//! `/DecodeParms`; links to a public IP and to a NAT64 address; a redirect chain without
//! end; a list page of 100,000 links; Word 97-2003 files whose sector chain loops,
//! whose piece table points outside its stream, or whose stream size lies; an OFD
//! file whose page inflates to 65 MiB. (A truncated WARC, Retry-After floods, huge
//! robots.txt and rebuilds under a reader have tests of their own: resume.rs,
//! faults.rs, dataset/writer.rs.)

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use support::mock_web::{MockWeb, Page, Site};
use support::parquet_read::{read_table, string, strings_list};
use support::pdf::zlib;
use support::run::CrawlSetup;

const GOOD: &str = "www.good.gov.cn";
const HOSTILE: &str = "www.hostile.gov.cn";

fn file(name: &str) -> Page {
    let body = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile").join(name)).unwrap();
    Page { body, headers: vec![("Content-Type".into(), "application/octet-stream".into())], ..Page::html(200, "") }
}

fn title(year: u32) -> String {
    format!("恶意县人民政府{year}年政府信息公开工作年度报告")
}

/// A report article without tables, its tables in the attached `file`.
fn with_attachment(year: u32, file: &str) -> String {
    format!("<h1>{}</h1><p>本报告统计期限为{year}年1月1日至12月31日。全文见附件。</p><a href=\"/f/{file}\">附件</a>", title(year))
}

/// `n` zero bytes (whole MiB), zlib-compressed: 300 MiB in 300 kB.
fn zlib_zeros(n: usize) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..n >> 20 {
        z.write_all(&[0; 1 << 20]).unwrap();
    }
    z.finish().unwrap()
}

/// A PDF whose content stream is `content` behind `filter`: a decompression bomb.
fn pdf(filter: &str, content: &[u8]) -> Page {
    let body = support::pdf::one_page(&format!("/Filter {filter}"), content);
    Page { body, headers: vec![("Content-Type".into(), "application/pdf".into())], ..Page::html(200, "") }
}

fn hostile_site() -> Site {
    let cases = [
        ("nested", 2015, "/a/nested.html"),
        ("xlsx", 2016, "/a/xlsx.html"),
        ("docx", 2017, "/a/docx.html"),
        ("pdf", 2018, "/a/pdf.html"),
        ("utf8", 2019, "/a/utf8.html"),
        ("ip", 2020, "http://8.8.8.8:9/a.html"),
        ("nat64", 2021, "http://[64:ff9b::a00:1]/b.html"),
        ("redirect", 2022, "/r/0"),
        ("flate-twice", 2011, "/a/flate-twice.html"),
        ("flate-array", 2012, "/a/flate-array.html"),
        ("flate-params", 2013, "/a/flate-params.html"),
        ("sector-loop", 2008, "/a/sector_loop.html"),
        ("pieces-outside", 2009, "/a/pieces_outside.html"),
        ("size-lies", 2010, "/a/size_lies.html"),
        ("ofd-bomb", 2014, "/a/page_bomb.html"),
    ];
    let list: String = cases.iter().map(|(_, year, href)| format!("<li><a href=\"{href}\">{}</a></li>", title(*year))).collect();
    let mut utf8 = format!("<h1>{}</h1><p>本报告统计期限为2019年1月1日至12月31日。</p>", title(2019)).into_bytes();
    utf8.insert(utf8.len() - 10, 0xA0);
    let nested = format!("<h1>{}</h1>{}1{}", title(2015), "<table><tr><td>".repeat(3000), "</td></tr></table>".repeat(3000));
    let big: String = (0..100_000).map(|n| format!("<a href=\"/x/{n}.html\">新闻</a>")).collect();
    Site::empty(HOSTILE)
        .html("/", "<a href=\"/nb/\">政府信息公开年报</a><a href=\"/big/\">信息公开年报</a>")
        .html("/nb/", &format!("<ul>{list}</ul>"))
        .html("/big/", &big)
        .html("/a/nested.html", &nested)
        .html("/a/xlsx.html", &with_attachment(2016, "dimension_bomb.xlsx"))
        .html("/a/docx.html", &with_attachment(2017, "document_bomb.docx"))
        .html("/a/pdf.html", &with_attachment(2018, "forms_2e26.pdf"))
        .page("/a/utf8.html", Page { body: utf8, ..Page::html(200, "") }.header("Content-Type", "text/html; charset=utf-8"))
        .page("/f/dimension_bomb.xlsx", file("dimension_bomb.xlsx"))
        .page("/f/document_bomb.docx", file("document_bomb.docx"))
        .page("/f/forms_2e26.pdf", file("forms_2e26.pdf"))
        .html("/a/flate-twice.html", &with_attachment(2011, "flate-twice.pdf"))
        .html("/a/flate-array.html", &with_attachment(2012, "flate-array.pdf"))
        .html("/a/flate-params.html", &with_attachment(2013, "flate-params.pdf"))
        .page("/f/flate-twice.pdf", pdf("[/FlateDecode /FlateDecode]", &zlib(&zlib_zeros(300 << 20))))
        .page("/f/flate-array.pdf", pdf("[/FlateDecode]", &zlib_zeros(300 << 20)))
        .page("/f/flate-params.pdf", pdf("/FlateDecode /DecodeParms << /Predictor 1 >>", &zlib_zeros(300 << 20)))
        .html("/a/sector_loop.html", &with_attachment(2008, "sector_loop.doc"))
        .html("/a/pieces_outside.html", &with_attachment(2009, "pieces_outside.doc"))
        .html("/a/size_lies.html", &with_attachment(2010, "size_lies.doc"))
        .html("/a/page_bomb.html", &with_attachment(2014, "page_bomb.ofd"))
        .page("/f/sector_loop.doc", file("sector_loop.doc"))
        .page("/f/pieces_outside.doc", file("pieces_outside.doc"))
        .page("/f/size_lies.doc", file("size_lies.doc"))
        .page("/f/page_bomb.ofd", file("page_bomb.ofd"))
        .dynamic(|path| {
            // Every hop of the chain sends to the next: 10,000 and more.
            let n: u64 = path.strip_prefix("/r/")?.parse().ok()?;
            Some(Page::html(302, "").header("Location", &format!("/r/{}", n + 1)))
        })
}

#[test]
fn a_hostile_portal_is_crawled_to_the_end_beside_a_healthy_one() {
    let good = Site::empty(GOOD)
        .html("/", "<a href=\"/nb/\">政府信息公开年报</a>")
        .html("/nb/", "<a href=\"/a/ok.html\">良好县人民政府2023年政府信息公开工作年度报告</a>")
        .article("/a/ok.html", "gaoping_2023_trs_word_cells");
    let web = MockWeb::start(vec![good, hostile_site()]);
    let seeds = [format!("http://{GOOD}/,良好县人民政府,"), format!("http://{HOSTILE}/,恶意县人民政府,")];
    let setup = CrawlSetup::new(&web, &[], &seeds, &format!("proxy = \"http://{}\"\nper_host_rps = 100.0", web.addr));
    let (ok, log) = setup.crawl();
    assert!(ok, "the crawl finishes whatever the portal serves:\n{log}");

    // The healthy host's report is all there.
    assert_eq!(setup.outcome(&format!("http://{GOOD}/a/ok.html")).as_deref(), Some("report"));
    let warnings: BTreeMap<String, String> = read_table(setup.out(), "reports")
        .iter()
        .flat_map(|(_, _, batch)| (0..batch.num_rows()).map(move |i| (string(batch, "url", i).unwrap(), strings_list(batch, "warnings", i).join(" | "))))
        .collect();
    assert!(warnings.contains_key(&format!("http://{GOOD}/a/ok.html")));

    // Each hostile case is recorded with its reason.
    let said = |path: &str| warnings.get(&format!("http://{HOSTILE}{path}")).cloned().unwrap_or_else(|| panic!("no report for {path}:\n{log}"));
    assert!(said("/a/nested.html").contains("tables"), "{}", said("/a/nested.html"));
    assert!(said("/a/xlsx.html").contains("cells spread over 1048576 × 16384"), "{}", said("/a/xlsx.html"));
    assert!(said("/a/docx.html").contains("larger than"), "{}", said("/a/docx.html"));
    assert!(said("/a/pdf.html").contains("glyphs and shapes"), "{}", said("/a/pdf.html"));
    assert!(said("/a/utf8.html").contains("text damaged: decoded as UTF-8"), "{}", said("/a/utf8.html"));
    for bomb in ["/a/flate-twice.html", "/a/flate-array.html", "/a/flate-params.html"] {
        assert!(said(bomb).contains("streams inflate past 268435456 bytes"), "{bomb}: {}", said(bomb));
    }
    assert!(said("/a/sector_loop.html").contains("duplicate sector"), "{}", said("/a/sector_loop.html"));
    assert!(said("/a/pieces_outside.html").contains("a piece of text outside the document stream"), "{}", said("/a/pieces_outside.html"));
    assert!(said("/a/size_lies.html").contains("the WordDocument stream claims 2147483632 bytes"), "{}", said("/a/size_lies.html"));
    assert!(said("/a/page_bomb.html").contains("Content.xml larger than 33554432 bytes"), "{}", said("/a/page_bomb.html"));
    assert_eq!(setup.outcome(&format!("http://{HOSTILE}/r/0")).as_deref(), Some("failed"));

    // No request for an address no seed names, and none for the 100,000 links' pages.
    let hits = web.hits();
    assert!(hits.iter().all(|h| h.host == GOOD || h.host == HOSTILE), "{:?}", hits.iter().map(|h| &h.host).collect::<Vec<_>>());
    assert!(!hits.iter().any(|h| h.path.starts_with("/x/")));
    let redirects = hits.iter().filter(|h| h.path.starts_with("/r/")).count();
    assert!(redirects <= 6, "the chain is followed {redirects} hops");
}
