//! A crawl killed with SIGKILL at any moment and run again ends with the dataset an
//! uninterrupted crawl gives: no lost report, no duplicate row. A second run over
//! unchanged pages costs conditional requests only; a changed report gets a version.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use support::mock_web::{MockWeb, Page, Site};
use support::parquet_read::{read_table, string};
use support::run::CrawlSetup;

const FIXTURES: [&str; 3] = ["gaoping_2023_trs_word_cells", "guandu_2024_hanweb_one_table", "zhaotong_zwfw_2020_format2019_typos"];

fn portals(changed: bool) -> (Vec<Site>, Vec<String>) {
    let mut sites = Vec::new();
    let mut hosts = Vec::new();
    for i in 0..20 {
        let host = format!("www.town{i:02}.gov.cn");
        let mut list = String::new();
        let mut site = Site::from_fixtures("www.zt.gov.cn", "text/html", false);
        site.host = host.clone();
        for (k, fixture) in FIXTURES.iter().enumerate() {
            list.push_str(&format!("<li><a href=\"/nb/{k}.html\">某镇人民政府{}年政府信息公开工作年度报告</a></li>", 2020 + k));
            site = site.article(&format!("/nb/{k}.html"), fixture);
        }
        if changed && i == 0 {
            // 发布后有变动: the report was edited after publication.
            site = site.article("/nb/0.html", "guandu_2024_wrong_totals");
        }
        site = site.page("/", Page::html(200, "<a href=\"/nb/\">政府信息公开年报</a>")).page("/nb/", Page::html(200, &list));
        sites.push(site);
        hosts.push(host);
    }
    (sites, hosts)
}

type Facts = BTreeMap<(String, i64, String), String>;

/// report_id → versions, and every fact by (report_id, version, key) → raw.
fn dataset(setup: &CrawlSetup) -> Dataset {
    let mut reports: BTreeMap<String, Vec<(i64, bool)>> = BTreeMap::new();
    for (_, _, batch) in read_table(setup.out(), "reports") {
        let versions = batch.column_by_name("version").unwrap().as_any().downcast_ref::<arrow_array::Int64Array>().unwrap().clone();
        let current = batch.column_by_name("is_current").unwrap().as_any().downcast_ref::<arrow_array::BooleanArray>().unwrap().clone();
        for i in 0..batch.num_rows() {
            reports.entry(string(&batch, "report_id", i).unwrap()).or_default().push((versions.value(i), current.value(i)));
        }
    }
    let mut facts = Facts::new();
    for (_, _, batch) in read_table(setup.out(), "facts") {
        let versions = batch.column_by_name("version").unwrap().as_any().downcast_ref::<arrow_array::Int64Array>().unwrap().clone();
        for i in 0..batch.num_rows() {
            let key = (string(&batch, "report_id", i).unwrap(), versions.value(i), string(&batch, "key", i).unwrap());
            assert!(facts.insert(key.clone(), string(&batch, "raw", i).unwrap()).is_none(), "duplicate fact row {key:?}");
        }
    }
    (reports, facts)
}

fn setup_for(web: &MockWeb, hosts: &[String]) -> CrawlSetup {
    let refs: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let seeds: Vec<String> = hosts.iter().map(|h| format!("http://{h}/,某镇人民政府,530602")).collect();
    CrawlSetup::new(web, &refs, &seeds, "per_host_rps = 3.0")
}

#[test]
fn killed_runs_resume_to_the_same_dataset_and_reruns_add_nothing() {
    let (sites, hosts) = portals(false);
    let web = MockWeb::start(sites);

    let reference = setup_for(&web, &hosts);
    let (ok, log) = reference.crawl();
    assert!(ok, "{log}");
    let (want_reports, want_facts) = dataset(&reference);
    assert_eq!(want_reports.len(), 60);
    assert_eq!(want_facts.len(), 20 * (200 + 200 + 198));

    let killed = setup_for(&web, &hosts);
    // At 3 requests/s a host needs ~1.7 s for its 6 pages: every kill lands mid-run.
    for delay_ms in [200, 450, 700, 900] {
        let mut child = killed.spawn();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let interrupted: i64 = killed.state().query_row("SELECT COUNT(*) FROM runs WHERE finished_at IS NULL", [], |r| r.get(0)).unwrap();
    assert!(interrupted >= 1, "no kill landed in the middle of a run");
    let (ok, log) = killed.crawl();
    assert!(ok, "{log}");
    let (got_reports, got_facts) = dataset(&killed);
    assert_eq!(got_reports, want_reports, "same reports after kill -9 and resume");
    assert!(got_facts == want_facts, "same facts after kill -9 and resume");

    // A second run over unchanged pages, every page asked again (`--revisit all`, as
    // when due): conditional requests, 304s, no new rows.
    let before = web.hits().len();
    let (ok, log) = killed.crawl_with(&["--revisit", "all"]);
    assert!(ok, "{log}");
    let rerun = &web.hits()[before..];
    let articles: Vec<_> = rerun.iter().filter(|h| h.path.starts_with("/nb/") && h.path.ends_with(".html")).collect();
    assert_eq!(articles.len(), 60);
    assert!(articles.iter().all(|h| h.request_headers.iter().any(|(n, _)| n == "if-none-match")), "conditional requests");
    assert!(log.contains("not-modified"), "{log}");
    assert_eq!(dataset(&killed), (want_reports.clone(), want_facts.clone()), "a rerun adds no row");
    let old_addr = web.addr.to_string();
    drop(web);

    // The portal edits one report: the next run keeps both versions.
    let (sites, _) = portals(true);
    let edited = MockWeb::start(sites);
    let config = std::fs::read_to_string(&killed.config).unwrap().replace(&old_addr, &edited.addr.to_string());
    std::fs::write(&killed.config, config).unwrap();
    let (ok, log) = killed.crawl_with(&["--revisit", "all"]);
    assert!(ok, "{log}");
    let (reports, facts) = dataset(&killed);
    assert_eq!(reports.len(), 60, "still 60 reports");
    let versions: Vec<&Vec<(i64, bool)>> = reports.values().filter(|v| v.len() > 1).collect();
    assert_eq!(versions, vec![&vec![(1, false), (2, true)]], "one report with two versions, the newest current");
    assert_eq!(facts.len(), want_facts.len() + 200, "the old version's facts stay, the new version's are added");
    let stats = std::process::Command::new(env!("CARGO_BIN_EXE_nianbao")).args(["stats", "--json", "--out"]).arg(killed.out()).output().unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!((stats["reports"].as_u64(), stats["superseded_versions"].as_u64()), (Some(60), Some(1)), "stats counts a report once");

    // Each report page is parsed once: a rerun builds the dataset from what the crawl
    // extracted, so it needs no raw archive for the 61 unchanged report versions.
    std::fs::rename(killed.out().join("raw"), killed.dir.path().join("raw-moved-away")).unwrap();
    let (ok, log) = killed.crawl();
    assert!(ok, "{log}");
    assert!(dataset(&killed) == (reports, facts), "the same dataset from the stored extractions");
}

/// A dataset in short: each report's versions (number, is_current), and the facts.
type Dataset = (BTreeMap<String, Vec<(i64, bool)>>, Facts);

/// The twenty portals crawled once: the web, the crawl, and the dataset it gave.
fn crawled_once() -> (MockWeb, CrawlSetup, Dataset) {
    let (sites, hosts) = portals(false);
    let web = MockWeb::start(sites);
    let setup = setup_for(&web, &hosts);
    let (ok, log) = setup.crawl();
    assert!(ok, "{log}");
    let want = dataset(&setup);
    (web, setup, want)
}

#[test]
fn a_writer_killed_mid_file_leaves_no_partial_parquet_and_the_next_run_completes() {
    let (web, setup, want) = crawled_once();
    drop(web);

    let extract = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_nianbao"));
        c.args(["extract", "--out"]).arg(setup.out()).stderr(std::process::Stdio::null());
        c
    };
    // Kills spread over a whole run's duration, most of them near its end, where the
    // Parquet files are written.
    let started = std::time::Instant::now();
    assert!(extract().status().unwrap().success());
    let full = started.elapsed();
    for fraction in [0.3, 0.6, 0.8, 0.88, 0.93, 0.96, 0.98, 0.99] {
        let delay = full.mul_f64(fraction);
        let mut child = extract().spawn().unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL, possibly in the middle of a Parquet file
        child.wait().unwrap();
        // Whatever moment it died at, every visible part file is a whole Parquet file.
        for table in ["reports", "facts"] {
            for (path, ..) in nianbao::dataset::stats::part_files(&setup.out().join(table)).unwrap() {
                let file = std::fs::File::open(&path).unwrap();
                let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file);
                assert!(reader.is_ok(), "partial file visible after a kill at {delay:?}: {}", path.display());
            }
        }
    }
    let out = extract().output().unwrap();
    assert!(out.status.success());
    assert_eq!(dataset(&setup), want, "the next run completes every partition");
}

#[test]
fn a_raw_archive_cut_short_loses_no_report_for_good() {
    let (web, setup, want) = crawled_once();

    // A kill's aftermath: the WARC's tail is gone. `extract` reads every report from it.
    let warcs: Vec<_> = std::fs::read_dir(setup.out().join("raw")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(warcs.len(), 1);
    let size = std::fs::metadata(&warcs[0]).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&warcs[0]).unwrap().set_len(size * 2 / 3).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nianbao")).args(["extract", "--out"]).arg(setup.out()).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    // The crawl's kept extractions stand in for the records the archive lost: no
    // report leaves the dataset, and each lost record is named.
    assert_eq!(out.status.code(), Some(0), "{said}");
    let lost: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("unreadable: the crawl's extraction of it kept"))
        .filter_map(|l| l.split("url=\"").nth(1)?.split('"').next())
        .collect();
    assert!(!lost.is_empty(), "the cut archive lost some records:\n{said}");
    assert_eq!(dataset(&setup), want, "every report is still in the dataset");

    // The portal would answer 304 to the old validators: they were forgotten, so the
    // next crawl fetches the lost pages whole.
    let asked_before = web.hits().len();
    let (ok, log) = setup.crawl();
    assert!(ok, "{log}");
    for url in &lost {
        let url = url::Url::parse(url).unwrap();
        let again: Vec<_> = web.hits().into_iter().skip(asked_before).filter(|h| Some(h.host.as_str()) == url.host_str() && h.path == url.path()).collect();
        assert!(!again.is_empty(), "{url} was fetched again");
        assert!(again.iter().all(|h| !h.request_headers.iter().any(|(n, _)| n == "if-none-match" || n == "if-modified-since")), "{url} fetched whole");
    }
    assert_eq!(dataset(&setup), want, "every report is back after one crawl");
}
