//! The N greatest items of a stream by a key, in memory for N: what every
//! "top N" list of a report keeps. What it drops is handed back, so a caller
//! can keep the exact totals of the rest ("+N more").

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

pub struct Top<K: Ord, V> {
    n: usize,
    heap: BinaryHeap<Reverse<Item<K, V>>>,
}

/// An item ordered by its key alone.
struct Item<K, V> {
    key: K,
    value: V,
}

impl<K: Ord, V> Ord for Item<K, V> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

impl<K: Ord, V> PartialOrd for Item<K, V> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: Ord, V> PartialEq for Item<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<K: Ord, V> Eq for Item<K, V> {}

impl<K: Ord, V> Top<K, V> {
    /// Keeps at most `n` items.
    pub fn new(n: usize) -> Top<K, V> {
        Top {
            n,
            heap: BinaryHeap::new(),
        }
    }

    /// Offers an item; returns the one dropped to make room (this one, or
    /// the smallest kept), if any.
    pub fn push(&mut self, key: K, value: V) -> Option<(K, V)> {
        if self.n == 0 {
            return Some((key, value));
        }
        if self.heap.len() == self.n && self.heap.peek().is_some_and(|m| key <= m.0.key) {
            return Some((key, value));
        }
        self.heap.push(Reverse(Item { key, value }));
        if self.heap.len() > self.n {
            return self.heap.pop().map(|Reverse(i)| (i.key, i.value));
        }
        None
    }

    /// Offers an item that costs to build: `key` is made only when an item
    /// as good as `best` would be kept, `value` only when this one is.
    /// Lists of paths rank equals by the smaller path first, so a stream in
    /// path order builds what it keeps, not every candidate.
    pub fn offer(&mut self, best: &K, key: impl FnOnce() -> K, value: impl FnOnce() -> V) {
        if !self.would_keep(best) {
            return;
        }
        let key = key();
        if self.would_keep(&key) {
            self.push(key, value());
        }
    }

    /// Whether an item of this key would be kept now.
    pub fn would_keep(&self, key: &K) -> bool {
        self.n > 0 && (self.heap.len() < self.n || self.heap.peek().is_some_and(|m| *key > m.0.key))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The kept values, greatest key first.
    pub fn into_sorted(self) -> Vec<(K, V)> {
        // Ascending order of Reverse is descending order of the keys.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|Reverse(i)| (i.key, i.value))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_greatest_and_hands_back_the_rest() {
        let mut top = Top::new(3);
        let mut dropped = 0;
        for (i, k) in [5u64, 1, 9, 7, 3, 9, 2].into_iter().enumerate() {
            if let Some((k, _)) = top.push(k, i) {
                dropped += k;
            }
        }
        assert_eq!(dropped, 1 + 3 + 2 + 5);
        let keys: Vec<u64> = top.into_sorted().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, [9, 9, 7]);
        let mut none: Top<u64, ()> = Top::new(0);
        assert_eq!(none.push(4, ()), Some((4, ())));
        assert!(none.is_empty() && !none.would_keep(&9));
    }
}
