//! What a report says, in typed pieces: a line, a note or a table cell is a
//! run of spans — strata's own words, names and paths from inputs, and
//! figures that stay numbers until a renderer formats them (units, `--bytes`,
//! escaping and cutting are the renderer's).

use crate::image::Digest;

#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    /// strata's own words, written in its code: never from an input, so a
    /// renderer shows them as they are (markdown keeps their backticks).
    Text(&'static str),
    /// A name from an input (an image, a platform, a tag, a family, a package,
    /// a version, a rule's scope, a kind of finding): shown escaped; a
    /// terminal cuts a long one in the middle so that distinct names stay distinct.
    Name(String),
    /// A path in an image, as `analyze` shows it (`/usr/lib/x.so`).
    Path(String),
    /// A directory in an image: the path, which a renderer ends with `/`.
    Dir(String),
    /// A shell command from an image's history (`created_by`): one line; a
    /// terminal cuts a long one at its end.
    Command(String),
    /// Bytes; None: not known (`-`).
    Bytes(Option<u64>),
    /// A change in bytes, always signed (`+50kB`, `-2B`); None: `-`.
    Delta(Option<i64>),
    Count(u64),
    /// A count with its noun: the first form for one, the second for any
    /// other count (`1 image`, `4 images`; `1 entry`, `0 entries`).
    Counted(u64, &'static str, &'static str),
    /// A percentage (45.3 for 45.3%); None: `-` (a share of nothing).
    Percent(Option<f64>),
    /// One figure over another (`0.18x`); None: `-`.
    Ratio(Option<f64>),
    /// A fraction in [0, 1] as a gate compares it (four places).
    Fraction(f64),
    /// A number as computed, every digit (dive's efficiency, a gate's count).
    Number(f64),
    /// A digest; a renderer picks its form (the short one on a page or terminal).
    Digest(Digest),
    /// A layer by its 1-based position (`#3`).
    Layer(usize),
    /// How long ago, in seconds (`3 days ago`); None: `-`.
    Ago(Option<u64>),
    /// Text from this machine, not from an image (a cache directory): shown
    /// escaped and whole.
    Local(String),
}

impl Span {
    pub fn name(text: impl Into<String>) -> Span {
        Span::Name(text.into())
    }

    pub fn path(text: impl Into<String>) -> Span {
        Span::Path(text.into())
    }

    pub fn command(text: impl Into<String>) -> Span {
        Span::Command(text.into())
    }

    /// A name that may be missing: `-` for None.
    pub fn or_dash(text: Option<&str>) -> Span {
        text.map_or(Span::Text("-"), Span::name)
    }

    /// A command that may be missing: `-` for None.
    pub fn command_or_dash(text: Option<&str>) -> Span {
        text.map_or(Span::Text("-"), Span::command)
    }

    /// Known bytes.
    pub fn size(n: u64) -> Span {
        Span::Bytes(Some(n))
    }

    /// `part` as a percentage of `whole`; unknown (`-`) for an empty whole.
    pub fn share(part: u64, whole: u64) -> Span {
        Span::Percent((whole != 0).then(|| part as f64 * 100.0 / whole as f64))
    }

    pub fn percent(p: f64) -> Span {
        Span::Percent(Some(p))
    }

    pub fn digest(d: &Digest) -> Span {
        Span::Digest(d.clone())
    }
}

impl From<&'static str> for Span {
    fn from(text: &'static str) -> Span {
        Span::Text(text)
    }
}

/// A run of spans: one line, note, heading or table cell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spans(pub Vec<Span>);

impl Spans {
    pub fn new() -> Spans {
        Spans::default()
    }

    pub fn push(&mut self, span: impl Into<Span>) -> &mut Self {
        self.0.push(span.into());
        self
    }

    /// `more` after these spans.
    pub fn append(&mut self, more: impl Into<Spans>) -> &mut Self {
        self.0.extend(more.into().0);
        self
    }

    /// `items` one after the other with `sep` between them.
    pub fn join<I>(items: I, sep: &'static str) -> Spans
    where
        I: IntoIterator,
        I::Item: Into<Spans>,
    {
        let mut out = Spans::new();
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            out.0.extend(item.into().0);
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Span> for Spans {
    fn from(span: Span) -> Spans {
        Spans(vec![span])
    }
}

impl From<&'static str> for Spans {
    fn from(text: &'static str) -> Spans {
        Spans(vec![Span::Text(text)])
    }
}

impl From<Vec<Span>> for Spans {
    fn from(spans: Vec<Span>) -> Spans {
        Spans(spans)
    }
}

/// `spans![a, b, c]`: a run of spans from anything that is a Span (`&'static
/// str` is strata's own words).
#[macro_export]
macro_rules! spans {
    ($($s:expr),* $(,)?) => {
        $crate::report::Spans(vec![$($crate::report::Span::from($s)),*])
    };
}
