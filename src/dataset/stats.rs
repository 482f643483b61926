//! `nianbao stats`: what the dataset holds, read back from the Parquet files.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::state::{HostRecord, RunRecord};

#[derive(Debug, Default, Serialize)]
pub struct Stats {
    /// Reports, each counted once (its current version).
    pub reports: u64,
    /// Earlier versions of reports that changed after publication.
    pub superseded_versions: u64,
    pub facts: u64,
    /// Province → year → reports.
    pub reports_by_province: BTreeMap<String, BTreeMap<String, u64>>,
    pub facts_by_section: BTreeMap<String, u64>,
    /// Identity name → reports failing it.
    pub checks_failed: BTreeMap<String, u64>,
    /// Warning kind (the text before its first colon) → reports with it.
    pub warnings: BTreeMap<String, u64>,
    /// Hosts the last crawl could not cover, with why.
    pub hosts: Vec<HostRecord>,
    /// The last crawl run, and whether it finished.
    pub last_run: Option<RunRecord>,
    /// Province → year → bodies whose report was found, late, missing or unknown
    /// (the coverage table in short).
    pub coverage: BTreeMap<String, BTreeMap<String, CoverageCounts>>,
}

/// Bodies of one province and year, by what the coverage table says of their report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CoverageCounts {
    /// Found, published by the deadline or with no date to tell.
    pub found: u64,
    /// Found, published after the deadline.
    pub late: u64,
    /// Not published, as far as a whole walk of the body's columns shows (not_listed,
    /// no_column).
    pub missing: u64,
    /// The crawl cannot tell (unreachable, blocked, robots, budget, not crawled).
    pub unknown: u64,
}

/// Reads every part file of the tables under `out`.
pub fn collect(out: &Path) -> Result<Stats> {
    let crawled = ["reports", "state"].iter().any(|d| out.join(d).is_dir());
    if !crawled {
        let none = anyhow::anyhow!("{} holds no crawl (no reports/ or state/ in it): run `nianbao crawl --out {}` first", out.display(), out.display());
        return Err(none.context(crate::exit::Exit::NoInput));
    }
    let mut stats = Stats::default();
    for (path, province, year) in part_files(&out.join("reports"))? {
        for batch in read(&path)? {
            let current = batch.column_by_name("is_current").context("reports without is_current")?.as_boolean();
            let n = current.true_count() as u64;
            stats.reports += n;
            stats.superseded_versions += batch.num_rows() as u64 - n;
            if n > 0 {
                *stats.reports_by_province.entry(province.clone()).or_default().entry(year.clone()).or_default() += n;
            }
            count_lists(&batch, "checks_failed", current, &mut stats.checks_failed);
            count_lists(&batch, "warnings", current, &mut stats.warnings);
        }
    }
    for (path, province, year) in part_files(&out.join("coverage"))? {
        for batch in read(&path)? {
            let status = batch.column_by_name("status").context("coverage without status")?.as_string::<i32>();
            let late = batch.column_by_name("days_late").context("coverage without days_late")?.as_primitive::<Int64Type>();
            let counts = stats.coverage.entry(province.clone()).or_default().entry(year.clone()).or_default();
            for (status, late) in status.iter().zip(late.iter()) {
                match (status.unwrap_or_default(), late) {
                    ("found", Some(days)) if days > 0 => counts.late += 1,
                    ("found", _) => counts.found += 1,
                    ("not_listed" | "no_column", _) => counts.missing += 1,
                    _ => counts.unknown += 1,
                }
            }
        }
    }
    for (path, ..) in part_files(&out.join("facts"))? {
        for batch in read(&path)? {
            let current = batch.column_by_name("is_current").context("facts without is_current")?.as_boolean();
            let sections = batch.column_by_name("section").context("facts without a section column")?.as_string::<i32>();
            for (s, is_current) in sections.iter().zip(current.iter()) {
                if let (Some(s), Some(true)) = (s, is_current) {
                    stats.facts += 1;
                    *stats.facts_by_section.entry(s.to_string()).or_default() += 1;
                }
            }
        }
    }
    Ok(stats)
}

impl Stats {
    /// A plain table for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if let Some(run) = self.last_run.as_ref().filter(|r| r.finished_at.is_none()) {
            out.push_str(&format!(
                "note: the last run ({}) did not finish: the dataset is from the last build before it, or what it wrote when \
                 interrupted. `nianbao crawl` with the same seeds resumes it.\n\n",
                run.run_id
            ));
        }
        out.push_str(&format!(
            "{} reports ({} earlier versions kept), {} facts of current versions\n\nreports by province and year:\n",
            self.reports, self.superseded_versions, self.facts
        ));
        out.push_str(&grid(self.reports_by_province.iter().map(|(p, years)| (p.clone(), years.clone()))));
        if !self.coverage.is_empty() {
            out.push_str("\nbodies by province and year: found (by the deadline), late, missing, unknown (coverage/):\n");
            out.push_str(&grid(self.coverage.iter().flat_map(|(province, years)| {
                let kind =
                    |name: &str, get: fn(&CoverageCounts) -> u64| (format!("{province} {name}"), years.iter().map(|(y, c)| (y.clone(), get(c))).collect());
                [kind("found", |c| c.found), kind("late", |c| c.late), kind("missing", |c| c.missing), kind("unknown", |c| c.unknown)]
            })));
        }
        for (title, map) in
            [("facts by section", &self.facts_by_section), ("identity failures (reports)", &self.checks_failed), ("warnings by kind (reports)", &self.warnings)]
        {
            out.push_str(&format!("\n{title}:\n"));
            if map.is_empty() {
                out.push_str("  none\n");
            }
            for (name, n) in map {
                out.push_str(&format!("  {} {n:>8}\n", pad(name, 48)));
            }
        }
        out.push_str("\nhosts not fully crawled in the last run:\n");
        if self.hosts.is_empty() {
            out.push_str("  none\n");
        }
        for h in &self.hosts {
            out.push_str(&format!("  {} {:<12} {}\n", pad(&h.host, 32), h.status.as_str(), h.reason));
        }
        out
    }
}

/// Labelled rows down (in the order given), years across, each cell a count ("." for
/// none), aligned by the width a terminal gives each character (a Chinese one takes two).
fn grid(rows: impl Iterator<Item = (String, BTreeMap<String, u64>)>) -> String {
    let rows: Vec<(String, BTreeMap<String, u64>)> = rows.collect();
    if rows.is_empty() {
        return "  none\n".to_string();
    }
    let years: std::collections::BTreeSet<&String> = rows.iter().flat_map(|(_, y)| y.keys()).collect();
    let name_width = rows.iter().map(|(p, _)| p.width()).max().unwrap_or(0).max(8);
    let mut out = format!("  {}", pad("", name_width));
    for year in &years {
        out.push_str(&format!(" {year:>5}"));
    }
    out.push_str("  total\n");
    for (label, by_year) in &rows {
        out.push_str(&format!("  {}", pad(label, name_width)));
        for year in &years {
            match by_year.get(*year).filter(|n| **n > 0) {
                Some(n) => out.push_str(&format!(" {n:>5}")),
                None => out.push_str(&format!(" {:>5}", ".")),
            }
        }
        out.push_str(&format!(" {:>6}\n", by_year.values().sum::<u64>()));
    }
    out
}

/// `text` padded with spaces to `width` terminal columns.
fn pad(text: &str, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(text.width())))
}

fn read(path: &Path) -> Result<Vec<RecordBatch>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).with_context(|| format!("{} is not a readable Parquet file", path.display()))?.build()?;
    Ok(reader.collect::<Result<Vec<_>, _>>()?)
}

/// Counts each distinct name (text before ':') once per current row.
fn count_lists(batch: &RecordBatch, column: &str, current: &arrow_array::BooleanArray, into: &mut BTreeMap<String, u64>) {
    let Some(lists) = batch.column_by_name(column) else { return };
    let lists = lists.as_list::<i32>();
    for i in (0..lists.len()).filter(|&i| current.value(i)) {
        let row = lists.value(i);
        let mut names: Vec<String> = row.as_string::<i32>().iter().flatten().map(|s| s.split(':').next().unwrap_or(s).to_string()).collect();
        names.sort();
        names.dedup();
        for name in names {
            *into.entry(name).or_default() += 1;
        }
    }
}

/// `(path, province, year)` of every `part-*.parquet` under a table directory.
pub fn part_files(table: &Path) -> Result<Vec<(std::path::PathBuf, String, String)>> {
    let mut out = Vec::new();
    let Ok(provinces) = std::fs::read_dir(table) else { return Ok(out) };
    for province in provinces.flatten() {
        let p = province.file_name().to_string_lossy().trim_start_matches("province=").to_string();
        for year in std::fs::read_dir(province.path())?.flatten() {
            let y = year.file_name().to_string_lossy().trim_start_matches("year=").to_string();
            for file in std::fs::read_dir(year.path())?.flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                if name.starts_with("part-") && name.ends_with(".parquet") {
                    out.push((file.path(), p.clone(), y.clone()));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_lines_up_chinese_names_by_display_width() {
        let counts = BTreeMap::from([
            ("云南省".to_string(), BTreeMap::from([("2023".to_string(), 2), ("2024".to_string(), 12)])),
            ("内蒙古自治区".to_string(), BTreeMap::from([("2024".to_string(), 1)])),
        ]);
        let text = grid(counts.into_iter());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("{}{}", " ".repeat(14), "  2023  2024  total"));
        assert_eq!(lines[1], format!("  云南省{}{}", " ".repeat(6), "     2    12     14"));
        assert_eq!(lines[2], "  内蒙古自治区     .     1      1");
        assert!(lines.iter().all(|l| l.width() == lines[0].width()));
    }
}
