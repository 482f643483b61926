//! Many .gov.cn portals refuse foreign addresses, so running through a proxy in China
//! is normal: `proxy = "http://…"` in config.toml and the standard HTTP_PROXY
//! variables both send every request through it.

mod support;

use support::mock_web::{MockWeb, Site};
use support::run::CrawlSetup;

const HOST: &str = "www.kmgd.gov.cn";

fn site() -> Site {
    Site::from_fixtures(HOST, "text/html; charset=UTF-8", false).article("/art/2025/1/20/art_3260_99001.html", "guandu_2024_hanweb_one_table")
}

fn assert_all_through_proxy(web: &MockWeb, setup: &CrawlSetup, log: &str) {
    let hits = web.hits();
    assert!(hits.len() >= 4, "{log}");
    assert!(hits.iter().all(|h| h.host == HOST && h.request_headers.iter().any(|(n, _)| n == "x-via-proxy")), "a request bypassed the proxy");
    assert_eq!(setup.outcome("http://www.kmgd.gov.cn/art/2025/1/20/art_3260_99001.html").as_deref(), Some("report"));
}

#[test]
fn proxy_from_config() {
    let web = MockWeb::start(vec![site()]);
    // No [resolve] pin is used: the proxy resolves and connects, not us.
    let setup = CrawlSetup::new(&web, &[], &[format!("http://{HOST}/,,530111")], &format!("proxy = \"http://{}\"\nper_host_rps = 50.0", web.addr));
    let (ok, log) = setup.crawl();
    assert!(ok, "{log}");
    assert_all_through_proxy(&web, &setup, &log);
}

#[test]
fn proxy_from_the_environment() {
    let web = MockWeb::start(vec![site()]);
    let setup = CrawlSetup::new(&web, &[], &[format!("http://{HOST}/,,530111")], "proxy = \"\"\nper_host_rps = 50.0");
    let out = setup.command().env("HTTP_PROXY", format!("http://{}", web.addr)).env_remove("NO_PROXY").env_remove("no_proxy").output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{log}");
    assert_all_through_proxy(&web, &setup, &log);
}

#[test]
fn http_fallback_is_taken_only_where_configured_and_recorded_on_the_report() {
    // Seeds on https; the portal's TLS fails (here: it speaks plain HTTP only).
    let web = MockWeb::start(vec![site()]);
    let fallback = CrawlSetup::new(
        &web,
        &[HOST],
        &[format!("https://{HOST}/,,530111")],
        &format!("per_host_rps = 50.0\nretries = 0\n[hosts.\"{HOST}\"]\nhttp_fallback = true"),
    );
    let (ok, log) = fallback.crawl();
    assert!(ok, "{log}");
    let warnings: String = fallback
        .state()
        .query_row("SELECT warnings FROM reports WHERE url LIKE '%art_3260_99001%'", [], |r| r.get(0))
        .expect("the report was fetched over http");
    assert!(warnings.contains("fetched over http because https failed"), "{warnings}");

    let strict = CrawlSetup::new(&web, &[HOST], &[format!("https://{HOST}/,,530111")], "per_host_rps = 50.0\nretries = 0");
    let (ok, log) = strict.crawl();
    assert!(!ok, "nothing was collected:\n{log}");
    let reports: i64 = strict.state().query_row("SELECT COUNT(*) FROM reports", [], |r| r.get(0)).unwrap();
    assert_eq!(reports, 0, "no fallback without the host's permission");
    assert!(log.contains("unreachable"), "{log}");
}
