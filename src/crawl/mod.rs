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
//! reports and extractions in the state (see [`crate::rebuild`]).
//!
//! A page's path through these files: `run` (here) has `queue` record the seeds and
//! queue the pages due on the revisit schedule with the `scheduler`; a host's
//! `work`er takes its next page, `fetching` gets it, and hands
//! it to `handle`, which records it and queues what it links to; every read and write
//! of the state goes to the state's own thread; when no host has pages
//! left, `ending` writes the dataset (with [`crate::rebuild`]) and the run's
//! `summary`, from the `tally` that `progress` shows meanwhile.

mod ending;
mod fetching;
mod handle;
pub mod plan;
mod progress;
mod queue;
mod scheduler;
mod summary;
mod tally;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

pub use summary::{Ended, Finish, HostSummary, ReportChanges, Settings, Summary, lake_line};

use crate::backlog::Backlog;
use crate::config::Config;
use crate::discover::PageKind;
use crate::exit::{Exit, Signal};
use crate::fetch::{Archive, Fetcher, scope::Scope};
use crate::lake::handoff::{HandedOver, Handoff, Outbox};
use crate::layout::Layout;
use crate::seeds::Seed;
use crate::shard::Shard;
use crate::state::{CommitFailure, Job, Schedule, State, StateWriter, run_id};
use crate::tripwire::Tripwire;
use progress::Progress;
use scheduler::{Next, Scheduler};
use tally::Tally;

/// Pages of one host fetched and not yet handled, at most: enough to keep a host's
/// requests on time while the CPU is busy, few enough to bound what waits in memory.
const LOOKAHEAD: usize = 2;

struct Crawler {
    config: Arc<Config>,
    fetcher: Fetcher,
    scope: Scope,
    /// Every read and write of the state goes to its thread.
    state: StateWriter,
    /// Held only to push or take a job, never across an await.
    scheduler: Mutex<Scheduler>,
    spawn: mpsc::UnboundedSender<String>,
    tally: Arc<Tally>,
    run_id: String,
    /// The hosts `--only-host` keeps to; empty for all.
    only_hosts: HashSet<String>,
    /// The hosts this run crawls when the crawl is split between machines.
    shard: Shard,
    /// Pages found on other shards' hosts, handed to them at the end of the run.
    outbox: Option<Outbox>,
    /// The run's seeds by URL: what a page handed to another shard was found from.
    seeds: HashMap<String, Seed>,
    /// Cancelled when the run stops early: workers fetch nothing more, and the pages
    /// not fetched stay pending for the next run.
    stopping: CancellationToken,
    /// Why it stops; the first reason wins.
    halt: OnceLock<Halt>,
    /// Pages fetched and waiting to be handled, one per core at a time.
    backlog: Backlog,
    tripwire: Tripwire,
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
    /// The Delta Lake the dataset is also committed to, and this run's shard.
    pub lake: Option<crate::lake::Target>,
    /// Seed file lines skipped, with why, for the run's summary.
    pub seed_lines_skipped: Vec<String>,
    /// The time the revisit schedule reckons with (`--now`); the clock's when None.
    pub now: Option<DateTime<Utc>>,
    /// Ask for every page, due or not (`--revisit all`).
    pub revisit_all: bool,
}

/// Crawls `seeds` into `out` and writes the dataset (and commits it to the lake,
/// with one). The seed list defines the run: pages left in the state by earlier seed
/// lists are not crawled (their reports stay in the dataset).
pub async fn run(config: Config, seeds: Vec<Seed>, out: &Path, options: RunOptions) -> Result<Summary> {
    let started_at = Utc::now();
    std::fs::create_dir_all(out).with_context(|| format!("cannot create output directory {}", out.display())).context(Exit::CantCreate)?;
    match options.lake.clone() {
        None => Ok(crawl(config, seeds, out, options, started_at, Vec::new()).await?.0),
        Some(lake) => {
            let crawl = async |handed_in| crawl(config, seeds, out, options, started_at, handed_in).await;
            ending::with_lake(&lake, &run_id(started_at), out, started_at, crawl).await
        }
    }
}

/// The crawl and the dataset, with the pages other shards handed in; the summary, and
/// the pages found for other shards.
async fn crawl(
    config: Config,
    seeds: Vec<Seed>,
    out: &Path,
    options: RunOptions,
    started_at: DateTime<Utc>,
    handed_in: Vec<Handoff>,
) -> Result<(Summary, HandedOver)> {
    let layout = Layout::new(out);
    let run_id = run_id(started_at);
    let schedule = Schedule::new(options.now.unwrap_or(started_at).timestamp(), &config.revisit);
    let (state, resumed) = open_state(layout.clone(), run_id.clone(), schedule).await?;
    let (writer, state_thread, commit_failure) = StateWriter::start(state)?;
    let config = Arc::new(config);
    // Pages handed in were found from other shards' seeds: those seeds are known too.
    let known: Vec<Seed> = seeds.iter().chain(handed_in.iter().map(|h| &h.seed)).cloned().collect();
    let (crawler, spawned) = Crawler::new(config.clone(), writer, &known, &layout, &run_id, &options)?;
    crawler.queue_seeds(seeds, handed_in, options.revisit_all).await?;

    let progress = Progress::start(crawler.tally.clone());
    let committer = tokio::spawn(crawler.clone().stop_if_a_commit_fails(commit_failure));
    let signals = tokio::spawn(crawler.clone().stop_on_signals(false));
    crawler.clone().crawl_all(spawned).await?;
    signals.abort();
    let signals = tokio::spawn(crawler.clone().stop_on_signals(true));
    drop(progress);
    committer.abort();
    crawler.state.stop();
    if let Some(Halt::Fatal(why)) = crawler.halt.get() {
        // What was committed stays, and what the state can still commit: the next
        // run resumes from it.
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || state_thread.join()).await {
            tracing::error!("{e:#}");
        }
        let stopped = anyhow::anyhow!("crawl stopped: {why}. Everything fetched before this is kept; free the space and run again to resume");
        return Err(stopped.context(Exit::Io));
    }
    let signal = match crawler.halt.get() {
        Some(Halt::Signal(signal)) => Some(*signal),
        _ => None,
    };
    // The dataset is built from the state once its thread has committed, off the
    // async workers.
    let finishing = crawler.clone();
    let summary = tokio::task::spawn_blocking(move || {
        finishing.fetcher.archive().sync().context("cannot sync the raw archive")?;
        finishing.finish(state_thread.join()?, &layout, started_at, resumed, signal, options)
    })
    .await
    .context("the dataset build panicked")??;
    signals.abort();
    Ok((summary, crawler.outbox.as_ref().map(Outbox::take).unwrap_or_default()))
}

/// Opens the state and begins the run with its revisit schedule, off the async
/// workers; whether it resumes an unfinished one.
async fn open_state(layout: Layout, run_id: String, schedule: Schedule) -> Result<(State, bool)> {
    tokio::task::spawn_blocking(move || {
        let state = State::open(&layout.state())?;
        let resumed = state.begin_run(&run_id)?;
        state.set_schedule(schedule);
        if resumed {
            tracing::info!("the last run did not finish: resuming it");
        }
        Ok((state, resumed))
    })
    .await
    .context("opening the crawl state panicked")?
}

fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

impl Crawler {
    /// The crawler, and the channel on which hosts ask for workers.
    fn new(
        config: Arc<Config>,
        state: StateWriter,
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
            state,
            scheduler: Mutex::new(Scheduler::default()),
            spawn,
            tally: Arc::new(Tally::default()),
            run_id: run_id.to_string(),
            only_hosts: options.only_hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
            shard: options.lake.as_ref().map_or(Shard::WHOLE, |l| l.shard),
            outbox: options.lake.as_ref().filter(|l| l.shard.count > 1).map(|l| Outbox::new(l.shard.count)),
            seeds: seeds.iter().map(|s| (s.url.clone(), s.clone())).collect(),
            stopping: CancellationToken::new(),
            halt: OnceLock::new(),
            backlog,
            tripwire: Tripwire::open(&layout.state())?,
        });
        Ok((crawler, spawned))
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

    /// Whether this run fetches a page: one of its hosts' (`--only-host`, `--shard`),
    /// or a file attached to a report it found, whatever the file's host: the file is
    /// part of the report, which is assembled from this run's state alone.
    fn in_run(&self, job: &Job) -> bool {
        let host = job.host.as_str();
        job.target.kind == PageKind::Attachment || ((self.only_hosts.is_empty() || self.only_hosts.contains(host)) && self.shard.owns(host))
    }

    /// Queues a job for its host, starting a worker if the host has room for one.
    /// Pages of hosts outside `--only-host` stay pending in the state; those of
    /// another shard's hosts are handed to it too.
    fn push(&self, job: Job) {
        if !self.in_run(&job) {
            if let (Some(outbox), Some(seed)) = (&self.outbox, self.seeds.get(&job.seed))
                && !self.shard.owns(&job.host)
            {
                outbox.hand_over(&job.host, seed, &job.target);
            }
            return;
        }
        let host = job.host.clone();
        let queued = self.scheduler.lock().unwrap().push(job, self.config.host_concurrency(&host));
        if queued.new_host {
            tally::add(&self.tally.hosts_total);
        }
        if queued.revived {
            self.tally.hosts_done.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
        if queued.started {
            self.tally.host_started(&host);
        }
        if queued.spawn {
            let _ = self.spawn.send(host);
        }
    }

    /// The host's next job (see [`Scheduler::next`]), counting a host that is done.
    fn next_job(&self, host: &str, all_handled: bool) -> Next {
        let next = self.scheduler.lock().unwrap().next(host, all_handled);
        if let Next::Done { last: true } = next {
            tally::add(&self.tally.hosts_done);
            self.tally.host_finished(host);
        }
        next
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
                    let job = *job;
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
                Next::Wait => match handling.join_next().await {
                    Some(Ok(Err(why))) => self.stop(why),
                    Some(Err(e)) => self.stop(format!("a page handler failed: {e}")),
                    _ => {}
                },
                Next::Done { .. } => return,
            }
        }
    }

    /// Stops the run on our own side's failure (disk full, state unwritable, a bug).
    fn stop(&self, why: String) {
        tracing::error!("{why}");
        self.halt(Halt::Fatal(why));
    }

    /// Stops the run: no more fetching, the pages in hand are handled.
    fn halt(&self, why: Halt) {
        let _ = self.halt.set(why);
        self.stopping.cancel();
    }

    /// Stops the run if a commit the state's thread made on its own failed.
    async fn stop_if_a_commit_fails(self: Arc<Self>, failure: CommitFailure) {
        if let Ok(e) = failure.await {
            self.stop(format!("{e:#}"));
        }
    }
}
