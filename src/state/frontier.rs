//! The frontier: every page found, whether it is still to fetch in this run, what it
//! gave, and what its last fetch stored (its validators and where its bytes are).

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use super::revisits::{Seen, reschedule, unschedule};
use super::{Outcome, State};
use crate::discover::{PageKind, Target};
use crate::fetch::{Earlier, RecordRef, Validators};

/// A frontier entry waiting to be fetched.
#[derive(Debug, Clone)]
pub struct Job {
    pub canonical: String,
    pub host: String,
    pub seed: String,
    pub target: Target,
}

/// What a fetch stored for a page: where its bytes are and how to revalidate it.
pub struct PageRecord {
    pub url: String,
    pub status: u16,
    pub validators: Validators,
    pub sha256: String,
    pub record: RecordRef,
    pub fetched_at: String,
}

impl State {
    /// Adds a page to the frontier; false when it was already known (by canonical URL).
    pub fn add_job(&self, job: &Job) -> Result<bool> {
        self.write(|db| insert_job(db, job))
    }

    /// Every page still to fetch in this run.
    pub fn pending_jobs(&self) -> Result<Vec<Job>> {
        let mut stmt = self.db.prepare("SELECT canonical, host, seed, target FROM frontier WHERE status='pending' ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>("canonical")?, r.get("host")?, r.get("seed")?, r.get::<_, String>("target")?)))?;
        rows.map(|row| {
            let (canonical, host, seed, target) = row?;
            Ok(Job { canonical, host, seed, target: serde_json::from_str(&target)? })
        })
        .collect()
    }

    /// How many pages each host has still to fetch.
    pub fn pending_by_host(&self) -> Result<Vec<(String, i64)>> {
        let mut stmt = self.db.prepare("SELECT host, COUNT(*) FROM frontier WHERE status = 'pending' GROUP BY host")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Marks a page failed (or skipped, or answered 304) with its outcome.
    pub fn finish_job(&self, canonical: &str, outcome: Outcome) -> Result<()> {
        let schedule = self.schedule.get();
        self.write(|db| {
            set_status(db, canonical, outcome)?;
            match outcome {
                Outcome::NotModified => reschedule(db, canonical, Seen::Unchanged, schedule),
                _ if !outcome.is_done() => unschedule(db, canonical),
                _ => Ok(()),
            }
        })
    }

    /// Forgets what the crawl knows of the pages stored at `records`, when the raw
    /// archive cannot give them back (a WARC cut short by a kill): their validators
    /// go, so the portal cannot answer 304, and they are pending and due, so the next
    /// run fetches them whole. Returns how many pages that was.
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
                // Due this run whatever the schedule said: the archive must get them back.
                db.prepare_cached("DELETE FROM revisits WHERE canonical IN (SELECT canonical FROM pages WHERE record=?1)")?.execute([&record])?;
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
        row.map(|(validators, url, fetched_at, record)| Ok(Earlier { validators, url, fetched_at, record: serde_json::from_str(&record)? })).transpose()
    }

    /// Completes a navigation page in one unit: its stored page, the pages it links
    /// to, its outcome (followed, or forwarded). Returns the linked pages that were new.
    pub fn complete_navigation(&self, canonical: &str, page: &PageRecord, found: Vec<Job>, outcome: Outcome) -> Result<Vec<Job>> {
        let schedule = self.schedule.get();
        self.write(|db| {
            let seen = record_page(db, canonical, page)?;
            let new = insert_jobs(db, found)?;
            set_status(db, canonical, outcome)?;
            let led = seen != Seen::First && new.iter().any(|job| job.target.kind == PageKind::Article);
            reschedule(db, canonical, if led { Seen::LedToNewReport } else { seen }, schedule)?;
            Ok(new)
        })
    }
}

pub(super) fn insert_job(db: &Connection, job: &Job) -> Result<bool> {
    let n = db.prepare_cached("INSERT OR IGNORE INTO frontier(canonical, host, seed, kind, target) VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(params![
        job.canonical,
        job.host,
        job.seed,
        job.target.kind.as_str(),
        serde_json::to_string(&job.target)?
    ])?;
    Ok(n == 1)
}

/// Inserts jobs, returning those that were new.
pub(super) fn insert_jobs(db: &Connection, jobs: Vec<Job>) -> Result<Vec<Job>> {
    let mut new = Vec::new();
    for job in jobs {
        if insert_job(db, &job)? {
            new.push(job);
        }
    }
    Ok(new)
}

pub(super) fn set_status(db: &Connection, canonical: &str, outcome: Outcome) -> Result<()> {
    db.prepare_cached("UPDATE frontier SET status=?2, outcome=?3 WHERE canonical=?1")?.execute(params![
        canonical,
        if outcome.is_done() { "done" } else { "failed" },
        outcome.to_string()
    ])?;
    Ok(())
}

/// Stores what a fetch gave for a page; returns how it compares with the last fetch.
pub(super) fn record_page(db: &Connection, canonical: &str, p: &PageRecord) -> Result<Seen> {
    let before: Option<String> = db.prepare_cached("SELECT sha256 FROM pages WHERE canonical=?1")?.query_row([canonical], |r| r.get(0)).optional()?;
    let seen = match before {
        None => Seen::First,
        Some(sha) if sha == p.sha256 => Seen::Unchanged,
        Some(_) => Seen::Changed,
    };
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
        serde_json::to_string(&p.record)?,
        p.fetched_at
    ])?;
    Ok(seen)
}
