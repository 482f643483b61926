//! Settings: `config.toml`, every key optional, defaults built in.
//!
//! Unknown keys are an error rather than silently ignored: a typo in a politeness
//! setting must not turn into a crawl at the default rate. Per-host sections
//! (`[hosts."www.zt.gov.cn"]`) override the politeness settings for one host.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub crawl: Crawl,
    pub scope: Scope,
    pub discover: Discover,
    /// Host → "ip:port": pins a host's address, like curl's `--resolve`.
    pub resolve: HashMap<String, String>,
    /// Per-host overrides of the politeness settings.
    pub hosts: HashMap<String, HostOverride>,
}

#[derive(Debug, Clone, Deserialize)]
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
    pub proxy: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scope {
    pub allowed_host_suffixes: Vec<String>,
    /// Allow hosts on 127.0.0.0/8 and ::1 (the tests' mock portals).
    pub allow_loopback: bool,
    /// Allow hosts on private and link-local ranges (an intranet mirror).
    pub allow_private_addresses: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Discover {
    pub max_depth: u32,
    pub max_pages_per_host: u32,
    pub max_list_pages: u32,
    pub min_report_year: i32,
}

#[derive(Debug, Clone, Default, Deserialize)]
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
            proxy: String::new(),
        }
    }
}

impl Default for Scope {
    fn default() -> Self {
        Scope { allowed_host_suffixes: vec![".gov.cn".to_string()], allow_loopback: false, allow_private_addresses: false }
    }
}

impl Default for Discover {
    fn default() -> Self {
        Discover { max_depth: 4, max_pages_per_host: 2000, max_list_pages: 200, min_report_year: 2008 }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            crawl: Crawl::default(),
            scope: Scope::default(),
            discover: Discover::default(),
            resolve: HashMap::new(),
            hosts: HashMap::new(),
        }
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
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text).with_context(|| format!("bad config file {}", path.display())),
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read config file {}", path.display())),
        }
    }

    pub fn parse(text: &str) -> Result<Config> {
        let config: Config = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        let c = &self.crawl;
        anyhow::ensure!(c.per_host_rps > 0.0, "crawl.per_host_rps must be above 0");
        anyhow::ensure!(c.per_host_concurrency >= 1, "crawl.per_host_concurrency must be at least 1");
        anyhow::ensure!(c.global_concurrency >= 1, "crawl.global_concurrency must be at least 1");
        for (host, o) in &self.hosts {
            anyhow::ensure!(o.per_host_rps.is_none_or(|r| r > 0.0), "hosts.{host}.per_host_rps must be above 0");
        }
        for (host, addr) in &self.resolve {
            addr.parse::<std::net::SocketAddr>()
                .with_context(|| format!("resolve.{host} = {addr:?} is not an ip:port address"))?;
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
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        assert!(Config::parse("[crawl]\nper_host_rsp = 5").is_err());
        assert!(Config::parse("[crawl]\nper_host_rps = 0").is_err());
        assert!(Config::parse("[resolve]\n\"www.zt.gov.cn\" = \"nowhere\"").is_err());
        let c = Config::parse("[hosts.\"www.zt.gov.cn\"]\nper_host_rps = 0.5").unwrap();
        assert_eq!((c.host_rps("www.zt.gov.cn"), c.host_rps("www.sxgp.gov.cn")), (0.5, 1.0));
    }
}
