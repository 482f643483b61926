//! Reports published as files linked straight from a list: a Word file, an Excel file
//! behind a Hanweb `downfile.jsp` link (type known only from its bytes), and a PDF.

mod support;

use std::collections::BTreeMap;

use support::mock_web::{MockWeb, Page, Site, fixtures};
use support::parquet_read::{read_table, string, strings_list};
use support::run::CrawlSetup;

const HOST: &str = "www.sxgp.gov.cn";

fn file(name: &str) -> Page {
    let body = std::fs::read(fixtures().join("extract").join(name)).unwrap();
    Page { status: 200, headers: vec![("Content-Type".into(), "application/octet-stream".into())], body, ..Page::default() }
}

#[test]
fn word_excel_and_pdf_reports_linked_from_a_list() {
    let list = r#"<ul>
<li><a href="./P020240125.docx">高平市人民政府办公室2023年政府信息公开工作年度报告</a></li>
<li><a href="/module/download/downfile.jsp?classid=0&filename=9f2c.xlsx&showname=%E6%98%AD%E9%80%9A">昭通市政务服务管理局2020年政府信息公开工作年度报告</a></li>
<li><a href="./P020230131.pdf">高平市人民政府办公室2022年政府信息公开工作年度报告</a></li>
</ul>"#;
    let site = Site::empty(HOST)
        .page("/", Page::html(200, "<a href=\"/zfxxgk/zfxxgknb/\">政府信息公开年报</a>"))
        .page("/zfxxgk/zfxxgknb/", Page::html(200, list))
        .page("/zfxxgk/zfxxgknb/P020240125.docx", file("gaoping_2023_trs_word_cells.docx"))
        .page("/module/download/downfile.jsp?classid=0&filename=9f2c.xlsx&showname=%E6%98%AD%E9%80%9A", file("zhaotong_zwfw_2020_format2019_typos.xlsx"))
        .page("/zfxxgk/zfxxgknb/P020230131.pdf", Page { body: b"%PDF-1.7\n% scanned report\n".to_vec(), ..Page::html(200, "") });
    let web = MockWeb::start(vec![site]);
    let setup = CrawlSetup::new(&web, &[HOST], &[format!("http://{HOST}/,高平市人民政府,140581")], "per_host_rps = 50.0");
    let (ok, log) = setup.crawl();
    assert!(ok, "{log}");

    let mut reports = BTreeMap::new();
    for (_, year, batch) in read_table(setup.out(), "reports") {
        for i in 0..batch.num_rows() {
            let warnings = strings_list(&batch, "warnings", i).join(" | ");
            reports.insert(string(&batch, "title", i).unwrap(), (year.clone(), string(&batch, "source_type", i).unwrap(), warnings));
        }
    }
    let mut facts: BTreeMap<String, usize> = BTreeMap::new();
    for (_, year, batch) in read_table(setup.out(), "facts") {
        *facts.entry(year).or_default() += batch.num_rows();
    }
    let docx = &reports["高平市人民政府办公室2023年政府信息公开工作年度报告"];
    assert_eq!((docx.0.as_str(), docx.1.as_str()), ("2023", "docx"));
    let xlsx = &reports["昭通市政务服务管理局2020年政府信息公开工作年度报告"];
    assert_eq!((xlsx.0.as_str(), xlsx.1.as_str()), ("2020", "xlsx"));
    let pdf = &reports["高平市人民政府办公室2022年政府信息公开工作年度报告"];
    assert_eq!(pdf.1, "pdf");
    // Not a real PDF: without pdftotext, or with it, the report says why it has no facts.
    assert!(pdf.2.contains("pdf report: "), "{pdf:?}");
    assert_eq!(facts.get("2023"), Some(&200), "the Word report's facts");
    assert_eq!(facts.get("2020"), Some(&198), "the Excel report's facts");
    assert_eq!(facts.get("2022"), None, "no facts from a PDF yet, and none invented");
}
