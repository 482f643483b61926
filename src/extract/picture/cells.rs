//! Ruled cells the detector read wrongly on the whole picture, to be read again on
//! their own: a cell that holds ink but no text line (a lone thin digit, a `1` or a
//! `3` in small print, is the likeliest line for a detector to miss), and the cells
//! under a line that runs across a cell border (the detector joined the texts of
//! neighbouring cells, a short label and the figure beside it).

use super::pdf_grid_cells;
use super::{Gray, TextBox};
use crate::extract::pdf_glyphs::Rule;

/// Pixels kept clear of a cell's borders when looking for ink in it.
const INSET: usize = 3;

/// Ink pixels, each touching another, that make a cell worth reading again: scan
/// speckle is single pixels; the thinnest digit has a few dozen.
const MIN_INK: usize = 12;

/// How far a border may reach into a text line's box before the line is taken to
/// run across it: boxes are drawn a little larger than their text.
const SLACK: f64 = 4.0;

/// The text lines that stay within one cell: a line running across a vertical
/// border is left out, and the cells it lay over are then read again.
pub(super) fn within_cells(boxes: Vec<TextBox>, rules: &[Rule], height: f64) -> Vec<TextBox> {
    let crosses = |b: &TextBox, r: &Rule| {
        let y = height - (b.top + b.bottom) / 2.0;
        !r.horizontal && r.at > b.left + SLACK && r.at < b.right - SLACK && r.from <= y && r.to >= y
    };
    boxes.into_iter().filter(|b| !rules.iter().any(|r| crosses(b, r))).collect()
}

/// A cell in picture pixels (y downwards), within its borders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Area {
    pub left: usize,
    pub top: usize,
    pub right: usize,
    pub bottom: usize,
}

/// The ruled cells of a picture that hold ink but no box's centre.
pub(super) fn unread(picture: &Gray, rules: &[Rule], boxes: &[TextBox]) -> Vec<Area> {
    let ink = picture.ink();
    let height = picture.height as f64;
    pdf_grid_cells(rules)
        .into_iter()
        .filter_map(|(left, right, bottom, top)| {
            let (y0, y1) = (height - top, height - bottom);
            let holds = |b: &TextBox| {
                let (x, y) = ((b.left + b.right) / 2.0, (b.top + b.bottom) / 2.0);
                x > left && x < right && y > y0 && y < y1
            };
            if boxes.iter().any(holds) {
                return None;
            }
            let area = Area {
                left: left as usize + INSET,
                top: y0 as usize + INSET,
                right: (right as usize).saturating_sub(INSET),
                bottom: (y1 as usize).saturating_sub(INSET),
            };
            (area.right > area.left && area.bottom > area.top && inked(picture, ink, area) >= MIN_INK).then_some(area)
        })
        .collect()
}

/// Ink pixels in an area that touch another ink pixel.
fn inked(picture: &Gray, ink: u8, a: Area) -> usize {
    let dark = |x: usize, y: usize| x < picture.width && y < picture.height && picture.at(x, y) < ink;
    let mut count = 0;
    for y in a.top..a.bottom.min(picture.height) {
        for x in a.left..a.right.min(picture.width) {
            if dark(x, y) && (dark(x + 1, y) || dark(x, y + 1) || (x > 0 && dark(x - 1, y)) || (y > 0 && dark(x, y - 1))) {
                count += 1;
            }
        }
    }
    count
}

/// The area cut out of the picture with a white margin, for reading on its own.
pub(super) fn cut(picture: &Gray, a: Area, margin: usize) -> Gray {
    let (w, h) = (a.right - a.left + 2 * margin, a.bottom - a.top + 2 * margin);
    let mut out = Gray::blank(w, h);
    for y in a.top..a.bottom.min(picture.height) {
        for x in a.left..a.right.min(picture.width) {
            out.set(x - a.left + margin, y - a.top + margin, picture.at(x, y));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two rows of two ruled cells, 100 × 40 pixels each (a table has two rows at least).
    fn two_cells() -> (Gray, Vec<Rule>) {
        let mut g = Gray::blank(220, 100);
        for y in [10, 50, 90] {
            (10..211).for_each(|x| g.set(x, y, 0));
        }
        for x in [10, 110, 210] {
            (10..91).for_each(|y| g.set(x, y, 0));
        }
        let rules = super::super::rules::rules(&g);
        (g, rules)
    }

    #[test]
    fn a_cell_with_a_stroke_and_no_box_is_read_again_and_speckle_is_not() {
        let (mut g, rules) = two_cells();
        // Speckle in both cells.
        for (x, y) in [(30, 20), (50, 35), (130, 65), (170, 80)] {
            g.set(x, y, 150);
        }
        assert_eq!(unread(&g, &rules, &[]), vec![]);
        // A thin upright stroke, a "1", in the right-hand cell.
        (58..82).for_each(|y| g.set(160, y, 0));
        let found = unread(&g, &rules, &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].left > 110 && found[0].right < 210 && found[0].top > 50);
        // Once a box's centre lies in it, it is read.
        let read = TextBox { left: 155.0, top: 58.0, right: 165.0, bottom: 82.0, text: "1".into(), confidence: 0.9 };
        assert_eq!(unread(&g, &rules, &[read]), vec![]);
        assert_eq!(cut(&g, found[0], 8).width, found[0].right - found[0].left + 16);
    }

    #[test]
    fn a_line_read_across_a_border_is_left_out_and_one_within_its_cell_kept() {
        let (g, rules) = two_cells();
        let line = |left: f64, right: f64| TextBox { left, top: 58.0, right, bottom: 82.0, text: "规章 1".into(), confidence: 0.9 };
        let kept = within_cells(vec![line(20.0, 100.0), line(60.0, 160.0), line(106.0, 150.0)], &rules, g.height as f64);
        assert_eq!(kept.iter().map(|b| b.left).collect::<Vec<_>>(), [20.0, 106.0]);
    }
}
