//! Cell text → number, unit and note, keeping what was printed.
//!
//! `834.6435 (不含…)` is 834.6435 with a note; `251000元` is 251000 in 元; `１２３` is
//! 123; `1,234` is 1234; `-18` is −18. A blank cell is no value at all (never 0), and
//! `/`, `—`, `-`, `无` are printed "nothing" marks: a fact with a null value.

use crate::decode::normalize::fold;

/// What a non-blank cell holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CellValue {
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub note: Option<String>,
}

const NOTHING_MARKS: &[&str] = &["/", "\\", "—", "——", "-", "--", "－", "无", "空", "–"];
const UNITS: &[&str] = &["万元", "元", "件", "个", "项", "条", "次", "人次", "家"];

/// Reads a cell. `None` means blank: nothing printed, so no fact.
pub fn parse_cell(raw: &str) -> Option<CellValue> {
    let text = fold(raw);
    if text.is_empty() {
        return None;
    }
    if NOTHING_MARKS.contains(&text.as_str()) {
        return Some(CellValue { value: None, unit: None, note: None });
    }
    let (number, rest) = leading_number(&text);
    let Some(value) = number else {
        return Some(CellValue { value: None, unit: None, note: Some(text) });
    };
    let rest = rest.trim_start();
    let unit = UNITS.iter().find(|u| rest.starts_with(*u)).map(|u| u.to_string());
    let note = rest[unit.as_ref().map_or(0, String::len)..].trim();
    Some(CellValue { value: Some(value), unit, note: (!note.is_empty()).then(|| note.to_string()) })
}

/// Whether a cell reads as a number (header rows have none).
pub fn is_numeric(raw: &str) -> bool {
    parse_cell(raw).is_some_and(|v| v.value.is_some())
}

/// Splits a leading number (sign, digits with thousands separators, one decimal point)
/// from the rest of the text.
fn leading_number(text: &str) -> (Option<f64>, &str) {
    let (negative, body) = match text.strip_prefix('-').or_else(|| text.strip_prefix('−')) {
        Some(body) => (true, body),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let bytes = body.as_bytes();
    let mut digits = String::from(if negative { "-" } else { "" });
    let mut seen_point = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'0'..=b'9' => digits.push(bytes[i] as char),
            b',' if i > 0 && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {}
            b'.' if !seen_point && i > 0 && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                seen_point = true;
                digits.push('.');
            }
            _ => break,
        }
        i += 1;
    }
    if i == 0 {
        return (None, text);
    }
    (digits.parse().ok(), &body[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(raw: &str) -> Option<f64> {
        parse_cell(raw).and_then(|c| c.value)
    }

    #[test]
    fn numbers_in_the_shapes_reports_print() {
        assert_eq!(v("156993"), Some(156993.0));
        assert_eq!(v("834.6435"), Some(834.6435));
        assert_eq!(v("1,234"), Some(1234.0));
        assert_eq!(v("１２３"), Some(123.0));
        assert_eq!(v("-18"), Some(-18.0));
        assert_eq!(v("\u{a0}\u{a0}0\u{a0}"), Some(0.0));
    }

    #[test]
    fn units_and_notes_are_kept_apart() {
        let c = parse_cell("251000元").unwrap();
        assert_eq!((c.value, c.unit.as_deref()), (Some(251000.0), Some("元")));
        let c = parse_cell("834.6435 (不含区发展改革局2024年行政事业性收费)").unwrap();
        assert_eq!(c.value, Some(834.6435));
        assert_eq!(c.note.as_deref(), Some("(不含区发展改革局2024年行政事业性收费)"));
    }

    #[test]
    fn blank_is_none_and_marks_are_null() {
        assert_eq!(parse_cell(" \u{a0}\u{3000}"), None);
        for mark in ["/", "—", "-", "无"] {
            assert_eq!(parse_cell(mark).unwrap().value, None, "{mark}");
        }
        assert_eq!(v("不适用"), None);
    }
}
