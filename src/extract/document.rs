//! The article as the extractor sees it: its plain text, its data tables in order,
//! the section heading that precedes each table, and the pictures it shows.
//!
//! Layout tables (a table holding other tables) are walked through, not read as data.
//! Page chrome is left out by starting from the article container when one of the
//! CMS containers is present (TRS `TRS_Editor`, Hanweb `zoom`, …).

use crate::html::{Kind, NodeId, Page, Select};

use super::grid::Table;
use super::sections::{Section, heading_section};
use crate::decode::normalize::fold_compact;

/// Article bodies in the CMSs portals run, most specific first.
const CONTAINERS: &[Select<'static>] = &[
    Select::Class("TRS_Editor"),
    Select::Class("trs_editor_view"),
    Select::Class("TRS_UEDITOR"),
    Select::Id("zoom"),
    Select::Id("UCAP-CONTENT"),
    Select::Class("article-content"),
    Select::Class("content"),
    Select::Tag("article"),
    Select::Tag("body"),
];

/// What a report page holds, in document order.
pub struct Document {
    pub text: String,
    /// Each data table with the section its nearest preceding heading names
    /// (`Some(None)` after a heading that ends the tables, like 五、存在的主要问题).
    pub tables: Vec<(Option<Option<Section>>, Table)>,
    /// The `src` of each picture, as written.
    pub pictures: Vec<String>,
}

impl Document {
    pub fn read(page: &Page) -> Document {
        let root = page.select_each(CONTAINERS).into_iter().find_map(|found| found.into_iter().max_by_key(|&e| page.text_len(e))).unwrap_or(Page::ROOT);
        let mut walk = Walk { page, doc: Document { text: String::new(), tables: Vec::new(), pictures: Vec::new() }, since_table: 0 };
        walk.element(root);
        walk.doc.text = tidy_lines(&walk.doc.text);
        walk.doc
    }
}

struct Walk<'p> {
    page: &'p Page,
    doc: Document,
    /// Where in `text` the last table ended: headings are looked for after it.
    since_table: usize,
}

impl Walk<'_> {
    fn element(&mut self, element: NodeId) {
        let page = self.page;
        for child in page.children(element) {
            match page.kind(child) {
                Kind::Text(t) => self.doc.text.push_str(t),
                Kind::Element { name, .. } => match name.as_ref() {
                    "script" | "style" | "noscript" | "template" => {}
                    "img" => self.doc.pictures.extend(page.attr(child, "src").map(str::to_string)),
                    "br" => self.doc.text.push('\n'),
                    "table" if !has_nested_table(page, child) => self.table(child),
                    "p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "li" | "tr" | "section" | "table" => {
                        self.doc.text.push('\n');
                        self.element(child);
                        self.doc.text.push('\n');
                    }
                    _ => self.element(child),
                },
                _ => {}
            }
        }
    }

    fn table(&mut self, element: NodeId) {
        let heading = self.doc.text[self.since_table..].lines().rev().find_map(|l| heading_section(&fold_compact(l)));
        let table = Table::from_element(self.page, element);
        self.doc.text.push('\n');
        for r in 0..table.grid.len() {
            let cells: Vec<&str> = table.row_cells(r).into_iter().map(|(_, c)| c.text.as_str()).collect();
            self.doc.text.push_str(&cells.join(" | "));
            self.doc.text.push('\n');
        }
        self.since_table = self.doc.text.len();
        self.doc.tables.push((heading, table));
    }
}

fn has_nested_table(page: &Page, table: NodeId) -> bool {
    page.descendants(table).any(|n| page.name(n) == Some("table"))
}

/// Trims every line and drops empty ones: the `text` column reads like the page.
fn tidy_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let start = out.len();
        if start > 0 {
            out.push('\n');
        }
        let body = out.len();
        crate::decode::normalize::fold_into(&mut out, line);
        if out.len() == body {
            // Nothing but whitespace: drop the line and its break.
            out.truncate(start);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::tidy_lines;

    #[test]
    fn lines_are_folded_trimmed_and_blank_ones_dropped() {
        assert_eq!(tidy_lines("一\n  \u{3000}\n  二  三 \n\n４"), "一\n二 三\n4");
        assert_eq!(tidy_lines("a\nb"), "a\nb");
        assert_eq!(tidy_lines("\n\u{a0}\n"), "");
    }
}
