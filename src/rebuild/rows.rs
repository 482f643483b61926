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
use crate::extract::{Extraction, SourceType};
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
/// file): then the first such file's, after the page's text. Failing that, the
/// pictures the article shows, read by OCR, all together (each is one of its
/// tables). `attachment` reads each file, in the order linked, until one that is no
/// picture has tables.
pub fn report_extraction(entry: &ReportEntry, page: Stored, mut attachment: impl FnMut(&Attachment) -> Result<Stored>) -> Result<Stored> {
    let mut read = page;
    // The pages the article continues on are the same report: read with the page.
    let page_url = Url::parse(&entry.url).ok();
    let mut continued: Vec<(u32, &Attachment)> =
        entry.attachments.iter().filter_map(|a| Some((crate::discover::continues(page_url.as_ref()?, &Url::parse(&a.url).ok()?)?, a))).collect();
    continued.sort_by_key(|&(n, _)| n);
    if !continued.is_empty() {
        let mut pages = vec![std::mem::replace(&mut read.extraction, Extraction::nothing(read.source_type, ""))];
        for (_, part) in &continued {
            pages.push(attachment(part)?.extraction);
        }
        read.extraction = Extraction::merged(pages);
        read.extraction.warnings.insert(0, format!("article read over its {} pages", continued.len() + 1));
    }
    if !read.extraction.facts.is_empty() {
        return Ok(read);
    }
    let mut pictures = Vec::new();
    for file in entry.attachments.iter().filter(|a| !continued.iter().any(|(_, c)| c.url == a.url)) {
        let from_file = attachment(file)?;
        let mut extraction = from_file.extraction;
        if extraction.facts.is_empty() {
            read.extraction.warnings.extend(extraction.warnings.into_iter().map(|w| format!("attachment: {w}")));
            continue;
        }
        if from_file.source_type == SourceType::Image {
            pictures.push(extraction);
            continue;
        }
        extraction.warnings.insert(0, format!("tables read from the attached {} file: {}", from_file.source_type.as_str(), file.url));
        extraction.text = format!("{}\n{}", read.extraction.text, extraction.text);
        read.extraction = extraction;
        read.source_type = from_file.source_type;
        return Ok(read);
    }
    if !pictures.is_empty() {
        let count = pictures.len();
        let text = std::mem::replace(&mut read.extraction, Extraction::nothing(read.source_type, ""));
        read.extraction = Extraction::merged(std::iter::once(text).chain(pictures).collect());
        read.extraction.warnings.insert(0, format!("tables read by OCR from the {count} pictures the article shows: their cells say so (read_by, confidence)"));
        read.source_type = SourceType::Image;
    }
    Ok(read)
}

/// The partition a report goes to, known without extracting it.
pub fn partition(division: Option<&Division>, entry: &ReportEntry) -> Partition {
    let province = division.map_or_else(|| "未知".to_string(), |d| d.province_name.clone());
    Partition { province, year: entry.year }
}

/// The publishing body: from the title, else the department column, else the seed.
/// A title that names only a place (`昭通市2023年政府信息公开年报`) names its
/// government: the seed's body when the seed is that place's, else the place's 人民政府.
pub fn agency_of(entry: &ReportEntry) -> String {
    let seed = entry.seed.agency.as_deref();
    match entry.agency.as_deref() {
        Some(place) if is_place_only(place) => seed.filter(|s| s.starts_with(place)).map_or_else(|| format!("{place}人民政府"), str::to_string),
        Some(agency) => agency.to_string(),
        None => entry.department.clone().or_else(|| seed.map(str::to_string)).unwrap_or_default(),
    }
}

/// Whether a name is a place's alone (云南省, 昭通市, 官渡区), with no body in it.
fn is_place_only(name: &str) -> bool {
    let bodies = ["政府", "局", "委", "办", "厅", "院", "中心", "街道", "所", "站", "队", "会", "处", "部", "馆"];
    ["省", "市", "县", "区", "州", "旗", "盟", "镇", "乡"].iter().any(|s| name.ends_with(s))
        && !bodies.iter().any(|b| name.contains(b))
        && name.chars().count() <= 12
}

/// Where a report belongs (see [`division_of_body`]).
pub fn division_of(entry: &ReportEntry) -> Option<&'static Division> {
    let host = Url::parse(&entry.url).ok().and_then(|u| u.host_str().map(str::to_string));
    division_of_body(&agency_of(entry), entry.seed.division_code.as_deref(), host.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::RecordRef;
    use crate::seeds::Seed;

    fn entry(agency: Option<&str>, department: Option<&str>, seed: &str) -> ReportEntry {
        ReportEntry {
            report_id: "r".into(),
            version: 0,
            is_current: true,
            sha256: "00".into(),
            url: "http://www.zt.gov.cn/a.html".into(),
            seed: Seed { url: "http://www.zt.gov.cn/".into(), agency: Some(seed.into()), division_code: None },
            title: String::new(),
            agency: agency.map(str::to_string),
            department: department.map(str::to_string),
            column: None,
            year: Some(2023),
            published: None,
            warnings: Vec::new(),
            record: RecordRef { file: "f".into(), offset: 0, length: 1 },
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_title_naming_only_its_place_names_that_places_government() {
        assert_eq!(agency_of(&entry(Some("昭通市"), None, "昭通市人民政府")), "昭通市人民政府");
        assert_eq!(agency_of(&entry(Some("昭通市"), None, "昭通市人民政府办公室")), "昭通市人民政府办公室", "the seed's own body");
        assert_eq!(agency_of(&entry(Some("鲁甸县"), None, "昭通市人民政府")), "鲁甸县人民政府", "another place: its government");
        assert_eq!(agency_of(&entry(Some("昭通市财政局"), None, "昭通市人民政府")), "昭通市财政局");
        assert_eq!(agency_of(&entry(None, Some("昭通市教育体育局"), "昭通市人民政府")), "昭通市教育体育局");
        assert_eq!(agency_of(&entry(None, None, "昭通市人民政府")), "昭通市人民政府");
    }
}
