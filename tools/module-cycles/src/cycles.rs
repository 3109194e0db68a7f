//! From a crate's module tree to the dependencies between sibling modules, and the cycles among
//! them.
//!
//! A path written in module `A` is resolved to the module `B` whose item it names, following
//! `use` re-exports (`crate::Chain` is `crate::chain`'s when the root has
//! `pub use chain::Chain`). If `B` is `A` itself, an ancestor of `A` or a descendant of `A`, it
//! is not a dependency between siblings; otherwise, below their deepest common ancestor `P`,
//! `A` lies in `P`'s child `a` and `B` in `P`'s child `b`, and the path is an edge `a → b` among
//! the children of `P`. A cycle is a strongly connected set of two or more children of one
//! module.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use crate::module_tree::{ModulePath, ModuleTree, WrittenPath};

/// A path that makes one module depend on a sibling, and where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The file.
    pub file: PathBuf,
    /// The line.
    pub line: usize,
    /// The module writing it.
    pub from: ModulePath,
    /// The path as written.
    pub path: String,
}

/// Modules that depend on each other in a circle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    /// The module whose children they are.
    pub parent: ModulePath,
    /// A shortest cycle, in order: each depends on the next, the last on the first.
    pub modules: Vec<String>,
    /// Every child in the same strongly connected set (the cycle shown may not name them all).
    pub tangled: Vec<String>,
    /// Every edge among the tangled children, with the paths that make it (at most three).
    pub edges: Vec<(String, String, Vec<Evidence>)>,
}

impl fmt::Display for Cycle {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parent = display_module(&self.parent);
        let mut steps = self.modules.clone();
        steps.extend(self.modules.first().cloned());
        writeln!(
            formatter,
            "module cycle under `{parent}`: {}",
            steps.join(" → ")
        )?;
        if self.tangled.len() > self.modules.len() {
            writeln!(
                formatter,
                "  (all of {} depend on each other)",
                self.tangled.join(", ")
            )?;
        }
        for (from, to, evidence) in &self.edges {
            writeln!(formatter, "  {from} → {to}:")?;
            for item in evidence {
                writeln!(
                    formatter,
                    "    {}:{} in `{}`: `{}`",
                    item.file.display(),
                    item.line,
                    display_module(&item.from),
                    item.path
                )?;
            }
        }
        Ok(())
    }
}

/// `crate` or `crate::a::b`.
pub fn display_module(path: &ModulePath) -> String {
    std::iter::once("crate")
        .chain(path.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("::")
}

/// The dependencies among the children of each module: parent → (from child, to child) →
/// the paths that make the edge.
pub type SiblingEdges = BTreeMap<ModulePath, BTreeMap<(String, String), Vec<Evidence>>>;

/// Every edge between sibling modules of the tree.
pub fn sibling_edges(tree: &ModuleTree) -> SiblingEdges {
    let mut edges = SiblingEdges::new();
    for (from, module) in &tree.modules {
        for reference in &module.references {
            let Some(target) = resolve(tree, from, &reference.segments, 0) else {
                continue;
            };
            let common = from
                .iter()
                .zip(&target.module)
                .take_while(|(left, right)| left == right)
                .count();
            if common == from.len() || common == target.module.len() {
                continue;
            }
            edges
                .entry(from[..common].to_vec())
                .or_default()
                .entry((from[common].clone(), target.module[common].clone()))
                .or_default()
                .push(Evidence {
                    file: module.file.clone(),
                    line: reference.line,
                    from: from.clone(),
                    path: reference.text(),
                });
        }
    }
    edges
}

/// Every cycle between sibling modules of the tree, one per strongly connected set.
pub fn module_cycles(tree: &ModuleTree) -> Vec<Cycle> {
    let mut cycles = Vec::new();
    for (parent, edges) in sibling_edges(tree) {
        let mut successors: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (from, to) in edges.keys() {
            successors.entry(from).or_default().insert(to);
            successors.entry(to).or_default();
        }
        for component in strongly_connected(&successors) {
            if component.len() < 2 {
                continue;
            }
            let modules = shortest_cycle(&successors, &component);
            let edges = edges
                .iter()
                .filter(|((from, to), _)| {
                    component.contains(&from.as_str()) && component.contains(&to.as_str())
                })
                .map(|((from, to), evidence)| {
                    (
                        from.clone(),
                        to.clone(),
                        evidence.iter().take(3).cloned().collect(),
                    )
                })
                .collect();
            cycles.push(Cycle {
                parent: parent.clone(),
                modules,
                edges,
                tangled: component.iter().map(|name| (*name).to_owned()).collect(),
            });
        }
    }
    cycles
}

/// Where a written path leads.
struct Resolved {
    /// The module defining the item it names (or the module it names).
    module: ModulePath,
}

/// Imports are followed at most this deep; a chain of re-exports longer than this (or a loop of
/// them, which rustc refuses anyway) is cut where it is.
const MAX_IMPORT_DEPTH: usize = 16;

/// The module of the crate that `segments`, written in module `from`, names or names an item
/// of; `None` for another crate's paths.
fn resolve(
    tree: &ModuleTree,
    from: &ModulePath,
    segments: &[String],
    depth: usize,
) -> Option<Resolved> {
    let (first, rest) = segments.split_first()?;
    let mut current: ModulePath;
    let mut rest = rest;
    match first.as_str() {
        "crate" => current = Vec::new(),
        "self" => current = from.clone(),
        "super" => {
            current = from.clone();
            current.pop()?;
            while rest.first().map(String::as_str) == Some("super") {
                current.pop()?;
                rest = &rest[1..];
            }
        }
        name => {
            let module = tree.modules.get(from)?;
            if module.children.contains(name) {
                current = from.clone();
                current.push(name.to_owned());
            } else {
                let import = module.imports.get(name)?;
                if import.segments.first().map(String::as_str) == Some(name) {
                    // `use name::…` of another crate: the binding names itself.
                    return None;
                }
                return follow_import(tree, from, import, rest, depth);
            }
        }
    }
    for (index, segment) in rest.iter().enumerate() {
        let module = tree.modules.get(&current)?;
        if module.children.contains(segment) {
            current.push(segment.clone());
        } else if let Some(import) = module.imports.get(segment) {
            let import_from = current.clone();
            return follow_import(tree, &import_from, import, &rest[index + 1..], depth)
                .or(Some(Resolved { module: current }));
        } else {
            break;
        }
    }
    Some(Resolved { module: current })
}

/// Resolves `import` (bound in `module`), then the segments written after the imported name.
fn follow_import(
    tree: &ModuleTree,
    module: &ModulePath,
    import: &WrittenPath,
    rest: &[String],
    depth: usize,
) -> Option<Resolved> {
    if depth >= MAX_IMPORT_DEPTH {
        return None;
    }
    let mut segments = import.segments.clone();
    segments.extend(rest.iter().cloned());
    resolve(tree, module, &segments, depth + 1)
}

/// Tarjan's strongly connected components, each in name order.
fn strongly_connected<'a>(successors: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<Vec<&'a str>> {
    struct Search<'a, 'g> {
        successors: &'g BTreeMap<&'a str, BTreeSet<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        lowlink: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<&'a str>>,
    }
    impl<'a> Search<'a, '_> {
        fn visit(&mut self, node: &'a str) {
            let number = self.index.len();
            self.index.insert(node, number);
            self.lowlink.insert(node, number);
            self.stack.push(node);
            self.on_stack.insert(node);
            for &next in &self.successors[node] {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.lowlink[node].min(self.lowlink[next]);
                    self.lowlink.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.lowlink[node].min(self.index[next]);
                    self.lowlink.insert(node, low);
                }
            }
            if self.lowlink[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                component.sort_unstable();
                self.components.push(component);
            }
        }
    }
    let mut search = Search {
        successors,
        index: BTreeMap::new(),
        lowlink: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for &node in successors.keys() {
        if !search.index.contains_key(node) {
            search.visit(node);
        }
    }
    search.components
}

/// A shortest cycle through the component's first member (breadth-first within the
/// component).
fn shortest_cycle(successors: &BTreeMap<&str, BTreeSet<&str>>, component: &[&str]) -> Vec<String> {
    let members: BTreeSet<&str> = component.iter().copied().collect();
    let start = component[0];
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in &successors[node] {
            if !members.contains(next) {
                continue;
            }
            if next == start {
                let mut cycle = vec![node.to_owned()];
                let mut at = node;
                while at != start {
                    at = previous[at];
                    cycle.push(at.to_owned());
                }
                cycle.reverse();
                return cycle;
            }
            if next != start && !previous.contains_key(next) {
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    component.iter().map(|name| (*name).to_owned()).collect()
}
