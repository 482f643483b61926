//! Characters the recognizer confuses in table cells, told apart by the cell itself.
//!
//! Two confusions change a figure. A cell printed `/` (no such item) reads as `1`:
//! the recognizer's dictionary is mostly CJK and its `/` and `1` are both one thin
//! stroke; the picture shows which, since a slash leans and a one stands upright. And
//! a zero reads as the letter `O`: a count cell holds digits only, so a run of digits
//! and O's is digits.

use super::{Gray, TextBox};

/// The lean (horizontal pixels per vertical pixel) beyond which a stroke is a slash:
/// a `/` in the fonts reports use leans 0.3 to 0.6, a `1` less than 0.1.
const SLASH_LEAN: f64 = 0.2;

/// A box's text with its confusions put right from the picture it was read in.
pub(super) fn tidied(picture: &Gray, ink: u8, b: &TextBox) -> String {
    let text = b.text.trim();
    if matches!(text, "1" | "l" | "I" | "|") && leans(picture, ink, b) {
        return "/".to_string();
    }
    if text.chars().all(|c| c.is_ascii_digit() || c == 'O' || c == 'o') && text.chars().any(|c| c == 'O' || c == 'o') {
        return text.replace(['O', 'o'], "0");
    }
    text.to_string()
}

/// Whether the ink in a one-stroke box leans as a slash does (its top to the right).
/// The box's edges are left out, where a cell border may run; rows that are mostly
/// ink are a border too.
fn leans(picture: &Gray, ink: u8, b: &TextBox) -> bool {
    let inset = (b.right - b.left) * 0.15;
    let (x0, x1) = ((b.left + inset).max(0.0) as usize, ((b.right - inset) as usize).min(picture.width));
    let (y0, y1) = (b.top.max(0.0) as usize, (b.bottom as usize).min(picture.height));
    let mut points: Vec<(f64, f64)> = Vec::new();
    for y in y0..y1 {
        let dark: Vec<usize> = (x0..x1).filter(|&x| picture.at(x, y) < ink).collect();
        if !dark.is_empty() && dark.len() * 2 <= x1.saturating_sub(x0) {
            points.extend(dark.into_iter().map(|x| (x as f64, y as f64)));
        }
    }
    if points.len() < 8 {
        return false;
    }
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let (cov, var) = points.iter().fold((0.0, 0.0), |(c, v), (x, y)| (c + (x - mx) * (y - my), v + (y - my) * (y - my)));
    // y grows downwards: a slash's x falls as y grows.
    var > 0.0 && -cov / var > SLASH_LEAN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(text: &str) -> TextBox {
        TextBox { left: 10.0, top: 10.0, right: 30.0, bottom: 40.0, text: text.to_string(), confidence: 0.9 }
    }

    /// A 40 × 50 picture with one stroke from (x_bottom, 38) up to (x_top, 12), 2 pixels wide.
    fn stroke(x_bottom: f64, x_top: f64) -> Gray {
        let mut g = Gray::blank(40, 50);
        for y in 12..=38 {
            let x = x_bottom + (x_top - x_bottom) * (38 - y) as f64 / 26.0;
            g.set(x.round() as usize, y, 0);
            g.set(x.round() as usize + 1, y, 0);
        }
        g
    }

    #[test]
    fn a_leaning_stroke_read_as_one_is_a_slash_and_an_upright_one_stays() {
        assert_eq!(tidied(&stroke(14.0, 25.0), 215, &boxed("1")), "/");
        assert_eq!(tidied(&stroke(20.0, 20.0), 215, &boxed("1")), "1");
        // Only a lone stroke is looked at: a figure stays as read.
        assert_eq!(tidied(&stroke(14.0, 25.0), 215, &boxed("11")), "11");
    }

    #[test]
    fn letters_o_among_digits_are_zeros() {
        let blank = Gray::blank(40, 50);
        assert_eq!(tidied(&blank, 215, &boxed("O")), "0");
        assert_eq!(tidied(&blank, 215, &boxed("1o5")), "105");
        assert_eq!(tidied(&blank, 215, &boxed("Other")), "Other");
        assert_eq!(tidied(&blank, 215, &boxed("其他")), "其他");
    }
}
