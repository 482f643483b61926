//! Per-host politeness: a rate limiter, an in-flight cap and a "not before" time
//! for every host, and one global in-flight cap.
//!
//! A host's interval runs from the end of its previous response, not from the
//! start of its previous request (as Nutch and Heritrix do). Only then does the
//! server itself see every request at least an interval after the one before,
//! however late our side got its previous request onto the wire: a busy CPU delays
//! sends by tens of milliseconds, and spacing sends alone let a server count six
//! requests within a second at five per second (seen in CI).
//!
//! Limits are per host, not per seed: a 集约化 portal carries dozens of bodies on
//! one host, and the host is what feels the load. A waiting host never holds a
//! global slot, so a slow or throttled host cannot hold back the others.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;

/// The politeness state of one host.
pub struct HostGate {
    /// One lock for the pace: a Crawl-delay changes the interval, the hold and the
    /// limiter together. Held for a read or an update, never across an await.
    pace: Mutex<Pace>,
    in_flight: Arc<Semaphore>,
}

struct Pace {
    interval: Duration,
    /// Set by each response, Retry-After and backoff: the whole host waits, not
    /// just one URL.
    not_before: Option<Instant>,
    limiter: Arc<DefaultDirectRateLimiter>,
}

impl HostGate {
    fn new(rps: f64, concurrency: usize) -> HostGate {
        let interval = Duration::from_secs_f64(1.0 / rps);
        HostGate {
            pace: Mutex::new(Pace { interval, not_before: None, limiter: Arc::new(limiter(interval)) }),
            in_flight: Arc::new(Semaphore::new(concurrency)),
        }
    }

    /// Spaces this host's requests at least `interval` apart (robots.txt Crawl-delay).
    /// Never makes the host faster than configured. The hold already running (from
    /// the robots.txt response itself) is lengthened too, so the delay applies to the
    /// very next request.
    pub fn slow_down_to(&self, interval: Duration) {
        let mut pace = self.pace.lock().unwrap();
        if interval > pace.interval {
            let longer = interval - pace.interval;
            if let Some(until) = pace.not_before.as_mut() {
                *until += longer;
            }
            pace.interval = interval;
            pace.limiter = Arc::new(limiter(interval));
        }
    }

    pub fn interval(&self) -> Duration {
        self.pace.lock().unwrap().interval
    }

    /// Waits for the host's not-before time (its interval, Retry-After, backoff).
    pub async fn until_due(&self) {
        loop {
            let wait = self.pace.lock().unwrap().not_before.map(|t| t.saturating_duration_since(Instant::now()));
            match wait {
                Some(d) if !d.is_zero() => tokio::time::sleep(d).await,
                _ => return,
            }
        }
    }

    /// Makes the whole host wait until `until` (Retry-After, backoff).
    pub fn hold_until(&self, until: Instant) {
        let mut pace = self.pace.lock().unwrap();
        if pace.not_before.is_none_or(|t| t < until) {
            pace.not_before = Some(until);
        }
    }
}

/// Spaces the starts of requests, which matters for a host allowed more than one
/// in flight; with one, the hold from the previous response is the later bound.
fn limiter(interval: Duration) -> DefaultDirectRateLimiter {
    let quota = Quota::with_period(interval.max(Duration::from_micros(1))).expect("period is positive").allow_burst(NonZeroU32::MIN);
    RateLimiter::direct(quota)
}

/// Held while a request is in flight. Drop it as soon as the response has been
/// read: that starts the host's interval and frees the slots.
pub struct Permit {
    gate: Arc<HostGate>,
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl Drop for Permit {
    fn drop(&mut self) {
        // Before the slots are freed (fields drop after this), so the host's next
        // request, which waits for the slot, always sees this hold.
        self.gate.hold_until(Instant::now() + self.gate.interval());
    }
}

pub struct Politeness {
    config: Arc<Config>,
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
    global: Arc<Semaphore>,
}

impl Politeness {
    pub fn new(config: Arc<Config>) -> Politeness {
        let global = Arc::new(Semaphore::new(config.crawl.global_concurrency));
        Politeness { config, hosts: Mutex::new(HashMap::new()), global }
    }

    pub fn gate(&self, host: &str) -> Arc<HostGate> {
        let mut hosts = self.hosts.lock().unwrap();
        hosts.entry(host.to_string()).or_insert_with(|| Arc::new(HostGate::new(self.config.host_rps(host), self.config.host_concurrency(host)))).clone()
    }

    /// Waits until a request to `host` is allowed: a host slot, the host's
    /// not-before time, its rate, then a global slot.
    pub async fn acquire(&self, host: &str) -> Permit {
        let gate = self.gate(host);
        let host_permit = gate.in_flight.clone().acquire_owned().await.expect("semaphore never closed");
        gate.until_due().await;
        let limiter = gate.pace.lock().unwrap().limiter.clone();
        limiter.until_ready().await;
        let global = self.global.clone().acquire_owned().await.expect("semaphore never closed");
        Permit { gate, _host: host_permit, _global: global }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_host_is_spaced_and_others_are_not_held_back() {
        let mut config = Config::default();
        // A wide interval, so that a loaded machine's scheduling delay cannot pass for it.
        config.crawl.per_host_rps = 4.0;
        let p = Politeness::new(Arc::new(config));
        drop(p.acquire("a.gov.cn").await);
        let start = Instant::now();
        drop(p.acquire("b.gov.cn").await);
        assert!(start.elapsed() < Duration::from_millis(125), "another host waited: {:?}", start.elapsed());
        drop(p.acquire("a.gov.cn").await);
        assert!(start.elapsed() >= Duration::from_millis(245), "same host not spaced: {:?}", start.elapsed());
    }

    #[tokio::test]
    async fn the_interval_runs_from_the_end_of_the_previous_response() {
        let mut config = Config::default();
        config.crawl.per_host_rps = 20.0;
        let p = Politeness::new(Arc::new(config));
        let slow = p.acquire("a.gov.cn").await;
        let start = Instant::now();
        tokio::time::sleep(Duration::from_millis(120)).await; // a slow response
        drop(slow);
        drop(p.acquire("a.gov.cn").await);
        assert!(start.elapsed() >= Duration::from_millis(170), "next request only {:?} after the first", start.elapsed());
    }

    #[test]
    fn crawl_delay_only_ever_slows_a_host_down() {
        let p = Politeness::new(Arc::new(Config::default()));
        p.gate("a.gov.cn").slow_down_to(Duration::from_secs(3));
        assert_eq!(p.gate("a.gov.cn").interval(), Duration::from_secs(3));
        p.gate("a.gov.cn").slow_down_to(Duration::from_millis(10));
        assert_eq!(p.gate("a.gov.cn").interval(), Duration::from_secs(3));
    }
}
