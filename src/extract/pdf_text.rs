//! PDF reports whose tables draw no cell borders: the tables rebuilt, best effort, from
//! the text laid out by glyph position (`pdf_glyphs`, or `pdftotext -layout`'s, which
//! it resembles).
//!
//! Layout text keeps each table row on one line, its numbers last and in the
//! template's column order, so a row is its trailing numbers plus a label. The label is
//! the text before the numbers on that line, or, when the PDF wrapped it, the lines
//! since the previous row; it is matched to a key by the same words and numbering as an
//! HTML label (`keys`). Only rows whose number count fits their section are read: a
//! row that does not fit is a warning, and nothing is guessed across lines of numbers.

use super::keys::{self, Format, FormatVotes};
use super::sections::{Section, heading_section};
use super::{Extraction, Fact, checks};
use crate::decode::normalize::{fold, fold_compact};

const NUMERALS: [char; 7] = ['一', '二', '三', '四', '五', '六', '七'];
/// The group labels of section 三, for rows whose own label is only `3、其他`.
const GROUPS: [&str; 7] = ["(一)予以公开", "(二)部分公开", "(三)不予公开", "(四)无法提供", "(五)不予处理", "(六)其他处理", "(七)总计"];

/// Extracts the facts of a report from its PDF's layout text.
pub fn extract_pdf_text(text: &str, year: Option<i32>) -> Extraction {
    let mut reader = TextReader {
        facts: Vec::new(),
        warnings: vec!["tables rebuilt from PDF text: best effort, check against the PDF".to_string()],
        section: None,
        pending: Vec::new(),
        active_columns: Vec::new(),
        group: None,
        votes: FormatVotes::default(),
    };
    for line in text.lines() {
        reader.line(line);
    }
    let TextReader { mut facts, warnings, votes, .. } = reader;
    let format = votes.winner().unwrap_or_else(|| super::format_from_text(text, year));
    let mut seen = std::collections::HashSet::new();
    facts.retain(|f: &Fact| seen.insert((f.section, f.row, f.column)));
    let checks_failed = checks::failed(&facts);
    Extraction { format, facts, checks_failed, warnings, text: text.to_string() }
}

/// What reading the laid-out text line by line carries from one line to the next.
struct TextReader {
    facts: Vec<Fact>,
    warnings: Vec<String>,
    section: Option<Section>,
    /// Label lines of a requests row whose numbers are on a later line.
    pending: Vec<String>,
    /// Section 二's columns, from its header line.
    active_columns: Vec<&'static str>,
    /// The numbered group (三(三), (四) …) the requests rows are in.
    group: Option<usize>,
    /// Header cells seen of the 2021 and the 2019 template.
    votes: FormatVotes,
}

impl TextReader {
    fn line(&mut self, line: &str) {
        let compact = fold_compact(line);
        if compact.is_empty() || is_page_number(&compact) {
            return;
        }
        if let Some(h) = heading_section(&compact) {
            self.section = h;
            self.pending.clear();
            return;
        }
        let Some(current) = self.section else { return };
        let (label, numbers) = split_numbers(line);
        let label_compact = fold_compact(&label);
        if let Some(g) = group_of(&label_compact) {
            self.group = Some(g);
        }
        match current {
            Section::Active => self.active(&compact, &label, &label_compact, &numbers),
            Section::Requests => self.requests(&label, label_compact, &numbers),
            Section::Review => self.review(&numbers),
        }
    }

    /// A line of section 二: its header (which names the template) or a row.
    fn active(&mut self, compact: &str, label: &str, label_compact: &str, numbers: &[String]) {
        let columns = column_keys(compact);
        if !columns.is_empty() && numbers.is_empty() {
            for &(_, format) in &columns {
                self.votes.add(format);
            }
            self.active_columns = columns.into_iter().map(|(k, _)| k).collect();
            return;
        }
        let Some(row) = keys::active_row(label_compact) else { return };
        if numbers.len() != self.active_columns.len() {
            let why = format!("active: {} numbers for {} columns in row {}", numbers.len(), self.active_columns.len(), fold(label));
            self.warnings.push(why);
            return;
        }
        for (column, raw) in self.active_columns.iter().zip(numbers) {
            self.facts.push(fact("active", row, column, label, raw, keys::active_unit(column)));
        }
    }

    /// A line of section 三: a label waiting for its numbers, or a row of seven.
    fn requests(&mut self, label: &str, label_compact: String, numbers: &[String]) {
        if numbers.len() < 7 {
            if !label_compact.is_empty() {
                self.pending.push(label_compact);
            }
            return;
        }
        let numbers = &numbers[numbers.len() - 7..];
        let Some(row) = request_row(&label_compact, &self.pending, self.group) else {
            self.warnings.push(format!("requests: row label not recognised: {}", self.pending.join("") + &label_compact));
            self.pending.clear();
            return;
        };
        let printed = if label_compact.is_empty() { self.pending.last().cloned().unwrap_or_default() } else { fold(label) };
        for (column, raw) in keys::REQUEST_COLUMNS.iter().zip(numbers) {
            self.facts.push(fact("requests", row, column, &printed, raw, Some("件")));
        }
        self.pending.clear();
    }

    /// Section 四: its fifteen numbers in one line.
    fn review(&mut self, numbers: &[String]) {
        if numbers.len() == 15 {
            for (i, raw) in numbers.iter().enumerate() {
                let row = keys::REVIEW_ROWS[i / 5];
                self.facts.push(fact("review", row, keys::REVIEW_COLUMNS[i % 5], row, raw, Some("件")));
            }
        } else if !numbers.is_empty() {
            self.warnings.push(format!("review: {} numbers where the template has 15", numbers.len()));
        }
    }
}

/// A section 三 row's key: from its own label, else with the wrapped label lines
/// before it, else from its numbering under the last group label seen.
fn request_row(own: &str, pending: &[String], group: Option<usize>) -> Option<&'static str> {
    let group_label = group.map(|g| GROUPS[g - 1]);
    let with_group = |leaf: &str| -> Option<&'static str> {
        let parts: Vec<&str> = group_label.into_iter().chain([leaf]).collect();
        keys::requests_row(&parts)
    };
    if !own.is_empty()
        && let Some(key) = keys::requests_row(&[own]).or_else(|| with_group(own))
    {
        return Some(key);
    }
    let joined: String = pending.iter().rev().take(3).rev().cloned().collect::<String>() + own;
    keys::requests_row(&[joined.as_str()]).or_else(|| with_group(&joined))
}

/// `(六)` anywhere at the start of a label → 6 (full-width brackets are folded).
fn group_of(label: &str) -> Option<usize> {
    let at = label.find('(')?;
    let rest = &label[at + 1..];
    let n = NUMERALS.iter().position(|&c| rest.starts_with(c))?;
    rest[NUMERALS[n].len_utf8()..].starts_with(')').then_some(n + 1)
}

/// The section 二 columns a header line names, in the order printed.
fn column_keys(compact: &str) -> Vec<(&'static str, Option<Format>)> {
    const WORDS: [&str; 14] = [
        "本年制发",
        "本年废止",
        "现行有效",
        "收费金额",
        "本年新制作",
        "本年新公开",
        "对外公开总数",
        "上一年项目",
        "增/减",
        "增减",
        "采购项目数",
        "采购总金额",
        "采购金额",
        "处理决定数",
    ];
    let mut found: Vec<(usize, (&'static str, Option<Format>))> = WORDS.iter().filter_map(|w| Some((compact.find(w)?, keys::active_column(w)?))).collect();
    found.sort_by_key(|(at, _)| *at);
    found.dedup_by(|a, b| a.1.0 == b.1.0);
    found.into_iter().map(|(_, key)| key).collect()
}

/// Splits a layout line into its label and its trailing numbers.
fn split_numbers(line: &str) -> (String, Vec<String>) {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let numeric = |t: &str| {
        let t = fold(t);
        let body = t.strip_prefix('-').unwrap_or(&t);
        !body.is_empty() && body.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',') && body.starts_with(|c: char| c.is_ascii_digit())
    };
    let n = tokens.iter().rev().take_while(|t| numeric(t)).count();
    let label = tokens[..tokens.len() - n].join(" ");
    (label, tokens[tokens.len() - n..].iter().map(|t| fold(t)).collect())
}

fn is_page_number(compact: &str) -> bool {
    let inner = compact.trim_matches(|c| c == '-' || c == '—');
    inner.len() < compact.len() && !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit())
}

fn fact(section: &'static str, row: &'static str, column: &'static str, label: &str, raw: &str, unit: Option<&str>) -> Fact {
    let value = super::parse_cell(raw).and_then(|v| v.value);
    Fact {
        section,
        row,
        column,
        label: fold(label),
        raw: raw.to_string(),
        value,
        unit: value.and(unit.map(str::to_string)),
        read_by: super::ReadBy::Text,
        confidence: None,
    }
}
