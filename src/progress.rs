//! Visible progress: an indicatif line on a terminal, periodic log lines otherwise
//! (cron), and the counters both read.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Default)]
pub struct Counters {
    pub pages: AtomicU64,
    pub not_modified: AtomicU64,
    pub reports: AtomicU64,
    pub errors: AtomicU64,
    pub hosts_total: AtomicU64,
    pub hosts_done: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn line(&self, started: Instant) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let secs = started.elapsed().as_secs_f64().max(0.001);
        format!(
            "hosts {}/{} · pages {} ({} unchanged) · reports {} · errors {} · {:.1} pages/s",
            get(&self.hosts_done),
            get(&self.hosts_total),
            get(&self.pages),
            get(&self.not_modified),
            get(&self.reports),
            get(&self.errors),
            (get(&self.pages) + get(&self.not_modified)) as f64 / secs
        )
    }
}

/// Shows the counters until dropped.
pub struct Progress {
    task: tokio::task::JoinHandle<()>,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn start(counters: Arc<Counters>) -> Progress {
        use std::io::IsTerminal;
        let started = Instant::now();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}").expect("static template"));
            bar
        });
        let shown = bar.clone();
        let task = tokio::spawn(async move {
            let every = if shown.is_some() { Duration::from_millis(200) } else { Duration::from_secs(30) };
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                match &shown {
                    Some(bar) => bar.set_message(counters.line(started)),
                    None => tracing::info!("{}", counters.line(started)),
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
