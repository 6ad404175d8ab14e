//! A directory roll-up (du's tree, audit's "where its bytes are") as a report
//! tree: each node at its depth, its children biggest first, then the rest of
//! them (`… N more`). Walked with a stack, never recursion on the input's depth.

use crate::analyze::du::{DuNode, NodeKind, Rest};
use crate::report::{Column, Node, Span, Spans, Tree, TreeRow};

/// One line of the roll-up: a node, or the rest of a node's children.
pub enum Line<'a> {
    Node(&'a DuNode),
    More(&'a Rest),
}

/// The roll-up under `root`, `columns` the path's and then those `cells` fills.
/// Directories show as such (`/usr/`) when `dirs`.
pub fn tree(
    root: &DuNode,
    columns: Vec<Column>,
    dirs: bool,
    cells: impl Fn(Line<'_>) -> Vec<Spans>,
) -> Tree {
    let mut tree = Tree::new(columns);
    let mut stack = vec![(0, Line::Node(root))];
    while let Some((depth, line)) = stack.pop() {
        let row = match line {
            Line::Node(n) => {
                if let Some(more) = &n.more {
                    stack.push((depth + 1, Line::More(more)));
                }
                stack.extend(n.children.iter().rev().map(|c| (depth + 1, Line::Node(c))));
                let dir = dirs && n.kind == NodeKind::Dir && n.path != "/";
                TreeRow {
                    depth,
                    node: crate::report::Node::Entry(if dir {
                        Span::Dir(n.path.clone())
                    } else {
                        Span::path(&n.path)
                    }),
                    bytes: n.bytes,
                    layer: n.by_layer.first().map(|l| l.layer),
                    cells: cells(Line::Node(n)),
                }
            }
            Line::More(m) => TreeRow {
                depth,
                node: Node::More { entries: m.entries },
                bytes: m.bytes,
                layer: None,
                cells: cells(Line::More(m)),
            },
        };
        tree.push(row);
    }
    tree
}
