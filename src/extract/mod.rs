//! Extract: a report page → canonical facts, its format, and the checks they fail.
//!
//! The steps, each in its own file: `document` finds the article, its text and its
//! data tables; `grid` expands each table's spans; `sections` assigns rows to sections
//! 二, 三, 四; `template` maps rows to the keys of `keys` (docs/keys.csv); `values`
//! reads each cell; `checks` tests the accounting identities. A file's type comes
//! from its bytes (`source`). Word and Excel files become HTML first (`office`;
//! Word 97–2003 files `word97`), their tables printed by `html_table`. A PDF's glyphs
//! and ruling lines are read by `pdf_glyphs`, an OFD file's by `ofd`; ruled tables
//! become HTML (`pdf_grid`), and for tables drawn without rules the glyphs are laid
//! out as text, whose rows `pdf_text` reads. Third-party readers run `quietly`.
//! Tables published as pictures (a screenshot, a PDF page that is a scan, whose
//! pictures `pdf_pictures` keeps) are read by OCR into glyphs and rules (`picture`,
//! feature `ocr`) and go the PDF's way; every fact says how it was read ([`ReadBy`]).
//!
//! Pure: bytes or text in, [`Extraction`] out. Nothing here touches the network, nor
//! the disk but to load the OCR models once.

mod checks;
mod document;
mod grid;
mod html_table;
mod keys;
mod ofd;
mod office;
mod pdf_filters;
mod pdf_glyphs;
mod pdf_grid;
mod pdf_pictures;
mod pdf_prepare;
mod pdf_text;
mod picture;
mod quietly;
mod sections;
mod source;
pub mod stored;
mod template;
mod values;
mod word97;

pub use checks::CheckFailure;
pub use keys::Format;
pub use office::{docx_to_html, workbook_to_html};
pub use pdf_glyphs::layout_text as pdf_layout_text;
pub use pdf_text::extract_pdf_text;
pub use picture::READS_PICTURES;
#[cfg(feature = "ocr")]
pub use picture::configure as configure_ocr;
pub use source::{SourceType, extract_file};
pub use values::{CellValue, parse_cell};

use document::Document;
use serde::{Deserialize, Serialize};

use crate::html::Page;
use sections::Section;
use template::Collector;

/// A part of a canonical key. (A named type: serde would take a bare `&'static str`
/// field for one borrowed from its input.)
pub type Key = &'static str;

/// One number of one table cell, under its canonical key `section/row/column`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    #[serde(deserialize_with = "stored::key")]
    pub section: Key,
    #[serde(deserialize_with = "stored::key")]
    pub row: Key,
    #[serde(deserialize_with = "stored::key")]
    pub column: Key,
    /// The row label as printed.
    pub label: String,
    /// The cell as printed.
    pub raw: String,
    pub value: Option<f64>,
    pub unit: Option<String>,
    /// How the cell was read: from the report's text, or by OCR from a picture.
    pub read_by: ReadBy,
    /// For a cell read by OCR, the recognizer's confidence in its text (the least of
    /// its lines'); None for a blank cell and for text the report carries.
    pub confidence: Option<f32>,
}

/// How a fact's cell was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ReadBy {
    /// From the text the report carries (HTML, Word, Excel, a PDF's text layer).
    #[default]
    Text,
    /// By OCR, from a picture of the table (a screenshot, a scanned page).
    Ocr,
}

impl ReadBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadBy::Text => "text",
            ReadBy::Ocr => "ocr",
        }
    }
}

impl Fact {
    /// The canonical key, `section/row/column`.
    pub fn key(&self) -> String {
        let mut key = String::new();
        self.push_key(&mut key);
        key
    }

    /// Appends [`Fact::key`] to `out`: the facts table writes a key per fact, and a
    /// `format!` each was most of that batch's cost.
    pub fn push_key(&self, out: &mut String) {
        out.push_str(self.section);
        out.push('/');
        out.push_str(self.row);
        out.push('/');
        out.push_str(self.column);
    }
}

/// Everything extracted from one report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extraction {
    pub format: Format,
    pub facts: Vec<Fact>,
    pub checks_failed: Vec<CheckFailure>,
    pub warnings: Vec<String>,
    pub text: String,
}

impl Extraction {
    /// One article read from its pages (an article continued on `_1`, `_2` …): each
    /// cell as the first page that prints it, the checks run over them all, the texts
    /// in order, and the page-level warnings said again of the whole.
    pub fn merged(pages: Vec<Extraction>) -> Extraction {
        let mut facts: Vec<Fact> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let (mut warnings, mut texts, mut format) = (Vec::new(), Vec::new(), None);
        for page in pages {
            format = format.or((page.format != Format::Legacy).then_some(page.format));
            facts.extend(page.facts.into_iter().filter(|f| seen.insert((f.section, f.row, f.column))));
            warnings.extend(page.warnings.into_iter().filter(|w| !warnings.contains(w)).collect::<Vec<_>>());
            texts.push(page.text);
        }
        // What a page said of the whole report is said again below, of all the pages;
        // with no table on any page, the first page's words stand.
        if !facts.is_empty() {
            const NO_FACTS: [&str; 5] = ["section ", "tables only as images", "tables missing", "tables do not match", "tables found but"];
            warnings.retain(|w| !NO_FACTS.iter().any(|said| w.starts_with(said)));
        }
        let present = |s: Section| facts.iter().any(|f| f.section == s.key());
        for section in [Section::Active, Section::Requests, Section::Review].into_iter().filter(|&s| !present(s) && !facts.is_empty()) {
            warnings.push(format!("section {} has no facts", section.key()));
        }
        let checks_failed = checks::failed(&facts);
        Extraction { format: format.unwrap_or(Format::Legacy), facts, checks_failed, warnings, text: texts.join("\n") }
    }

    /// A report file of `kind` whose tables cannot be read, and why.
    pub fn nothing(kind: SourceType, why: &str) -> Extraction {
        let warnings = vec![format!("{} report: {why}", kind.as_str())];
        Extraction { format: Format::Legacy, facts: Vec::new(), checks_failed: Vec::new(), warnings, text: String::new() }
    }
}

/// Extracts an HTML report page. `year` (the report year, when known) only decides
/// the format of a report whose tables are missing.
pub fn extract_html(html: &str, year: Option<i32>) -> Extraction {
    extract_page(&Page::parse(html), year)
}

/// [`extract_html`] of a page already parsed (the crawl parses each report once).
pub fn extract_page(page: &Page, year: Option<i32>) -> Extraction {
    let doc = Document::read(page);
    let mut out = Collector::default();
    let sections = sections::split(&doc.tables);
    for (section, rows) in &sections {
        match section {
            Section::Active => template::map_active(rows, &mut out),
            Section::Requests => template::map_requests(rows, &mut out),
            Section::Review => template::map_review(rows, &mut out),
        }
    }
    let mut warnings = std::mem::take(&mut out.warnings);
    if out.facts.is_empty() {
        warnings.push(if doc.tables.is_empty() && !doc.pictures.is_empty() {
            picture::unread()
        } else if doc.tables.is_empty() {
            "tables missing: no table in the report".to_string()
        } else if sections.is_empty() {
            "tables do not match the 2019/2021 templates (legacy or home-made tables): not forced into keys".to_string()
        } else {
            "tables found but no cell matched the template".to_string()
        });
    }
    for section in [Section::Active, Section::Requests, Section::Review] {
        let present = out.facts.iter().any(|f| f.section == section.key());
        if !present && !out.facts.is_empty() {
            warnings.push(format!("section {} has no facts", section.key()));
        }
    }
    let format = out.format().unwrap_or_else(|| format_from_text(&doc.text, year));
    if format == Format::Legacy && !out.facts.is_empty() {
        warnings.push("legacy report with template-like tables: facts kept, check the keys".to_string());
    }
    let checks_failed = checks::failed(&out.facts);
    Extraction { format, facts: out.facts, checks_failed, warnings, text: doc.text }
}

/// The pictures an article shows, each `src` as written: where an article has no
/// template table, its tables may be in them.
pub fn article_pictures(page: &Page) -> Vec<String> {
    Document::read(page).pictures
}

/// Extracts a PDF report: from its ruled tables, rebuilt as HTML for the extractor
/// every other format goes through, or from its text laid out by position where that
/// reads more cells (tables drawn without rules). Err says why nothing can be read.
pub fn extract_pdf(pdf: &[u8], year: Option<i32>) -> Result<Extraction, String> {
    let (pages, warnings) = picture::with_scans_read(pdf_glyphs::read(pdf)?)?;
    let mut extraction = extract_pages(&pages, "PDF", year);
    extraction.warnings.splice(0..0, warnings);
    Ok(extraction)
}

/// Extracts a report published as a picture of its table (a PNG or JPEG file, as an
/// article shows it) by OCR.
pub fn extract_picture(bytes: &[u8], year: Option<i32>) -> Result<Extraction, String> {
    Ok(extract_pages(&[picture::read_file(bytes)?], "picture", year))
}

/// Extracts an OFD report, as a PDF is: from its ruled tables or its laid-out text.
pub fn extract_ofd(ofd: &[u8], year: Option<i32>) -> Result<Extraction, String> {
    let pages = ofd::read(ofd).map_err(|e| format!("unreadable OFD file: {e:#}"))?;
    Ok(extract_pages(&pages, "OFD file", year))
}

/// Extracts a report from its pages' positioned glyphs and rules: a PDF's, or those
/// of another fixed-layout `format`.
fn extract_pages(pages: &[pdf_glyphs::PdfPage], format: &str, year: Option<i32>) -> Extraction {
    let mut by_text = pdf_text::extract_pdf_text(&pdf_glyphs::pages_text(pages), year);
    // Text laid out by position keeps no cell's provenance: with any page read by OCR,
    // every cell read from the layout is taken as read by OCR (its confidence unknown).
    if pages.iter().flat_map(|p| &p.glyphs).any(|g| g.confidence.is_some()) {
        by_text.facts.iter_mut().for_each(|f| f.read_by = ReadBy::Ocr);
    }
    let printed = |e: &Extraction| e.facts.iter().filter(|f| !f.raw.is_empty()).count();
    match pdf_grid::to_html(pages).map(|html| extract_html(&html, year)) {
        Some(mut by_grid) if printed(&by_grid) >= printed(&by_text) && !by_grid.facts.is_empty() => {
            by_grid.warnings.insert(0, format!("tables rebuilt from the {format}'s ruled cells: check against the {format}"));
            by_grid
        }
        _ => by_text,
    }
}

/// The format of a report whose section 二 table could not be read: the template
/// notice it cites, else its year (before 2019 there was no template).
pub(crate) fn format_from_text(text: &str, year: Option<i32>) -> Format {
    if text.contains("〔2021〕30号") {
        Format::F2021
    } else if text.contains("〔2019〕60号") {
        Format::F2019
    } else {
        match year {
            Some(y) if y >= 2021 => Format::F2021,
            Some(y) if y >= 2019 => Format::F2019,
            _ => Format::Legacy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_article_read_over_its_pages_says_of_the_whole_what_its_pages_said_of_themselves() {
        let whole = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/extract/gaoping_2023_trs_word_cells.html")).unwrap();
        let split = whole.match_indices("</table>").nth(1).map(|(at, end)| at + end.len()).unwrap();
        let (first, second) = (extract_html(&whole[..split], Some(2023)), extract_html(&whole[split..], Some(2023)));
        assert!(second.warnings.iter().any(|w| w.starts_with("section ")), "each page alone lacks sections");
        let merged = Extraction::merged(vec![first, second]);
        assert_eq!(merged.facts.len(), extract_html(&whole, Some(2023)).facts.len());
        assert!(!merged.warnings.iter().any(|w| w.starts_with("section ")), "{:?}", merged.warnings);
        // With no table on any page, the pages' own words stand.
        let bare = Extraction::merged(vec![extract_html("<p>一、总体情况</p>", Some(2023)), extract_html("<p>六、其他</p>", Some(2023))]);
        assert!(bare.warnings.iter().any(|w| w.starts_with("tables missing")), "{:?}", bare.warnings);
    }
}
