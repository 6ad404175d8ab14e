//! Output is inert (rule 13), whatever an image names: markdown carries no
//! live HTML, link, image, code or emphasis; the terminal gets no control,
//! bidi or zero-width character raw and never prints two names alike; JSON
//! escapes the same characters and parses back to the same names.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::builder::{self, Compress, OciLayout};
use super::*;

/// Names a pasted report must show as text and never act on.
const HOSTILE: [&str; 8] = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click](https://evil)",
    "![i](http://x/y.png)",
    "`rm -rf /`",
    "*bold* _em_ ~~gone~~ a|b",
    "# heading",
    "www.evil.example",
];

/// A layout of one image per name, each its own (one file of its own).
fn images_named(dir: &Path, names: &[String]) -> PathBuf {
    let mut lay = OciLayout::new(dir);
    for (i, name) in names.iter().enumerate() {
        let layer = lay.layer(Compress::Gzip(6), |w| {
            w.file("f", i.to_string().as_bytes());
        });
        lay.image(name, &[&layer], "linux/amd64");
    }
    lay.finish()
}

/// A layout whose image names (tags) are the hostile names, and one whose
/// name, cut in the middle at a terminal's cap, would leave an unclosed `<img`.
fn hostile_layout(r: &Run) -> PathBuf {
    let mut names: Vec<String> = HOSTILE.iter().map(|n| n.to_string()).collect();
    names.push(long_img());
    images_named(&r.path("hostile"), &names)
}

fn long_img() -> String {
    format!("<img src=x onerror=alert(1) {}>", "a".repeat(150))
}

/// What a markdown renderer would make of `md`: every event that acts
/// (HTML, a link, an image, code, emphasis) is a failure, and every table
/// row keeps its header's cell count (no pipe split a cell).
fn assert_inert(md: &str) {
    let parser = Parser::new_ext(md, Options::all());
    let (mut head_cells, mut cells) = (0, 0);
    let (mut in_head, mut headings) = (false, 0);
    for event in parser {
        match &event {
            Event::Html(_) | Event::InlineHtml(_) => panic!("HTML: {event:?}\n{md}"),
            Event::Code(c) if c.as_ref() != "-" => panic!("code: {event:?}\n{md}"),
            Event::Start(
                Tag::Link { .. }
                | Tag::Image { .. }
                | Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::CodeBlock(_)
                | Tag::List(_)
                | Tag::FootnoteDefinition(_),
            ) => panic!("acts: {event:?}\n{md}"),
            Event::Start(Tag::Heading { .. }) => headings += 1,
            Event::Start(Tag::TableHead) => (in_head, head_cells) = (true, 0),
            Event::End(TagEnd::TableHead) => in_head = false,
            Event::Start(Tag::TableRow) => cells = 0,
            Event::Start(Tag::TableCell) if in_head => head_cells += 1,
            Event::Start(Tag::TableCell) => cells += 1,
            Event::End(TagEnd::TableRow) => assert_eq!(cells, head_cells, "{md}"),
            _ => {}
        }
    }
    // Only strata's own section titles are headings.
    let titles = md.lines().filter(|l| l.starts_with("### ")).count();
    assert_eq!(headings, titles, "{md}");
    // GitHub links bare URLs (`https://…`, `www.…`) too.
    let bare = md.replace("\\://", "");
    assert!(!bare.contains("://") && !md.contains("www."), "{md}");
}

/// The text a markdown renderer shows for `md`.
fn shown(md: &str) -> String {
    Parser::new_ext(md, Options::all())
        .filter_map(|e| match e {
            Event::Text(t) => Some(t.into_string()),
            Event::SoftBreak | Event::HardBreak => Some("\n".to_owned()),
            _ => None,
        })
        .collect()
}

fn stdout(r: &Run, args: &[&str]) -> String {
    let out = r.run(args);
    assert!(
        out.status.success(),
        "strata {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn hostile_image_names_are_inert_in_markdown_and_shown_whole() {
    let r = Run::new();
    let layout = hostile_layout(&r);
    let md = stdout(&r, &["footprint", "--format", "markdown", &oci(&layout)]);
    assert_inert(&md);
    assert!(!md.contains('<'), "{md}");
    let text = shown(&md);
    for name in HOSTILE.iter().map(|n| n.to_string()).chain([long_img()]) {
        assert!(text.contains(&name), "{name} not shown whole in:\n{text}");
    }
}

/// One image whose file names, package names and versions, and layer
/// commands (`created_by`) are the hostile names, its first layer alone
/// tagged `base`; its reference.
fn hostile_image(r: &Run) -> String {
    let mut lay = OciLayout::new(&r.path("image"));
    let files = lay.layer(Compress::Gzip(6), |w| {
        for (i, name) in HOSTILE.iter().enumerate() {
            w.file(&format!("h{i}-{name}"), name.as_bytes());
        }
        w.file(&long_img(), b"long");
        for (i, name) in HOSTILE.iter().enumerate() {
            let dir = format!("app/node_modules/p{i}");
            let json = serde_json::json!({"name": name, "version": name});
            w.dir(&dir)
                .file(&format!("{dir}/package.json"), json.to_string().as_bytes())
                .file(&format!("{dir}/index.js"), b"module.exports = 1;\n");
        }
    });
    // Later: one hostile file deleted, another written again (both wasted,
    // and advise's, audit's and diff's findings).
    let more = lay.layer(Compress::Gzip(6), |w| {
        w.file("later", b"later")
            .whiteout(&format!("h1-{}", HOSTILE[1]))
            .file(&format!("h5-{}", HOSTILE[5]), b"written again");
    });
    let layers = [&files, &more];
    let mut config = OciLayout::config_for(&layers, "linux/amd64");
    config["history"][0]["created_by"] = HOSTILE[0].into();
    config["history"][1]["created_by"] = format!("{} {}", HOSTILE[2], HOSTILE[3]).into();
    lay.image("base", &[&files], "linux/amd64");
    let mut desc = lay.manifest_with_config(&layers, &serde_json::to_vec(&config).unwrap());
    desc["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": HOSTILE[0]});
    let dir = lay.finish();
    let index_path = dir.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    index["manifests"].as_array_mut().unwrap().push(desc);
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    format!("{}:{}", oci(&dir), HOSTILE[0])
}

#[test]
fn hostile_files_packages_and_commands_are_inert_in_every_views_markdown() {
    let r = Run::new();
    let image = hostile_image(&r);
    let base = image.replace(HOSTILE[0], "base");
    // Every rule trips (as a warning: the gate's exit stays 0) and names what
    // tripped it: hostile paths and packages.
    let policy = r.path("policy.toml");
    std::fs::write(
        &policy,
        "[[image]]\nlevel = \"warn\"\nforbidden_paths = [\"h*\"]\n\
         forbidden_packages = [\"*/*\"]\nmax_findings = { deleted_later = 0 }\n",
    )
    .unwrap();
    let policy = policy.to_str().unwrap();
    for args in [
        vec!["packages", &image],
        vec!["du", &image],
        vec!["layers", &image],
        vec!["audit", &image, "--layer", "1"],
        vec!["audit", &image, "--layer", "2"],
        vec!["diff", &base, &image],
        vec!["advise", &image],
        vec!["gate", "--policy", policy, &image],
    ] {
        let mut args = args.clone();
        args.extend(["--format", "markdown"]);
        let md = stdout(&r, &args);
        assert_inert(&md);
        assert!(!md.contains('<'), "{args:?}: {md}");
        let text = shown(&md);
        // Each view shows the hostile names it lists whole (markdown never cuts).
        let whole: &[&str] = match args[0] {
            "packages" => &HOSTILE,
            "layers" | "audit" => &[HOSTILE[0], HOSTILE[2]],
            "du" => &[HOSTILE[3], HOSTILE[6], HOSTILE[7]],
            "diff" => &[HOSTILE[1], HOSTILE[5]],
            "advise" => &[HOSTILE[0], HOSTILE[1]],
            _ => &[HOSTILE[0], HOSTILE[4]],
        };
        for name in whole {
            assert!(
                text.contains(name),
                "{args:?}: {name} not shown whole in:\n{text}"
            );
        }
    }
}

#[test]
fn hostile_family_names_are_inert_in_markdown() {
    let r = Run::new();
    let layout = oci(&hostile_layout(&r));
    let md = stdout(
        &r,
        &[
            "compare",
            "--format",
            "markdown",
            &layout,
            "--vs",
            &layout,
            "--left-name",
            "<b>left</b>",
            "--right-name",
            "[right](https://evil)",
        ],
    );
    assert_inert(&md);
    assert!(!md.contains('<'), "{md}");
}

#[test]
fn zero_width_and_bidi_characters_print_escaped_in_tables() {
    let r = Run::new();
    let names = [
        "app\u{200b}",
        "\u{202e}gpj.exe",
        "jo\u{200d}in\u{2066}ed\u{feff}",
    ];
    let layout = images_named(&r.path("layout"), &names.map(String::from));
    let out = stdout(&r, &["footprint", &oci(&layout)]);
    assert!(
        !out.chars().any(|c| c != '\n' && strata::escape::hidden(c)),
        "{out:?}"
    );
    for shown in [
        "app\\u{200b}",
        "\\u{202e}gpj.exe",
        "jo\\u{200d}in\\u{2066}ed\\u{feff}",
    ] {
        assert!(out.contains(shown), "{shown} in\n{out}");
    }
}

#[test]
fn two_long_names_differing_in_the_middle_never_print_alike() {
    let r = Run::new();
    let (x, y) = ("x".repeat(60), "y".repeat(60));
    let names = [format!("t{x}1{y}"), format!("t{x}2{y}")];
    let out = stdout(
        &r,
        &["footprint", &oci(&images_named(&r.path("l"), &names))],
    );
    let rows: Vec<&str> = out.lines().filter(|l| l.contains("yyy ")).collect();
    // Two in the images table, two beside their bars.
    assert_eq!(rows.len(), 4, "{out}");
    assert_ne!(rows[0], rows[1], "{out}");
    for row in &rows[..2] {
        assert!(row.contains(" bytes #"), "cut in the middle: {row}");
        let name = row.split_whitespace().next().unwrap();
        assert!(name.chars().count() <= 80, "{name}");
    }
}

#[test]
fn json_strings_escape_c1_del_and_bidi_and_parse_back_the_same() {
    let r = Run::new();
    let names = ["c1\u{9b}2J", "del\x7f", "bidi\u{202e}txt", "zw\u{200b}"];
    let layout = images_named(&r.path("layout"), &names.map(String::from));
    let out = r
        .cmd()
        .args(["footprint", "--format", "json", &oci(&layout)])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.chars().any(|c| c != '\n' && strata::escape::hidden(c)),
        "{text:?}"
    );
    for escaped in ["\\u009b", "\\u007f", "\\u202e", "\\u200b"] {
        assert!(text.contains(escaped), "{escaped}");
    }
    let v: Value = serde_json::from_str(&text).unwrap();
    let got: Vec<&str> = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    for n in names {
        let want = format!("{}:{n}", oci(&layout));
        assert!(got.contains(&want.as_str()), "{want:?} in {got:?}");
    }
}

/// A command on the committed fixtures, run from the repository root.
fn fixture_out(args: &[&str]) -> String {
    let r = Run::new();
    let out = r
        .cmd()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "strata {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn advise_snapshots() {
    let dive = "docker-archive:fixtures/dive/test-docker-image.tar";
    for format in ["table", "markdown", "json"] {
        insta::assert_snapshot!(
            format!("advise_{format}"),
            fixture_out(&["advise", "--format", format, dive])
        );
    }
}

#[test]
fn gate_snapshots() {
    for format in ["table", "markdown", "json"] {
        insta::assert_snapshot!(
            format!("gate_{format}"),
            fixture_out(&[
                "gate",
                "--format",
                format,
                "--policy",
                "fixtures/policy/readme.toml",
                "oci:fixtures/family:app",
                "oci:fixtures/family:app-dev",
            ])
        );
    }
}

#[test]
fn cache_du_snapshots() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    stdout(&r, &["footprint", &oci(&fam.layout)]);
    let cache = r.cache().display().to_string();
    let filters = vec![
        (cache.as_str(), "[CACHE]"),
        (r#""(now|least_recently_used)": \d+"#, r#""$1": [TIME]"#),
    ];
    insta::with_settings!({ filters => filters }, {
        for format in ["table", "markdown", "json"] {
            insta::assert_snapshot!(
                format!("cache_du_{format}"),
                stdout(&r, &["cache", "du", "--format", format])
            );
        }
    });
}
