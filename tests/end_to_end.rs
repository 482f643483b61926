//! The whole pipeline on a mock web: three portals in three CMS styles (TRS with GBK
//! and static paging, Hanweb with its script-embedded datastore, a plain 集约化 CMS
//! with the charset only in <meta>), under their real host names on 127.0.0.1.
//! `nianbao crawl` runs on it; the Parquet is read back and checked against the
//! seed reports' own numbers.
//!
//! The dataset is left in target/tmp/e2e-data for .ci/run's Python readers.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use support::mock_web::{MockWeb, Site, fixtures};
use support::parquet_read::{float, read_table, string, strings_list};

const HOSTS: [&str; 3] = ["www.sxgp.gov.cn", "www.kmgd.gov.cn", "www.zt.gov.cn"];

fn portals() -> Vec<Site> {
    vec![
        Site::from_fixtures("www.sxgp.gov.cn", "text/html; charset=gb2312", true)
            .article("/zfxxgk/zfxxgknb/202401/t20240125_1581.html", "gaoping_2023_trs_word_cells"),
        Site::from_fixtures("www.kmgd.gov.cn", "text/html; charset=UTF-8", false).article("/art/2025/1/20/art_3260_99001.html", "guandu_2024_hanweb_one_table"),
        Site::from_fixtures("www.zt.gov.cn", "text/html", false)
            .article("/zwgk/bmxxgk/zwfwglj/xxgknb/202101/t20210128_555.html", "zhaotong_zwfw_2020_format2019_typos")
            .article("/zwgk/xxgknb/202401/30/12345.html", "zhaotong_2023_tables_as_images"),
    ]
}

const SEEDS: &str = "url,agency,division_code
http://www.sxgp.gov.cn/,高平市人民政府,140581
http://www.kmgd.gov.cn/,昆明市官渡区人民政府,530111
http://www.zt.gov.cn/,昭通市人民政府,530600
";

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao")).args(args).env("NIANBAO_LOG", "nianbao=warn").output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// (report_id → (province, year, row index, batch index)) and the facts per report.
struct Dataset {
    reports: BTreeMap<String, BTreeMap<&'static str, String>>,
    facts: BTreeMap<String, BTreeMap<String, (String, Option<f64>)>>,
}

fn load(out: &Path) -> Dataset {
    let mut reports = BTreeMap::new();
    for (province, year, batch) in read_table(out, "reports") {
        for i in 0..batch.num_rows() {
            let mut row = BTreeMap::new();
            row.insert("province", province.clone());
            row.insert("year", year.clone());
            for col in ["url", "title", "agency", "division_code", "province_code", "admin_level", "format", "encoding", "source_type"] {
                row.insert(col, string(&batch, col, i).unwrap_or_default());
            }
            row.insert("warnings", strings_list(&batch, "warnings", i).join(" | "));
            row.insert("checks_failed", strings_list(&batch, "checks_failed", i).join(" | "));
            reports.insert(string(&batch, "report_id", i).unwrap(), row);
        }
    }
    let mut facts: BTreeMap<String, BTreeMap<String, (String, Option<f64>)>> = BTreeMap::new();
    for (_, _, batch) in read_table(out, "facts") {
        for i in 0..batch.num_rows() {
            let id = string(&batch, "report_id", i).unwrap();
            let key = string(&batch, "key", i).unwrap();
            let fact = (string(&batch, "raw", i).unwrap(), float(&batch, "value", i));
            assert!(facts.entry(id).or_default().insert(key.clone(), fact).is_none(), "fact {key} written twice");
        }
    }
    Dataset { reports, facts }
}

fn expected_facts(fixture: &str) -> BTreeMap<String, (String, Option<f64>)> {
    let text = std::fs::read_to_string(fixtures().join("extract").join(format!("{fixture}.expected.json"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["facts"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), (v["raw"].as_str().unwrap().to_string(), v["value"].as_f64()))).collect()
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-data");
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn crawl_three_portals_into_a_dataset() {
    let web = MockWeb::start(portals());
    let work = tempfile::tempdir().unwrap();
    let seeds = work.path().join("seeds.csv");
    std::fs::write(&seeds, SEEDS).unwrap();
    let config = work.path().join("config.toml");
    std::fs::write(&config, web.config(&HOSTS, "[crawl]\nper_host_rps = 50.0\nproxy = \"none\"\nretries = 1\nbackoff_base_ms = 10")).unwrap();
    let out = out_dir();

    let started = Instant::now();
    let (ok, log) = run(&["crawl", "--seeds", seeds.to_str().unwrap(), "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let seconds = started.elapsed().as_secs_f64();
    assert!(ok, "crawl failed:\n{log}");
    let hits = web.hits();
    eprintln!("end-to-end: {} requests in {seconds:.2} s = {:.1} pages/s\n{log}", hits.len(), hits.len() as f64 / seconds);

    let data = load(&out);
    let by_title: BTreeMap<String, (&String, &BTreeMap<&str, String>)> = data.reports.iter().map(|(id, r)| (r["title"].clone(), (id, r))).collect();
    let titles: BTreeSet<&str> = by_title.keys().map(String::as_str).collect();
    assert_eq!(
        titles,
        BTreeSet::from([
            "高平市人民政府办公室2023年政府信息公开工作年度报告",
            "昆明市官渡区人民政府2024年政府信息公开工作年度报告",
            "昭通市政务服务管理局2020年政府信息公开工作年度报告",
            "昭通市人民政府2023年政府信息公开工作年度报告",
        ]),
        "exactly the reports, no near miss"
    );

    let cases = [
        (
            "高平市人民政府办公室2023年政府信息公开工作年度报告",
            "山西省",
            "2023",
            "2021",
            "高平市人民政府办公室",
            "140581",
            "GBK",
            "gaoping_2023_trs_word_cells",
        ),
        (
            "昆明市官渡区人民政府2024年政府信息公开工作年度报告",
            "云南省",
            "2024",
            "2021",
            "昆明市官渡区人民政府",
            "530111",
            "UTF-8",
            "guandu_2024_hanweb_one_table",
        ),
        (
            "昭通市政务服务管理局2020年政府信息公开工作年度报告",
            "云南省",
            "2020",
            "2019",
            "昭通市政务服务管理局",
            "530600",
            "UTF-8",
            "zhaotong_zwfw_2020_format2019_typos",
        ),
    ];
    for (title, province, year, format, agency, code, encoding, fixture) in cases {
        let (id, r) = by_title[title];
        assert_eq!(
            (r["province"].as_str(), r["year"].as_str(), r["format"].as_str(), r["agency"].as_str(), r["division_code"].as_str(), r["encoding"].as_str()),
            (province, year, format, agency, code, encoding),
            "{title}"
        );
        assert_eq!(r["province_code"], &code[..2]);
        assert_eq!(r["checks_failed"], "", "{title}: the seed's identities hold");
        // Every fact of sections active, requests and review equals the seed text;
        // the Word tables' empty grid cells outside the template give no fact.
        assert_eq!(data.facts[id], expected_facts(fixture), "{title}: facts");
    }
    // The wide table: one row per report, its figures the facts of the same keys.
    let wide: BTreeMap<String, (String, BTreeMap<String, Option<f64>>)> = read_table(&out, "report_tables")
        .into_iter()
        .flat_map(|(_, _, batch)| {
            (0..batch.num_rows())
                .map(|i| {
                    let figures = nianbao::dataset::keys::wide_columns().iter().map(|(key, column)| (key.clone(), float(&batch, column, i))).collect();
                    (string(&batch, "report_id", i).unwrap(), (string(&batch, "agency", i).unwrap(), figures))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(wide.len(), data.reports.len(), "one wide row per report");
    for (title, .., agency, _, _, fixture) in cases {
        let (id, _) = by_title[title];
        let (wide_agency, figures) = &wide[id.as_str()];
        assert_eq!(wide_agency, agency);
        let expected = expected_facts(fixture);
        for (key, value) in figures {
            assert_eq!(*value, expected.get(key).and_then(|(_, v)| *v), "{title}: {key}");
        }
        assert_eq!(figures["requests/new_received/total"], expected["requests/new_received/total"].1, "{title}");
    }
    assert!(out.join("keys.parquet").exists(), "the key map is written beside the tables");

    let (id, images) = by_title["昭通市人民政府2023年政府信息公开工作年度报告"];
    assert!(images["warnings"].contains("tables only as images"), "{images:?}");
    assert!(!data.facts.contains_key(id), "a report without tables has no facts");
    assert_eq!((images["province"].as_str(), images["year"].as_str(), images["admin_level"].as_str()), ("云南省", "2023", "prefecture"));

    // Scope and politeness on the way: robots.txt read once per host, nothing outside
    // the three hosts, near-miss articles never fetched.
    for host in HOSTS {
        let robots = hits.iter().filter(|h| h.host == host && h.path == "/robots.txt").count();
        assert_eq!(robots, 1, "{host} robots.txt fetched {robots} times");
    }
    assert!(hits.iter().all(|h| HOSTS.contains(&h.host.as_str())));
    assert!(!hits.iter().any(|h| h.path.contains("t20231205_1500") || h.path.contains("art_3260_98990")));

    // A second run asks for every page it has validators for conditionally, list and
    // navigation pages included: only robots.txt, Hanweb's POSTed list windows and
    // pages that had no validators go unconditional. The 304s are WARC revisit records
    // (check_dataset.py reads them with warcio), and the dataset stays the same.
    let first_run: BTreeSet<(String, String)> = hits.iter().map(|h| (h.host.clone(), h.path.clone())).collect();
    let with_validators: BTreeSet<String> = {
        let state = rusqlite::Connection::open(out.join("state/nianbao.sqlite")).unwrap();
        let mut rows = state.prepare("SELECT url FROM pages WHERE etag IS NOT NULL").unwrap();

        rows.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
    };
    assert!(with_validators.iter().any(|u| u.ends_with("/zfxxgk/zfxxgknb/")), "list pages keep their validators: {with_validators:?}");
    // Every page asked again (`--revisit all`, as when due): revalidation, not the
    // schedule (tests/revisit.rs), is tested here.
    let before = web.hits().len();
    let (ok, log) =
        run(&["crawl", "--seeds", seeds.to_str().unwrap(), "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap(), "--revisit", "all"]);
    assert!(ok, "second crawl failed:\n{log}");
    let second = &web.hits()[before..];
    let conditional = |h: &&support::mock_web::Hit| h.request_headers.iter().any(|(n, _)| n == "if-none-match");
    let unconditional: Vec<String> = second
        .iter()
        .filter(|h| h.method == "GET" && !conditional(h))
        .map(|h| format!("http://{}{}", h.host, h.path))
        .filter(|url| with_validators.contains(url))
        .collect();
    assert!(unconditional.is_empty(), "asked unconditionally though it had validators: {unconditional:?}");
    assert!(second.iter().filter(conditional).count() >= 12, "{} conditional requests", second.iter().filter(conditional).count());
    assert!(second.iter().all(|h| first_run.contains(&(h.host.clone(), h.path.clone()))), "the second run found no new page");
    let again = load(&out);
    assert_eq!(again.reports, data.reports, "a second run over unchanged pages gives the same reports");
    assert!(again.facts == data.facts, "and the same facts");

    // `extract` rebuilds the same dataset from the raw archive, without the network.
    drop(web);
    let (ok, log) = run(&["extract", "--out", out.to_str().unwrap()]);
    assert!(ok, "extract failed:\n{log}");
    let rebuilt = load(&out);
    assert_eq!(rebuilt.reports, data.reports, "extract gives the reports the crawl gave");
    assert!(rebuilt.facts == data.facts, "extract gives the facts the crawl gave");

    // `stats` reads the dataset back.
    let stats = Command::new(env!("CARGO_BIN_EXE_nianbao")).args(["stats", "--json", "--out", out.to_str().unwrap()]).output().unwrap();
    assert!(stats.status.success());
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["reports"], 4);
    assert_eq!(stats["reports_by_province"]["云南省"]["2024"], 1);
    assert_eq!(stats["facts"], 598);
    // On a directory that holds no crawl, stats says so and fails.
    let empty = tempfile::tempdir().unwrap();
    let stats = Command::new(env!("CARGO_BIN_EXE_nianbao")).args(["stats", "--out"]).arg(empty.path()).output().unwrap();
    assert_eq!(stats.status.code(), Some(66), "EX_NOINPUT");
    assert!(String::from_utf8_lossy(&stats.stderr).contains("holds no crawl"));
}
