//! OFD reports (GB/T 33190-2016, China's fixed-layout format) → the positioned
//! glyphs and ruling lines the PDF table code reads.
//!
//! An OFD file is a zip: `OFD.xml` names the document (`DocRoot`), whose
//! `Document.xml` lists the pages and their size (`PhysicalBox`, in millimetres,
//! y downwards). Each page's `Content.xml` holds `TextObject`s, whose `TextCode`s
//! place their characters at `X`, `Y` (the baseline) plus the `DeltaX` advances,
//! and `PathObject`s, whose `AbbreviatedData` (`M x y L x y … C`) draws the table
//! rules. Positions are relative to each object's `Boundary`. They become points with
//! y upwards, as in a PDF, so the PDF's grid and text layout read the tables.
//!
//! The zip is untrusted: its entries' sizes are checked before anything is inflated,
//! each XML part is read no further than a cap, and the glyphs and pages are counted.

use std::io::{Cursor, Read};

use anyhow::{Context, Result, ensure};
use quick_xml::Reader as XmlReader;
use quick_xml::events::{BytesStart, Event};

use super::office::check_zip;
use super::pdf_glyphs::{Glyph, MAX_OPERATIONS, PdfPage, RULE_THICKNESS};

/// Points per millimetre.
const PT: f64 = 72.0 / 25.4;
/// One XML part of the file, inflated, at the most.
const MAX_PART: u64 = 32 << 20;
const MAX_PAGES: usize = 2_000;
/// A4, for a document that names no page size.
const A4: Boundary = Boundary { x: 0.0, y: 0.0, w: 210.0, h: 297.0 };

/// A rectangle as OFD writes it: `x y w h`, in millimetres.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Boundary {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Boundary {
    fn parse(text: &str) -> Option<Boundary> {
        let v: Vec<f64> = text.split_whitespace().map(str::parse).collect::<Result<_, _>>().ok()?;
        match v[..] {
            [x, y, w, h] => Some(Boundary { x, y, w, h }),
            _ => None,
        }
    }
}

/// Every page's glyphs and rules; or why the file cannot be read.
pub(super) fn read(bytes: &[u8]) -> Result<Vec<PdfPage>> {
    check_zip(bytes)?;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).context("not a zip file")?;
    let root = part(&mut zip, "OFD.xml")?;
    let doc_root = element_texts(&root, "DocRoot")?.into_iter().next().context("OFD.xml names no document")?;
    let doc_path = doc_root.trim().trim_start_matches('/').to_string();
    let document = part(&mut zip, &doc_path)?;
    let base = doc_path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let size = element_texts(&document, "PhysicalBox")?.first().and_then(|b| Boundary::parse(b)).unwrap_or(A4);
    let pages = page_locations(&document)?;
    ensure!(pages.len() <= MAX_PAGES, "OFD file of {} pages (more than {MAX_PAGES}): not read", pages.len());
    let mut read = Vec::with_capacity(pages.len());
    let mut glyphs = 0;
    for location in pages {
        let path = match location.strip_prefix('/') {
            Some(absolute) => absolute.to_string(),
            None if base.is_empty() => location,
            None => format!("{base}/{location}"),
        };
        let page = read_page(&part(&mut zip, &path)?, size, MAX_OPERATIONS - glyphs).with_context(|| format!("page {path}"))?;
        glyphs += page.glyphs.len() + page.rules.len();
        read.push(page);
    }
    ensure!(read.iter().any(|p| !p.glyphs.is_empty()), "OFD file without text: tables only as images");
    Ok(read)
}

/// A part of the zip as text, within the cap whatever size it declares.
fn part(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<String> {
    let mut text = String::new();
    let entry = zip.by_name(name).with_context(|| format!("no {name} in the OFD file"))?;
    entry.take(MAX_PART + 1).read_to_string(&mut text).with_context(|| format!("unreadable {name}"))?;
    ensure!(text.len() as u64 <= MAX_PART, "{name} larger than {MAX_PART} bytes: not read");
    Ok(text)
}

/// The text of every element with this local name.
fn element_texts(xml: &str, name: &str) -> Result<Vec<String>> {
    let mut reader = XmlReader::from_str(xml);
    let (mut inside, mut found) = (false, Vec::new());
    loop {
        match reader.read_event().context("bad OFD XML")? {
            Event::Start(e) if e.local_name().into_inner() == name => {
                inside = true;
                found.push(String::new());
            }
            Event::End(e) if e.local_name().into_inner() == name => inside = false,
            Event::Text(t) if inside => found.last_mut().expect("pushed at the start").push_str(&t.xml10_content()),
            Event::Eof => return Ok(found),
            _ => {}
        }
    }
}

/// The `BaseLoc` of each `Page` in the document's page list, in order.
fn page_locations(document: &str) -> Result<Vec<String>> {
    let mut reader = XmlReader::from_str(document);
    let mut found = Vec::new();
    loop {
        match reader.read_event().context("bad Document.xml")? {
            Event::Start(e) | Event::Empty(e) if e.local_name().into_inner() == "Page" => {
                found.extend(attribute(&e, "BaseLoc"));
            }
            Event::Eof => return Ok(found),
            _ => {}
        }
    }
}

fn attribute(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.local_name().into_inner() == name).map(|a| a.value.to_string())
}

/// What the page walk is inside.
enum Open {
    Nothing,
    Text { boundary: Boundary, size: f64 },
    Code { boundary: Boundary, size: f64, x: f64, y: f64, deltas: Vec<f64> },
    Path { boundary: Boundary, outline: bool },
    PathData { boundary: Boundary, outline: bool },
}

/// One page's glyphs and rules, in points with y upwards on a page of `size`. A page
/// drawing more than `budget` glyphs and rules is refused as it is read (its XML may
/// hold millions of characters), before the glyphs are made.
fn read_page(xml: &str, size: Boundary, budget: usize) -> Result<PdfPage> {
    let mut reader = XmlReader::from_str(xml);
    let mut page = PdfPage::default();
    let mut open = Open::Nothing;
    // The page's own size, where it gives one.
    let height = element_texts(xml, "PhysicalBox")?.first().and_then(|b| Boundary::parse(b)).map_or(size.h, |b| b.h);
    // Where the last text code ended: a code without X or Y continues there.
    let mut pen = (0.0, 0.0);
    loop {
        match reader.read_event().context("bad Content.xml")? {
            Event::Start(e) => open = opened(&e, open, pen),
            Event::Empty(e) => open = closed(e.local_name().into_inner(), opened(&e, open, pen)),
            Event::End(e) => open = closed(e.local_name().into_inner(), open),
            Event::Text(t) => match &mut open {
                Open::Code { boundary, size, x, y, deltas } => {
                    let text = t.xml10_content();
                    ensure!(page.glyphs.len() + text.chars().count() <= budget, "OFD file draws more than {MAX_OPERATIONS} glyphs and shapes: not read");
                    pen = place_glyphs(&mut page, &text, (*boundary, *size, *x, *y, deltas), height);
                }
                Open::PathData { boundary, outline } => page.add_rules(segments(&t.xml10_content(), *boundary, *outline, height)),
                _ => {}
            },
            Event::Eof => return Ok(page),
            _ => {}
        }
        ensure!(page.glyphs.len() + page.rules.len() <= budget, "OFD file draws more than {MAX_OPERATIONS} glyphs and shapes: not read");
    }
}

/// What an element opens, given what is open around it.
fn opened(e: &BytesStart, around: Open, pen: (f64, f64)) -> Open {
    let number = |name: &str| attribute(e, name).and_then(|v| v.trim().parse::<f64>().ok());
    let boundary = || attribute(e, "Boundary").and_then(|b| Boundary::parse(&b)).unwrap_or(Boundary { x: 0.0, y: 0.0, w: 0.0, h: 0.0 });
    match (e.local_name().into_inner(), around) {
        ("TextObject", _) => Open::Text { boundary: boundary(), size: number("Size").unwrap_or(3.5) },
        ("TextCode", Open::Text { boundary, size }) => {
            let deltas = attribute(e, "DeltaX").map(|d| deltas(&d)).unwrap_or_default();
            Open::Code { boundary, size, x: number("X").unwrap_or(pen.0), y: number("Y").unwrap_or(pen.1), deltas }
        }
        // A stroked path draws its segments; a filled one only its thin rectangles.
        ("PathObject", _) => Open::Path { boundary: boundary(), outline: attribute(e, "Stroke").is_none_or(|s| s != "false") },
        ("AbbreviatedData", Open::Path { boundary, outline }) => Open::PathData { boundary, outline },
        (_, around) => around,
    }
}

/// What is open once the element `name` ends.
fn closed(name: &str, open: Open) -> Open {
    match (name, open) {
        ("TextCode", Open::Code { boundary, size, .. }) => Open::Text { boundary, size },
        ("AbbreviatedData", Open::PathData { boundary, outline }) => Open::Path { boundary, outline },
        ("TextObject" | "PathObject", _) => Open::Nothing,
        (_, open) => open,
    }
}

/// `DeltaX`: the advance after each character, `g N v` standing for N times v. A
/// repeat is expanded no further than a text code could use.
fn deltas(text: &str) -> Vec<f64> {
    const MAX: usize = 100_000;
    let mut out = Vec::new();
    let mut tokens = text.split_whitespace();
    while let Some(token) = tokens.next() {
        if out.len() >= MAX {
            break;
        }
        if token == "g" {
            let count = tokens.next().and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
            let value = tokens.next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            out.extend(std::iter::repeat_n(value, count.min(MAX - out.len())));
        } else if let Ok(value) = token.parse() {
            out.push(value);
        }
    }
    out
}

/// Places a text code's characters on the page; returns where the next one would go.
fn place_glyphs(page: &mut PdfPage, text: &str, (boundary, size, x, y, deltas): (Boundary, f64, f64, f64, &[f64]), height: f64) -> (f64, f64) {
    let mut at = x;
    for (i, ch) in text.chars().enumerate() {
        let advance = deltas.get(i).copied().unwrap_or(size);
        if !ch.is_whitespace() {
            let glyph = Glyph {
                x: (boundary.x + at) * PT,
                y: (height - boundary.y - y) * PT,
                width: advance * PT,
                size: size * PT,
                text: ch.to_string(),
                confidence: None,
            };
            page.glyphs.push(glyph);
        }
        at += advance;
    }
    (at, y)
}

/// A path's straight segments in points (y upwards); a path that is only filled
/// gives the line along its middle when it is thin enough to be one, else nothing.
fn segments(data: &str, boundary: Boundary, outline: bool, height: f64) -> Vec<((f64, f64), (f64, f64))> {
    let point = |x: f64, y: f64| ((boundary.x + x) * PT, (height - boundary.y - y) * PT);
    let mut tokens = data.split_whitespace().peekable();
    let numbers = |n: usize, tokens: &mut std::iter::Peekable<std::str::SplitWhitespace>| -> Vec<f64> {
        (0..n).filter_map(|_| tokens.next_if(|t| t.parse::<f64>().is_ok()).and_then(|t| t.parse().ok())).collect()
    };
    let (mut out, mut points) = (Vec::new(), Vec::new());
    let (mut start, mut at) = (None, None);
    while let Some(command) = tokens.next() {
        let count = match command {
            "M" | "S" | "L" => 2,
            "Q" => 4,
            "B" => 6,
            "A" => 7,
            _ => 0,
        };
        let v = numbers(count, &mut tokens);
        let end = (v.len() == count && count >= 2).then(|| point(v[count - 2], v[count - 1]));
        match (command, end) {
            ("M" | "S", Some(p)) => (start, at) = (Some(p), Some(p)),
            ("L", Some(p)) => {
                if let Some(from) = at {
                    out.push((from, p));
                }
                at = Some(p);
            }
            ("C", _) => {
                if let (Some(from), Some(to)) = (at, start) {
                    out.push((from, to));
                }
                at = start;
            }
            (_, Some(p)) => at = Some(p),
            _ => {}
        }
        points.extend(end);
    }
    if outline {
        return out;
    }
    let (x0, x1) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    match (x1 - x0, y1 - y0) {
        (w, h) if w >= h && h <= RULE_THICKNESS && w > 0.0 => vec![((x0, (y0 + y1) / 2.0), (x1, (y0 + y1) / 2.0))],
        (w, h) if h > w && w <= RULE_THICKNESS => vec![(((x0 + x1) / 2.0, y0), ((x0 + x1) / 2.0, y1))],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_x_repeats_and_positions_place_each_character() {
        assert_eq!(deltas("1 g 3 2.5 4"), vec![1.0, 2.5, 2.5, 2.5, 4.0]);
        assert_eq!(deltas("g 999999999999 1").len(), 100_000);
        let mut page = PdfPage::default();
        let boundary = Boundary { x: 10.0, y: 20.0, w: 50.0, h: 5.0 };
        let pen = place_glyphs(&mut page, "共 12", (boundary, 3.0, 1.0, 2.0, &[3.0, 1.5, 1.5]), 297.0);
        let placed: Vec<(String, f64)> = page.glyphs.iter().map(|g| (g.text.clone(), (g.x / PT * 10.0).round() / 10.0)).collect();
        assert_eq!(placed, vec![("共".to_string(), 11.0), ("1".to_string(), 15.5), ("2".to_string(), 17.0)]);
        assert!((page.glyphs[0].y - 275.0 * PT).abs() < 1e-9, "y upwards from the page's foot");
        assert_eq!(pen, (10.0, 2.0));
    }

    #[test]
    fn a_page_of_more_characters_than_the_budget_is_refused_before_they_are_placed() {
        let code = format!("<ofd:TextObject Size=\"3\"><ofd:TextCode X=\"0\" Y=\"3\">{}</ofd:TextCode></ofd:TextObject>", "数".repeat(1000));
        let xml = format!("<ofd:Page><ofd:Content><ofd:Layer>{code}{code}</ofd:Layer></ofd:Content></ofd:Page>");
        assert_eq!(read_page(&xml, A4, 2000).unwrap().glyphs.len(), 2000);
        let why = read_page(&xml, A4, 1999).unwrap_err().to_string();
        assert!(why.contains("glyphs and shapes: not read"), "{why}");
    }

    #[test]
    fn a_stroked_path_gives_its_straight_edges_and_a_filled_one_only_a_thin_bar() {
        let boundary = Boundary { x: 0.0, y: 0.0, w: 100.0, h: 10.0 };
        let cell = segments("M 0 0 L 100 0 L 100 10 L 0 10 C", boundary, true, 297.0);
        assert_eq!(cell.len(), 4);
        let mut page = PdfPage::default();
        page.add_rules(cell);
        assert_eq!(page.rules.iter().filter(|r| r.horizontal).count(), 2);
        assert_eq!(segments("M 0 0 L 100 0 L 100 10 L 0 10 C", boundary, false, 297.0), vec![]);
        assert_eq!(segments("M 0 0 L 100 0 L 100 0.3 L 0 0.3 C", boundary, false, 297.0).len(), 1);
        // Curves move the pen without drawing a rule.
        assert_eq!(segments("M 0 0 B 10 10 20 10 30 0 L 60 0", boundary, true, 297.0).len(), 1);
    }
}
