//! The gate's limits on one image's figures (sizes, layers, waste,
//! efficiency, paths, packages, findings) and on the set's dedup total.

use super::policy::{ImageRules, SetRules};
use super::{Found, ImageFacts, SetFacts, Unit};

/// Every limit of `rules` on `img`. A limit on a measure the image lacks
/// (an engine keeps no compressed size) is not checked, and says so.
pub(super) fn image(found: &mut Found, rules: &ImageRules, img: &ImageFacts) {
    let lvl = rules.level;
    let n = img.name.as_str();
    if let Some(limit) = rules.max_compressed {
        match img.compressed {
            Some(c) => found.max(n, "max_compressed", c, limit.0, lvl),
            None => found.warnings.push(format!(
                "{n}: no compressed size (an engine keeps layers uncompressed): max_compressed not checked; max_uncompressed is"
            )),
        }
    }
    if let Some(limit) = rules.max_uncompressed {
        found.max(n, "max_uncompressed", img.uncompressed, limit.0, lvl);
    }
    if let Some(limit) = rules.max_files {
        found.max(n, "max_files", img.files, limit.0, lvl);
    }
    if let Some(l) = rules.max_layers {
        found.check(
            n,
            "max_layers",
            img.layers as f64,
            l as f64,
            Unit::Count,
            lvl,
            img.layers > l,
        );
    }
    if let Some(a) = &img.audit {
        if let Some(limit) = rules.max_wasted {
            found.max(n, "max_wasted", a.wasted, limit.0, lvl);
        }
        if let Some(limit) = rules.max_dive_wasted {
            found.max(n, "max_dive_wasted", a.dive_wasted, limit.0, lvl);
        }
        if let Some(p) = rules.max_wasted_percent {
            let actual = if a.stored_files == 0 {
                0.0
            } else {
                a.wasted as f64 * 100.0 / a.stored_files as f64
            };
            found.check(
                n,
                "max_wasted_percent",
                actual,
                p,
                Unit::Percent,
                lvl,
                actual > p,
            );
        }
        if let Some(e) = rules.min_efficiency {
            found.check(
                n,
                "min_efficiency",
                a.dive_efficiency,
                e,
                Unit::Ratio,
                lvl,
                a.dive_efficiency < e,
            );
        }
        if let Some(u) = rules.max_dive_user_wasted {
            found.check(
                n,
                "max_dive_user_wasted",
                a.dive_user_wasted,
                u,
                Unit::Ratio,
                lvl,
                a.dive_user_wasted > u,
            );
        }
        for (path, limit) in &rules.max_under {
            let bytes = a.under.get(path).copied().unwrap_or(0);
            let rule = format!("max_under /{}", path.trim_matches('/'));
            found.max(n, &rule, bytes, limit.0, lvl);
        }
        for (pattern, files, bytes, first) in &a.forbidden {
            if rules.forbidden_paths.contains(pattern) {
                let c = found.check(
                    n,
                    &format!("forbidden_paths {pattern}"),
                    *files as f64,
                    0.0,
                    Unit::Count,
                    lvl,
                    *files > 0,
                );
                c.detail = first.clone();
                if *files > 0 {
                    c.detail.push(format!("{files} files, {bytes} bytes"));
                }
            }
        }
    }
    if let Some(findings) = &img.findings {
        for (kind, limit) in &rules.max_findings {
            let (bytes, paths) = findings.get(kind).cloned().unwrap_or_default();
            let c = found.check(
                n,
                &format!("max_findings {kind}"),
                bytes as f64,
                limit.0 as f64,
                Unit::Bytes,
                lvl,
                bytes > limit.0,
            );
            c.detail = paths.into_iter().take(5).collect();
        }
    }
    if let Some(pkgs) = &img.packages {
        for pattern in &rules.forbidden_packages {
            let Ok(glob) = globset::Glob::new(pattern) else {
                continue;
            };
            let m = glob.compile_matcher();
            let hits: Vec<&(String, String, u64)> =
                pkgs.iter().filter(|p| m.is_match(&p.0)).collect();
            let c = found.check(
                n,
                &format!("forbidden_packages {pattern}"),
                hits.len() as f64,
                0.0,
                Unit::Count,
                lvl,
                !hits.is_empty(),
            );
            c.detail = hits
                .iter()
                .map(|(name, version, bytes)| format!("{name} {version} ({bytes} bytes)"))
                .collect();
        }
    }
}

/// `[set] max_dedup_total`, on the compressed dedup total.
pub(super) fn set(found: &mut Found, rules: &SetRules, set: SetFacts) {
    if let Some(limit) = rules.max_dedup_total {
        match set.dedup_compressed {
            Some(d) => found.max("set", "max_dedup_total", d, limit.0, rules.level),
            None => found.warnings.push(
                "set: no compressed size (an engine image keeps layers uncompressed): max_dedup_total not checked"
                    .to_owned(),
            ),
        }
    }
}
