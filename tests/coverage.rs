//! The coverage table on a mock web of five portals: one publishes on time and late,
//! one cannot be reached, one sits behind a WAF, one has more list pages than the
//! budget allows, one has no report column. Every row of the table is asserted.

mod support;

use std::collections::BTreeMap;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use chrono::Datelike;
use support::mock_web::{Fault, MockWeb, Page, Site};
use support::parquet_read::{int, read_table, string};
use support::run::CrawlSetup;

fn report(agency: &str, year: i32, published: &str) -> Page {
    Page::html(
        200,
        &format!(
            "<html><head><meta charset=\"utf-8\"><title>{agency}{year}年政府信息公开工作年度报告</title></head><body>\
             <h1>{agency}{year}年政府信息公开工作年度报告</h1><div class=\"info\">发布时间：{published}</div>\
             <p>一、总体情况</p><p>{year}年，本机关依法做好政府信息公开工作。</p></body></html>"
        ),
    )
}

fn link(path: &str, agency: &str, year: i32) -> String {
    format!("<li><a href=\"{path}\">{agency}{year}年政府信息公开工作年度报告</a></li>")
}

const HOME: &str = "<a href=\"/xxgk/nb/\">政府信息公开年报</a>";

/// The five portals; with `removed`, 甲县 has taken its 2022 report down (a 404, its
/// link still listed).
fn portals(removed: bool) -> Vec<Site> {
    let mut ontime = Site::empty("www.jia.gov.cn")
        .page("/", Page::html(200, HOME))
        .page(
            "/xxgk/nb/",
            Page::html(200, &format!("<ul>{}{}</ul>", link("/xxgk/nb/a23.html", "甲县人民政府", 2023), link("/xxgk/nb/a22.html", "甲县人民政府", 2022))),
        )
        .page("/xxgk/nb/a23.html", report("甲县人民政府", 2023, "2024-03-05"));
    if !removed {
        ontime = ontime.page("/xxgk/nb/a22.html", report("甲县人民政府", 2022, "2023-01-20"));
    }
    let down = Site::empty("www.yi.gov.cn").page("/robots.txt", Page { fault: Some(Fault::Reset), ..Page::html(200, "") });
    let waf = Site::empty("www.bing.gov.cn").page("/", Page::html(412, "<script>var $_ts=window['$_ts'];$_ts.nsd=1;</script>"));
    let cut = Site::empty("www.ding.gov.cn")
        .page("/", Page::html(200, HOME))
        .page(
            "/xxgk/nb/",
            Page::html(200, &format!("<ul>{}</ul><a href=\"/xxgk/nb/index_1.html\">下一页</a>", link("/xxgk/nb/a24.html", "丁县人民政府", 2024))),
        )
        .page("/xxgk/nb/index_1.html", Page::html(200, &format!("<ul>{}</ul>", link("/xxgk/nb/a21.html", "丁县人民政府", 2021))))
        .page("/xxgk/nb/a24.html", report("丁县人民政府", 2024, "2025-01-10"))
        .page("/xxgk/nb/a21.html", report("丁县人民政府", 2021, "2022-01-10"));
    let nocol = Site::empty("www.wu.gov.cn").page("/", Page::html(200, "<a href=\"/xwzx/\">新闻中心</a>"));
    vec![ontime, down, waf, cut, nocol]
}

#[test]
fn every_body_and_year_has_a_row_that_says_what_the_crawl_knows() {
    let hosts = ["www.jia.gov.cn", "www.yi.gov.cn", "www.bing.gov.cn", "www.ding.gov.cn", "www.wu.gov.cn"];
    let web = MockWeb::start(portals(false));
    let seeds: Vec<String> = [
        ("www.jia.gov.cn", "甲县人民政府"),
        ("www.yi.gov.cn", "乙县人民政府"),
        ("www.bing.gov.cn", "丙县人民政府"),
        ("www.ding.gov.cn", "丁县人民政府"),
        ("www.wu.gov.cn", "戊县人民政府"),
    ]
    .iter()
    .map(|(host, agency)| format!("http://{host}/,{agency},530600"))
    .collect();
    // Two of five hosts fail: not an outage here.
    let config = "per_host_rps = 50.0\nretries = 0\nmax_failed_hosts = 1.0\n[discover]\nmin_report_year = 2021\nmax_list_pages = 1";
    let setup = CrawlSetup::new(&web, &hosts, &seeds, config);
    let (ok, log) = setup.crawl();
    assert!(ok, "{log}");

    let mut got: BTreeMap<(String, i64), (String, Option<i64>, String)> = BTreeMap::new();
    for (province, year, batch) in read_table(setup.out(), "coverage") {
        assert_eq!(province, "云南省");
        for i in 0..batch.num_rows() {
            let key = (string(&batch, "agency", i).unwrap(), year.parse().unwrap());
            let row = (string(&batch, "status", i).unwrap(), int(&batch, "days_late", i), string(&batch, "evidence", i).unwrap());
            assert!(got.insert(key, row).is_none(), "one row per body and year");
        }
    }
    let last = chrono::Utc::now().year() as i64 - 1;
    let mut want: BTreeMap<(String, i64), (&str, Option<i64>)> = BTreeMap::new();
    for year in 2021..=last {
        want.insert(("甲县人民政府".into(), year), ("not_listed", None));
        want.insert(("乙县人民政府".into(), year), ("unreachable", None));
        want.insert(("丙县人民政府".into(), year), ("blocked", None));
        want.insert(("丁县人民政府".into(), year), ("budget_exhausted", None));
        want.insert(("戊县人民政府".into(), year), ("no_column", None));
    }
    want.insert(("甲县人民政府".into(), 2022), ("found", Some(-11)));
    want.insert(("甲县人民政府".into(), 2023), ("found", Some(34)));
    want.insert(("丁县人民政府".into(), 2024), ("found", Some(-21)));
    let got_short: BTreeMap<_, _> = got.iter().map(|(k, (status, late, _))| (k.clone(), (status.as_str(), *late))).collect();
    assert_eq!(got_short, want, "{log}");

    let evidence = |agency: &str, year: i64| got[&(agency.to_string(), year)].2.clone();
    assert!(evidence("甲县人民政府", 2024).starts_with("walked to the end: «政府信息公开年报» (1 list pages)"), "{}", evidence("甲县人民政府", 2024));
    assert!(evidence("乙县人民政府", 2024).contains("robots.txt"), "{}", evidence("乙县人民政府", 2024));
    assert!(evidence("丙县人民政府", 2024).contains("HTTP 412 challenge"), "{}", evidence("丙县人民政府", 2024));
    assert!(evidence("丁县人民政府", 2021).contains("cut by the page budget"), "{}", evidence("丁县人民政府", 2021));
    assert_eq!(evidence("甲县人民政府", 2023), "report http://www.jia.gov.cn/xxgk/nb/a23.html");

    // The next night the 2022 report is gone from the portal: it stays found, with the
    // time it went, and both reports keep the first sighting of the first night.
    let first_night = seen(&setup);
    drop(web);
    let web = MockWeb::start(portals(true));
    std::fs::write(&setup.config, web.config(&hosts, &format!("[crawl]\nproxy = \"none\"\n{config}"))).unwrap();
    // Every page asked again, as when its revisit is due (tests/revisit.rs has the schedule).
    let (ok, log) = setup.crawl_with(&["--revisit", "all"]);
    assert!(ok, "{log}");
    let next_night = seen(&setup);
    let gone = &next_night[&2022];
    assert_eq!((gone.0.as_str(), gone.1.as_ref(), gone.3.is_some()), ("found", first_night[&2022].1.as_ref(), true), "{next_night:?}");
    let kept = &next_night[&2023];
    assert_eq!((kept.1.as_ref(), kept.3.as_ref()), (first_night[&2023].1.as_ref(), None));
    assert!(kept.2 > first_night[&2023].2, "last_seen moves on: {kept:?}");

    // A night that reaches nothing (a dead proxy) is an outage, and changes nothing of
    // what earlier nights established: each row keeps its status, and says the last
    // attempt failed and why.
    let before = seen(&setup);
    std::fs::write(&setup.config, web.config(&hosts, &format!("[crawl]\nproxy = \"http://127.0.0.1:1\"\n{config}"))).unwrap();
    let out = setup.command().output().unwrap();
    assert_eq!(out.status.code(), Some(69));
    let after = seen(&setup);
    let statuses = |rows: &Seen| rows.iter().map(|(y, r)| (*y, r.0.clone())).collect::<Vec<_>>();
    assert_eq!(statuses(&after), statuses(&before));
    let mut evidence = BTreeMap::new();
    for (_, year, batch) in read_table(setup.out(), "coverage") {
        for i in 0..batch.num_rows() {
            evidence.insert((string(&batch, "agency", i).unwrap(), year.parse::<i64>().unwrap()), string(&batch, "evidence", i).unwrap());
        }
    }
    let not_listed = &evidence[&("甲县人民政府".to_string(), 2024)];
    assert!(
        not_listed.starts_with("walked to the end") && not_listed.contains("the last attempt, run ") && not_listed.contains("failed: host unreachable"),
        "{not_listed}"
    );
    assert!(evidence[&("戊县人民政府".to_string(), 2024)].contains("no report column found"), "no_column is kept too");
}

/// 甲县's rows by year: (status, first_seen, last_seen, removed_at) in microseconds.
type Seen = BTreeMap<i64, (String, Option<i64>, Option<i64>, Option<i64>)>;

fn seen(setup: &CrawlSetup) -> Seen {
    let mut rows = BTreeMap::new();
    for (_, year, batch) in read_table(setup.out(), "coverage") {
        for i in 0..batch.num_rows() {
            if string(&batch, "agency", i).as_deref() == Some("甲县人民政府") {
                let time = |column: &str| {
                    let col = batch.column_by_name(column).unwrap().as_primitive::<arrow_array::types::TimestampMicrosecondType>();
                    (!col.is_null(i)).then(|| col.value(i))
                };
                rows.insert(year.parse().unwrap(), (string(&batch, "status", i).unwrap(), time("first_seen"), time("last_seen"), time("removed_at")));
            }
        }
    }
    rows
}
