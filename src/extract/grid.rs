//! HTML `<table>` → a rectangular grid with rowspan/colspan expanded.
//!
//! Positions, not cell indexes, carry meaning in Word-pasted tables (colspans differ
//! between header and value rows), so every later step reads `grid[row][col]` and
//! asks which printed cell covers that slot.

use crate::html::{Kind, NodeId, Page};

use super::ReadBy;
use crate::decode::normalize::{fold, fold_compact};

/// The largest span honoured; beyond it a span is treated as this many. Real
/// templates span at most 22 rows and 15 columns; this bounds hostile input.
const MAX_SPAN: usize = 64;

/// The widest row read, in grid columns; cells past it are left out. Templates are 15
/// columns wide; a row of 20,000 cells made every per-row search quadratic.
const MAX_COLUMNS: usize = 256;

/// One printed cell.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The text as printed, whitespace runs folded to one space.
    pub text: String,
    /// The text folded for matching: full-width to ASCII, no whitespace at all.
    pub key_text: String,
    /// Read by OCR (a table rebuilt from a picture marks its cells `data-ocr`), with
    /// the recognizer's confidence when the cell has text.
    pub read_by: ReadBy,
    pub confidence: Option<f32>,
}

/// A table as a grid of slots, each pointing at the printed cell that covers it.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub cells: Vec<Cell>,
    pub grid: Vec<Vec<Option<usize>>>,
}

impl Table {
    /// Builds the grid of one `<table>` element, reading only its own rows (rows of
    /// nested tables belong to those tables).
    pub fn from_element(page: &Page, table: NodeId) -> Table {
        let mut t = Table::default();
        let rows = own_rows(page, table);
        for (r, &tr) in rows.iter().enumerate() {
            if t.grid.len() <= r {
                t.grid.push(Vec::new());
            }
            let mut c = 0;
            for td in page.children(tr) {
                if !matches!(page.name(td), Some("td" | "th")) {
                    continue;
                }
                while t.grid[r].get(c).is_some_and(Option::is_some) {
                    c += 1;
                }
                if c >= MAX_COLUMNS {
                    break;
                }
                let rowspan = span(page, td, "rowspan");
                let colspan = span(page, td, "colspan").min(MAX_COLUMNS - c);
                let raw = cell_text(page, td);
                let id = t.cells.len();
                let ocr = page.attr(td, "data-ocr");
                let read_by = if ocr.is_some() { ReadBy::Ocr } else { ReadBy::Text };
                let confidence = ocr.and_then(|c| c.parse().ok());
                t.cells.push(Cell { text: fold(&raw), key_text: fold_compact(&raw), read_by, confidence });
                for rr in r..r + rowspan {
                    while t.grid.len() <= rr {
                        t.grid.push(Vec::new());
                    }
                    let row = &mut t.grid[rr];
                    if row.len() < c + colspan {
                        row.resize(c + colspan, None);
                    }
                    for slot in &mut row[c..c + colspan] {
                        slot.get_or_insert(id);
                    }
                }
                c += colspan;
            }
        }
        // Rowspans past the last real row are clipped, as browsers do.
        t.grid.truncate(rows.len());
        t
    }

    /// The printed cells of row `r`, each once, left to right.
    pub fn row_cells(&self, r: usize) -> Vec<(usize, &Cell)> {
        let mut seen = Vec::new();
        for (c, slot) in self.grid[r].iter().enumerate() {
            if let Some(id) = *slot
                && !seen.iter().any(|&(_, s): &(usize, usize)| s == id)
            {
                seen.push((c, id));
            }
        }
        seen.into_iter().map(|(c, id)| (c, &self.cells[id])).collect()
    }

    /// The cell covering `(r, c)`, if any.
    pub fn at(&self, r: usize, c: usize) -> Option<(usize, &Cell)> {
        let id = (*self.grid.get(r)?.get(c)?)?;
        Some((id, &self.cells[id]))
    }

    /// The cells of row `r` under `columns` (grid column, key), each cell once: a cell
    /// spanning several grid columns is read under the first, and the cells `skip`
    /// names (the row's label cells) not at all.
    pub fn cells_under<K>(&self, r: usize, columns: impl IntoIterator<Item = (usize, K)>, skip: &[usize]) -> Vec<(K, &Cell)> {
        let mut used = skip.to_vec();
        let mut out = Vec::new();
        for (col, key) in columns {
            let Some((id, cell)) = self.at(r, col) else { continue };
            if !used.contains(&id) {
                used.push(id);
                out.push((key, cell));
            }
        }
        out
    }

    /// All printed text of a row joined, compact, for marker tests.
    pub fn row_key_text(&self, r: usize) -> String {
        self.row_cells(r).iter().map(|(_, c)| c.key_text.as_str()).collect()
    }
}

/// A cell's text as printed: text nodes joined as they are (a value split over
/// `<span>`s stays one number), `<br>` and paragraph boundaries as line breaks.
fn cell_text(page: &Page, td: NodeId) -> String {
    let mut out = String::new();
    for node in page.descendants(td) {
        match page.kind(node) {
            Kind::Text(t) => out.push_str(t),
            Kind::Element { name, .. } if matches!(name.as_ref(), "br" | "p" | "div" | "li") => out.push('\n'),
            _ => {}
        }
    }
    out
}

fn own_rows(page: &Page, table: NodeId) -> Vec<NodeId> {
    let mut rows = Vec::new();
    for child in page.children(table) {
        match page.name(child) {
            Some("tr") => rows.push(child),
            Some("thead" | "tbody" | "tfoot") => rows.extend(page.children(child).filter(|&e| page.name(e) == Some("tr"))),
            _ => {}
        }
    }
    rows
}

fn span(page: &Page, td: NodeId, name: &str) -> usize {
    page.attr(td, name).and_then(|v| v.trim().trim_matches('"').parse::<usize>().ok()).filter(|&n| n >= 1).unwrap_or(1).min(MAX_SPAN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::Select;

    fn table(html: &str) -> Table {
        let page = Page::parse(html);
        Table::from_element(&page, page.select(Select::Tag("table")).next().unwrap())
    }

    #[test]
    fn expands_rowspan_and_colspan_by_position() {
        let t = table(
            "<table><tr><td rowspan=2 colspan=2>a</td><td>b</td></tr>\
             <tr><td>c</td></tr><tr><td>d</td><td colspan=2>e</td></tr></table>",
        );
        let text = |r, c| t.at(r, c).map(|(_, x)| x.text.clone());
        assert_eq!(text(1, 0).as_deref(), Some("a"));
        assert_eq!(text(1, 2).as_deref(), Some("c"));
        assert_eq!(text(2, 2).as_deref(), Some("e"));
        assert_eq!(t.row_cells(0).len(), 2);
    }

    #[test]
    fn joins_spans_and_folds_nbsp_and_br() {
        let t = table("<table><tr><td><p><span>2</span><span>0</span></p></td><td>结果<br>纠正</td><td>&nbsp;</td></tr></table>");
        let row = t.row_cells(0);
        assert_eq!(row[0].1.text, "20");
        assert_eq!(row[1].1.text, "结果 纠正");
        assert_eq!(row[1].1.key_text, "结果纠正");
        assert_eq!(row[2].1.text, "");
    }

    #[test]
    fn nested_table_rows_are_not_the_outer_tables() {
        let t = table("<table><tr><td><table><tr><td>inner</td></tr></table></td></tr></table>");
        assert_eq!(t.grid.len(), 1);
    }

    #[test]
    fn huge_spans_are_bounded() {
        let t = table("<table><tr><td rowspan=100000 colspan=100000>x</td></tr></table>");
        assert_eq!(t.grid.len(), 1);
        assert_eq!(t.grid[0].len(), MAX_SPAN);
    }

    #[test]
    fn a_row_of_thousands_of_cells_is_read_to_its_first_columns() {
        let row = "<td>9</td>".repeat(20_000);
        let page = Page::parse(&format!("<table><tr><td>规章</td>{row}</tr><tr><td colspan=\"99999\">合计</td></tr></table>"));
        let table = Table::from_element(&page, page.select(Select::Tag("table")).next().unwrap());
        assert_eq!(table.grid[0].len(), MAX_COLUMNS);
        assert_eq!(table.row_cells(0).len(), MAX_COLUMNS);
        assert_eq!(table.grid[1].len(), MAX_SPAN, "a huge colspan is the largest span honoured");
    }
}
