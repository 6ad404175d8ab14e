//! The size measures carried side by side (DESIGN.md's vocabulary): the
//! three of a set of layers, and the files-and-bytes tally of a set of files.

use std::ops::{Add, AddAssign, Sub};

use serde::Serialize;

use crate::image::{Digest, Image};
use crate::layer::LayerSummary;

/// Compressed, uncompressed and files bytes of some set of layers. Each is
/// None when unknown (a shallow listing reads manifests only: no uncompressed
/// or files; an engine keeps layers uncompressed: no compressed); a sum with
/// an unknown part is unknown, never a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sizes {
    pub compressed: Option<u64>,
    pub uncompressed: Option<u64>,
    pub files: Option<u64>,
}

impl Default for Sizes {
    fn default() -> Sizes {
        Sizes {
            compressed: Some(0),
            uncompressed: Some(0),
            files: Some(0),
        }
    }
}

fn both(a: Option<u64>, b: Option<u64>, f: fn(u64, u64) -> u64) -> Option<u64> {
    Some(f(a?, b?))
}

impl Sizes {
    pub fn of(layer: &LayerSummary) -> Sizes {
        Sizes {
            compressed: Some(layer.compressed),
            uncompressed: Some(layer.uncompressed),
            files: Some(layer.files),
        }
    }

    /// What a manifest alone tells: the blob size.
    pub fn compressed_only(compressed: u64) -> Sizes {
        Sizes {
            compressed: Some(compressed),
            uncompressed: None,
            files: None,
        }
    }

    pub fn get(&self, measure: Measure) -> Option<u64> {
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
        let opt = |p: Option<u64>, w: Option<u64>| Some(pct(p?, w?));
        Percents {
            compressed: opt(part.compressed, self.compressed),
            uncompressed: opt(part.uncompressed, self.uncompressed),
            files: opt(part.files, self.files),
        }
    }
}

impl Add for Sizes {
    type Output = Sizes;
    fn add(self, o: Sizes) -> Sizes {
        Sizes {
            compressed: both(self.compressed, o.compressed, |a, b| a + b),
            uncompressed: both(self.uncompressed, o.uncompressed, |a, b| a + b),
            files: both(self.files, o.files, |a, b| a + b),
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
            compressed: both(self.compressed, o.compressed, u64::saturating_sub),
            uncompressed: both(self.uncompressed, o.uncompressed, u64::saturating_sub),
            files: both(self.files, o.files, u64::saturating_sub),
        }
    }
}

impl std::iter::Sum for Sizes {
    fn sum<I: Iterator<Item = Sizes>>(iter: I) -> Sizes {
        iter.fold(Sizes::default(), Add::add)
    }
}

/// Regular files and their bytes (a layer's additions, a diff's removals,
/// what a package owns).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub files: u64,
    pub bytes: u64,
}

impl Tally {
    /// Counts one file of `bytes`.
    pub fn add(&mut self, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
    }
}

/// Each layer digest of `images` once, in order of first use, with its
/// 0-based position in the image that first uses it.
pub fn distinct_layers<'a>(
    images: impl IntoIterator<Item = &'a Image>,
) -> Vec<(usize, &'a Digest)> {
    let mut seen = std::collections::HashSet::new();
    images
        .into_iter()
        .flat_map(|image| image.layers.iter().enumerate())
        .filter(|(_, l)| seen.insert(&l.digest))
        .map(|(i, l)| (i, &l.digest))
        .collect()
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct Percents {
    pub compressed: Option<f64>,
    pub uncompressed: Option<f64>,
    pub files: Option<f64>,
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

/// Images with no figure in the measure the tables would show, and whether
/// the tables fell back to `uncompressed` because of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lacking {
    /// The measure they lack.
    pub measure: Measure,
    pub images: Vec<String>,
    /// The default measure (compressed) was lacking: the tables show
    /// uncompressed bytes instead.
    pub fell_back: bool,
}

/// The measure the tables show: the one asked for; by default compressed, or
/// uncompressed when an image has no compressed size (an engine keeps its
/// layers uncompressed), so that no column mixes figures and unknowns.
pub fn table_measure(
    requested: Option<Measure>,
    totals: impl IntoIterator<Item = (String, Sizes)>,
) -> (Measure, Lacking) {
    let wanted = requested.unwrap_or_default();
    let totals: Vec<(String, Sizes)> = totals.into_iter().collect();
    let images: Vec<String> = totals
        .iter()
        .filter(|(_, s)| s.get(wanted).is_none())
        .map(|(n, _)| n.clone())
        .collect();
    let fall_back = requested.is_none()
        && !images.is_empty()
        && totals.iter().all(|(_, s)| s.uncompressed.is_some());
    let measure = if fall_back {
        Measure::Uncompressed
    } else {
        wanted
    };
    (
        measure,
        Lacking {
            measure: wanted,
            images,
            fell_back: fall_back,
        },
    )
}

impl Lacking {
    /// The one note the tables carry about it, if any.
    pub fn note(&self) -> Option<String> {
        const SHOWN: usize = 3;
        if self.images.is_empty() {
            return None;
        }
        let mut names = self.images[..self.images.len().min(SHOWN)].join(", ");
        if self.images.len() > SHOWN {
            names.push_str(&format!(" and {} more", self.images.len() - SHOWN));
        }
        let why = if self.measure == Measure::Compressed {
            " (an engine keeps its layers uncompressed)"
        } else {
            ""
        };
        Some(if self.fell_back {
            format!(
                "no {} size for {names}{why}: the tables show uncompressed bytes (--measure picks another)",
                self.measure.name()
            )
        } else {
            format!(
                "no {} size for {names}{why}: {} figures show `-`",
                self.measure.name(),
                self.measure.name()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_parts_make_unknown_sums() {
        let known = Sizes {
            compressed: Some(10),
            uncompressed: Some(30),
            files: Some(20),
        };
        let shallow = Sizes::compressed_only(5);
        let sum = known + shallow;
        assert_eq!(sum.compressed, Some(15));
        assert_eq!(sum.uncompressed, None);
        assert_eq!([known, known].into_iter().sum::<Sizes>().files, Some(40));
        assert_eq!(known.percent(shallow).uncompressed, None);
    }

    #[test]
    fn the_default_measure_falls_back_to_uncompressed_when_an_image_lacks_it() {
        let registry = Sizes {
            compressed: Some(10),
            uncompressed: Some(30),
            files: Some(20),
        };
        let engine = Sizes {
            compressed: None,
            ..registry
        };
        let set = || [("reg".to_owned(), registry), ("engine".to_owned(), engine)];
        let (m, lacking) = table_measure(None, set());
        assert_eq!(m, Measure::Uncompressed);
        assert!(lacking.fell_back);
        assert_eq!(lacking.images, ["engine"]);
        assert!(lacking
            .note()
            .unwrap()
            .contains("no compressed size for engine"));
        let (m, lacking) = table_measure(Some(Measure::Compressed), set());
        assert_eq!(m, Measure::Compressed, "asked for: kept");
        assert!(!lacking.fell_back);
        assert!(lacking
            .note()
            .unwrap()
            .ends_with("compressed figures show `-`"));
        let (m, lacking) = table_measure(None, [("reg".to_owned(), registry)]);
        assert_eq!((m, lacking.note()), (Measure::Compressed, None));
    }
}
