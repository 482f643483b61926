//! Tables rebuilt from a file's cells (a Word document's rows, a PDF's ruled grid),
//! printed as the HTML the table extractor reads, merges as rowspan and colspan.

/// A table being read from a Word file (.docx or .doc): rows of cells with their grid
/// column and spans.
#[derive(Default)]
pub(super) struct WordTable {
    pub rows: Vec<Vec<WordCell>>,
}

pub(super) struct WordCell {
    /// The grid column the cell starts at.
    pub col: usize,
    pub colspan: usize,
    pub rowspan: usize,
    /// Merged with the cell above: it continues the one above and is not printed.
    pub continues: bool,
    pub html: String,
}

impl WordCell {
    pub fn at(col: usize) -> WordCell {
        WordCell { col, colspan: 1, rowspan: 1, continues: false, html: String::new() }
    }
}

impl WordTable {
    /// Turns vertical merges into rowspans: a continuing cell adds one row to the
    /// cell that starts at the same grid column above it, and is itself not printed.
    pub fn render(mut self) -> String {
        for r in 0..self.rows.len() {
            for c in 0..self.rows[r].len() {
                if !self.rows[r][c].continues {
                    continue;
                }
                let col = self.rows[r][c].col;
                let start = (0..r).rev().find_map(|rr| self.rows[rr].iter().position(|cell| cell.col == col && !cell.continues).map(|i| (rr, i)));
                if let Some((rr, i)) = start {
                    self.rows[rr][i].rowspan += 1;
                }
            }
        }
        let mut html = String::from("<table>");
        for row in &self.rows {
            html.push_str("<tr>");
            for cell in row.iter().filter(|c| !c.continues) {
                html.push_str(&format!("<td rowspan=\"{}\" colspan=\"{}\">{}</td>", cell.rowspan, cell.colspan, cell.html));
            }
            html.push_str("</tr>");
        }
        html.push_str("</table>");
        html
    }
}

/// Text as HTML character data.
pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
