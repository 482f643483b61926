//! PDF tables rebuilt from their ruling lines, as HTML for the one table extractor.
//!
//! Word, WPS and report generators draw every cell border of the template tables.
//! The borders of one table meet one another, so connected rules make a table; the
//! distinct x of its vertical rules and y of its horizontal rules cut it into
//! elementary cells, and where the border between two neighbours is not drawn, they
//! are one merged cell (a rowspan or colspan). Each glyph goes to the cell its centre
//! falls in. The page becomes HTML: text lines outside tables as paragraphs and each
//! table as a `<table>` with its spans, in reading order, so that a PDF is read by the
//! same code, keys, checks and warnings as an HTML, Word or Excel report, blank cells
//! included.

use std::fmt::Write;

use super::html_table::escape;
use super::pdf_glyphs::{Glyph, PdfPage, Rule, lines};

/// Positions closer than this (in points) are one.
const SNAP: f64 = 2.0;

/// Rules on one page, at the most, for finding its tables (which compares every pair):
/// a template table has a few hundred; a page with more is drawn art, not a table.
const MAX_RULES: usize = 4000;

/// One table: its column and row boundaries and its merged cells.
struct Table {
    /// Column boundaries, left to right.
    xs: Vec<f64>,
    /// Row boundaries, top down (PDF y grows upwards).
    ys: Vec<f64>,
    /// Each merged cell: first row, first column, rows, columns.
    cells: Vec<(usize, usize, usize, usize)>,
}

impl Table {
    fn top(&self) -> f64 {
        self.ys[0]
    }

    fn contains(&self, x: f64, y: f64) -> bool {
        x > self.xs[0] && x < self.xs[self.xs.len() - 1] && y < self.ys[0] && y > self.ys[self.ys.len() - 1]
    }

    /// The merged cell holding the point, by index into `cells`.
    fn cell_at(&self, x: f64, y: f64) -> Option<usize> {
        let col = self.xs.windows(2).position(|w| x > w[0] && x <= w[1])?;
        let row = self.ys.windows(2).position(|w| y < w[0] && y >= w[1])?;
        self.cells.iter().position(|&(r, c, rs, cs)| (r..r + rs).contains(&row) && (c..c + cs).contains(&col))
    }
}

/// The pages as HTML with their ruled tables; None when no page has one.
pub(super) fn to_html(pages: &[PdfPage]) -> Option<String> {
    let tables: Vec<Vec<Table>> = pages.iter().map(|page| tables(&page.rules)).collect();
    if tables.iter().all(Vec::is_empty) {
        return None;
    }
    let mut html = String::from("<html><body>\n");
    for (page, tables) in pages.iter().zip(&tables) {
        page_html(page, tables, &mut html);
    }
    html.push_str("</body></html>\n");
    Some(html)
}

/// Every merged cell the rules draw, as (left, right, bottom, top) in PDF space.
pub(super) fn ruled_cells(rules: &[Rule]) -> Vec<(f64, f64, f64, f64)> {
    let mut out = Vec::new();
    for table in tables(rules) {
        for &(r, c, rs, cs) in &table.cells {
            out.push((table.xs[c], table.xs[c + cs], table.ys[r + rs], table.ys[r]));
        }
    }
    out
}

/// Groups the rules into tables: rules that touch belong to one.
fn tables(rules: &[Rule]) -> Vec<Table> {
    if rules.len() > MAX_RULES {
        return Vec::new();
    }
    let mut group: Vec<usize> = (0..rules.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            group[i] = group[group[i]];
            i = group[i];
        }
        i
    }
    for (i, a) in rules.iter().enumerate() {
        for (j, b) in rules.iter().enumerate().skip(i + 1) {
            if touch(a, b) {
                let (ra, rb) = (root(&mut group, i), root(&mut group, j));
                group[ra] = rb;
            }
        }
    }
    let mut members: Vec<Vec<Rule>> = Vec::new();
    let mut index: Vec<Option<usize>> = vec![None; rules.len()];
    for (i, &rule) in rules.iter().enumerate() {
        let r = root(&mut group, i);
        let at = *index[r].get_or_insert_with(|| {
            members.push(Vec::new());
            members.len() - 1
        });
        members[at].push(rule);
    }
    members.iter().filter_map(|rules| table(rules)).collect()
}

/// Whether two rules meet (cross, or one ends on the other), within [`SNAP`].
fn touch(a: &Rule, b: &Rule) -> bool {
    let along = |r: &Rule, v: f64| v >= r.from - SNAP && v <= r.to + SNAP;
    if a.horizontal == b.horizontal {
        (a.at - b.at).abs() <= SNAP && along(a, b.from) | along(a, b.to) | along(b, a.from)
    } else {
        along(a, b.at) && along(b, a.at)
    }
}

/// A table from its rules: at least two rows and two columns of cells, or none.
fn table(rules: &[Rule]) -> Option<Table> {
    // Boundaries: where the rules of one direction stand, and where those of the other
    // end. A table cut by a page break has its last row's sides drawn but not its
    // bottom: the sides' ends close it.
    let positions = |horizontal: bool| {
        let mut at: Vec<f64> = rules.iter().filter(|r| r.horizontal == horizontal).map(|r| r.at).collect();
        let across = rules.iter().filter(|r| r.horizontal != horizontal);
        at.extend(across.clone().map(|r| r.from).reduce(f64::min));
        at.extend(across.map(|r| r.to).reduce(f64::max));
        at.sort_by(f64::total_cmp);
        at.dedup_by(|b, a| (*b - *a).abs() <= SNAP);
        at
    };
    let xs = positions(false);
    let mut ys = positions(true);
    ys.reverse();
    if xs.len() < 3 || ys.len() < 3 {
        return None;
    }
    let cells = cells(rules, &xs, &ys);
    Some(Table { xs, ys, cells })
}

/// The merged cells of a grid: each elementary cell spreads right while no vertical
/// border is drawn, then down while no horizontal one is, over its whole width.
fn cells(rules: &[Rule], xs: &[f64], ys: &[f64]) -> Vec<(usize, usize, usize, usize)> {
    // Is the border at boundary `at` drawn between `from` and `to`?
    let drawn = |horizontal: bool, at: f64, from: f64, to: f64| {
        let mid = (from + to) / 2.0;
        rules.iter().any(|r| r.horizontal == horizontal && (r.at - at).abs() <= SNAP && r.from <= mid && r.to >= mid)
    };
    let (rows, cols) = (ys.len() - 1, xs.len() - 1);
    let mut taken = vec![vec![false; cols]; rows];
    let mut cells = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            if taken[r][c] {
                continue;
            }
            let mut cs = 1;
            while c + cs < cols && !drawn(false, xs[c + cs], ys[r + 1], ys[r]) {
                cs += 1;
            }
            let mut rs = 1;
            while r + rs < rows && (c..c + cs).all(|k| !drawn(true, ys[r + rs], xs[k], xs[k + 1])) {
                rs += 1;
            }
            for row in taken.iter_mut().skip(r).take(rs) {
                for t in row.iter_mut().skip(c).take(cs) {
                    *t = true;
                }
            }
            cells.push((r, c, rs, cs));
        }
    }
    cells
}

/// One page: its lines outside tables and its tables, top down.
fn page_html(page: &PdfPage, tables: &[Table], html: &mut String) {
    let centre = |g: &Glyph| (g.x + g.width / 2.0, g.y + g.size * 0.3);
    let mut in_cells: Vec<Vec<Vec<&Glyph>>> = tables.iter().map(|t| vec![Vec::new(); t.cells.len()]).collect();
    let mut outside: Vec<&Glyph> = Vec::new();
    for glyph in &page.glyphs {
        let (x, y) = centre(glyph);
        let placed = tables.iter().enumerate().find_map(|(i, t)| t.contains(x, y).then(|| t.cell_at(x, y).map(|c| (i, c))).flatten());
        match placed {
            Some((t, c)) => in_cells[t][c].push(glyph),
            None => outside.push(glyph),
        }
    }
    let mut blocks: Vec<(f64, String)> = lines(&outside).into_iter().map(|(y, text)| (y, format!("<p>{}</p>\n", escape(text.trim())))).collect();
    for (table, cells) in tables.iter().zip(&in_cells) {
        blocks.push((table.top(), table_html(table, cells)));
    }
    blocks.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, block) in blocks {
        html.push_str(&block);
    }
}

/// A table as HTML. A table read by OCR says so of every cell (`data-ocr`), with the
/// recognizer's least confidence among the cell's text lines (empty for a blank cell).
fn table_html(table: &Table, glyphs: &[Vec<&Glyph>]) -> String {
    let mut html = String::from("<table>\n");
    let rows = table.ys.len() - 1;
    let by_ocr = glyphs.iter().flatten().any(|g| g.confidence.is_some());
    for r in 0..rows {
        html.push_str("<tr>");
        for (i, &(row, _, rs, cs)) in table.cells.iter().enumerate() {
            if row != r {
                continue;
            }
            let text = cell_text(&glyphs[i]);
            let _ = write!(html, "<td rowspan=\"{rs}\" colspan=\"{cs}\"");
            if by_ocr {
                let least = glyphs[i].iter().filter_map(|g| g.confidence).reduce(f32::min);
                let _ = write!(html, " data-ocr=\"{}\"", least.map(|c| format!("{c:.3}")).unwrap_or_default());
            }
            let _ = write!(html, ">{}</td>", escape(&text));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    html
}

/// A cell's glyphs as its text: lines top down, joined without a break (a label
/// wrapped in its cell, or a vertical label one character per line, reads as one).
fn cell_text(glyphs: &[&Glyph]) -> String {
    lines(glyphs).into_iter().map(|(_, line)| line.trim().to_string()).collect::<Vec<_>>().join("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(y: f64, from: f64, to: f64) -> Rule {
        Rule { horizontal: true, at: y, from, to }
    }
    fn v(x: f64, from: f64, to: f64) -> Rule {
        Rule { horizontal: false, at: x, from, to }
    }
    fn glyph(x: f64, y: f64, text: &str) -> Glyph {
        Glyph { x, y, width: 10.0, size: 10.0, text: text.to_string(), confidence: None }
    }

    #[test]
    fn ruled_cells_become_a_table_with_its_spans_and_blank_cells() {
        // Three columns, three rows; the top row is one cell across (no inner vertical
        // border there), and the bottom-right cell is printed blank.
        let rules = vec![
            h(300.0, 0.0, 300.0),
            h(280.0, 0.0, 300.0),
            h(260.0, 0.0, 300.0),
            h(240.0, 0.0, 300.0),
            v(0.0, 240.0, 300.0),
            v(100.0, 240.0, 280.0),
            v(200.0, 240.0, 280.0),
            v(300.0, 240.0, 300.0),
        ];
        let glyphs = vec![
            glyph(120.0, 285.0, "标"),
            glyph(10.0, 265.0, "规"),
            glyph(20.0, 265.0, "章"),
            glyph(110.0, 265.0, "1"),
            glyph(210.0, 265.0, "2"),
            glyph(10.0, 245.0, "合"),
            glyph(110.0, 245.0, "3"),
            glyph(0.0, 400.0, "二"),
        ];
        let html = to_html(&[PdfPage { glyphs, rules, pictures: Vec::new() }]).unwrap();
        assert_eq!(
            html,
            "<html><body>\n<p>二</p>\n<table>\n\
             <tr><td rowspan=\"1\" colspan=\"3\">标</td></tr>\n\
             <tr><td rowspan=\"1\" colspan=\"1\">规章</td><td rowspan=\"1\" colspan=\"1\">1</td><td rowspan=\"1\" colspan=\"1\">2</td></tr>\n\
             <tr><td rowspan=\"1\" colspan=\"1\">合</td><td rowspan=\"1\" colspan=\"1\">3</td><td rowspan=\"1\" colspan=\"1\"></td></tr>\n\
             </table>\n</body></html>\n"
        );
    }

    #[test]
    fn a_label_spanning_rows_and_lines_that_touch_nothing() {
        // The left cell spans both rows (no horizontal border across it at y 270).
        let rules =
            vec![h(300.0, 0.0, 200.0), h(270.0, 100.0, 200.0), h(240.0, 0.0, 200.0), v(0.0, 240.0, 300.0), v(100.0, 240.0, 300.0), v(200.0, 240.0, 300.0)];
        let table = table(&rules).unwrap();
        assert_eq!(table.cells, vec![(0, 0, 2, 1), (0, 1, 1, 1), (1, 1, 1, 1)]);
        // A lone underline is no table.
        assert!(tables(&[h(100.0, 0.0, 50.0)]).is_empty());
    }
}
