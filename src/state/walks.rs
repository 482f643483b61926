//! What the state knows of how far each portal was walked: the coverage table's
//! evidence for a year with no report (see `coverage`). Read by aggregate queries, so
//! a nationwide frontier is never loaded whole.

use std::collections::HashMap;

use anyhow::Result;

use super::outcome::read;
use super::{Outcome, State};
use crate::fetch::FailureKind;

/// A report column of a seed's host (a 集约化 department's, or the portal's own),
/// with how the walk of its list pages ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnWalk {
    pub host: String,
    pub seed: String,
    pub department: Option<String>,
    pub name: String,
    /// Its first list page.
    pub url: String,
    pub pages: i64,
    /// List pages not fetched (a run stopped before them).
    pub pending: i64,
    /// List pages cut by a budget (`max_list_pages`, `max_pages_per_host`).
    pub over_budget: i64,
    pub robots_disallowed: i64,
    /// The outcome of a list page that failed otherwise (unreachable, blocked, …).
    pub failed: Option<Outcome>,
}

/// A report link that did not give a page, with its link text (which may name the year).
#[derive(Debug, Clone, PartialEq)]
pub struct FailedArticle {
    pub host: String,
    pub seed: String,
    pub department: Option<String>,
    pub title: String,
    /// None when it was never fetched (a run stopped before it).
    pub outcome: Option<Outcome>,
}

/// How a seed's own page (the portal home) ended, and whether the last run had it.
#[derive(Debug, Clone, PartialEq)]
pub struct PortalWalk {
    pub seed: String,
    /// The seed's body and division, as its list gave them.
    pub agency: Option<String>,
    pub division_code: Option<String>,
    pub host: String,
    pub outcome: Option<Outcome>,
    pub in_last_run: bool,
}

/// When the crawl first and last saw a report, and when its page went (404, 410).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sighting {
    pub first_seen: String,
    pub last_seen: String,
    pub removed_at: Option<String>,
}

/// A body's year as a run that reached its portal established it (not listed, no
/// column, robots.txt, a budget): what a later run that reaches nothing must not erase.
#[derive(Debug, Clone, PartialEq)]
pub struct Established {
    pub seed: String,
    pub agency: String,
    pub year: i32,
    /// The coverage status's name.
    pub status: String,
    pub evidence: String,
    pub column_url: Option<String>,
    pub run_id: String,
}

impl State {
    /// Every body's year an earlier run established, by (seed, agency, year).
    pub fn established(&self) -> Result<HashMap<(String, String, i32), Established>> {
        let mut stmt = self.db.prepare("SELECT seed, agency, year, status, evidence, column_url, run_id FROM coverage_established")?;
        let rows = stmt.query_map([], |r| {
            Ok(Established {
                seed: r.get(0)?,
                agency: r.get(1)?,
                year: r.get(2)?,
                status: r.get(3)?,
                evidence: r.get(4)?,
                column_url: r.get(5)?,
                run_id: r.get(6)?,
            })
        })?;
        rows.map(|row| row.map(|e| ((e.seed.clone(), e.agency.clone(), e.year), e)).map_err(Into::into)).collect()
    }

    /// Records what this build established, replacing what earlier runs did.
    pub fn establish(&self, rows: &[Established]) -> Result<()> {
        self.write(|db| {
            let mut insert = db.prepare_cached(
                "INSERT OR REPLACE INTO coverage_established(seed, agency, year, status, evidence, column_url, run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for e in rows {
                insert.execute(rusqlite::params![e.seed, e.agency, e.year, e.status, e.evidence, e.column_url, e.run_id])?;
            }
            Ok(())
        })
    }

    /// Every report column found, per seed, with how its walk ended. (`IS`, not `=`:
    /// a pending page has no outcome, and `NULL = x` would make a column whose pages
    /// are all pending sum to NULL.)
    pub fn column_walks(&self) -> Result<Vec<ColumnWalk>> {
        let mut stmt = self.db.prepare(
            "SELECT host, seed, json_extract(target, '$.department') AS department,
                    COALESCE(json_extract(target, '$.column'), '') AS name,
                    json_extract(target, '$.url') AS url, MIN(rowid), COUNT(*) AS pages,
                    SUM(status IS 'pending') AS pending, SUM(outcome IS ?1) AS over_budget,
                    SUM(outcome IS ?2) AS robots,
                    MAX(CASE WHEN status = 'failed' AND outcome NOT IN (?1, ?2) THEN outcome END) AS failed
             FROM frontier WHERE kind = 'list' GROUP BY host, seed, department, name ORDER BY MIN(rowid)",
        )?;
        let (budget, robots) = (Outcome::Budget.to_string(), Outcome::Failed(FailureKind::RobotsDisallowed).to_string());
        let rows = stmt.query_map([budget, robots], |r| {
            Ok(ColumnWalk {
                host: r.get("host")?,
                seed: r.get("seed")?,
                department: r.get("department")?,
                name: r.get("name")?,
                url: r.get("url")?,
                pages: r.get("pages")?,
                pending: r.get("pending")?,
                over_budget: r.get("over_budget")?,
                robots_disallowed: r.get("robots")?,
                failed: read(r.get("failed")?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Report links that gave no page: failed, or never fetched.
    pub fn failed_articles(&self) -> Result<Vec<FailedArticle>> {
        let mut stmt = self.db.prepare(
            "SELECT host, seed, json_extract(target, '$.department') AS department,
                    COALESCE(json_extract(target, '$.title'), '') AS title, outcome
             FROM frontier WHERE kind = 'article' AND status IN ('failed', 'pending') ORDER BY rowid",
        )?;
        let rows = stmt.query_map([], |r| {
            let outcome = read(r.get("outcome")?);
            Ok(FailedArticle { host: r.get("host")?, seed: r.get("seed")?, department: r.get("department")?, title: r.get("title")?, outcome })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every seed's portal page, and whether the last run's seed list had the seed.
    pub fn portal_walks(&self) -> Result<Vec<PortalWalk>> {
        let mut stmt = self.db.prepare(
            "SELECT s.url AS seed, s.agency AS agency, s.division_code AS division_code,
                    COALESCE(f.host, '') AS host, f.outcome AS outcome,
                    COALESCE(r.run_id = (SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1), 0) AS in_last_run
             FROM seeds s LEFT JOIN seed_runs r ON r.url = s.url
             LEFT JOIN frontier f ON f.seed = s.url AND f.kind = 'portal' ORDER BY s.url",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PortalWalk {
                seed: r.get("seed")?,
                agency: r.get("agency")?,
                division_code: r.get("division_code")?,
                host: r.get("host")?,
                outcome: read(r.get("outcome")?),
                in_last_run: r.get("in_last_run")?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every report's sightings, by report id.
    pub fn sightings(&self) -> Result<HashMap<String, Sighting>> {
        let mut stmt = self.db.prepare("SELECT report_id, first_seen, last_seen, removed_at FROM report_seen")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get("report_id")?, Sighting { first_seen: r.get("first_seen")?, last_seen: r.get("last_seen")?, removed_at: r.get("removed_at")? }))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
