//! The runs, their seeds, and how each host's crawl ended in the last run.

use std::time::Duration;

use anyhow::{Context, Result};
use rusqlite::{OptionalExtension, params};

use super::State;
use crate::seeds::Seed;

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
    /// A signal stopped the run with pages of the host still to fetch.
    Interrupted,
}

impl HostStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HostStatus::Budget => "budget",
            HostStatus::Blocked => "blocked",
            HostStatus::Unreachable => "unreachable",
            HostStatus::Paused => "paused",
            HostStatus::Interrupted => "interrupted",
        }
    }

    fn parse(text: &str) -> Option<HostStatus> {
        Some(match text {
            "budget" => HostStatus::Budget,
            "blocked" => HostStatus::Blocked,
            "unreachable" => HostStatus::Unreachable,
            // "host-paused" is how states written before the enum said it.
            "paused" | "host-paused" => HostStatus::Paused,
            "interrupted" => HostStatus::Interrupted,
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

/// A run's id: its start time, which sorts runs and names their files.
pub fn run_id(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y%m%dT%H%M%S%.3fZ").to_string()
}

impl State {
    /// Starts a run. Navigation pages (portals, hubs, lists) change, so they are
    /// always fetched again. Articles are fetched again (conditionally) only when the
    /// last run finished: a run that resumes a killed one keeps what it had.
    pub fn begin_run(&self, run_id: &str) -> Result<bool> {
        let last_finished: Option<Option<String>> =
            self.db.query_row("SELECT finished_at FROM runs ORDER BY started_at DESC LIMIT 1", [], |r| r.get("finished_at")).optional()?;
        let resuming = matches!(last_finished, Some(None));
        self.write(|db| {
            if resuming {
                db.execute("UPDATE frontier SET status='pending' WHERE kind NOT IN ('article', 'attachment') OR status != 'done'", [])?;
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
            db.execute("UPDATE runs SET finished_at=?2, summary=?3 WHERE run_id=?1", params![run_id, chrono::Utc::now().to_rfc3339(), summary])?;
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
            db.execute("INSERT INTO seed_runs(url, run_id) VALUES (?1, ?2) ON CONFLICT(url) DO UPDATE SET run_id=excluded.run_id", params![seed.url, run_id])?;
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
            .query_row([url], |r| Ok(Seed { url: r.get("url")?, agency: r.get("agency")?, division_code: r.get("division_code")? }))
            .with_context(|| format!("seed {url} missing from the state"))
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
        let mut stmt = self.db.prepare("SELECT COALESCE(outcome, status) AS outcome, COUNT(*) AS pages FROM frontier GROUP BY 1 ORDER BY 2 DESC")?;
        let rows = stmt.query_map([], |r| Ok((r.get("outcome")?, r.get::<_, i64>("pages")? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
