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
    /// The seeds' sites (see [`site`]).
    seed_sites: HashSet<String>,
    other_portals: bool,
    allowed: Allowed,
}

/// A host's site: the name its owner registered, which its subdomains share. Under
/// `gov.cn` the label before it (`zt.gov.cn` for `www.zt.gov.cn` and
/// `xxgk.zt.gov.cn`); elsewhere the last two labels; an address is its own.
pub fn site(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return host;
    }
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    let keep = if host.ends_with(".gov.cn") || host.ends_with(".com.cn") || host.ends_with(".org.cn") || host.ends_with(".edu.cn") { 3 } else { 2 };
    labels[labels.len().saturating_sub(keep)..].join(".")
}

impl Scope {
    pub fn new(config: &config::Scope, seed_hosts: impl IntoIterator<Item = String>) -> Scope {
        let seed_hosts: HashSet<String> = seed_hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect();
        Scope {
            suffixes: config.allowed_host_suffixes.iter().map(|s| s.to_ascii_lowercase()).collect(),
            seed_sites: seed_hosts.iter().map(|h| site(h)).collect(),
            seed_hosts,
            other_portals: config.follow_other_portals,
            allowed: Allowed { loopback: config.allow_loopback, private: config.allow_private_addresses },
        }
    }

    /// Whether a link to `url` found on the page `found_on` is followed: within the
    /// page's site or a seed's (a portal and its 集约化 departments), or anywhere in
    /// scope with `scope.follow_other_portals`.
    pub fn follows(&self, url: &Url, found_on: &Url) -> bool {
        let site_of = |u: &Url| u.host_str().map(site);
        self.other_portals || site_of(url) == site_of(found_on) || site_of(url).is_some_and(|s| self.seed_sites.contains(&s))
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
                let allowed = self.seed_hosts.contains(&host) || self.suffixes.iter().any(|s| host.ends_with(s.as_str()) || host == s.trim_start_matches('.'));
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

    #[test]
    fn links_stay_on_the_seeds_sites_and_the_pages_unless_other_portals_are_followed() {
        let s = Scope::new(&config::Scope::default(), ["www.zt.gov.cn".to_string()]);
        let follows = |link: &str, page: &str| s.follows(&Url::parse(link).unwrap(), &Url::parse(page).unwrap());
        assert!(follows("http://xxgk.zt.gov.cn/nb/", "http://www.zt.gov.cn/"), "a subdomain of a seed's site");
        assert!(follows("http://www.zt.gov.cn/nb/", "http://www.new.gov.cn/"), "back to a seed's site");
        assert!(follows("http://www.new.gov.cn/nb/", "http://new.gov.cn/"), "within the page's site (a portal that moved)");
        assert!(!follows("http://www.yn.gov.cn/zwgk/", "http://www.zt.gov.cn/"), "another portal");
        let all = Scope::new(&config::Scope { follow_other_portals: true, ..Default::default() }, ["www.zt.gov.cn".to_string()]);
        assert!(all.follows(&Url::parse("http://www.yn.gov.cn/").unwrap(), &Url::parse("http://www.zt.gov.cn/").unwrap()));
        assert_eq!((site("WWW.ZT.GOV.CN"), site("www.example.org"), site("127.0.0.1")), ("zt.gov.cn".into(), "example.org".into(), "127.0.0.1".into()));
    }
}
