//! Word and Excel reports → the HTML the table extractor reads.
//!
//! Rather than a second extractor, a DOCX or XLSX file is rewritten as plain HTML:
//! paragraphs as `<p>`, tables as `<table>` whose merged cells become rowspan and
//! colspan (Word's `gridSpan` and `vMerge`, Excel's merged regions). Everything after
//! that — sections, templates, keys, checks — is the code HTML reports go through.
//!
//! Both are zip files from untrusted hosts, so their size is checked before anything
//! is inflated: the entries and their declared sizes, the XML read no further than a
//! cap, and a sheet's cells streamed and counted before any grid is allocated (a
//! 1.5 kB workbook can name a cell at XFD1048576, a grid of 17 billion cells).

use std::io::{Cursor, Read};

use anyhow::{Context, Result};
use calamine::{Data, Reader, Sheets, open_workbook_auto_from_rs};
use quick_xml::Reader as XmlReader;
use quick_xml::events::Event;

use super::html_table::{WordCell, WordTable, escape};
use super::quietly::quietly;

/// Entries of a zip file, at the most: a report has a few dozen.
const MAX_ENTRIES: usize = 10_000;
/// The sizes a zip file's entries declare, inflated, added up, at the most.
const MAX_INFLATED: u64 = 256 << 20;
/// A Word file's main document, inflated, at the most.
const MAX_DOCUMENT_XML: u64 = 64 << 20;
/// Cells one sheet may hold, and the area (rows × columns) its cells may span: a
/// report's tables fill a few thousand.
const MAX_CELLS: usize = 100_000;
const MAX_AREA: u64 = 250_000;
/// Merged regions of one sheet, at the most.
const MAX_MERGES: usize = 10_000;

/// Refuses a zip file whose entries, or their declared inflated sizes, pass the caps.
pub(super) fn check_zip(bytes: &[u8]) -> Result<()> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).context("not a zip file")?;
    anyhow::ensure!(zip.len() <= MAX_ENTRIES, "zip file with {} entries (more than {MAX_ENTRIES}): not read", zip.len());
    let mut inflated = 0u64;
    for i in 0..zip.len() {
        inflated = inflated.saturating_add(zip.by_index_raw(i).context("bad zip entry")?.size());
    }
    anyhow::ensure!(inflated <= MAX_INFLATED, "zip file inflating to {inflated} bytes (more than {MAX_INFLATED}): not read");
    Ok(())
}

/// Refuses an Excel 97–2003 workbook a sheet of which declares more cells than a
/// report has: calamine reserves room for a sheet's declared dimensions before
/// reading it, and a damaged `Dimensions` record asks for terabytes (an allocation
/// failure aborts the process, past any `catch_unwind`).
fn check_biff(bytes: &[u8]) -> Result<()> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).context("not a compound file")?;
    let name = if file.is_stream("Workbook") { "Workbook" } else { "Book" };
    let mut stream = Vec::new();
    file.open_stream(name).context("no workbook stream")?.take(MAX_INFLATED).read_to_end(&mut stream).context("unreadable workbook stream")?;
    let mut at = 0;
    while let Some(head) = stream.get(at..at + 4) {
        let (kind, len) = (u16::from_le_bytes([head[0], head[1]]), usize::from(u16::from_le_bytes([head[2], head[3]])));
        let Some(data) = stream.get(at + 4..at + 4 + len) else { break };
        if kind == 0x0200 {
            let (rows, cols) = declared_area(data);
            anyhow::ensure!(rows * cols <= MAX_AREA, "a sheet declaring {rows} × {cols} cells (more than {MAX_AREA}): not read");
        }
        at += 4 + len;
    }
    Ok(())
}

/// The rows and columns a `Dimensions` record declares, reckoned as calamine does
/// (first and last row as 16 or 32 bits, a first column past 255 taken as 0), its
/// unsigned arithmetic wrapping as it does in a release build.
fn declared_area(data: &[u8]) -> (u64, u64) {
    let u16_at = |i: usize| u32::from(u16::from_le_bytes([data[i], data[i + 1]]));
    let u32_at = |i: usize| u32::from_le_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
    let (first_row, last_row, mut first_col, last_col) = match data.len() {
        10 => (u16_at(0), u16_at(2), u16_at(4), u16_at(6)),
        14 | 16 => (u32_at(0), u32_at(4), u16_at(8), u16_at(10)),
        _ => return (0, 0),
    };
    if first_col > 0xFF || last_col < first_col {
        first_col = 0;
    }
    if last_row == 0 || last_col == 0 {
        return (1, 1);
    }
    let span = |first: u32, last: u32| u64::from((last - 1).wrapping_sub(first).wrapping_add(1));
    (span(first_row, last_row), span(first_col, last_col))
}

/// Converts a .docx file's main document to HTML.
pub fn docx_to_html(bytes: &[u8]) -> Result<String> {
    check_zip(bytes)?;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).context("not a zip file")?;
    let mut xml = String::new();
    // Declared sizes can lie: the read itself stops at the cap.
    zip.by_name("word/document.xml").context("no word/document.xml")?.take(MAX_DOCUMENT_XML + 1).read_to_string(&mut xml)?;
    anyhow::ensure!(xml.len() as u64 <= MAX_DOCUMENT_XML, "Word document larger than {MAX_DOCUMENT_XML} bytes: not read");
    let mut reader = XmlReader::from_str(&xml);
    let mut html = WordHtml { body: String::from("<html><body>"), tables: Vec::new(), paragraph: String::new(), in_text: false };
    loop {
        match reader.read_event().context("bad document.xml")? {
            Event::Start(e) => html.start(&e, false),
            Event::Empty(e) => {
                html.start(&e, true);
                html.end(e.local_name().into_inner());
            }
            Event::End(e) => html.end(e.local_name().into_inner()),
            Event::Text(t) if html.in_text => html.paragraph.push_str(&t.xml10_content()),
            Event::Eof => break,
            _ => {}
        }
    }
    html.body.push_str("</body></html>");
    Ok(html.body)
}

/// A Word document's body as HTML, being built element by element.
struct WordHtml {
    body: String,
    /// The tables being read, innermost last (tables nest).
    tables: Vec<WordTable>,
    paragraph: String,
    in_text: bool,
}

impl WordHtml {
    /// The cell being read, if any.
    fn cell(&mut self) -> Option<&mut WordCell> {
        self.tables.last_mut().and_then(|t| t.rows.last_mut()).and_then(|r| r.last_mut())
    }

    fn start(&mut self, e: &quick_xml::events::BytesStart, empty: bool) {
        match (e.local_name().into_inner(), empty) {
            ("tbl", _) => self.tables.push(WordTable::default()),
            ("tr", false) => {
                if let Some(t) = self.tables.last_mut() {
                    t.rows.push(Vec::new());
                }
            }
            ("tc", false) => {
                if let Some(row) = self.tables.last_mut().and_then(|t| t.rows.last_mut()) {
                    let col = row.last().map_or(0, |c| c.col + c.colspan);
                    row.push(WordCell::at(col));
                }
            }
            (name @ ("gridSpan" | "vMerge"), _) => {
                let val = e.attributes().flatten().find(|a| a.key.local_name().into_inner() == "val").map(|a| a.value.to_string());
                if let Some(cell) = self.cell() {
                    if name == "gridSpan" {
                        cell.colspan = val.and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
                    } else {
                        cell.continues = val.as_deref() != Some("restart");
                    }
                }
            }
            ("t", false) => self.in_text = true,
            ("br" | "tab", true) => self.paragraph.push(' '),
            _ => {}
        }
    }

    fn end(&mut self, name: &str) {
        match name {
            "t" => self.in_text = false,
            "p" => {
                let p = format!("<p>{}</p>", escape(&self.paragraph));
                self.paragraph.clear();
                self.place(&p);
            }
            "tbl" => {
                let table = self.tables.pop().map(WordTable::render).unwrap_or_default();
                self.place(&table);
            }
            _ => {}
        }
    }

    /// Puts finished HTML in the cell being read, or in the body.
    fn place(&mut self, html: &str) {
        match self.cell() {
            Some(cell) => cell.html.push_str(html),
            None => self.body.push_str(html),
        }
    }
}

/// Converts every sheet of an .xlsx or .xls workbook to an HTML table, merged
/// regions as spans.
pub fn workbook_to_html(bytes: &[u8]) -> Result<String> {
    if bytes.starts_with(b"PK") {
        check_zip(bytes)?;
    } else {
        check_biff(bytes)?;
    }
    quietly(|| {
        let mut workbook = open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).context("not a readable workbook")?;
        let mut html = String::from("<html><body>");
        for name in workbook.sheet_names() {
            let sheet = read_sheet(&mut workbook, &name).with_context(|| format!("sheet {name}"))?;
            html.push_str(&format!("<p>{}</p>", escape(&name)));
            sheet_html(&sheet, &mut html);
        }
        html.push_str("</body></html>");
        Ok(html)
    })
    .unwrap_or_else(|_| Err(anyhow::anyhow!("the workbook reader failed on it")))
}

/// A sheet's cells as a dense grid from its first used cell, with its merged regions.
struct Sheet {
    top: u32,
    left: u32,
    rows: Vec<Vec<String>>,
    merges: Vec<calamine::Dimensions>,
}

/// Reads a sheet within the caps: an .xlsx sheet's cells are streamed and counted
/// first, since calamine's ranges allocate the whole area between the used cells.
fn read_sheet(workbook: &mut Sheets<Cursor<Vec<u8>>>, name: &str) -> Result<Sheet> {
    let cells: Vec<((u32, u32), String)> = match &mut *workbook {
        Sheets::Xlsx(x) => {
            let mut reader = x.worksheet_cells_reader(name)?;
            let mut cells = Vec::new();
            while let Some(cell) = reader.next_cell()? {
                anyhow::ensure!(cells.len() < MAX_CELLS, "more than {MAX_CELLS} cells: not read");
                let text = cell_text(&Data::from(cell.get_value().clone()));
                if !text.is_empty() {
                    cells.push((cell.get_position(), text));
                }
            }
            cells
        }
        other => {
            let range = other.worksheet_range(name)?;
            anyhow::ensure!(range.get_size().0 as u64 * range.get_size().1 as u64 <= MAX_AREA, "more than {MAX_AREA} cells: not read");
            range
                .cells()
                .filter(|(_, _, v)| !matches!(v, Data::Empty))
                .map(|(r, c, v)| {
                    let (top, left) = range.start().unwrap_or((0, 0));
                    ((top + r as u32, left + c as u32), cell_text(v))
                })
                .collect()
        }
    };
    let merges = match &mut *workbook {
        Sheets::Xlsx(x) => x.merge_cells_by_sheet_name(name).unwrap_or_default(),
        Sheets::Xls(x) => x.merge_cells_by_sheet_name(name).unwrap_or_default(),
        _ => Vec::new(),
    };
    anyhow::ensure!(merges.len() <= MAX_MERGES, "{} merged regions (more than {MAX_MERGES}): not read", merges.len());
    let (top, left) = cells.iter().fold((u32::MAX, u32::MAX), |(t, l), ((r, c), _)| (t.min(*r), l.min(*c)));
    let (bottom, right) = cells.iter().fold((0, 0), |(b, r), ((row, col), _)| (b.max(*row), r.max(*col)));
    if cells.is_empty() {
        return Ok(Sheet { top: 0, left: 0, rows: Vec::new(), merges });
    }
    let (height, width) = (u64::from(bottom - top) + 1, u64::from(right - left) + 1);
    anyhow::ensure!(height * width <= MAX_AREA, "cells spread over {height} × {width} (more than {MAX_AREA}): not read");
    let mut rows = vec![vec![String::new(); width as usize]; height as usize];
    for ((r, c), text) in cells {
        rows[(r - top) as usize][(c - left) as usize] = text;
    }
    Ok(Sheet { top, left, rows, merges })
}

/// A sheet as an HTML table. A merged region is printed at its corner with its spans,
/// clipped to the used cells; the cells it covers are left out.
fn sheet_html(sheet: &Sheet, html: &mut String) {
    let (height, width) = (sheet.rows.len() as u32, sheet.rows.first().map_or(0, Vec::len) as u32);
    // What each cell is: printed with spans, or covered by a region's corner.
    let mut spans: Vec<Option<(u32, u32)>> = vec![Some((1, 1)); (height * width) as usize];
    for m in &sheet.merges {
        let clip = |v: u32, start: u32, len: u32| v.saturating_sub(start).min(len);
        let (r0, r1) = (clip(m.start.0, sheet.top, height), clip(m.end.0 + 1, sheet.top, height));
        let (c0, c1) = (clip(m.start.1, sheet.left, width), clip(m.end.1 + 1, sheet.left, width));
        if r0 >= r1 || c0 >= c1 || spans[(r0 * width + c0) as usize].is_none() {
            continue; // outside the used cells, or inside a region already printed
        }
        for r in r0..r1 {
            for c in c0..c1 {
                spans[(r * width + c) as usize] = None;
            }
        }
        spans[(r0 * width + c0) as usize] = Some((r1 - r0, c1 - c0));
    }
    html.push_str("<table>");
    for (r, row) in sheet.rows.iter().enumerate() {
        html.push_str("<tr>");
        for (c, text) in row.iter().enumerate() {
            if let Some((rowspan, colspan)) = spans[r * width as usize + c] {
                html.push_str(&format!("<td rowspan=\"{rowspan}\" colspan=\"{colspan}\">{}</td>", escape(text)));
            }
        }
        html.push_str("</tr>");
    }
    html.push_str("</table>");
}

/// A cell as a reader sees it: integers without `.0`.
fn cell_text(value: &Data) -> String {
    match value {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// The fixture workbook with its first sheet's `Dimensions` record changed by `set`.
    fn xls_with_dimensions(set: impl Fn(&mut [u8])) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract/gaoping_2023_trs_word_cells.xls");
        let mut file = cfb::CompoundFile::open(Cursor::new(std::fs::read(path).unwrap())).unwrap();
        let mut stream = Vec::new();
        file.open_stream("Workbook").unwrap().read_to_end(&mut stream).unwrap();
        let mut at = 0;
        while u16::from_le_bytes([stream[at], stream[at + 1]]) != 0x0200 {
            at += 4 + usize::from(u16::from_le_bytes([stream[at + 2], stream[at + 3]]));
        }
        set(&mut stream[at + 4..at + 18]);
        file.create_stream("Workbook").unwrap().write_all(&stream).unwrap();
        file.flush().unwrap();
        file.into_inner().into_inner()
    }

    #[test]
    fn a_workbook_declaring_a_sheet_of_terabytes_is_refused_before_calamine_reads_it() {
        assert!(workbook_to_html(&xls_with_dimensions(|_| ())).is_ok());
        // First row past the last: calamine's unsigned arithmetic wraps to 4 billion rows.
        let wrapped = xls_with_dimensions(|d| {
            let last = u32::from_le_bytes([d[4], d[5], d[6], d[7]]);
            d[0..4].copy_from_slice(&(last + 1).to_le_bytes());
        });
        let why = workbook_to_html(&wrapped).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(why.starts_with("a sheet declaring 4294967295 × "), "{why}");
        let huge = xls_with_dimensions(|d| d[4..8].copy_from_slice(&65_536u32.to_le_bytes()));
        let why = workbook_to_html(&huge).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(why.contains("(more than 250000)"), "{why}");
    }

    fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, body) in files {
            out.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            out.write_all(body).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    /// A one-sheet workbook whose sheet data is `rows` (`<row>` elements of `<c>` cells).
    fn workbook(dimension: &str, rows: &str) -> Vec<u8> {
        const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        const RELS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let book = format!(r#"<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets><sheet name="表1" sheetId="1" r:id="rId1"/></sheets></workbook>"#);
        let rels = format!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
        );
        let sheet = format!(r#"<worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>"#);
        let package = format!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
        );
        zip(&[
            ("_rels/.rels", package.as_bytes()),
            ("xl/workbook.xml", book.as_bytes()),
            ("xl/_rels/workbook.xml.rels", rels.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
        ])
    }

    #[test]
    fn a_workbook_reads_as_a_table_from_its_first_used_cell() {
        let book = workbook(
            "B2:C3",
            r#"<row r="2"><c r="B2" t="inlineStr"><is><t>规章</t></is></c><c r="C2"><v>3</v></c></row><row r="3"><c r="C3"><v>4.5</v></c></row>"#,
        );
        let html = workbook_to_html(&book).unwrap();
        assert_eq!(
            html,
            "<html><body><p>表1</p><table><tr><td rowspan=\"1\" colspan=\"1\">规章</td><td rowspan=\"1\" colspan=\"1\">3</td></tr>\
             <tr><td rowspan=\"1\" colspan=\"1\"></td><td rowspan=\"1\" colspan=\"1\">4.5</td></tr></table></body></html>"
        );
    }

    #[test]
    fn a_cell_at_the_far_corner_of_a_sheet_is_refused_not_allocated() {
        // 1.5 kB that once asked for 549,755,813,888 bytes and aborted the crawl.
        let bomb = workbook("A1:XFD1048576", r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>"#);
        let err = workbook_to_html(&bomb).unwrap_err();
        assert!(format!("{err:#}").contains("cells spread over 1048576 × 16384"), "{err:#}");
    }

    #[test]
    fn a_word_document_past_the_cap_is_refused_while_inflating() {
        let body = vec![b' '; (MAX_DOCUMENT_XML + 1024) as usize];
        let bomb = zip(&[("word/document.xml", &body)]);
        assert!(bomb.len() < 1 << 20, "the bomb is small: {}", bomb.len());
        let err = docx_to_html(&bomb).unwrap_err();
        assert!(format!("{err:#}").contains("larger than"), "{err:#}");
    }
}
