//! The fault matrix: every way a portal misbehaves is survived, recorded with its
//! kind, and never stops the crawl or loses the good report beside it.

mod support;

use std::io::Write;
use std::time::Duration;

use support::mock_web::{Fault, MockWeb, Page, Site};
use support::run::CrawlSetup;

const HOST: &str = "www.faults.gov.cn";

fn gzip_bomb(decompressed: usize) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..decompressed >> 20 {
        gz.write_all(&zeros).unwrap();
    }
    gz.finish().unwrap()
}

#[test]
fn every_fault_is_survived_and_recorded() {
    let faults: Vec<(&str, Page, &str)> = vec![
        ("500", Page::html(500, "error"), "http-error"),
        ("503", Page::html(503, "busy"), "http-error"),
        ("429", Page::html(429, "slow down").header("Retry-After", "1"), "http-error"),
        ("timeout", Page { delay: Some(Duration::from_secs(3)), ..Page::html(200, "late") }, "unreachable"),
        ("reset", Page { fault: Some(Fault::Reset), ..Page::html(200, "") }, "unreachable"),
        ("truncated", Page { fault: Some(Fault::Truncate), ..Page::html(200, &"报告".repeat(5000)) }, "failed"),
        ("loop", Page::html(302, "").header("Location", "/a/loop2.html"), "failed"),
        ("private", Page::html(302, "").header("Location", "http://10.0.0.5/nb.html"), "failed"),
        ("huge", Page { body: vec![b'a'; 30 << 20], ..Page::html(200, "") }, "too-large"),
        ("bomb", Page { body: gzip_bomb(64 << 20), ..Page::html(200, "") }.header("Content-Encoding", "gzip"), "too-large"),
        ("challenge", Page::html(412, "<script>var $_ts=window['$_ts'];$_ts.nsd=1;</script>").header("Set-Cookie", "__jsluid_s=1f2e"), "blocked"),
    ];
    let mut list = String::new();
    let mut site = Site::empty(HOST).page("/a/loop2.html", Page::html(302, "").header("Location", "/a/loop.html"));
    for (k, (name, page, _)) in faults.iter().enumerate() {
        list.push_str(&format!("<a href=\"/a/{name}.html\">故障县人民政府{}年政府信息公开工作年度报告</a>", 2000 + k));
        site = site.page(&format!("/a/{name}.html"), page.clone());
    }
    list.push_str("<a href=\"/a/ok.html\">故障县人民政府2023年政府信息公开工作年度报告</a>");
    let site = site
        .article("/a/ok.html", "gaoping_2023_trs_word_cells")
        .page("/", Page::html(200, "<a href=\"/nb/\">政府信息公开年报</a>"))
        .page("/nb/", Page::html(200, &list));
    let web = MockWeb::start(vec![site]);
    let setup = CrawlSetup::new(
        &web,
        &[HOST],
        &[format!("http://{HOST}/,故障县人民政府,")],
        // The one host ends "blocked" (its challenge page): not an outage to alert on here.
        "per_host_rps = 20.0\nretries = 2\nbackoff_base_ms = 20\nrequest_timeout_secs = 1\nhost_failure_limit = 100\nmax_html_bytes = 8388608\nmax_failed_hosts = 1.0",
    );
    let (ok, log) = setup.crawl();
    assert!(ok, "the crawl must finish whatever the pages do:\n{log}");
    for (name, _, outcome) in &faults {
        let url = format!("http://{HOST}/a/{name}.html");
        assert_eq!(setup.outcome(&url).as_deref(), Some(*outcome), "{name}");
    }
    assert_eq!(setup.outcome(&format!("http://{HOST}/a/ok.html")).as_deref(), Some("report"));
    // Nothing left the loopback: the redirect to 10.0.0.5 was refused before any connection.
    assert!(web.hits().iter().all(|h| h.host == HOST));
    // A challenge is answered once, not retried in a storm; retries are bounded.
    let count = |p: &str| web.hits().iter().filter(|h| h.path == p).count();
    assert_eq!(count("/a/challenge.html"), 1);
    assert_eq!(count("/a/500.html"), 3);
    let host_status: String = setup.state().query_row("SELECT status FROM hosts WHERE host = ?1", [HOST], |r| r.get(0)).unwrap();
    assert!(["blocked", "unreachable"].contains(&host_status.as_str()), "{host_status}");
}

#[test]
fn a_host_failing_again_and_again_is_paused_and_recorded() {
    let mut list = String::new();
    let mut site = Site::empty("www.down.gov.cn");
    for k in 0..8 {
        list.push_str(&format!("<a href=\"/a/{k}.html\">停机县人民政府{}年政府信息公开工作年度报告</a>", 2010 + k));
        site = site.page(&format!("/a/{k}.html"), Page::html(500, "down"));
    }
    let site = site.page("/", Page::html(200, "<a href=\"/nb/\">政府信息公开年报</a>")).page("/nb/", Page::html(200, &list));
    let web = MockWeb::start(vec![site]);
    let setup = CrawlSetup::new(&web, &["www.down.gov.cn"], &["http://www.down.gov.cn/,,".into()], "per_host_rps = 50.0\nretries = 0\nhost_failure_limit = 3");
    let out = setup.command().output().unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    assert_eq!(out.status.code(), Some(69), "the run's only host failed: an outage for the alert\n{log}");
    let article_hits = web.hits().iter().filter(|h| h.path.starts_with("/a/")).count();
    assert_eq!(article_hits, 3, "requests stop after the failure limit");
    assert_eq!(setup.outcome("http://www.down.gov.cn/a/7.html").as_deref(), Some("host-paused"));
    assert!(log.contains("www.down.gov.cn"), "the summary names the paused host:\n{log}");
}

#[test]
fn a_robots_txt_of_megabytes_is_read_to_500_kib_and_obeyed() {
    // 12 MB: a Disallow at the top, then comment lines past any sane size. Refused
    // whole, it had made the host "unreachable".
    let mut robots = b"User-agent: *\nDisallow: /private/\n".to_vec();
    while robots.len() < 12 << 20 {
        robots.extend_from_slice(b"# padding line of a generated robots.txt, repeated past any size\n");
    }
    let site = Site::empty("www.bigrobots.gov.cn")
        .page("/robots.txt", Page { body: robots, ..Page::html(200, "") }.header("Content-Type", "text/plain"))
        .page("/", Page::html(200, "<a href=\"/nb/\">政府信息公开年报</a><a href=\"/private/nb/\">信息公开年报</a>"))
        .page("/nb/", Page::html(200, "<a href=\"/a/ok.html\">大文件县人民政府2023年政府信息公开工作年度报告</a>"))
        .article("/a/ok.html", "gaoping_2023_trs_word_cells");
    let web = MockWeb::start(vec![site]);
    let setup = CrawlSetup::new(&web, &["www.bigrobots.gov.cn"], &["http://www.bigrobots.gov.cn/,,".into()], "per_host_rps = 50.0");
    let (ok, log) = setup.crawl();
    assert!(ok, "{log}");
    assert_eq!(setup.outcome("http://www.bigrobots.gov.cn/a/ok.html").as_deref(), Some("report"));
    assert!(!web.hits().iter().any(|h| h.path.starts_with("/private/")), "the Disallow in the first 500 KiB holds");
}

#[test]
fn a_host_that_asks_for_endless_waits_is_paused_not_waited_for() {
    // Retry-After: 999999 on every report: waited out, three retries would cost three
    // hours per page.
    let mut list = String::new();
    let mut site = Site::empty("www.wait.gov.cn");
    for k in 0..4 {
        list.push_str(&format!("<a href=\"/a/{k}.html\">等待县人民政府{}年政府信息公开工作年度报告</a>", 2020 + k));
        site = site.page(&format!("/a/{k}.html"), Page::html(503, "busy").header("Retry-After", "999999"));
    }
    let site = site.page("/", Page::html(200, "<a href=\"/nb/\">政府信息公开年报</a>")).page("/nb/", Page::html(200, &list));
    let web = MockWeb::start(vec![site]);
    let setup = CrawlSetup::new(&web, &["www.wait.gov.cn"], &["http://www.wait.gov.cn/,,".into()], "per_host_rps = 50.0\nmax_wait_per_host_secs = 60");
    let started = std::time::Instant::now();
    let (ok, log) = setup.crawl();
    assert!(!ok, "its only host was paused:\n{log}");
    assert!(started.elapsed() < Duration::from_secs(30), "the crawl did not wait: {:?}", started.elapsed());
    let (status, reason): (String, String) =
        setup.state().query_row("SELECT status, reason FROM hosts WHERE host = 'www.wait.gov.cn'", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(status, "paused");
    assert!(reason.contains("crawl.max_wait_per_host_secs = 60"), "{reason}");
    assert_eq!(web.hits().iter().filter(|h| h.path.starts_with("/a/")).count(), 1, "one request, then the host waits for the next run");
}

#[test]
fn replies_that_trickle_in_use_up_the_hosts_wait_budget() {
    // Each report arrives whole, but over 1.2 s: with a 2 s timeout, 0.7 s of each is
    // charged to the host, whose budget of 1 s is gone after the second.
    let mut list = String::new();
    let mut site = Site::empty("www.slow.gov.cn");
    for k in 0..6 {
        list.push_str(&format!("<a href=\"/a/{k}.html\">慢速县人民政府{}年政府信息公开工作年度报告</a>", 2018 + k));
        let page = Page { fault: Some(Fault::Drip(Duration::from_millis(1200))), ..Page::html(200, "<p>一、总体情况</p>") };
        site = site.page(&format!("/a/{k}.html"), page);
    }
    let site = site.page("/", Page::html(200, "<a href=\"/nb/\">政府信息公开年报</a>")).page("/nb/", Page::html(200, &list));
    let web = MockWeb::start(vec![site]);
    let config = "per_host_rps = 50.0\nrequest_timeout_secs = 2\nmax_wait_per_host_secs = 1\nmax_failed_hosts = 1.0";
    let setup = CrawlSetup::new(&web, &["www.slow.gov.cn"], &["http://www.slow.gov.cn/,,".into()], config);
    let (ok, log) = setup.crawl();
    assert!(ok, "{log}");
    let fetched = web.hits().iter().filter(|h| h.path.starts_with("/a/")).count();
    assert_eq!(fetched, 2, "the host is paused after the replies that used up its budget:\n{log}");
    let (status, reason): (String, String) =
        setup.state().query_row("SELECT status, reason FROM hosts WHERE host = 'www.slow.gov.cn'", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(status, "paused");
    assert!(reason.contains("crawl.max_wait_per_host_secs = 1"), "{reason}");
}

#[test]
fn dead_links_to_other_hosts_fail_those_links_not_the_portal_that_links_them() {
    // A healthy portal: one column with its report, one column link that redirects to
    // a portal that moved away, and three links to other portals that are down.
    const PORTAL: &str = "www.deadlink.gov.cn";
    let dead = ["moved-away.gov.cn", "www.gone1.gov.cn", "www.gone2.gov.cn", "www.gone3.gov.cn"];
    let home: String = ["<a href=\"/nb/\">政府信息公开年报</a><a href=\"/nb2/\">政府信息公开工作年度报告</a>".to_string()]
        .into_iter()
        .chain(dead[1..].iter().map(|h| format!("<a href=\"http://{h}/nb/\">政府信息公开年报</a>")))
        .collect();
    let site = Site::empty(PORTAL)
        .html("/", &home)
        .html("/nb/", "<a href=\"/a/2023.html\">死链县人民政府2023年政府信息公开工作年度报告</a>")
        .article("/a/2023.html", "gaoping_2023_trs_word_cells")
        .page("/nb2/", Page::html(302, "").header("Location", "http://moved-away.gov.cn/nb/"));
    let web = MockWeb::start(vec![site]);
    let setup = CrawlSetup::new(&web, &[PORTAL], &[format!("http://{PORTAL}/,死链县人民政府,")], "per_host_rps = 50.0\nretries = 0");
    // The dead hosts answer nothing: a closed port on loopback.
    let pins: String = dead.iter().map(|h| format!("\"{h}\" = \"127.0.0.1:1\"\n")).collect();
    // Other portals followed, so that the dead ones are tried.
    let config = std::fs::read_to_string(&setup.config).unwrap().replace("[scope]\n", "[scope]\nfollow_other_portals = true\n");
    std::fs::write(&setup.config, config + &pins).unwrap();
    let out = setup.command().output().unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    assert_eq!(out.status.code(), Some(0), "one portal, healthy: the run is no outage\n{log}");
    assert_eq!(setup.outcome(&format!("http://{PORTAL}/a/2023.html")).as_deref(), Some("report"));
    assert_eq!(setup.outcome(&format!("http://{PORTAL}/nb2/index.html")).as_deref(), Some("failed"), "the link that led to the dead host fails");
    let host: Option<String> = setup.state().query_row("SELECT status FROM hosts WHERE host = ?1", [PORTAL], |r| r.get(0)).ok();
    assert_eq!(host, None, "the portal itself did not fail:\n{log}");
    for (_, _, batch) in support::parquet_read::read_table(setup.out(), "coverage") {
        for i in 0..batch.num_rows() {
            let status = support::parquet_read::string(&batch, "status", i).unwrap();
            assert_ne!(status, "unreachable", "{:?}", support::parquet_read::string(&batch, "evidence", i));
        }
    }
}
