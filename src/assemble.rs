//! Assemble: a report page kept in the raw archive → its rows in the dataset.
//!
//! The crawl and `nianbao extract` both go through here, from the same stored bytes,
//! so a dataset rebuilt offline is the dataset the crawl wrote. This is where the
//! stages meet: decode the stored body, extract its tables, and place the report
//! (division, province, admin level) from the seed, the agency and the host.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use url::Url;

use crate::dataset::{Partition, ReportRow, ReportWithFacts};
use crate::decode::normalize::fold_compact;
use crate::digest::sha256_hex;
use crate::extract::stored::Stored;
use crate::extract::{Extraction, SourceType, extract_file};
use crate::fetch::archive::read_response;
use crate::place::{Division, Divisions};
use crate::state::ReportEntry;

/// Builds the dataset rows of one report: from what the crawl extracted, when it
/// kept that (`stored`), else from its response in the raw archive `raw_dir`;
/// `division` is the report's place, from [`division_of`].
pub fn assemble(entry: &ReportEntry, division: Option<&Division>, raw_dir: &Path, stored: Option<Stored>) -> Result<ReportWithFacts> {
    let (extraction, source_type, encoding, fetched_at) = match stored {
        // An article without facts may have them in an attachment: only the archive has those.
        Some(s) if !s.extraction.facts.is_empty() || entry.attachments.is_empty() => {
            let fetched_at = DateTime::from_timestamp(s.fetched_at, 0).context("stored fetch time out of range")?;
            (s.extraction, SourceType::Html, s.encoding, fetched_at)
        }
        _ => from_archive(entry, raw_dir)?,
    };

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
        source_type,
        encoding,
        fetched_at,
        content_sha256: entry.sha256.clone(),
        checks_failed: extraction.checks_failed,
        warnings,
        text: extraction.text,
        partition: partition(division, entry),
    };
    Ok(ReportWithFacts { report, facts: extraction.facts })
}

/// A report's extraction read from the raw archive: the article, else the first of
/// its attachments with facts. Returns it with its source type, encoding and fetch time.
fn from_archive(entry: &ReportEntry, raw_dir: &Path) -> Result<(Extraction, SourceType, String, DateTime<Utc>)> {
    let stored = read_response(raw_dir, &entry.record)?;
    let host = Url::parse(&entry.url).ok().and_then(|u| u.host_str().map(str::to_string));
    let mut source_type = SourceType::sniff(&stored.body);
    let (mut extraction, encoding) = extract_file(source_type, &stored.body, stored.header("content-type"), host.as_deref(), entry.year);
    // An article without tables often attaches them as a PDF, Word or Excel file.
    if extraction.facts.is_empty() {
        for attachment in &entry.attachments {
            let file = read_response(raw_dir, attachment)?;
            let kind = SourceType::sniff(&file.body);
            let (mut from_file, _) = extract_file(kind, &file.body, file.header("content-type"), host.as_deref(), entry.year);
            if from_file.facts.is_empty() {
                extraction.warnings.extend(from_file.warnings.into_iter().map(|w| format!("attachment: {w}")));
                continue;
            }
            from_file.warnings.insert(0, format!("tables read from the attached {} file: {}", kind.as_str(), file.url));
            from_file.text = format!("{}\n{}", extraction.text, from_file.text);
            extraction = from_file;
            source_type = kind;
            break;
        }
    }
    Ok((extraction, source_type, encoding, stored.date))
}

/// The partition a report goes to, known without extracting it.
pub fn partition(division: Option<&Division>, entry: &ReportEntry) -> Partition {
    let province = division.map_or_else(|| "未知".to_string(), |d| d.province_name.clone());
    Partition { province, year: entry.year }
}

/// A body's level: the division's own government (`province`, `prefecture`,
/// `county`), any other body of it (`department`), or `unknown`.
pub fn admin_level(agency: &str, division: Option<&Division>) -> &'static str {
    match division {
        Some(d) if is_government_of(agency, d) => d.level.as_str(),
        Some(_) => "department",
        None => "unknown",
    }
}

/// The division of a body named `agency` on a seed's host (see `place`).
pub fn division_of_body(agency: &str, seed_code: Option<&str>, host: &str) -> Option<&'static Division> {
    place(Divisions::embedded(), agency, seed_code, Some(host))
}

/// The publishing body: from the title, else the department column, else the seed.
pub fn agency_of(entry: &ReportEntry) -> String {
    entry.agency.clone().or_else(|| entry.department.clone()).or_else(|| entry.seed.agency.clone()).unwrap_or_default()
}

/// Where a report belongs: see `place` below.
pub fn division_of(entry: &ReportEntry) -> Option<&'static Division> {
    let host = Url::parse(&entry.url).ok().and_then(|u| u.host_str().map(str::to_string));
    place(Divisions::embedded(), &agency_of(entry), entry.seed.division_code.as_deref(), host.as_deref())
}

/// The division of a report: the agency's own when it lies within the seed's
/// division (a county report on a prefecture portal), else the seed's (departments
/// inherit their portal's), else the agency's, else the host's.
fn place<'a>(divisions: &'a Divisions, agency: &str, seed_code: Option<&str>, host: Option<&str>) -> Option<&'a Division> {
    let seed = seed_code.and_then(|c| divisions.get(c));
    let within = seed.map(|s| s.province_code().to_string()).or_else(|| host.and_then(|h| divisions.match_host(h)).map(|d| d.province_code().to_string()));
    let by_agency = divisions.match_agency(agency, within.as_deref());
    match (seed, by_agency) {
        (Some(s), Some(a)) if a.code.starts_with(code_prefix(&s.code)) => Some(a),
        (Some(s), _) => Some(s),
        (None, Some(a)) => Some(a),
        (None, None) => host.and_then(|h| divisions.match_host(h)),
    }
}

/// 530600 → 5306, 530000 → 53: the part of a code its subdivisions share.
fn code_prefix(code: &str) -> &str {
    let mut prefix = code;
    while prefix.len() > 2 && prefix.ends_with("00") {
        prefix = &prefix[..prefix.len() - 2];
    }
    prefix
}

/// Whether the agency is the division's government itself (昭通市人民政府), not one
/// of its departments (昭通市政务服务管理局).
fn is_government_of(agency: &str, division: &Division) -> bool {
    let a = fold_compact(agency);
    let rest = a.trim_start_matches(division.name.as_str());
    rest.is_empty() || rest == "人民政府" || (a.ends_with("人民政府") && a.contains(division.name.as_str()))
}


/// The stable id of a report: a hash of its canonical URL.
pub fn report_id(canonical_url: &str) -> String {
    sha256_hex(canonical_url.as_bytes())[..20].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departments_inherit_the_portal_and_counties_keep_their_own() {
        let d = Divisions::embedded();
        let code = |agency: &str, seed: Option<&str>, host: Option<&str>| place(d, agency, seed, host).map(|x| x.code.clone());
        assert_eq!(code("高平市人民政府办公室", Some("140581"), None).as_deref(), Some("140581"));
        assert_eq!(code("昭通市政务服务管理局", Some("530600"), None).as_deref(), Some("530600"));
        assert_eq!(code("镇雄县人民政府", Some("530600"), None).as_deref(), Some("530627"));
        assert_eq!(code("云县人民政府", None, Some("www.ynyx.gov.cn")).as_deref(), Some("530922"));
        assert_eq!(code("某某局", None, Some("www.kmgd.gov.cn")).as_deref(), Some("530111"));
        assert_eq!(code("某某局", None, None), None);
    }

    #[test]
    fn government_versus_department() {
        let d = Divisions::embedded();
        let zt = d.get("530600").unwrap();
        assert!(is_government_of("昭通市人民政府", zt));
        assert!(!is_government_of("昭通市政务服务管理局", zt));
        assert!(is_government_of("昆明市官渡区人民政府", d.get("530111").unwrap()));
    }
}
