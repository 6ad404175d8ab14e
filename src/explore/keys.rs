//! The key bindings, as the help popup, the footer and the README list them.

/// (keys, what they do), in the order the help shows them.
pub const KEYS: &[(&str, &str)] = &[
    ("q  Ctrl-C", "quit"),
    ("?", "this help (↑ ↓ scroll it, any other key closes it)"),
    ("Tab", "switch between the layers pane and the right pane"),
    (
        "↑ ↓  j k  PgUp PgDn  g G",
        "move (in the layers pane: select a layer)",
    ),
    ("[  ]", "previous / next layer, from any pane"),
    ("c  (Enter on a layer)", "the layer's full created_by"),
    ("→ l", "open the directory (on an open one: go into it)"),
    ("← h", "close the directory, or go to its parent"),
    (
        "Enter  Space",
        "open / close; on \"… more\": list more rows",
    ),
    ("u  Backspace", "go to the parent directory"),
    ("*  e", "open every directory below (within the caps)"),
    ("m", "mode: everything up to the layer / only its changes"),
    ("s", "sort by size / by name"),
    ("f", "filter by path (glob, or substring)"),
    (">", "filter by minimum size"),
    (
        "A M D U",
        "show or hide added / changed / removed / unchanged",
    ),
    ("W", "only what a later layer wastes"),
    ("Esc", "clear the filters (then: back to the tree)"),
    ("/", "search names; n N: next / previous match"),
    (
        "x",
        "write the selected file (a directory: as a tar) to a new file",
    ),
    ("w", "wasted view: paths stored more than once"),
    ("p", "packages the selected layer adds, removes, upgrades"),
    ("t", "back to the tree"),
    ("mouse wheel, click", "scroll, select"),
];

/// The footer's hints, most useful first (cut at the screen's width).
pub const FOOTER: &[(&str, &str)] = &[
    ("q", "quit"),
    ("?", "help"),
    ("Tab", "pane"),
    ("[]", "layer"),
    ("←→", "open"),
    ("m", "mode"),
    ("s", "sort"),
    ("f", "filter"),
    ("/", "search"),
    ("w", "wasted"),
    ("p", "packages"),
    ("x", "write"),
    ("c", "command"),
];
