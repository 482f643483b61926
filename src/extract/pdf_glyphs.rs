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
//! only embedded maps, so such fonts are given an identity map before reading
//! (`pdf_prepare`, with the bounds put on the PDF before the reader sees it).
//!
//! A PDF is untrusted input: the reader runs under a budget of glyphs and drawing
//! operations (a Form XObject drawn 2^40 times stops at the budget, not at the end of
//! time), and a panic inside the reader becomes the report's warning (`quietly`).

use super::pdf_pictures::{PagePicture, page_pictures};
use super::pdf_prepare::{MAX_INFLATED, decode_within_budget, forms_nest_boundedly, loaded_streams_within, unicode_cmaps_as_identity};
use super::quietly::quietly;
use pdf_extract::{ColorSpace, Document, MediaBox, OutputDev, OutputError, Path, PathOp, Transform};

/// Glyphs and drawing operations one PDF may emit: a long report has ~30,000 glyphs.
pub(super) const MAX_OPERATIONS: usize = 2_000_000;

/// One glyph on a page, in PDF user space (y grows upwards).
#[derive(Debug, Clone)]
pub(super) struct Glyph {
    pub x: f64,
    pub y: f64,
    /// The advance to the next glyph.
    pub width: f64,
    pub size: f64,
    pub text: String,
    /// How sure OCR was of `text` (a line read from a picture); None for text the file carries.
    pub confidence: Option<f32>,
}

/// A straight line drawn on a page, horizontal or vertical: a table's ruling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Rule {
    pub horizontal: bool,
    /// y of a horizontal rule, x of a vertical one.
    pub at: f64,
    /// Where it starts and ends along its direction.
    pub from: f64,
    pub to: f64,
}

/// What a page draws that the table readers use.
#[derive(Debug, Default)]
pub(super) struct PdfPage {
    pub glyphs: Vec<Glyph>,
    pub rules: Vec<Rule>,
    /// Its page-sized pictures: on a page with no glyphs, a scan of it.
    pub pictures: Vec<PagePicture>,
}

/// Collects the glyphs and rules of each page.
#[derive(Default)]
struct Collector {
    pages: Vec<PdfPage>,
    operations: usize,
}

/// Rules thinner than this (in points) are lines, whether stroked or filled as rectangles.
pub(super) const RULE_THICKNESS: f64 = 2.5;

impl Collector {
    /// The rules a path draws: its straight segments, and its rectangles' edges (a
    /// filled rectangle only when it is thin enough to be a line: a shaded cell's
    /// background is no rule).
    fn rules(&mut self, ctm: &Transform, path: &Path, filled: bool) {
        let point = |x: f64, y: f64| (x * ctm.m11 + y * ctm.m21 + ctm.m31, x * ctm.m12 + y * ctm.m22 + ctm.m32);
        let Some(page) = self.pages.last_mut() else { return };
        let mut segments: Vec<((f64, f64), (f64, f64))> = Vec::new();
        let mut at = None;
        for op in &path.ops {
            match *op {
                PathOp::MoveTo(x, y) => at = Some(point(x, y)),
                PathOp::LineTo(x, y) => {
                    let to = point(x, y);
                    if let Some(from) = at {
                        segments.push((from, to));
                    }
                    at = Some(to);
                }
                PathOp::CurveTo(.., x, y) => at = Some(point(x, y)),
                PathOp::Rect(x, y, w, h) => {
                    let corners = [point(x, y), point(x + w, y), point(x + w, y + h), point(x, y + h)];
                    let thin = w.abs().min(h.abs()) * ctm.m11.abs().max(ctm.m22.abs()) <= RULE_THICKNESS;
                    if thin {
                        // The rectangle is the line along its middle.
                        let (a, c) = (corners[0], corners[2]);
                        let mid = ((a.0 + c.0) / 2.0, (a.1 + c.1) / 2.0);
                        if (a.0 - c.0).abs() > (a.1 - c.1).abs() {
                            segments.push(((a.0, mid.1), (c.0, mid.1)));
                        } else {
                            segments.push(((mid.0, a.1), (mid.0, c.1)));
                        }
                    } else if !filled {
                        segments.extend((0..4).map(|i| (corners[i], corners[(i + 1) % 4])));
                    }
                }
                PathOp::Close => {}
            }
        }
        page.add_rules(segments);
    }
}

impl PdfPage {
    /// The horizontal and vertical ones among straight segments, as rules; slanted
    /// segments and dots are no table lines.
    pub(super) fn add_rules(&mut self, segments: impl IntoIterator<Item = ((f64, f64), (f64, f64))>) {
        for ((x0, y0), (x1, y1)) in segments {
            if (y0 - y1).abs() <= 0.5 && (x0 - x1).abs() > 1.0 {
                self.rules.push(Rule { horizontal: true, at: (y0 + y1) / 2.0, from: x0.min(x1), to: x0.max(x1) });
            } else if (x0 - x1).abs() <= 0.5 && (y0 - y1).abs() > 1.0 {
                self.rules.push(Rule { horizontal: false, at: (x0 + x1) / 2.0, from: y0.min(y1), to: y0.max(y1) });
            }
        }
    }
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
        self.pages.push(PdfPage::default());
        Ok(())
    }
    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn output_character(&mut self, trm: &Transform, width: f64, spacing: f64, font_size: f64, text: &str) -> Result<(), OutputError> {
        self.count()?;
        // The glyph's size and advance in user space: the text matrix scales both.
        let scale = (trm.m11 * trm.m11 + trm.m12 * trm.m12).sqrt();
        let glyph =
            Glyph { x: trm.m31, y: trm.m32, width: (width * font_size + spacing) * scale, size: font_size * scale, text: text.to_string(), confidence: None };
        if let Some(page) = self.pages.last_mut()
            && !glyph.text.trim().is_empty()
        {
            page.glyphs.push(glyph);
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
    fn stroke(&mut self, ctm: &Transform, _cs: &ColorSpace, _color: &[f64], path: &Path) -> Result<(), OutputError> {
        self.count()?;
        self.rules(ctm, path, false);
        Ok(())
    }
    fn fill(&mut self, ctm: &Transform, _cs: &ColorSpace, _color: &[f64], path: &Path) -> Result<(), OutputError> {
        self.count()?;
        self.rules(ctm, path, true);
        Ok(())
    }
}

/// The PDF's text with each line's glyphs placed by position, pages one after another;
/// or why it cannot be read (encrypted, broken, over budget, no text layer).
pub fn layout_text(pdf: &[u8]) -> Result<String, String> {
    let pages = read(pdf)?;
    if pages.iter().all(|p| p.glyphs.is_empty()) {
        return Err(NO_TEXT_LAYER.to_string());
    }
    Ok(pages_text(&pages))
}

/// What a PDF with no glyph on any page is.
pub(super) const NO_TEXT_LAYER: &str = "scanned, no text layer: tables only as images";

/// [`layout_text`] of pages already read.
pub(super) fn pages_text(pages: &[PdfPage]) -> String {
    pages.iter().map(|page| lay_out(&page.glyphs)).collect::<Vec<_>>().join("\n\u{c}\n")
}

/// Every page's glyphs, rules and page-sized pictures; or why the PDF cannot be read
/// (encrypted, broken, over budget).
pub(super) fn read(pdf: &[u8]) -> Result<Vec<PdfPage>, String> {
    let read = quietly(|| -> Result<Collector, String> {
        loaded_streams_within(pdf, MAX_INFLATED)?;
        let mut doc = Document::load_mem(pdf).map_err(|e| format!("unreadable PDF: {e}"))?;
        if doc.is_encrypted() {
            return Err("encrypted PDF: not read".to_string());
        }
        forms_nest_boundedly(&doc)?;
        // Before the reader's preparation empties them.
        let pictures = page_pictures(&doc);
        decode_within_budget(&mut doc)?;
        unicode_cmaps_as_identity(&mut doc);
        let mut collector = Collector::default();
        match pdf_extract::output_doc(&doc, &mut collector) {
            Ok(()) => {
                // The reader walks the pages in the order `page_pictures` does.
                for (page, pictures) in collector.pages.iter_mut().zip(pictures) {
                    page.pictures = pictures;
                }
                Ok(collector)
            }
            Err(_) if collector.operations > MAX_OPERATIONS => Err(format!("PDF draws more than {MAX_OPERATIONS} glyphs and shapes: not read")),
            Err(e) => Err(format!("unreadable PDF: {e}")),
        }
    });
    let collector = read.map_err(|_| "unreadable PDF: the reader failed on it".to_string())??;
    Ok(collector.pages)
}

/// A page's glyphs as lines of text: glyphs whose baselines lie within a third of their
/// size share a line, and each stands at the column its x position gives on a grid of
/// half the page's usual glyph size (the width of a digit), so that runs far apart on
/// the page stay apart in the text.
fn lay_out(glyphs: &[Glyph]) -> String {
    let refs: Vec<&Glyph> = glyphs.iter().collect();
    let mut out = String::new();
    for (_, line) in lines(&refs) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Glyphs as lines of text, top down, each with its baseline: see [`lay_out`].
pub(super) fn lines(glyphs: &[&Glyph]) -> Vec<(f64, String)> {
    if glyphs.is_empty() {
        return Vec::new();
    }
    let mut sizes: Vec<f64> = glyphs.iter().map(|g| g.size).filter(|s| *s > 0.0).collect();
    sizes.sort_by(f64::total_cmp);
    let cell = sizes.get(sizes.len() / 2).copied().unwrap_or(10.0).max(1.0) / 2.0;
    let left = glyphs.iter().map(|g| g.x).fold(f64::INFINITY, f64::min);

    let mut by_line: Vec<&Glyph> = glyphs.to_vec();
    by_line.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x.total_cmp(&b.x)));
    let mut lines: Vec<Vec<&Glyph>> = Vec::new();
    for glyph in by_line {
        match lines.last_mut() {
            Some(line) if (line[0].y - glyph.y).abs() <= line[0].size.max(glyph.size) / 3.0 => line.push(glyph),
            _ => lines.push(vec![glyph]),
        }
    }
    let mut out = Vec::new();
    for mut line in lines {
        line.sort_by(|a, b| a.x.total_cmp(&b.x));
        let baseline = line[0].y;
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
        out.push((baseline, text.trim_end().to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pdf_extract::{Dictionary, Object, ObjectId, Stream};

    fn glyph(x: f64, y: f64, text: &str) -> Glyph {
        let width = if text.is_ascii() { 5.0 } else { 10.0 };
        Glyph { x, y, width, size: 10.0, text: text.to_string(), confidence: None }
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

    fn dict(entries: Vec<(&str, Object)>) -> Dictionary {
        let mut d = Dictionary::new();
        for (k, v) in entries {
            d.set(k, v);
        }
        d
    }

    fn name(n: &str) -> Object {
        Object::Name(n.as_bytes().to_vec())
    }

    /// A one-page PDF whose page draws form X0; form k draws form k+1 twice, and the
    /// last form strokes a line (or, with `cycle`, draws X0 again).
    fn nested_forms(depth: usize, cycle: bool) -> Vec<u8> {
        let mut doc = Document::with_version("1.5");
        let ids: Vec<ObjectId> = (0..depth).map(|_| doc.new_object_id()).collect();
        for (k, &id) in ids.iter().enumerate() {
            let (content, next) = match ids.get(k + 1) {
                Some(&next) => ("/X Do /X Do".to_string(), Some(next)),
                None if cycle => ("/X Do".to_string(), Some(ids[0])),
                None => ("0 0 m 10 0 l S".to_string(), None),
            };
            let mut form =
                dict(vec![("Type", name("XObject")), ("Subtype", name("Form")), ("BBox", Object::Array(vec![0.into(), 0.into(), 100.into(), 100.into()]))]);
            if let Some(next) = next {
                form.set("Resources", dict(vec![("XObject", Object::Dictionary(dict(vec![("X", Object::Reference(next))])))]));
            }
            doc.objects.insert(id, Object::Stream(Stream::new(form, content.into_bytes())));
        }
        let pages = doc.new_object_id();
        let contents = doc.add_object(Stream::new(Dictionary::new(), b"/X0 Do".to_vec()));
        let resources = dict(vec![("XObject", Object::Dictionary(dict(vec![("X0", Object::Reference(ids[0]))])))]);
        let page = doc.add_object(dict(vec![
            ("Type", name("Page")),
            ("Parent", Object::Reference(pages)),
            ("MediaBox", Object::Array(vec![0.into(), 0.into(), 595.into(), 842.into()])),
            ("Contents", Object::Reference(contents)),
            ("Resources", Object::Dictionary(resources)),
        ]));
        doc.objects.insert(
            pages,
            Object::Dictionary(dict(vec![("Type", name("Pages")), ("Kids", Object::Array(vec![Object::Reference(page)])), ("Count", 1.into())])),
        );
        let catalog = doc.add_object(dict(vec![("Type", name("Catalog")), ("Pages", Object::Reference(pages))]));
        doc.trailer.set("Root", Object::Reference(catalog));
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        bytes
    }

    /// `n` zero bytes, zlib-compressed `layers` times: 300 MB in 300 kB once, in
    /// under a kilobyte twice.
    fn zeros_zlib(n: usize, layers: usize) -> Vec<u8> {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..n >> 20 {
            z.write_all(&[0u8; 1 << 20]).unwrap();
        }
        let once = z.finish().unwrap();
        (1..layers).fold(once, |data, _| {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            z.write_all(&data).unwrap();
            z.finish().unwrap()
        })
    }

    #[test]
    fn object_and_cross_reference_streams_that_decode_past_the_budget_are_refused_before_loading() {
        let forms = [
            ("/Type /ObjStm /N 1 /First 4", "/FlateDecode", 1),
            ("/Type /ObjStm /N 1 /First 4", "[/FlateDecode /FlateDecode]", 2),
            ("/Type/ObjStm/N 1/First 4", "[ /FlateDecode ]/DecodeParms [null]", 1),
            ("/Type /XRef /Size 1 /W [1 2 1]", "[/FlateDecode/FlateDecode]", 2),
        ];
        for (kind, filter, layers) in forms {
            let bomb = zeros_zlib(3 << 20, layers);
            let mut pdf = format!("%PDF-1.5\n5 0 obj\n<< {kind} /Length {} /Filter {filter} >>\nstream\r\n", bomb.len()).into_bytes();
            pdf.extend_from_slice(&bomb);
            pdf.extend_from_slice(b"\r\nendstream\nendobj\n%%EOF\n");
            let refused = loaded_streams_within(&pdf, 1 << 20).unwrap_err();
            assert!(refused.contains("object streams inflate past 1048576 bytes"), "{kind} {filter}: {refused}");
            assert_eq!(loaded_streams_within(&pdf, 8 << 20), Ok(()), "{kind} {filter}: within its budget it is loaded");
        }
    }

    #[test]
    fn a_form_drawn_two_to_the_twentysixth_times_stops_at_the_budget() {
        let err = read(&nested_forms(27, false)).unwrap_err();
        assert!(err.contains("more than 2000000 glyphs and shapes"), "{err}");
    }

    #[test]
    fn forms_that_draw_themselves_or_nest_too_deep_are_refused_before_reading() {
        assert!(read(&nested_forms(3, true)).unwrap_err().contains("draw themselves"));
        assert!(read(&nested_forms(40, false)).unwrap_err().contains("nested more than 32"));
        // A page of lines and no text is a scan as far as tables go.
        assert!(layout_text(&nested_forms(2, false)).unwrap_err().contains("scanned, no text layer"));
    }

    /// A one-page PDF with one more stream: `filter` and `params`, over `content`.
    fn with_stream(filter: Object, params: Option<Object>, content: Vec<u8>) -> Vec<u8> {
        let mut doc = Document::load_mem(&nested_forms(1, false)).unwrap();
        let mut entries = vec![("Filter", filter)];
        entries.extend(params.map(|p| ("DecodeParms", p)));
        doc.add_object(Stream::new(dict(entries), content));
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn a_stream_decoding_to_gigabytes_is_refused_whatever_form_its_filters_take() {
        // Each would inflate to 300 MB at least (the budget is 256 MB); the chained one to
        // 300 MB from under a kilobyte, as the 31 KB file that decoded to 4 GiB.
        let flate = || name("FlateDecode");
        let forms = [
            (flate(), None, zeros_zlib(300 << 20, 1)),
            (Object::Array(vec![flate()]), None, zeros_zlib(300 << 20, 1)),
            (flate(), Some(dict(vec![("Predictor", 1.into())]).into()), zeros_zlib(300 << 20, 1)),
            (Object::Array(vec![flate(), flate()]), None, zeros_zlib(300 << 20, 2)),
        ];
        for (filter, params, content) in forms {
            let what = format!("{filter:?} {params:?}");
            let err = read(&with_stream(filter, params, content)).unwrap_err();
            assert!(err.contains("inflate past"), "{what}: {err}");
        }
    }

    #[test]
    fn a_content_stream_behind_a_chain_of_filters_is_read() {
        use std::io::Write;
        let mut bytes = nested_forms(1, false);
        let mut doc = Document::load_mem(&bytes).unwrap();
        let page = doc.get_pages()[&1];
        let text = b"BT /F1 12 Tf 72 720 Td (2023) Tj ET 0 0 m 10 0 l S";
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(text).unwrap();
        let hex: String = z.finish().unwrap().iter().map(|b| format!("{b:02X}")).collect();
        let chained = Stream::new(dict(vec![("Filter", Object::Array(vec![name("ASCIIHexDecode"), name("FlateDecode")]))]), hex.into_bytes());
        let contents = doc.add_object(chained);
        let font = doc.add_object(dict(vec![("Type", name("Font")), ("Subtype", name("Type1")), ("BaseFont", name("Helvetica"))]));
        let page = doc.get_object_mut(page).unwrap().as_dict_mut().unwrap();
        page.set("Contents", Object::Reference(contents));
        page.set("Resources", dict(vec![("Font", dict(vec![("F1", Object::Reference(font))]).into())]));
        bytes.clear();
        doc.save_to(&mut bytes).unwrap();
        let pages = read(&bytes).unwrap();
        let read: String = pages.iter().flat_map(|p| p.glyphs.iter().map(|g| g.text.as_str())).collect();
        assert_eq!(read, "2023");
    }

    #[test]
    fn broken_and_empty_files_are_reasons_not_panics() {
        assert!(layout_text(b"").unwrap_err().contains("unreadable PDF"));
        assert!(layout_text(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj << /Type /Catalog").is_err());
    }
}
