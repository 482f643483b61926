//! A host's health in this run: failures in a row, and the time it has cost in
//! waits on failures and slow replies. Past either limit the host is paused until the
//! next run, with the reason, so one failing or stalling host cannot hold the run.

use std::time::Duration;

use super::{Failure, Fetcher, Hop};

#[derive(Default)]
pub(super) struct HostHealth {
    consecutive_failures: u32,
    /// Time lost this run: retry waits, failed attempts, slow replies beyond their allowance.
    waited: Duration,
    paused: Option<String>,
}

impl Fetcher {
    /// Why the host is paused for the rest of this run, if it is.
    pub(super) fn paused(&self, host: &str) -> Option<String> {
        self.health.lock().unwrap().get(host).and_then(|h| h.paused.clone())
    }

    /// Hosts paused during this run, with the reason.
    pub fn paused_hosts(&self) -> Vec<(String, String)> {
        let health = self.health.lock().unwrap();
        health.iter().filter_map(|(h, s)| s.paused.clone().map(|r| (h.clone(), r))).collect()
    }

    /// Adds `lost` to the time the host has cost in failures this run; past
    /// `max_wait_per_host_secs` the host is paused until the next run, with the reason.
    pub(super) fn charge_wait(&self, host: &str, lost: Duration) -> Result<(), Failure> {
        let budget = Duration::from_secs(self.config.crawl.max_wait_per_host_secs);
        let mut health = self.health.lock().unwrap();
        let h = health.entry(host.to_string()).or_default();
        h.waited += lost;
        if h.waited <= budget {
            return Ok(());
        }
        let reason = h.paused.get_or_insert_with(|| {
            let reason =
                format!("{} s lost to retries and failed or slow replies, over crawl.max_wait_per_host_secs = {}", h.waited.as_secs(), budget.as_secs());
            tracing::warn!(host, reason, "host paused for the rest of the run");
            reason
        });
        Err(Failure::HostPaused(reason.clone()))
    }

    pub(super) fn record_health(&self, host: &str, result: &Result<Hop, Failure>) {
        let mut health = self.health.lock().unwrap();
        let h = health.entry(host.to_string()).or_default();
        match result {
            Ok(_) => h.consecutive_failures = 0,
            Err(Failure::Unreachable(_) | Failure::Http(500..=599) | Failure::Http(429)) => {
                h.consecutive_failures += 1;
                if h.consecutive_failures >= self.config.crawl.host_failure_limit && h.paused.is_none() {
                    let reason = format!("{} failures in a row", h.consecutive_failures);
                    tracing::warn!(host, reason, "host paused for the rest of the run");
                    h.paused = Some(reason);
                }
            }
            Err(_) => {}
        }
    }
}
