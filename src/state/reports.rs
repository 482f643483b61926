//! The reports found: each version of each, what the crawl extracted from it, and
//! when it was first and last seen.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use super::frontier::{insert_jobs, record_page, set_status};
use super::revisits::reschedule;
use super::{Job, Outcome, PageRecord, State};
use crate::fetch::RecordRef;
use crate::seeds::Seed;

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
    pub attachments: Vec<Attachment>,
}

/// A file attached to a report's article, as fetched.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub url: String,
    pub record: RecordRef,
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

impl State {
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
        outcome: Outcome,
    ) -> Result<(Vec<Job>, Option<Change>)> {
        let schedule = self.schedule.get();
        self.write(|db| {
            let visit = record_page(db, canonical, page)?;
            let mut change = None;
            if let Some((report, extracted)) = report {
                let (version, changed) = insert_report(db, report)?;
                change = Some(changed);
                seen(db, &report.report_id, &page.fetched_at)?;
                if let Some(e) = extracted {
                    db.prepare_cached("INSERT OR REPLACE INTO extractions(report_id, version, extractor, data) VALUES (?1, ?2, ?3, ?4)")?.execute(params![
                        report.report_id,
                        version,
                        e.extractor,
                        e.data
                    ])?;
                }
            }
            let new = insert_jobs(db, linked)?;
            set_status(db, canonical, outcome)?;
            reschedule(db, canonical, visit, schedule)?;
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
    /// what the crawl extracted from it for a report of `year`, its outcome.
    pub fn complete_attachment(
        &self,
        canonical: &str,
        page: &PageRecord,
        report_id: &str,
        (year, extracted): (Option<i32>, &Extracted),
        outcome: Outcome,
    ) -> Result<()> {
        let schedule = self.schedule.get();
        self.write(|db| {
            let visit = record_page(db, canonical, page)?;
            db.prepare_cached(
                "INSERT INTO attachments(report_id, url, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT(report_id, url) DO UPDATE SET record=excluded.record",
            )?
            .execute(params![report_id, page.url, serde_json::to_string(&page.record)?])?;
            db.prepare_cached("INSERT OR REPLACE INTO attachment_extractions(report_id, url, year, extractor, data) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![report_id, page.url, year, extracted.extractor, extracted.data])?;
            set_status(db, canonical, outcome)?;
            reschedule(db, canonical, visit, schedule)
        })
    }

    /// The year of a report's latest version, as its attachments are read with.
    pub fn report_year(&self, report_id: &str) -> Result<Option<i32>> {
        Ok(self
            .db
            .prepare_cached("SELECT year FROM reports WHERE report_id=?1 ORDER BY version DESC LIMIT 1")?
            .query_row([report_id], |r| r.get("year"))
            .optional()?
            .flatten())
    }

    /// What the crawl extracted from a report's attached file, if it kept it, with
    /// the report year it was read for.
    pub fn attachment_extracted(&self, report_id: &str, url: &str) -> Result<Option<(Option<i32>, Extracted)>> {
        Ok(self
            .db
            .prepare_cached("SELECT year, extractor, data FROM attachment_extractions WHERE report_id=?1 AND url=?2")?
            .query_row(params![report_id, url], |r| Ok((r.get("year")?, Extracted { extractor: r.get("extractor")?, data: r.get("data")? })))
            .optional()?)
    }

    /// What the crawl extracted from a report version, if it kept it.
    pub fn extracted(&self, report_id: &str, version: i64) -> Result<Option<Extracted>> {
        Ok(self
            .db
            .prepare_cached("SELECT extractor, data FROM extractions WHERE report_id=?1 AND version=?2")?
            .query_row(params![report_id, version], |r| Ok(Extracted { extractor: r.get("extractor")?, data: r.get("data")? }))
            .optional()?)
    }

    /// Every version of every report found so far, in (report_id, version) order.
    pub fn reports(&self) -> Result<Vec<ReportEntry>> {
        let mut stmt = self.db.prepare(
            "SELECT r.report_id, r.url, r.title, r.agency, r.department, r.column_name, r.year, r.published, r.warnings,
                    r.record, s.url AS seed_url, s.agency AS seed_agency, s.division_code, r.version, r.sha256,
                    r.version = (SELECT MAX(version) FROM reports x WHERE x.report_id = r.report_id) AS is_current
             FROM reports r JOIN seeds s ON s.url = r.seed ORDER BY r.report_id, r.version",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                ReportEntry {
                    report_id: r.get("report_id")?,
                    version: r.get("version")?,
                    is_current: r.get("is_current")?,
                    sha256: r.get("sha256")?,
                    url: r.get("url")?,
                    title: r.get("title")?,
                    agency: r.get("agency")?,
                    department: r.get("department")?,
                    column: r.get("column_name")?,
                    year: r.get("year")?,
                    published: r.get("published")?,
                    warnings: Vec::new(),
                    record: RecordRef { file: String::new(), offset: 0, length: 0 },
                    attachments: Vec::new(),
                    seed: Seed { url: r.get("seed_url")?, agency: r.get("seed_agency")?, division_code: r.get("division_code")? },
                },
                r.get::<_, String>("warnings")?,
                r.get::<_, String>("record")?,
            ))
        })?;
        let mut attachments: std::collections::HashMap<String, Vec<Attachment>> = std::collections::HashMap::new();
        let mut stmt_a = self.db.prepare("SELECT report_id, url, record FROM attachments ORDER BY rowid")?;
        let rows_a = stmt_a.query_map([], |r| Ok((r.get::<_, String>("report_id")?, r.get::<_, String>("url")?, r.get::<_, String>("record")?)))?;
        for row in rows_a {
            let (id, url, record) = row?;
            attachments.entry(id).or_default().push(Attachment { url, record: serde_json::from_str(&record)? });
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
}

/// Records a sighting of a report: its first stays, its last moves, and a report
/// seen again is no longer removed.
pub(super) fn seen(db: &Connection, report_id: &str, at: &str) -> Result<()> {
    db.prepare_cached(
        "INSERT INTO report_seen(report_id, first_seen, last_seen) VALUES (?1, ?2, ?2)
         ON CONFLICT(report_id) DO UPDATE SET last_seen = excluded.last_seen, removed_at = NULL",
    )?
    .execute(params![report_id, at])?;
    Ok(())
}

/// Records a report found by discovery: the same content refreshes its version, new
/// content (another sha256) becomes the next version. Returns the version, and
/// whether it was new, changed or the same.
pub(super) fn insert_report(db: &Connection, r: &ReportEntry) -> Result<(i64, Change)> {
    let last: Option<(i64, String)> = db
        .prepare_cached("SELECT version, sha256 FROM reports WHERE report_id=?1 ORDER BY version DESC LIMIT 1")?
        .query_row([&r.report_id], |row| Ok((row.get("version")?, row.get("sha256")?)))
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
    ])?;
    Ok((version, change))
}
