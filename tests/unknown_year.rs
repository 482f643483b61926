//! A report that prints no year anywhere (title, byline, text, URL) keeps its place in
//! the dataset, in `year=0` (docs/dataset.md says why not Hive's null partition).
//! The dataset is left in target/tmp/unknown-year-data for .ci/run's four readers,
//! which also show the reason still holds.

mod support;

use std::path::Path;

use support::mock_web::{MockWeb, Page, Site};
use support::run::CrawlSetup;

const HOST: &str = "www.zt.gov.cn";

#[test]
fn a_report_without_a_year_goes_to_year_0() {
    let report = "<html><head><meta charset=\"utf-8\"><title>昭通市人民政府政府信息公开工作年度报告</title></head><body>\
        <h1>昭通市人民政府政府信息公开工作年度报告</h1><p>一、总体情况</p><p>本机关依法做好政府信息公开工作。</p></body></html>";
    let site = Site::empty(HOST)
        .page("/", Page::html(200, "<a href=\"/xxgk/nb/\">政府信息公开年报</a>"))
        .page(
            "/xxgk/nb/",
            Page::html(
                200,
                "<ul><li><a href=\"/xxgk/nb/a1.html\">昭通市人民政府政府信息公开工作年度报告</a></li>\
                 <li><a href=\"/xxgk/nb/a2.html\">昭通市人民政府2023年政府信息公开工作年度报告</a></li></ul>",
            ),
        )
        .page("/xxgk/nb/a1.html", Page::html(200, report))
        .article("/xxgk/nb/a2.html", "zhaotong_2023_tables_as_images");
    let web = MockWeb::start(vec![site]);
    let setup = CrawlSetup::new(&web, &[HOST], &[format!("http://{HOST}/,昭通市人民政府,530600")], "per_host_rps = 50.0");
    let (ok, log) = setup.crawl();
    assert!(ok, "{log}");
    assert!(setup.out().join("reports/province=云南省/year=0").is_dir(), "{log}");
    assert!(setup.out().join("reports/province=云南省/year=2023").is_dir(), "the dated report beside it: {log}");

    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("unknown-year-data");
    let _ = std::fs::remove_dir_all(&keep);
    std::fs::create_dir_all(&keep).unwrap();
    for table in ["reports", "facts", "report_tables"] {
        copy_tree(&setup.out().join(table), &keep.join(table));
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
