//! The File Information Block at the start of a Word 97–2003 `WordDocument` stream
//! ([MS-DOC] 2.5): which table stream holds the document's structures, how long the
//! main text is, and where its piece table and paragraph properties are.

use anyhow::{Result, bail, ensure};

use super::bytes::{u16_at, u32_at};

/// `wIdent` of a Word binary document.
const WORD_IDENT: u16 = 0xA5EC;
/// `nFib` of Word 97 and later; Word 6 and 95 files (101–105) have another layout.
const WORD97_NFIB: u16 = 0x00C1;
/// Indexes of the (fc, lcb) pairs nianbao reads in `FibRgFcLcb97`.
const PLCF_BTE_PAPX: usize = 13;
const CLX: usize = 33;

/// Where a structure lies in the table stream: offset and length in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub fc: u32,
    pub lcb: u32,
}

#[derive(Debug)]
pub struct Fib {
    /// `1Table` or `0Table`.
    pub table_stream: &'static str,
    /// Characters of the main document; footnotes, headers, comments and text boxes
    /// follow it in the character positions and are not read.
    pub ccp_text: u32,
    pub clx: Span,
    pub plcf_bte_papx: Span,
}

impl Fib {
    pub fn read(word: &[u8]) -> Result<Fib> {
        ensure!(word.len() >= 34 && u16_at(word, 0) == Some(WORD_IDENT), "no Word document header");
        let n_fib = u16_at(word, 2).unwrap_or(0);
        if n_fib < WORD97_NFIB - 1 {
            bail!("a Word 6/95 document (nFib {n_fib}): only Word 97 and later are read");
        }
        let flags = u16_at(word, 0x0A).unwrap_or(0);
        ensure!(flags & 0x0100 == 0, "an encrypted Word document: not read");
        let csw = usize::from(u16_at(word, 32).unwrap_or(0));
        let at_lw = 34 + csw * 2;
        let cslw = usize::from(u16_at(word, at_lw).ok_or_else(cut_short)?);
        let lw = at_lw + 2;
        ensure!(cslw > 3, "Word document header too short");
        let ccp_text = u32_at(word, lw + 12).ok_or_else(cut_short)?;
        let at_blob = lw + cslw * 4;
        let pairs = usize::from(u16_at(word, at_blob).ok_or_else(cut_short)?);
        ensure!(pairs > CLX, "Word document header without a piece table");
        let blob = at_blob + 2;
        let span = |index: usize| -> Result<Span> {
            Ok(Span { fc: u32_at(word, blob + index * 8).ok_or_else(cut_short)?, lcb: u32_at(word, blob + index * 8 + 4).ok_or_else(cut_short)? })
        };
        let table_stream = if flags & 0x0200 != 0 { "1Table" } else { "0Table" };
        Ok(Fib { table_stream, ccp_text, clx: span(CLX)?, plcf_bte_papx: span(PLCF_BTE_PAPX)? })
    }
}

/// A field the header should have and does not.
fn cut_short() -> anyhow::Error {
    anyhow::anyhow!("Word document header cut short")
}
