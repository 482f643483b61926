//! The piece table ([MS-DOC] 2.4.1, 2.9.38 `Clx`): where each run of the document's
//! characters lies in the `WordDocument` stream, as 8-bit ("compressed", Windows-1252)
//! or UTF-16 text, and the property modifiers (`Prc`) pieces may point to.

use anyhow::{Result, bail, ensure};

use super::bytes::{slice_at, u16_at, u32_at};
use super::fib::Fib;

/// Pieces in one document, at the most: a saved document has a handful, a fast-saved
/// one a few thousand.
const MAX_PIECES: usize = 100_000;
/// Characters of main text read, at the most (a report has tens of thousands).
const MAX_CHARS: u32 = 16 << 20;

/// The main document's text, a UTF-16 unit at a time, with where each unit lies in
/// the `WordDocument` stream and the piece modifier it had: paragraph properties are
/// found by the stream offset of a paragraph's mark.
pub struct Text {
    pub units: Vec<u16>,
    pub fcs: Vec<u32>,
    pub prms: Vec<u16>,
    /// The `grpprl`s of the `Prc`s, which a piece's complex `prm` names by index.
    pub prcs: Vec<Vec<u8>>,
}

struct Piece {
    cp_start: u32,
    cp_end: u32,
    /// Byte offset in the `WordDocument` stream.
    fc: u32,
    compressed: bool,
    prm: u16,
}

/// Reads the main text: character positions 0 to `ccp_text`, piece by piece.
pub fn main_text(fib: &Fib, word: &[u8], table: &[u8]) -> Result<Text> {
    let clx = slice_at(table, fib.clx.fc as usize, fib.clx.lcb as usize).ok_or_else(|| anyhow::anyhow!("piece table outside the table stream"))?;
    let (prcs, pieces) = read_clx(clx)?;
    let wanted = fib.ccp_text.min(MAX_CHARS);
    let mut text = Text { units: Vec::new(), fcs: Vec::new(), prms: Vec::new(), prcs };
    for piece in pieces.iter().filter(|p| p.cp_start < wanted) {
        let count = (piece.cp_end.min(wanted) - piece.cp_start) as usize;
        let width = if piece.compressed { 1 } else { 2 };
        let bytes = slice_at(word, piece.fc as usize, count * width).ok_or_else(|| anyhow::anyhow!("a piece of text outside the document stream"))?;
        if piece.compressed {
            let (decoded, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            text.units.extend(decoded.encode_utf16());
        } else {
            text.units.extend(bytes.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])));
        }
        text.fcs.extend((0..count as u32).map(|i| piece.fc + i * width as u32));
        text.prms.extend(std::iter::repeat_n(piece.prm, count));
    }
    Ok(text)
}

/// The `Prc`s and the pieces of a `Clx`.
fn read_clx(clx: &[u8]) -> Result<(Vec<Vec<u8>>, Vec<Piece>)> {
    let mut prcs = Vec::new();
    let mut at = 0;
    loop {
        match clx.get(at) {
            Some(1) => {
                let len = usize::from(u16_at(clx, at + 1).unwrap_or(0));
                let grpprl = slice_at(clx, at + 3, len).ok_or_else(|| anyhow::anyhow!("property modifiers past the piece table"))?;
                prcs.push(grpprl.to_vec());
                at += 3 + len;
            }
            Some(2) => break,
            _ => bail!("no piece table in the document"),
        }
    }
    let lcb = u32_at(clx, at + 1).unwrap_or(0) as usize;
    let plc = slice_at(clx, at + 5, lcb).ok_or_else(|| anyhow::anyhow!("piece table longer than its stream"))?;
    ensure!(lcb >= 4 && (lcb - 4).is_multiple_of(12), "piece table of {lcb} bytes");
    let n = (lcb - 4) / 12;
    ensure!(n <= MAX_PIECES, "{n} pieces of text (more than {MAX_PIECES}): not read");
    let cp = |i: usize| u32_at(plc, i * 4).unwrap_or(0);
    let mut pieces = Vec::with_capacity(n);
    for i in 0..n {
        let pcd = 4 * (n + 1) + i * 8;
        let raw = u32_at(plc, pcd + 2).unwrap_or(0);
        let compressed = raw & 0x4000_0000 != 0;
        let fc = raw & 0x3FFF_FFFF;
        let (cp_start, cp_end) = (cp(i), cp(i + 1));
        ensure!(cp_start <= cp_end && (i == 0 || cp_start >= pieces.last().map_or(0, |p: &Piece| p.cp_end)), "piece table out of order");
        pieces.push(Piece { cp_start, cp_end, fc: if compressed { fc / 2 } else { fc }, compressed, prm: u16_at(plc, pcd + 6).unwrap_or(0) });
    }
    Ok((prcs, pieces))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::word97::fib::Span;

    #[test]
    fn compressed_and_utf16_pieces_read_as_one_text_with_their_stream_offsets() {
        // A Prc (a modifier a piece may name), then the pieces: "A“B" as 8-bit
        // Windows-1252 at byte 100 (fc stored doubled, with the compressed bit), then
        // "年报" as UTF-16 at byte 200.
        let mut clx = vec![1, 3, 0, 0x16, 0x24, 1, 2, 28, 0, 0, 0];
        for cp in [0u32, 3, 5] {
            clx.extend(cp.to_le_bytes());
        }
        for (fc, prm) in [(200u32 | 0x4000_0000, 1u16), (200, 0)] {
            clx.extend([0, 0]);
            clx.extend(fc.to_le_bytes());
            clx.extend(prm.to_le_bytes());
        }
        let mut word = vec![0u8; 210];
        word[100..103].copy_from_slice(b"A\x93B");
        word[200..204].copy_from_slice(&[0x74, 0x5E, 0xA5, 0x62]);
        let fib = Fib { table_stream: "1Table", ccp_text: 5, clx: Span { fc: 0, lcb: clx.len() as u32 }, plcf_bte_papx: Span { fc: 0, lcb: 0 } };
        let text = main_text(&fib, &word, &clx).unwrap();
        assert_eq!(String::from_utf16(&text.units).unwrap(), "A“B年报");
        assert_eq!(text.fcs, vec![100, 101, 102, 200, 202]);
        assert_eq!(text.prms, vec![1, 1, 1, 0, 0]);
        assert_eq!(text.prcs, vec![vec![0x16, 0x24, 1]]);
        // The same table with a piece sent past the stream's end is refused.
        let short = &word[..201];
        assert_eq!(main_text(&fib, short, &clx).err().map(|e| e.to_string()).as_deref(), Some("a piece of text outside the document stream"));
    }
}
