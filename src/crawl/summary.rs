//! The run summary: what a crawl did, as text for a person, as JSON for a machine
//! (`runs/<run-id>.json`, and stdout with `--json`), and as the exit status.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::tally::HostTally;
use crate::config::Config;
use crate::dataset::Written;
use crate::exit::{Exit, Signal};
use crate::lake::Pushed;
use crate::state::HostStatus;

/// What a run did. Field names are the JSON schema, listed in the README.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub run_id: String,
    /// The run went on from one that was killed or interrupted.
    pub resumed: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub elapsed_secs: f64,
    /// "finished", or "interrupted" by a signal (the next run resumes it).
    pub ended: Ended,
    /// The exit status the command ends with.
    pub exit_code: u8,
    #[serde(skip)]
    pub exit: Exit,
    /// Report pages met in this run, against what the state held before it.
    pub reports: ReportChanges,
    /// What the dataset holds after this run (all runs' reports).
    pub dataset: Written,
    /// This run's page requests, as the progress line counted them.
    pub requests: RequestCounts,
    /// Frontier pages by their last outcome (this run's, or an earlier one's for pages
    /// this run did not reach). A list page answered 304 is read again from the
    /// archive, so it counts as `ok` here and as not modified in `requests`.
    pub pages_by_outcome: BTreeMap<String, u64>,
    /// Every host this run fetched from.
    pub hosts: Vec<HostSummary>,
    /// Reports the archive could not give back; the next crawl fetches them whole.
    pub unassembled: Vec<String>,
    /// Seed file lines skipped, each with its file, line and why.
    pub seed_lines_skipped: Vec<String>,
    /// What the run committed to its Delta Lake (`--lake`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lake: Option<Pushed>,
    pub settings: Settings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    Finished,
    Interrupted,
}

#[derive(Debug, Default, Serialize)]
pub struct ReportChanges {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
}

/// A run's page requests (robots.txt and retries aside), from the one tally the
/// progress line shows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    /// Answered with a body.
    pub fetched: u64,
    /// Answered 304 Not Modified.
    pub not_modified: u64,
    /// Sent with an earlier fetch's validators (If-None-Match / If-Modified-Since).
    pub conditional: u64,
    pub failed: u64,
    /// Pages not asked for: not due on the revisit schedule (`[revisit]`; `--revisit
    /// all` asks for every page).
    pub not_due: u64,
}

/// One host's part of the run.
#[derive(Debug, Serialize)]
pub struct HostSummary {
    pub host: String,
    #[serde(flatten)]
    pub tally: HostTally,
    /// How its crawl ended: "done", or why not (budget, blocked, unreachable, paused,
    /// interrupted).
    pub finish: Finish,
    pub reason: Option<String>,
    /// Whether a seed of the run is on this host: only those decide whether the run
    /// was an outage, not hosts that links led to.
    pub seed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    Done,
    Budget,
    Blocked,
    Unreachable,
    Paused,
    /// The run was stopped by a signal with pages of the host still to fetch: the
    /// next run resumes them.
    Interrupted,
}

impl From<HostStatus> for Finish {
    fn from(status: HostStatus) -> Finish {
        match status {
            HostStatus::Budget => Finish::Budget,
            HostStatus::Blocked => Finish::Blocked,
            HostStatus::Unreachable => Finish::Unreachable,
            HostStatus::Paused => Finish::Paused,
            HostStatus::Interrupted => Finish::Interrupted,
        }
    }
}

/// The settings the run used, and where they came from.
#[derive(Debug, Serialize)]
pub struct Settings {
    /// The settings file read, or null for the built-in defaults.
    pub config_file: Option<String>,
    pub config: Config,
    /// `--only-host` filters, if any.
    pub only_hosts: Vec<String>,
}

impl Summary {
    /// The exit status: an interrupted run says which signal; a run that collected
    /// nothing, or whose failed seed hosts exceed `crawl.max_failed_hosts`, is an outage
    /// for the alert to raise; lost reports are partial.
    pub fn status(&self, signal: Option<Signal>) -> Exit {
        let (failed, seeds) = self.failed_seed_hosts();
        let share = failed as f64 / seeds.max(1) as f64;
        match signal {
            Some(signal) => Exit::Interrupted(signal),
            // Nothing answered is an outage, unless nothing was asked: no page was due.
            None if self.collected() == 0 && (self.requests.failed > 0 || self.requests.not_due == 0) => Exit::Unavailable,
            None if share > self.settings.config.crawl.max_failed_hosts => Exit::Unavailable,
            None if !self.unassembled.is_empty() => Exit::Partial,
            None => Exit::Ok,
        }
    }

    /// Why the run was an outage (exit 69), in one line, if it was.
    pub fn outage(&self) -> Option<String> {
        if self.exit != Exit::Unavailable || self.lake.is_some() {
            return None;
        }
        let proxy = &self.settings.config.crawl.proxy;
        let through = match proxy.as_str() {
            "" | "none" => String::new(),
            p => format!(" through the proxy {}", crate::fetch::without_credentials(p)),
        };
        let (failed, seeds) = self.failed_seed_hosts();
        Some(match self.collected() {
            0 => format!("the run collected nothing{through}: {failed} of {seeds} seed hosts failed"),
            _ => format!(
                "{failed} of {seeds} seed hosts ended unreachable, blocked or paused{through}, over crawl.max_failed_hosts = {}",
                self.settings.config.crawl.max_failed_hosts
            ),
        })
    }

    /// Pages the run got an answer for, with a body or not modified.
    fn collected(&self) -> u64 {
        self.hosts.iter().map(|h| h.tally.pages + h.tally.not_modified).sum()
    }

    /// Seed hosts that ended unreachable, blocked or paused, and seed hosts in all:
    /// hosts only links led to never make a run an outage.
    fn failed_seed_hosts(&self) -> (usize, usize) {
        let seeds = self.hosts.iter().filter(|h| h.seed);
        let failed = seeds.clone().filter(|h| !matches!(h.finish, Finish::Done | Finish::Budget | Finish::Interrupted)).count();
        (failed, seeds.count())
    }

    /// The summary for a person: what this run found, what the dataset holds, and
    /// every host that did not finish, with why.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "run {} {}{} at {} after {}\n",
            self.run_id,
            match self.ended {
                Ended::Finished => "finished",
                Ended::Interrupted => "interrupted",
            },
            if self.resumed { " (resumed)" } else { "" },
            self.finished_at.format("%Y-%m-%d %H:%M:%S UTC"),
            duration(self.elapsed_secs),
        );
        let r = &self.reports;
        let hosts_failed = self.hosts.iter().filter(|h| h.finish != Finish::Done).count();
        out.push_str(&format!(
            "this run: {} reports new, {} changed, {} unchanged; {} hosts, {} not crawled to the end\n",
            r.new,
            r.changed,
            r.unchanged,
            self.hosts.len(),
            hosts_failed
        ));
        let d = &self.dataset;
        let r = &self.requests;
        out.push_str(&format!(
            "requests: {} fetched, {} not modified ({} sent conditional), {} failed; {} pages not due\n",
            r.fetched, r.not_modified, r.conditional, r.failed, r.not_due
        ));
        out.push_str(&format!("dataset: {} reports, {} facts in {} partitions\npages by outcome:\n", d.reports, d.facts, d.partitions));
        let mut outcomes: Vec<_> = self.pages_by_outcome.iter().collect();
        outcomes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (outcome, n) in outcomes {
            out.push_str(&format!("  {outcome:<32} {n:>7}\n"));
        }
        for h in self.hosts.iter().filter(|h| h.finish != Finish::Done) {
            let finish = serde_json::to_value(h.finish).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            out.push_str(&format!("host {}: {finish}: {}\n", h.host, h.reason.as_deref().unwrap_or("")));
        }
        for problem in &self.unassembled {
            out.push_str(&format!("report not assembled: {problem}\n"));
        }
        for skipped in &self.seed_lines_skipped {
            out.push_str(&format!("seed list: {skipped}\n"));
        }
        if let Some(why) = self.outage() {
            out.push_str(&format!("exit 69: {why}\n"));
        }
        if let Some(lake) = &self.lake {
            out.push_str(&lake_line(lake));
            out.push('\n');
        }
        out
    }

    /// Writes `runs/<run-id>.json`, whole or not at all.
    pub fn save(&self, runs: &Path) -> Result<()> {
        std::fs::create_dir_all(runs).with_context(|| format!("cannot create {}", runs.display()))?;
        let path = runs.join(format!("{}.json", self.run_id));
        let partial = runs.join(format!(".{}.json.partial", self.run_id));
        std::fs::write(&partial, serde_json::to_vec_pretty(self)?).with_context(|| format!("cannot write {}", partial.display()))?;
        std::fs::rename(&partial, &path).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// "1 h 02 min", "3 min 05 s", "12.3 s".
fn duration(secs: f64) -> String {
    let whole = secs as u64;
    match whole {
        0..60 => format!("{secs:.1} s"),
        60..3600 => format!("{} min {:02} s", whole / 60, whole % 60),
        _ => format!("{} h {:02} min", whole / 3600, whole % 3600 / 60),
    }
}

/// One line on what a run committed to its lake.
pub fn lake_line(lake: &Pushed) -> String {
    let tables: Vec<String> = lake
        .tables
        .iter()
        .map(|t| match t.version {
            Some(v) => format!("{} v{v} (+{} −{} files)", t.table, t.files_added, t.files_removed),
            None => format!("{} (already committed)", t.table),
        })
        .collect();
    format!(
        "lake {} as shard {}: {} in {:.1} s; {} pages handed to other shards, {} taken in",
        lake.root,
        lake.shard,
        tables.join(", "),
        lake.elapsed_ms as f64 / 1000.0,
        lake.handed_over,
        lake.taken_in
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(hosts: &[(&str, u64, Finish)]) -> Summary {
        Summary {
            run_id: "20261129T010203.000Z".into(),
            resumed: false,
            started_at: Utc::now(),
            finished_at: Utc::now(),
            elapsed_secs: 75.0,
            ended: Ended::Finished,
            exit_code: 0,
            exit: Exit::Ok,
            reports: ReportChanges::default(),
            dataset: Written::default(),
            requests: RequestCounts::default(),
            pages_by_outcome: BTreeMap::new(),
            hosts: hosts
                .iter()
                .map(|(host, pages, finish)| HostSummary {
                    host: host.to_string(),
                    tally: {
                        let mut tally = HostTally::default();
                        tally.pages = *pages;
                        tally
                    },
                    finish: *finish,
                    reason: None,
                    seed: true,
                })
                .collect(),
            unassembled: Vec::new(),
            seed_lines_skipped: Vec::new(),
            lake: None,
            settings: Settings { config_file: None, config: Config::default(), only_hosts: Vec::new() },
        }
    }

    #[test]
    fn a_run_that_collected_nothing_or_lost_most_hosts_is_an_outage() {
        let ok = summary(&[("a.gov.cn", 10, Finish::Done), ("b.gov.cn", 0, Finish::Unreachable), ("c.gov.cn", 3, Finish::Budget)]);
        assert_eq!(ok.status(None), Exit::Ok);
        let mut dead_proxy = summary(&[("a.gov.cn", 0, Finish::Unreachable), ("b.gov.cn", 0, Finish::Unreachable)]);
        assert_eq!(dead_proxy.status(None).code(), 69);
        dead_proxy.exit = dead_proxy.status(None);
        dead_proxy.settings.config.crawl.proxy = "http://ops:pw@10.9.8.7:3128".into();
        assert!(
            dead_proxy.to_text().ends_with("exit 69: the run collected nothing through the proxy http://***@10.9.8.7:3128/: 2 of 2 seed hosts failed\n"),
            "{}",
            dead_proxy.to_text()
        );
        let mut most_failed = summary(&[("a.gov.cn", 4, Finish::Done), ("b.gov.cn", 1, Finish::Blocked), ("c.gov.cn", 0, Finish::Paused)]);
        assert_eq!(most_failed.status(None), Exit::Unavailable);
        most_failed.exit = Exit::Unavailable;
        assert_eq!(most_failed.outage().unwrap(), "2 of 3 seed hosts ended unreachable, blocked or paused, over crawl.max_failed_hosts = 0.5");
        let mut lenient = most_failed;
        lenient.settings.config.crawl.max_failed_hosts = 0.7;
        assert_eq!(lenient.status(None), Exit::Ok);
        lenient.unassembled.push("http://a.gov.cn/r.html: record lost".into());
        assert_eq!(lenient.status(None).code(), 1);
        assert_eq!(ok.status(Some(Signal::Terminate)).code(), 143);
        // A night on which no page was due asked for nothing and lost nothing; one
        // whose due pages all failed is an outage, whatever was not due.
        let mut quiet = summary(&[("a.gov.cn", 0, Finish::Done)]);
        quiet.requests.not_due = 40;
        assert_eq!(quiet.status(None), Exit::Ok);
        quiet.requests.failed = 3;
        assert_eq!(quiet.status(None), Exit::Unavailable);
    }

    proptest::proptest! {
        /// However many hosts that only links led to fail, and however, the run's
        /// status is what its seeds' hosts make it.
        #[test]
        fn hosts_that_links_led_to_never_decide_the_exit_status(
            seeds in proptest::collection::vec(proptest::sample::select(vec![Finish::Done, Finish::Budget, Finish::Unreachable, Finish::Blocked]), 1..6),
            linked in proptest::collection::vec(proptest::sample::select(vec![Finish::Unreachable, Finish::Blocked, Finish::Paused, Finish::Done]), 0..40),
        ) {
            let hosts: Vec<(String, Finish)> = seeds.iter().enumerate().map(|(i, f)| (format!("s{i}.gov.cn"), *f)).collect();
            let alone = summary(&hosts.iter().map(|(h, f)| (h.as_str(), 1, *f)).collect::<Vec<_>>());
            let mut with_links = summary(&hosts.iter().map(|(h, f)| (h.as_str(), 1, *f)).collect::<Vec<_>>());
            for (i, finish) in linked.iter().enumerate() {
                let mut linked = summary(&[(&format!("l{i}.gov.cn"), 0, *finish)]).hosts.remove(0);
                linked.seed = false;
                with_links.hosts.push(linked);
            }
            proptest::prop_assert_eq!(with_links.status(None), alone.status(None));
        }
    }

    #[test]
    fn the_text_names_the_runs_findings_and_the_hosts_that_did_not_finish() {
        let mut s = summary(&[("a.gov.cn", 10, Finish::Done), ("b.gov.cn", 0, Finish::Blocked)]);
        s.hosts[1].reason = Some("HTTP 412 challenge ($_ts)".into());
        s.reports = ReportChanges { new: 2, changed: 1, unchanged: 7 };
        let text = s.to_text();
        assert!(text.starts_with("run 20261129T010203.000Z finished at "), "{text}");
        assert!(text.contains(" after 1 min 15 s\n"), "{text}");
        assert!(text.contains("this run: 2 reports new, 1 changed, 7 unchanged; 2 hosts, 1 not crawled to the end\n"), "{text}");
        assert!(text.contains("host b.gov.cn: blocked: HTTP 412 challenge ($_ts)\n"), "{text}");
        assert!(!text.contains("a.gov.cn:"), "{text}");
    }

    #[test]
    fn the_json_has_structured_hosts_and_settings() {
        let s = summary(&[("a.gov.cn", 10, Finish::Budget)]);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["hosts"][0]["finish"], "budget");
        assert_eq!(json["hosts"][0]["pages"], 10);
        assert_eq!(json["ended"], "finished");
        assert_eq!(json["settings"]["config"]["crawl"]["per_host_rps"], 1.0);
        assert!(json["hosts"][0].get("started").is_none());
    }
}
