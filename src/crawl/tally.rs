//! What this run has done so far, counted as it goes: the progress display reads it
//! while the run is on, the run summary once it is over.
//!
//! The run-wide counters are atomics, bumped from the async workers and the handler
//! threads alike. The per-host figures sit behind one mutex, taken once per page: a
//! page costs far more than the lock.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::state::Change;

#[derive(Default)]
pub struct Tally {
    pub pages: AtomicU64,
    pub not_modified: AtomicU64,
    /// Pages asked for with the validators of an earlier fetch.
    pub conditional: AtomicU64,
    /// Pages not asked for: not due on the revisit schedule.
    pub not_due: AtomicU64,
    pub reports: AtomicU64,
    pub errors: AtomicU64,
    pub hosts_total: AtomicU64,
    pub hosts_done: AtomicU64,
    pub new_reports: AtomicU64,
    pub changed_reports: AtomicU64,
    pub unchanged_reports: AtomicU64,
    hosts: Mutex<HashMap<String, HostTally>>,
    errors_by_kind: Mutex<BTreeMap<&'static str, u64>>,
}

/// One host's run: requests answered, by HTTP status, and what they gave.
#[derive(Debug, Default, Clone, Serialize)]
pub struct HostTally {
    /// Pages fetched with a body (any status).
    pub pages: u64,
    /// Pages answered 304 Not Modified.
    pub not_modified: u64,
    /// Pages that failed (unreachable, blocked, too large, HTTP errors, robots).
    pub failed: u64,
    /// Pages not asked for: not due on the revisit schedule.
    pub not_due: u64,
    /// Report pages found (new, changed or unchanged).
    pub reports: u64,
    /// Body bytes received, after decompression.
    pub bytes: u64,
    /// HTTP status → responses.
    pub statuses: BTreeMap<u16, u64>,
    /// Seconds from the host's first page to its last, in this run.
    pub seconds: f64,
    #[serde(skip)]
    started: Option<Instant>,
    #[serde(skip)]
    running: bool,
}

pub fn add(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

pub fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl Tally {
    /// A host's workers start (again, if it found more pages after it was done).
    pub fn host_started(&self, host: &str) {
        let mut hosts = self.hosts.lock().unwrap();
        let tally = hosts.entry(host.to_string()).or_default();
        tally.started.get_or_insert_with(Instant::now);
        tally.running = true;
    }

    pub fn host_finished(&self, host: &str) {
        if let Some(tally) = self.hosts.lock().unwrap().get_mut(host) {
            tally.running = false;
            tally.seconds = tally.started.map_or(0.0, |s| s.elapsed().as_secs_f64());
        }
    }

    /// A response with a body.
    pub fn fetched(&self, host: &str, status: u16, bytes: u64) {
        add(&self.pages);
        self.with_host(host, |t| {
            t.pages += 1;
            t.bytes += bytes;
            *t.statuses.entry(status).or_default() += 1;
        });
    }

    /// A page not asked for this run: not due on the revisit schedule.
    pub fn not_due(&self, host: &str) {
        add(&self.not_due);
        self.hosts.lock().unwrap().entry(host.to_string()).or_default().not_due += 1;
    }

    pub fn not_modified(&self, host: &str) {
        add(&self.not_modified);
        self.with_host(host, |t| {
            t.not_modified += 1;
            *t.statuses.entry(304).or_default() += 1;
        });
    }

    /// A page that gave nothing: `kind` is its failure's short name, `status` its
    /// HTTP status when the server answered.
    pub fn failed(&self, host: &str, kind: &'static str, status: Option<u16>) {
        add(&self.errors);
        *self.errors_by_kind.lock().unwrap().entry(kind).or_default() += 1;
        self.with_host(host, |t| {
            t.failed += 1;
            if let Some(status) = status {
                *t.statuses.entry(status).or_default() += 1;
            }
        });
    }

    /// A report page, and what it was against the state.
    pub fn report(&self, host: &str, change: Change) {
        add(&self.reports);
        add(match change {
            Change::New => &self.new_reports,
            Change::Changed => &self.changed_reports,
            Change::Unchanged => &self.unchanged_reports,
        });
        self.with_host(host, |t| t.reports += 1);
    }

    /// Changes a host's figures; its name is copied only the first time (this runs for
    /// every page).
    fn with_host(&self, host: &str, change: impl FnOnce(&mut HostTally)) {
        let mut hosts = self.hosts.lock().unwrap();
        match hosts.get_mut(host) {
            Some(tally) => change(tally),
            None => change(hosts.entry(host.to_string()).or_default()),
        }
    }

    /// Every host's figures, by host name.
    pub fn hosts(&self) -> BTreeMap<String, HostTally> {
        self.hosts.lock().unwrap().iter().map(|(h, t)| (h.clone(), t.clone())).collect()
    }

    /// Failures by kind, most frequent first.
    pub fn errors_by_kind(&self) -> Vec<(&'static str, u64)> {
        let mut kinds: Vec<_> = self.errors_by_kind.lock().unwrap().iter().map(|(k, n)| (*k, *n)).collect();
        kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        kinds
    }

    /// The hosts still being crawled, and the one that has been at it longest.
    pub fn running(&self) -> (usize, Option<(String, Duration)>) {
        let hosts = self.hosts.lock().unwrap();
        let running = hosts.iter().filter(|(_, t)| t.running);
        let slowest = running.clone().filter_map(|(h, t)| Some((h, t.started?.elapsed()))).max_by_key(|(_, d)| *d);
        (running.count(), slowest.map(|(h, d)| (h.clone(), d)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_counted_apart_and_the_longest_running_one_is_named() {
        let tally = Tally::default();
        tally.host_started("www.zt.gov.cn");
        std::thread::sleep(Duration::from_millis(5));
        tally.host_started("www.kmgd.gov.cn");
        tally.fetched("www.zt.gov.cn", 200, 1000);
        tally.not_modified("www.zt.gov.cn");
        tally.failed("www.kmgd.gov.cn", "blocked", Some(412));
        tally.failed("www.kmgd.gov.cn", "unreachable", None);
        tally.failed("www.zt.gov.cn", "unreachable", None);
        tally.report("www.zt.gov.cn", Change::Changed);
        let (running, slowest) = tally.running();
        assert_eq!((running, slowest.unwrap().0.as_str()), (2, "www.zt.gov.cn"));
        tally.host_finished("www.zt.gov.cn");
        assert_eq!(tally.running().1.unwrap().0, "www.kmgd.gov.cn");
        let hosts = tally.hosts();
        let zt = &hosts["www.zt.gov.cn"];
        assert_eq!((zt.pages, zt.not_modified, zt.failed, zt.reports, zt.bytes), (1, 1, 1, 1, 1000));
        assert_eq!(zt.statuses, BTreeMap::from([(200, 1), (304, 1)]));
        assert_eq!(hosts["www.kmgd.gov.cn"].statuses, BTreeMap::from([(412, 1)]));
        assert_eq!(tally.errors_by_kind(), vec![("unreachable", 2), ("blocked", 1)]);
        assert_eq!((get(&tally.changed_reports), get(&tally.new_reports)), (1, 0));
    }
}
