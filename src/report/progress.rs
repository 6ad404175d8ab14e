//! The scan progress bar: on stderr, only on a terminal, never with --quiet.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::store::Progress;

pub struct Bar {
    bar: ProgressBar,
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
        // No colour in the template: nothing to switch off for NO_COLOR.
        if let Ok(style) = ProgressStyle::with_template(
            "scanning {msg} [{wide_bar}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar { bar }
    }
}

impl Progress for Bar {
    fn start(&self, layers: usize, bytes: u64) {
        self.bar.set_length(bytes);
        self.bar.set_message(format!(
            "{layers} layer{}",
            if layers == 1 { "" } else { "s" }
        ));
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
