//! The squarified treemap layout (Bruls, Huizing and van Wijk, 2000): areas
//! in a rectangle, laid in rows along its shorter side, each row grown while
//! that makes its worst aspect ratio no worse. Iterative (a loop per row, no
//! recursion on the input), exact at the edges: the last row fills what is
//! left, so the rectangles tile their bounds.
//!
//! The `treemap` crate was looked at first: it recurses once per row, leaves
//! every item unplaced when they all fit one row, and sizes rows against a
//! total that misses the last item, so its rectangles do not add up.

/// A rectangle: its top-left corner and its size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn area(&self) -> f64 {
        self.w * self.h
    }
}

/// The worst aspect ratio of a row of `areas` summing to `sum`, laid along a
/// side of `side`.
fn worst(min: f64, max: f64, sum: f64, side: f64) -> f64 {
    let (s2, w2) = (sum * sum, side * side);
    (w2 * max / s2).max(s2 / (w2 * min))
}

/// Rectangles for `values` tiling `bounds`, each with an area proportional to
/// its value, in the order of `values`. Values of 0 get an empty rectangle.
pub fn layout(values: &[u64], bounds: Rect) -> Vec<Rect> {
    let mut out = vec![
        Rect {
            x: bounds.x,
            y: bounds.y,
            w: 0.0,
            h: 0.0
        };
        values.len()
    ];
    let total: u128 = values.iter().map(|&v| v as u128).sum();
    if total == 0 || bounds.area() <= 0.0 {
        return out;
    }
    // Biggest first (the algorithm's order), zeros left out.
    let mut order: Vec<usize> = (0..values.len()).filter(|&i| values[i] > 0).collect();
    order.sort_by(|&a, &b| values[b].cmp(&values[a]).then(a.cmp(&b)));
    let scale = bounds.area() / total as f64;
    let area = |i: usize| values[i] as f64 * scale;
    let mut free = bounds;
    let mut start = 0;
    while start < order.len() {
        let side = free.w.min(free.h);
        let first = area(order[start]);
        let (mut sum, mut min, mut max) = (first, first, first);
        let mut end = start + 1;
        while end < order.len() {
            let a = area(order[end]);
            let now = worst(min, max, sum, side);
            if worst(min.min(a), max.max(a), sum + a, side) > now {
                break;
            }
            (sum, min, max) = (sum + a, min.min(a), max.max(a));
            end += 1;
        }
        let last = end == order.len();
        // Along the shorter side: a column at the left of a wide rectangle,
        // a row at the top of a tall one, as thick as its area needs (the
        // last row fills what is left).
        let column = free.w >= free.h;
        let (length, across) = if column {
            (free.h, free.w)
        } else {
            (free.w, free.h)
        };
        let thick = if last { across } else { sum / length };
        let row = &order[start..end];
        let mut at = 0.0;
        for (k, &i) in row.iter().enumerate() {
            let long = if k + 1 == row.len() {
                length - at
            } else {
                area(i) / thick
            };
            out[i] = if column {
                Rect {
                    x: free.x,
                    y: free.y + at,
                    w: thick,
                    h: long,
                }
            } else {
                Rect {
                    x: free.x + at,
                    y: free.y,
                    w: long,
                    h: thick,
                }
            };
            at += long;
        }
        if column {
            free.x += thick;
            free.w -= thick;
        } else {
            free.y += thick;
            free.h -= thick;
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(w: f64, h: f64) -> Rect {
        Rect {
            x: 0.0,
            y: 0.0,
            w,
            h,
        }
    }

    #[test]
    fn the_papers_example_tiles_its_rectangle_in_squares_first() {
        let values = [6, 6, 4, 3, 2, 2, 1];
        let rects = layout(&values, bounds(6.0, 4.0));
        let total: f64 = rects.iter().map(Rect::area).sum();
        assert!((total - 24.0).abs() < 1e-9);
        for (r, v) in rects.iter().zip(values) {
            assert!((r.area() - v as f64).abs() < 1e-9, "{r:?} for {v}");
        }
        // The two 6s share the left column, 3 wide and 2 high each: squarish.
        assert!((rects[0].w - 3.0).abs() < 1e-9 && (rects[0].h - 2.0).abs() < 1e-9);
        assert_eq!((rects[1].x, rects[1].y), (0.0, 2.0));
        let worst = rects
            .iter()
            .map(|r| (r.w / r.h).max(r.h / r.w))
            .fold(0.0, f64::max);
        assert!(worst < 3.0, "aspect {worst}");
    }

    #[test]
    fn rectangles_stay_inside_and_never_overlap() {
        let values: Vec<u64> = (1..=60).map(|i| (i * 7919 % 1000) + 1).collect();
        let b = Rect {
            x: 10.0,
            y: 5.0,
            w: 900.0,
            h: 400.0,
        };
        let rects = layout(&values, b);
        let sum: f64 = rects.iter().map(Rect::area).sum();
        assert!((sum - b.area()).abs() < 1e-6);
        for (i, r) in rects.iter().enumerate() {
            assert!(r.x >= b.x - 1e-9 && r.y >= b.y - 1e-9, "{r:?}");
            assert!(
                r.x + r.w <= b.x + b.w + 1e-6 && r.y + r.h <= b.y + b.h + 1e-6,
                "{r:?}"
            );
            for s in &rects[i + 1..] {
                let dx = (r.x + r.w).min(s.x + s.w) - r.x.max(s.x);
                let dy = (r.y + r.h).min(s.y + s.h) - r.y.max(s.y);
                assert!(dx <= 1e-6 || dy <= 1e-6, "{r:?} overlaps {s:?}");
            }
        }
    }

    #[test]
    fn zeros_and_empty_input_get_empty_rectangles() {
        let rects = layout(&[0, 5, 0], bounds(10.0, 10.0));
        assert_eq!(rects[0].area(), 0.0);
        assert!((rects[1].area() - 100.0).abs() < 1e-9);
        assert!(layout(&[], bounds(1.0, 1.0)).is_empty());
        assert!(layout(&[0, 0], bounds(1.0, 1.0))
            .iter()
            .all(|r| r.area() == 0.0));
    }

    #[test]
    fn huge_values_and_many_items_keep_their_proportions() {
        let values = vec![u64::MAX / 4, u64::MAX / 4, 1, 1];
        let rects = layout(&values, bounds(100.0, 100.0));
        assert!((rects[0].area() - 5000.0).abs() < 1e-6);
        let many: Vec<u64> = (0..100_000).map(|i| 1 + i % 13).collect();
        let rects = layout(&many, bounds(960.0, 480.0));
        let sum: f64 = rects.iter().map(Rect::area).sum();
        assert!((sum - 960.0 * 480.0).abs() < 1e-3);
    }
}
