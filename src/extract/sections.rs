//! Which rows belong to which section of the report.
//!
//! A section is recognised by its tables' own header cells (信息内容 / 第二十条 for
//! 二, 申请人情况 / 勾稽关系 for 三, 行政复议 with 行政诉讼 for 四) as much as by the
//! heading before the table, so the three layouts real sites print all work: one
//! table per section, one table for all sections, a section split over tables.

use super::grid::Table;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Active,
    Requests,
    Review,
}

impl Section {
    pub fn key(self) -> &'static str {
        match self {
            Section::Active => "active",
            Section::Requests => "requests",
            Section::Review => "review",
        }
    }
}

/// A row of a table.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    pub table: &'a Table,
    pub r: usize,
}

/// The section a heading line names; `Some(None)` for a heading that closes the
/// tables (五、存在的主要问题…). Takes compact text.
pub fn heading_section(line: &str) -> Option<Option<Section>> {
    // Headings are short, but some pages run the first paragraph into them.
    let head: String = line.chars().take(30).collect();
    let starts = |p: &str| head.starts_with(p);
    if head.contains("主动公开政府信息情况") || (starts("二、") && head.contains("主动公开")) {
        Some(Some(Section::Active))
    } else if head.contains("收到和处理政府信息公开申请") || (starts("三、") && head.contains("申请")) {
        Some(Some(Section::Requests))
    } else if starts("四、") && head.contains("复议") {
        Some(Some(Section::Review))
    } else if starts("五、") || starts("六、") {
        Some(None)
    } else {
        None
    }
}

/// The section a row's own header cells announce, if it is such a header row.
fn row_marker(compact: &str) -> Option<Section> {
    if compact.contains("第二十条") || compact.starts_with("信息内容") {
        Some(Section::Active)
    } else if compact.contains("申请人情况") || compact.contains("勾稽关系") || (compact.contains("自然人") && compact.contains("总计")) {
        Some(Section::Requests)
    } else if compact.contains("行政复议") && compact.contains("行政诉讼") {
        Some(Section::Review)
    } else {
        None
    }
}

/// Rows of every table, grouped by section in document order.
///
/// A heading alone does not make a table a template table: the table must show the
/// template's header cells (legacy reports print home-made tables under the same
/// headings). A table with no heading before it continues the section before it,
/// as a section split by a page break does.
pub fn split<'a>(tables: &'a [(Option<Option<Section>>, Table)]) -> Vec<(Section, Vec<Row<'a>>)> {
    let mut out: Vec<(Section, Vec<Row<'a>>)> = Vec::new();
    let mut current: Option<Section> = None;
    for (heading, table) in tables {
        let markers: Vec<Option<Section>> = (0..table.grid.len()).map(|r| row_marker(&table.row_key_text(r))).collect();
        if let Some(h) = heading {
            current = *h;
            if markers.iter().all(Option::is_none) {
                current = None;
            }
        }
        for (r, marker) in markers.into_iter().enumerate() {
            if let Some(marked) = marker {
                current = Some(marked);
            }
            let Some(section) = current else { continue };
            match out.last_mut() {
                Some((s, rows)) if *s == section => rows.push(Row { table, r }),
                _ => out.push((section, vec![Row { table, r }])),
            }
        }
    }
    out
}
