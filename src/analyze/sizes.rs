//! The three size measures carried side by side (DESIGN.md's vocabulary).

use std::ops::{Add, AddAssign, Sub};

use serde::Serialize;

use crate::layer::LayerSummary;

/// Compressed, uncompressed and files bytes of some set of layers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sizes {
    pub compressed: u64,
    pub uncompressed: u64,
    pub files: u64,
}

impl Sizes {
    pub fn of(layer: &LayerSummary) -> Sizes {
        Sizes {
            compressed: layer.compressed,
            uncompressed: layer.uncompressed,
            files: layer.files,
        }
    }

    pub fn get(&self, measure: Measure) -> u64 {
        match measure {
            Measure::Compressed => self.compressed,
            Measure::Uncompressed => self.uncompressed,
            Measure::Files => self.files,
        }
    }

    /// `part / self` per measure, in percent (0 for an empty whole).
    pub fn percent(&self, part: Sizes) -> Percents {
        let pct = |p: u64, w: u64| {
            if w == 0 {
                0.0
            } else {
                p as f64 * 100.0 / w as f64
            }
        };
        Percents {
            compressed: pct(part.compressed, self.compressed),
            uncompressed: pct(part.uncompressed, self.uncompressed),
            files: pct(part.files, self.files),
        }
    }
}

impl Add for Sizes {
    type Output = Sizes;
    fn add(self, o: Sizes) -> Sizes {
        Sizes {
            compressed: self.compressed + o.compressed,
            uncompressed: self.uncompressed + o.uncompressed,
            files: self.files + o.files,
        }
    }
}

impl AddAssign for Sizes {
    fn add_assign(&mut self, o: Sizes) {
        *self = *self + o;
    }
}

impl Sub for Sizes {
    type Output = Sizes;
    fn sub(self, o: Sizes) -> Sizes {
        Sizes {
            compressed: self.compressed.saturating_sub(o.compressed),
            uncompressed: self.uncompressed.saturating_sub(o.uncompressed),
            files: self.files.saturating_sub(o.files),
        }
    }
}

impl std::iter::Sum for Sizes {
    fn sum<I: Iterator<Item = Sizes>>(iter: I) -> Sizes {
        iter.fold(Sizes::default(), Add::add)
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct Percents {
    pub compressed: f64,
    pub uncompressed: f64,
    pub files: f64,
}

impl Percents {
    pub fn get(&self, measure: Measure) -> f64 {
        match measure {
            Measure::Compressed => self.compressed,
            Measure::Uncompressed => self.uncompressed,
            Measure::Files => self.files,
        }
    }
}

/// Which measure the table's shared/unique/saved columns use.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    #[default]
    Compressed,
    Uncompressed,
    Files,
}

impl Measure {
    pub fn name(self) -> &'static str {
        match self {
            Measure::Compressed => "compressed",
            Measure::Uncompressed => "uncompressed",
            Measure::Files => "files",
        }
    }
}
