//! A picture's ruling lines: the long straight runs of dark pixels that a table's
//! cell borders leave in a screenshot or a scan.
//!
//! A run counts when it is longer than any stroke of the text (a template cell is at
//! least four characters wide; the longest stroke, 一, is one). Runs on neighbouring
//! pixel rows that overlap are one line drawn two pixels thick, or a line left a
//! pixel off straight by the scanner; each line becomes a [`Rule`] in PDF space (y
//! upwards), for the PDF's own table builder.

use super::Gray;
use crate::extract::pdf_glyphs::Rule;

/// The shortest run of ink taken for a line, in pixels.
const MIN_RULE: usize = 40;

/// Light pixels a line may skip (a gap the scan or JPEG left in it).
const GAP: usize = 2;

/// Rows apart, at most, for two runs to be one line.
const THICK: usize = 2;

/// The narrowest cell, in pixels: parallel lines closer than this are one.
const MIN_CELL: f64 = 8.0;

/// How far apart, at most, a rule's end and a rule across it still meet, in pixels.
const MEET: f64 = 3.0;

/// Rules in one picture, at the most, for finding which meet (every pair is compared):
/// a template table has a few hundred; a picture with more is drawn art or noise.
const MAX_RULES: usize = 4000;

/// The ruling lines of a picture, horizontal and vertical.
pub(super) fn rules(picture: &Gray) -> Vec<Rule> {
    let (h, ink) = (picture.height as f64, picture.ink());
    let across = lines((0..picture.height).map(|y| runs((0..picture.width).map(|x| picture.at(x, y)), ink)));
    let down = lines((0..picture.width).map(|x| runs((0..picture.height).map(|y| picture.at(x, y)), ink)));
    let horizontal = across.into_iter().map(|l| Rule { horizontal: true, at: h - l.at, from: l.from as f64, to: l.to as f64 });
    let vertical = down.into_iter().map(|l| Rule { horizontal: false, at: l.at, from: h - l.to as f64, to: h - l.from as f64 });
    joined(horizontal.chain(vertical).collect())
}

/// The rules that meet two others across them, their ends brought to the last rule
/// they meet. A table's borders always meet; a run of text strokes that lines up for
/// [`MIN_RULE`] pixels (the tops of 二三五, antialiased) lies inside a cell and meets
/// none. An end that overshoots the border it meets by a pixel or two would make a
/// sliver of a column of its own.
fn joined(rules: Vec<Rule>) -> Vec<Rule> {
    if rules.len() > MAX_RULES {
        return Vec::new();
    }
    let meets =
        |a: &Rule, b: &Rule| a.horizontal != b.horizontal && b.at >= a.from - MEET && b.at <= a.to + MEET && a.at >= b.from - MEET && a.at <= b.to + MEET;
    rules
        .iter()
        .filter_map(|rule| {
            let met: Vec<f64> = rules.iter().filter(|other| meets(rule, other)).map(|other| other.at).collect();
            let (first, last) = (met.iter().copied().fold(f64::INFINITY, f64::min), met.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            let trim = |end: f64, border: f64| if (end - border).abs() < MIN_CELL { border } else { end };
            (met.len() >= 2).then(|| Rule { from: trim(rule.from, first), to: trim(rule.to, last), ..*rule })
        })
        .collect()
}

/// Runs of ink (darker than `ink`) at least [`MIN_RULE`] long along one pixel row or
/// column: where each starts and ends (exclusive).
fn runs(pixels: impl Iterator<Item = u8>, ink: u8) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut run: Option<(usize, usize)> = None;
    for i in pixels.enumerate().filter(|&(_, p)| p < ink).map(|(i, _)| i) {
        run = match run {
            Some((start, end)) if i <= end + GAP => Some((start, i + 1)),
            Some(done) => {
                out.push(done);
                Some((i, i + 1))
            }
            None => Some((i, i + 1)),
        };
    }
    out.extend(run);
    out.retain(|&(start, end)| end - start >= MIN_RULE);
    out
}

/// A line: the mean position across it, and its extent along it.
struct Line {
    at: f64,
    from: usize,
    to: usize,
    /// The last row or column it was seen on, and how many it covers.
    last: usize,
    count: usize,
}

/// The runs of successive rows (or columns) joined into lines.
fn lines(rows: impl Iterator<Item = Vec<(usize, usize)>>) -> Vec<Line> {
    let mut done: Vec<Line> = Vec::new();
    let mut open: Vec<Line> = Vec::new();
    for (i, runs) in rows.enumerate() {
        let (stale, live): (Vec<Line>, Vec<Line>) = open.into_iter().partition(|l| l.last + THICK < i);
        done.extend(stale);
        open = live;
        for (from, to) in runs {
            // Overlapping, or end to end as the steps of a slightly tilted line are.
            let meets = |l: &Line| from <= l.to + GAP && l.from <= to + GAP;
            match open.iter_mut().find(|l| l.last < i && meets(l)) {
                Some(l) => {
                    l.at = (l.at * l.count as f64 + i as f64) / (l.count + 1) as f64;
                    (l.from, l.to, l.last, l.count) = (l.from.min(from), l.to.max(to), i, l.count + 1);
                }
                None => open.push(Line { at: i as f64, from, to, last: i, count: 1 }),
            }
        }
    }
    done.extend(open);
    done.sort_by(|a, b| a.at.total_cmp(&b.at));
    merged_close(done)
}

/// Lines closer than [`MIN_CELL`] that overlap, as one: a rule blurred by the scan or
/// its JPEG leaves a faint twin beside it, and a sliver of a cell between the two
/// would take a column of its own.
fn merged_close(lines: Vec<Line>) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    for line in lines {
        let twin = out.iter_mut().rev().take_while(|l| line.at - l.at < MIN_CELL).find(|l| line.from < l.to && l.from < line.to);
        match twin {
            Some(l) => {
                l.at = (l.at * l.count as f64 + line.at * line.count as f64) / (l.count + line.count) as f64;
                (l.from, l.to, l.count) = (l.from.min(line.from), l.to.max(line.to), l.count + line.count);
            }
            None => out.push(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A white picture with a 3 × 2 grid of cells drawn in 1-pixel black lines, a
    /// second horizontal line drawn 2 pixels thick, and a word's worth of short strokes.
    fn ruled() -> Gray {
        let mut g = Gray::blank(300, 200);
        for y in [10, 60, 61, 110] {
            (20..281).for_each(|x| g.set(x, y, 0));
        }
        for x in [20, 120, 200, 280] {
            (10..111).for_each(|y| g.set(x, y, 0));
        }
        // Strokes of text inside a cell: short, so no rule.
        for y in [30, 34, 38] {
            (40..70).for_each(|x| g.set(x, y, 30));
        }
        g
    }

    #[test]
    fn long_runs_become_rules_and_strokes_of_text_do_not() {
        let rules = rules(&ruled());
        let across: Vec<&Rule> = rules.iter().filter(|r| r.horizontal).collect();
        let down: Vec<&Rule> = rules.iter().filter(|r| !r.horizontal).collect();
        assert_eq!(across.len(), 3, "{rules:?}");
        assert_eq!(down.len(), 4, "{rules:?}");
        // In PDF space: y upwards from the bottom of a 200-pixel picture.
        assert_eq!(across.iter().map(|r| r.at).collect::<Vec<_>>(), [200.0 - 10.0, 200.0 - 60.5, 200.0 - 110.0]);
        // Each ends where it meets the last border across it.
        assert!(across.iter().all(|r| r.from == 20.0 && r.to == 280.0), "{across:?}");
        assert!(down.iter().all(|r| r.from == 200.0 - 110.0 && r.to == 200.0 - 10.0), "{down:?}");
    }

    #[test]
    fn strokes_of_text_that_line_up_meet_no_border_and_are_no_rule() {
        let mut g = ruled();
        // A 60-pixel run inside the first cell, touching no border.
        (40..100).for_each(|x| g.set(x, 85, 0));
        // A horizontal line overshooting the left border by 3 pixels.
        (17..281).for_each(|x| g.set(x, 110, 0));
        let rules = rules(&g);
        assert_eq!(rules.iter().filter(|r| r.horizontal).count(), 3, "{rules:?}");
        assert!(rules.iter().filter(|r| r.horizontal).all(|r| r.from == 20.0), "{rules:?}");
    }

    #[test]
    fn a_rule_and_its_faint_twin_beside_it_are_one() {
        let mut g = ruled();
        // A grey ghost 4 pixels right of the vertical rule at x = 120, as JPEG leaves.
        (10..111).for_each(|y| g.set(124, y, 200));
        let down: Vec<Rule> = rules(&g).into_iter().filter(|r| !r.horizontal).collect();
        assert_eq!(down.len(), 4, "{down:?}");
        assert!((down[1].at - 122.0).abs() < 0.01, "{down:?}");
    }

    #[test]
    fn a_line_broken_by_the_scan_or_stepped_by_a_tilt_is_one_rule() {
        let mut g = Gray::blank(400, 60);
        // A line falling one pixel every 100, with a 2-pixel gap in its middle, between
        // two borders across it.
        for x in 0..400 {
            if !(150..152).contains(&x) {
                g.set(x, 10 + x / 100, 0);
            }
        }
        for x in [0, 399] {
            (5..55).for_each(|y| g.set(x, y, 0));
        }
        let across: Vec<Rule> = rules(&g).into_iter().filter(|r| r.horizontal).collect();
        assert_eq!(across.len(), 1, "{across:?}");
        assert_eq!((across[0].from, across[0].to), (0.0, 399.0));
    }
}
