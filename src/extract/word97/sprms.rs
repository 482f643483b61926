//! Property modifiers ([MS-DOC] 2.6 `Sprm`, 2.2.5.1 `Prl`): an opcode and its
//! operand, whose length the opcode's `spra` bits give.

use super::bytes::{slice_at, u16_at};

const TDEF_TABLE: u16 = 0xD608;
const TDEF_TABLE10: u16 = 0xD606;
const PCHG_TABS: u16 = 0xC615;

/// The sprms of a `grpprl`, each with its operand; the walk stops at the first one
/// that runs past the end.
pub fn sprms(grpprl: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let opcode = u16_at(grpprl, at)?;
        let (skip, len) = operand_len(opcode, &grpprl[at + 2..])?;
        let operand = slice_at(grpprl, at + 2 + skip, len)?;
        at += 2 + skip + len;
        Some((opcode, operand))
    })
}

/// How many length bytes precede the operand, and the operand's length.
fn operand_len(opcode: u16, rest: &[u8]) -> Option<(usize, usize)> {
    Some(match opcode >> 13 {
        0 | 1 => (0, 1),
        2 | 4 | 5 => (0, 2),
        3 => (0, 4),
        7 => (0, 3),
        // The table definition's two-byte count is its length plus one.
        _ if opcode == TDEF_TABLE || opcode == TDEF_TABLE10 => (2, usize::from(u16_at(rest, 0)?).checked_sub(1)?),
        // A tab change of 255 bytes has a layout of its own; nothing after it is needed.
        _ if opcode == PCHG_TABS && *rest.first()? == 255 => return None,
        _ => (1, usize::from(*rest.first()?)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands_are_as_long_as_their_opcode_says() {
        // sprmPFInTable (1 byte), sprmPItap (4), a variable one (2 + its count byte),
        // and a table definition whose count is one more than its operand.
        let grpprl = [0x16, 0x24, 1, 0x49, 0x66, 1, 0, 0, 0, 0x2B, 0xD6, 2, 0, 3, 0x08, 0xD6, 3, 0, 7, 9, 0x17, 0x24, 1];
        let read: Vec<(u16, Vec<u8>)> = sprms(&grpprl).map(|(o, v)| (o, v.to_vec())).collect();
        assert_eq!(read, vec![(0x2416, vec![1]), (0x6649, vec![1, 0, 0, 0]), (0xD62B, vec![0, 3]), (0xD608, vec![7, 9]), (0x2417, vec![1])]);
    }

    #[test]
    fn a_sprm_cut_short_ends_the_walk() {
        assert_eq!(sprms(&[0x16, 0x24, 1, 0x49, 0x66, 1]).count(), 1);
        assert_eq!(sprms(&[0x08, 0xD6, 0, 0]).count(), 0);
    }
}
