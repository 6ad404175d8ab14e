//! Where each part of the screen goes for a terminal size: header, layers
//! pane, right pane (tree, wasted or packages), details line, footer. Side
//! by side from WIDE columns, stacked below; shared by the view (to draw)
//! and by update (page sizes, what the mouse points at).

use ratatui::layout::Rect;

/// From this many columns, the layers pane sits left of the tree.
pub const WIDE: u16 = 110;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub layers: Rect,
    pub right: Rect,
    pub details: Rect,
    pub footer: Rect,
}

impl Areas {
    /// Lines of layers the layers pane shows (inside its border, under its header row).
    pub fn layer_rows(&self) -> usize {
        self.layers.height.saturating_sub(3) as usize
    }

    /// Lines the right pane shows inside its border (the tree has no header row).
    pub fn right_rows(&self) -> usize {
        self.right.height.saturating_sub(2) as usize
    }
}

/// Lines of the header at `width` columns: the sizes and the efficiency
/// share a line only where it holds them (about 115 columns with figures
/// of four digits; at 100 columns the efficiency was cut).
pub fn header_height(width: u16) -> u16 {
    if width >= 120 {
        2
    } else {
        3
    }
}

pub fn areas(area: Rect, layers: usize) -> Areas {
    let header_h = header_height(area.width).min(area.height);
    let footer_h = 1.min(area.height.saturating_sub(header_h));
    let details_h = 1.min(area.height.saturating_sub(header_h + footer_h));
    let body_h = area.height.saturating_sub(header_h + footer_h + details_h);
    let header = Rect::new(area.x, area.y, area.width, header_h);
    let body_y = area.y + header_h;
    let details = Rect::new(area.x, body_y + body_h, area.width, details_h);
    let footer = Rect::new(area.x, body_y + body_h + details_h, area.width, footer_h);
    let (layers, right) = if area.width >= WIDE {
        let left_w = area.width / 2;
        (
            Rect::new(area.x, body_y, left_w, body_h),
            Rect::new(area.x + left_w, body_y, area.width - left_w, body_h),
        )
    } else {
        // Borders, the header row and the layers, within a third of the body.
        let want = layers as u16 + 3;
        let layers_h = want.min((body_h / 3).max(5)).min(body_h);
        (
            Rect::new(area.x, body_y, area.width, layers_h),
            Rect::new(area.x, body_y + layers_h, area.width, body_h - layers_h),
        )
    };
    Areas {
        header,
        layers,
        right,
        details,
        footer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_fits_from_forty_columns_to_wide() {
        for (w, h) in [(40, 24), (80, 24), (120, 40), (20, 5), (0, 0)] {
            let a = areas(Rect::new(0, 0, w, h), 7);
            let parts = [a.header, a.layers, a.right, a.details, a.footer];
            for p in parts {
                assert!(p.right() <= w && p.bottom() <= h, "{w}x{h}: {p:?}");
            }
            let rows: u16 = if w >= WIDE {
                a.header.height + a.layers.height + a.details.height + a.footer.height
            } else {
                parts.iter().map(|p| p.height).sum()
            };
            assert_eq!(rows, h, "{w}x{h}");
        }
    }
}
