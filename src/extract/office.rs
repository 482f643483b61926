//! Word and Excel reports → the HTML the table extractor reads.
//!
//! Rather than a second extractor, a DOCX or XLSX file is rewritten as plain HTML:
//! paragraphs as `<p>`, tables as `<table>` whose merged cells become rowspan and
//! colspan (Word's `gridSpan` and `vMerge`, Excel's merged regions). Everything after
//! that — sections, templates, keys, checks — is the code HTML reports go through.

use std::io::{Cursor, Read};

use anyhow::{Context, Result};
use calamine::{Data, Reader, Sheets, open_workbook_auto_from_rs};
use quick_xml::Reader as XmlReader;
use quick_xml::events::Event;

/// A table being read from Word XML: rows of cells with their grid column and spans.
#[derive(Default)]
struct WordTable {
    rows: Vec<Vec<WordCell>>,
}

struct WordCell {
    col: usize,
    colspan: usize,
    rowspan: usize,
    /// `vMerge` without `restart`: this cell continues the one above.
    continues: bool,
    html: String,
}

/// Converts a .docx file's main document to HTML.
pub fn docx_to_html(bytes: &[u8]) -> Result<String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).context("not a zip file")?;
    let mut xml = String::new();
    zip.by_name("word/document.xml").context("no word/document.xml")?.read_to_string(&mut xml)?;
    let mut reader = XmlReader::from_str(&xml);
    // A stack: the document body, then one entry per table being read (tables nest).
    let mut body = String::from("<html><body>");
    let mut tables: Vec<WordTable> = Vec::new();
    let mut paragraph = String::new();
    let mut in_text = false;
    loop {
        let event = reader.read_event().context("bad document.xml")?;
        let (start, end, name): (bool, bool, String) = match &event {
            Event::Start(e) => (true, false, e.local_name().into_inner().to_string()),
            Event::Empty(e) => (true, true, e.local_name().into_inner().to_string()),
            Event::End(e) => (false, true, e.local_name().into_inner().to_string()),
            Event::Text(t) => {
                if in_text {
                    paragraph.push_str(&t.xml10_content());
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        match (start, end, name.as_str()) {
            (true, _, "tbl") => tables.push(WordTable::default()),
            (true, false, "tr") => {
                if let Some(t) = tables.last_mut() {
                    t.rows.push(Vec::new());
                }
            }
            (true, false, "tc") => {
                if let Some(row) = tables.last_mut().and_then(|t| t.rows.last_mut()) {
                    let col = row.last().map_or(0, |c| c.col + c.colspan);
                    row.push(WordCell { col, colspan: 1, rowspan: 1, continues: false, html: String::new() });
                }
            }
            (true, _, "gridSpan" | "vMerge") => {
                let (Event::Start(e) | Event::Empty(e)) = &event else { continue };
                let val = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.local_name().into_inner() == "val")
                    .map(|a| a.value.to_string());
                if let Some(cell) = tables.last_mut().and_then(|t| t.rows.last_mut()).and_then(|r| r.last_mut()) {
                    if name == "gridSpan" {
                        cell.colspan = val.and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
                    } else {
                        cell.continues = val.as_deref() != Some("restart");
                    }
                }
            }
            (true, false, "t") => in_text = true,
            (false, true, "t") => in_text = false,
            (true, true, "br" | "tab") => paragraph.push(' '),
            (false, true, "p") => {
                let p = format!("<p>{}</p>", escape(&paragraph));
                paragraph.clear();
                match tables.last_mut().and_then(|t| t.rows.last_mut()).and_then(|r| r.last_mut()) {
                    Some(cell) => cell.html.push_str(&p),
                    None => body.push_str(&p),
                }
            }
            (false, true, "tbl") => {
                let table = tables.pop().map(render_word_table).unwrap_or_default();
                match tables.last_mut().and_then(|t| t.rows.last_mut()).and_then(|r| r.last_mut()) {
                    Some(cell) => cell.html.push_str(&table),
                    None => body.push_str(&table),
                }
            }
            _ => {}
        }
    }
    body.push_str("</body></html>");
    Ok(body)
}

/// Turns vertical merges into rowspans: a continuing cell adds one row to the cell
/// that starts at the same grid column above it, and is itself not printed.
fn render_word_table(mut table: WordTable) -> String {
    for r in 0..table.rows.len() {
        for c in 0..table.rows[r].len() {
            if !table.rows[r][c].continues {
                continue;
            }
            let col = table.rows[r][c].col;
            let start = (0..r).rev().find_map(|rr| {
                table.rows[rr].iter().position(|cell| cell.col == col && !cell.continues).map(|i| (rr, i))
            });
            if let Some((rr, i)) = start {
                table.rows[rr][i].rowspan += 1;
            }
        }
    }
    let mut html = String::from("<table>");
    for row in &table.rows {
        html.push_str("<tr>");
        for cell in row.iter().filter(|c| !c.continues) {
            html.push_str(&format!("<td rowspan=\"{}\" colspan=\"{}\">{}</td>", cell.rowspan, cell.colspan, cell.html));
        }
        html.push_str("</tr>");
    }
    html.push_str("</table>");
    html
}

/// Converts every sheet of an .xlsx or .xls workbook to an HTML table, merged
/// regions as spans.
pub fn workbook_to_html(bytes: &[u8]) -> Result<String> {
    let mut workbook = open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).context("not a readable workbook")?;
    let mut html = String::from("<html><body>");
    for name in workbook.sheet_names() {
        let range = workbook.worksheet_range(&name).with_context(|| format!("sheet {name}"))?;
        let merges = match &mut workbook {
            Sheets::Xlsx(x) => x.merge_cells_by_sheet_name(&name).unwrap_or_default(),
            Sheets::Xls(x) => x.merge_cells_by_sheet_name(&name).unwrap_or_default(),
            _ => Vec::new(),
        };
        let (top, left) = range.start().unwrap_or((0, 0));
        html.push_str(&format!("<p>{}</p><table>", escape(&name)));
        for (r, row) in range.rows().enumerate() {
            html.push_str("<tr>");
            for (c, value) in row.iter().enumerate() {
                let (abs_r, abs_c) = (top + r as u32, left + c as u32);
                let covering = merges.iter().find(|m| {
                    (m.start.0..=m.end.0).contains(&abs_r) && (m.start.1..=m.end.1).contains(&abs_c)
                });
                let (rowspan, colspan) = match covering {
                    Some(m) if m.start == (abs_r, abs_c) => (m.end.0 - m.start.0 + 1, m.end.1 - m.start.1 + 1),
                    Some(_) => continue, // covered by a merged region printed at its corner
                    None => (1, 1),
                };
                html.push_str(&format!("<td rowspan=\"{rowspan}\" colspan=\"{colspan}\">{}</td>", escape(&cell_text(value))));
            }
            html.push_str("</tr>");
        }
        html.push_str("</table>");
    }
    html.push_str("</body></html>");
    Ok(html)
}

/// A cell as a reader sees it: integers without `.0`.
fn cell_text(value: &Data) -> String {
    match value {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
