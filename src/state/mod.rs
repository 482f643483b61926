//! Crawl state in SQLite under `state/`: the frontier, what each URL gave last
//! time, the reports found, each host's status, and the runs.
//!
//! This is what makes a crawl resumable and a nightly run incremental. A run holds
//! an exclusive lock on `state/lock`, so a second run on the same output exits at
//! once instead of interleaving with the first.
//!
//! Writes are committed in batches: each page's writes are one unit (a savepoint, so
//! a page is recorded whole or not at all), and the units of the last tenth of a
//! second are committed together. One commit per page cost about an eighth of the
//! crawler's CPU, mostly the kernel's side of SQLite's WAL writes. A killed process
//! loses at most its last batch and the pages in flight; the next run fetches them
//! again, because they are still pending in the state it resumes from.

use std::cell::Cell;
use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};

use crate::discover::Target;
use crate::exit::Exit;
use crate::fetch::{Earlier, RecordRef, Validators};
use crate::seeds::Seed;

mod walks;

pub use walks::{ColumnWalk, FailedArticle, PortalWalk, Sighting};

pub struct State {
    db: Connection,
    /// When the batch of writes not yet committed began, if there is one.
    batch: Cell<Option<Instant>>,
    _lock: File,
}

/// How old a batch of writes may grow before it is committed: what a kill may lose.
pub const BATCH_AGE: Duration = Duration::from_millis(100);

/// A frontier entry waiting to be fetched.
#[derive(Debug, Clone)]
pub struct Job {
    pub canonical: String,
    pub host: String,
    pub seed: String,
    pub target: Target,
}

/// A report as discovery recorded it; the dataset is assembled from these. A report
/// whose content changed between runs has one entry per version.
#[derive(Debug, Clone)]
pub struct ReportEntry {
    pub report_id: String,
    /// 1 for the first content seen, +1 each time the content changed.
    pub version: i64,
    pub is_current: bool,
    /// SHA-256 of the stored body: a new value is a new version.
    pub sha256: String,
    pub url: String,
    pub seed: Seed,
    pub title: String,
    pub agency: Option<String>,
    pub department: Option<String>,
    pub column: Option<String>,
    pub year: Option<i32>,
    pub published: Option<String>,
    pub warnings: Vec<String>,
    pub record: RecordRef,
    /// Files attached to the article (PDF, Word, Excel), in the order linked.
    pub attachments: Vec<RecordRef>,
}

/// Why a host was not crawled to its end in the last run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostStatus {
    /// Its page budget (`discover.max_pages_per_host`) ran out.
    Budget,
    /// A WAF or challenge page answered instead of the portal.
    Blocked,
    /// It could not be reached after every retry.
    Unreachable,
    /// Paused for the rest of the run after repeated failures or its wait budget.
    Paused,
}

impl HostStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HostStatus::Budget => "budget",
            HostStatus::Blocked => "blocked",
            HostStatus::Unreachable => "unreachable",
            HostStatus::Paused => "paused",
        }
    }

    /// Whether the host failed, rather than being cut short by a budget of ours.
    pub fn is_failure(self) -> bool {
        self != HostStatus::Budget
    }

    fn parse(text: &str) -> Option<HostStatus> {
        Some(match text {
            "budget" => HostStatus::Budget,
            "blocked" => HostStatus::Blocked,
            "unreachable" => HostStatus::Unreachable,
            // "host-paused" is how states written before the enum said it.
            "paused" | "host-paused" => HostStatus::Paused,
            _ => return None,
        })
    }
}

/// A host the last run could not crawl fully, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HostRecord {
    pub host: String,
    pub status: HostStatus,
    pub reason: String,
}

/// A crawl run as the state recorded it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunRecord {
    pub run_id: String,
    pub started_at: String,
    /// None for a run that was killed or interrupted (the next run resumes it).
    pub finished_at: Option<String>,
}

/// What a report page found in a run was, against what the state held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A report not seen before.
    New,
    /// A known report whose content changed: a new version.
    Changed,
    /// A known report with the same content (or answered 304).
    Unchanged,
}

/// A report's extraction as the crawl kept it (see `extract::stored`), tagged with
/// the extractor that made it.
pub struct Extracted {
    pub extractor: String,
    pub data: Vec<u8>,
}

/// What a fetch stored for a page: where its bytes are and how to revalidate it.
pub struct PageRecord<'a> {
    pub url: &'a str,
    pub status: u16,
    pub validators: &'a Validators,
    pub sha256: &'a str,
    pub record: &'a RecordRef,
    pub fetched_at: &'a str,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS seeds(url TEXT PRIMARY KEY, agency TEXT, division_code TEXT);
CREATE TABLE IF NOT EXISTS frontier(
    canonical TEXT PRIMARY KEY, host TEXT NOT NULL, seed TEXT NOT NULL, kind TEXT NOT NULL,
    target TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', outcome TEXT);
DROP INDEX IF EXISTS frontier_status;
CREATE TABLE IF NOT EXISTS pages(
    canonical TEXT PRIMARY KEY, url TEXT NOT NULL, status INTEGER NOT NULL, etag TEXT,
    last_modified TEXT, sha256 TEXT NOT NULL, record TEXT NOT NULL, fetched_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reports(
    report_id TEXT NOT NULL, version INTEGER NOT NULL, sha256 TEXT NOT NULL,
    url TEXT NOT NULL, seed TEXT NOT NULL, title TEXT NOT NULL,
    agency TEXT, department TEXT, column_name TEXT, year INTEGER, published TEXT,
    warnings TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (report_id, version));
CREATE TABLE IF NOT EXISTS extractions(
    report_id TEXT NOT NULL, version INTEGER NOT NULL, extractor TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (report_id, version));
CREATE TABLE IF NOT EXISTS attachments(
    report_id TEXT NOT NULL, url TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (report_id, url));
CREATE TABLE IF NOT EXISTS seed_runs(url TEXT PRIMARY KEY, run_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS report_seen(
    report_id TEXT PRIMARY KEY, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, removed_at TEXT);
CREATE TABLE IF NOT EXISTS hosts(host TEXT PRIMARY KEY, status TEXT NOT NULL, reason TEXT, run_id TEXT);
CREATE TABLE IF NOT EXISTS runs(run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, summary TEXT);
";

impl State {
    /// Opens (creating) the state in `dir`, taking the run lock.
    pub fn open(dir: &Path) -> Result<State> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create state directory {}", dir.display()))?;
        let lock = File::create(dir.join("lock")).with_context(|| format!("cannot create {}", dir.join("lock").display()))?;
        if lock.try_lock().is_err() {
            let held = anyhow::anyhow!("another nianbao run is using {} (state/lock is held); wait for it to finish", dir.parent().unwrap_or(dir).display());
            return Err(held.context(Exit::Locked));
        }
        let db = Connection::open(dir.join("nianbao.sqlite")).context("cannot open the crawl state database")?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "NORMAL")?;
        // The run lock above already keeps other nianbao processes out; holding
        // SQLite's lock for the whole run spares two fcntl calls per transaction.
        db.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        db.execute_batch(SCHEMA).context("cannot create the crawl state tables")?;
        Ok(State { db, batch: Cell::new(None), _lock: lock })
    }

    /// Runs one unit of writes (a page's, say) inside the open batch, starting one if
    /// needed: all of the unit is kept or none of it. The batch is committed once it
    /// is `BATCH_AGE` old.
    fn write<T>(&self, unit: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if self.batch.get().is_none() {
            self.db.execute_batch("BEGIN")?;
            self.batch.set(Some(Instant::now()));
        }
        self.db.prepare_cached("SAVEPOINT unit")?.execute([])?;
        match unit(&self.db) {
            Ok(value) => {
                self.db.prepare_cached("RELEASE unit")?.execute([])?;
                self.commit_if_older_than(BATCH_AGE)?;
                Ok(value)
            }
            // A full disk or an I/O error can make SQLite roll the whole batch back.
            Err(e) if self.db.is_autocommit() => {
                self.batch.set(None);
                Err(e.context("the crawl state rolled back its last batch of pages; the next run fetches them again"))
            }
            Err(e) => {
                self.db.execute_batch("ROLLBACK TO unit; RELEASE unit")?;
                Err(e)
            }
        }
    }

    /// Commits the open batch if it began at least `age` ago (`Duration::ZERO`: now).
    pub fn commit_if_older_than(&self, age: Duration) -> Result<()> {
        match self.batch.get() {
            Some(began) if began.elapsed() >= age => {
                self.batch.set(None);
                let committed = self.db.execute_batch("COMMIT");
                if committed.is_err() && !self.db.is_autocommit() {
                    // Not committed, not to be retried: the run stops, and resumes from
                    // the last batch that was.
                    let _ = self.db.execute_batch("ROLLBACK");
                }
                committed.context("cannot commit the crawl state")
            }
            _ => Ok(()),
        }
    }

    /// Starts a run. Navigation pages (portals, hubs, lists) change, so they are
    /// always fetched again. Articles are fetched again (conditionally) only when the
    /// last run finished: a run that resumes a killed one keeps what it had.
    pub fn begin_run(&self, run_id: &str) -> Result<bool> {
        let last_finished: Option<Option<String>> = self
            .db
            .query_row("SELECT finished_at FROM runs ORDER BY started_at DESC LIMIT 1", [], |r| r.get(0))
            .optional()?;
        let resuming = matches!(last_finished, Some(None));
        self.write(|db| {
            if resuming {
                db.execute(
                    "UPDATE frontier SET status='pending' WHERE kind NOT IN ('article', 'attachment') OR status != 'done'",
                    [],
                )?;
            } else {
                db.execute("UPDATE frontier SET status='pending'", [])?;
            }
            db.execute("DELETE FROM hosts", [])?;
            db.execute("INSERT INTO runs(run_id, started_at) VALUES (?1, ?2)", params![run_id, chrono::Utc::now().to_rfc3339()])?;
            Ok(resuming)
        })
    }

    /// Records the run as finished, and commits everything.
    pub fn finish_run(&self, run_id: &str, summary: &str) -> Result<()> {
        self.write(|db| {
            db.execute(
                "UPDATE runs SET finished_at=?2, summary=?3 WHERE run_id=?1",
                params![run_id, chrono::Utc::now().to_rfc3339(), summary],
            )?;
            Ok(())
        })?;
        self.commit_if_older_than(Duration::ZERO)
    }

    /// Records a seed of the run `run_id`.
    pub fn add_seed(&self, seed: &Seed, run_id: &str) -> Result<()> {
        self.write(|db| {
            db.execute(
                "INSERT INTO seeds(url, agency, division_code) VALUES (?1, ?2, ?3)
                 ON CONFLICT(url) DO UPDATE SET agency=excluded.agency, division_code=excluded.division_code",
                params![seed.url, seed.agency, seed.division_code],
            )?;
            db.execute(
                "INSERT INTO seed_runs(url, run_id) VALUES (?1, ?2) ON CONFLICT(url) DO UPDATE SET run_id=excluded.run_id",
                params![seed.url, run_id],
            )?;
            Ok(())
        })
    }

    /// Every seed URL any run in this output was given.
    pub fn seed_urls(&self) -> Result<Vec<String>> {
        let mut stmt = self.db.prepare("SELECT url FROM seeds ORDER BY url")?;
        let urls = stmt.query_map([], |r| r.get("url"))?.collect::<rusqlite::Result<_>>()?;
        Ok(urls)
    }

    pub fn seed(&self, url: &str) -> Result<Seed> {
        self.db
            .prepare_cached("SELECT url, agency, division_code FROM seeds WHERE url=?1")?
            .query_row([url], |r| Ok(Seed { url: r.get(0)?, agency: r.get(1)?, division_code: r.get(2)? }))
            .with_context(|| format!("seed {url} missing from the state"))
    }

    /// Adds a page to the frontier; false when it was already known (by canonical URL).
    pub fn add_job(&self, job: &Job) -> Result<bool> {
        self.write(|db| insert_job(db, job))
    }

    /// Every page still to fetch in this run.
    pub fn pending_jobs(&self) -> Result<Vec<Job>> {
        let mut stmt = self.db.prepare("SELECT canonical, host, seed, target FROM frontier WHERE status='pending' ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?)))?;
        rows.map(|row| {
            let (canonical, host, seed, target) = row?;
            Ok(Job { canonical, host, seed, target: serde_json::from_str(&target)? })
        })
        .collect()
    }

    /// Marks a page failed (or skipped) with its outcome.
    pub fn finish_job(&self, canonical: &str, ok: bool, outcome: &str) -> Result<()> {
        self.write(|db| set_status(db, canonical, ok, outcome))
    }

    /// Forgets what the crawl knows of the pages stored at `records`, when the raw
    /// archive cannot give them back (a WARC cut short by a kill): their validators
    /// go, so the portal cannot answer 304, and they are pending, so the next run
    /// fetches them whole. Returns how many pages that was.
    pub fn forget_archived(&self, records: &[RecordRef]) -> Result<usize> {
        self.write(|db| {
            let mut forgotten = 0;
            for record in records {
                let record = serde_json::to_string(record)?;
                db.prepare_cached(
                    "UPDATE frontier SET status='pending', outcome=NULL
                     WHERE canonical IN (SELECT canonical FROM pages WHERE record=?1)",
                )?
                .execute([&record])?;
                forgotten += db.prepare_cached("UPDATE pages SET etag=NULL, last_modified=NULL WHERE record=?1")?.execute([&record])?;
            }
            Ok(forgotten)
        })
    }

    /// What the last fetch of a page stored, if it left validators to revalidate with.
    pub fn earlier(&self, canonical: &str) -> Result<Option<Earlier>> {
        let row = self
            .db
            .prepare_cached(
                "SELECT etag, last_modified, url, fetched_at, record FROM pages
                 WHERE canonical=?1 AND (etag IS NOT NULL OR last_modified IS NOT NULL)",
            )?
            .query_row([canonical], |r| {
                let validators = Validators { etag: r.get("etag")?, last_modified: r.get("last_modified")? };
                Ok((validators, r.get("url")?, r.get("fetched_at")?, r.get::<_, String>("record")?))
            })
            .optional()?;
        row.map(|(validators, url, fetched_at, record)| Ok(Earlier { validators, url, fetched_at, record: serde_json::from_str(&record)? }))
            .transpose()
    }

    /// Completes an article in one unit: its stored page, its report (if it is one)
    /// with what the crawl extracted from it, its attachments to fetch, and its
    /// outcome. A kill before the commit leaves the page pending without
    /// validators, so the next run fetches it whole instead of getting a 304 for a
    /// report it never recorded. Returns the new jobs.
    pub fn complete_article(
        &self,
        canonical: &str,
        page: &PageRecord,
        report: Option<(&ReportEntry, Option<&Extracted>)>,
        linked: Vec<Job>,
        outcome: &str,
    ) -> Result<(Vec<Job>, Option<Change>)> {
        self.write(|db| {
            record_page(db, canonical, page)?;
            let mut change = None;
            if let Some((report, extracted)) = report {
                let (version, changed) = insert_report(db, report)?;
                change = Some(changed);
                seen(db, &report.report_id, page.fetched_at)?;
                if let Some(e) = extracted {
                    db.prepare_cached(
                        "INSERT OR REPLACE INTO extractions(report_id, version, extractor, data) VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![report.report_id, version, e.extractor, e.data])?;
                }
            }
            let new = insert_jobs(db, linked)?;
            set_status(db, canonical, true, outcome)?;
            Ok((new, change))
        })
    }

    /// Whether a report with this id was ever recorded.
    pub fn has_report(&self, report_id: &str) -> Result<bool> {
        Ok(self.db.prepare_cached("SELECT 1 FROM reports WHERE report_id=?1 LIMIT 1")?.exists([report_id])?)
    }

    /// A known report's page answered again (304 or 200) at `at`.
    pub fn saw_report(&self, report_id: &str, at: &str) -> Result<()> {
        self.write(|db| seen(db, report_id, at))
    }

    /// A known report's page is gone from the portal (404, 410) since `at`: the report
    /// stays in the dataset, and the coverage table says when it went.
    pub fn report_gone(&self, report_id: &str, at: &str) -> Result<()> {
        self.write(|db| {
            db.prepare_cached("UPDATE report_seen SET removed_at = COALESCE(removed_at, ?2) WHERE report_id = ?1")?.execute(params![report_id, at])?;
            Ok(())
        })
    }

    /// Completes an attachment in one unit: its stored file, its link to the report,
    /// its outcome.
    pub fn complete_attachment(&self, canonical: &str, page: &PageRecord, report_id: &str, outcome: &str) -> Result<()> {
        self.write(|db| {
            record_page(db, canonical, page)?;
            db.prepare_cached(
                "INSERT INTO attachments(report_id, url, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT(report_id, url) DO UPDATE SET record=excluded.record",
            )?
            .execute(params![report_id, page.url, serde_json::to_string(page.record)?])?;
            set_status(db, canonical, true, outcome)
        })
    }

    /// Completes a navigation page in one unit: its stored page, the pages it links
    /// to, its outcome. Returns the linked pages that were new.
    pub fn complete_navigation(&self, canonical: &str, page: &PageRecord, found: Vec<Job>, outcome: &str) -> Result<Vec<Job>> {
        self.write(|db| {
            record_page(db, canonical, page)?;
            let new = insert_jobs(db, found)?;
            set_status(db, canonical, true, outcome)?;
            Ok(new)
        })
    }

    /// What the crawl extracted from a report version, if it kept it.
    pub fn extracted(&self, report_id: &str, version: i64) -> Result<Option<Extracted>> {
        Ok(self
            .db
            .prepare_cached("SELECT extractor, data FROM extractions WHERE report_id=?1 AND version=?2")?
            .query_row(params![report_id, version], |r| Ok(Extracted { extractor: r.get(0)?, data: r.get(1)? }))
            .optional()?)
    }

    /// Every version of every report found so far, in (report_id, version) order.
    pub fn reports(&self) -> Result<Vec<ReportEntry>> {
        let mut stmt = self.db.prepare(
            "SELECT r.report_id, r.url, r.title, r.agency, r.department, r.column_name, r.year, r.published, r.warnings,
                    r.record, s.url, s.agency, s.division_code, r.version, r.sha256,
                    r.version = (SELECT MAX(version) FROM reports x WHERE x.report_id = r.report_id)
             FROM reports r JOIN seeds s ON s.url = r.seed ORDER BY r.report_id, r.version",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                ReportEntry {
                    report_id: r.get(0)?,
                    version: r.get(13)?,
                    is_current: r.get(15)?,
                    sha256: r.get(14)?,
                    url: r.get(1)?,
                    title: r.get(2)?,
                    agency: r.get(3)?,
                    department: r.get(4)?,
                    column: r.get(5)?,
                    year: r.get(6)?,
                    published: r.get(7)?,
                    warnings: Vec::new(),
                    record: RecordRef { file: String::new(), offset: 0, length: 0 },
                    attachments: Vec::new(),
                    seed: Seed { url: r.get(10)?, agency: r.get(11)?, division_code: r.get(12)? },
                },
                r.get::<_, String>(8)?,
                r.get::<_, String>(9)?,
            ))
        })?;
        let mut attachments: std::collections::HashMap<String, Vec<RecordRef>> = std::collections::HashMap::new();
        let mut stmt_a = self.db.prepare("SELECT report_id, record FROM attachments ORDER BY rowid")?;
        for row in stmt_a.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (id, record) = row?;
            attachments.entry(id).or_default().push(serde_json::from_str(&record)?);
        }
        rows.map(|row| {
            let (mut entry, warnings, record) = row?;
            entry.warnings = serde_json::from_str(&warnings)?;
            entry.record = serde_json::from_str(&record)?;
            entry.attachments = attachments.get(&entry.report_id).cloned().unwrap_or_default();
            Ok(entry)
        })
        .collect()
    }

    pub fn set_host(&self, host: &str, status: HostStatus, reason: &str, run_id: &str) -> Result<()> {
        self.write(|db| {
            db.execute(
                "INSERT INTO hosts(host, status, reason, run_id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(host) DO UPDATE SET status=excluded.status, reason=excluded.reason, run_id=excluded.run_id",
                params![host, status.as_str(), reason, run_id],
            )?;
            Ok(())
        })
    }

    /// Hosts the last run could not crawl fully, with why.
    pub fn hosts(&self) -> Result<Vec<HostRecord>> {
        let mut stmt = self.db.prepare("SELECT host, status, COALESCE(reason, '') AS reason FROM hosts ORDER BY host")?;
        let rows = stmt.query_map([], |r| {
            let status: String = r.get("status")?;
            Ok((r.get("host")?, status, r.get("reason")?))
        })?;
        let mut hosts = Vec::new();
        for row in rows {
            let (host, status, reason) = row?;
            let status = HostStatus::parse(&status).with_context(|| format!("host {host} has an unknown status {status:?} in the state"))?;
            hosts.push(HostRecord { host, status, reason });
        }
        Ok(hosts)
    }

    /// The latest crawl run, if any.
    pub fn last_run(&self) -> Result<Option<RunRecord>> {
        Ok(self
            .db
            .query_row("SELECT run_id, started_at, finished_at FROM runs ORDER BY started_at DESC LIMIT 1", [], |r| {
                Ok(RunRecord { run_id: r.get("run_id")?, started_at: r.get("started_at")?, finished_at: r.get("finished_at")? })
            })
            .optional()?)
    }

    /// Frontier outcomes of the current state, counted.
    pub fn outcome_counts(&self) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.db.prepare(
            "SELECT COALESCE(outcome, status), COUNT(*) FROM frontier GROUP BY 1 ORDER BY 2 DESC",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// What to tell the operator when an error comes from a full or failing disk: SQLite
/// says only "disk I/O error (4874)" or "database or disk is full".
pub fn disk_trouble(error: &anyhow::Error) -> Option<&'static str> {
    let full = error.chain().any(|cause| match cause.downcast_ref::<rusqlite::Error>() {
        Some(rusqlite::Error::SqliteFailure(e, _)) => {
            matches!(e.code, rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::SystemIoFailure)
        }
        _ => cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::StorageFull),
    });
    full.then_some("the disk holding the output directory is full or failing: free space and run the same command again; what was collected is kept and the run resumes")
}

impl Drop for State {
    fn drop(&mut self) {
        // A run that stops on an error keeps what it recorded before the error.
        if let Err(e) = self.commit_if_older_than(Duration::ZERO) {
            tracing::error!("{e:#}");
        }
    }
}

fn insert_job(db: &Connection, job: &Job) -> Result<bool> {
    let n = db.prepare_cached(
        "INSERT OR IGNORE INTO frontier(canonical, host, seed, kind, target) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![job.canonical, job.host, job.seed, job.target.kind.as_str(), serde_json::to_string(&job.target)?],
    )?;
    Ok(n == 1)
}

/// Inserts jobs, returning those that were new.
fn insert_jobs(db: &Connection, jobs: Vec<Job>) -> Result<Vec<Job>> {
    let mut new = Vec::new();
    for job in jobs {
        if insert_job(db, &job)? {
            new.push(job);
        }
    }
    Ok(new)
}

/// Records a sighting of a report: its first stays, its last moves, and a report
/// seen again is no longer removed.
fn seen(db: &Connection, report_id: &str, at: &str) -> Result<()> {
    db.prepare_cached(
        "INSERT INTO report_seen(report_id, first_seen, last_seen) VALUES (?1, ?2, ?2)
         ON CONFLICT(report_id) DO UPDATE SET last_seen = excluded.last_seen, removed_at = NULL",
    )?
    .execute(params![report_id, at])?;
    Ok(())
}

fn set_status(db: &Connection, canonical: &str, ok: bool, outcome: &str) -> Result<()> {
    db.prepare_cached("UPDATE frontier SET status=?2, outcome=?3 WHERE canonical=?1")?.execute(params![
        canonical,
        if ok { "done" } else { "failed" },
        outcome
    ])?;
    Ok(())
}

fn record_page(db: &Connection, canonical: &str, p: &PageRecord) -> Result<()> {
    db.prepare_cached(
        "INSERT INTO pages(canonical, url, status, etag, last_modified, sha256, record, fetched_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(canonical) DO UPDATE SET url=excluded.url, status=excluded.status, etag=excluded.etag,
           last_modified=excluded.last_modified, sha256=excluded.sha256, record=excluded.record,
           fetched_at=excluded.fetched_at",
    )?
    .execute(params![
            canonical,
            p.url,
            p.status,
            p.validators.etag,
            p.validators.last_modified,
            p.sha256,
            serde_json::to_string(p.record)?,
            p.fetched_at
        ],
    )?;
    Ok(())
}

/// Records a report found by discovery: the same content refreshes its version, new
/// content (another sha256) becomes the next version. Returns the version, and
/// whether it was new, changed or the same.
fn insert_report(db: &Connection, r: &ReportEntry) -> Result<(i64, Change)> {
    let last: Option<(i64, String)> = db
        .prepare_cached("SELECT version, sha256 FROM reports WHERE report_id=?1 ORDER BY version DESC LIMIT 1")?
        .query_row([&r.report_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let (version, change) = match last {
        Some((v, sha)) if sha == r.sha256 => (v, Change::Unchanged),
        Some((v, _)) => (v + 1, Change::Changed),
        None => (1, Change::New),
    };
    db.prepare_cached(
        "INSERT INTO reports(report_id, version, sha256, url, seed, title, agency, department, column_name, year,
                             published, warnings, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(report_id, version) DO UPDATE SET url=excluded.url, title=excluded.title,
           agency=excluded.agency, department=excluded.department, column_name=excluded.column_name,
           year=excluded.year, published=excluded.published, warnings=excluded.warnings, record=excluded.record",
    )?
    .execute(params![
            r.report_id,
            version,
            r.sha256,
            r.url,
            r.seed.url,
            r.title,
            r.agency,
            r.department,
            r.column,
            r.year,
            r.published,
            serde_json::to_string(&r.warnings)?,
            serde_json::to_string(&r.record)?
        ],
    )?;
    Ok((version, change))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::PageKind;

    fn job(url: &str, kind: PageKind) -> Job {
        Job {
            canonical: url.to_string(),
            host: "www.zt.gov.cn".into(),
            seed: "http://www.zt.gov.cn/".into(),
            target: Target { url: url.into(), kind, ..Target::default() },
        }
    }

    #[test]
    fn changed_content_is_a_new_version_and_same_content_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).unwrap();
        let seed = Seed { url: "http://www.zt.gov.cn/".into(), agency: None, division_code: None };
        state.add_seed(&seed, "r1").unwrap();
        let mut entry = ReportEntry {
            report_id: "r".into(),
            version: 0,
            is_current: false,
            sha256: "aaa".into(),
            url: "http://www.zt.gov.cn/a.html".into(),
            seed,
            title: "t".into(),
            agency: None,
            department: None,
            column: None,
            year: Some(2023),
            published: None,
            warnings: vec![],
            record: RecordRef { file: "f".into(), offset: 0, length: 1 },
            attachments: vec![],
        };
        assert_eq!(insert_report(&state.db, &entry).unwrap(), (1, Change::New));
        assert_eq!(insert_report(&state.db, &entry).unwrap(), (1, Change::Unchanged));
        entry.sha256 = "bbb".into();
        assert_eq!(insert_report(&state.db, &entry).unwrap(), (2, Change::Changed));
        let all = state.reports().unwrap();
        assert_eq!(all.iter().map(|r| (r.version, r.is_current)).collect::<Vec<_>>(), vec![(1, false), (2, true)]);
    }

    #[test]
    fn a_failed_unit_leaves_nothing_and_the_batch_before_it_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        {
            let state = State::open(dir.path()).unwrap();
            state.add_job(&job("a", PageKind::List)).unwrap();
            let failed: Result<()> = state.write(|db| {
                insert_job(db, &job("b", PageKind::List))?;
                anyhow::bail!("the page's second write failed")
            });
            assert!(failed.is_err());
            assert!(!state.db.is_autocommit(), "the batch with `a` is still open");
            // Dropped without finishing the run, as when a run stops on an error.
        }
        let state = State::open(dir.path()).unwrap();
        let pending: Vec<String> = state.pending_jobs().unwrap().into_iter().map(|j| j.canonical).collect();
        assert_eq!(pending, vec!["a"]);
    }

    #[test]
    fn a_batch_is_committed_once_it_is_old_enough() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).unwrap();
        state.add_job(&job("a", PageKind::List)).unwrap();
        state.commit_if_older_than(BATCH_AGE).unwrap();
        assert!(!state.db.is_autocommit(), "a young batch stays open");
        std::thread::sleep(BATCH_AGE);
        state.commit_if_older_than(BATCH_AGE).unwrap();
        assert!(state.db.is_autocommit(), "an old batch is committed");
        state.add_job(&job("b", PageKind::List)).unwrap();
        assert!(!state.db.is_autocommit(), "the next write opens the next batch");
    }

    #[test]
    fn second_run_on_the_same_state_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _first = State::open(dir.path()).unwrap();
        let err = State::open(dir.path()).err().unwrap();
        assert_eq!(Exit::of(&err), Exit::Locked);
        assert!(format!("{err:#}").contains("another nianbao run"), "{err:#}");
    }

    #[test]
    fn resume_keeps_finished_articles_and_refetches_lists() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).unwrap();
        assert!(!state.begin_run("r1").unwrap());
        for (url, kind) in [("a", PageKind::Article), ("l", PageKind::List), ("b", PageKind::Article)] {
            assert!(state.add_job(&job(url, kind)).unwrap());
        }
        assert!(!state.add_job(&job("a", PageKind::Article)).unwrap(), "dedup by canonical URL");
        state.finish_job("a", true, "ok").unwrap();
        state.finish_job("l", true, "ok").unwrap();
        // Killed here: the next run resumes.
        assert!(state.begin_run("r2").unwrap());
        let pending: Vec<String> = state.pending_jobs().unwrap().into_iter().map(|j| j.canonical).collect();
        assert_eq!(pending, vec!["l", "b"]);
        state.finish_run("r2", "").unwrap();
        // After a finished run, a new run rechecks everything (conditionally).
        assert!(!state.begin_run("r3").unwrap());
        assert_eq!(state.pending_jobs().unwrap().len(), 3);
    }

    #[test]
    fn a_full_disk_is_named_as_such() {
        let full = anyhow::Error::new(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR_WRITE), None))
            .context("cannot commit the crawl state");
        assert!(disk_trouble(&full).unwrap().contains("full or failing"));
        let io = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::StorageFull)).context("cannot write the raw archive");
        assert!(disk_trouble(&io).is_some());
        assert!(disk_trouble(&anyhow::anyhow!("bad config")).is_none());
    }
}
