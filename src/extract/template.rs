//! Section rows → canonical facts, one mapper per section.
//!
//! Each mapper reads header rows to learn which grid column holds which key, then
//! reads data rows through those columns by position. A row whose label matches no
//! key but holds numbers is a warning, never a dropped or shifted row; a value under
//! a header that names no key is a warning too.

use std::borrow::Cow;
use std::cmp::Ordering;

use rustc_hash::FxHashSet;

use super::Fact;
use super::grid::Cell;
use super::keys::{self, Format, FormatVotes};
use super::sections::Row;
use super::values::{is_numeric, parse_cell};

/// Facts and warnings gathered while mapping, and the format votes of section 二.
#[derive(Default)]
pub struct Collector {
    pub facts: Vec<Fact>,
    pub warnings: Vec<String>,
    pub votes: FormatVotes,
    /// The keys of `facts`: scanning them for each new fact was a tenth of extraction.
    keys: FxHashSet<(&'static str, &'static str, &'static str)>,
}

impl Collector {
    /// Records a template cell. A blank cell is a fact too, with `raw` "" and no
    /// value: a reader can then tell a cell printed blank from one never extracted.
    fn fact(&mut self, key: (&'static str, &'static str, &'static str), label: &Cell, cell: &Cell, unit: Option<&str>) {
        let parsed = parse_cell(&cell.text);
        let fact = Fact {
            section: key.0,
            row: key.1,
            column: key.2,
            label: label.text.clone(),
            raw: if parsed.is_some() { cell.text.clone() } else { String::new() },
            value: parsed.as_ref().and_then(|v| v.value),
            unit: parsed.and_then(|v| v.unit.or_else(|| v.value.and(unit.map(str::to_string)))),
            read_by: cell.read_by,
            confidence: cell.confidence,
        };
        if self.keys.insert(key) {
            self.facts.push(fact);
            return;
        }
        // A row printed twice: a blank copy (a Word ghost row) gives way to a printed one.
        let kept = self.facts.iter_mut().find(|f| (f.section, f.row, f.column) == key).expect("a key in the set has its fact");
        if kept.raw.is_empty() {
            *kept = fact;
        } else if !fact.raw.is_empty() {
            self.warnings.push(format!("duplicate row: {}/{}/{} printed twice, first kept", key.0, key.1, key.2));
        }
    }

    /// The format section 二's headers voted for, if they voted.
    pub fn format(&self) -> Option<Format> {
        self.votes.winner()
    }
}

fn has_number(row: &[(usize, &Cell)]) -> bool {
    row.iter().any(|(_, c)| is_numeric(&c.text))
}

fn is_blank(row: &[(usize, &Cell)]) -> bool {
    row.iter().all(|(_, c)| c.key_text.is_empty())
}

/// Section 二: banner rows (第二十条第(X)项), header rows (信息内容 | column labels),
/// data rows (row label | values).
pub fn map_active(rows: &[Row<'_>], out: &mut Collector) {
    let mut columns: Vec<(usize, Option<&'static str>)> = Vec::new();
    for row in rows {
        let cells = row.table.row_cells(row.r);
        if is_blank(&cells) {
            continue;
        }
        let (label_id, label) = (row.table.grid[row.r].iter().flatten().next().copied(), cells[0].1);
        let is_header = label.key_text.contains("信息内容") || cells[1..].iter().any(|(_, c)| keys::active_column(&c.key_text).is_some());
        if is_header {
            columns.clear();
            for &(col, cell) in &cells[1..] {
                let key = keys::active_column(&cell.key_text);
                out.votes.add(key.and_then(|(_, format)| format));
                columns.push((col, key.map(|(k, _)| k)));
            }
            continue;
        }
        if label.key_text.contains("第二十条") {
            continue;
        }
        let Some(row_key) = keys::active_row(&label.key_text) else {
            if has_number(&cells) {
                out.warnings.push(format!("active: row label not recognised: {}", label.text));
            }
            continue;
        };
        for (key, cell) in row.table.cells_under(row.r, columns.iter().copied(), label_id.as_slice()) {
            match key {
                Some(column) => out.fact(("active", row_key, column), label, cell, keys::active_unit(column)),
                None if parse_cell(&cell.text).is_some() => {
                    out.warnings.push(format!("active: value {} of {} under an unrecognised header", cell.text, label.text))
                }
                None => {}
            }
        }
    }
}

/// Section 三: a run of header rows (勾稽 note, 申请人情况, 自然人 / 法人或其他组织 /
/// 总计, the five organisation kinds), then data rows of label cells and seven values.
pub fn map_requests(rows: &[Row<'_>], out: &mut Collector) {
    let mut header: Vec<Row<'_>> = Vec::new();
    let mut columns: Vec<Option<&'static str>> = Vec::new();
    let mut in_header_run = false;
    for row in rows {
        let cells = row.table.row_cells(row.r);
        if is_blank(&cells) {
            continue;
        }
        let names_columns =
            cells.iter().any(|(_, c)| keys::requests_column(&c.key_text).is_some() || c.key_text.contains("申请人情况") || c.key_text.contains("勾稽"));
        if !has_number(&cells) && names_columns {
            if !in_header_run {
                header.clear();
                in_header_run = true;
            }
            header.push(*row);
            columns = requests_columns(&header);
            continue;
        }
        in_header_run = false;
        let columns = aligned_right(&columns, row.table.grid[row.r].len());
        let is_label = |col: usize| columns.get(col).copied().flatten().is_none();
        let labels: Vec<&Cell> = cells.iter().filter(|(col, _)| is_label(*col)).map(|(_, c)| *c).collect();
        let parts: Vec<&str> = labels.iter().map(|c| c.key_text.as_str()).filter(|t| !t.is_empty()).collect();
        let Some(row_key) = keys::requests_row(&parts) else {
            if has_number(&cells) {
                out.warnings.push(format!("requests: row label not recognised: {}", parts.join(" / ")));
            }
            continue;
        };
        if let Some(by_position) = keys::requests_row_by_position(&parts)
            && by_position != row_key
        {
            out.warnings.push(format!("requests: label {} reads as {row_key} but stands where {by_position} belongs", parts.join(" / ")));
        }
        let leaf = labels.iter().rev().find(|c| !c.key_text.is_empty()).copied().unwrap_or(labels[0]);
        let label_ids: Vec<usize> =
            (0..columns.len().max(row.table.grid[row.r].len())).filter(|&c| is_label(c)).filter_map(|c| row.table.at(row.r, c).map(|(id, _)| id)).collect();
        let under = columns.iter().enumerate().filter_map(|(col, key)| key.map(|k| (col, k)));
        for (column, cell) in row.table.cells_under(row.r, under, &label_ids) {
            out.fact(("requests", row_key, column), leaf, cell, Some("件"));
        }
    }
}

/// The header's columns for a row `width` grid columns wide. A table continued in a
/// second one (a page break, a PDF generator drawing it in parts) may give the second
/// more or fewer label columns than the first, whose header named the columns: the
/// applicant columns stand at the right in both, so the map is aligned on the right.
fn aligned_right<'a>(columns: &'a [Option<&'static str>], width: usize) -> Cow<'a, [Option<&'static str>]> {
    match width.cmp(&columns.len()) {
        Ordering::Equal => Cow::Borrowed(columns),
        Ordering::Greater => Cow::Owned(std::iter::repeat_n(None, width - columns.len()).chain(columns.iter().copied()).collect()),
        // Only label columns are dropped, never an applicant's.
        Ordering::Less if columns[..columns.len() - width].iter().all(Option::is_none) => Cow::Borrowed(&columns[columns.len() - width..]),
        Ordering::Less => Cow::Borrowed(columns),
    }
}

/// The applicant column of each grid column: the lowest non-blank header cell names it.
fn requests_columns(header: &[Row<'_>]) -> Vec<Option<&'static str>> {
    let width = header.iter().map(|r| r.table.grid[r.r].len()).max().unwrap_or(0);
    (0..width)
        .map(|col| {
            header.iter().rev().filter_map(|r| r.table.at(r.r, col)).map(|(_, c)| c.key_text.as_str()).find(|t| !t.is_empty()).and_then(keys::requests_column)
        })
        .collect()
}

/// Section 四: header rows (行政复议 | 行政诉讼 / 未经复议直接起诉 | 复议后起诉 / result
/// labels), then a row of fifteen values.
pub fn map_review(rows: &[Row<'_>], out: &mut Collector) {
    let mut header: Vec<Row<'_>> = Vec::new();
    for row in rows {
        let cells = row.table.row_cells(row.r);
        if is_blank(&cells) {
            continue;
        }
        if !has_number(&cells) {
            header.push(*row);
            continue;
        }
        let columns = review_columns(&header, row.table.grid[row.r].len());
        let under = columns.into_iter().enumerate().filter_map(|(col, key)| key.map(|k| (col, k)));
        let read = row.table.cells_under(row.r, under, &[]);
        for &((row_key, column, label), cell) in &read {
            out.fact(("review", row_key, column), label, cell, Some("件"));
        }
        if cells.len() > read.len() {
            out.warnings.push(format!("review: {} cells outside the template's 15 columns", cells.len() - read.len()));
        }
    }
}

/// For each grid column: the review row key (from the group headers), the result
/// column (from the lowest header, or its place in the group when the label is
/// truncated to 结果), and the group's label cell.
fn review_columns<'a>(header: &[Row<'a>], width: usize) -> Vec<Option<(&'static str, &'static str, &'a Cell)>> {
    let mut seen_in_group: Vec<(&'static str, usize)> = Vec::new();
    (0..width)
        .map(|col| {
            let cells: Vec<&'a Cell> = header.iter().filter_map(|r| r.table.at(r.r, col)).map(|(_, c)| c).collect();
            let texts: Vec<&str> = cells.iter().map(|c| c.key_text.as_str()).collect();
            let row_key = keys::review_row(&texts)?;
            let label = cells.iter().rev().find(|c| keys::review_row(&[c.key_text.as_str()]) == Some(row_key))?;
            let n = match seen_in_group.iter_mut().find(|(k, _)| *k == row_key) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen_in_group.push((row_key, 0));
                    0
                }
            };
            let bottom = texts.last().copied().unwrap_or("");
            let column = keys::review_column(bottom).or_else(|| keys::REVIEW_COLUMNS.get(n).copied())?;
            Some((row_key, column, *label))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::extract::extract_html;

    #[test]
    fn a_continued_table_with_more_label_columns_keeps_its_values_under_their_headers() {
        // The first part's rows span the label columns with one cell; the second part
        // draws the three label columns (办理结果 | group | item) of the rows it holds.
        let html = r#"<p>三、收到和处理政府信息公开申请情况</p>
<table><tr><td rowspan="3">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td><td colspan="7">申请人情况</td></tr>
<tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td><td rowspan="2">总计</td></tr>
<tr><td>商业企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td></tr>
<tr><td>一、本年新收政府信息公开申请数量</td><td>5</td><td>1</td><td></td><td>0</td><td>0</td><td>0</td><td>6</td></tr></table>
<table><tr><td rowspan="2">三、本年度办理结果</td><td colspan="2">（一）予以公开</td><td>3</td><td>1</td><td></td><td>0</td><td>0</td><td>0</td><td>4</td></tr>
<tr><td>（三）不予公开</td><td>1.属于国家秘密</td><td>2</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>2</td></tr></table>"#;
        let got = extract_html(html, Some(2024));
        let raw = |key: &str| got.facts.iter().find(|f| f.key() == key).map(|f| f.raw.as_str());
        assert_eq!(raw("requests/new_received/natural_person"), Some("5"));
        assert_eq!(raw("requests/result.disclosed/natural_person"), Some("3"));
        assert_eq!(raw("requests/result.disclosed/research"), Some(""));
        assert_eq!(raw("requests/result.disclosed/total"), Some("4"));
        assert_eq!(raw("requests/result.denied.state_secret/total"), Some("2"));
        assert!(!got.warnings.iter().any(|w| w.contains("not recognised")), "{:?}", got.warnings);
    }
}
