//! Which URLs the crawl may request at all.
//!
//! Only http(s), only the seeds' hosts and hosts under the allowed suffixes
//! (`.gov.cn` by default). An IP literal is a host too: crawled only when a seed names
//! it, and never when it is not public, unless that kind of address is allowed (a link
//! to `http://10.0.0.5/` or `http://8.8.8.8:9/` on a portal is a trap, not a report).
//! Where a host *resolves* is checked by the resolver (see `resolver.rs`).

use std::collections::HashSet;

use url::{Host, Url};

use super::resolver::Allowed;
use crate::config;

#[derive(Debug, Clone)]
pub struct Scope {
    suffixes: Vec<String>,
    seed_hosts: HashSet<String>,
    allowed: Allowed,
}

impl Scope {
    pub fn new(config: &config::Scope, seed_hosts: impl IntoIterator<Item = String>) -> Scope {
        Scope {
            suffixes: config.allowed_host_suffixes.iter().map(|s| s.to_ascii_lowercase()).collect(),
            seed_hosts: seed_hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
            allowed: Allowed { loopback: config.allow_loopback, private: config.allow_private_addresses },
        }
    }

    /// The non-public addresses this scope allows.
    pub fn allowed(&self) -> Allowed {
        self.allowed
    }

    /// Why `url` may not be requested, or None when it may.
    pub fn refuse(&self, url: &Url) -> Option<String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Some(format!("scheme {} not crawled", url.scheme()));
        }
        match url.host() {
            None => Some("no host".to_string()),
            Some(Host::Ipv4(ip)) if !self.allowed.permits(ip.into()) => Some(format!("non-public address {ip}")),
            Some(Host::Ipv6(ip)) if !self.allowed.permits(ip.into()) => Some(format!("non-public address {ip}")),
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => {
                let host = url.host_str().unwrap_or_default().to_string();
                (!self.seed_hosts.contains(&host)).then(|| format!("address {host} is no seed's host"))
            }
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

    fn scope(allow_loopback: bool) -> Scope {
        let config = config::Scope { allow_loopback, ..Default::default() };
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
        // A public address is no more in scope than a public name.
        assert!(!ok("http://8.8.8.8:9/"));
        assert!(!ok("http://[64:ff9b::a00:1]/"));
        let seeded = Scope::new(&config::Scope::default(), ["202.96.128.86".to_string()]);
        assert!(seeded.refuse(&Url::parse("http://202.96.128.86/xxgk/").unwrap()).is_none(), "a seed may be an address");
        // Loopback needs its permission, and an address still needs a seed naming it.
        let loopback = Scope::new(&config::Scope { allow_loopback: true, ..Default::default() }, ["127.0.0.1".to_string()]);
        assert!(loopback.refuse(&Url::parse("http://127.0.0.1:8080/").unwrap()).is_none());
        assert!(scope(true).refuse(&Url::parse("http://127.0.0.1:8080/").unwrap()).is_some());
        assert!(scope(true).refuse(&Url::parse("http://192.168.1.1/").unwrap()).is_some());
    }
}
