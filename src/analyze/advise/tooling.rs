//! Dev and test tooling with what only it needs: the packages `apt-get
//! autoremove` (or its peers) would take away after the tools go. The
//! graph comes from the package databases (`packages::deps`); every walk of
//! it is a breadth-first loop with a visited mark, never a recursion, and
//! the work is capped (past the cap, what is freed is one finding).

use std::collections::VecDeque;

use globset::GlobMatcher;

use super::rules::DEV_TOOLS;
use crate::analyze::packages::deps::Graph;
use crate::analyze::packages::{Ecosystem, Inventory};

/// Edge visits one image's attribution may take.
const MAX_WORK: u64 = 64 << 20;

/// Which package names are tools.
pub struct Tools {
    by_ecosystem: Vec<(Ecosystem, Vec<GlobMatcher>)>,
}

impl Tools {
    pub fn new() -> Tools {
        Tools {
            by_ecosystem: DEV_TOOLS
                .iter()
                .map(|t| {
                    let globs = t
                        .names
                        .iter()
                        .filter_map(|n| super::matcher::name_glob(n).ok())
                        .collect();
                    (t.ecosystem, globs)
                })
                .collect(),
        }
    }

    pub fn is_tool(&self, ecosystem: Ecosystem, name: &str) -> bool {
        self.by_ecosystem
            .iter()
            .filter(|(e, _)| *e == ecosystem)
            .any(|(_, globs)| globs.iter().any(|g| g.is_match(name)))
    }
}

impl Default for Tools {
    fn default() -> Self {
        Tools::new()
    }
}

/// One finding's packages: a tool and what only it needs, or (tool None)
/// what several tools need and nothing else does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freed {
    pub tool: Option<u32>,
    /// Inventory indexes, the tool first.
    pub packages: Vec<u32>,
}

/// What removing every dev tool frees, split by tool.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ToolPlan {
    pub findings: Vec<Freed>,
    /// Per package: the finding it belongs to.
    pub finding_of: Vec<Option<u32>>,
    /// False when a cap cut the attribution (all that is freed is then one finding).
    pub complete: bool,
}

impl ToolPlan {
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Breadth-first reach from `starts` through `graph`, entering only nodes
/// `allowed` accepts; marks `mark[n] = stamp`; returns the nodes reached
/// and the edges visited.
fn reach(
    graph: &Graph,
    starts: &[u32],
    allowed: impl Fn(u32) -> bool,
    mark: &mut [u32],
    stamp: u32,
) -> (Vec<u32>, u64) {
    let mut out = Vec::new();
    let mut queue: VecDeque<u32> = VecDeque::new();
    let mut work = 0u64;
    for &s in starts {
        if mark[s as usize] != stamp && allowed(s) {
            mark[s as usize] = stamp;
            queue.push_back(s);
        }
    }
    while let Some(n) = queue.pop_front() {
        out.push(n);
        for &m in graph.needs(n as usize) {
            work += 1;
            if mark[m as usize] != stamp && allowed(m) {
                mark[m as usize] = stamp;
                queue.push_back(m);
            }
        }
    }
    (out, work)
}

/// The tooling of an image: `found` its packages (ecosystem, name), `graph`
/// what they need, `dist_owner` the system package that installed a Python
/// dist (that package, not the dist, is the tool), `pinned` what is never removed.
pub fn plan(
    found: &[(Ecosystem, &str)],
    graph: &Graph,
    dist_owner: &[Option<u32>],
    pinned: &[bool],
    tools: &Tools,
) -> ToolPlan {
    let n = found.len();
    let is_tool: Vec<u32> = (0..n as u32)
        .filter(|&i| {
            let (ecosystem, name) = found[i as usize];
            !pinned[i as usize]
                && dist_owner.get(i as usize).copied().flatten().is_none()
                && tools.is_tool(ecosystem, name)
        })
        .collect();
    if is_tool.is_empty() || graph.len() != n {
        return ToolPlan {
            complete: true,
            finding_of: vec![None; n],
            ..ToolPlan::default()
        };
    }
    let mut mark = vec![0u32; n];
    // Everything the tools need, then everything the rest (and the pinned) need.
    let (closure, _) = reach(graph, &is_tool, |_| true, &mut mark, 1);
    let in_closure: Vec<bool> = (0..n).map(|i| mark[i] == 1).collect();
    // A Python dist a system package installed stands for nothing of its
    // own: it is kept when a kept package needs it (and keeps its installer
    // then), and goes with its installer, never alone.
    let installed = |i: usize| dist_owner.get(i).copied().flatten().is_some();
    let keepers: Vec<u32> = (0..n as u32)
        .filter(|&i| (!in_closure[i as usize] && !installed(i as usize)) || pinned[i as usize])
        .collect();
    let (_, _) = reach(graph, &keepers, |_| true, &mut mark, 2);
    let freed: Vec<bool> = (0..n)
        .map(|i| in_closure[i] && mark[i] != 2 && !installed(i))
        .collect();
    let removable: Vec<u32> = is_tool
        .iter()
        .copied()
        .filter(|&t| freed[t as usize])
        .collect();
    let mut finding_of = vec![None; n];
    if removable.is_empty() {
        return ToolPlan {
            complete: true,
            finding_of,
            ..ToolPlan::default()
        };
    }
    let all_freed: Vec<u32> = closure
        .iter()
        .copied()
        .filter(|&c| freed[c as usize])
        .collect();
    // Each tool's reach within what is freed: the widest tools first, a tool
    // another reaches is part of that one (build-essential holds gcc).
    let mut stamp = 2u32;
    let mut work = 0u64;
    let mut sized = Vec::with_capacity(removable.len());
    for &t in &removable {
        stamp += 1;
        let (r, w) = reach(graph, &[t], |m| freed[m as usize], &mut mark, stamp);
        work += w;
        sized.push((r.len(), t));
        if work > MAX_WORK {
            return together(all_freed, finding_of);
        }
    }
    sized.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| found[a.1 as usize].1.cmp(found[b.1 as usize].1))
    });
    // How many top tools reach each package, and the last that did.
    let mut count = vec![0u32; n];
    let mut last = vec![0u32; n];
    let mut top = Vec::new();
    for &(_, t) in &sized {
        if count[t as usize] > 0 {
            continue;
        }
        stamp += 1;
        let (r, w) = reach(graph, &[t], |m| freed[m as usize], &mut mark, stamp);
        work += w;
        if work > MAX_WORK {
            return together(all_freed, finding_of);
        }
        for m in r {
            count[m as usize] += 1;
            last[m as usize] = t;
        }
        top.push(t);
    }
    let mut findings: Vec<Freed> = top
        .iter()
        .map(|&t| Freed {
            tool: Some(t),
            packages: vec![t],
        })
        .collect();
    let mut shared = Vec::new();
    for &p in &all_freed {
        let owner = (count[p as usize] == 1)
            .then(|| top.iter().position(|&t| t == last[p as usize]))
            .flatten();
        match owner {
            Some(k) => {
                if p != top[k] {
                    findings[k].packages.push(p);
                }
                finding_of[p as usize] = Some(k as u32);
            }
            None => shared.push(p),
        }
    }
    if !shared.is_empty() {
        let k = findings.len() as u32;
        for &p in &shared {
            finding_of[p as usize] = Some(k);
        }
        findings.push(Freed {
            tool: None,
            packages: shared,
        });
    }
    ToolPlan {
        findings,
        finding_of,
        complete: true,
    }
}

/// Per package of a measured inventory: the tooling finding that frees it
/// (`deb/gcc`, or `shared by the tools`), as advise would name it.
pub fn marks(inventory: &Inventory, tools: &Tools) -> Vec<Option<String>> {
    let names: Vec<(Ecosystem, &str)> = inventory
        .packages
        .iter()
        .map(|p| (p.ecosystem, p.name.as_str()))
        .collect();
    let owner: Vec<Option<u32>> = inventory
        .packages
        .iter()
        .map(|p| p.owned_by.map(|o| o as u32))
        .collect();
    let plan = plan(&names, &inventory.graph, &owner, &inventory.pinned, tools);
    let subject = |f: &Freed| match f.tool {
        Some(t) => {
            let p = &inventory.packages[t as usize];
            format!("{}/{}", p.ecosystem.name(), p.name)
        }
        None => SHARED.to_owned(),
    };
    plan.finding_of
        .iter()
        .map(|f| f.map(|k| subject(&plan.findings[k as usize])))
        .collect()
}

/// The subject of what several tools need together.
pub const SHARED: &str = "shared by the tools";

/// Past the work cap: what is freed, as one finding.
fn together(all_freed: Vec<u32>, mut finding_of: Vec<Option<u32>>) -> ToolPlan {
    for &p in &all_freed {
        finding_of[p as usize] = Some(0);
    }
    ToolPlan {
        findings: vec![Freed {
            tool: None,
            packages: all_freed,
        }],
        finding_of,
        complete: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::packages::deps::{self, Deps};
    use crate::analyze::packages::Found;

    fn deb(name: &str, depends: &str) -> Found {
        let mut d = Deps::default();
        deps::deb_requires(depends, &mut d);
        Found::sample(Ecosystem::Deb, name, d)
    }

    fn names(found: &[Found], plan: &ToolPlan) -> Vec<(Option<String>, Vec<String>)> {
        plan.findings
            .iter()
            .map(|f| {
                let mut p: Vec<String> = f
                    .packages
                    .iter()
                    .map(|&i| found[i as usize].name.clone())
                    .collect();
                p[usize::from(f.tool.is_some())..].sort();
                (f.tool.map(|t| found[t as usize].name.clone()), p)
            })
            .collect()
    }

    fn run(found: &[Found], pinned: &[bool]) -> ToolPlan {
        let graph = deps::resolve(found, &vec![None; found.len()]);
        let names: Vec<(Ecosystem, &str)> = found
            .iter()
            .map(|f| (f.ecosystem, f.name.as_str()))
            .collect();
        plan(
            &names,
            &graph,
            &vec![None; found.len()],
            pinned,
            &Tools::new(),
        )
    }

    #[test]
    fn a_tool_frees_its_exclusive_dependencies_and_not_the_shared_one() {
        let found = vec![
            deb("gdb", "libexclusive1, libexclusive2, libshared"),
            deb("libexclusive1", "libexclusive2"),
            deb("libexclusive2", ""),
            deb("libshared", ""),
            deb("app", "libshared"),
        ];
        let plan = run(&found, &[false; 5]);
        assert_eq!(
            names(&found, &plan),
            [(
                Some("gdb".into()),
                vec!["gdb".into(), "libexclusive1".into(), "libexclusive2".into()]
            )]
        );
        assert_eq!(plan.finding_of[3], None);
        assert_eq!(plan.finding_of[4], None);
    }

    #[test]
    fn what_two_tools_need_is_one_more_finding_and_a_nested_tool_folds_into_its_holder() {
        let found = vec![
            deb("build-essential", "gcc, make"),
            deb("gcc", "cpp, libgcc-dev"),
            deb("cpp", ""),
            deb("libgcc-dev", ""),
            deb("make", ""),
            deb("gdb", "libpython"),
            deb("strace", "libpython, libunwind"),
            deb("libpython", ""),
            deb("libunwind", ""),
            deb("libc6", ""),
        ];
        let plan = run(&found, &[false; 10]);
        assert!(plan.complete);
        assert_eq!(
            names(&found, &plan),
            [
                (
                    Some("build-essential".into()),
                    vec![
                        "build-essential".into(),
                        "cpp".into(),
                        "gcc".into(),
                        "libgcc-dev".into(),
                        "make".into()
                    ]
                ),
                (
                    Some("strace".into()),
                    vec!["strace".into(), "libunwind".into()]
                ),
                (Some("gdb".into()), vec!["gdb".into()]),
                (None, vec!["libpython".into()]),
            ]
        );
    }

    #[test]
    fn a_python_dist_a_deb_installed_goes_with_its_deb_and_keeps_it_when_the_app_needs_it() {
        let py = |name: &str, needs: &[&str]| {
            let mut d = Deps::default();
            for n in needs {
                d.require([*n]);
            }
            Found::sample(Ecosystem::Python, name, d)
        };
        // 0 deb python3-pytest (a tool) installed 1 (the pytest dist);
        // 2 deb python3-six installed 3 (six), which 4 (an app's dist) needs.
        let found = vec![
            deb("python3-pytest", "python3-six"),
            py("pytest", &["six"]),
            deb("python3-six", ""),
            py("six", &[]),
            py("app", &["six"]),
        ];
        let owner = [None, Some(0), None, Some(2), None];
        let graph = deps::resolve(&found, &owner);
        let names: Vec<(Ecosystem, &str)> = found
            .iter()
            .map(|f| (f.ecosystem, f.name.as_str()))
            .collect();
        let plan = plan(&names, &graph, &owner, &[false; 5], &Tools::new());
        assert_eq!(
            self::names(&found, &plan),
            [(Some("python3-pytest".into()), vec!["python3-pytest".into()])]
        );
    }

    #[test]
    fn a_tool_the_runtime_needs_stays_and_pinned_packages_stay_with_their_needs() {
        let found = vec![
            deb("app", "make"),
            deb("make", "libguile"),
            deb("libguile", ""),
            deb("gcc", "libc-bin, cycle-a"),
            deb("libc-bin", "libc-helper"),
            deb("libc-helper", ""),
            deb("cycle-a", "cycle-b"),
            deb("cycle-b", "cycle-a, gcc"),
        ];
        let mut pinned = [false; 8];
        pinned[4] = true;
        let plan = run(&found, &pinned);
        assert_eq!(
            names(&found, &plan),
            [(
                Some("gcc".into()),
                vec!["gcc".into(), "cycle-a".into(), "cycle-b".into()]
            )]
        );
    }
}
