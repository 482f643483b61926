//! `nianbao crawl --dry-run`: which hosts a run would crawl, and with what budgets,
//! without fetching anything or touching the output directory.

use std::collections::BTreeMap;

use serde::Serialize;
use url::Url;

use crate::config::Config;
use crate::seeds::Seed;
use crate::shard::Shard;

/// The run a seed list and the settings describe.
#[derive(Debug, Serialize)]
pub struct Plan {
    /// The settings file read, or null for the built-in defaults.
    pub config_file: Option<String>,
    pub hosts: Vec<HostPlan>,
    /// Requests in flight over all hosts at a time.
    pub global_concurrency: usize,
    /// The proxy requests go through, and where that came from; null for none.
    pub proxy: Option<String>,
    /// Hosts pinned to an address (`[resolve]`).
    pub pins: BTreeMap<String, String>,
    /// Which links are followed besides the seeds' hosts.
    pub scope: String,
    /// Settings that do nothing for this seed list (`[hosts."…"]` for no seed's host).
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct HostPlan {
    pub host: String,
    pub seeds: Vec<Seed>,
    pub per_host_rps: f64,
    pub per_host_concurrency: usize,
    pub max_pages: u32,
    pub max_list_pages: u32,
    pub insecure_tls: bool,
    pub http_fallback: bool,
}

/// The hosts of `seeds` that `shard` crawls (those in `only_hosts`, if any), each
/// with its budgets.
pub fn plan(config: &Config, config_file: Option<String>, seeds: &[Seed], only_hosts: &[String], shard: Shard) -> Plan {
    let mut by_host: BTreeMap<String, Vec<Seed>> = BTreeMap::new();
    for seed in seeds {
        let Some(host) = Url::parse(&seed.url).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase)) else { continue };
        if (only_hosts.is_empty() || only_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host))) && shard.owns(&host) {
            by_host.entry(host).or_default().push(seed.clone());
        }
    }
    let hosts = by_host
        .into_iter()
        .map(|(host, seeds)| {
            let exceptions = config.host(&host).cloned().unwrap_or_default();
            HostPlan {
                per_host_rps: config.host_rps(&host),
                per_host_concurrency: config.host_concurrency(&host),
                max_pages: config.discover.max_pages_per_host,
                max_list_pages: config.discover.max_list_pages,
                insecure_tls: exceptions.insecure_tls,
                http_fallback: exceptions.http_fallback,
                host,
                seeds,
            }
        })
        .collect();
    let warnings = config
        .hosts
        .keys()
        .filter(|h| !seeds.iter().any(|s| Url::parse(&s.url).ok().and_then(|u| u.host_str().map(|x| x.eq_ignore_ascii_case(h))).unwrap_or(false)))
        .map(|h| format!("[hosts.\"{h}\"] names no seed's host: its settings apply only if a link leads there"))
        .collect();
    let scope = match config.scope.follow_other_portals {
        true => format!("links to any host under {}", config.scope.allowed_host_suffixes.join(", ")),
        false => "links within the seeds' sites and the linking page's; other portals not followed (scope.follow_other_portals)".to_string(),
    };
    Plan {
        config_file,
        hosts,
        global_concurrency: config.crawl.global_concurrency,
        proxy: crate::fetch::proxy_in_use(&config.crawl.proxy),
        pins: config.resolve.clone().into_iter().collect(),
        scope,
        warnings,
    }
}

impl Plan {
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "dry run: nothing is fetched. Settings: {}\n{} hosts, {} requests in flight at most, proxy: {}\nscope: {}\n",
            self.config_file.as_deref().unwrap_or("built-in defaults"),
            self.hosts.len(),
            self.global_concurrency,
            self.proxy.as_deref().unwrap_or("none"),
            self.scope
        );
        for (host, address) in &self.pins {
            out.push_str(&format!("pinned: {host} = {address}\n"));
        }
        for warning in &self.warnings {
            out.push_str(&format!("warning: {warning}\n"));
        }
        for h in &self.hosts {
            let mut line = format!(
                "  {}  {} seed(s), {} req/s, {} at a time, up to {} pages ({} per list)",
                h.host,
                h.seeds.len(),
                h.per_host_rps,
                h.per_host_concurrency,
                h.max_pages,
                h.max_list_pages
            );
            if h.insecure_tls {
                line.push_str(", invalid TLS accepted");
            }
            if h.http_fallback {
                line.push_str(", http fallback");
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(url: &str) -> Seed {
        Seed { url: url.into(), agency: None, division_code: None }
    }

    #[test]
    fn seeds_are_grouped_by_host_with_its_overrides_and_filtered_by_only_host() {
        let config = Config::parse("[hosts.\"www.zt.gov.cn\"]\nper_host_rps = 0.5\nhttp_fallback = true").unwrap();
        let seeds = [seed("http://www.zt.gov.cn/"), seed("http://www.zt.gov.cn/zwgk/"), seed("https://www.yn.gov.cn/")];
        let all = plan(&config, None, &seeds, &[], Shard::WHOLE);
        assert_eq!(all.hosts.iter().map(|h| (h.host.as_str(), h.seeds.len())).collect::<Vec<_>>(), vec![("www.yn.gov.cn", 1), ("www.zt.gov.cn", 2)]);
        let zt = plan(&config, Some("config.toml".into()), &seeds, &["WWW.ZT.GOV.CN".into()], Shard::WHOLE);
        assert_eq!(zt.hosts.len(), 1);
        assert_eq!(zt.to_text().lines().nth(3), Some("  www.zt.gov.cn  2 seed(s), 0.5 req/s, 1 at a time, up to 2000 pages (200 per list), http fallback"));
        let stray = Config::parse(
            "[crawl]\nproxy = \"http://u:p@10.1.1.1:3128\"\n[hosts.\"www.km.gov.cn\"]\nper_host_rps = 0.5\n[resolve]\n\"www.zt.gov.cn\" = \"203.0.113.7:80\"",
        )
        .unwrap();
        let text = plan(&stray, None, &seeds, &[], Shard::WHOLE).to_text();
        assert!(text.contains("proxy: http://***@10.1.1.1:3128/\n"), "{text}");
        assert!(text.contains("pinned: www.zt.gov.cn = 203.0.113.7:80\n"), "{text}");
        assert!(text.contains("warning: [hosts.\"www.km.gov.cn\"] names no seed's host"), "{text}");
        let shards: Vec<Vec<String>> =
            (1..=2).map(|index| plan(&config, None, &seeds, &[], Shard { index, count: 2 }).hosts.into_iter().map(|h| h.host).collect()).collect();
        assert_eq!(shards.concat().len(), 2, "each host in one shard: {shards:?}");
        assert!(shards.iter().flatten().all(|host| Shard::of(host, 2).owns(host)));
    }
}
