//! The revisit schedule over simulated nights (`NIANBAO_NOW`), on one mock portal:
//! a column whose entry page gains a report between nights, and a report article
//! edited in place. A night asks only for what is due: the column's entry page every
//! run, robots.txt once a day, other pages after their interval; a new report is in
//! the dataset the next night, an edited one within its interval, and a report not
//! revisited keeps its `last_seen`.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use support::mock_web::{MockWeb, Page, Site};
use support::parquet_read::{int, read_table, string, timestamp};
use support::run::CrawlSetup;

const HOST: &str = "www.nights.gov.cn";

fn article(year: u32, note: &str) -> String {
    let title = format!("夜间县人民政府{year}年政府信息公开工作年度报告");
    format!("<html><head><title>{title}</title></head><body><h1>{title}</h1><p>本报告统计期限为{year}年1月1日至12月31日。{note}</p></body></html>")
}

fn link(year: u32) -> String {
    format!("<li><a href=\"/a/{year}.html\">夜间县人民政府{year}年政府信息公开工作年度报告</a></li>")
}

/// The portal: after `changed` is set, the column's entry page lists a 2024 report
/// and the 2023 report's article carries a correction.
fn portal(changed: Arc<AtomicBool>) -> Site {
    Site::empty(HOST).dynamic(move |path| {
        let changed = changed.load(Ordering::SeqCst);
        let html = match path {
            "/" => "<a href=\"/nb/\">政府信息公开年报</a>".to_string(),
            "/nb/" => {
                let newest = if changed { link(2024) } else { String::new() };
                format!("<ul>{newest}{}</ul><a href=\"/nb/index_1.html\">下一页</a>", link(2023))
            }
            "/nb/index_1.html" => format!("<ul>{}{}</ul>", link(2022), link(2021)),
            "/a/2023.html" => article(2023, if changed { "（本报告已更正）" } else { "" }),
            "/a/2024.html" if changed => article(2024, ""),
            "/a/2022.html" => article(2022, ""),
            "/a/2021.html" => article(2021, ""),
            _ => return None,
        };
        Some(Page::html(200, &html).header("Content-Type", "text/html; charset=utf-8"))
    })
}

/// Runs one night at `now`; the paths it asked for, in order.
fn night(setup: &CrawlSetup, web: &MockWeb, now: &str, args: &[&str]) -> (Vec<String>, String) {
    let before = web.hits().len();
    let out = setup.command().args(args).env("NIANBAO_NOW", now).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    assert!(out.status.success(), "night {now}:\n{said}");
    (web.hits()[before..].iter().map(|h| h.path.clone()).collect(), said)
}

/// Each report's URL with its `last_seen` (from the coverage table) and version,
/// from the dataset.
fn reports(setup: &CrawlSetup) -> Vec<(String, String, String)> {
    let coverage = read_table(setup.out(), "coverage");
    let last_seen = |id: &str| {
        coverage
            .iter()
            .find_map(|(_, _, b)| (0..b.num_rows()).find(|&i| string(b, "report_id", i).as_deref() == Some(id)).and_then(|i| timestamp(b, "last_seen", i)))
    };
    let mut rows: Vec<(String, String, String)> = read_table(setup.out(), "reports")
        .iter()
        .flat_map(|(_, _, batch)| {
            (0..batch.num_rows()).map(move |i| (string(batch, "url", i).unwrap(), string(batch, "report_id", i).unwrap(), int(batch, "version", i).unwrap()))
        })
        .map(|(url, id, version)| (url, last_seen(&id).unwrap_or_default(), version.to_string()))
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_night_asks_only_for_what_is_due_and_still_finds_what_is_new() {
    let changed = Arc::new(AtomicBool::new(false));
    let web = MockWeb::start(vec![portal(changed.clone())]);
    let setup = CrawlSetup::new(&web, &[HOST], &[format!("http://{HOST}/,夜间县人民政府,")], "per_host_rps = 100.0");
    let url = |path: &str| format!("http://{HOST}{path}");

    // Night 1 fetches everything.
    let (asked, _) = night(&setup, &web, "2026-03-01T02:00:00Z", &[]);
    assert_eq!(asked.len(), 7, "{asked:?}");
    let first = reports(&setup);
    assert_eq!(first.len(), 3);
    assert!(first.iter().all(|(_, last_seen, _)| !last_seen.is_empty()), "{first:?}");

    // Six hours later, nothing has changed: only the column's entry page is asked
    // for (a 304); robots.txt is kept, the rest is not due.
    let (asked, said) = night(&setup, &web, "2026-03-01T08:00:00Z", &[]);
    assert_eq!(asked, vec!["/nb/"], "{said}");
    assert!(said.contains("0 fetched, 1 not modified (1 sent conditional), 0 failed; 5 pages not due"), "{said}");
    assert_eq!(reports(&setup), first, "reports not revisited keep what they had, last_seen included");
    assert_eq!(setup.outcome(&url("/a/2022.html")).as_deref(), Some("report"));

    // A report added to the column, and one edited in place.
    changed.store(true, Ordering::SeqCst);
    // A day later: robots.txt again (a day old), the entry page, and the new report;
    // the edited article is not due yet.
    let (asked, _) = night(&setup, &web, "2026-03-02T02:00:00Z", &[]);
    assert_eq!(asked, vec!["/robots.txt", "/nb/", "/a/2024.html"]);
    let after = reports(&setup);
    assert!(after.iter().any(|(u, _, _)| u == &url("/a/2024.html")), "{after:?}");
    let old = |rows: &[(String, String, String)], path: &str| rows.iter().find(|(u, _, _)| u == &url(path)).cloned().unwrap();
    assert_eq!(old(&after, "/a/2022.html"), old(&first, "/a/2022.html"));

    // A week and a half after night 1 (a week, and up to half a week more by URL) the
    // reports are due, and the edited one is read again: a new version. The later list
    // page and the portal (three days, and up to a day and a half more) are due too.
    let (asked, _) = night(&setup, &web, "2026-03-11T03:00:00Z", &[]);
    for path in ["/", "/nb/", "/nb/index_1.html", "/a/2023.html", "/a/2022.html", "/a/2021.html"] {
        assert!(asked.contains(&path.to_string()), "{path} not revisited: {asked:?}");
    }
    let versions: Vec<String> = reports(&setup).into_iter().filter(|(u, _, _)| u == &url("/a/2023.html")).map(|(_, _, v)| v).collect();
    assert!(versions.contains(&"2".to_string()), "the edited report is a new version: {versions:?}");

    // --revisit all asks for every page, due or not.
    let (asked, _) = night(&setup, &web, "2026-03-11T04:00:00Z", &["--revisit", "all"]);
    assert_eq!(asked.iter().filter(|p| *p != "/robots.txt").count(), 7, "{asked:?}");
}
