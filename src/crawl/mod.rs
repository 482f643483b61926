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

mod coverage_rows;
mod ending;
pub mod plan;
mod progress;
mod summary;
mod tally;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use chrono::Utc;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

pub use summary::{Ended, Finish, HostSummary, ReportChanges, Settings, Summary};

use crate::assemble::{assemble, division_of, partition, report_id, sniff};
use crate::backlog::{Backlog, Place, isolated};
use crate::config::Config;
use crate::dataset::{self, Partition, Written};
use crate::decode::{Decoded, decode};
use crate::digest::sha256_hex;
use crate::discover::{self, PageKind, Target, canonical::canonical};
use crate::exit::{Exit, Signal};
use crate::extract::{self, stored::{self, Stored}};
use crate::fetch::{Archive, Ask, BodyLimit, Earlier, Failure, Fetch, Fetched, Fetcher, Validators, scope::Scope};
use crate::layout::Layout;
use crate::place::Division;
use crate::seeds::Seed;
use crate::state::{BATCH_AGE, Change, Extracted, HostStatus, Job, PageRecord, ReportEntry, State};
use progress::Progress;
use tally::Tally;

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

/// A page to handle, and where its body is.
enum Got {
    /// Fetched, its body in hand.
    Fresh(Fetched),
    /// Fetched, its body left in the raw archive until a handler thread is free.
    Archived(Fetched),
    /// Answered 304: the body is the stored copy of an earlier fetch.
    Unchanged(Earlier),
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
    tally: Arc<Tally>,
    run_id: String,
    /// The hosts `--only-host` keeps to; empty for all.
    only_hosts: HashSet<String>,
    /// Cancelled when the run stops early: workers fetch nothing more, and the pages
    /// not fetched stay pending for the next run.
    stopping: CancellationToken,
    /// Why it stops; the first reason wins.
    halt: Mutex<Option<Halt>>,
    /// Pages fetched and waiting to be handled, one per core at a time.
    backlog: Backlog,
}

/// Why a run stops before its end.
#[derive(Debug, Clone)]
enum Halt {
    /// Our own side failed (disk full, state unwritable): nothing more can be kept.
    Fatal(String),
    /// The operator asked: what was collected is committed and written.
    Signal(Signal),
}

/// What a run is asked to do besides its settings and seeds.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The settings file read, for the run summary (None: built-in defaults).
    pub config_file: Option<PathBuf>,
    /// Crawl only these hosts (`--only-host`); empty for every seed's.
    pub only_hosts: Vec<String>,
}

/// Crawls `seeds` into `out` and writes the dataset. The seed list defines the
/// run: pages left in the state by earlier seed lists are not crawled (their reports
/// stay in the dataset).
pub async fn run(config: Config, seeds: Vec<Seed>, out: &Path, options: RunOptions) -> Result<Summary> {
    let started_at = Utc::now();
    let layout = Layout::new(out);
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create output directory {}", out.display()))
        .context(Exit::CantCreate)?;
    let state = State::open(&layout.state())?;
    let run_id = run_id(started_at);
    let resumed = state.begin_run(&run_id)?;
    if resumed {
        tracing::info!("the last run did not finish: resuming it");
    }
    let config = Arc::new(config);
    let (crawler, spawned) = Crawler::new(config.clone(), state, &seeds, &layout, &run_id, &options)?;
    crawler.queue_seeds(&seeds)?;

    let progress = Progress::start(crawler.tally.clone());
    let committer = tokio::spawn(crawler.clone().commit_batches());
    let signals = tokio::spawn(crawler.clone().stop_on_signals());
    crawler.clone().crawl_all(spawned).await?;
    drop(progress);
    committer.abort();
    let halt = crawler.halt.lock().unwrap().clone();
    if let Some(Halt::Fatal(why)) = halt {
        // What was committed stays: the next run resumes from it.
        let stopped = anyhow::anyhow!("crawl stopped: {why}. Everything fetched before this is kept; free the space and run again to resume");
        return Err(stopped.context(Exit::Io));
    }
    crawler.fetcher.archive().sync().context("cannot sync the raw archive")?;
    let signal = match halt {
        Some(Halt::Signal(signal)) => Some(signal),
        _ => None,
    };
    let summary = crawler.finish(&layout, started_at, resumed, signal, options)?;
    signals.abort();
    Ok(summary)
}

/// A run's id: its start time, which sorts runs and names their files.
fn run_id(at: chrono::DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%S%.3fZ").to_string()
}

/// Rebuilds the dataset from the reports in the state, each from its kept
/// extraction or from the raw archive, as `reuse` says: what every crawl ends with
/// (reusing) and what `nianbao extract` runs (not reusing).
/// The coverage table covers report years from `first_year` (`discover.min_report_year`).
pub fn build_dataset(state: &State, layout: &Layout, run_id: &str, reuse: Reuse, first_year: i32) -> Result<(Written, Vec<String>)> {
    let reports = state.reports()?;
    let found = coverage_rows::found_reports(state, &reports)?;
    // Each report is placed once: its division decides its partition and its columns.
    let mut partitions: BTreeMap<Partition, Vec<(ReportEntry, Option<&Division>)>> = BTreeMap::new();
    for entry in reports {
        let division = division_of(&entry);
        partitions.entry(partition(division, &entry)).or_default().push((entry, division));
    }
    let mut problems = Vec::new();
    let mut lost = Vec::new();
    let written = dataset::write(&layout.out, run_id, partitions, |(entry, division)| {
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
    }, || coverage_rows::coverage_records(state, &found, first_year))?;
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
pub fn extract_offline(out: &Path, first_year: i32) -> Result<(Written, Vec<String>)> {
    let layout = Layout::new(out);
    if !layout.state().join("nianbao.sqlite").exists() {
        let none = anyhow::anyhow!("{} holds no crawl state: run `nianbao crawl` first", out.display());
        return Err(none.context(Exit::NoInput));
    }
    let state = State::open(&layout.state())?;
    let run_id = format!("extract-{}", run_id(Utc::now()));
    build_dataset(&state, &layout, &run_id, Reuse::Nothing, first_year)
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

/// The crawl log, in Heritrix's sense: one line per URL with what became of it, at
/// debug level (`NIANBAO_LOG=nianbao::crawl_log=debug` for these lines alone).
fn crawl_log(job: &Job, status: Option<u16>, bytes: usize, outcome: &str) {
    tracing::debug!(target: "nianbao::crawl_log", url = %job.target.url, kind = job.target.kind.as_str(), status, bytes, outcome);
}

fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

impl Crawler {
    /// The crawler, and the channel on which hosts ask for workers.
    fn new(
        config: Arc<Config>,
        state: State,
        seeds: &[Seed],
        layout: &Layout,
        run_id: &str,
        options: &RunOptions,
    ) -> Result<(Arc<Crawler>, mpsc::UnboundedReceiver<String>)> {
        let seed_hosts: Vec<String> = seeds.iter().filter_map(|s| Url::parse(&s.url).ok()?.host_str().map(str::to_string)).collect();
        let scope = Scope::new(&config.scope, seed_hosts);
        let archive = Archive::open(&layout.raw(), run_id)?;
        let fetcher = Fetcher::new(config.clone(), scope.clone(), archive)?;
        let (spawn, spawned) = mpsc::unbounded_channel();
        let backlog = Backlog::start(std::thread::available_parallelism().map_or(2, |n| n.get()), config.crawl.global_concurrency)
            .context("cannot start the page handler threads")?;
        let crawler = Arc::new(Crawler {
            config,
            fetcher,
            scope,
            state: Mutex::new(state),
            queues: Mutex::new(Queues { jobs: HashMap::new(), workers: HashMap::new(), pages: HashMap::new(), list_pages: HashMap::new() }),
            spawn,
            tally: Arc::new(Tally::default()),
            run_id: run_id.to_string(),
            only_hosts: options.only_hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
            stopping: CancellationToken::new(),
            halt: Mutex::new(None),
            backlog,
        });
        Ok((crawler, spawned))
    }

    /// Records the seeds and queues what this run crawls: the pending pages of its
    /// seeds (of its hosts, with `--only-host`). Pages of seeds from earlier lists
    /// stay pending in the state, untouched.
    fn queue_seeds(&self, seeds: &[Seed]) -> Result<()> {
        let state = self.state.lock().unwrap();
        for seed in seeds {
            state.add_seed(seed, &self.run_id)?;
            let url = Url::parse(&seed.url)?;
            let target = Target { url: seed.url.clone(), kind: PageKind::Portal, ..Target::default() };
            state.add_job(&Job { canonical: canonical(&url), host: host_of(&url), seed: seed.url.clone(), target })?;
        }
        let listed: HashSet<&str> = seeds.iter().map(|s| s.url.as_str()).collect();
        let earlier = state.seed_urls()?.into_iter().filter(|u| !listed.contains(u.as_str())).count();
        if earlier > 0 {
            tracing::warn!(
                "{earlier} seeds of earlier runs in this output are not in this seed list: not crawled this run; their reports stay in the dataset"
            );
        }
        for job in state.pending_jobs()? {
            if listed.contains(job.seed.as_str()) {
                self.push(job);
            }
        }
        Ok(())
    }

    /// Runs every host's workers until no host has pages left (or the run stops).
    async fn crawl_all(self: Arc<Self>, mut spawned: mpsc::UnboundedReceiver<String>) -> Result<()> {
        let mut workers = JoinSet::new();
        loop {
            while let Ok(host) = spawned.try_recv() {
                workers.spawn(self.clone().work(host));
            }
            match workers.join_next().await {
                Some(result) => result.context("a crawl worker panicked")?,
                None => match spawned.try_recv() {
                    Ok(host) => {
                        workers.spawn(self.clone().work(host));
                    }
                    Err(_) => return Ok(()),
                },
            }
        }
    }

    /// Whether this run crawls a page's host (`--only-host`).
    fn in_run(&self, host: &str) -> bool {
        self.only_hosts.is_empty() || self.only_hosts.contains(host)
    }

    /// Queues a job for its host, starting a worker if the host has room for one.
    /// Pages of hosts outside `--only-host` stay pending in the state.
    fn push(&self, job: Job) {
        if !self.in_run(&job.host) {
            return;
        }
        let mut q = self.queues.lock().unwrap();
        let host = job.host.clone();
        let fresh_host = !q.jobs.contains_key(&host) && !q.workers.contains_key(&host);
        q.jobs.entry(host.clone()).or_default().push_back(job);
        if fresh_host {
            tally::add(&self.tally.hosts_total);
        }
        let running = q.workers.entry(host.clone()).or_default();
        if *running == 0 && !fresh_host {
            // A host that had finished has new work: it is not done any more.
            self.tally.hosts_done.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
        if *running == 0 {
            self.tally.host_started(&host);
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
            tally::add(&self.tally.hosts_done);
            self.tally.host_finished(host);
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
                    // Only a host that is due takes a place: a place held through
                    // the host's interval would starve the CPU of pages.
                    let due_and_fetched = async {
                        self.fetcher.until_due(&job.host).await;
                        let place = self.backlog.place().await;
                        (self.fetch(&job).await, place)
                    };
                    // A run that is stopping drains its queues without fetching; the
                    // page in flight is dropped and stays pending for the next run.
                    let Some((fetched, place)) = self.stopping.run_until_cancelled(due_and_fetched).await else {
                        continue;
                    };
                    match fetched {
                        Ok(Some(got)) => {
                            let handled = self.hand_over(job, got, place);
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
    fn hand_over(self: &Arc<Self>, job: Job, got: Got, place: Place) -> oneshot::Receiver<Result<(), String>> {
        let got = match got {
            Got::Fresh(mut page) if matches!(place, Place::Archive(_)) && !self.backlog.has_idle_thread() => {
                page.body = Vec::new();
                Got::Archived(page)
            }
            got => got,
        };
        let (reply, handled) = oneshot::channel();
        let crawler = self.clone();
        self.backlog.hand_over(move || {
            drop(place);
            let revalidated = matches!(got, Got::Unchanged(_));
            let result = crawler.body(&job, got).and_then(|page| {
                let Some(page) = page else { return Ok(()) };
                // A reader's bug on one page fails that page, not the run: recorded as
                // failed, it is not fetched again until the next run.
                isolated(|| crawler.handle(&job, page, revalidated)).unwrap_or_else(|why| {
                    tracing::error!(url = %job.target.url, "{why}");
                    crawler.tally.failed(&job.host, "reader-failed", None);
                    crawler.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).finish_job(&job.canonical, false, "reader-failed")
                })
            });
            let _ = reply.send(result.map_err(|e| format!("{}: {e:#}", job.target.url)));
        });
        handled
    }

    /// A page with its body, on a handler thread: read back from the raw archive
    /// if it waited there, or the stored copy of a page answered 304. A stored copy
    /// the archive lost (a WARC cut short by a kill) is forgotten and the page fetched
    /// again whole (None).
    fn body(&self, job: &Job, got: Got) -> Result<Option<Fetched>> {
        match got {
            Got::Fresh(page) => Ok(Some(page)),
            Got::Archived(mut page) => {
                page.body = self.fetcher.archive().read(&page.record).context("cannot read a fetched page back from the raw archive")?.body;
                Ok(Some(page))
            }
            Got::Unchanged(earlier) => match self.fetcher.archive().read(&earlier.record) {
                Ok(stored) => Ok(Some(Fetched {
                    url: Url::parse(&stored.url).or_else(|_| Url::parse(&job.target.url))?,
                    status: stored.status,
                    headers: stored.headers,
                    body: stored.body,
                    fetched_at: stored.date,
                    record: earlier.record,
                    notes: Vec::new(),
                })),
                Err(e) => {
                    tracing::warn!(url = %job.target.url, "answered 304, but its stored copy is lost ({e:#}): fetching it whole");
                    self.state.lock().unwrap().forget_archived(&[earlier.record])?;
                    self.push(job.clone());
                    Ok(None)
                }
            },
        }
    }

    /// Stops the run on our own side's failure (disk full, state unwritable, a bug).
    fn stop(&self, why: String) {
        tracing::error!("{why}");
        self.halt(Halt::Fatal(why));
    }

    /// Stops the run: no more fetching, the pages in hand are handled.
    fn halt(&self, why: Halt) {
        self.halt.lock().unwrap().get_or_insert(why);
        self.stopping.cancel();
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
    async fn fetch(&self, job: &Job) -> Result<Option<Got>> {
        if let Some(why) = self.within_budget(job) {
            let state = self.state.lock().unwrap();
            state.set_host(&job.host, HostStatus::Budget, &why, &self.run_id)?;
            state.finish_job(&job.canonical, false, "budget")?;
            crawl_log(job, None, 0, "budget");
            return Ok(None);
        }
        let url = Url::parse(&job.target.url)?;
        let is_article = job.target.kind == PageKind::Article;
        let is_file = job.target.kind == PageKind::Attachment || (is_article && is_file_link(&url));
        // A POST (Hanweb's list windows) is no GET to revalidate.
        let earlier = if job.target.form.is_none() { self.state.lock().unwrap().earlier(&job.canonical)? } else { None };
        let limit = if is_file { BodyLimit::Attachment } else { BodyLimit::Html };
        let ask = Ask { limit, earlier: earlier.as_ref(), form: job.target.form.as_deref() };
        match self.fetcher.fetch(&url, ask).await {
            Ok(Fetch::Page(page)) => {
                self.tally.fetched(&job.host, page.status, page.body.len() as u64);
                Ok(Some(Got::Fresh(page)))
            }
            Ok(Fetch::NotModified) => {
                self.tally.not_modified(&job.host);
                // A portal, hub or list page unchanged still leads where it led: its
                // stored copy is read again, so new discovery rules see it too.
                if let Some(earlier) = earlier.filter(|_| !matches!(job.target.kind, PageKind::Article | PageKind::Attachment)) {
                    return Ok(Some(Got::Unchanged(earlier)));
                }
                let state = self.state.lock().unwrap();
                let id = report_id(&job.canonical);
                if is_article && state.has_report(&id)? {
                    self.tally.report(&job.host, Change::Unchanged);
                    state.saw_report(&id, &Utc::now().to_rfc3339())?;
                }
                state.finish_job(&job.canonical, true, "not-modified")?;
                crawl_log(job, Some(304), 0, "not-modified");
                Ok(None)
            }
            Err(failure) => self.failed(job, &failure).map(|()| None),
        }
    }

    /// Hands a fetched page to the handler of its kind. An error here is our own side
    /// failing, never the page's.
    fn handle(&self, job: &Job, page: Fetched, revalidated: bool) -> Result<()> {
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
        let outcome = match (job.target.kind, &job.target.report_id) {
            (PageKind::Article, _) => self.article(job, &page, &stored, decoded.as_ref())?,
            (PageKind::Attachment, Some(report_id)) => {
                let outcome = format!("attachment ({})", sniff(&page.body));
                self.state.lock().unwrap().complete_attachment(&job.canonical, &stored, report_id, &outcome)?;
                outcome
            }
            _ => self.navigation(job, &page, &stored, decoded.as_ref().map_or("", |d| d.text.as_str()))?,
        };
        match revalidated {
            true => crawl_log(job, Some(304), 0, &format!("{outcome} (not modified)")),
            false => crawl_log(job, Some(page.status), page.body.len(), &outcome),
        }
        Ok(())
    }

    /// A page expected to be a report (or a report file linked from a list): its
    /// report, if it is one, and its attachments to fetch, recorded in one step.
    fn article(&self, job: &Job, page: &Fetched, stored: &PageRecord, html: Option<&Decoded>) -> Result<String> {
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
        let report = report.as_ref().map(|r| (r, extracted.as_ref()));
        let (new, change) = self.state.lock().unwrap().complete_article(&job.canonical, stored, report, attached, outcome)?;
        if let Some(change) = change {
            self.tally.report(&job.host, change);
        }
        for next in new {
            self.push(next);
        }
        Ok(outcome.to_string())
    }

    /// A portal, hub or list page: the pages it leads to, recorded in one step.
    fn navigation(&self, job: &Job, page: &Fetched, stored: &PageRecord, text: &str) -> Result<String> {
        // A short reply is no block (an empty list window, a one-line notice): blocks
        // are recognised by their own marks when fetched (`fetch::challenge`).
        let found = discover::follow(&job.target, &page.url, text, self.config.discover.max_depth);
        for miss in &found.near_misses {
            tracing::debug!(url = %job.target.url, "near miss: {miss}");
        }
        let linked: Vec<Job> = found.targets.into_iter().filter_map(|target| self.job_for(&job.seed, target)).collect();
        let new = self.state.lock().unwrap().complete_navigation(&job.canonical, stored, linked, "ok")?;
        for next in new {
            self.push(next);
        }
        Ok("ok".to_string())
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
        let status = match failure {
            Failure::Http(status) => Some(*status),
            _ => None,
        };
        self.tally.failed(&job.host, failure.kind(), status);
        crawl_log(job, status, 0, &failure.to_string());
        let host_status = match failure {
            Failure::Blocked(_) => Some(HostStatus::Blocked),
            Failure::Unreachable(_) => Some(HostStatus::Unreachable),
            Failure::HostPaused(_) => Some(HostStatus::Paused),
            _ => None,
        };
        let state = self.state.lock().unwrap();
        if let Some(host_status) = host_status {
            state.set_host(&job.host, host_status, &failure.reason(), &self.run_id)?;
        }
        let id = report_id(&job.canonical);
        if matches!(failure, Failure::Http(404 | 410)) && job.target.kind == PageKind::Article && state.has_report(&id)? {
            state.report_gone(&id, &Utc::now().to_rfc3339())?;
        }
        state.finish_job(&job.canonical, false, failure.kind())
    }
}
