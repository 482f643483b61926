//! Crawl: the seeds through fetch and discover into the state, then the dataset.
//!
//! Work is scheduled by host, because politeness is per host: every host with pages
//! to fetch gets its own workers (as many as its in-flight limit), which take that
//! host's next page, fetch it through the polite [`Fetcher`], and hand it to the
//! [`Backlog`]'s handler threads (decode, discover, extract, record), fetching on
//! while it waits there. Pages found for another host go to that host's queue,
//! starting its workers if it had none. A stalled host only stalls its own workers,
//! and a busy CPU delays the handling of pages, not the requests hosts are due.
//!
//! Every discovered page enters the frontier in [`State`] before it enters a queue,
//! so a killed run resumes from the state; the dataset is then assembled from the
//! reports in the state and the raw archive (see `assemble`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use url::Url;

use crate::assemble::{assemble, division_of, partition, report_id, sniff};
use crate::backlog::{Backlog, Place, isolated};
use crate::config::Config;
use crate::dataset::{self, Written};
use crate::decode::{Decoded, decode};
use crate::digest::sha256_hex;
use crate::discover::{self, PageKind, Target, canonical::canonical};
use crate::extract::{self, stored::{self, Stored}};
use crate::fetch::{Archive, Ask, BodyLimit, Failure, Fetch, Fetched, Fetcher, Validators, scope::Scope};
use crate::layout::Layout;
use crate::place::Division;
use crate::progress::{Counters, Progress};
use crate::seeds::Seed;
use crate::state::{BATCH_AGE, Extracted, Job, PageRecord, ReportEntry, State};

/// What a run did, for the closing summary.
#[derive(Debug, Default)]
pub struct Summary {
    pub run_id: String,
    pub resumed: bool,
    pub outcomes: Vec<(String, u64)>,
    pub hosts: Vec<(String, String, String)>,
    pub written: Written,
    pub unassembled: Vec<String>,
}

impl Summary {
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "run {}{}: {} reports, {} facts in {} partitions\npages by outcome:\n",
            self.run_id,
            if self.resumed { " (resumed)" } else { "" },
            self.written.reports,
            self.written.facts,
            self.written.partitions
        );
        for (outcome, n) in &self.outcomes {
            out.push_str(&format!("  {outcome:<40} {n:>7}\n"));
        }
        for (host, status, reason) in &self.hosts {
            out.push_str(&format!("host {host}: {status}: {reason}\n"));
        }
        for problem in &self.unassembled {
            out.push_str(&format!("report not assembled: {problem}\n"));
        }
        out
    }
}

struct Queues {
    jobs: HashMap<String, VecDeque<Job>>,
    workers: HashMap<String, usize>,
    pages: HashMap<String, u32>,
    list_pages: HashMap<(String, Option<String>), u32>,
}

/// What a host's worker does next.
enum Next {
    Job(Job),
    /// Nothing queued, but pages of the host are still being handled.
    Wait,
    Done,
}

/// Pages of one host fetched and not yet handled, at most: enough to keep a host's
/// requests on time while the CPU is busy, few enough to bound what waits in memory.
const LOOKAHEAD: usize = 2;

struct Crawler {
    config: Arc<Config>,
    fetcher: Fetcher,
    scope: Scope,
    state: Mutex<State>,
    queues: Mutex<Queues>,
    spawn: mpsc::UnboundedSender<String>,
    counters: Arc<Counters>,
    run_id: String,
    /// Set when our own side fails (disk full, state unwritable): every worker stops.
    fatal: Mutex<Option<String>>,
    /// Pages fetched and waiting to be handled, one per core at a time.
    backlog: Backlog,
}

/// Crawls `seeds` into `out` and writes the dataset.
pub async fn run(config: Config, seeds: Vec<Seed>, out: &Path) -> Result<Summary> {
    let layout = Layout::new(out);
    std::fs::create_dir_all(out).with_context(|| format!("cannot create output directory {}", out.display()))?;
    let state = State::open(&layout.state())?;
    let run_id = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let resumed = state.begin_run(&run_id)?;
    if resumed {
        tracing::info!("the last run did not finish: resuming it");
    }
    let seed_hosts: Vec<String> = seeds.iter().filter_map(|s| Url::parse(&s.url).ok()?.host_str().map(str::to_string)).collect();
    let scope = Scope::new(&config.scope, seed_hosts);
    let config = Arc::new(config);
    let archive = Archive::open(&layout.raw(), &run_id)?;
    let fetcher = Fetcher::new(config.clone(), scope.clone(), archive)?;
    let (spawn, mut spawned) = mpsc::unbounded_channel();
    let counters = Arc::new(Counters::default());
    let crawler = Arc::new(Crawler {
        config: config.clone(),
        fetcher,
        scope,
        state: Mutex::new(state),
        queues: Mutex::new(Queues { jobs: HashMap::new(), workers: HashMap::new(), pages: HashMap::new(), list_pages: HashMap::new() }),
        spawn,
        counters: counters.clone(),
        run_id: run_id.clone(),
        fatal: Mutex::new(None),
        backlog: Backlog::start(std::thread::available_parallelism().map_or(2, |n| n.get()), config.crawl.global_concurrency)
            .context("cannot start the page handler threads")?,
    });

    {
        let state = crawler.state.lock().unwrap();
        for seed in &seeds {
            state.add_seed(seed)?;
            let url = Url::parse(&seed.url)?;
            let target = Target { url: seed.url.clone(), kind: PageKind::Portal, ..Target::default() };
            state.add_job(&Job { canonical: canonical(&url), host: host_of(&url), seed: seed.url.clone(), target })?;
        }
        for job in state.pending_jobs()? {
            crawler.push(job);
        }
    }

    let progress = Progress::start(counters.clone());
    let committer = tokio::spawn(crawler.clone().commit_batches());
    let mut workers = JoinSet::new();
    loop {
        while let Ok(host) = spawned.try_recv() {
            workers.spawn(crawler.clone().work(host));
        }
        match workers.join_next().await {
            Some(result) => result.context("a crawl worker panicked")?,
            None => match spawned.try_recv() {
                Ok(host) => {
                    workers.spawn(crawler.clone().work(host));
                }
                Err(_) => break,
            },
        }
    }
    drop(progress);
    committer.abort();
    if let Some(why) = crawler.fatal.lock().unwrap().take() {
        // What was committed stays: the next run resumes from it.
        anyhow::bail!("crawl stopped: {why}. Everything fetched before this is kept; free the space and run again to resume");
    }
    crawler.fetcher.archive().sync().context("cannot sync the raw archive")?;

    let state = crawler.state.lock().unwrap();
    for (host, why) in crawler.fetcher.paused_hosts() {
        state.set_host(&host, "paused", &why, &run_id)?;
    }
    let (written, unassembled) = build_dataset(&state, &layout, &run_id, Reuse::Extractions)?;
    let summary = Summary {
        run_id: run_id.clone(),
        resumed,
        outcomes: state.outcome_counts()?,
        hosts: state.hosts()?,
        written,
        unassembled,
    };
    state.finish_run(&run_id, &summary.to_text())?;
    Ok(summary)
}

/// Rebuilds the dataset from the reports in the state, each from its kept
/// extraction or from the raw archive, as `reuse` says: what every crawl ends with
/// (reusing) and what `nianbao extract` runs (not reusing).
pub fn build_dataset(state: &State, layout: &Layout, run_id: &str, reuse: Reuse) -> Result<(Written, Vec<String>)> {
    // Each report is placed once: its division decides its partition and its columns.
    let mut partitions: BTreeMap<(String, i32), Vec<(ReportEntry, Option<&Division>)>> = BTreeMap::new();
    for entry in state.reports()? {
        let division = division_of(&entry);
        partitions.entry(partition(division, &entry)).or_default().push((entry, division));
    }
    let mut problems = Vec::new();
    let mut lost = Vec::new();
    let written = dataset::write(&layout.out, run_id, &partitions, |(entry, division)| {
        let stored = match reuse {
            Reuse::Extractions => stored_extraction(state, entry),
            Reuse::Nothing => None,
        };
        match isolated(|| assemble(entry, *division, &layout.raw(), stored)) {
            Ok(Ok(item)) => Some(item),
            Ok(Err(e)) => {
                problems.push(format!("{}: {e:#}; its pages will be fetched whole by the next crawl", entry.url));
                lost.extend(std::iter::once(&entry.record).chain(&entry.attachments).cloned());
                None
            }
            // A reader's bug: fetching the page again would not help.
            Err(why) => {
                problems.push(format!("{}: {why}", entry.url));
                None
            }
        }
    })?;
    // What the archive cannot give back must not be answered 304 forever.
    state.forget_archived(&lost)?;
    Ok((written, problems))
}

/// What a dataset build takes from the crawl state besides the report list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reuse {
    /// The extractions the crawl kept, where this nianbao made them: each report
    /// page is then parsed once per crawl.
    Extractions,
    /// Nothing: every report is extracted again from the raw archive.
    Nothing,
}

/// The extraction the crawl kept for a report, if this extractor made it and it
/// reads back; anything else means extracting it again from the archive.
fn stored_extraction(state: &State, entry: &ReportEntry) -> Option<Stored> {
    let kept = match state.extracted(&entry.report_id, entry.version) {
        Ok(kept) => kept?,
        Err(e) => {
            tracing::warn!(url = %entry.url, "cannot read the stored extraction, extracting again: {e:#}");
            return None;
        }
    };
    if kept.extractor != stored::EXTRACTOR {
        return None;
    }
    Stored::decode(&kept.data).map_err(|e| tracing::warn!(url = %entry.url, "extracting again: {e:#}")).ok()
}

/// Runs `nianbao extract`: the dataset again from `out`'s state and raw archive,
/// every report extracted anew (after an upgrade, with the new extractor).
pub fn extract_offline(out: &Path) -> Result<(Written, Vec<String>)> {
    let layout = Layout::new(out);
    anyhow::ensure!(layout.state().join("nianbao.sqlite").exists(), "{} holds no crawl state: run `nianbao crawl` first", out.display());
    let state = State::open(&layout.state())?;
    let run_id = format!("extract-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
    build_dataset(&state, &layout, &run_id, Reuse::Nothing)
}

/// Whether a URL names a document file (by extension or a Hanweb `downfile.jsp`
/// link), which gets the attachment size cap. The type itself is sniffed from bytes.
fn is_file_link(url: &Url) -> bool {
    let path = url.path().to_ascii_lowercase();
    [".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".png", ".jpg", ".jpeg"].iter().any(|e| path.ends_with(e))
        || path.ends_with("downfile.jsp")
}

/// The warning a page decoded with malformed sequences carries: which encoding, how it
/// was chosen, and how many sequences were replaced.
fn damaged_text(decoded: &Decoded) -> Option<String> {
    (decoded.malformed > 0).then(|| {
        format!(
            "text damaged: decoded as {} ({}), {} malformed byte sequences replaced",
            decoded.encoding_name(),
            decoded.decision.as_str(),
            decoded.malformed
        )
    })
}

fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

impl Crawler {
    /// Queues a job for its host, starting a worker if the host has room for one.
    fn push(&self, job: Job) {
        let mut q = self.queues.lock().unwrap();
        let host = job.host.clone();
        let fresh_host = !q.jobs.contains_key(&host) && !q.workers.contains_key(&host);
        q.jobs.entry(host.clone()).or_default().push_back(job);
        if fresh_host {
            Counters::add(&self.counters.hosts_total);
        }
        let running = q.workers.entry(host.clone()).or_default();
        if *running == 0 && !fresh_host {
            // A host that had finished has new work: it is not done any more.
            self.counters.hosts_done.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
        if *running < self.config.host_concurrency(&host) {
            *running += 1;
            let _ = self.spawn.send(host);
        }
    }

    /// The host's next job. With none queued, a worker whose pages are all handled
    /// is done (one worker fewer); one with pages still being handled waits for them,
    /// since they may find more.
    fn next_job(&self, host: &str, all_handled: bool) -> Next {
        let mut q = self.queues.lock().unwrap();
        if let Some(job) = q.jobs.get_mut(host).and_then(VecDeque::pop_front) {
            return Next::Job(job);
        }
        if !all_handled {
            return Next::Wait;
        }
        let running = q.workers.entry(host.to_string()).or_default();
        *running = running.saturating_sub(1);
        if *running == 0 {
            q.jobs.remove(host);
            Counters::add(&self.counters.hosts_done);
        }
        Next::Done
    }

    /// A host's worker: fetches the host's pages one after another, at its polite
    /// rate, while the pages already fetched are handled on the CPU pool. So a busy
    /// CPU delays the handling of pages, not the requests the host is due.
    async fn work(self: Arc<Self>, host: String) {
        let mut handling = JoinSet::new();
        loop {
            let next = if handling.len() >= LOOKAHEAD { Next::Wait } else { self.next_job(&host, handling.is_empty()) };
            match next {
                Next::Job(job) => {
                    if self.fatal.lock().unwrap().is_some() {
                        continue; // drain the queue without fetching: the run is stopping
                    }
                    // Only a host that is due takes a place: a place held through
                    // the host's interval would starve the CPU of pages.
                    self.fetcher.until_due(&job.host).await;
                    let place = self.backlog.place().await;
                    match self.fetch(&job).await {
                        Ok(Some(page)) => {
                            let handled = self.hand_over(job, page, place);
                            handling.spawn(async move { handled.await.map_err(|_| "a page handler panicked".to_string())? });
                        }
                        Ok(None) => {}
                        Err(e) => self.stop(format!("{}: {e:#}", job.target.url)),
                    }
                }
                Next::Wait => {
                    match handling.join_next().await {
                        Some(Ok(Err(why))) => self.stop(why),
                        Some(Err(e)) => self.stop(format!("a page handler failed: {e}")),
                        _ => {}
                    }
                }
                Next::Done => return,
            }
        }
    }

    /// Hands a fetched page to the backlog's handler threads, off the async workers.
    /// A page placed in the archive leaves its body there unless a thread is free.
    /// The reply is the handler's failure, if any, as the run's reason to stop.
    fn hand_over(self: &Arc<Self>, job: Job, mut page: Fetched, place: Place) -> oneshot::Receiver<Result<(), String>> {
        let read_back = matches!(place, Place::Archive(_)) && !self.backlog.has_idle_thread();
        if read_back {
            page.body = Vec::new();
        }
        let (reply, handled) = oneshot::channel();
        let crawler = self.clone();
        self.backlog.hand_over(move || {
            drop(place);
            let result = if read_back { crawler.read_back(page) } else { Ok(page) }.and_then(|page| {
                // A reader's bug on one page fails that page, not the run: recorded as
                // failed, it is not fetched again until the next run.
                isolated(|| crawler.handle(&job, page)).unwrap_or_else(|why| {
                    tracing::error!(url = %job.target.url, "{why}");
                    Counters::add(&crawler.counters.errors);
                    crawler.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).finish_job(&job.canonical, false, "reader-failed")
                })
            });
            let _ = reply.send(result.map_err(|e| format!("{}: {e:#}", job.target.url)));
        });
        handled
    }

    /// A page's body, from the raw archive it was stored in.
    fn read_back(&self, mut page: Fetched) -> Result<Fetched> {
        page.body = self.fetcher.archive().read(&page.record).context("cannot read a fetched page back from the raw archive")?.body;
        Ok(page)
    }

    /// Stops the run on our own side's failure (disk full, state unwritable, a bug).
    fn stop(&self, why: String) {
        tracing::error!("{why}");
        self.fatal.lock().unwrap().get_or_insert(why);
    }

    /// Commits the state's batch of writes once it is old enough, so that a crawl
    /// waiting on slow hosts does not hold its last pages uncommitted.
    async fn commit_batches(self: Arc<Self>) {
        let mut tick = tokio::time::interval(BATCH_AGE);
        loop {
            tick.tick().await;
            if let Err(e) = self.state.lock().unwrap().commit_if_older_than(BATCH_AGE) {
                return self.stop(format!("{e:#}"));
            }
        }
    }

    /// Whether the host's page budget (and a list's page budget) allows this page.
    fn within_budget(&self, job: &Job) -> Option<String> {
        let d = &self.config.discover;
        let mut q = self.queues.lock().unwrap();
        let pages = q.pages.entry(job.host.clone()).or_default();
        *pages += 1;
        if *pages > d.max_pages_per_host {
            return Some(format!("page budget of {} pages per host used up", d.max_pages_per_host));
        }
        if job.target.kind == PageKind::List {
            let lists = q.list_pages.entry((job.host.clone(), job.target.column.clone())).or_default();
            *lists += 1;
            if *lists > d.max_list_pages {
                return Some(format!("list budget of {} pages per column used up", d.max_list_pages));
            }
        }
        None
    }

    /// Fetches one frontier page: None when there is nothing more to do with it (over
    /// budget, not modified, failed: all recorded). An error here is our own side
    /// failing (state or archive unwritable), never the page's.
    async fn fetch(&self, job: &Job) -> Result<Option<Fetched>> {
        if let Some(why) = self.within_budget(job) {
            let state = self.state.lock().unwrap();
            state.set_host(&job.host, "budget", &why, &self.run_id)?;
            state.finish_job(&job.canonical, false, "budget")?;
            return Ok(None);
        }
        let url = Url::parse(&job.target.url)?;
        let is_article = job.target.kind == PageKind::Article;
        let is_file = job.target.kind == PageKind::Attachment || (is_article && is_file_link(&url));
        let validators = if is_article || is_file { self.state.lock().unwrap().validators(&job.canonical)? } else { None };
        let limit = if is_file { BodyLimit::Attachment } else { BodyLimit::Html };
        let ask = Ask { limit, validators: validators.as_ref(), form: job.target.form.as_deref() };
        match self.fetcher.fetch(&url, ask).await {
            Ok(Fetch::Page(page)) => Ok(Some(page)),
            Ok(Fetch::NotModified) => {
                Counters::add(&self.counters.not_modified);
                self.state.lock().unwrap().finish_job(&job.canonical, true, "not-modified")?;
                Ok(None)
            }
            Err(failure) => self.failed(job, &failure).map(|()| None),
        }
    }

    /// Hands a fetched page to the handler of its kind. An error here is our own side
    /// failing, never the page's.
    fn handle(&self, job: &Job, page: Fetched) -> Result<()> {
        Counters::add(&self.counters.pages);
        let sha = sha256_hex(&page.body);
        let validators = Validators {
            etag: page.header("etag").map(str::to_string),
            last_modified: page.header("last-modified").map(str::to_string),
        };
        let fetched_at = page.fetched_at.to_rfc3339();
        let stored = PageRecord {
            url: page.url.as_str(),
            status: page.status,
            validators: &validators,
            sha256: &sha,
            record: &page.record,
            fetched_at: &fetched_at,
        };
        let decoded = (sniff(&page.body) == "html").then(|| decode(&page.body, page.header("content-type"), Some(&job.host)));
        match (job.target.kind, &job.target.report_id) {
            (PageKind::Article, _) => self.article(job, &page, &stored, decoded.as_ref()),
            (PageKind::Attachment, Some(report_id)) => {
                let outcome = format!("attachment ({})", sniff(&page.body));
                self.state.lock().unwrap().complete_attachment(&job.canonical, &stored, report_id, &outcome)
            }
            _ => self.navigation(job, &page, &stored, decoded.as_ref().map_or("", |d| d.text.as_str())),
        }
    }

    /// A page expected to be a report (or a report file linked from a list): its
    /// report, if it is one, and its attachments to fetch, recorded in one step.
    fn article(&self, job: &Job, page: &Fetched, stored: &PageRecord, html: Option<&Decoded>) -> Result<()> {
        let seed = self.state.lock().unwrap().seed(&job.seed)?;
        // One parse serves the metadata, the attachment links and the tables.
        let doc = html.map(|d| crate::html::Page::parse(&d.text));
        let meta = match &doc {
            Some(doc) => discover::read_article(&page.url, doc, job.target.listed),
            None => discover::read_linked_file(&page.url, job.target.title.as_deref().unwrap_or(""), job.target.listed),
        };
        let report = meta.map(|meta| ReportEntry {
            report_id: report_id(&job.canonical),
            version: 0,
            is_current: true,
            sha256: stored.sha256.to_string(),
            url: page.url.to_string(),
            seed,
            title: meta.title,
            agency: meta.agency,
            department: job.target.department.clone(),
            column: job.target.column.clone(),
            year: meta.year,
            published: meta.published.map(|d| d.to_string()),
            warnings: meta.warnings.into_iter().chain(page.notes.iter().cloned()).chain(html.and_then(damaged_text)).collect(),
            record: page.record.clone(),
            attachments: Vec::new(),
        });
        let too_old = |r: &ReportEntry| r.year.is_some_and(|y| y < self.config.discover.min_report_year);
        let (report, outcome) = match report {
            Some(r) if too_old(&r) => (None, "report-before-min-year"),
            Some(r) => (Some(r), "report"),
            None => (None, "not-a-report"),
        };
        // A report article's attached files are fetched too: they often hold the tables.
        let attached: Vec<Job> = match (&report, &doc) {
            (Some(r), Some(doc)) => discover::attachments(doc, &page.url)
                .into_iter()
                .filter_map(|u| {
                    let target = Target {
                        url: u.to_string(),
                        kind: PageKind::Attachment,
                        title: Some(r.title.clone()),
                        report_id: Some(r.report_id.clone()),
                        ..job.target.clone()
                    };
                    self.job_for(&job.seed, target)
                })
                .collect(),
            _ => Vec::new(),
        };
        let extracted = match (&report, &doc, html) {
            (Some(r), Some(doc), Some(decoded)) => {
                let kept = Stored {
                    extraction: extract::extract_page(doc, r.year),
                    encoding: decoded.encoding_name().to_string(),
                    fetched_at: page.fetched_at.timestamp(),
                };
                Some(Extracted { extractor: stored::EXTRACTOR.to_string(), data: kept.encode()? })
            }
            _ => None,
        };
        drop(doc);
        if report.is_some() {
            Counters::add(&self.counters.reports);
        }
        let report = report.as_ref().map(|r| (r, extracted.as_ref()));
        let new = self.state.lock().unwrap().complete_article(&job.canonical, stored, report, attached, outcome)?;
        for next in new {
            self.push(next);
        }
        Ok(())
    }

    /// A portal, hub or list page: the pages it leads to, recorded in one step.
    fn navigation(&self, job: &Job, page: &Fetched, stored: &PageRecord, text: &str) -> Result<()> {
        // A short reply is no block (an empty list window, a one-line notice): blocks
        // are recognised by their own marks when fetched (`fetch::challenge`).
        let found = discover::follow(&job.target, &page.url, text, self.config.discover.max_depth);
        let linked: Vec<Job> = found.targets.into_iter().filter_map(|target| self.job_for(&job.seed, target)).collect();
        let outcome = if found.near_misses.is_empty() { "ok".to_string() } else { format!("ok ({} near misses)", found.near_misses.len()) };
        let new = self.state.lock().unwrap().complete_navigation(&job.canonical, stored, linked, &outcome)?;
        for next in new {
            self.push(next);
        }
        Ok(())
    }

    /// A frontier job for a target found from `seed`'s pages, if its URL is in scope.
    fn job_for(&self, seed: &str, target: Target) -> Option<Job> {
        let url = Url::parse(&target.url).ok()?;
        self.scope.refuse(&url).is_none().then(|| Job { canonical: canonical(&url), host: host_of(&url), seed: seed.to_string(), target })
    }

    fn failed(&self, job: &Job, failure: &Failure) -> Result<()> {
        if let Failure::Local(why) = failure {
            anyhow::bail!("{why}");
        }
        Counters::add(&self.counters.errors);
        tracing::debug!(url = %job.target.url, %failure, "page failed");
        let state = self.state.lock().unwrap();
        if matches!(failure, Failure::Blocked(_) | Failure::Unreachable(_) | Failure::HostPaused(_)) {
            state.set_host(&job.host, failure.kind(), &failure.to_string(), &self.run_id)?;
        }
        state.finish_job(&job.canonical, false, failure.kind())
    }
}
