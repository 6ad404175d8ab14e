//! Inert text, one escaper per output kind. Names and values from inputs
//! (tags, paths, `created_by`, registry messages) reach a terminal with every
//! control, bidi and zero-width character shown as a visible escape; reach
//! markdown with nothing a renderer would honour (HTML, links, images, code,
//! emphasis, tables, blocks); reach JSON with the same characters as `\u`
//! escapes (the JSON formatter in report/json.rs writes them with `json`);
//! reach HTML as text with every markup character an entity (`html`).

use std::borrow::Cow;
use std::fmt::Write as _;

/// Characters no output shows raw: C0 controls (ESC, CR, LF, BEL, …), DEL and
/// C1 controls, which move a terminal's cursor or recolour it; bidirectional
/// marks, embeddings, overrides and isolates, which reorder what is shown;
/// zero-width characters, which make two names look alike; and the Unicode
/// line and paragraph separators, which break a line where none shows.
pub fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'                        // Arabic letter mark
            | '\u{200b}'..='\u{200f}'         // zero-width space/(non-)joiner, LRM, RLM
            | '\u{2028}' | '\u{2029}'         // line and paragraph separators
            | '\u{202a}'..='\u{202e}'         // embeddings and overrides
            | '\u{2060}'..='\u{2064}'         // word joiner, invisible operators
            | '\u{00ad}'                      // soft hyphen
            | '\u{2066}'..='\u{2069}'         // isolates
            | '\u{feff}' // zero-width no-break space (BOM)
        )
}

/// The terminal's escaper: `text` with every `hidden` character written as a
/// visible escape (`\x1b`, `\r`, `\u{9b}`, `\u{200b}`), so an input cannot move
/// the cursor, recolour the screen, forge a line or pass for another name.
/// Borrowed when clean.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && hidden(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The terminal's escaper under its usual name.
pub fn terminal(text: &str) -> Cow<'_, str> {
    escape(text)
}

/// A shell command as one line: runs of whitespace (line breaks, tabs) become
/// one space and the ends are trimmed. The result still needs an escaper.
pub fn one_line(text: &str) -> Cow<'_, str> {
    let t = text.trim();
    let clean = !t
        .as_bytes()
        .windows(2)
        .any(|w| w[0].is_ascii_whitespace() && w[1].is_ascii_whitespace())
        && t.chars().all(|c| c == ' ' || !c.is_whitespace());
    if clean {
        return Cow::Borrowed(t);
    }
    let mut out = String::with_capacity(t.len());
    let mut space = false;
    for c in t.chars() {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            space = false;
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Where markdown text goes: at the start of a line a few characters would
/// open a block (a heading, a quote, a list, a rule, a code block).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// First on a line of a paragraph, heading or quote.
    LineStart,
    /// Anywhere else (inside a line, or a table cell: cells hold no blocks).
    Inline,
}

/// The markdown escaper: `text` (from an input) as GitHub-flavoured markdown
/// that shows exactly `escape(text)` and does nothing else. `<`, `>`, `&`
/// become entities (no HTML, no autolink); `[`, `(`, `)` are escaped (no link,
/// image or footnote can open, so `]` and `!` stay inert); backticks, `*`,
/// `_`, `~` and `|` are escaped (no code span, emphasis, strikethrough or
/// cell); a backslash that would escape what follows is doubled; `://` and
/// `www.` are broken so that no bare URL is linked; and at a line's start the
/// characters that open a block are escaped. Line breaks and controls are
/// already visible escapes. Never cut: markdown is for pasting.
pub fn markdown(text: &str, place: Place) -> String {
    let shown = escape(text);
    let chars: Vec<char> = shown.chars().collect();
    let mut out = String::with_capacity(shown.len() + 8);
    let mut i = 0;
    if place == Place::LineStart {
        while chars.get(i) == Some(&' ') {
            out.push_str("&#32;");
            i += 1;
        }
        match chars.get(i) {
            Some('#' | '-' | '+' | '=') => {
                out.push('\\');
                out.push(chars[i]);
                i += 1;
            }
            Some(c) if c.is_ascii_digit() => {
                let digits = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                if let Some('.' | ')') = chars.get(i + digits) {
                    out.extend(&chars[i..i + digits]);
                    out.push('\\');
                    out.push(chars[i + digits]);
                    i += digits + 1;
                }
            }
            _ => {}
        }
    }
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' if next.is_none_or(|n| n.is_ascii_punctuation()) => out.push_str("\\\\"),
            // A run of `_` between two letters or digits can neither open
            // nor close emphasis (CommonMark's flanking rules): `max_layers`
            // reads as it is.
            '_' if i > 0 && chars[i - 1].is_alphanumeric() && {
                let run = chars[i..].iter().take_while(|&&c| c == '_').count();
                chars.get(i + run).is_some_and(|c| c.is_alphanumeric())
            } =>
            {
                while chars.get(i + 1) == Some(&'_') {
                    out.push('_');
                    i += 1;
                }
                out.push('_')
            }
            '`' | '*' | '_' | '~' | '[' | '(' | ')' | '|' => {
                out.push('\\');
                out.push(c);
            }
            ':' if chars[i + 1..].starts_with(&['/', '/']) => out.push_str("\\:"),
            '.' if i >= 3
                && chars[i - 3..i].iter().all(|w| w.eq_ignore_ascii_case(&'w'))
                && (i == 3 || !chars[i - 4].is_alphanumeric()) =>
            {
                out.push_str("\\.")
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// The HTML escaper, for text and attribute values alike: `text` (from an
/// input) as the page shows it, `escape(text)` with `&`, `<`, `>`, `"` and
/// `'` as entities, so that no tag, attribute, entity or script can open,
/// and no hidden character reorders or hides what is shown.
pub fn html(text: &str) -> String {
    let shown = escape(text);
    let mut out = String::with_capacity(shown.len() + 8);
    for c in shown.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The JSON escaper: writes `text` (one fragment of a JSON string, which
/// serde_json has already cleared of `"`, `\` and C0 controls) with every
/// other `hidden` character as a `\uXXXX` escape. Parsed back, it is the same
/// string; printed raw on a terminal, it is inert.
pub fn json(out: &mut impl std::io::Write, text: &str) -> std::io::Result<()> {
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if hidden(c) {
            out.write_all(&text.as_bytes()[start..i])?;
            // Every hidden character is in the Basic Multilingual Plane.
            write!(out, "\\u{:04x}", c as u32)?;
            start = i + c.len_utf8();
        }
    }
    out.write_all(&text.as_bytes()[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(escape("plain/name:1"), "plain/name:1");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(escape("a\x1b[31mred\x07"), "a\\x1b[31mred\\x07");
        assert_eq!(escape("line\r\nforged"), "line\\r\\nforged");
        assert_eq!(escape("c1\u{9b}2J"), "c1\\u{9b}2J");
        assert_eq!(escape("del\x7f"), "del\\x7f");
        assert_eq!(escape("bidi\u{202e}txt"), "bidi\\u{202e}txt");
        assert_eq!(escape("naïve ✓"), "naïve ✓");
    }

    #[test]
    fn zero_width_and_bidi_characters_are_made_visible() {
        assert_eq!(escape("a\u{200b}b"), "a\\u{200b}b");
        assert_eq!(
            escape("a\u{200d}b\u{2060}c\u{feff}"),
            "a\\u{200d}b\\u{2060}c\\u{feff}"
        );
        assert_eq!(
            escape("\u{200e}\u{200f}\u{061c}"),
            "\\u{200e}\\u{200f}\\u{61c}"
        );
        assert_eq!(escape("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(escape("a\u{2028}b"), "a\\u{2028}b");
    }

    #[test]
    fn a_command_reads_as_one_line() {
        assert_eq!(one_line("RUN a &&\n\t b"), "RUN a && b");
        assert_eq!(one_line("  plain words "), "plain words");
        assert!(matches!(one_line("plain words"), Cow::Borrowed(_)));
    }

    #[test]
    fn markdown_shows_the_text_and_nothing_else() {
        let m = |t| markdown(t, Place::Inline);
        assert_eq!(
            m("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert\\(1\\)&gt;"
        );
        assert_eq!(m("[click](https://evil)"), "\\[click]\\(https\\://evil\\)");
        assert_eq!(m("![i](x)"), "!\\[i]\\(x\\)");
        assert_eq!(
            m("`code` *em* _u_ ~s~ a|b"),
            "\\`code\\` \\*em\\* \\_u\\_ \\~s\\~ a\\|b"
        );
        assert_eq!(m("max_wasted__percent"), "max_wasted__percent");
        assert_eq!(m("_a_b_ c_"), "\\_a_b\\_ c\\_");
        assert_eq!(m("a & b"), "a &amp; b");
        assert_eq!(m("www.evil.com"), "www\\.evil.com");
        assert_eq!(m("awww.x"), "awww.x");
        assert_eq!(m("back\\*slash\\"), "back\\\\\\*slash\\\\");
        assert_eq!(m("evil\x1b]0;pwned\x07"), "evil\\x1b]0;pwned\\x07");
        assert_eq!(m("two\nlines"), "two\\nlines");
        assert_eq!(m("# not a heading"), "# not a heading");
    }

    #[test]
    fn markdown_at_a_line_start_opens_no_block() {
        let m = |t| markdown(t, Place::LineStart);
        assert_eq!(m("# title"), "\\# title");
        assert_eq!(m("> quote"), "&gt; quote");
        assert_eq!(m("- item"), "\\- item");
        assert_eq!(m("+ item"), "\\+ item");
        assert_eq!(m("==="), "\\===");
        assert_eq!(m("12. item"), "12\\. item");
        assert_eq!(m("3) item"), "3\\) item");
        assert_eq!(m("    code"), "&#32;&#32;&#32;&#32;code");
        assert_eq!(m("2024 plain"), "2024 plain");
    }

    #[test]
    fn html_shows_the_text_and_opens_nothing() {
        assert_eq!(
            html("<img src=x onerror=\"a('1')\">&amp;"),
            "&lt;img src=x onerror=&quot;a(&#39;1&#39;)&quot;&gt;&amp;amp;"
        );
        assert_eq!(html("bidi\u{202e}\x1b[2J"), "bidi\\u{202e}\\x1b[2J");
        assert_eq!(html("naïve ✓ 界"), "naïve ✓ 界");
    }

    #[test]
    fn json_escapes_what_serde_leaves_raw() {
        let mut out = Vec::new();
        json(&mut out, "a\u{9b}b\x7fc\u{202e}d\u{200b}é").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\u009bb\\u007fc\\u202ed\\u200bé"
        );
    }
}
