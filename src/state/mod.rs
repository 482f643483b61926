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
//!
//! This file holds the connection, the lock and the batches; the tables' reads and
//! writes are in `frontier` (pages to fetch and what they gave), `reports` (reports,
//! their versions, extractions and sightings), `runs` (runs, seeds, host statuses)
//! `walks` (how far each portal was walked, for the coverage table) and `revisits`
//! (when each page is due again, and the robots.txt files kept a day). During a
//! crawl the state lives on its own thread (`writer`), which every write goes through.

use std::cell::Cell;
use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rusqlite::Connection;

use crate::exit::Exit;

mod frontier;
mod outcome;
mod reports;
mod revisits;
mod runs;
mod walks;
mod writer;

pub use frontier::{Job, PageRecord};
pub use outcome::Outcome;
pub use reports::{Attachment, Change, Extracted, ReportEntry};
pub use revisits::Schedule;
pub use runs::{HostRecord, HostStatus, RunRecord, run_id};
pub use walks::{ColumnWalk, Established, FailedArticle, PortalWalk, Sighting};
pub use writer::{CommitFailure, StateThread, StateWriter};

pub struct State {
    db: Connection,
    /// When the batch of writes not yet committed began, if there is one.
    batch: Cell<Option<Instant>>,
    /// The run's clock and revisit intervals, once a crawl set them.
    schedule: Cell<Option<Schedule>>,
    _lock: File,
}

/// Prepared statements kept for reuse: more than the state's distinct statements.
const STATEMENTS: usize = 64;

/// How old a batch of writes may grow before it is committed: what a kill may lose.
pub const BATCH_AGE: Duration = Duration::from_millis(100);

/// The state's schema, a step per version: step `i` brings a state at version `i`
/// (SQLite's `user_version`) to `i + 1`, in one transaction. A state made before
/// versions were kept is at 0 and may hold some of the tables already, so step 0
/// creates only what is missing, and drops an index older states had.
const MIGRATIONS: [&str; 1] = [SCHEMA];

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
CREATE TABLE IF NOT EXISTS attachment_extractions(
    report_id TEXT NOT NULL, url TEXT NOT NULL, year INTEGER, extractor TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (report_id, url));
CREATE TABLE IF NOT EXISTS seed_runs(url TEXT PRIMARY KEY, run_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS report_seen(
    report_id TEXT PRIMARY KEY, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, removed_at TEXT);
CREATE TABLE IF NOT EXISTS hosts(host TEXT PRIMARY KEY, status TEXT NOT NULL, reason TEXT, run_id TEXT);
CREATE TABLE IF NOT EXISTS runs(run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, summary TEXT);
CREATE TABLE IF NOT EXISTS coverage_established(
    seed TEXT NOT NULL, agency TEXT NOT NULL, year INTEGER NOT NULL, status TEXT NOT NULL, evidence TEXT NOT NULL,
    column_url TEXT, run_id TEXT NOT NULL, PRIMARY KEY(seed, agency, year));
CREATE TABLE IF NOT EXISTS revisits(canonical TEXT PRIMARY KEY, interval INTEGER NOT NULL, due INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS robots(host TEXT PRIMARY KEY, fetched_at INTEGER NOT NULL, body BLOB);
";

/// Brings the state's schema to this version's, step by step; a state of a newer
/// nianbao is refused rather than misread.
fn migrate(db: &Connection) -> Result<()> {
    let version: i64 = db.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        let newer = anyhow::anyhow!(
            "the crawl state is at schema version {version}, written by a newer nianbao than this one (version {}): run that nianbao, or crawl into another --out",
            MIGRATIONS.len()
        );
        return Err(newer.context(Exit::DataErr));
    }
    for (from, step) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = db.unchecked_transaction()?;
        tx.execute_batch(step).and_then(|()| tx.pragma_update(None, "user_version", from as i64 + 1)).context("cannot create the crawl state tables")?;
        tx.commit()?;
    }
    Ok(())
}

/// The state's database file in its directory.
pub fn database(dir: &Path) -> std::path::PathBuf {
    dir.join("nianbao.sqlite")
}

impl State {
    /// Opens (creating) the state in `dir`, taking the run lock.
    pub fn open(dir: &Path) -> Result<State> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create state directory {}", dir.display()))?;
        let lock = File::create(dir.join("lock")).with_context(|| format!("cannot create {}", dir.join("lock").display()))?;
        if lock.try_lock().is_err() {
            let held = anyhow::anyhow!("another nianbao run is using {} (state/lock is held); wait for it to finish", dir.parent().unwrap_or(dir).display());
            return Err(held.context(Exit::Locked));
        }
        let db = Connection::open(database(dir)).context("cannot open the crawl state database")?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "NORMAL")?;
        // The run lock above already keeps other nianbao processes out; holding
        // SQLite's lock for the whole run spares two fcntl calls per transaction.
        db.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        // A page's writes use a few dozen statements in turn: rusqlite's default cache
        // of 16 would prepare most of them again every time.
        db.set_prepared_statement_cache_capacity(STATEMENTS);
        migrate(&db)?;
        Ok(State { db, batch: Cell::new(None), schedule: Cell::new(None), _lock: lock })
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
    full.then_some(
        "the disk holding the output directory is full or failing: free space and run the same command again; what was collected is kept and the run resumes",
    )
}

impl Drop for State {
    fn drop(&mut self) {
        // A run that stops on an error keeps what it recorded before the error.
        if let Err(e) = self.commit_if_older_than(Duration::ZERO) {
            tracing::error!("{e:#}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::frontier::insert_job;
    use super::reports::insert_report;
    use super::*;
    use crate::discover::{PageKind, Target};
    use crate::fetch::RecordRef;
    use crate::seeds::Seed;

    fn job(url: &str, kind: PageKind) -> Job {
        Job {
            canonical: url.to_string(),
            host: "www.zt.gov.cn".into(),
            seed: "http://www.zt.gov.cn/".into(),
            target: Target { url: url.into(), kind, ..Target::default() },
        }
    }

    #[test]
    fn an_unversioned_state_is_brought_up_and_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let version = |db: &Connection| db.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0)).unwrap() as usize;
        {
            // A state from before versions were kept: the frontier with its old index.
            let db = Connection::open(database(dir.path())).unwrap();
            db.execute_batch("CREATE TABLE frontier(canonical TEXT PRIMARY KEY, host TEXT NOT NULL, seed TEXT NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', outcome TEXT); CREATE INDEX frontier_status ON frontier(status); INSERT INTO frontier(canonical, host, seed, kind, target) VALUES ('a', 'h', 's', 'list', '{}');").unwrap();
        }
        let state = State::open(dir.path()).unwrap();
        assert_eq!(version(&state.db), MIGRATIONS.len());
        let indexes: i64 = state.db.query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'frontier_status'", [], |r| r.get(0)).unwrap();
        let kept: i64 = state.db.query_row("SELECT COUNT(*) FROM frontier", [], |r| r.get(0)).unwrap();
        assert_eq!((indexes, kept), (0, 1), "the old index dropped, the frontier kept");
        state.db.pragma_update(None, "user_version", 99).unwrap();
        drop(state);
        let refused = State::open(dir.path()).err().expect("a newer state is refused");
        assert!(format!("{refused:#}").contains("newer nianbao"), "{refused:#}");
        assert_eq!(Exit::of(&refused), Exit::DataErr);
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
    fn a_column_whose_list_pages_are_all_pending_is_read_as_pending() {
        // As a run stopped in its first seconds leaves it: its coverage must still be written.
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).unwrap();
        state.add_job(&job("l", PageKind::List)).unwrap();
        let walks = state.column_walks().unwrap();
        assert_eq!((walks[0].pages, walks[0].pending, walks[0].over_budget, walks[0].robots_disallowed), (1, 1, 0, 0));
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
        state.finish_job("a", Outcome::Followed).unwrap();
        state.finish_job("l", Outcome::Followed).unwrap();
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
