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
//! time), and a panic inside the reader becomes the report's warning. The reader draws
//! a Form XObject by recursion, so a form that draws itself, or forms nested deeper
//! than any real document, are refused before reading: a stack overflow cannot be
//! caught.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use pdf_extract::content::Content;
use pdf_extract::{ColorSpace, Dictionary, Document, MediaBox, Object, ObjectId, OutputDev, OutputError, Path, PathOp, Stream, Transform};

/// Glyphs and drawing operations one PDF may emit: a long report has ~30,000 glyphs.
const MAX_OPERATIONS: usize = 2_000_000;

/// What a PDF's Flate streams may inflate to, all together: a report's are a few MB.
const MAX_INFLATED: u64 = 256 << 20;

/// Form XObjects drawn within one another, at the most (real documents nest a few).
const MAX_FORM_DEPTH: usize = 32;

/// One glyph on a page, in PDF user space (y grows upwards).
#[derive(Debug, Clone)]
pub(super) struct Glyph {
    pub x: f64,
    pub y: f64,
    /// The advance to the next glyph.
    pub width: f64,
    pub size: f64,
    pub text: String,
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
}

/// Collects the glyphs and rules of each page.
#[derive(Default)]
struct Collector {
    pages: Vec<PdfPage>,
    operations: usize,
}

/// Rules thinner than this (in points) are lines, whether stroked or filled as rectangles.
const RULE_THICKNESS: f64 = 2.5;

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
        for ((x0, y0), (x1, y1)) in segments {
            if (y0 - y1).abs() <= 0.5 && (x0 - x1).abs() > 1.0 {
                page.rules.push(Rule { horizontal: true, at: (y0 + y1) / 2.0, from: x0.min(x1), to: x0.max(x1) });
            } else if (x0 - x1).abs() <= 0.5 && (y0 - y1).abs() > 1.0 {
                page.rules.push(Rule { horizontal: false, at: (x0 + x1) / 2.0, from: y0.min(y1), to: y0.max(y1) });
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
        let glyph = Glyph { x: trm.m31, y: trm.m32, width: (width * font_size + spacing) * scale, size: font_size * scale, text: text.to_string() };
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
    Ok(pages_text(&read(pdf)?))
}

/// [`layout_text`] of pages already read.
pub(super) fn pages_text(pages: &[PdfPage]) -> String {
    pages.iter().map(|page| lay_out(&page.glyphs)).collect::<Vec<_>>().join("\n\u{c}\n")
}

/// Every page's glyphs and rules; or why the PDF cannot be read (encrypted, broken,
/// over budget, no text layer).
pub(super) fn read(pdf: &[u8]) -> Result<Vec<PdfPage>, String> {
    let read = quietly(|| -> Result<Collector, String> {
        object_streams_within(pdf, MAX_INFLATED)?;
        let mut doc = Document::load_mem(pdf).map_err(|e| format!("unreadable PDF: {e}"))?;
        if doc.is_encrypted() {
            return Err("encrypted PDF: not read".to_string());
        }
        forms_nest_boundedly(&doc)?;
        inflate_within_budget(&mut doc)?;
        unicode_cmaps_as_identity(&mut doc);
        let mut collector = Collector::default();
        match pdf_extract::output_doc(&doc, &mut collector) {
            Ok(()) => Ok(collector),
            Err(_) if collector.operations > MAX_OPERATIONS => {
                Err(format!("PDF draws more than {MAX_OPERATIONS} glyphs and shapes: not read"))
            }
            Err(e) => Err(format!("unreadable PDF: {e}")),
        }
    });
    let collector = read.map_err(|_| "unreadable PDF: the reader failed on it".to_string())??;
    if collector.pages.iter().all(|p| p.glyphs.is_empty()) {
        return Err("scanned, no text layer: tables only as images".to_string());
    }
    Ok(collector.pages)
}

thread_local! {
    /// Set while the PDF reader runs on this thread: its panics are expected (it
    /// unwraps on many damaged files) and become the report's warning.
    static READING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `read` catching its panics, without the panic message and backtrace each
/// would print on stderr: they are logged at debug level instead.
fn quietly<T>(read: impl FnOnce() -> T) -> std::thread::Result<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if READING.with(std::cell::Cell::get) {
                tracing::debug!("the PDF reader failed: {info}");
            } else {
                previous(info);
            }
        }));
    });
    READING.with(|r| r.set(true));
    let result = catch_unwind(AssertUnwindSafe(read));
    READING.with(|r| r.set(false));
    result
}

/// Refuses a PDF whose Form XObjects draw one another in a cycle, or nest deeper than
/// [`MAX_FORM_DEPTH`]. A form draws the XObjects its content names with `Do`, looked up
/// in its own resources or, when it has none, in those of whatever draws it: here, any
/// XObject dictionary that lists it.
fn forms_nest_boundedly(doc: &Document) -> Result<(), String> {
    let xobjects = |dict| entry_dict(doc, dict, b"XObject");
    let resources_of = |dict| entry_dict(doc, dict, b"Resources");
    let forms: HashMap<ObjectId, &Stream> = doc
        .objects
        .iter()
        .filter_map(|(&id, o)| o.as_stream().ok().filter(|s| s.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Form")).map(|s| (id, s)))
        .collect();
    if forms.is_empty() {
        return Ok(());
    }
    // Every XObject dictionary in the file: the contexts a form without resources inherits.
    let dictionaries: Vec<&Dictionary> = doc.objects.values().filter_map(|o| match o {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }).filter_map(|d| resources_of(d).and_then(xobjects).or_else(|| xobjects(d))).collect();
    let mut draws: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    for (&id, form) in &forms {
        let content = form.decompressed_content().unwrap_or_else(|_| form.content.clone());
        let names: HashSet<Vec<u8>> = Content::decode(&content)
            .map(|c| c.operations.into_iter().filter(|op| op.operator == "Do").filter_map(|op| Some(op.operands.first()?.as_name().ok()?.to_vec())).collect())
            .unwrap_or_default();
        let own = resources_of(&form.dict).and_then(xobjects);
        let contexts: Vec<&Dictionary> = match own {
            Some(d) => vec![d],
            None => dictionaries.iter().copied().filter(|d| d.iter().any(|(_, v)| v.as_reference().ok() == Some(id))).collect(),
        };
        let targets = contexts.iter().flat_map(|d| names.iter().filter_map(|n| d.get(n).ok()?.as_reference().ok()));
        draws.insert(id, targets.filter(|t| forms.contains_key(t)).collect());
    }
    // Depth-first, iteratively: a form on the current path drawn again is a cycle; a
    // form's height (the forms nested in it, itself included) is known once its
    // children's are.
    let mut height: HashMap<ObjectId, usize> = HashMap::new();
    for &start in forms.keys() {
        let mut path: Vec<(ObjectId, usize)> = vec![(start, 0)];
        while let Some(&mut (form, ref mut next)) = path.last_mut() {
            let children = &draws[&form];
            if height.contains_key(&form) {
                path.pop();
            } else if let Some(&child) = children.get(*next) {
                *next += 1;
                if path.iter().any(|&(f, _)| f == child) {
                    return Err("PDF whose forms draw themselves: not read".to_string());
                }
                path.push((child, 0));
            } else {
                let h = 1 + children.iter().filter_map(|c| height.get(c)).max().unwrap_or(&0);
                if h > MAX_FORM_DEPTH {
                    return Err(format!("PDF with forms nested more than {MAX_FORM_DEPTH} deep: not read"));
                }
                height.insert(form, h);
                path.pop();
            }
        }
    }
    Ok(())
}

/// Checks, before the PDF is loaded, that its object streams (`/Type /ObjStm`, which
/// the loader inflates whole and unbounded to read the objects packed in them) inflate
/// within `budget` bytes in all: counted into a sink, never held.
fn object_streams_within(pdf: &[u8], budget: u64) -> Result<(), String> {
    use std::io::Read;
    let mut left = budget;
    for at in memchr::memmem::find_iter(pdf, b"/ObjStm") {
        // The stream's data follows its dictionary: `stream`, then CRLF or LF.
        let window = &pdf[at..pdf.len().min(at + 4096)];
        let Some(keyword) = memchr::memmem::find(window, b"stream") else { continue };
        let mut start = at + keyword + b"stream".len();
        start += pdf[start..].iter().take(2).take_while(|b| matches!(b, b'\r' | b'\n')).count();
        let mut inflated = flate2::read::ZlibDecoder::new(&pdf[start..]).take(left + 1);
        let n = std::io::copy(&mut inflated, &mut std::io::sink()).unwrap_or(0);
        if n > left {
            return Err(format!("PDF whose object streams inflate past {budget} bytes: not read"));
        }
        left -= n;
    }
    Ok(())
}

/// Inflates every Flate stream but images once, within [`MAX_INFLATED`] for the whole
/// file, and stores it inflated: the reader would inflate each with no bound, and a 10 MB stream
/// can inflate to gigabytes, an allocation failure no `catch_unwind` survives.
fn inflate_within_budget(doc: &mut Document) -> Result<(), String> {
    use std::io::Read;
    let mut left = MAX_INFLATED;
    for object in doc.objects.values_mut() {
        let Object::Stream(stream) = object else { continue };
        // Images hold no text. The reader would inflate them and run them as content
        // (its `Do` does not tell images from forms): they are emptied instead.
        if stream.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Image") {
            stream.dict.remove(b"Filter");
            stream.set_content(Vec::new());
            continue;
        }
        let flate_only = matches!(stream.dict.get(b"Filter"), Ok(Object::Name(n)) if n == b"FlateDecode")
            && stream.dict.get(b"DecodeParms").is_err();
        if !flate_only {
            continue;
        }
        let mut inflated = Vec::new();
        let read = flate2::read::ZlibDecoder::new(stream.content.as_slice()).take(left + 1).read_to_end(&mut inflated);
        if inflated.len() as u64 > left {
            return Err(format!("PDF whose streams inflate past {MAX_INFLATED} bytes: not read"));
        }
        // A damaged stream keeps what inflated before the damage, as the reader would.
        if read.is_ok() || !inflated.is_empty() {
            left -= inflated.len() as u64;
            stream.dict.remove(b"Filter");
            stream.set_content(inflated);
        }
    }
    Ok(())
}

/// The dictionary under `key`, held in place or by reference.
fn entry_dict<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Dictionary> {
    match dict.get(key).ok()? {
        Object::Reference(id) => doc.get_dictionary(*id).ok(),
        other => other.as_dict().ok(),
    }
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
            let mut form = dict(vec![("Type", name("XObject")), ("Subtype", name("Form")), ("BBox", Object::Array(vec![0.into(), 0.into(), 100.into(), 100.into()]))]);
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
        doc.objects.insert(pages, Object::Dictionary(dict(vec![("Type", name("Pages")), ("Kids", Object::Array(vec![Object::Reference(page)])), ("Count", 1.into())])));
        let catalog = doc.add_object(dict(vec![("Type", name("Catalog")), ("Pages", Object::Reference(pages))]));
        doc.trailer.set("Root", Object::Reference(catalog));
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn an_object_stream_that_inflates_past_the_budget_is_refused_before_loading() {
        use std::io::Write;
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        zlib.write_all(&vec![b' '; 3 << 20]).unwrap();
        let bomb = zlib.finish().unwrap();
        let mut pdf = format!("%PDF-1.5\n5 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Length {} /Filter /FlateDecode >>\nstream\r\n", bomb.len()).into_bytes();
        pdf.extend_from_slice(&bomb);
        pdf.extend_from_slice(b"\r\nendstream\nendobj\n%%EOF\n");
        let refused = object_streams_within(&pdf, 1 << 20).unwrap_err();
        assert!(refused.contains("object streams inflate past 1048576 bytes"), "{refused}");
        assert_eq!(object_streams_within(&pdf, 4 << 20), Ok(()), "within its budget it is loaded");
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
        assert!(read(&nested_forms(2, false)).unwrap_err().contains("scanned, no text layer"));
    }

    #[test]
    fn a_stream_inflating_to_gigabytes_is_refused_before_it_is_inflated_whole() {
        use std::io::Write;
        let mut bytes = nested_forms(1, false);
        let mut doc = Document::load_mem(&bytes).unwrap();
        // 300 MB of zeros in 300 kB: a content stream no report has.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..300 {
            z.write_all(&[0u8; 1 << 20]).unwrap();
        }
        let bomb = Stream::new(dict(vec![("Filter", name("FlateDecode"))]), z.finish().unwrap());
        doc.add_object(bomb);
        bytes.clear();
        doc.save_to(&mut bytes).unwrap();
        assert!(read(&bytes).unwrap_err().contains("inflate past"));
    }

    #[test]
    fn broken_and_empty_files_are_reasons_not_panics() {
        assert!(layout_text(b"").unwrap_err().contains("unreadable PDF"));
        assert!(layout_text(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj << /Type /Catalog").is_err());
    }
}
