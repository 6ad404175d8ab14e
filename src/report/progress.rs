//! The progress bar: on stderr, only on a terminal, never with --quiet. Two
//! phases share it: reading a stream whose length is unknown (an engine's
//! export, `docker-archive:-`: bytes and rate, no ETA) and the layer scan
//! (a bar, bytes of the total, rate, ETA). Bytes in the tables' SI units.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::source::Reading;
use crate::store::Progress;
use crate::units;

pub struct Bar {
    bar: ProgressBar,
}

/// The line drawn: a bar with ETA when the total is known, else bytes and rate.
/// No colour in either: nothing to switch off for NO_COLOR.
pub fn template(total: Option<u64>) -> &'static str {
    match total {
        Some(t) if t > 0 => "{msg} [{wide_bar}] {done}/{total} {rate} {eta}",
        _ => "{msg} {done} {rate}",
    }
}

/// `12.3MB/s`; nothing until a rate of a byte a second or more is measured.
pub fn rate_text(bytes_per_sec: f64) -> String {
    if bytes_per_sec.is_finite() && bytes_per_sec >= 1.0 {
        format!("{}/s", units::human(bytes_per_sec as u64))
    } else {
        String::new()
    }
}

/// `45s`, `3m05s`, `1h02m`; nothing without a credible estimate (no rate
/// yet, or more than a day: a stalled start, not a forecast).
pub fn eta_text(eta: Duration, bytes_per_sec: f64) -> String {
    let secs = eta.as_secs();
    if !(bytes_per_sec.is_finite() && bytes_per_sec >= 1.0) || secs == 0 || secs > 24 * 3600 {
        return String::new();
    }
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, secs / 60 % 60),
    }
}

fn style(total: Option<u64>) -> Option<ProgressStyle> {
    let style = ProgressStyle::with_template(template(total)).ok()?;
    Some(
        style
            .progress_chars("=> ")
            .with_key("done", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&units::human(s.pos()));
            })
            .with_key("total", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&units::human(s.len().unwrap_or(0)));
            })
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&rate_text(s.per_sec()));
            })
            .with_key("eta", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&eta_text(s.eta(), s.per_sec()));
            }),
    )
}

impl Bar {
    /// A bar that draws only when stderr is a terminal and `quiet` is off.
    pub fn new(quiet: bool) -> Bar {
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        let visible = !quiet && !dumb && std::io::stderr().is_terminal();
        let bar = ProgressBar::with_draw_target(
            Some(0),
            if visible {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        Bar { bar }
    }

    /// A new phase: its own style, and rate and ETA measured from now (not
    /// from when the bar was made, which would count the silent time before).
    fn phase(&self, total: Option<u64>, message: String) {
        if let Some(style) = style(total) {
            self.bar.set_style(style);
        }
        match total {
            Some(t) => self.bar.set_length(t),
            None => self.bar.unset_length(),
        }
        self.bar.reset();
        self.bar.set_message(message);
    }
}

impl Progress for Bar {
    fn start(&self, layers: usize, bytes: u64) {
        let plural = if layers == 1 { "" } else { "s" };
        self.phase(
            Some(bytes).filter(|b| *b > 0),
            format!("scanning {layers} layer{plural}"),
        );
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn fetching(&self, layers: usize) {
        let plural = if layers == 1 { "y" } else { "ies" };
        self.phase(
            None,
            format!("asking the shared cache for {layers} entr{plural}"),
        );
    }

    fn pushing(&self, entries: usize) {
        let plural = if entries == 1 { "y" } else { "ies" };
        self.phase(
            None,
            format!("pushing {entries} entr{plural} to the shared cache"),
        );
    }

    fn counting(&self, what: &str, total: Option<u64>) {
        self.count_phase(what, total);
    }
}

/// The line of a phase counted in items: `{pos}/{len}` rather than bytes.
fn count_style(total: Option<u64>) -> Option<ProgressStyle> {
    let template = match total {
        Some(t) if t > 0 => "{msg} [{wide_bar}] {pos}/{len} {eta}",
        _ => "{msg} {pos}",
    };
    Some(
        ProgressStyle::with_template(template)
            .ok()?
            .progress_chars("=> "),
    )
}

impl Bar {
    /// A phase counted in items (tags listed, jobs done).
    pub fn count_phase(&self, what: &str, total: Option<u64>) {
        if let Some(style) = count_style(total) {
            self.bar.set_style(style);
        }
        match total {
            Some(t) => self.bar.set_length(t),
            None => self.bar.unset_length(),
        }
        self.bar.reset();
        self.bar.set_message(what.to_owned());
    }
}

impl Reading for Bar {
    fn begin(&self, what: &str) {
        self.phase(None, format!("reading {}", crate::error::clip(what)));
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn end(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_total_shows_bytes_and_rate_without_a_bar_or_eta() {
        let t = template(None);
        assert!(t.contains("{done}") && t.contains("{rate}"), "{t}");
        assert!(!t.contains("{eta}") && !t.contains("bar}"), "{t}");
        assert_eq!(template(Some(0)), t, "a total of 0 is not known");
        let t = template(Some(1));
        assert!(t.contains("{wide_bar}") && t.contains("{total}") && t.contains("{eta}"));
        // Every template parses, with the keys it uses defined.
        for total in [None, Some(5)] {
            assert!(style(total).is_some());
            assert!(count_style(total).is_some());
        }
    }

    #[test]
    fn rates_use_the_tables_si_units_and_need_a_measure() {
        assert_eq!(rate_text(12_345_678.0), "12.3MB/s");
        assert_eq!(rate_text(999.0), "999B/s");
        assert_eq!(rate_text(0.4), "");
        assert_eq!(rate_text(f64::NAN), "");
        assert_eq!(rate_text(f64::INFINITY), "");
    }

    #[test]
    fn an_eta_is_shown_only_when_credible() {
        let s = Duration::from_secs;
        assert_eq!(eta_text(s(45), 1e6), "45s");
        assert_eq!(eta_text(s(185), 1e6), "3m05s");
        assert_eq!(eta_text(s(3720), 1e6), "1h02m");
        // What a stalled start used to print: 12y, 69w, 35h.
        assert_eq!(eta_text(s(12 * 365 * 86400), 1.0), "");
        assert_eq!(eta_text(s(69 * 7 * 86400), 100.0), "");
        assert_eq!(eta_text(s(35 * 3600), 1e3), "");
        assert_eq!(eta_text(s(10), 0.0), "");
        assert_eq!(eta_text(s(0), 1e6), "");
    }
}
