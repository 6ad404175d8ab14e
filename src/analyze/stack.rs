//! The open paths of a path-sorted stream (index order: a directory's
//! subtree follows it, contiguous): a stack of frames, each a path that is
//! an ancestor of (or equal to) the next, closed innermost first when the
//! stream leaves it. The frames share one path buffer, so a tree 32,000
//! levels deep costs 32,000 small frames and one 64 KiB path, never a path
//! per level; moving to the next path costs what its bytes cost to compare.

use crate::layer::index::common_prefix;

pub struct PathStack<T> {
    /// The top frame's path; each frame below owns a prefix of it.
    path: Vec<u8>,
    /// Each frame: where its path ends in `path`, and its value.
    frames: Vec<(usize, T)>,
}

impl<T> Default for PathStack<T> {
    fn default() -> Self {
        PathStack {
            path: Vec::new(),
            frames: Vec::new(),
        }
    }
}

impl<T> PathStack<T> {
    pub fn new() -> PathStack<T> {
        PathStack::default()
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Closes, innermost first, every frame that is neither `path` nor a
    /// directory above it. `close` gets each closed frame's path, its value,
    /// and the frame it closes into (the one below it), if any.
    pub fn close_to(&mut self, path: &[u8], mut close: impl FnMut(&[u8], T, Option<&mut T>)) {
        let Some(&(top, _)) = self.frames.last() else {
            return;
        };
        let shared = common_prefix(&self.path[..top], path);
        while let Some(&(end, _)) = self.frames.last() {
            // The root ("") holds everything; another frame holds what
            // starts with its path and a `/` (or is it).
            let holds = end == 0 || (end <= shared && (path.len() == end || path[end] == b'/'));
            if holds {
                break;
            }
            let Some((end, value)) = self.frames.pop() else {
                break;
            };
            let below = self.frames.last_mut().map(|f| &mut f.1);
            close(&self.path[..end], value, below);
        }
        self.path.truncate(self.frames.last().map_or(0, |f| f.0));
    }

    /// Closes every frame, innermost first.
    pub fn close_all(&mut self, mut close: impl FnMut(&[u8], T, Option<&mut T>)) {
        while let Some((end, value)) = self.frames.pop() {
            let below = self.frames.last_mut().map(|f| &mut f.1);
            close(&self.path[..end], value, below);
        }
        self.path.clear();
    }

    /// Opens a frame for `path`: the top frame's path, or below it (the
    /// caller has closed what does not hold it).
    pub fn open(&mut self, path: &[u8], value: T) {
        let top = self.frames.last().map_or(0, |f| f.0);
        debug_assert!(path.len() >= top && path[..top] == self.path[..top]);
        self.path.truncate(top);
        self.path.extend_from_slice(&path[top..]);
        self.frames.push((path.len(), value));
    }

    /// The top frame's path (empty when there is none).
    pub fn top_path(&self) -> &[u8] {
        &self.path[..self.frames.last().map_or(0, |f| f.0)]
    }

    pub fn top_mut(&mut self) -> Option<&mut T> {
        self.frames.last_mut().map(|f| &mut f.1)
    }

    /// Bytes the stack holds besides what its values own: the path buffer
    /// and one frame per open path.
    pub fn held_bytes(&self) -> usize {
        self.path.capacity() + self.frames.capacity() * std::mem::size_of::<(usize, T)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_close_innermost_first_as_the_stream_leaves_them() {
        let mut s: PathStack<&str> = PathStack::new();
        let mut closed = Vec::new();
        let mut record = |p: &[u8], v: &str, below: Option<&mut &str>| {
            closed.push((
                String::from_utf8_lossy(p).into_owned(),
                v.to_owned(),
                below.map(|b| b.to_string()),
            ));
        };
        s.open(b"", "root");
        s.open(b"a", "a");
        s.open(b"a/b", "ab");
        s.close_to(b"a/b/c", &mut record);
        assert_eq!(s.len(), 3);
        s.close_to(b"a-b", &mut record);
        assert_eq!(s.top_path(), b"");
        s.open(b"a-b", "a-b");
        s.close_to(b"ab", &mut record);
        s.close_all(&mut record);
        let got: Vec<(&str, &str, Option<&str>)> = closed
            .iter()
            .map(|(p, v, b)| (p.as_str(), v.as_str(), b.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("a/b", "ab", Some("a")),
                ("a", "a", Some("root")),
                ("a-b", "a-b", Some("root")),
                ("", "root", None)
            ]
        );
    }

    #[test]
    fn a_deep_chain_holds_one_path() {
        let mut s = PathStack::new();
        let mut path = Vec::new();
        for i in 0..32_000 {
            if i > 0 {
                path.push(b'/');
            }
            path.push(b'd');
            s.close_to(&path, |_, _: (), _| {});
            s.open(&path, ());
        }
        assert_eq!(s.len(), 32_000);
        assert!(
            s.held_bytes() < 2 * path.len() + 32_000 * 32,
            "{}",
            s.held_bytes()
        );
        let mut n = 0;
        s.close_to(b"e", |_, _, _| n += 1);
        assert_eq!((n, s.len()), (32_000, 0));
    }
}
