//! Figures for humans: bytes in SI units with three significant digits, like
//! the docker CLI (or raw with `--bytes`), signed changes, percentages and
//! ratios; and sizes parsed as people write them.

const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

/// `1220598` -> `1.22MB`; `66237` -> `66.2kB`; `999` -> `999B`.
pub fn human(bytes: u64) -> String {
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = if unit == 0 || value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let mut text = format!("{value:.decimals$}");
    // 999.6kB rounds to "1000": carry into the next unit.
    if text.starts_with("1000") && unit < UNITS.len() - 1 {
        unit += 1;
        text = "1.00".to_owned();
    }
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    format!("{text}{}", UNITS[unit])
}

/// Parses a size as people write it: `450MB`, `1.2GiB`, `512 kB`, `1000`
/// (SI units are powers of 1000, IEC units of 1024).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().ok()?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024f64.powi(4),
        _ => return None,
    };
    let bytes = value * factor;
    (bytes.is_finite() && (0.0..1.8e19).contains(&bytes)).then(|| bytes.round() as u64)
}

/// Bytes as a report shows them: human, or raw with `--bytes`.
pub fn bytes(n: u64, raw: bool) -> String {
    if raw {
        n.to_string()
    } else {
        human(n)
    }
}

/// A change in bytes, always signed: `+50kB`, `-2B`, `+0B`.
pub fn delta(n: i64, raw: bool) -> String {
    let sign = if n < 0 { "-" } else { "+" };
    format!("{sign}{}", bytes(n.unsigned_abs(), raw))
}

/// `45.3%`.
pub fn percent(p: f64) -> String {
    format!("{p:.1}%")
}

/// `0.18x`.
pub fn ratio(r: f64) -> String {
    format!("{r:.2}x")
}

/// `1 image`, `2 images`: a count with its noun, `one` for one, else `many`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "3 days ago": `secs` in the largest whole unit.
pub fn ago(secs: u64) -> String {
    let (n, one, many) = match secs {
        s if s < 60 => return "just now".to_owned(),
        s if s < 3600 => (s / 60, "minute", "minutes"),
        s if s < 86_400 => (s / 3600, "hour", "hours"),
        s => (s / 86_400, "day", "days"),
    };
    format!("{} ago", count(n, one, many))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_docker_cli() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(999), "999B");
        assert_eq!(human(1000), "1kB");
        assert_eq!(human(66237), "66.2kB");
        assert_eq!(human(1220598), "1.22MB");
        assert_eq!(human(999_600), "1MB");
        assert_eq!(human(20_000_000_000), "20GB");
        assert_eq!(human(u64::MAX), "18.4EB");
    }

    #[test]
    fn sizes_parse_as_people_write_them() {
        assert_eq!(parse_size("450MB"), Some(450_000_000));
        assert_eq!(parse_size("1.2GiB"), Some(1_288_490_189));
        assert_eq!(parse_size("512 kB"), Some(512_000));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("12 MBB"), None);
        assert_eq!(parse_size("-1MB"), None);
    }

    #[test]
    fn changes_percentages_and_ratios() {
        assert_eq!(delta(-2, false), "-2B");
        assert_eq!(delta(0, false), "+0B");
        assert_eq!(delta(50_333, false), "+50.3kB");
        assert_eq!(delta(-76_300, true), "-76300");
        assert_eq!(percent(45.28631), "45.3%");
        assert_eq!(ratio(0.1771), "0.18x");
    }

    #[test]
    fn counts_say_one_image_one_layer() {
        assert_eq!(count(1, "image", "images"), "1 image");
        assert_eq!(count(0, "layer", "layers"), "0 layers");
        assert_eq!(count(2, "entry", "entries"), "2 entries");
    }

    #[test]
    fn ages_read_in_the_largest_whole_unit() {
        assert_eq!(ago(10), "just now");
        assert_eq!(ago(120), "2 minutes ago");
        assert_eq!(ago(3600), "1 hour ago");
        assert_eq!(ago(3 * 86_400 + 5), "3 days ago");
    }
}
