//! A report's rows in the dataset: its extraction (its page's, or its first attached
//! file's with tables), placed in its division.
//!
//! The crawl and `nianbao extract` both go through here, from extractions the crawl
//! kept or made again from the same stored bytes, so a dataset rebuilt offline is
//! the dataset the crawl wrote.

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate};
use url::Url;

use crate::dataset::{Partition, ReportRow, ReportWithFacts};
use crate::extract::stored::Stored;
use crate::place::{Division, admin_level, division_of_body};
use crate::state::{Attachment, ReportEntry};

/// Builds the dataset rows of one report from its extraction (see
/// [`report_extraction`]); `division` is the report's place, from [`division_of`].
pub fn assemble(entry: &ReportEntry, division: Option<&Division>, read: Stored) -> Result<ReportWithFacts> {
    let fetched_at = DateTime::from_timestamp(read.fetched_at, 0).context("stored fetch time out of range")?;
    let extraction = read.extraction;
    let agency = agency_of(entry);
    let admin_level = admin_level(&agency, division);

    let mut warnings = entry.warnings.clone();
    warnings.extend(extraction.warnings);
    if division.is_none() {
        warnings.push(format!("place unknown: agency {agency:?} matches no division"));
    }
    let report = ReportRow {
        report_id: entry.report_id.clone(),
        version: entry.version,
        is_current: entry.is_current,
        url: entry.url.clone(),
        title: entry.title.clone(),
        agency,
        division_code: division.map(|d| d.code.clone()),
        province_code: division.map(|d| d.province_code().to_string()),
        admin_level: admin_level.to_string(),
        format: extraction.format.as_str().to_string(),
        published_date: entry.published.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        source_type: read.source_type,
        encoding: read.encoding,
        fetched_at,
        content_sha256: entry.sha256.clone(),
        checks_failed: extraction.checks_failed,
        warnings,
        text: extraction.text,
        partition: partition(division, entry),
    };
    Ok(ReportWithFacts { report, facts: extraction.facts })
}

/// A report's extraction: its page's, unless the page has no tables and one of its
/// attached files has (an article often attaches its tables as a PDF, Word or Excel
/// file): then the first such file's, after the page's text. `attachment` reads
/// each file, in the order linked, until one has tables.
pub fn report_extraction(entry: &ReportEntry, page: Stored, mut attachment: impl FnMut(&Attachment) -> Result<Stored>) -> Result<Stored> {
    let mut read = page;
    if !read.extraction.facts.is_empty() {
        return Ok(read);
    }
    for file in &entry.attachments {
        let from_file = attachment(file)?;
        let mut extraction = from_file.extraction;
        if extraction.facts.is_empty() {
            read.extraction.warnings.extend(extraction.warnings.into_iter().map(|w| format!("attachment: {w}")));
            continue;
        }
        extraction.warnings.insert(0, format!("tables read from the attached {} file: {}", from_file.source_type.as_str(), file.url));
        extraction.text = format!("{}\n{}", read.extraction.text, extraction.text);
        read.extraction = extraction;
        read.source_type = from_file.source_type;
        break;
    }
    Ok(read)
}

/// The partition a report goes to, known without extracting it.
pub fn partition(division: Option<&Division>, entry: &ReportEntry) -> Partition {
    let province = division.map_or_else(|| "未知".to_string(), |d| d.province_name.clone());
    Partition { province, year: entry.year }
}

/// The publishing body: from the title, else the department column, else the seed.
pub fn agency_of(entry: &ReportEntry) -> String {
    entry.agency.clone().or_else(|| entry.department.clone()).or_else(|| entry.seed.agency.clone()).unwrap_or_default()
}

/// Where a report belongs (see [`division_of_body`]).
pub fn division_of(entry: &ReportEntry) -> Option<&'static Division> {
    let host = Url::parse(&entry.url).ok().and_then(|u| u.host_str().map(str::to_string));
    division_of_body(&agency_of(entry), entry.seed.division_code.as_deref(), host.as_deref())
}
