//! Micro-benchmarks (divan) of the stages that cost CPU, on realistic input:
//! `cargo bench --bench stages` (add a name to run only some, e.g. `-- extract`).
//!
//! - decode: a 52 kB report page in GBK, declared, mis-declared and undeclared;
//! - discover: a list page followed (links, pagers, titles), title classification, and a report
//!   page read the way the crawl reads it (parse, metadata, attachment links);
//! - extract: each of the 16 HTML fixture reports, and all of them as a set; the three
//!   real PDF reports read from their bytes (glyphs, ruled tables, facts); one report
//!   as each file type it is also published as (.docx, .doc, .xlsx, .xls, .ofd);
//! - dataset: writing 10,000 facts (50 reports) as Parquet.
//!
//! Targets (issue 8): decode never the bottleneck (≥ 200 MB/s); extraction
//! ≥ 2,000 reports/s on one core.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use nianbao::dataset::{Partition, ReportRow, ReportWithFacts};
use nianbao::extract::extract_html;

/// The crawler's allocator (main.rs says why), so these figures are the crawler's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    divan::main();
}

fn fixture_reports() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract");
    let mut pages: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    pages.sort();
    pages
}

static REPORTS: LazyLock<Vec<(String, String)>> = LazyLock::new(fixture_reports);

/// A report page as portals serve it: a Word-pasted report inside ~20 kB of chrome.
static PAGE: LazyLock<String> = LazyLock::new(|| {
    let chrome = "<div class=\"nav\"><a href=\"/zwgk/\">政务公开</a></div>".repeat(300);
    let report = &REPORTS.iter().find(|(name, _)| name == "gaoping_2023_trs_word_cells").unwrap().1;
    format!("<html><head><meta charset=\"gbk\"></head><body>{chrome}{report}</body></html>")
});

const URL: &str = "http://www.zt.gov.cn/zwgk/xxgknb/202401/t20240130_1.html";

mod decode {
    use super::*;
    use nianbao::decode::decode;

    fn run(bencher: Bencher, bytes: Vec<u8>, header: Option<&str>) {
        bencher.counter(BytesCount::of_slice(&bytes)).bench(|| decode(divan::black_box(&bytes), header, Some("www.zt.gov.cn")));
    }

    #[divan::bench]
    fn gbk_declared_in_header(bencher: Bencher) {
        run(bencher, encoding_rs::GBK.encode(&PAGE).0.into_owned(), Some("text/html; charset=GBK"));
    }

    #[divan::bench]
    fn gbk_header_says_utf8(bencher: Bencher) {
        run(bencher, encoding_rs::GBK.encode(&PAGE).0.into_owned(), Some("text/html; charset=utf-8"));
    }

    #[divan::bench]
    fn gbk_undeclared(bencher: Bencher) {
        run(bencher, encoding_rs::GBK.encode(&PAGE.replace("<meta charset=\"gbk\">", "")).0.into_owned(), None);
    }

    #[divan::bench]
    fn utf8_declared_in_header(bencher: Bencher) {
        run(bencher, PAGE.as_bytes().to_vec(), Some("text/html; charset=utf-8"));
    }
}

mod discover {
    use super::*;
    use nianbao::discover::{PageKind, Target, attachments, classify::classify_title, follow, read_article};
    use nianbao::html::Page;

    /// A TRS list page of 20 items, half reports, half near misses, with its pager.
    fn list_page() -> String {
        let items: String = (0..10)
            .map(|i| {
                format!(
                    "<li><a href=\"./202{i}01/t202{i}0125_{i}.html\">昭通市人民政府办公室202{i}年政府信息公开工作年度报告</a><span>202{i}-01-25</span></li>\
                     <li><a href=\"./202{i}02/t202{i}0201_{i}.html\">关于做好202{i}年政府信息公开工作年度报告编制发布工作的通知</a></li>"
                )
            })
            .collect();
        format!("<html><body><ul class=\"list\">{items}</ul><script>createPageHTML(5, 0, \"index\", \"html\");</script></body></html>")
    }

    #[divan::bench]
    fn follow_a_list_page(bencher: Bencher) {
        let page = list_page();
        let base = url::Url::parse("http://www.zt.gov.cn/zwgk/xxgknb/").unwrap();
        let from = Target { kind: PageKind::List, column: Some("年报".into()), ..Target::default() };
        bencher.counter(BytesCount::of_str(&page)).bench(|| follow(&from, &base, divan::black_box(&page), 4));
    }

    #[divan::bench]
    fn classify_twenty_titles(bencher: Bencher) {
        let titles: Vec<String> = (0..10)
            .flat_map(|i| {
                [format!("昭通市人民政府办公室202{i}年政府信息公开工作年度报告"), format!("关于做好202{i}年政府信息公开工作年度报告编制发布工作的通知")]
            })
            .collect();
        bencher.counter(ItemsCount::new(titles.len())).bench(|| titles.iter().for_each(|t| _ = divan::black_box(classify_title(divan::black_box(t)))));
    }

    #[divan::bench]
    fn parse_report_page_full_dom(bencher: Bencher) {
        bencher.counter(BytesCount::of_str(PAGE.as_str())).bench(|| scraper::Html::parse_document(divan::black_box(PAGE.as_str())));
    }

    #[divan::bench]
    fn parse_report_page_light_tree(bencher: Bencher) {
        bencher.counter(BytesCount::of_str(PAGE.as_str())).bench(|| Page::parse(divan::black_box(PAGE.as_str())));
    }

    #[divan::bench]
    fn read_report_page(bencher: Bencher) {
        let url = url::Url::parse(URL).unwrap();
        bencher.counter(BytesCount::of_str(PAGE.as_str())).bench(|| {
            let page = Page::parse(divan::black_box(PAGE.as_str()));
            (read_article(&url, &page, None), attachments(&page, &url, &[]))
        });
    }
}

mod extract {
    use super::*;

    fn names() -> Vec<&'static str> {
        REPORTS.iter().map(|(name, _)| name.as_str()).collect()
    }

    #[divan::bench(args = names())]
    fn report(bencher: Bencher, name: &str) {
        let html = &REPORTS.iter().find(|(n, _)| n == name).unwrap().1;
        bencher.counter(BytesCount::of_str(html)).bench(|| extract_html(divan::black_box(html), Some(2023)));
    }

    #[divan::bench]
    fn all_sixteen_reports(bencher: Bencher) {
        bencher
            .counter(ItemsCount::new(REPORTS.len()))
            .bench(|| REPORTS.iter().map(|(_, html)| extract_html(divan::black_box(html), Some(2023)).facts.len()).sum::<usize>());
    }
}

mod pdf {
    use super::*;

    const NAMES: [&str; 3] = ["huaian_r002", "huaian_r003", "huaian_r004"];

    fn read(name: &str) -> Vec<u8> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/extract/pdf_text/{name}.pdf"))).unwrap()
    }

    #[divan::bench(args = NAMES, sample_count = 20)]
    fn report(bencher: Bencher, name: &str) {
        let pdf = read(name);
        bencher.counter(BytesCount::new(pdf.len())).bench(|| nianbao::extract::extract_pdf(divan::black_box(&pdf), Some(2024)).unwrap());
    }
}

mod files {
    use super::*;

    const TYPES: [&str; 5] = ["docx", "doc", "xlsx", "xls", "ofd"];

    /// The 2023 report of the fixtures, in each type: read the way the crawl reads a
    /// file, its type sniffed from its bytes.
    #[divan::bench(args = TYPES)]
    fn report(bencher: Bencher, ext: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/extract/gaoping_2023_trs_word_cells.{ext}"));
        let bytes = std::fs::read(path).unwrap();
        bencher.counter(BytesCount::new(bytes.len())).bench(|| {
            let kind = nianbao::extract::SourceType::sniff(divan::black_box(&bytes));
            nianbao::extract::extract_file(kind, &bytes, None, None, Some(2023)).0.facts.len()
        });
    }
}

mod dataset {
    use super::*;

    /// 50 reports of 200 facts each: 10,000 facts, from a real fixture's extraction.
    fn reports() -> BTreeMap<Partition, Vec<ReportWithFacts>> {
        let html = &REPORTS.iter().find(|(n, _)| n == "guandu_2024_hanweb_one_table").unwrap().1;
        let extraction = extract_html(html, Some(2024));
        let items = (0..50)
            .map(|i| {
                let mut facts = extraction.facts.clone();
                facts.resize(200, facts[0].clone());
                let report = ReportRow {
                    report_id: format!("{i:020}"),
                    version: 1,
                    is_current: true,
                    url: format!("http://www.kmgd.gov.cn/art/2025/1/20/art_{i}.html"),
                    title: "昆明市官渡区人民政府2024年政府信息公开工作年度报告".into(),
                    agency: "昆明市官渡区人民政府".into(),
                    division_code: Some("530111".into()),
                    province_code: Some("53".into()),
                    admin_level: "county".into(),
                    format: "2021".into(),
                    published_date: None,
                    source_type: nianbao::extract::SourceType::Html,
                    encoding: "UTF-8".into(),
                    fetched_at: chrono::Utc::now(),
                    content_sha256: format!("{i:064}"),
                    checks_failed: Vec::new(),
                    warnings: Vec::new(),
                    text: extraction.text.clone(),
                    partition: Partition { province: "云南省".into(), year: Some(2024) },
                };
                ReportWithFacts { report, facts }
            })
            .collect();
        BTreeMap::from([(Partition { province: "云南省".into(), year: Some(2024) }, items)])
    }

    #[divan::bench(sample_count = 20)]
    fn write_ten_thousand_facts(bencher: Bencher) {
        let partitions = reports();
        let out = tempfile::tempdir().unwrap();
        bencher
            .counter(ItemsCount::new(10_000usize))
            .bench(|| nianbao::dataset::write(out.path(), "bench", partitions.clone(), |item| Some(item.clone()), || Ok(BTreeMap::new())).unwrap());
    }
}
