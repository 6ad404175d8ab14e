//! Cutting long text in the middle so that two distinct texts never look
//! alike: both ends are kept, and in between how many bytes were dropped and
//! a hash of them (`/usr/lib/py…[60000 bytes #1f2e3d4c]…/x.py`). One function
//! for what an analysis keeps (a cap in bytes) and what a terminal shows (a
//! cap in display columns).

use std::borrow::Cow;

use unicode_width::UnicodeWidthChar;
use xxhash_rust::xxh3::xxh3_64;

/// What a cap counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// UTF-8 bytes: what an analysis keeps in memory.
    Bytes,
    /// Terminal columns (a wide character takes two, a combining mark none).
    Columns,
}

impl Measure {
    fn of_char(self, c: char) -> usize {
        match self {
            Measure::Bytes => c.len_utf8(),
            Measure::Columns => c.width().unwrap_or(0),
        }
    }

    /// How much of the cap `text` takes.
    pub fn of(self, text: &str) -> usize {
        match self {
            Measure::Bytes => text.len(),
            Measure::Columns => text.chars().map(|c| self.of_char(c)).sum(),
        }
    }
}

/// `text` within `max` (in `measure`), cut in the middle when longer: the
/// head and the tail, and between them `…[N bytes #hash]…`, N the bytes
/// dropped and hash the low 32 bits of their xxh3. Characters are never split.
/// Borrowed when it fits.
pub fn middle(text: &str, max: usize, measure: Measure) -> Cow<'_, str> {
    if measure.of(text) <= max {
        return Cow::Borrowed(text);
    }
    // The marker at its longest (the whole text dropped) sizes what is kept.
    let probe = marker(text.len(), 0);
    let keep = max.saturating_sub(measure.of(&probe)) / 2;
    let head = prefix(text, keep, measure);
    let mut tail = text.len();
    let mut used = 0;
    for (i, c) in text.char_indices().rev() {
        let w = measure.of_char(c);
        if i < head || used + w > keep {
            break;
        }
        used += w;
        tail = i;
    }
    let dropped = &text[head..tail];
    let hash = xxh3_64(dropped.as_bytes()) as u32;
    Cow::Owned(format!(
        "{}{}{}",
        &text[..head],
        marker(dropped.len(), hash),
        &text[tail..]
    ))
}

/// `text` within `max`, cut at its end with `…` when longer: for prose such as
/// a shell command, where the start says what it is. Borrowed when it fits.
pub fn end(text: &str, max: usize, measure: Measure) -> Cow<'_, str> {
    if measure.of(text) <= max {
        return Cow::Borrowed(text);
    }
    let room = max.saturating_sub(measure.of_char('…'));
    Cow::Owned(format!("{}…", &text[..prefix(text, room, measure)]))
}

/// The byte length of the longest start of `text` within `room`.
fn prefix(text: &str, room: usize, measure: Measure) -> usize {
    let mut used = 0;
    let mut upto = 0;
    for (i, c) in text.char_indices() {
        used += measure.of_char(c);
        if used > room {
            break;
        }
        upto = i + c.len_utf8();
    }
    upto
}

fn marker(dropped: usize, hash: u32) -> String {
    format!("…[{dropped} bytes #{hash:08x}]…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_within_the_cap_is_unchanged() {
        assert_eq!(middle("/usr/lib/x.so", 13, Measure::Bytes), "/usr/lib/x.so");
        assert!(matches!(
            middle("/usr/lib/x.so", 70, Measure::Columns),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_cut_keeps_both_ends_within_the_cap() {
        let long = format!("/head/{}/tail.txt", "m".repeat(500));
        for (max, measure) in [(70, Measure::Columns), (255, Measure::Bytes)] {
            let cut = middle(&long, max, measure);
            assert!(measure.of(&cut) <= max, "{cut}");
            assert!(
                cut.starts_with("/head/m") && cut.ends_with("m/tail.txt"),
                "{cut}"
            );
            assert!(cut.contains(" bytes #"), "{cut}");
        }
    }

    #[test]
    fn two_distinct_texts_never_cut_alike() {
        let a = format!("/d/{}a{}", "n".repeat(300), "n".repeat(300));
        let b = format!("/d/{}b{}", "n".repeat(300), "n".repeat(300));
        assert_ne!(
            middle(&a, 70, Measure::Columns),
            middle(&b, 70, Measure::Columns)
        );
        assert_ne!(
            middle(&a, 255, Measure::Bytes),
            middle(&b, 255, Measure::Bytes)
        );
    }

    #[test]
    fn wide_characters_count_two_columns_and_are_never_split() {
        let wide = "界".repeat(100);
        let cut = middle(&wide, 60, Measure::Columns);
        assert!(Measure::Columns.of(&cut) <= 60, "{cut}");
        assert!(cut.starts_with('界') && cut.ends_with('界'));
        let bytes = middle(&wide, 100, Measure::Bytes);
        assert!(bytes.len() <= 100);
        assert!(!bytes.contains('\u{fffd}'));
    }

    #[test]
    fn prose_is_cut_at_its_end() {
        assert_eq!(end("abcdef", 4, Measure::Columns), "abc…");
        assert_eq!(end("abcd", 4, Measure::Columns), "abcd");
        assert_eq!(end("界界界界", 5, Measure::Columns), "界界…");
    }

    #[test]
    fn a_cap_smaller_than_the_marker_keeps_only_the_marker() {
        let long = "x".repeat(100);
        let cut = middle(&long, 5, Measure::Columns);
        assert!(cut.starts_with('…') && cut.ends_with('…'), "{cut}");
        assert!(cut.contains("[100 bytes #"), "{cut}");
    }
}
