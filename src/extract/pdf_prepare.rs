//! What is done to a PDF before the reader sees it. The reader trusts its input: it
//! decodes object streams whole while loading, decodes every stream it draws with no
//! bound, draws Form XObjects by recursion, and knows only embedded ToUnicode maps. So
//! before reading: object streams and content streams are decoded within a budget
//! (`pdf_filters`, whatever chain of filters they name),
//! forms that draw themselves or nest too deep are refused (a stack overflow cannot
//! be caught), images are emptied, and fonts naming a predefined Unicode CMap get an
//! identity map.

use std::collections::{HashMap, HashSet};

use pdf_extract::content::Content;
use pdf_extract::{Dictionary, Document, Object, ObjectId, Stream};

use super::pdf_filters::{self, Undecoded};

/// What a PDF's streams may decode to, all together: a report's are a few MB.
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
    let dictionaries: Vec<&Dictionary> = doc
        .objects
        .values()
        .filter_map(|o| match o {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        })
        .filter_map(|d| resources_of(d).and_then(xobjects).or_else(|| xobjects(d)))
        .collect();
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

/// Checks, before the PDF is loaded, that the streams the loader decodes itself,
/// whole and unbounded (object streams, `/Type /ObjStm`, and cross-reference streams,
/// `/Type /XRef`), decode within `budget` bytes in all. Their dictionaries are read
/// from the raw bytes: the loader has not parsed them yet.
pub(super) fn loaded_streams_within(pdf: &[u8], budget: u64) -> Result<(), String> {
    let mut left = budget;
    let types = memchr::memmem::find_iter(pdf, b"/ObjStm").chain(memchr::memmem::find_iter(pdf, b"/XRef").filter(|&at| !pdf[at + 5..].starts_with(b"Stm")));
    for at in types {
        let Some((dict, data)) = raw_stream_around(pdf, at) else { continue };
        let Ok(steps) = pdf_filters::steps(raw_filter(dict).as_ref(), None) else { continue };
        if pdf_filters::decode(data, &steps, &mut left) == Err(Undecoded::OverBudget) {
            return Err(format!("PDF whose object streams inflate past {budget} bytes: not read"));
        }
    }
    Ok(())
}

/// The dictionary of the object around `at` and the stream data after it, raw.
fn raw_stream_around(pdf: &[u8], at: usize) -> Option<(&[u8], &[u8])> {
    let start = memchr::memmem::rfind(&pdf[at.saturating_sub(4096)..at], b"obj").map_or(at.saturating_sub(4096), |o| at.saturating_sub(4096) + o);
    let keyword = at + memchr::memmem::find(&pdf[at..pdf.len().min(at + 4096)], b"stream")?;
    let mut data = keyword + b"stream".len();
    data += pdf[data..].iter().take(2).take_while(|b| matches!(b, b'\r' | b'\n')).count();
    Some((&pdf[start..keyword], &pdf[data..]))
}

/// The `/Filter` of a raw dictionary: a name or an array of names.
fn raw_filter(dict: &[u8]) -> Option<Object> {
    let at = memchr::memmem::find(dict, b"/Filter")? + b"/Filter".len();
    let rest = &dict[at..];
    let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    let value = match rest.first()? {
        b'[' => &rest[1..rest.iter().position(|&b| b == b']')?],
        b'/' => &rest[..rest.iter().skip(1).position(|&b| b == b'/' || b == b'>' || b.is_ascii_whitespace()).map_or(rest.len(), |p| p + 1)],
        _ => return None,
    };
    let names: Vec<Object> = value.split(|&b| b == b'/' || b.is_ascii_whitespace()).filter(|n| !n.is_empty()).map(|n| Object::Name(n.to_vec())).collect();
    Some(Object::Array(names))
}

/// Decodes every stream but images once, within [`MAX_INFLATED`] for the whole file,
/// and stores it decoded: the reader would decode each with no bound. A stream whose
/// filters hold no text (image codecs) is read as empty.
pub(super) fn decode_within_budget(doc: &mut Document) -> Result<(), String> {
    let mut left = MAX_INFLATED;
    let ids: Vec<ObjectId> = doc.objects.iter().filter(|(_, o)| o.as_stream().is_ok()).map(|(&id, _)| id).collect();
    for id in ids {
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else { continue };
        // Images hold no text. The reader would decode them and run them as content
        // (its `Do` does not tell images from forms): they are emptied instead.
        let image = stream.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Image");
        let decoded = match image {
            true => Ok(Vec::new()),
            false => {
                let filter = stream.dict.get(b"Filter").ok().map(|f| resolved(doc, f));
                let params = stream.dict.get(b"DecodeParms").ok().map(|p| resolved(doc, p));
                pdf_filters::steps(filter.as_ref(), params.as_ref()).and_then(|steps| pdf_filters::decode(&stream.content, &steps, &mut left))
            }
        };
        let decoded = match decoded {
            Ok(data) => data,
            Err(Undecoded::OverBudget) => return Err(format!("PDF whose streams inflate past {MAX_INFLATED} bytes: not read")),
            Err(Undecoded::Unsupported(why)) => {
                tracing::debug!("PDF stream {id:?}: {why}");
                Vec::new()
            }
        };
        if let Ok(stream) = doc.get_object_mut(id).and_then(Object::as_stream_mut) {
            stream.set_plain_content(decoded);
        }
    }
    Ok(())
}

/// An object with references replaced by what they point at, itself and, for an
/// array, its items (a filter array may refer to its names or parameters).
pub(super) fn resolved(doc: &Document, object: &Object) -> Object {
    let deref = |o: &Object| match o {
        Object::Reference(id) => doc.get_object(*id).cloned().unwrap_or(Object::Null),
        other => other.clone(),
    };
    match deref(object) {
        Object::Array(items) => Object::Array(items.iter().map(deref).collect()),
        other => other,
    }
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
    let ranges: Vec<String> = (0u32..=0xFF).filter(|hi| !(0xD8..=0xDF).contains(hi)).map(|hi| format!("<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>")).collect();
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
