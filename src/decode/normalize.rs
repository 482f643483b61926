//! Text normalisation for comparing labels and reading numbers.
//!
//! Kept apart from decoding: the stored text stays as printed, and only the copies used
//! for matching are folded. Full-width ASCII (１２３，（）) becomes half-width, and
//! `&nbsp;`, ideographic spaces and line breaks become single spaces.

/// Folds full-width forms to ASCII and every run of whitespace (including U+00A0 and
/// U+3000) to one space, trimming both ends.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(&mut out, text);
    out
}

/// [`fold`], appending to `out`: for building one text of many folded pieces.
pub fn fold_into(out: &mut String, text: &str) {
    let start = out.len();
    let mut pending_space = false;
    for c in text.chars() {
        let c = fold_char(c);
        if c.is_whitespace() {
            pending_space = out.len() > start;
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
}

/// Like [`fold`] but drops whitespace entirely: labels are printed as 科 研 机 构 or
/// 商业<br>企业, and compare equal to 科研机构 and 商业企业.
pub fn fold_compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    out.extend(text.chars().map(fold_char).filter(|c| !c.is_whitespace()));
    out
}

fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{00A0}' => ' ',
        '“' | '”' => '"',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_digits_brackets_and_spaces() {
        assert_eq!(fold("（一）予以公开\u{3000}１２３，"), "(一)予以公开 123,");
        assert_eq!(fold("\u{a0}\u{a0}0\u{a0}\n "), "0");
        assert_eq!(fold("商业 \n 企业"), "商业 企业");
    }

    #[test]
    fn compact_removes_all_whitespace() {
        assert_eq!(fold_compact("科 研 机 构"), "科研机构");
        assert_eq!(fold_compact("结果\n纠正"), "结果纠正");
    }
}
