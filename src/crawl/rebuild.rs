//! The dataset from the state: every report in it, each from the extraction the
//! crawl kept or (for `nianbao extract`) from the raw archive, and the coverage table.
//! What every crawl ends with, and all that `nianbao extract` does.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use chrono::Utc;

use super::{coverage_rows, run_id};
use crate::assemble::{assemble, division_of, partition};
use crate::backlog::isolated;
use crate::dataset::{self, Partition, Written};
use crate::exit::Exit;
use crate::extract::stored::{self, Stored};
use crate::layout::Layout;
use crate::place::Division;
use crate::state::{ReportEntry, State};

/// Rebuilds the dataset from the reports in the state, each from its kept
/// extraction or from the raw archive, as `reuse` says: what every crawl ends with
/// (reusing) and what `nianbao extract` runs (not reusing).
/// The coverage table covers report years from `first_year` (`discover.min_report_year`).
pub fn build_dataset(state: &State, layout: &Layout, run_id: &str, reuse: Reuse, first_year: i32) -> Result<(Written, Vec<String>)> {
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
    let written = dataset::write(&layout.out, run_id, partitions, |(entry, division)| {
        let stored = match reuse {
            Reuse::Extractions => stored_extraction(state, entry),
            Reuse::Nothing => None,
        };
        match isolated(|| assemble(entry, *division, &layout.raw(), stored)) {
            Ok(Ok(item)) => Some(item),
            Ok(Err(e)) => {
                problems.push(format!("{}: {e:#}; its pages will be fetched whole by the next crawl", entry.url));
                lost.extend(std::iter::once(&entry.record).chain(&entry.attachments).cloned());
                None
            }
            // A reader's bug: fetching the page again would not help.
            Err(why) => {
                problems.push(format!("{}: {why}", entry.url));
                None
            }
        }
    }, || coverage_rows::coverage_records(state, &found, first_year))?;
    // What the archive cannot give back must not be answered 304 forever.
    state.forget_archived(&lost)?;
    Ok((written, problems))
}

/// What a dataset build takes from the crawl state besides the report list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reuse {
    /// The extractions the crawl kept, where this nianbao made them: each report
    /// page is then parsed once per crawl.
    Extractions,
    /// Nothing: every report is extracted again from the raw archive.
    Nothing,
}

/// The extraction the crawl kept for a report, if this extractor made it and it
/// reads back; anything else means extracting it again from the archive.
fn stored_extraction(state: &State, entry: &ReportEntry) -> Option<Stored> {
    let kept = match state.extracted(&entry.report_id, entry.version) {
        Ok(kept) => kept?,
        Err(e) => {
            tracing::warn!(url = %entry.url, "cannot read the stored extraction, extracting again: {e:#}");
            return None;
        }
    };
    if kept.extractor != stored::EXTRACTOR {
        return None;
    }
    Stored::decode(&kept.data).map_err(|e| tracing::warn!(url = %entry.url, "extracting again: {e:#}")).ok()
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
    build_dataset(&state, &layout, &run_id, Reuse::Nothing, first_year)
}

