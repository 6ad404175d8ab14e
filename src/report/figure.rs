//! How figures read in the text renderers (terminal and markdown alike):
//! bytes in SI units or raw with `--bytes`, `-` for what is not known, signed
//! changes, percentages, ratios, short digests, layers as `#N`. Names, paths
//! and commands are not figures: each renderer escapes and cuts them its way.

use super::span::Span;
use super::Style;
use crate::units;

/// What a text renderer writes for `span`, or None when `span` carries text
/// from an input (the renderer's escaper handles it).
pub fn figure(span: &Span, style: Style) -> Option<String> {
    let dash = || "-".to_owned();
    Some(match span {
        Span::Text(t) => (*t).to_owned(),
        Span::Bytes(n) => n.map_or_else(dash, |n| units::bytes(n, style.raw_bytes)),
        Span::Delta(n) => n.map_or_else(dash, |n| units::delta(n, style.raw_bytes)),
        Span::Count(n) => n.to_string(),
        Span::Counted(n, one, many) => units::count(*n, one, many),
        Span::Percent(p) => p.map_or_else(dash, units::percent),
        Span::Ratio(r) => r.map_or_else(dash, units::ratio),
        Span::Fraction(f) => format!("{f:.4}"),
        Span::Number(f) => format!("{f}"),
        Span::Digest(d) => d.short().to_owned(),
        Span::Layer(l) => format!("#{l}"),
        Span::Ago(secs) => secs.map_or_else(dash, units::ago),
        Span::Name(_) | Span::Path(_) | Span::Dir(_) | Span::Command(_) | Span::Local(_) => {
            return None
        }
    })
}

/// A directory as shown: its path ending in `/`.
pub fn dir(path: &str) -> String {
    if path.ends_with('/') {
        path.to_owned()
    } else {
        format!("{path}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_the_same_in_every_text_format() {
        let human = Style::default();
        let raw = Style { raw_bytes: true };
        assert_eq!(figure(&Span::Bytes(Some(191_040)), human).unwrap(), "191kB");
        assert_eq!(figure(&Span::Bytes(Some(191_040)), raw).unwrap(), "191040");
        assert_eq!(figure(&Span::Bytes(None), human).unwrap(), "-");
        assert_eq!(figure(&Span::Delta(Some(-2)), human).unwrap(), "-2B");
        assert_eq!(figure(&Span::share(1, 4), human).unwrap(), "25.0%");
        assert_eq!(figure(&Span::share(1, 0), human).unwrap(), "-");
        assert_eq!(figure(&Span::Ratio(Some(0.2)), human).unwrap(), "0.20x");
        assert_eq!(
            figure(&Span::Counted(1, "image", "images"), human).unwrap(),
            "1 image"
        );
        assert_eq!(figure(&Span::Layer(3), human).unwrap(), "#3");
        assert_eq!(
            figure(&Span::Ago(Some(120)), human).unwrap(),
            "2 minutes ago"
        );
        assert_eq!(figure(&Span::Ago(None), human).unwrap(), "-");
        assert_eq!(figure(&Span::Number(0.5), human).unwrap(), "0.5");
        assert_eq!(figure(&Span::Fraction(0.98442), human).unwrap(), "0.9844");
        assert!(figure(&Span::name("x"), human).is_none());
        assert_eq!(dir("/usr"), "/usr/");
        assert_eq!(dir("/"), "/");
    }
}
