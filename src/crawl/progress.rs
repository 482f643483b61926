//! Visible progress: a bar over hosts on a terminal, a log line every half minute
//! otherwise (cron), both read from the run's [`Tally`].
//!
//! The line gives what someone watching wants to know: hosts done of all known, the
//! rate now (over the last ten seconds, not the whole run, which falls while one slow
//! host holds the run open), the hosts still running and the slowest of them by
//! name, errors by kind, and an ETA once no new host has appeared for a while.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::tally::{Tally, get};

/// How far back the current rate looks.
const RATE_WINDOW: Duration = Duration::from_secs(10);
/// How long the host count must stay put before an ETA is shown (this, or a fifth of
/// the time elapsed, whichever is longer): hosts found on the way (集约化 departments,
/// file servers) make it grow early in a run.
const STABLE_FOR: Duration = Duration::from_secs(10);

/// Shows the tally until dropped.
pub struct Progress {
    task: tokio::task::JoinHandle<()>,
    bar: Option<ProgressBar>,
}

/// What the line is made of, read once per tick.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub hosts_done: u64,
    pub hosts_total: u64,
    pub pages: u64,
    pub not_modified: u64,
    pub reports: u64,
    pub rate_now: f64,
    pub running: usize,
    pub slowest: Option<(String, Duration)>,
    pub errors: Vec<(&'static str, u64)>,
    pub eta: Option<Duration>,
}

/// Remembers recent samples for the current rate and the host count's last change.
struct Watch {
    started: Instant,
    samples: VecDeque<(Instant, u64)>,
    hosts_total: u64,
    hosts_changed: Instant,
}

impl Watch {
    fn new() -> Watch {
        let now = Instant::now();
        Watch { started: now, samples: VecDeque::new(), hosts_total: 0, hosts_changed: now }
    }

    fn snapshot(&mut self, tally: &Tally) -> Snapshot {
        let now = Instant::now();
        let (pages, not_modified) = (get(&tally.pages), get(&tally.not_modified));
        self.samples.push_back((now, pages + not_modified));
        // The oldest sample within the window is kept, and one before it: the log's
        // line comes every 30 s, and with nothing older the rate would read 0.
        while self.samples.get(1).is_some_and(|(t, _)| now.duration_since(*t) >= RATE_WINDOW) {
            self.samples.pop_front();
        }
        let rate_now = match (self.samples.front(), self.samples.back()) {
            (Some((t0, n0)), Some((t1, n1))) if t1 > t0 => (n1 - n0) as f64 / t1.duration_since(*t0).as_secs_f64(),
            _ => 0.0,
        };
        let (hosts_done, hosts_total) = (get(&tally.hosts_done), get(&tally.hosts_total));
        if hosts_total != self.hosts_total {
            self.hosts_total = hosts_total;
            self.hosts_changed = now;
        }
        let stable = now.duration_since(self.hosts_changed) >= STABLE_FOR.max(now.duration_since(self.started) / 5);
        let eta = (stable && hosts_done > 0 && hosts_done < hosts_total).then(|| {
            let per_host = now.duration_since(self.started).as_secs_f64() / hosts_done as f64;
            Duration::from_secs_f64(per_host * (hosts_total - hosts_done) as f64)
        });
        let (running, slowest) = tally.running();
        Snapshot { hosts_done, hosts_total, pages, not_modified, reports: get(&tally.reports), rate_now, running, slowest, errors: tally.errors_by_kind(), eta }
    }
}

impl Snapshot {
    /// The message beside the bar (or the whole log line, with the host counts).
    pub fn message(&self) -> String {
        let mut line = format!("pages {} ({} unchanged) · {:.1}/s now · reports {}", self.pages, self.not_modified, self.rate_now, self.reports);
        if self.running > 0 {
            line.push_str(&format!(" · {} running", self.running));
            if let Some((host, took)) = &self.slowest {
                line.push_str(&format!(", longest {host} {}", clock(*took)));
            }
        }
        if !self.errors.is_empty() {
            let kinds: Vec<String> = self.errors.iter().take(3).map(|(k, n)| format!("{k} {n}")).collect();
            line.push_str(&format!(" · errors: {}", kinds.join(", ")));
        }
        line.push_str(&match self.eta {
            Some(eta) => format!(" · ETA {}", clock(eta)),
            None => " · ETA when the host count settles".to_string(),
        });
        line
    }
}

/// "m:ss", or "h:mm:ss" past an hour.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 { format!("{}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60) } else { format!("{}:{:02}", s / 60, s % 60) }
}

impl Progress {
    pub fn start(tally: Arc<Tally>) -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            let style =
                ProgressStyle::with_template("{elapsed_precise} [{bar:24}] {pos}/{len} hosts · {wide_msg}").expect("static template").progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        let shown = bar.clone();
        let task = tokio::spawn(async move {
            let every = if shown.is_some() { Duration::from_millis(250) } else { Duration::from_secs(30) };
            let mut tick = tokio::time::interval(every);
            let mut watch = Watch::new();
            tick.tick().await;
            loop {
                tick.tick().await;
                let now = watch.snapshot(&tally);
                match &shown {
                    Some(bar) => {
                        bar.set_length(now.hosts_total);
                        bar.set_position(now.hosts_done);
                        bar.set_message(now.message());
                    }
                    None => tracing::info!("hosts {}/{} · {}", now.hosts_done, now.hosts_total, now.message()),
                }
            }
        });
        Progress { task, bar }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_the_slowest_host_the_errors_and_the_eta() {
        let snapshot = Snapshot {
            hosts_done: 40,
            hosts_total: 45,
            pages: 480,
            not_modified: 12,
            reports: 140,
            rate_now: 3.25,
            running: 5,
            slowest: Some(("www.zt.gov.cn".into(), Duration::from_secs(131))),
            errors: vec![("unreachable", 4), ("blocked", 1)],
            eta: Some(Duration::from_secs(75)),
        };
        assert_eq!(
            snapshot.message(),
            "pages 480 (12 unchanged) · 3.2/s now · reports 140 · 5 running, longest www.zt.gov.cn 2:11 · errors: unreachable 4, blocked 1 · ETA 1:15"
        );
    }

    #[test]
    fn no_eta_while_hosts_keep_appearing_and_the_rate_is_recent() {
        let tally = Tally::default();
        let mut watch = Watch::new();
        tally.hosts_total.store(10, std::sync::atomic::Ordering::Relaxed);
        tally.hosts_done.store(5, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(watch.snapshot(&tally).eta, None, "the host count just changed");
        watch.hosts_changed -= STABLE_FOR;
        watch.started -= Duration::from_secs(50);
        let eta = watch.snapshot(&tally).eta.unwrap();
        assert!((49..=51).contains(&eta.as_secs()), "5 hosts in 50 s, 5 to go: {eta:?}");
        // The whole-run average would be 0.5/s; the rate now counts recent pages only.
        watch.samples = VecDeque::from([(Instant::now() - Duration::from_secs(4), 0)]);
        tally.pages.store(20, std::sync::atomic::Ordering::Relaxed);
        let rate = watch.snapshot(&tally).rate_now;
        assert!((4.5..=5.5).contains(&rate), "{rate}");
        // A log line every 30 s: the rate is over those 30 s, not 0.
        let mut logged = Watch::new();
        logged.samples = VecDeque::from([(Instant::now() - Duration::from_secs(30), 0)]);
        let rate = logged.snapshot(&tally).rate_now;
        assert!(rate > 0.5, "{rate}");
    }
}
