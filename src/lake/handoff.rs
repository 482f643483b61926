//! Links handed from one shard to another: a page one shard found on a host that
//! another shard crawls. The finder does not fetch it (the host's politeness and
//! history belong to its own shard); it records the page, with the seed that led to
//! it, for the owner's next run, as Heritrix's hash-mapped crawlers do.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::discover::Target;
use crate::seeds::Seed;
use crate::shard::Shard;

/// One page handed over: what discovery knew of it, and the seed it was found from
/// (its body and place).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    pub seed: Seed,
    pub target: Target,
}

/// Pages for other shards, by the shard that crawls them.
pub type HandedOver = BTreeMap<Shard, Vec<Handoff>>;

/// The pages a run hands to other shards, by the shard that crawls them. Shared by
/// the crawl's workers; one lock, held only to add a page.
#[derive(Debug)]
pub struct Outbox {
    count: u32,
    pages: Mutex<Pages>,
}

#[derive(Debug, Default)]
struct Pages {
    by_shard: BTreeMap<u32, Vec<Handoff>>,
    seen: HashSet<String>,
}

impl Outbox {
    pub fn new(count: u32) -> Outbox {
        Outbox { count, pages: Mutex::new(Pages::default()) }
    }

    /// Records a page of `host` for the shard that crawls it (once per URL).
    pub fn hand_over(&self, host: &str, seed: &Seed, target: &Target) {
        let shard = Shard::of(host, self.count);
        let mut pages = self.pages.lock().unwrap();
        if pages.seen.insert(target.url.clone()) {
            pages.by_shard.entry(shard.index).or_default().push(Handoff { seed: seed.clone(), target: target.clone() });
        }
    }

    /// The pages, by receiving shard.
    pub fn take(&self) -> HandedOver {
        let by_shard = std::mem::take(&mut self.pages.lock().unwrap().by_shard);
        by_shard.into_iter().map(|(index, pages)| (Shard { index, count: self.count }, pages)).collect()
    }
}

/// Handoffs as an inbox object holds them: JSON, one per line.
pub fn to_lines(pages: &[Handoff]) -> String {
    pages.iter().map(|p| serde_json::to_string(p).expect("a handoff serializes") + "\n").collect()
}

/// The handoffs of an inbox object, and how many of its lines could not be read
/// (a newer nianbao's, or a damaged object): those are skipped, not fatal.
pub fn from_lines(text: &str) -> (Vec<Handoff>, usize) {
    let mut bad = 0;
    let pages = text.lines().filter(|l| !l.trim().is_empty()).filter_map(|line| serde_json::from_str(line).map_err(|_| bad += 1).ok()).collect();
    (pages, bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::PageKind;

    #[test]
    fn pages_go_to_their_hosts_shard_once_and_read_back_whole() {
        let outbox = Outbox::new(3);
        let seed = Seed { url: "http://www.yn.gov.cn/".into(), agency: Some("云南省人民政府".into()), division_code: Some("530000".into()) };
        let target = |url: &str| Target {
            url: url.into(), kind: PageKind::Article, title: Some("2024年政府信息公开工作年度报告".into()), ..Target::default()
        };
        outbox.hand_over("www.km.gov.cn", &seed, &target("http://www.km.gov.cn/a.html"));
        outbox.hand_over("www.km.gov.cn", &seed, &target("http://www.km.gov.cn/a.html"));
        outbox.hand_over("www.yn.gov.cn", &seed, &target("http://www.yn.gov.cn/b.html"));
        let taken = outbox.take();
        assert_eq!(taken.values().map(Vec::len).sum::<usize>(), 2);
        let km = &taken[&Shard::of("www.km.gov.cn", 3)];
        assert_eq!(km[0].target.url, "http://www.km.gov.cn/a.html");
        let (back, bad) = from_lines(&(to_lines(km) + "{not json\n\n"));
        assert_eq!((back, bad), (km.clone(), 1));
        assert!(outbox.take().is_empty(), "taken once");
    }
}
