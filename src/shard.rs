//! Shards: which crawl machine crawls a host, when one dataset is crawled from
//! several (`--shard I/N`). Many .gov.cn portals refuse foreign or datacenter
//! addresses, so a nationwide crawl runs from more than one egress.
//!
//! A host belongs to one shard, chosen by rendezvous hashing of its name: each shard
//! scores the host (SHA-256 of the name and the shard's number) and the highest score
//! wins. The choice depends on nothing but the name and N, so a host never changes
//! shard between runs, and its politeness and report history stay with one state. When
//! N grows, only the hosts the new shards win move.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// One shard of N, numbered from 1. The unsharded crawl is shard 1 of 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole crawl, on one machine.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// The shard of `count` that crawls `host`.
    pub fn of(host: &str, count: u32) -> Shard {
        let score = |index: u32| {
            let digest = Sha256::new().chain_update(host.to_ascii_lowercase()).chain_update([0]).chain_update(index.to_be_bytes()).finalize();
            u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
        };
        let index = (1..=count.max(1)).max_by_key(|&i| (score(i), i)).expect("at least one shard");
        Shard { index, count: count.max(1) }
    }

    /// Whether this shard crawls `host`.
    pub fn owns(&self, host: &str) -> bool {
        self.count == 1 || Shard::of(host, self.count) == *self
    }

    /// `shard-I-of-N`: the shard's name in file and object names.
    pub fn tag(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `I/N`, with 1 ≤ I ≤ N.
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("{s:?} is not a shard: give I/N, as 2/3 for the second of three (1 ≤ I ≤ N)");
        let (index, count) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (index.trim().parse().map_err(|_| bad())?, count.trim().parse().map_err(|_| bad())?);
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        (0..3000).map(|i| format!("www.county{i}.gov.cn")).collect()
    }

    #[test]
    fn a_hosts_shard_is_fixed_by_its_name_alone() {
        // Fixed values (computed apart, in Python's hashlib): a change to the hash
        // would move hosts away from their states.
        assert_eq!(Shard::of("www.km.gov.cn", 3), Shard { index: 1, count: 3 });
        assert_eq!(Shard::of("www.kmgd.gov.cn", 3), Shard { index: 2, count: 3 });
        assert_eq!(Shard::of("www.yn.gov.cn", 3), Shard { index: 3, count: 3 });
        assert_eq!(Shard::of("WWW.KM.GOV.CN", 3), Shard::of("www.km.gov.cn", 3));
        assert!(Shard::WHOLE.owns("www.km.gov.cn"));
    }

    #[test]
    fn every_host_has_one_shard_and_the_shards_are_even() {
        let mut counts = [0; 3];
        for host in hosts() {
            let owners: Vec<u32> = (1..=3).filter(|&i| Shard { index: i, count: 3 }.owns(&host)).collect();
            assert_eq!(owners.len(), 1, "{host}: {owners:?}");
            counts[owners[0] as usize - 1] += 1;
        }
        assert!(counts.iter().all(|&c| (900..1100).contains(&c)), "{counts:?}");
    }

    #[test]
    fn a_fourth_shard_takes_hosts_only_for_itself() {
        for host in hosts() {
            let (three, four) = (Shard::of(&host, 3), Shard::of(&host, 4));
            assert!(four.index == 4 || four.index == three.index, "{host} moved from {three} to {four}");
        }
    }

    #[test]
    fn shards_are_read_as_i_of_n() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
