//! dive's CI file (`.dive-ci`) as a policy: `rules:` then `lowestEfficiency`,
//! `highestWastedBytes`, `highestUserWastedPercent` (each may be `disabled`).

use std::path::Path;

use super::policy::{any, ImageRules, Policy, Size};
use crate::error::{Error, Result};
use crate::units;

const RULES: &str = "lowestEfficiency, highestWastedBytes or highestUserWastedPercent";

/// Its one image rule; an error names the line, the column and what was
/// expected, never the line's text.
pub fn parse(text: &str, path: &Path) -> Result<Policy> {
    let mut rules = ImageRules {
        pattern: any(),
        ..ImageRules::default()
    };
    let bad = |line: usize, column: usize, reason: String| {
        Error::malformed(
            path.display().to_string(),
            format!("line {line}, column {column}: {reason}"),
        )
    };
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("");
        let indent = line.len() - line.trim_start().len();
        let line = line.trim();
        if line.is_empty() || line == "rules:" {
            continue;
        }
        let column = |byte: usize| raw[..byte].chars().count() + 1;
        let Some((key, value)) = line.split_once(':') else {
            return Err(bad(
                i + 1,
                column(indent),
                format!("expected KEY: VALUE, KEY one of {RULES}"),
            ));
        };
        let at = column(indent + key.len() + 1 + (value.len() - value.trim_start().len()));
        let value = value.trim().trim_matches('"');
        if value == "disabled" {
            continue;
        }
        let key = key.trim();
        let number = || {
            value
                .parse::<f64>()
                .map_err(|_| bad(i + 1, at, format!("{key}: not a number")))
        };
        match key {
            "lowestEfficiency" => rules.min_efficiency = Some(number()?),
            "highestUserWastedPercent" => rules.max_dive_user_wasted = Some(number()?),
            "highestWastedBytes" => {
                rules.max_dive_wasted =
                    Some(Size(units::parse_size(value).ok_or_else(|| {
                        bad(i + 1, at, format!("{key}: not a size (20MB or bytes)"))
                    })?))
            }
            _ => {
                return Err(bad(
                    i + 1,
                    column(indent),
                    format!("unknown rule, expected {RULES}"),
                ))
            }
        }
    }
    Ok(Policy {
        images: vec![rules],
        ..Policy::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse(text, Path::new(".dive-ci")).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_line_and_column_never_the_text() {
        for (text, expected) in [
            (
                "rules:\n  SECRET_TOKEN: 1\n",
                "line 2, column 3: unknown rule",
            ),
            (
                "rules:\n  lowestEfficiency: SECRET\n",
                "line 2, column 21: lowestEfficiency: not a number",
            ),
            (
                "rules:\n  highestWastedBytes: SECRET\n",
                "line 2, column 23: highestWastedBytes: not a size",
            ),
            (
                "rules:\n  SECRET\n",
                "line 2, column 3: expected KEY: VALUE",
            ),
        ] {
            let e = error(text);
            assert!(e.contains(expected), "{text}: {e}");
            assert!(!e.contains("SECRET"), "{e}");
        }
    }

    #[test]
    fn disabled_rules_are_left_out() {
        let p = parse(
            "rules:\n  lowestEfficiency: 0.9\n  highestWastedBytes: disabled\n",
            Path::new(".dive-ci"),
        )
        .unwrap();
        assert_eq!(p.images[0].min_efficiency, Some(0.9));
        assert_eq!(p.images[0].max_dive_wasted, None);
    }
}
