//! Bars in Unicode block characters, for the text renderers: each bar's
//! length from its figures (scaled to the longest), a glyph per segment of a
//! stacked bar, eighth blocks for the end of a single one, a thin line for a
//! marked figure. The terminal and markdown lay the same lines out as tables.

use super::chart::{Bars, Layout};
use super::span::Spans;

/// Cells of the longest bar.
pub const WIDTH: usize = 40;
/// The glyph of each segment of a stacked bar, in series order.
const SEGMENTS: [char; 4] = ['█', '▒', '░', '▓'];
/// The end of a single bar, by eighths of a cell.
const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
/// A marked figure (footprint's fair share).
pub const MARK: char = '│';

/// One drawn line of a chart.
#[derive(Debug, PartialEq)]
pub struct Line<'a> {
    /// The row's label, on its first line only.
    pub label: Option<&'a Spans>,
    /// The series a grouped bar shows (when there is more than one).
    pub series: Option<&'a Spans>,
    pub bar: String,
    /// The figure at the bar's end: its value, or a stacked bar's total.
    pub value: Option<u64>,
}

/// The glyph of each series as the legend shows it (stacked bars only: a
/// grouped bar names its series beside it), and the mark's.
pub fn legend(bars: &Bars) -> Vec<(char, &Spans)> {
    let mut out = Vec::new();
    if bars.layout == Layout::Stacked {
        out.extend(SEGMENTS.iter().copied().zip(&bars.series));
    }
    if let Some(m) = &bars.mark {
        out.push((MARK, m));
    }
    out
}

/// Cells (or eighths of cells, `scale` times more) of `value` against `max`.
fn cells(value: u64, max: u64, scale: u128) -> usize {
    if max == 0 {
        return 0;
    }
    let v = value as u128 * WIDTH as u128 * scale;
    ((v + max as u128 / 2) / max as u128) as usize
}

pub fn lines(bars: &Bars) -> Vec<Line<'_>> {
    let stacked = bars.layout == Layout::Stacked;
    let length = |values: &[Option<u64>]| -> u64 {
        if stacked {
            values.iter().flatten().sum()
        } else {
            values.iter().flatten().copied().max().unwrap_or(0)
        }
    };
    let max = bars
        .rows
        .iter()
        .map(|r| length(&r.values).max(r.mark.unwrap_or(0)))
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    for row in &bars.rows {
        if stacked {
            let mut bar = String::new();
            let (mut sum, mut drawn) = (0u64, 0usize);
            for (i, v) in row.values.iter().enumerate() {
                sum += v.unwrap_or(0);
                let upto = cells(sum, max, 1);
                bar.extend(std::iter::repeat_n(
                    SEGMENTS[i % SEGMENTS.len()],
                    upto - drawn,
                ));
                drawn = upto;
            }
            if let Some(m) = row.mark {
                let at = cells(m, max, 1).clamp(1, WIDTH) - 1;
                let mut chars: Vec<char> = bar.chars().collect();
                chars.resize(chars.len().max(at + 1), ' ');
                chars[at] = MARK;
                bar = chars.into_iter().collect();
            }
            let known = row.values.iter().any(Option::is_some);
            out.push(Line {
                label: Some(&row.label),
                series: None,
                bar,
                value: known.then_some(sum),
            });
        } else {
            for (i, v) in row.values.iter().enumerate() {
                out.push(Line {
                    label: (i == 0).then_some(&row.label),
                    series: (bars.series.len() > 1).then(|| &bars.series[i]),
                    bar: v.map_or_else(String::new, |v| single(v, max)),
                    value: *v,
                });
            }
        }
    }
    out
}

/// One bar to an eighth of a cell; a figure above zero shows at least a sliver.
fn single(value: u64, max: u64) -> String {
    let eighths = cells(value, max, 8);
    let mut bar: String = std::iter::repeat_n('█', eighths / 8).collect();
    match eighths % 8 {
        0 if eighths == 0 && value > 0 => bar.push(EIGHTHS[1]),
        0 => {}
        r => bar.push(EIGHTHS[r]),
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spans;

    fn stacked() -> Bars {
        let mut b = Bars::new(
            "t",
            "IMAGE",
            Layout::Stacked,
            vec![spans!["shared"], spans!["unique"]],
        );
        b.mark = Some(spans!["fair share"]);
        b.row("a", vec![Some(100), Some(0)]).mark = Some(50);
        b.row("b", vec![Some(100), Some(100)]).mark = Some(150);
        b.row("c", vec![None, None]);
        b
    }

    #[test]
    fn stacked_bars_scale_to_the_longest_with_a_glyph_per_segment() {
        let b = stacked();
        let l = lines(&b);
        assert_eq!(l.len(), 3);
        assert_eq!(l[1].bar.chars().count(), WIDTH);
        // 20 cells of unique bytes, one of them under the mark.
        assert_eq!(l[1].bar.chars().filter(|&c| c == '▒').count(), 19);
        assert_eq!(l[1].bar.chars().nth(29), Some(MARK));
        assert_eq!(l[0].bar.chars().count(), 20);
        assert_eq!(l[0].bar.chars().nth(9), Some(MARK));
        assert_eq!(
            (l[0].value, l[1].value, l[2].value),
            (Some(100), Some(200), None)
        );
        assert_eq!(l[2].bar, "");
        let legend: Vec<char> = legend(&b).iter().map(|(c, _)| *c).collect();
        assert_eq!(legend, ['█', '▒', MARK]);
    }

    #[test]
    fn grouped_bars_end_to_an_eighth_and_name_their_series() {
        let mut b = Bars::new(
            "t",
            "IMAGE",
            Layout::Grouped,
            vec![spans!["fat"], spans!["lean"]],
        );
        b.row("nova", vec![Some(92_600), Some(16_400)]);
        b.row("tiny", vec![Some(1), None]);
        let l = lines(&b);
        assert_eq!(l.len(), 4);
        assert_eq!(l[0].bar, "█".repeat(WIDTH));
        // 16400 / 92600 * 40 = 7.08 cells: 7 full and an eighth... rounded to 57 eighths.
        assert_eq!(l[1].bar, format!("{}▏", "█".repeat(7)));
        assert!(l[0].label.is_some() && l[1].label.is_none());
        assert!(l[1].series.is_some());
        assert_eq!(l[2].bar, "▏", "a figure above zero shows");
        assert_eq!((l[3].bar.as_str(), l[3].value), ("", None));
        assert!(legend(&b).is_empty());
    }
}
