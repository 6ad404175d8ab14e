//! The README: its code fences are balanced (each opened with a language,
//! each closed), every `$ strata …` example whose input ships in fixtures/
//! prints exactly what the README shows, the set-up commands are the two it
//! promises, and the fixtures it runs on are what the fixture builder writes.

use std::path::Path;

use super::builder::{self, Compress};
use super::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Languages a fence may open with.
const LANGUAGES: [&str; 7] = ["sh", "console", "yaml", "toml", "json", "jsonc", "text"];

#[derive(Debug)]
struct Fence {
    /// 1-based line of the opening fence.
    line: usize,
    info: String,
    body: Vec<String>,
}

/// The fenced code blocks of a markdown text: each opens with three or more
/// backticks and a language, and closes with a bare fence at least as long.
fn fences(text: &str) -> Result<Vec<Fence>, String> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Fence)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let ticks = trimmed.chars().take_while(|&c| c == '`').count();
        match &mut open {
            Some((len, fence)) => {
                if ticks >= *len && trimmed[ticks..].trim().is_empty() {
                    out.push(open.take().unwrap().1);
                } else if ticks >= 3 {
                    return Err(format!(
                        "line {}: a fence with an info string inside the block opened at line {} (never closed?)",
                        i + 1,
                        fence.line
                    ));
                } else {
                    fence.body.push(line.to_owned());
                }
            }
            None if ticks >= 3 => {
                let info = trimmed[ticks..].trim().to_owned();
                if !LANGUAGES.contains(&info.as_str()) {
                    return Err(format!(
                        "line {}: a fence opens with {info:?}, not one of {LANGUAGES:?} (a bare fence here means the one before was never closed)",
                        i + 1
                    ));
                }
                open = Some((
                    ticks,
                    Fence {
                        line: i + 1,
                        info,
                        body: Vec::new(),
                    },
                ));
            }
            None => {}
        }
    }
    match open {
        Some((_, fence)) => Err(format!(
            "the fence opened at line {} is never closed",
            fence.line
        )),
        None => Ok(out),
    }
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap()
}

/// Issue 19.8: the GitLab CI block was never closed, and every fence after
/// it rendered inverted.
#[test]
fn the_readmes_fences_are_balanced_and_each_opens_with_a_language() {
    let all = fences(&readme()).unwrap_or_else(|e| panic!("README.md: {e}"));
    assert!(all.len() >= 12, "{} fences", all.len());
    // The checker itself: an unclosed block, and the inversion it causes.
    assert!(fences("```yaml\na: 1\n## Heading\n").is_err());
    assert!(fences("```yaml\na: 1\n## Heading\n```\n\n$ strata x\n```\n").is_err());
    assert!(fences("```yaml\na: 1\n```\n```sh\nls\n```\n").is_ok());
}

/// `$ strata …` lines of `console` fences and the output printed below each.
fn examples(fences: &[Fence]) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for f in fences.iter().filter(|f| f.info == "console") {
        let mut current: Option<(usize, String, Vec<String>)> = None;
        for (i, line) in f.body.iter().enumerate() {
            if let Some(command) = line.strip_prefix("$ ") {
                out.extend(current.take().map(|(l, c, o)| (l, c, o.join("\n"))));
                current = Some((f.line + 1 + i, command.to_owned(), Vec::new()));
            } else if let Some((_, _, output)) = &mut current {
                output.push(line.clone());
            }
        }
        out.extend(current.map(|(l, c, o)| (l, c, o.join("\n"))));
    }
    out
}

/// Splits a command line as a shell would, for the plain quoting examples use.
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// Whether every image an example names is a file or layout shipped here.
fn ships(args: &[String]) -> bool {
    let local = ["oci:", "oci-archive:", "docker-archive:"];
    let refs: Vec<&String> = args
        .iter()
        .filter(|a| a.contains(':') && !a.starts_with('-'))
        .collect();
    !refs.is_empty()
        && refs.iter().all(|a| {
            local.iter().any(|t| {
                a.strip_prefix(t)
                    .and_then(|rest| rest.split(':').next())
                    .is_some_and(|path| Path::new(ROOT).join(path).exists())
            })
        })
}

fn trimmed(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    lines.join("\n").trim_end().to_owned()
}

/// Issue 19.8: the README's examples are run, and print what it shows.
#[test]
fn every_readme_example_whose_input_ships_prints_what_the_readme_shows() {
    let all = fences(&readme()).unwrap();
    let r = Run::new();
    let mut ran = Vec::new();
    for (line, command, expected) in examples(&all) {
        let args = words(&command);
        assert_eq!(args[0], "strata", "README.md line {line}: {command}");
        if !ships(&args[1..]) {
            assert!(
                expected.trim().is_empty(),
                "README.md line {line}: `{command}` shows output, but its input does not ship in fixtures/"
            );
            continue;
        }
        let out = r
            .cmd()
            .current_dir(ROOT)
            .env("COLUMNS", "200")
            .args(&args[1..])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1)) && stderr.is_empty(),
            "README.md line {line}: {command}: {stderr}"
        );
        let got = trimmed(&String::from_utf8_lossy(&out.stdout));
        assert!(
            got == trimmed(&expected),
            "README.md line {line}: `{command}` prints:\n{got}\n\nthe README shows:\n{}",
            trimmed(&expected)
        );
        ran.push(args[1].clone());
    }
    for command in ["footprint", "compare", "du", "layers", "packages", "gate"] {
        assert!(
            ran.iter().any(|c| c == command),
            "no `$ strata {command}` example ran: {ran:?}"
        );
    }
}

/// Issue 19.9: set-up command 1 built for minutes in silence (`cargo run
/// -q`); the release binary was 114 MB of debug info.
#[test]
fn set_up_is_two_commands_with_cargos_progress_and_a_stripped_release_build() {
    let text = readme();
    let set_up = text
        .split("## Set up\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap();
    let block = &fences(set_up).unwrap()[0];
    let commands: Vec<&str> = block
        .body
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        commands,
        [
            "cargo run --release -- footprint oci:fixtures/family",
            "scripts/test.sh"
        ]
    );
    // The main job of command 1 is the worked example the README shows and tests.
    let examples = examples(&fences(&text).unwrap());
    assert!(examples
        .iter()
        .any(|(_, c, out)| c == "strata footprint oci:fixtures/family" && !out.is_empty()));

    let cargo: toml::Value =
        toml::from_str(&std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap())
            .unwrap();
    let release = &cargo["profile"]["release"];
    assert!(
        matches!(
            release.get("debug"),
            Some(toml::Value::Integer(0) | toml::Value::Boolean(false))
        ),
        "{release}"
    );
    assert!(
        matches!(release.get("strip"), Some(toml::Value::Boolean(true)))
            || release.get("strip").and_then(|s| s.as_str()) == Some("symbols"),
        "{release}"
    );
    // Benches inherit from release: they keep their symbols for profilers.
    let bench = &cargo["profile"]["bench"];
    assert!(
        matches!(
            bench.get("debug"),
            Some(toml::Value::Integer(1 | 2) | toml::Value::Boolean(true))
        ),
        "{bench}"
    );
    assert_eq!(
        bench.get("strip").and_then(|s| s.as_str()),
        Some("none"),
        "{bench}"
    );
}

/// Issue 19.8: the README documents installing: the binary, completions and man pages.
#[test]
fn the_install_section_names_the_binary_completions_and_man_pages() {
    let text = readme();
    let install = text
        .split("## Install\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("an Install section");
    for needle in [
        "cargo install --path .",
        "~/.cargo/bin/strata",
        "strata completions bash",
        "strata completions zsh",
        "strata completions fish",
        "strata man --dir",
    ] {
        assert!(install.contains(needle), "Install lacks {needle:?}");
    }
    // Its commands are real: each completions shell and `man --dir` run.
    let r = Run::new();
    for shell in ["bash", "zsh", "fish"] {
        assert!(r.run(&["completions", shell]).status.success());
    }
    let dir = r.path("man1");
    assert!(r
        .run(&["man", "--dir", dir.to_str().unwrap()])
        .status
        .success());
    assert!(dir.join("strata-footprint.1").is_file());
}

/// A layout directory's files and their bytes, sorted.
fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// The fixtures the README runs on, committed, are the builder's:
/// fixtures/family, fixtures/compare/{fat,lean}, fixtures/packages,
/// fixtures/history.
/// Rebuild them with `STRATA_BLESS=1 cargo test --test it fixtures`.
#[test]
fn committed_fixtures_are_what_the_builder_writes() {
    let build = |root: &Path| {
        builder::family(&root.join("family"), Compress::Gzip(6));
        super::compare::families_in(&root.join("compare/fat"), &root.join("compare/lean"));
        super::packages::image(&root.join("packages"));
        builder::releases(&root.join("history"));
    };
    let committed = Path::new(ROOT).join("fixtures");
    let shipped = ["family", "compare", "packages", "history"];
    if std::env::var_os("STRATA_BLESS").is_some() {
        for dir in shipped {
            let _ = std::fs::remove_dir_all(committed.join(dir));
        }
        build(&committed);
    }
    let r = Run::new();
    build(r.tmp.path());
    for dir in shipped {
        assert!(
            tree(&committed.join(dir)) == tree(&r.path(dir)),
            "fixtures/{dir} is stale: rebuild with STRATA_BLESS=1 cargo test --test it fixtures"
        );
    }
}
