//! What a nightly operator relies on: exit statuses an alert can tell apart, a JSON
//! run summary, logs fit for a file, a clean stop on SIGINT/SIGTERM, and runs that
//! keep to the seed list (`--only-host`, `--dry-run`).

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::mock_web::{MockWeb, Page, Site};
use support::run::CrawlSetup;

const HOST: &str = "www.kmgd.gov.cn";
const REPORT: &str = "/art/2025/1/20/art_3260_99001.html";

fn site() -> Site {
    Site::from_fixtures(HOST, "text/html; charset=UTF-8", false).article(REPORT, "guandu_2024_hanweb_one_table")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn nianbao(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nianbao")).args(args).env("NIANBAO_LOG", "nianbao=warn").output().unwrap()
}

#[test]
fn each_kind_of_trouble_has_its_own_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    std::fs::write(path("seeds.csv"), "url\nhttp://www.zt.gov.cn/\n").unwrap();
    std::fs::write(path("bad-seeds.csv"), "url\nftp://www.zt.gov.cn/\n").unwrap();
    std::fs::write(path("typo.toml"), "[crawl]\nper_host_rsp = 5\n").unwrap();

    let usage = nianbao(&["crawl", "--seeds", &path("seeds.csv"), "--no-such-flag"]);
    assert_eq!(usage.status.code(), Some(64), "{}", stderr(&usage));
    assert_eq!(nianbao(&["--help"]).status.code(), Some(0));
    let rps = nianbao(&["crawl", "--seeds", &path("seeds.csv"), "--per-host-rps", "0", "--dry-run"]);
    assert_eq!(rps.status.code(), Some(64), "{}", stderr(&rps));
    let only = nianbao(&["crawl", "--seeds", &path("seeds.csv"), "--only-host", "www.yn.gov.cn", "--dry-run"]);
    assert_eq!(only.status.code(), Some(64), "{}", stderr(&only));
    assert!(stderr(&only).contains("--only-host www.yn.gov.cn matches no seed's host"), "{}", stderr(&only));
    // A setting this build cannot honour fails the dry run too.
    let lake = nianbao(&["crawl", "--seeds", &path("seeds.csv"), "--lake", &path("lake"), "--dry-run"]);
    if !cfg!(feature = "lake") {
        assert_eq!(lake.status.code(), Some(64), "{}", stderr(&lake));
        assert!(stderr(&lake).contains("built without Delta Lake support"), "{}", stderr(&lake));
    }

    let no_seeds = nianbao(&["crawl", "--seeds", &path("missing.csv"), "--out", &path("data")]);
    assert_eq!(no_seeds.status.code(), Some(66), "{}", stderr(&no_seeds));
    let bad_seeds = nianbao(&["crawl", "--seeds", &path("bad-seeds.csv"), "--out", &path("data")]);
    assert_eq!(bad_seeds.status.code(), Some(65), "{}", stderr(&bad_seeds));
    let config = nianbao(&["crawl", "--seeds", &path("seeds.csv"), "--config", &path("typo.toml"), "--out", &path("data")]);
    assert_eq!(config.status.code(), Some(78), "{}", stderr(&config));
    assert!(stderr(&config).contains("bad configuration: bad config file"), "{}", stderr(&config));

    // Another run holds the output's lock.
    std::fs::create_dir_all(path("data/state")).unwrap();
    let lock = std::fs::File::create(path("data/state/lock")).unwrap();
    lock.lock().unwrap();
    let locked = nianbao(&["crawl", "--seeds", &path("seeds.csv"), "--out", &path("data")]);
    assert_eq!(locked.status.code(), Some(75), "{}", stderr(&locked));
    assert!(stderr(&locked).contains("another nianbao run is using"), "{}", stderr(&locked));
    drop(lock);

    let nothing = nianbao(&["extract", "--out", &path("elsewhere")]);
    assert_eq!(nothing.status.code(), Some(66), "{}", stderr(&nothing));
}

#[test]
fn a_dead_proxy_collects_nothing_exits_69_and_says_the_proxy_failed() {
    let web = MockWeb::start(vec![site()]);
    // Port 9 on loopback: nothing listens, so the proxy refuses every connection.
    let setup = CrawlSetup::new(&web, &[], &[format!("http://{HOST}/,,530111")], "proxy = \"http://127.0.0.1:9\"\nretries = 0");
    let out = setup.command().arg("--json").output().unwrap();
    assert_eq!(out.status.code(), Some(69), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["exit_code"], 69);
    let host = &summary["hosts"][0];
    assert_eq!(host["finish"], "unreachable");
    let reason = host["reason"].as_str().unwrap();
    assert!(reason.starts_with("robots.txt: no connection through the proxy http://127.0.0.1:9"), "{reason}");
    assert!(!reason.contains("unreachable"), "the kind is said once, by `finish`: {reason}");
    assert!(web.hits().is_empty());
}

#[test]
fn the_json_summary_is_printed_and_kept_and_a_second_run_finds_the_report_unchanged() {
    let web = MockWeb::start(vec![site()]);
    let setup = CrawlSetup::new(&web, &[HOST], &[format!("http://{HOST}/,,530111")], "per_host_rps = 50.0");
    let first = setup.command().arg("--json").output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let printed: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let run_id = printed["run_id"].as_str().unwrap();
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(setup.out().join("runs").join(format!("{run_id}.json"))).unwrap()).unwrap();
    assert_eq!(printed, kept, "runs/<run-id>.json holds what --json printed");

    assert_eq!(printed["ended"], "finished");
    assert_eq!(printed["reports"], serde_json::json!({"new": 1, "changed": 0, "unchanged": 0}));
    assert_eq!(printed["dataset"]["reports"], 1);
    assert!(printed["elapsed_secs"].as_f64().unwrap() > 0.0);
    assert_eq!(printed["settings"]["config"]["crawl"]["per_host_rps"], 50.0);
    assert!(printed["settings"]["config_file"].as_str().unwrap().ends_with("config.toml"));
    assert_eq!(printed["pages_by_outcome"]["report"], 1);
    let host = &printed["hosts"][0];
    assert_eq!((host["host"].as_str(), host["finish"].as_str(), host["reports"].as_u64()), (Some(HOST), Some("done"), Some(1)));
    assert!(host["bytes"].as_u64().unwrap() > 10_000, "{host}");
    assert_eq!(host["statuses"]["200"], host["pages"]);

    // The second run, the report asked again (`--revisit all`): it answers 304 and is
    // counted unchanged.
    let second = setup.command().args(["--json", "--revisit", "all"]).output().unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let second: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(second["reports"], serde_json::json!({"new": 0, "changed": 0, "unchanged": 1}));
    assert_ne!(second["run_id"], printed["run_id"]);
}

#[test]
fn logs_off_a_terminal_have_no_colour_and_can_be_json_lines_with_one_line_per_url() {
    let web = MockWeb::start(vec![site()]);
    let setup = CrawlSetup::new(&web, &[HOST], &[format!("http://{HOST}/,,530111")], "per_host_rps = 50.0");
    let plain = setup.command().env("NIANBAO_LOG", "nianbao=debug").output().unwrap();
    let log = stderr(&plain);
    assert!(plain.status.success(), "{log}");
    assert!(!log.contains('\u{1b}'), "no ANSI escapes when stderr is a file:\n{log}");
    let report_line = log.lines().find(|l| l.contains("crawl_log") && l.contains(REPORT)).unwrap_or_else(|| panic!("{log}"));
    assert!(report_line.contains("status=200") && report_line.contains("outcome=\"report\""), "{report_line}");
    // Heritrix's fields: method, duration, content type, the page that linked it; robots.txt has its line.
    for field in ["method=\"GET\"", " ms=", "content_type=\"text/html", "referrer=\"http://"] {
        assert!(report_line.contains(field), "{field} in {report_line}");
    }
    assert!(log.lines().any(|l| l.contains("crawl_log") && l.contains("/robots.txt") && l.contains("kind=\"robots\"")), "{log}");
    // One count of requests, in the summary as in the progress line.
    let summary_text = String::from_utf8_lossy(&plain.stdout);
    assert!(summary_text.lines().any(|l| l.starts_with("requests: ") && l.contains(" fetched, ") && l.contains(" sent conditional")), "{summary_text}");
    // The text summary goes to stdout, with its time.
    let summary = String::from_utf8_lossy(&plain.stdout).into_owned();
    assert!(summary.starts_with("run ") && summary.contains(" finished at 20"), "{summary}");

    let json = setup.command().args(["--revisit", "all"]).env("NIANBAO_LOG", "nianbao=debug").env("NIANBAO_LOG_FORMAT", "json").output().unwrap();
    let lines: Vec<serde_json::Value> = stderr(&json).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    let not_modified = lines
        .iter()
        .find(|l| l["target"] == "nianbao::crawl_log" && l["fields"]["url"].as_str().is_some_and(|u| u.ends_with(REPORT)))
        .expect("the report's crawl log line");
    assert_eq!(not_modified["fields"]["status"], 304);
    assert_eq!(not_modified["fields"]["outcome"], "not-modified");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(newest_run(setup.out())).unwrap()).unwrap();
    let requests = &summary["requests"];
    assert!(
        requests["conditional"].as_u64().unwrap() >= requests["not_modified"].as_u64().unwrap() && requests["not_modified"].as_u64().unwrap() > 0,
        "{requests}"
    );
}

#[test]
fn dry_run_fetches_nothing_and_only_host_keeps_to_its_host() {
    let other = "www.zt.gov.cn";
    let web = MockWeb::start(vec![site(), Site::from_fixtures(other, "text/html", false)]);
    let seeds = [format!("http://{HOST}/,,530111"), format!("http://{other}/,,530600")];
    let setup = CrawlSetup::new(&web, &[HOST, other], &seeds, "per_host_rps = 50.0");

    let dry = setup.command().args(["--dry-run", "--json"]).output().unwrap();
    assert!(dry.status.success(), "{}", stderr(&dry));
    let plan: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    let hosts: Vec<&str> = plan["hosts"].as_array().unwrap().iter().map(|h| h["host"].as_str().unwrap()).collect();
    assert_eq!(hosts, vec![HOST, other]);
    assert_eq!(plan["hosts"][0]["per_host_rps"], 50.0);
    assert!(web.hits().is_empty(), "a dry run fetches nothing");
    assert!(!setup.out().exists(), "a dry run writes nothing");
    // A reader that has gone (`| head -1`) is a normal end, not a panic.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let closed = setup.command().args(["--dry-run", "--json"]).stdout(writer).output().unwrap();
    assert_eq!(closed.status.code(), Some(0), "{}", stderr(&closed));

    let only = setup.command().args(["--only-host", HOST]).output().unwrap();
    assert!(only.status.success(), "{}", stderr(&only));
    assert!(web.hits().iter().all(|h| h.host == HOST), "only {HOST} was fetched");
    assert_eq!(setup.outcome(&format!("http://{HOST}{REPORT}")).as_deref(), Some("report"));
}

#[test]
fn a_seed_list_without_an_earlier_seed_does_not_crawl_it_and_says_so() {
    let other = "www.zt.gov.cn";
    let web = MockWeb::start(vec![site(), Site::from_fixtures(other, "text/html", false)]);
    let both = CrawlSetup::new(&web, &[HOST, other], &[format!("http://{HOST}/,,530111"), format!("http://{other}/,,530600")], "per_host_rps = 50.0");
    assert!(both.crawl().0);
    let hits_before = web.hits().len();
    std::fs::write(&both.seeds, format!("url,agency,division_code\nhttp://{HOST}/,,530111\nftp://www.yn.gov.cn/,,530000\n")).unwrap();
    let (ok, log) = both.crawl();
    assert!(ok, "{log}");
    assert!(log.contains("1 seeds of earlier runs in this output are not in this seed list"), "{log}");
    // The line skipped is in the closing summary and runs/*.json, not only in the log.
    assert!(log.contains("seed list: ") && log.contains(":3: not an http(s) URL: \"ftp://www.yn.gov.cn/\""), "{log}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(newest_run(both.out())).unwrap()).unwrap();
    assert_eq!(summary["seed_lines_skipped"].as_array().map(Vec::len), Some(1), "{}", summary["seed_lines_skipped"]);
    assert!(web.hits()[hits_before..].iter().all(|h| h.host == HOST), "the earlier seed's host was not crawled");
}

#[test]
fn a_stop_in_the_first_moments_of_a_run_ends_it_cleanly() {
    // Stopped before any page is in, and while the report column's only list page is
    // in flight (the column known, none of its pages fetched).
    for moment in [None, Some("/")] {
        let list = format!("<a href=\"{REPORT}\">昆明市官渡区2024年政府信息公开工作年度报告</a>");
        let site = site()
            .page("/", Page::html(200, "<a href=\"/nb/\">政府信息公开年报</a>"))
            .page("/nb/", Page { delay: Some(Duration::from_millis(1500)), ..Page::html(200, &list) });
        let web = MockWeb::start(vec![site]);
        let setup = CrawlSetup::new(&web, &[HOST], &[format!("http://{HOST}/,,530111")], "per_host_rps = 50.0");
        let child = setup.command().stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        let started = Instant::now();
        while moment.is_some_and(|path| !web.hits().iter().any(|h| h.path == path)) {
            assert!(started.elapsed() < Duration::from_secs(30), "the crawl never fetched {moment:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(200));
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(143), "stopped at {moment:?}: {}", stderr(&out));
        let runs = std::fs::read_dir(setup.out().join("runs")).map_or(0, |d| d.count());
        assert_eq!(runs, 1, "stopped at {moment:?}: the run's summary is kept");
        assert!(setup.out().join("coverage").is_dir(), "stopped at {moment:?}: the coverage table is written");
        let extract = Command::new(env!("CARGO_BIN_EXE_nianbao")).args(["extract", "--out"]).arg(setup.out()).output().unwrap();
        assert!(extract.status.success(), "stopped at {moment:?}: {}", stderr(&extract));
    }
}

#[test]
fn sigint_and_sigterm_stop_the_run_write_what_was_collected_and_the_next_run_resumes() {
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        // The report comes at once; the list's other pages answer slowly, so the run
        // is still going when the signal comes.
        let mut site = site();
        let mut list = format!("<a href=\"{REPORT}\">昆明市官渡区2024年政府信息公开工作年度报告</a>");
        for k in 0..20 {
            let path = format!("/slow/{k}.html");
            list.push_str(&format!("<a href=\"{path}\">官渡区{}年政府信息公开工作年度报告</a>", 2010 + k % 10));
            site = site.page(&path, Page { delay: Some(Duration::from_millis(500)), ..Page::html(200, "<p>稍后</p>") });
        }
        let site = site.page("/", Page::html(200, "<a href=\"/nb/\">政府信息公开年报</a>")).page("/nb/", Page::html(200, &list));
        let web = MockWeb::start(vec![site]);
        let setup = CrawlSetup::new(&web, &[HOST], &[format!("http://{HOST}/,,530111")], "per_host_rps = 50.0");
        let child = setup.command().arg("--json").stdout(std::process::Stdio::piped()).spawn().unwrap();
        let started = Instant::now();
        while !web.hits().iter().any(|h| h.path.starts_with("/slow/")) {
            assert!(started.elapsed() < Duration::from_secs(30), "the crawl never reached the slow pages");
            std::thread::sleep(Duration::from_millis(20));
        }
        unsafe { libc::kill(child.id() as i32, signal) };
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(code));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["ended"], "interrupted");
        assert_eq!(summary["dataset"]["reports"], 1, "the report collected before the signal is in the dataset");
        let host = &summary["hosts"][0];
        assert_eq!((&host["host"], &host["finish"]), (&serde_json::json!(HOST), &serde_json::json!("interrupted")), "{host}");
        assert!(host["reason"].as_str().unwrap().contains(" to fetch; the next run resumes them"), "{host}");
        assert!(web.hits().iter().filter(|h| h.path.starts_with("/slow/")).count() < 20, "the run stopped fetching");

        let resumed = setup.command().arg("--json").output().unwrap();
        let resumed: serde_json::Value = serde_json::from_slice(&resumed.stdout).unwrap();
        assert_eq!(resumed["resumed"], true);
        assert_eq!(resumed["ended"], "finished");
        let slow: std::collections::HashSet<String> = web.hits().into_iter().filter(|h| h.path.starts_with("/slow/")).map(|h| h.path).collect();
        assert_eq!(slow.len(), 20, "the rest was fetched on resuming");
    }
}

/// The newest `runs/<run>.json` under `out`.
fn newest_run(out: &std::path::Path) -> std::path::PathBuf {
    let mut runs: Vec<_> = std::fs::read_dir(out.join("runs")).unwrap().map(|e| e.unwrap().path()).collect();
    runs.sort();
    runs.pop().unwrap()
}
