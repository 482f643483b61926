//! Settings: `config.toml`, every key optional, defaults built in.
//!
//! Unknown keys are an error rather than silently ignored: a typo in a politeness
//! setting must not turn into a crawl at the default rate. Per-host sections
//! (`[hosts."www.zt.gov.cn"]`) override the politeness settings for one host.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::exit::Exit;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub crawl: Crawl,
    pub scope: Scope,
    pub discover: Discover,
    pub revisit: Revisit,
    pub ocr: Ocr,
    pub lake: Lake,
    /// Host → "ip:port": pins a host's address, like curl's `--resolve`.
    pub resolve: HashMap<String, String>,
    /// Per-host overrides of the politeness settings.
    pub hosts: HashMap<String, HostOverride>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Crawl {
    pub user_agent: String,
    pub per_host_rps: f64,
    pub per_host_concurrency: usize,
    pub global_concurrency: usize,
    pub connect_timeout_secs: u64,
    pub request_timeout_secs: u64,
    pub max_redirects: usize,
    pub max_html_bytes: u64,
    pub max_attachment_bytes: u64,
    pub retries: u32,
    pub backoff_base_ms: u64,
    pub max_crawl_delay_secs: f64,
    pub host_failure_limit: u32,
    /// Seconds one host may cost in waits on failures in one run (Retry-After, backoff,
    /// failed and timed-out attempts, and the time of replies beyond a quarter of
    /// `request_timeout_secs`) before it is paused until the next run.
    pub max_wait_per_host_secs: u64,
    pub proxy: String,
    /// Share of a run's hosts that may end unreachable, blocked or paused before the
    /// run exits 69 (EX_UNAVAILABLE) for an alert to see.
    pub max_failed_hosts: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scope {
    pub allowed_host_suffixes: Vec<String>,
    /// Allow hosts on 127.0.0.0/8 and ::1 (the tests' mock portals).
    pub allow_loopback: bool,
    /// Allow hosts on private and link-local ranges (an intranet mirror).
    pub allow_private_addresses: bool,
    /// Follow links to other portals (another site than the seeds' and the page's):
    /// off, a seed list's portals and their 集约化 departments are the run.
    pub follow_other_portals: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Discover {
    pub max_depth: u32,
    pub max_pages_per_host: u32,
    pub max_list_pages: u32,
    pub min_report_year: i32,
}

/// How soon a run visits again a page an earlier run fetched (`[revisit]`). A
/// column's first list page is visited every run, as is a page that led to a new
/// report on its last visit; every other page waits its interval, doubled each time
/// it is found unchanged (up to the maximum) and halved when it changed.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Revisit {
    /// Portals, hubs and a column's later list pages: days before the first revisit,
    /// and at most.
    pub navigation_days: u32,
    pub navigation_max_days: u32,
    /// Report articles and their files.
    pub report_days: u32,
    pub report_max_days: u32,
    /// Hours a host's robots.txt is used for before it is fetched again (RFC 9309
    /// §2.4: at most 24).
    pub robots_hours: u32,
}

/// Reading tables published as pictures (a nianbao built with `--features ocr`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ocr {
    /// The folder `scripts/ocr-models.sh` fetched the models into; relative to the
    /// config file's folder (to the working directory with no file).
    pub models: std::path::PathBuf,
    /// Pictures (a screenshot, a scanned page) one run reads at most; the rest are
    /// read by a later `nianbao extract`.
    pub pictures_per_run: u64,
}

/// The Delta Lake a run also commits to (`--lake` overrides `uri`). Credentials and
/// the endpoint come from the standard `AWS_*` variables.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lake {
    /// `s3://bucket/prefix` or `file:///path`; empty for no lake.
    pub uri: String,
    /// Seconds a shard's lease lasts unrenewed before another machine may take it.
    pub lease_secs: u64,
    /// Keep the shard's state and raw archive in the lake too, so that it can move
    /// to another machine.
    pub keep_out: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HostOverride {
    pub per_host_rps: Option<f64>,
    pub per_host_concurrency: Option<usize>,
    /// Accept this host's invalid TLS certificates (incomplete chains are common).
    #[serde(default)]
    pub insecure_tls: bool,
    /// When https fails to connect, try the same URL over http.
    #[serde(default)]
    pub http_fallback: bool,
}

impl Default for Crawl {
    fn default() -> Self {
        Crawl {
            user_agent: concat!(
                "nianbao/",
                env!("CARGO_PKG_VERSION"),
                " (open-data research crawler of government transparency reports; +https://github.com/nianbao/nianbao)"
            )
            .to_string(),
            per_host_rps: 1.0,
            per_host_concurrency: 1,
            global_concurrency: 64,
            connect_timeout_secs: 10,
            request_timeout_secs: 30,
            max_redirects: 5,
            max_html_bytes: 8 * 1024 * 1024,
            max_attachment_bytes: 64 * 1024 * 1024,
            retries: 3,
            backoff_base_ms: 1000,
            max_crawl_delay_secs: 30.0,
            host_failure_limit: 5,
            max_wait_per_host_secs: 900,
            proxy: String::new(),
            max_failed_hosts: 0.5,
        }
    }
}

impl Default for Scope {
    fn default() -> Self {
        Scope { allowed_host_suffixes: vec![".gov.cn".to_string()], allow_loopback: false, allow_private_addresses: false, follow_other_portals: false }
    }
}

impl Default for Discover {
    fn default() -> Self {
        Discover { max_depth: 4, max_pages_per_host: 2000, max_list_pages: 200, min_report_year: 2008 }
    }
}

impl Revisit {
    /// Intervals of at most ten years, each maximum at least its first interval, and
    /// robots.txt kept no longer than RFC 9309's day.
    fn validate(&self) -> Result<()> {
        within("revisit.navigation_days", self.navigation_days, 0, 3650)?;
        within("revisit.navigation_max_days", self.navigation_max_days, self.navigation_days, 3650)?;
        within("revisit.report_days", self.report_days, 0, 3650)?;
        within("revisit.report_max_days", self.report_max_days, self.report_days, 3650)?;
        within("revisit.robots_hours", self.robots_hours, 0, 24)
    }
}

impl Default for Revisit {
    fn default() -> Self {
        Revisit { navigation_days: 3, navigation_max_days: 30, report_days: 7, report_max_days: 90, robots_hours: 24 }
    }
}

impl Default for Ocr {
    fn default() -> Self {
        Ocr { models: "models/ocr".into(), pictures_per_run: 2000 }
    }
}

impl Default for Lake {
    fn default() -> Self {
        Lake { uri: String::new(), lease_secs: 600, keep_out: false }
    }
}

impl Config {
    /// Reads a config file; a missing file named explicitly is an error, the default
    /// `config.toml` missing is not.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let (path, explicit) = match path {
            Some(p) => (p, true),
            None => (Path::new("config.toml"), false),
        };
        let loaded = match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text).with_context(|| format!("bad config file {}", path.display())).map(|c| c.beside(path)),
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read config file {}", path.display())),
        };
        loaded.context(Exit::Config)
    }

    /// Paths in the file, when relative, are relative to the file's folder.
    fn beside(mut self, file: &Path) -> Config {
        if let Some(folder) = file.parent() {
            self.ocr.models = folder.join(&self.ocr.models);
        }
        self
    }

    pub fn parse(text: &str) -> Result<Config> {
        let config: Config = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Every setting within its range: a value outside it is refused with the key and
    /// the range, never run (1e-300 requests/s panicked, inf meant no limit at all, 0
    /// concurrency never crawled a host, a 0-byte page cap made every host unreachable).
    pub fn validate(&self) -> Result<()> {
        let c = &self.crawl;
        anyhow::ensure!(
            !c.user_agent.trim().is_empty() && !c.user_agent.chars().any(char::is_control),
            "crawl.user_agent = {:?} must be one line of visible text: it names the crawler to every portal",
            c.user_agent
        );
        if !matches!(c.proxy.as_str(), "" | "none") {
            let proxy = url::Url::parse(&c.proxy).map_err(|e| anyhow::anyhow!("crawl.proxy = {:?} is not a URL ({e})", c.proxy))?;
            anyhow::ensure!(
                matches!(proxy.scheme(), "http" | "https" | "socks5" | "socks5h") && proxy.host_str().is_some_and(|h| !h.is_empty()),
                "crawl.proxy = {:?} is not an http://, https://, socks5:// or socks5h:// proxy with a host",
                c.proxy
            );
        }
        rate("crawl.per_host_rps", c.per_host_rps)?;
        within("crawl.per_host_concurrency", c.per_host_concurrency, 1, 64)?;
        within("crawl.global_concurrency", c.global_concurrency, 1, 4096)?;
        within("crawl.connect_timeout_secs", c.connect_timeout_secs, 1, 600)?;
        within("crawl.request_timeout_secs", c.request_timeout_secs, 1, 3600)?;
        within("crawl.max_redirects", c.max_redirects, 0, 50)?;
        within("crawl.max_html_bytes", c.max_html_bytes, 4096, 1 << 30)?;
        within("crawl.max_attachment_bytes", c.max_attachment_bytes, 4096, 4 << 30)?;
        within("crawl.retries", c.retries, 0, 20)?;
        within("crawl.backoff_base_ms", c.backoff_base_ms, 0, 600_000)?;
        anyhow::ensure!(
            c.max_crawl_delay_secs.is_finite() && (0.0..=3600.0).contains(&c.max_crawl_delay_secs),
            "crawl.max_crawl_delay_secs = {:?} is outside 0 to 3600",
            c.max_crawl_delay_secs
        );
        within("crawl.host_failure_limit", c.host_failure_limit, 1, 1000)?;
        within("crawl.max_wait_per_host_secs", c.max_wait_per_host_secs, 1, 86_400)?;
        anyhow::ensure!(
            (0.0..=1.0).contains(&c.max_failed_hosts),
            "crawl.max_failed_hosts = {:?} is outside 0 to 1 (a share of the hosts)",
            c.max_failed_hosts
        );
        let d = &self.discover;
        within("discover.max_depth", d.max_depth, 0, 32)?;
        within("discover.max_pages_per_host", d.max_pages_per_host, 1, 10_000_000)?;
        within("discover.max_list_pages", d.max_list_pages, 1, 1_000_000)?;
        within("discover.min_report_year", d.min_report_year, 2000, 2100)?;
        self.revisit.validate()?;
        for (host, o) in &self.hosts {
            if let Some(rps) = o.per_host_rps {
                rate(&format!("hosts.\"{host}\".per_host_rps"), rps)?;
            }
            if let Some(n) = o.per_host_concurrency {
                within(&format!("hosts.\"{host}\".per_host_concurrency"), n, 1, 64)?;
            }
        }
        for (host, addr) in &self.resolve {
            addr.parse::<std::net::SocketAddr>().with_context(|| format!("resolve.{host} = {addr:?} is not an ip:port address"))?;
        }
        Ok(())
    }

    /// Requests per second allowed to `host`.
    pub fn host_rps(&self, host: &str) -> f64 {
        self.hosts.get(host).and_then(|o| o.per_host_rps).unwrap_or(self.crawl.per_host_rps)
    }

    /// The per-host exceptions for `host`, if it has any.
    pub fn host(&self, host: &str) -> Option<&HostOverride> {
        self.hosts.get(host)
    }

    /// Requests in flight allowed to `host`.
    pub fn host_concurrency(&self, host: &str) -> usize {
        self.hosts.get(host).and_then(|o| o.per_host_concurrency).unwrap_or(self.crawl.per_host_concurrency)
    }
}

/// A requests-per-second setting: from one request in 1,000 s to 1,000 a second.
pub fn rate(key: &str, rps: f64) -> Result<()> {
    anyhow::ensure!(rps.is_finite() && (0.001..=1000.0).contains(&rps), "{key} = {rps:?} is outside 0.001 to 1000 requests per second");
    Ok(())
}

fn within<T: PartialOrd + std::fmt::Display>(key: &str, value: T, low: T, high: T) -> Result<()> {
    anyhow::ensure!(value >= low && value <= high, "{key} = {value} is outside {low} to {high}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_toml_parses_and_equals_the_defaults() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml")).unwrap();
        let shipped = Config::parse(&text).unwrap();
        let default = Config::default();
        assert_eq!(format!("{:?}", shipped.crawl), format!("{:?}", default.crawl));
        assert_eq!(format!("{:?}", shipped.scope), format!("{:?}", default.scope));
        assert_eq!(format!("{:?}", shipped.discover), format!("{:?}", default.discover));
        assert_eq!(format!("{:?}", shipped.ocr), format!("{:?}", default.ocr));
    }

    #[test]
    fn the_ocr_models_folder_is_found_beside_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nightly.toml");
        std::fs::write(&file, "[ocr]\nmodels = \"models/ocr\"\n").unwrap();
        assert_eq!(Config::load(Some(&file)).unwrap().ocr.models, dir.path().join("models/ocr"));
        std::fs::write(&file, "[ocr]\nmodels = \"/srv/ocr\"\n").unwrap();
        assert_eq!(Config::load(Some(&file)).unwrap().ocr.models, std::path::Path::new("/srv/ocr"));
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        assert!(Config::parse("[crawl]\nper_host_rsp = 5").is_err());
        assert!(Config::parse("[crawl]\nper_host_rps = 0").is_err());
        // Values that crashed, hung or silently did nothing are refused, with key and range.
        let refused = |text: &str| Config::parse(text).map(|_| ()).unwrap_err().to_string();
        assert_eq!(refused("[crawl]\nper_host_rps = 1e-300"), "crawl.per_host_rps = 1e-300 is outside 0.001 to 1000 requests per second");
        assert!(refused("[crawl]\nper_host_rps = inf").contains("outside 0.001 to 1000"));
        assert!(refused("[crawl]\nmax_crawl_delay_secs = nan").contains("crawl.max_crawl_delay_secs"));
        assert!(refused("[crawl]\nmax_crawl_delay_secs = -1").contains("outside 0 to 3600"));
        assert!(refused("[crawl]\nglobal_concurrency = 100000000").contains("crawl.global_concurrency = 100000000 is outside 1 to 4096"));
        assert!(refused("[crawl]\nrequest_timeout_secs = 0").contains("crawl.request_timeout_secs"));
        assert!(refused("[crawl]\nmax_html_bytes = 0").contains("crawl.max_html_bytes"));
        assert!(refused("[crawl]\nbackoff_base_ms = 99999999999").contains("crawl.backoff_base_ms"));
        assert!(refused("[hosts.\"www.zt.gov.cn\"]\nper_host_concurrency = 0").contains("hosts.\"www.zt.gov.cn\".per_host_concurrency = 0"));
        assert!(Config::parse("[resolve]\n\"www.zt.gov.cn\" = \"nowhere\"").is_err());
        assert!(refused("[crawl]\nuser_agent = \"a\\nb\"").contains("crawl.user_agent = \"a\\nb\" must be one line"));
        assert!(refused("[crawl]\nuser_agent = \" \"").contains("crawl.user_agent"));
        assert!(refused("[crawl]\nproxy = \"::::\"").contains("crawl.proxy = \"::::\" is not a URL"));
        assert!(refused("[crawl]\nproxy = \"ftp://x:1\"").contains("is not an http://, https://, socks5:// or socks5h:// proxy"));
        for good in ["none", "", "http://127.0.0.1:3128", "socks5h://user:pw@proxy.example:1080"] {
            assert!(Config::parse(&format!("[crawl]\nproxy = \"{good}\"")).is_ok(), "{good}");
        }
        let c = Config::parse("[hosts.\"www.zt.gov.cn\"]\nper_host_rps = 0.5").unwrap();
        assert_eq!((c.host_rps("www.zt.gov.cn"), c.host_rps("www.sxgp.gov.cn")), (0.5, 1.0));
    }
}
