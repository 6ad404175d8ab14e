//! `strata explore`: every pane and mode drawn on fixture images through
//! ratatui's TestBackend (the model driven by keys, jobs run in line), at
//! 120x40, 80x24 and 40 columns; colour only without NO_COLOR.

use std::path::Path;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;
use strata::explore::jobs::{Context, Job};
use strata::explore::terminal::settle;
use strata::explore::{view, with_explorer, App, Msg};

const DIVE_IMAGE: &str = "docker-archive:fixtures/dive/test-docker-image.tar";
const PACKAGES: &str = "oci:fixtures/packages:after";

/// The explorer's model and what its jobs read, driven like the terminal does.
pub struct Driver<'a> {
    pub app: &'a mut App,
    pub cx: &'a Context<'a>,
}

impl Driver<'_> {
    pub fn press(&mut self, code: KeyCode) -> &mut Self {
        self.send(KeyEvent::new(code, KeyModifiers::NONE))
    }

    pub fn send(&mut self, k: KeyEvent) -> &mut Self {
        let jobs = self.app.update(Msg::Key(k));
        settle(self.app, jobs, self.cx);
        self
    }

    /// Types each character as a key (`\n` is Enter).
    pub fn keys(&mut self, text: &str) -> &mut Self {
        for c in text.chars() {
            let code = match c {
                '\n' => KeyCode::Enter,
                c => KeyCode::Char(c),
            };
            self.press(code);
        }
        self
    }

    pub fn screen(&mut self) -> String {
        let (w, h) = self.app.size;
        view::render(self.app, w, h).0
    }

    pub fn resize(&mut self, w: u16, h: u16) -> &mut Self {
        let jobs = self.app.update(Msg::Resize(w, h));
        settle(self.app, jobs, self.cx);
        self
    }
}

/// Opens `reference` at `w` x `h` with a cache in `cache`, its first pass done.
pub fn explore<R>(
    cache: &Path,
    reference: &str,
    (w, h): (u16, u16),
    color: bool,
    f: impl FnOnce(&mut Driver) -> R,
) -> R {
    let (session, reference) = crate::explore_session::session(cache, reference);
    with_explorer(
        &session,
        &reference,
        (w, h),
        color,
        |app, first: Vec<Job>, cx| {
            settle(app, first, cx);
            Ok(f(&mut Driver { app, cx }))
        },
    )
    .unwrap()
}

fn dive(size: (u16, u16), f: impl FnOnce(&mut Driver) -> String) -> String {
    let tmp = tempfile::tempdir().unwrap();
    explore(&tmp.path().join("cache"), DIVE_IMAGE, size, false, f)
}

#[test]
fn the_first_screen_shows_the_layers_totals_and_the_first_layers_tree() {
    insta::assert_snapshot!(dive((120, 40), |d| d.screen()));
}

#[test]
fn at_80x24_layer_2_with_a_directory_open() {
    insta::assert_snapshot!(dive((80, 24), |d| {
        d.keys("]");
        d.press(KeyCode::Down)
            .press(KeyCode::Down)
            .press(KeyCode::Right);
        d.screen()
    }));
}

#[test]
fn at_40_columns_every_pane_still_reads() {
    insta::assert_snapshot!(dive((40, 24), |d| {
        d.keys("]]]");
        let tree = d.screen();
        d.keys("w");
        let wasted = d.screen();
        d.keys("?");
        format!("{tree}\n{wasted}\n{}", d.screen())
    }));
}

#[test]
fn a_layer_s_own_changes_with_what_it_removes() {
    // Layer 10 is `rm -rf /root/example/`.
    insta::assert_snapshot!(dive((100, 30), |d| {
        d.keys("]]]]]]]]]m");
        d.press(KeyCode::Down).press(KeyCode::Right);
        d.press(KeyCode::Down).press(KeyCode::Right);
        d.screen()
    }));
}

#[test]
fn everything_up_to_the_last_layer_sorted_by_name_and_opened_below_root() {
    insta::assert_snapshot!(dive((100, 40), |d| {
        d.press(KeyCode::End);
        d.keys("[[[[[[[[[[[[[[[[[[[[");
        d.keys("]]]]]]]]]]]]]]]]]]]]");
        d.keys("s");
        d.press(KeyCode::Home);
        d.keys("*");
        d.screen()
    }));
}

#[test]
fn filters_by_path_size_and_status_narrow_the_tree() {
    insta::assert_snapshot!(dive((100, 30), |d| {
        d.keys("]]]]]]]]]]]]]]]]");
        d.keys("fsaved");
        let typing = d.screen();
        d.keys("\n*");
        let by_path = d.screen();
        d.keys(">1kB\n");
        let by_size = d.screen();
        d.keys("U");
        let no_unchanged = d.screen();
        format!("{typing}\n{by_path}\n{by_size}\n{no_unchanged}")
    }));
}

#[test]
fn the_wasted_view_lists_paths_stored_more_than_once() {
    insta::assert_snapshot!(dive((120, 30), |d| {
        d.keys("]]]]]]]w");
        d.press(KeyCode::Down);
        d.screen()
    }));
}

#[test]
fn a_search_opens_the_way_to_each_match_in_turn() {
    insta::assert_snapshot!(dive((100, 30), |d| {
        d.keys("]]]]]]]]]]]]]]]]");
        d.keys("/saved\n");
        let first = d.screen();
        d.keys("n");
        let second = d.screen();
        d.keys("N");
        let back = d.screen();
        d.keys("/nothing-like-this\n");
        let miss = d.screen();
        format!("{first}\n{second}\n{back}\n{miss}")
    }));
}

#[test]
fn the_full_command_and_the_help_open_and_close() {
    insta::assert_snapshot!(dive((80, 24), |d| {
        d.keys("]]c");
        let command = d.screen();
        d.keys("x?");
        let help = d.screen();
        d.keys("q");
        assert!(!d.app.quit, "a key closes the popup, not the explorer");
        format!("{command}\n{help}")
    }));
}

#[test]
fn the_packages_view_shows_what_the_selected_layer_installs_and_removes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = explore(&tmp.path().join("cache"), PACKAGES, (100, 30), false, |d| {
        d.keys("p");
        let first = d.screen();
        d.keys("]");
        format!("{first}\n{}", d.screen())
    });
    insta::assert_snapshot!(out);
}

#[test]
fn the_layers_pane_takes_the_keys_after_tab_and_resizes_follow() {
    insta::assert_snapshot!(dive((120, 30), |d| {
        d.press(KeyCode::Tab);
        d.press(KeyCode::Down)
            .press(KeyCode::Down)
            .press(KeyCode::Down);
        let moved = d.screen();
        d.resize(60, 20);
        format!("{moved}\n{}", d.screen())
    }));
}

#[test]
fn colour_only_without_no_color() {
    let tmp = tempfile::tempdir().unwrap();
    let coloured = |color: bool| {
        explore(
            &tmp.path().join("cache"),
            DIVE_IMAGE,
            (100, 30),
            color,
            |d| {
                d.keys("]]]]]]]]]");
                let (w, h) = d.app.size;
                let (_, buf) = view::render(d.app, w, h);
                buf.content
                    .iter()
                    .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
                    .count()
            },
        )
    };
    assert_eq!(coloured(false), 0, "NO_COLOR: no colour at all");
    assert!(coloured(true) > 0, "colours otherwise");
}

#[test]
fn control_characters_in_a_name_never_reach_the_terminal_raw() {
    let run = crate::Run::new();
    let dir = run.path("layout");
    let reference =
        crate::builder::one_layer_image(&dir, "odd", crate::builder::Compress::Gzip(1), |w| {
            w.file("evil\x1b[2Jname\u{202e}txt\u{200b}", b"x");
        });
    let screen = explore(&run.cache(), &reference, (100, 20), false, |d| d.screen());
    assert!(
        screen.contains("evil\\x1b[2Jname\\u{202e}txt\\u{200b}"),
        "{screen}"
    );
    assert!(
        !screen.contains('\x1b') && !screen.contains('\u{202e}') && !screen.contains('\u{200b}')
    );
}

#[test]
fn x_writes_the_selected_file_and_directory_as_cat_and_export_do() {
    let run = crate::Run::new();
    let file = run.path("somefile.txt");
    let tar = run.path("root.tar");
    let ctrl_u = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL);
    let (wrote_file, wrote_tar) = explore(&run.cache(), DIVE_IMAGE, (100, 30), false, |d| {
        d.keys("]");
        d.press(KeyCode::Down); // somefile.txt, added by layer 2
        d.keys("x");
        let prompt = d.screen();
        assert!(prompt.contains("somefile.txt▏"), "{prompt}");
        d.send(ctrl_u).keys(&format!("{}\n", file.display()));
        let file_status = d.screen();
        d.keys("x");
        d.send(ctrl_u).keys(&format!("{}\n", file.display()));
        assert!(d.screen().contains("exists: strata writes only a new file"));
        d.press(KeyCode::Esc);
        d.keys("]]]]]]]]]]]]");
        let root = strata::explore::listing::name_key(b"root");
        d.app.tree.cursor = d.app.tree.line_of(&[root]).unwrap();
        d.keys("x");
        d.send(ctrl_u).keys(&format!("{}\n", tar.display()));
        (file_status, d.screen())
    });
    assert!(
        wrote_file.contains("wrote ") && wrote_file.contains("6.41kB"),
        "{wrote_file}"
    );
    let cat = run.run(&["cat", DIVE_IMAGE, "/somefile.txt"]);
    assert!(cat.status.success());
    assert_eq!(std::fs::read(&file).unwrap(), cat.stdout);
    assert!(wrote_tar.contains("a tar of"), "{wrote_tar}");
    let mut names: Vec<String> = tar::Archive::new(std::fs::File::open(&tar).unwrap())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    names.sort();
    assert!(names.iter().any(|n| n.ends_with("saved.txt")), "{names:?}");
    assert!(
        !names.iter().any(|n| n.contains("example")),
        "removed by layer 10: {names:?}"
    );
}

#[test]
fn the_readme_lists_every_key_the_help_lists() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for (k, what) in strata::explore::keys::KEYS {
        let row = format!("| `{k}` | {what} |");
        assert!(readme.contains(&row), "README lacks {row}");
    }
}

#[test]
fn without_a_terminal_explore_refuses_in_one_line() {
    let run = crate::Run::new();
    let line = run.fails(&["explore", DIVE_IMAGE]);
    assert!(line.contains("needs a terminal"), "{line}");
}

/// Keys that come before the layers' indexes are read (a new sort, then a
/// search) are answered once they are: the search finds its match and the
/// explorer is not left busy. Regression: the first pass reset the epoch
/// under the queued search, whose answer was then dropped as stale and the
/// explorer stayed busy for good.
#[test]
fn a_search_typed_before_the_indexes_are_read_is_answered() {
    use strata::explore::source::Merged;
    use strata::explore::terminal::Flags;
    use strata::explore::Facts;
    let tmp = tempfile::tempdir().unwrap();
    let (session, reference) =
        crate::explore_session::session(&tmp.path().join("cache"), DIVE_IMAGE);
    let image = strata::commands::one_image(
        session.load(std::slice::from_ref(&reference)).unwrap(),
        "explore",
    )
    .unwrap();
    let mut app = App::new(Facts::new(&image, None), false, (100, 30));
    let mut queued = Vec::new();
    for c in "s/passwd\n".chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            c => KeyCode::Char(c),
        };
        queued.extend(app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))));
    }
    let store = session.store().unwrap();
    let indexes = store
        .indexes(std::slice::from_ref(&image), &strata::store::NoProgress)
        .unwrap();
    let merged = Merged::new(&indexes, &image);
    let flags = Flags::default();
    let cx = Context::new(&merged, &indexes, &image, &flags);
    let mut jobs = app.start(Facts::new(&image, Some(&indexes)));
    jobs.extend(queued);
    settle(&mut app, jobs, &cx);
    let screen = view::render(&app, 100, 30).0;
    assert!(!app.busy(), "{screen}");
    assert!(screen.contains("passwd"), "{screen}");
}
