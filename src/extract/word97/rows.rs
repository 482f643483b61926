//! A Word document's paragraphs, as the text walk meets them, gathered into HTML:
//! paragraphs outside tables as `<p>`, a table's cells into rows, and each finished
//! table laid on one column grid made of every row's cell edges, so that a cell
//! wider than the columns beneath it spans them.

use super::paragraphs::{Props, RowDef};
use crate::extract::html_table::{WordCell, WordTable, escape};

/// Cell edges closer than this (in twips, 1/1440 inch) are one grid line.
const SAME_EDGE: i32 = 10;

#[derive(Default)]
pub struct Body {
    html: String,
    /// The rows of the table being read.
    rows: Vec<Row>,
    /// The finished cells of the row being read.
    cells: Vec<String>,
    /// The paragraphs of the cell being read.
    cell: String,
}

struct Row {
    cells: Vec<String>,
    def: Option<RowDef>,
}

impl Body {
    /// Takes one paragraph: its text, whether its mark is a cell mark, and its
    /// properties.
    pub fn paragraph(&mut self, text: &str, cell_mark: bool, props: &Props) {
        let text = text.trim();
        if !props.in_table {
            self.end_table();
            if !text.is_empty() {
                self.html.push_str(&format!("<p>{}</p>", escape(text)));
            }
            return;
        }
        if !text.is_empty() {
            self.cell.push_str(&format!("<p>{}</p>", escape(text)));
        }
        if cell_mark && props.row_end {
            self.end_row(props.row.clone());
        } else if cell_mark {
            self.cells.push(std::mem::take(&mut self.cell));
        }
    }

    pub fn finish(mut self) -> String {
        self.end_table();
        format!("<html><body>{}</body></html>", self.html)
    }

    fn end_row(&mut self, def: Option<RowDef>) {
        if !self.cell.is_empty() {
            self.cells.push(std::mem::take(&mut self.cell));
        }
        let cells = std::mem::take(&mut self.cells);
        if !cells.is_empty() {
            self.rows.push(Row { cells, def });
        }
    }

    fn end_table(&mut self) {
        self.end_row(None);
        if !self.rows.is_empty() {
            let rows = std::mem::take(&mut self.rows);
            self.html.push_str(&laid_out(rows).render());
        }
    }
}

/// The rows on one grid: each cell starts at the grid line of its left edge and spans
/// to that of its right edge. A row without a definition that fits its cells gets
/// one column per cell.
fn laid_out(rows: Vec<Row>) -> WordTable {
    let mut grid: Vec<i32> = rows.iter().flat_map(|r| r.def.iter().flat_map(|d| d.edges.iter().map(|&e| i32::from(e)))).collect();
    grid.sort_unstable();
    grid.dedup_by(|later, kept| *later - *kept <= SAME_EDGE);
    // The grid line an edge was merged into: the first at most SAME_EDGE before it
    // (the lines lie further apart than that), found by binary search.
    let line = |edge: i16| grid.partition_point(|&g| g < i32::from(edge) - SAME_EDGE).min(grid.len().saturating_sub(1));
    let mut table = WordTable::default();
    for row in rows {
        let mut cells: Vec<WordCell> = Vec::with_capacity(row.cells.len());
        let def = row.def.filter(|d| d.edges.len() == row.cells.len() + 1);
        for (k, html) in row.cells.into_iter().enumerate() {
            let Some(def) = &def else {
                cells.push(WordCell { html, ..WordCell::at(k) });
                continue;
            };
            let (start, end) = (line(def.edges[k]), line(def.edges[k + 1]));
            match cells.last_mut() {
                // A cell merged into its left neighbour widens it.
                Some(left) if def.cells[k].joins_left => {
                    left.colspan = left.colspan.max(end.saturating_sub(left.col));
                    left.html.push_str(&html);
                }
                _ => cells.push(WordCell { colspan: end.saturating_sub(start).max(1), continues: def.cells[k].joins_above, html, ..WordCell::at(start) }),
            }
        }
        table.rows.push(cells);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::word97::paragraphs::CellMerge;

    fn row_end(edges: &[i16], merges: &[(bool, bool)]) -> Props {
        let cells = merges.iter().map(|&(joins_left, joins_above)| CellMerge { joins_left, joins_above }).collect();
        Props { in_table: true, row_end: true, row: Some(RowDef { edges: edges.to_vec(), cells }) }
    }

    #[test]
    fn cells_are_laid_on_the_grid_of_every_rows_edges() {
        let cell = Props { in_table: true, ..Props::default() };
        let mut body = Body::default();
        body.paragraph("前言", false, &Props::default());
        // A label over two rows, a header over two columns; then the rows beneath.
        for text in ["信息内容", "本年", ""] {
            body.paragraph(text, true, &cell);
        }
        body.paragraph("", true, &row_end(&[0, 2000, 4000, 4005], &[(false, false), (false, false), (true, false)]));
        for text in ["", "新制发", "废止"] {
            body.paragraph(text, true, &cell);
        }
        body.paragraph("", true, &row_end(&[0, 2000, 3000, 4000], &[(false, true), (false, false), (false, false)]));
        body.paragraph("后记", false, &Props::default());
        assert_eq!(
            body.finish(),
            "<html><body><p>前言</p><table>\
             <tr><td rowspan=\"2\" colspan=\"1\"><p>信息内容</p></td><td rowspan=\"1\" colspan=\"2\"><p>本年</p></td></tr>\
             <tr><td rowspan=\"1\" colspan=\"1\"><p>新制发</p></td><td rowspan=\"1\" colspan=\"1\"><p>废止</p></td></tr>\
             </table><p>后记</p></body></html>"
        );
    }
}
