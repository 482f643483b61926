//! What is done to a PDF before the reader sees it. The reader trusts its input: it
//! inflates object streams whole while loading, inflates every stream it draws with no
//! bound, draws Form XObjects by recursion, and knows only embedded ToUnicode maps. So
//! before reading: object streams and content streams are inflated within a budget,
//! forms that draw themselves or nest too deep are refused (a stack overflow cannot
//! be caught), images are emptied, and fonts naming a predefined Unicode CMap get an
//! identity map.

use std::collections::{HashMap, HashSet};

use pdf_extract::content::Content;
use pdf_extract::{Dictionary, Document, Object, ObjectId, Stream};

/// What a PDF's Flate streams may inflate to, all together: a report's are a few MB.
pub(super) const MAX_INFLATED: u64 = 256 << 20;

/// Form XObjects drawn within one another, at the most (real documents nest a few).
const MAX_FORM_DEPTH: usize = 32;

/// Refuses a PDF whose Form XObjects draw one another in a cycle, or nest deeper than
/// [`MAX_FORM_DEPTH`]. A form draws the XObjects its content names with `Do`, looked up
/// in its own resources or, when it has none, in those of whatever draws it: here, any
/// XObject dictionary that lists it.
pub(super) fn forms_nest_boundedly(doc: &Document) -> Result<(), String> {
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
pub(super) fn object_streams_within(pdf: &[u8], budget: u64) -> Result<(), String> {
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
pub(super) fn inflate_within_budget(doc: &mut Document) -> Result<(), String> {
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
pub(super) fn unicode_cmaps_as_identity(doc: &mut Document) {
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

