//! Rebuild: the dataset from the state, every report in it from the extractions
//! the crawl kept or (for `nianbao extract`) from the raw archive, and the coverage
//! table. What every crawl ends with, and all that `nianbao extract` does.
//!
//! `rows` makes a report's rows from its extractions; `coverage_rows` the coverage
//! table's from what the crawl knows of each portal.

mod coverage_rows;
mod rows;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use chrono::Utc;
use url::Url;

use crate::backlog::isolated;
use crate::dataset::{self, Partition, ReportWithFacts, Written};
use crate::exit::Exit;
use crate::extract::stored::{self, Stored};
use crate::fetch::{RecordRef, archive::read_response};
use crate::layout::Layout;
use crate::place::Division;
use crate::state::{Extracted, ReportEntry, State, run_id};
use crate::tripwire::Tripwire;
use rows::{assemble, division_of, partition, report_extraction};

/// Rebuilds the dataset from the reports in the state, each from its kept
/// extraction or from the raw archive, as `reuse` says: what every crawl ends with
/// (reusing) and what `nianbao extract` runs (not reusing).
/// The coverage table covers report years from `first_year` (`discover.min_report_year`).
pub fn build_dataset(state: &State, layout: &Layout, tripwire: &Tripwire, run_id: &str, reuse: Reuse, first_year: i32) -> Result<(Written, Vec<String>)> {
    let reports = state.reports()?;
    let found = coverage_rows::found_reports(state, &reports)?;
    // Each report is placed once: its division decides its partition and its columns.
    let mut partitions: BTreeMap<Partition, Vec<(ReportEntry, Option<&Division>)>> = BTreeMap::new();
    for entry in reports {
        let division = division_of(&entry);
        partitions.entry(partition(division, &entry)).or_default().push((entry, division));
    }
    let mut problems = Vec::new();
    let mut lost = Vec::new();
    let written = dataset::write(
        &layout.out,
        run_id,
        partitions,
        |(entry, division)| {
            match isolated(|| report_rows(state, layout, tripwire, reuse, entry, *division)) {
                Ok(Ok((item, stood_in))) => {
                    for record in &stood_in {
                        tracing::warn!(
                            url = entry.url,
                            "raw archive record {} at {} unreadable: the crawl's extraction of it kept, the next crawl fetches it whole",
                            record.file,
                            record.offset
                        );
                    }
                    lost.extend(stood_in);
                    Some(item)
                }
                Ok(Err(e)) => {
                    problems.push(format!("{}: {e:#}; its pages will be fetched whole by the next crawl", entry.url));
                    lost.extend(std::iter::once(&entry.record).chain(entry.attachments.iter().map(|a| &a.record)).cloned());
                    None
                }
                // A reader's bug: fetching the page again would not help.
                Err(why) => {
                    problems.push(format!("{}: {why}", entry.url));
                    None
                }
            }
        },
        || coverage_rows::coverage_records(state, &found, first_year, run_id),
    )?;
    // What the archive cannot give back must not be answered 304 forever.
    state.forget_archived(&lost)?;
    let seeds = state.seed_urls()?;
    dataset::Card { run_id, written: &written, seeds: &seeds }.write(&layout.out)?;
    Ok((written, problems))
}

/// What a dataset build takes from the crawl state besides the report list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reuse {
    /// The extractions the crawl kept, where this nianbao made them: each report
    /// page and attached file is then parsed once per crawl.
    Extractions,
    /// Nothing: every report is extracted again from the raw archive.
    Nothing,
}

/// A report's rows, from what the crawl kept of its page and files where `reuse`
/// allows, else from the raw archive; with the archive records that could not be read
/// and were stood in for by what the crawl kept of them.
fn report_rows(
    state: &State,
    layout: &Layout,
    tripwire: &Tripwire,
    reuse: Reuse,
    entry: &ReportEntry,
    division: Option<&Division>,
) -> Result<(ReportWithFacts, Vec<RecordRef>)> {
    let host = Url::parse(&entry.url).ok().and_then(|u| u.host_str().map(str::to_string));
    let reusing = reuse == Reuse::Extractions;
    let stood_in = std::cell::RefCell::new(Vec::new());
    // Kept first when reusing; else the archive, and what was kept when the archive
    // cannot give the record back (a WARC cut short): a report is never dropped while
    // the state holds its extraction.
    let read = |record: &RecordRef, kept: &dyn Fn() -> Option<Stored>| -> Result<Stored> {
        if let Some(kept) = reusing.then(kept).flatten() {
            return Ok(kept);
        }
        match read_response(&layout.raw(), record) {
            Ok(stored) => Ok(tripwire.read_file(&stored.body, stored.header("content-type"), host.as_deref(), entry.year, stored.date.timestamp())),
            Err(e) => match (!reusing).then(kept).flatten() {
                Some(kept) => {
                    stood_in.borrow_mut().push(record.clone());
                    Ok(kept)
                }
                None => Err(e),
            },
        }
    };
    let page = read(&entry.record, &|| reusable(state.extracted(&entry.report_id, entry.version), &entry.url, "page"))?;
    let read = report_extraction(entry, page, |file| {
        let for_this_year = || {
            let kept = state.attachment_extracted(&entry.report_id, &file.url)?;
            Ok(kept.filter(|(year, _)| *year == entry.year).map(|(_, extracted)| extracted))
        };
        read(&file.record, &|| reusable(for_this_year(), &entry.url, "attached file"))
    })?;
    Ok((assemble(entry, division, read)?, stood_in.into_inner()))
}

/// An extraction the crawl kept, if this extractor made it and it reads back;
/// anything else means extracting it again from the archive.
fn reusable(kept: Result<Option<Extracted>>, url: &str, what: &str) -> Option<Stored> {
    let kept = match kept {
        Ok(kept) => kept?,
        Err(e) => {
            tracing::warn!(url, "cannot read the stored extraction of its {what}, extracting again: {e:#}");
            return None;
        }
    };
    if kept.extractor != stored::EXTRACTOR {
        return None;
    }
    Stored::decode(&kept.data).map_err(|e| tracing::warn!(url, "extracting its {what} again: {e:#}")).ok()
}

/// Runs `nianbao extract`: the dataset again from `out`'s state and raw archive,
/// every report extracted anew (after an upgrade, with the new extractor).
pub fn extract_offline(out: &Path, first_year: i32) -> Result<(Written, Vec<String>)> {
    let layout = Layout::new(out);
    if !layout.has_state() {
        let none = anyhow::anyhow!("{} holds no crawl state: run `nianbao crawl` first", out.display());
        return Err(none.context(Exit::NoInput));
    }
    let state = State::open(&layout.state())?;
    let run_id = format!("extract-{}", run_id(Utc::now()));
    let tripwire = Tripwire::open(&layout.state())?;
    build_dataset(&state, &layout, &tripwire, &run_id, Reuse::Nothing, first_year)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{SourceType, extract_html};
    use crate::fetch::Validators;
    use crate::seeds::Seed;
    use crate::state::{Outcome, PageRecord};

    const PAGE: &str = "http://www.kmgd.gov.cn/2025/gk.html";
    const FILE: &str = "http://www.kmgd.gov.cn/2025/gk.docx";

    fn kept(html: &str, source_type: SourceType) -> Extracted {
        let read = Stored { extraction: extract_html(html, Some(2024)), source_type, encoding: "UTF-8".into(), fetched_at: 1_737_000_000 };
        Extracted { extractor: stored::EXTRACTOR.to_string(), data: read.encode().unwrap() }
    }

    /// A state holding one report whose page has no tables and whose attached file
    /// has, both extracted by the crawl, read for `file_year`; the raw archive
    /// holds neither.
    fn crawled(dir: &Path, file_year: Option<i32>) -> State {
        let state = State::open(&Layout::new(dir).state()).unwrap();
        let seed = Seed { url: "http://www.kmgd.gov.cn/".into(), agency: Some("昆明市官渡区人民政府".into()), division_code: Some("530111".into()) };
        state.add_seed(&seed, "r1").unwrap();
        let record = |url: &str| PageRecord {
            url: url.into(),
            status: 200,
            validators: Validators { etag: Some("\"v1\"".into()), last_modified: None },
            sha256: "00".into(),
            record: RecordRef { file: "gone.warc.gz".into(), offset: 0, length: 10 },
            fetched_at: "2025-03-01T00:00:00+00:00".into(),
        };
        let entry = ReportEntry {
            report_id: "r".into(),
            version: 0,
            is_current: true,
            sha256: "00".into(),
            url: PAGE.into(),
            seed,
            title: "昆明市官渡区2024年政府信息公开工作年度报告".into(),
            agency: Some("昆明市官渡区人民政府".into()),
            department: None,
            column: None,
            year: Some(2024),
            published: None,
            warnings: Vec::new(),
            record: record(PAGE).record,
            attachments: Vec::new(),
        };
        let page = kept("<p>详见附件。</p>", SourceType::Html);
        state.complete_article(PAGE, &record(PAGE), Some((&entry, Some(&page))), Vec::new(), Outcome::Report).unwrap();
        let tables = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/extract/guandu_2024_hanweb_one_table.html")).unwrap();
        state.complete_attachment(FILE, &record(FILE), "r", (file_year, &kept(&tables, SourceType::Docx)), Outcome::Attachment(SourceType::Docx)).unwrap();
        state
    }

    #[test]
    fn a_report_the_crawl_extracted_page_and_file_of_is_built_without_the_raw_archive() {
        let dir = tempfile::tempdir().unwrap();
        let state = crawled(dir.path(), Some(2024));
        let (written, problems) =
            build_dataset(&state, &Layout::new(dir.path()), &Tripwire::open(dir.path()).unwrap(), "r2", Reuse::Extractions, 2024).unwrap();
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(written.reports, 1);
        assert!(written.facts > 50, "the attached file's facts: {}", written.facts);
        assert!(state.earlier(PAGE).unwrap().is_some(), "the page would be asked for with its validators");
        // Extracting anew reads the archive, which lost both records: the kept
        // extractions stand in, and the pages are fetched whole by the next crawl.
        let (written, problems) = build_dataset(&state, &Layout::new(dir.path()), &Tripwire::open(dir.path()).unwrap(), "r3", Reuse::Nothing, 2024).unwrap();
        assert_eq!((written.reports, problems), (1, Vec::<String>::new()));
        assert!(written.facts > 50, "the attached file's facts: {}", written.facts);
        assert!(state.earlier(PAGE).unwrap().is_none(), "no 304 for a page whose record is lost");
        assert!(state.earlier(FILE).unwrap().is_none());
    }

    #[test]
    fn a_file_read_for_another_report_year_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let state = crawled(dir.path(), Some(2023));
        let (written, problems) =
            build_dataset(&state, &Layout::new(dir.path()), &Tripwire::open(dir.path()).unwrap(), "r2", Reuse::Extractions, 2024).unwrap();
        assert_eq!((written.reports, problems.len()), (0, 1), "the archive was asked for the file: {problems:?}");
    }
}
