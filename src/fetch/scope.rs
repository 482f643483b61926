//! Which URLs the crawl may request at all.
//!
//! Only http(s), only the seeds' hosts and hosts under the allowed suffixes
//! (`.gov.cn` by default), never an IP literal unless private addresses are allowed
//! (a link to `http://10.0.0.5/` on a portal is a trap, not a report). Where a host
//! *resolves* is checked separately, by the resolver (see `resolver.rs`).

use std::collections::HashSet;

use url::{Host, Url};

use crate::config;

#[derive(Debug, Clone)]
pub struct Scope {
    suffixes: Vec<String>,
    seed_hosts: HashSet<String>,
    allow_private: bool,
}

impl Scope {
    pub fn new(config: &config::Scope, seed_hosts: impl IntoIterator<Item = String>) -> Scope {
        Scope {
            suffixes: config.allowed_host_suffixes.iter().map(|s| s.to_ascii_lowercase()).collect(),
            seed_hosts: seed_hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
            allow_private: config.allow_private_addresses,
        }
    }

    /// Why `url` may not be requested, or None when it may.
    pub fn refuse(&self, url: &Url) -> Option<String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Some(format!("scheme {} not crawled", url.scheme()));
        }
        match url.host() {
            None => Some("no host".to_string()),
            Some(Host::Ipv4(_) | Host::Ipv6(_)) if !self.allow_private => Some("IP-literal host".to_string()),
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => None,
            Some(Host::Domain(host)) => {
                let host = host.to_ascii_lowercase();
                let allowed = self.seed_hosts.contains(&host)
                    || self.suffixes.iter().any(|s| host.ends_with(s.as_str()) || host == s.trim_start_matches('.'));
                (!allowed).then(|| format!("host {host} outside the allowed domains"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(allow_private: bool) -> Scope {
        let config = config::Scope { allow_private_addresses: allow_private, ..Default::default() };
        Scope::new(&config, ["www.example.org".to_string()])
    }

    #[test]
    fn gov_cn_and_seed_hosts_only() {
        let s = scope(false);
        let ok = |u: &str| s.refuse(&Url::parse(u).unwrap()).is_none();
        assert!(ok("http://www.zt.gov.cn/zwgk/"));
        assert!(ok("https://www.example.org/a"));
        assert!(!ok("http://www.baidu.com/"));
        assert!(!ok("http://evilgov.cn/"));
        assert!(!ok("ftp://www.zt.gov.cn/x"));
        assert!(!ok("http://10.0.0.5/report.html"));
        assert!(scope(true).refuse(&Url::parse("http://127.0.0.1:8080/").unwrap()).is_none());
    }
}
