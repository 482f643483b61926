//! Paragraph properties ([MS-DOC] 2.9.33 `PlcBtePapx`, 2.9.175 `PapxFkp`): for a
//! paragraph mark's offset in the `WordDocument` stream, whether the paragraph is in
//! a table, whether it ends a table row, and the row's cell edges and merges.

use super::bytes::{i16_at, slice_at, u16_at, u32_at};
use super::sprms::sprms;

const FKP_PAGE: usize = 512;
const PF_IN_TABLE: u16 = 0x2416;
const PF_TTP: u16 = 0x2417;
const P_ITAP: u16 = 0x6649;
const P_HUGE_PAPX: u16 = 0x6646;
const T_DEF_TABLE: u16 = 0xD608;
const T_VERT_MERGE: u16 = 0xD62B;
const T_MERGE: u16 = 0x5624;
const T_SPLIT: u16 = 0x5625;

/// What nianbao needs of a paragraph's properties.
#[derive(Debug, Default)]
pub struct Props {
    pub in_table: bool,
    /// The paragraph is a table row's end mark (`TTP`); the row's definition is its.
    pub row_end: bool,
    pub row: Option<RowDef>,
}

/// A table row as `sprmTDefTable` and the merge sprms after it leave it.
#[derive(Debug, Clone, PartialEq)]
pub struct RowDef {
    /// The cells' edges in twips: one more than the cells.
    pub edges: Vec<i16>,
    pub cells: Vec<CellMerge>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CellMerge {
    /// Merged into the cell on its left.
    pub joins_left: bool,
    /// Merged into the cell above.
    pub joins_above: bool,
}

/// The paragraph property pages of a document, found by stream offset.
pub struct Paragraphs<'a> {
    word: &'a [u8],
    data: &'a [u8],
    /// `PlcBtePapx`: page boundaries (n + 1 offsets) and page numbers.
    plc: &'a [u8],
    pages: usize,
    prcs: &'a [Vec<u8>],
}

impl<'a> Paragraphs<'a> {
    pub fn new(word: &'a [u8], data: &'a [u8], plc: &'a [u8], prcs: &'a [Vec<u8>]) -> Paragraphs<'a> {
        let pages = plc.len().saturating_sub(4) / 8;
        Paragraphs { word, data, plc, pages, prcs }
    }

    /// The properties of the paragraph whose mark lies at `fc`, with the piece's
    /// modifier `prm` applied after them.
    pub fn at(&self, fc: u32, prm: u16) -> Props {
        let mut props = Props::default();
        if let Some(grpprl) = self.papx(fc) {
            self.apply(grpprl, &mut props);
        }
        // A complex modifier names a Prc; a simple one is one sprm, by its place in a
        // fixed table (0x18 sprmPFInTable, 0x19 sprmPFTtp), with a one-byte operand.
        if prm & 1 == 1 {
            if let Some(grpprl) = self.prcs.get(usize::from(prm >> 1)) {
                self.apply(grpprl, &mut props);
            }
        } else {
            match (prm >> 1) & 0x7F {
                0x18 => props.in_table = prm >> 8 != 0,
                0x19 => props.row_end = prm >> 8 != 0,
                _ => {}
            }
        }
        props
    }

    /// The `grpprl` of the PAPX covering `fc`, its style index skipped.
    fn papx(&self, fc: u32) -> Option<&'a [u8]> {
        let bound = |i: usize| u32_at(self.plc, i * 4).unwrap_or(u32::MAX);
        // The last page starting at or before `fc`, by binary search: a document has
        // as many marks as a page table has pages, and a scan for each is quadratic.
        let (mut low, mut high) = (0, self.pages);
        while low < high {
            let mid = low + (high - low) / 2;
            if bound(mid) <= fc { low = mid + 1 } else { high = mid }
        }
        let i = low.checked_sub(1)?;
        if fc >= bound(i + 1) {
            return None;
        }
        let pn = u32_at(self.plc, (self.pages + 1) * 4 + i * 4)? & 0x003F_FFFF;
        let page = slice_at(self.word, pn as usize * FKP_PAGE, FKP_PAGE)?;
        let runs = usize::from(page[FKP_PAGE - 1]);
        let run = (0..runs).find(|&j| u32_at(page, j * 4).is_some_and(|s| s <= fc) && u32_at(page, (j + 1) * 4).is_some_and(|e| fc < e))?;
        let at = usize::from(*page.get((runs + 1) * 4 + run * 13)?) * 2;
        if at == 0 {
            return None;
        }
        let grpprl_and_istd = match *page.get(at)? {
            0 => slice_at(page, at + 2, usize::from(*page.get(at + 1)?) * 2)?,
            cb => slice_at(page, at + 1, usize::from(cb) * 2 - 1)?,
        };
        grpprl_and_istd.get(2..)
    }

    fn apply(&self, grpprl: &[u8], props: &mut Props) {
        for (opcode, operand) in sprms(grpprl) {
            match opcode {
                // A PAPX too large for its page: its modifiers are in the Data stream.
                P_HUGE_PAPX => {
                    let at = u32_at(operand, 0).unwrap_or(u32::MAX) as usize;
                    let len = usize::from(u16_at(self.data, at).unwrap_or(0));
                    if let Some(huge) = slice_at(self.data, at + 2, len) {
                        // Not applied recursively: a huge PAPX cannot point to another.
                        for (o, v) in sprms(huge).filter(|(o, _)| *o != P_HUGE_PAPX) {
                            apply_one(o, v, props);
                        }
                    }
                }
                _ => apply_one(opcode, operand, props),
            }
        }
    }
}

/// One modifier of the table a paragraph is in, or of the row it ends.
fn apply_one(opcode: u16, operand: &[u8], props: &mut Props) {
    match opcode {
        PF_IN_TABLE => props.in_table = operand[0] != 0,
        PF_TTP => props.row_end = operand[0] != 0,
        P_ITAP => props.in_table = u32_at(operand, 0).is_some_and(|depth| depth > 0),
        T_DEF_TABLE => props.row = row_def(operand),
        T_VERT_MERGE => {
            if let (Some(row), Some(&itc), Some(&merge)) = (props.row.as_mut(), operand.first(), operand.get(1))
                && let Some(cell) = row.cells.get_mut(usize::from(itc))
            {
                cell.joins_above = merge == 1;
            }
        }
        T_MERGE | T_SPLIT => {
            if let (Some(row), Some(&first), Some(&lim)) = (props.row.as_mut(), operand.first(), operand.get(1)) {
                let merged = opcode == T_MERGE;
                for cell in row.cells.iter_mut().take(usize::from(lim)).skip(usize::from(first) + 1) {
                    cell.joins_left = merged;
                }
            }
        }
        _ => {}
    }
}

/// `TDefTableOperand`: the cell count, the edges, then a 20-byte `TC80` per cell
/// (possibly fewer) whose flags say how it is merged.
fn row_def(operand: &[u8]) -> Option<RowDef> {
    let cells = usize::from(*operand.first()?);
    let edges: Vec<i16> = (0..=cells).map(|i| i16_at(operand, 1 + i * 2)).collect::<Option<_>>()?;
    let tcs = 1 + (cells + 1) * 2;
    let cells = (0..cells)
        .map(|i| {
            let flags = u16_at(operand, tcs + i * 20).unwrap_or(0);
            // horzMerge (bits 0–1): 2 or 3 = merged with the previous cell;
            // vertMerge (bits 5–6): 1 = merged with the cell above.
            CellMerge { joins_left: flags & 0b11 >= 2, joins_above: (flags >> 5) & 0b11 == 1 }
        })
        .collect();
    Some(RowDef { edges, cells })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pieces_modifier_applies_after_the_paragraphs_own_properties() {
        let prcs = vec![vec![0x16, 0x24, 1, 0x17, 0x24, 1]];
        let paragraphs = Paragraphs::new(&[], &[], &[], &prcs);
        let complex = paragraphs.at(0, 1);
        assert!(complex.in_table && complex.row_end);
        // Simple modifiers: sprmPFInTable set, then sprmPFTtp set.
        assert!(paragraphs.at(0, (0x18 << 1) | (1 << 8)).in_table);
        let ttp = paragraphs.at(0, (0x19 << 1) | (1 << 8));
        assert!(ttp.row_end && !ttp.in_table);
        assert!(!paragraphs.at(0, 0).in_table);
    }

    #[test]
    fn a_marks_properties_come_from_the_page_and_run_that_cover_its_offset() {
        // Two FKP pages: bytes 0–99 (no properties) and 100–199 (in a table).
        let mut word = vec![0u8; 1024];
        for (pn, (start, end, in_table)) in [(0u32, 100u32, false), (100, 200, true)].into_iter().enumerate() {
            let page = &mut word[pn * 512..(pn + 1) * 512];
            page[0..4].copy_from_slice(&start.to_le_bytes());
            page[4..8].copy_from_slice(&end.to_le_bytes());
            if in_table {
                page[8] = 200; // the PAPX at byte 400: cb 3 (5 bytes: istd, sprmPFInTable 1)
                page[400..406].copy_from_slice(&[3, 0, 0, 0x16, 0x24, 1]);
            }
            page[511] = 1;
        }
        let plc: Vec<u8> = [0u32, 100, 200, 0, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
        let paragraphs = Paragraphs::new(&word, &[], &plc, &[]);
        assert_eq!([50, 150, 99, 100, 250].map(|fc| paragraphs.at(fc, 0).in_table), [false, true, false, true, false]);
    }

    #[test]
    fn a_row_definition_gives_edges_and_merges() {
        // Two cells: the second's TC80 says merged with the cell above (vertMerge 1).
        let mut operand = vec![2];
        for edge in [0i16, 1500, 3000] {
            operand.extend(edge.to_le_bytes());
        }
        operand.extend([0u8; 20]);
        let mut tc = [0u8; 20];
        tc[0] = 1 << 5;
        operand.extend(tc);
        let row = row_def(&operand).unwrap();
        assert_eq!(row.edges, vec![0, 1500, 3000]);
        assert_eq!(row.cells, vec![CellMerge::default(), CellMerge { joins_left: false, joins_above: true }]);
        // The TC80s may be fewer than the cells; the edges may not.
        assert_eq!(row_def(&operand[..7]).map(|r| r.cells.len()), Some(2));
        assert_eq!(row_def(&operand[..5]), None);
    }
}
