//! How a run ends: the signals that stop it early, and the summary it closes with.
//!
//! SIGINT or SIGTERM (Ctrl-C, `systemctl stop`, a cron timeout) stop the fetching;
//! the pages in hand are handled, the state committed and the dataset written from
//! everything collected, and the run exits 130 or 143. The run is not marked
//! finished, so the next one resumes its pending pages. A second signal stops at
//! once: the state is crash-safe, and the next run resumes from its last commit.

use std::sync::Arc;

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use tokio::signal::unix::{SignalKind, signal};

use super::summary::{Ended, Finish, HostSummary, ReportChanges, RequestCounts, Settings, Summary};
use super::tally::get;
use super::{Crawler, Halt, RunOptions, host_of};
use crate::config::Config;
use crate::exit::{Exit, Signal};
use crate::fetch::without_credentials;
use crate::lake::handoff::{HandedOver, Handoff};
use crate::lake::{Session, Target};
use crate::layout::Layout;
use crate::rebuild::{Reuse, build_dataset};
use crate::state::{HostStatus, State};
use url::Url;

/// The settings as the summary shows them: a proxy's credentials are not written
/// into `runs/`.
fn shown_config(config: &Config) -> Config {
    let mut shown = config.clone();
    shown.crawl.proxy = without_credentials(&shown.crawl.proxy);
    shown
}

/// A run with a lake: the shard's lease first, then the pages other shards handed
/// in, the crawl, and the commit of its dataset with the pages it hands over. However
/// the run ends, the lease is given up.
pub(super) async fn with_lake(
    lake: &Target,
    run_id: &str,
    out: &Path,
    started_at: DateTime<Utc>,
    crawl: impl AsyncFnOnce(Vec<Handoff>) -> Result<(Summary, HandedOver)>,
) -> Result<Summary> {
    let mut session = Session::begin(lake, run_id).await?;
    let taken = match session.pull_home(out).await {
        Ok(()) => session.take_inbox().await,
        Err(e) => Err(e),
    };
    let crawled = match taken {
        Ok(handed_in) => crawl(handed_in).await,
        Err(e) => Err(e),
    };
    let (mut summary, handed_over) = match crawled {
        Ok(crawled) => crawled,
        Err(e) => {
            session.abandon().await;
            return Err(e);
        }
    };
    let pushed = session
        .finish(out, handed_over, started_at.timestamp_millis())
        .await
        .context(Exit::Lake)
        .context("the dataset is written under the output directory; the next run commits it to the lake")?;
    summary.lake = Some(pushed);
    summary.save(&Layout::new(out).runs())?;
    Ok(summary)
}

impl Crawler {
    /// Waits for SIGINT or SIGTERM: while fetching, stops the run (pending pages stay
    /// for the next run); once everything is fetched and the dataset is being written,
    /// says so and lets the run finish. Exits at once on a second signal.
    pub(super) async fn stop_on_signals(self: Arc<Self>, writing: bool) {
        let (Ok(mut interrupt), Ok(mut terminate)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
            tracing::warn!("cannot listen for SIGINT and SIGTERM: they will kill the run (which resumes next time)");
            return;
        };
        let next = async |interrupt: &mut tokio::signal::unix::Signal, terminate: &mut tokio::signal::unix::Signal| {
            tokio::select! {
                _ = interrupt.recv() => Signal::Interrupt,
                _ = terminate.recv() => Signal::Terminate,
            }
        };
        let first = next(&mut interrupt, &mut terminate).await;
        if writing {
            tracing::warn!("{}: every page is fetched and the dataset is being written: the run finishes first (send it again to stop at once)", first.name());
        } else {
            tracing::warn!("{}: stopping; the pages in hand are kept and the dataset written (send it again to stop at once)", first.name());
            self.halt(Halt::Signal(first));
        }
        let second = next(&mut interrupt, &mut terminate).await;
        eprintln!("nianbao: {} again: stopping now; the next run resumes from the last commit", second.name());
        std::process::exit(Exit::Interrupted(first).code().into());
    }

    /// Writes the dataset and closes the run with its summary (`runs/<run-id>.json`).
    /// An interrupted run is left unfinished in the state, to be resumed.
    pub(super) fn finish(
        &self,
        state: State,
        layout: &Layout,
        started_at: DateTime<Utc>,
        resumed: bool,
        signal: Option<Signal>,
        options: RunOptions,
    ) -> Result<Summary> {
        for (host, why) in self.fetcher.paused_hosts() {
            state.set_host(&host, HostStatus::Paused, &why, &self.run_id)?;
        }
        state.remember_robots(self.fetcher.fetched_robots())?;
        let (dataset, unassembled) = build_dataset(&state, layout, &self.tripwire, &self.run_id, Reuse::Extractions, self.config.discover.min_report_year)?;
        let finished_at = Utc::now();
        let mut summary = Summary {
            run_id: self.run_id.clone(),
            resumed,
            started_at,
            finished_at,
            elapsed_secs: (finished_at - started_at).num_milliseconds() as f64 / 1000.0,
            ended: if signal.is_some() { Ended::Interrupted } else { Ended::Finished },
            exit_code: 0,
            exit: Exit::Ok,
            reports: ReportChanges {
                new: get(&self.tally.new_reports),
                changed: get(&self.tally.changed_reports),
                unchanged: get(&self.tally.unchanged_reports),
            },
            dataset,
            requests: RequestCounts {
                fetched: get(&self.tally.pages),
                not_modified: get(&self.tally.not_modified),
                conditional: get(&self.tally.conditional),
                failed: get(&self.tally.errors),
                not_due: get(&self.tally.not_due),
            },
            pages_by_outcome: state.outcome_counts()?.into_iter().collect(),
            hosts: self.host_summaries(&state, signal)?,
            unassembled,
            seed_lines_skipped: options.seed_lines_skipped.clone(),
            lake: None,
            settings: Settings {
                config_file: options.config_file.map(|p| p.display().to_string()),
                config: shown_config(&self.config),
                only_hosts: options.only_hosts,
            },
        };
        // So that `nianbao stats` says which hosts the signal cut short, as the summary does.
        for host in summary.hosts.iter().filter(|h| h.finish == Finish::Interrupted) {
            state.set_host(&host.host, HostStatus::Interrupted, host.reason.as_deref().unwrap_or_default(), &self.run_id)?;
        }
        summary.exit = summary.status(signal);
        summary.exit_code = summary.exit.code();
        summary.save(&layout.runs())?;
        if signal.is_none() {
            state.finish_run(&self.run_id, &summary.to_text())?;
        }
        Ok(summary)
    }

    /// Every host the run fetched from, with how its crawl ended: a host with pages
    /// left when a signal stopped the run was interrupted, whatever it fetched.
    fn host_summaries(&self, state: &State, signal: Option<Signal>) -> Result<Vec<HostSummary>> {
        let mut pending: std::collections::HashMap<String, i64> = match signal {
            Some(_) => state.pending_by_host()?.into_iter().collect(),
            None => Default::default(),
        };
        let mut records: std::collections::HashMap<String, _> = state.hosts()?.into_iter().map(|r| (r.host.clone(), r)).collect();
        let seeds: std::collections::HashSet<String> = self.seeds.keys().filter_map(|u| Some(host_of(&Url::parse(u).ok()?))).collect();
        let mut hosts: Vec<HostSummary> = self
            .tally
            .hosts()
            .into_iter()
            .map(|(host, tally)| {
                let record = records.remove(&host);
                HostSummary {
                    finish: record.as_ref().map_or(Finish::Done, |r| r.status.into()),
                    reason: record.map(|r| r.reason),
                    seed: seeds.contains(&host),
                    host,
                    tally,
                }
            })
            .collect();
        // Hosts stopped before their first request (a budget used up) have no tally.
        hosts.extend(records.into_values().map(|r| HostSummary {
            seed: seeds.contains(&r.host),
            host: r.host,
            tally: Default::default(),
            finish: r.status.into(),
            reason: Some(r.reason),
        }));
        for host in &mut hosts {
            if let Some(left) = pending.remove(&host.host).filter(|_| host.finish == Finish::Done) {
                host.finish = Finish::Interrupted;
                host.reason = Some(interrupted(signal, left));
            }
        }
        // Hosts whose first page was still to fetch.
        hosts.extend(pending.into_iter().map(|(host, left)| HostSummary {
            seed: seeds.contains(&host),
            host,
            tally: Default::default(),
            finish: Finish::Interrupted,
            reason: Some(interrupted(signal, left)),
        }));
        hosts.sort_by(|a, b| a.host.cmp(&b.host));
        Ok(hosts)
    }
}

/// Why a host did not finish when a signal stopped the run.
fn interrupted(signal: Option<Signal>, pages_left: i64) -> String {
    let signal = signal.map_or("a signal", Signal::name);
    let pages = if pages_left == 1 { "page" } else { "pages" };
    format!("stopped by {signal} with {pages_left} {pages} to fetch; the next run resumes them")
}
