//! Where problems that change no figure go: a sink every layer of a run can
//! hold (sources, registry, store) and the front end drains once at the end,
//! so nothing below the front end writes to the terminal itself.

use std::sync::{Arc, Mutex};

/// A cloneable handle; clones share one list. Each message is kept once.
#[derive(Debug, Clone, Default)]
pub struct Warnings {
    said: Arc<Mutex<Vec<String>>>,
}

impl Warnings {
    pub fn new() -> Warnings {
        Warnings::default()
    }

    /// Keeps `message` unless the same text was said before in this run.
    pub fn warn(&self, message: impl Into<String>) {
        let message = message.into();
        if let Ok(mut said) = self.said.lock() {
            if !said.contains(&message) {
                said.push(message);
            }
        }
    }

    /// Everything said so far, in order, and the list emptied.
    pub fn drain(&self) -> Vec<String> {
        self.said
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_said_twice_is_kept_once_and_clones_share_the_list() {
        let w = Warnings::new();
        let other = w.clone();
        w.warn("a");
        other.warn("a");
        other.warn("b");
        assert_eq!(w.drain(), vec!["a".to_owned(), "b".to_owned()]);
        assert!(other.drain().is_empty());
    }
}
