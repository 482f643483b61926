//! PDF reports read inside the binary: every glyph with its position, laid out as text.
//!
//! pdf-extract (on lopdf) interprets the page content streams, CID fonts with their
//! ToUnicode maps included, and hands each glyph over with its text matrix. Glyphs are
//! grouped into lines by their baseline and placed on a character grid by their x
//! position, as `pdftotext -layout` does, so that table rows keep their cells apart
//! and in order; [`super::extract_pdf_text`] reads the tables from that text.
//!
//! CJK fonts that are not embedded (STSong-Light and its kin, as many generators
//! write them) name a predefined CMap such as `UniGB-UCS2-H` instead of carrying a
//! ToUnicode map: their character codes are UCS-2 or UTF-16 already. The reader knows
//! only embedded maps, so such fonts are given an identity map before reading.
//!
//! A PDF is untrusted input: the reader runs under a budget of glyphs and drawing
//! operations (a Form XObject drawn 2^40 times stops at the budget, not at the end of
//! time), and a panic inside the reader becomes the report's warning.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pdf_extract::{ColorSpace, Dictionary, Document, MediaBox, Object, OutputDev, OutputError, Path, Stream, Transform};

/// Glyphs and drawing operations one PDF may emit: a long report has ~30,000 glyphs.
const MAX_OPERATIONS: usize = 2_000_000;

/// One glyph on a page, in PDF user space (y grows upwards).
#[derive(Debug, Clone)]
struct Glyph {
    x: f64,
    y: f64,
    /// The advance to the next glyph.
    width: f64,
    size: f64,
    text: String,
}

/// Collects the glyphs of each page.
#[derive(Default)]
struct Collector {
    pages: Vec<Vec<Glyph>>,
    operations: usize,
}

impl Collector {
    fn count(&mut self) -> Result<(), OutputError> {
        self.operations += 1;
        if self.operations > MAX_OPERATIONS {
            // pdf-extract stops on an output error; the message is ours (see `layout_text`).
            return Err(OutputError::FormatError(std::fmt::Error));
        }
        Ok(())
    }
}

impl OutputDev for Collector {
    fn begin_page(&mut self, _page: u32, _media: &MediaBox, _art: Option<(f64, f64, f64, f64)>) -> Result<(), OutputError> {
        self.pages.push(Vec::new());
        Ok(())
    }
    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn output_character(&mut self, trm: &Transform, width: f64, spacing: f64, font_size: f64, text: &str) -> Result<(), OutputError> {
        self.count()?;
        // The glyph's size and advance in user space: the text matrix scales both.
        let scale = (trm.m11 * trm.m11 + trm.m12 * trm.m12).sqrt();
        let glyph = Glyph { x: trm.m31, y: trm.m32, width: (width * font_size + spacing) * scale, size: font_size * scale, text: text.to_string() };
        if let Some(page) = self.pages.last_mut()
            && !glyph.text.trim().is_empty()
        {
            page.push(glyph);
        }
        Ok(())
    }
    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn stroke(&mut self, _ctm: &Transform, _cs: &ColorSpace, _color: &[f64], _path: &Path) -> Result<(), OutputError> {
        self.count()
    }
    fn fill(&mut self, _ctm: &Transform, _cs: &ColorSpace, _color: &[f64], _path: &Path) -> Result<(), OutputError> {
        self.count()
    }
}

/// The PDF's text with each line's glyphs placed by position, pages one after another;
/// or why it cannot be read (encrypted, broken, over budget, no text layer).
pub fn layout_text(pdf: &[u8]) -> Result<String, String> {
    let read = catch_unwind(AssertUnwindSafe(|| -> Result<Collector, String> {
        let mut doc = Document::load_mem(pdf).map_err(|e| format!("unreadable PDF: {e}"))?;
        if doc.is_encrypted() {
            return Err("encrypted PDF: not read".to_string());
        }
        unicode_cmaps_as_identity(&mut doc);
        let mut collector = Collector::default();
        match pdf_extract::output_doc(&doc, &mut collector) {
            Ok(()) => Ok(collector),
            Err(_) if collector.operations > MAX_OPERATIONS => {
                Err(format!("PDF draws more than {MAX_OPERATIONS} glyphs and shapes: not read"))
            }
            Err(e) => Err(format!("unreadable PDF: {e}")),
        }
    }));
    let collector = read.map_err(|_| "unreadable PDF: the reader failed on it".to_string())??;
    if collector.pages.iter().all(Vec::is_empty) {
        return Err("scanned, no text layer: tables only as images".to_string());
    }
    Ok(collector.pages.iter().map(|page| lay_out(page)).collect::<Vec<_>>().join("\n\u{c}\n"))
}

/// Rewrites Type0 fonts whose predefined CMap encodes Unicode (`UniGB-UCS2-H`,
/// `UniCNS-UTF16-V` …) as `Identity-H`/`-V` with a ToUnicode map from each two-byte
/// code to itself: the same text, in the form the reader takes.
fn unicode_cmaps_as_identity(doc: &mut Document) {
    let fonts: Vec<(pdf_extract::ObjectId, &'static str)> = doc
        .objects
        .iter()
        .filter_map(|(&id, object)| {
            let font = object.as_dict().ok()?;
            (font.get(b"Subtype").ok()?.as_name().ok()? == b"Type0").then_some(())?;
            let encoding = font.get(b"Encoding").ok()?.as_name().ok()?;
            let name = std::str::from_utf8(encoding).ok()?;
            let unicode = name.starts_with("Uni") && (name.contains("-UCS2-") || name.contains("-UTF16-"));
            unicode.then_some((id, if name.ends_with("-V") { "Identity-V" } else { "Identity-H" }))
        })
        .collect();
    if fonts.is_empty() {
        return;
    }
    let to_unicode = doc.add_object(Stream::new(Dictionary::new(), identity_cmap().into_bytes()));
    for (id, identity) in fonts {
        if let Some(Ok(font)) = doc.objects.get_mut(&id).map(Object::as_dict_mut) {
            font.set("Encoding", Object::Name(identity.as_bytes().to_vec()));
            if font.get(b"ToUnicode").is_err() {
                font.set("ToUnicode", Object::Reference(to_unicode));
            }
        }
    }
}

/// A ToUnicode CMap taking every two-byte code outside the surrogates to itself.
fn identity_cmap() -> String {
    let ranges: Vec<String> =
        (0u32..=0xFF).filter(|hi| !(0xD8..=0xDF).contains(hi)).map(|hi| format!("<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>")).collect();
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n/CMapName /Identity-UCS def /CMapType 2 def\n\
         1 begincodespacerange <0000> <FFFF> endcodespacerange\n",
    );
    for chunk in ranges.chunks(100) {
        cmap.push_str(&format!("{} beginbfrange\n{}\nendbfrange\n", chunk.len(), chunk.join("\n")));
    }
    cmap.push_str("endcmap CMapName currentdict /CMap defineresource pop end end\n");
    cmap
}

/// A page's glyphs as lines of text: glyphs whose baselines lie within a third of their
/// size share a line, and each stands at the column its x position gives on a grid of
/// half the page's usual glyph size (the width of a digit), so that runs far apart on
/// the page stay apart in the text.
fn lay_out(glyphs: &[Glyph]) -> String {
    if glyphs.is_empty() {
        return String::new();
    }
    let mut sizes: Vec<f64> = glyphs.iter().map(|g| g.size).filter(|s| *s > 0.0).collect();
    sizes.sort_by(f64::total_cmp);
    let cell = sizes.get(sizes.len() / 2).copied().unwrap_or(10.0).max(1.0) / 2.0;
    let left = glyphs.iter().map(|g| g.x).fold(f64::INFINITY, f64::min);

    let mut by_line: Vec<&Glyph> = glyphs.iter().collect();
    by_line.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x.total_cmp(&b.x)));
    let mut lines: Vec<Vec<&Glyph>> = Vec::new();
    for glyph in by_line {
        match lines.last_mut() {
            Some(line) if (line[0].y - glyph.y).abs() <= line[0].size.max(glyph.size) / 3.0 => line.push(glyph),
            _ => lines.push(vec![glyph]),
        }
    }
    let mut out = String::new();
    for mut line in lines {
        line.sort_by(|a, b| a.x.total_cmp(&b.x));
        let mut text = String::new();
        let mut column = 0usize;
        let mut end_x = f64::NEG_INFINITY;
        for glyph in line {
            let wanted = ((glyph.x - left) / cell).round().max(0.0) as usize;
            // A gap wider than a digit between glyphs is a space at least.
            let gap = glyph.x - end_x > cell * 0.8;
            let at = if gap { wanted.max(column + 1) } else { column.max(wanted.min(column)) };
            text.extend(std::iter::repeat_n(' ', at.saturating_sub(column)));
            text.push_str(&glyph.text);
            column = at + glyph.text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum::<usize>();
            end_x = glyph.x + glyph.width;
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glyph(x: f64, y: f64, text: &str) -> Glyph {
        let width = if text.is_ascii() { 5.0 } else { 10.0 };
        Glyph { x, y, width, size: 10.0, text: text.to_string() }
    }

    #[test]
    fn glyphs_become_lines_with_their_columns_kept_apart() {
        let page = [
            // A row: a label, then two numbers in columns far to the right.
            glyph(0.0, 700.0, "规"),
            glyph(10.0, 700.0, "章"),
            glyph(200.0, 700.4, "1"),
            glyph(300.0, 699.8, "1"),
            glyph(305.0, 699.8, "1"),
            // The next row, below.
            glyph(0.0, 680.0, "行"),
            glyph(200.0, 680.0, "0"),
        ];
        let text = lay_out(&page);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        let cells: Vec<&str> = lines[0].split_whitespace().collect();
        assert_eq!(cells, ["规章", "1", "11"]);
        // Columns line up across rows: the 1 and the 0 stand at the same place, a
        // CJK glyph taking two columns as it takes two grid cells.
        let column = |line: &str, c: char| line.chars().take_while(|&x| x != c).map(|x| if x.is_ascii() { 1 } else { 2 }).sum::<usize>();
        assert_eq!(column(lines[0], '1'), column(lines[1], '0'));
    }

    #[test]
    fn broken_and_empty_files_are_reasons_not_panics() {
        assert!(layout_text(b"").unwrap_err().contains("unreadable PDF"));
        assert!(layout_text(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj << /Type /Catalog").is_err());
    }
}
