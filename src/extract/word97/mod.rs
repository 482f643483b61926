//! Word 97–2003 binary documents (`.doc`, and the `.wps` files Kingsoft's WPS
//! Office saves in Word's format) → the HTML the table extractor reads, as
//! `office` does for `.docx`.
//!
//! The compound file is opened by the `cfb` crate; the rest follows [MS-DOC]: the
//! FIB (`fib`) names the table stream and the piece table (`pieces`), which gives the
//! main text; each paragraph mark's properties (`paragraphs`) say whether it is in a
//! table and whether it ends a row, whose definition gives the cells' edges and
//! merges (`rows` turns them into spans). Footnotes, headers, comments and text
//! boxes lie after the main text and are not read; a field's instructions are
//! skipped and its result kept.
//!
//! Every offset comes from an untrusted file: streams are read no further than a cap,
//! and an offset outside its stream refuses the file with a reason.

mod bytes;
mod fib;
mod paragraphs;
mod pieces;
mod rows;
mod sprms;

use std::io::{Cursor, Read};

use anyhow::{Context, Result};

use fib::Fib;
use paragraphs::Paragraphs;
use rows::Body;

/// A stream of a Word file read into memory, at the most.
const MAX_STREAM: u64 = 64 << 20;

/// Converts a Word 97–2003 document's main text to HTML: paragraphs as `<p>`,
/// tables as `<table>` with their merged cells as spans.
pub fn doc_to_html(bytes: &[u8]) -> Result<String> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).context("not a compound file")?;
    let word = read_stream(&mut file, "WordDocument", bytes.len())?;
    let fib = Fib::read(&word)?;
    let table = read_stream(&mut file, fib.table_stream, bytes.len())?;
    // The Data stream holds only what paragraphs too large for their page point to.
    let data = if file.is_stream("Data") { read_stream(&mut file, "Data", bytes.len())? } else { Vec::new() };
    let text = pieces::main_text(&fib, &word, &table)?;
    let plc = bytes::slice_at(&table, fib.plcf_bte_papx.fc as usize, fib.plcf_bte_papx.lcb as usize).unwrap_or_default();
    let paragraphs = Paragraphs::new(&word, &data, plc, &text.prcs);
    let mut body = Body::default();
    let mut fields = Fields::default();
    let mut paragraph = Vec::new();
    for (i, &unit) in text.units.iter().enumerate() {
        match unit {
            0x0D | 0x07 | 0x0C => {
                let props = paragraphs.at(text.fcs[i], text.prms[i]);
                body.paragraph(&String::from_utf16_lossy(&paragraph), unit == 0x07, &props);
                paragraph.clear();
            }
            _ => {
                if let Some(unit) = fields.keep(unit) {
                    paragraph.push(unit);
                }
            }
        }
    }
    body.paragraph(&String::from_utf16_lossy(&paragraph), false, &paragraphs::Props::default());
    Ok(body.finish())
}

/// A stream's bytes, within the cap; a stream claiming more bytes than the whole
/// file has is refused before any is read.
fn read_stream(file: &mut cfb::CompoundFile<Cursor<&[u8]>>, name: &str, file_len: usize) -> Result<Vec<u8>> {
    let stream = file.open_stream(name).with_context(|| format!("no {name} stream"))?;
    anyhow::ensure!(stream.len() <= file_len as u64, "the {name} stream claims {} bytes in a file of {file_len}: not read", stream.len());
    let mut bytes = Vec::new();
    stream.take(MAX_STREAM + 1).read_to_end(&mut bytes).with_context(|| format!("unreadable {name} stream"))?;
    anyhow::ensure!(bytes.len() as u64 <= MAX_STREAM, "{name} stream larger than {MAX_STREAM} bytes: not read");
    Ok(bytes)
}

/// Fields (`0x13` instructions `0x14` result `0x15`, nested): the instructions are
/// not text, the result is.
#[derive(Default)]
struct Fields {
    /// One entry per open field: whether its result has begun.
    open: Vec<bool>,
    /// Open fields still in their instructions: text is kept only when none is.
    in_instructions: usize,
}

impl Fields {
    /// The unit as text, or `None` for a field mark, an instruction or a control
    /// character (pictures, footnote references, optional hyphens).
    fn keep(&mut self, unit: u16) -> Option<u16> {
        match unit {
            0x13 => {
                self.open.push(false);
                self.in_instructions += 1;
            }
            0x14 => {
                if let Some(result) = self.open.last_mut().filter(|result| !**result) {
                    *result = true;
                    self.in_instructions -= 1;
                }
            }
            0x15 => {
                if self.open.pop() == Some(false) {
                    self.in_instructions -= 1;
                }
            }
            _ if self.in_instructions > 0 => {}
            0x09 | 0x0B => return Some(u16::from(b' ')),
            0x1E => return Some(u16::from(b'-')),
            0x00..=0x1F => {}
            _ => return Some(unit),
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fields_result_is_text_and_its_instructions_are_not() {
        // A hyperlink field around a number, with a page field nested in its
        // instructions, and a picture mark and a tab in the text.
        let units: Vec<u16> = "共\u{13} HYPERLINK \u{13}PAGE\u{14}3\u{15}\u{14}12\u{15}件\u{1}\u{9}完".encode_utf16().collect();
        let mut fields = Fields::default();
        let kept: Vec<u16> = units.into_iter().filter_map(|u| fields.keep(u)).collect();
        assert_eq!(String::from_utf16_lossy(&kept), "共12件 完");
    }
}
