//! A scanned page straightened: a sheet fed through a scanner lies a degree or so
//! off square, so its table rules run across several pixel rows and its cells' rows
//! drift. The angle is the one at which the ink, projected onto the page's side,
//! stacks up most sharply (a ruled table's lines and its text rows pile into narrow
//! bands only when looked at square), as classic document deskewing finds it.

use super::Gray;

/// The steepest tilt looked for, and the step, in degrees.
const MAX_DEGREES: f64 = 2.0;
const STEP_DEGREES: f64 = 0.05;

/// Tilts smaller than this are left alone: they move a 2,000-pixel line by under a pixel.
const NEGLIGIBLE_DEGREES: f64 = 0.025;

/// The angle, in degrees, by which the picture's lines of ink climb to the right
/// (negative when they fall).
pub(super) fn tilt(picture: &Gray) -> f64 {
    // Ink pixels, every second one across: plenty for a projection, at half the cost.
    let dark = picture.ink();
    let ink: Vec<(f64, f64)> = (0..picture.height)
        .flat_map(|y| (0..picture.width).step_by(2).map(move |x| (x, y)))
        .filter(|&(x, y)| picture.at(x, y) < dark)
        .map(|(x, y)| (x as f64, y as f64))
        .collect();
    let steps = (MAX_DEGREES / STEP_DEGREES).round() as i32;
    let mut best = (f64::MIN, 0.0);
    let mut bins = vec![0u32; picture.height + picture.width];
    for step in -steps..=steps {
        let degrees = step as f64 * STEP_DEGREES;
        let slope = degrees.to_radians().tan();
        bins.iter_mut().for_each(|b| *b = 0);
        for &(x, y) in &ink {
            // A line climbing to the right has y falling as x grows: undo that.
            let at = (y + x * slope).round() as isize + picture.width as isize / 2;
            if let Some(bin) = usize::try_from(at).ok().and_then(|at| bins.get_mut(at)) {
                *bin += 1;
            }
        }
        let sharpness: f64 = bins.iter().map(|&b| (b as f64) * (b as f64)).sum();
        if sharpness > best.0 {
            best = (sharpness, degrees);
        }
    }
    best.1
}

/// The picture turned by `degrees` (anticlockwise, as a line that climbs by that
/// angle comes out level), about its centre, on white; each pixel bilinearly sampled.
pub(super) fn rotated(picture: &Gray, degrees: f64) -> Gray {
    if degrees.abs() < NEGLIGIBLE_DEGREES {
        return picture.clone();
    }
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (picture.width as f64 / 2.0, picture.height as f64 / 2.0);
    let mut out = Gray::blank(picture.width, picture.height);
    for y in 0..picture.height {
        for x in 0..picture.width {
            // Where this output pixel comes from: turned back the other way.
            let (dx, dy) = (x as f64 - cx, y as f64 - cy);
            let (sx, sy) = (cx + dx * cos + dy * sin, cy - dx * sin + dy * cos);
            out.set(x, y, picture.sample(sx, sy));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines across a page, climbing to the right by `degrees`.
    fn tilted_lines(degrees: f64) -> Gray {
        let mut g = Gray::blank(600, 400);
        let slope = degrees.to_radians().tan();
        for base in [100.0, 200.0, 300.0] {
            for x in 50..550 {
                let y = base - (x as f64 - 300.0) * slope;
                g.set(x, y.round() as usize, 0);
            }
        }
        g
    }

    #[test]
    fn the_tilt_of_ruled_lines_is_found_and_undone() {
        for degrees in [0.7, -0.45, 0.0] {
            let page = tilted_lines(degrees);
            let found = tilt(&page);
            assert!((found - degrees).abs() <= 1.5 * STEP_DEGREES, "{degrees}: found {found}");
            // Straightened, each line lies on three pixel rows at most (the rules reader
            // joins those into one line); tilted, on up to nine.
            let level = rotated(&page, found);
            let rows_with_ink = |g: &Gray| (0..g.height).filter(|&y| (100..500).any(|x| g.at(x, y) < 160)).count();
            assert!(rows_with_ink(&level) <= 9, "{degrees}: ink on {} rows", rows_with_ink(&level));
        }
    }
}
