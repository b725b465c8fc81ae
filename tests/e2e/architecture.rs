//! The module map of docs/architecture.md, held against the code: every
//! `crate::` / `super::` / `self::` path in runtime/src (in `use` items, and
//! in types and expressions) is resolved to the module it names, and
//!
//! - an import from one top-level module of the library to another must be
//!   one the map's table allows, and the table itself has no circle;
//! - within any folder (the top level and `cli/` included), the files
//!   import each other without a circle. A module using its parent's items,
//!   or declaring its children, is the module tree itself and not counted.
//!
//! The end-to-end suite is read the same way: its test modules share
//! helpers through `support/` only.
//!
//! Paths in comments and doc links are not imports and are not read.
//! Root re-exports (`crate::HookKind`) count as the module they come from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

use crate::support::repo_root;

type Module = Vec<String>;

/// Every module of a crate under `src`, by path from the root, with its file.
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("the sources are readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).expect("under src").with_extension("");
            let mut module: Module = relative.iter().map(|c| c.to_string_lossy().into_owned()).collect();
            if module.last().is_some_and(|last| last == "mod") {
                module.pop();
            }
            if module == ["lib"] || module == ["main"] {
                module.clear();
            }
            found.insert(module, path);
        }
    }
    found
}

/// The paths a file names, as segments.
#[derive(Default)]
struct Paths(Vec<Vec<String>>);

impl Paths {
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => self.0.push([prefix.clone(), vec![name.ident.to_string()]].concat()),
            syn::UseTree::Rename(rename) => self.0.push([prefix.clone(), vec![rename.ident.to_string()]].concat()),
            syn::UseTree::Glob(_) => self.0.push(prefix.clone()),
            syn::UseTree::Group(group) => group.items.iter().for_each(|item| self.use_tree(prefix, item)),
        }
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.0.push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }

    // Macro bodies are token streams; the paths that matter in them
    // (`bindgen!`'s `with:`) are read as such.
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let text = mac.tokens.to_string().replace(' ', "");
        for start in ["crate::", "super::"] {
            for (at, _) in text.match_indices(start) {
                let path: String =
                    text[at..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
                self.0.push(path.split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect());
            }
        }
        syn::visit::visit_macro(self, mac);
    }
}

/// The module `path`, named in `from`, stands for; `None` for paths into
/// other crates. `root_exports` maps the crate root's re-exported names to
/// their modules.
fn resolve(
    from: &Module,
    path: &[String],
    crate_name: &str,
    known: &BTreeMap<Module, PathBuf>,
    root_exports: &BTreeMap<String, Module>,
) -> Option<Module> {
    let (mut base, rest) = match path.first()?.as_str() {
        "crate" => (Module::new(), &path[1..]),
        first if first == crate_name => (Module::new(), &path[1..]),
        "self" => (from.clone(), &path[1..]),
        "super" => {
            let mut base = from.clone();
            let mut rest = path;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            (base, rest)
        }
        _ => return None,
    };
    if base.is_empty()
        && let Some(module) = rest.first().and_then(|name| root_exports.get(name))
    {
        return Some(module.clone());
    }
    for segment in rest {
        base.push(segment.clone());
        if !known.contains_key(&base) {
            base.pop();
            break;
        }
    }
    Some(base)
}

/// The crate root's `pub use a::{B, C}` items, as name → module `a`.
fn root_exports(root_file: &Path) -> BTreeMap<String, Module> {
    let file = syn::parse_file(&std::fs::read_to_string(root_file).expect("lib.rs")).expect("lib.rs parses");
    let mut exports = BTreeMap::new();
    for item in file.items {
        let syn::Item::Use(item) = item else { continue };
        let mut paths = Paths::default();
        paths.use_tree(&mut Vec::new(), &item.tree);
        for path in paths.0 {
            if let [module, .., name] = path.as_slice() {
                exports.insert(name.clone(), vec![module.clone()]);
            }
        }
    }
    exports
}

/// Every import edge between two modules of the crate at `src`.
fn edges(src: &Path, crate_name: &str, root_file: Option<&Path>) -> BTreeSet<(Module, Module)> {
    let known = modules(src);
    let exports = root_file.map(root_exports).unwrap_or_default();
    let mut edges = BTreeSet::new();
    for (module, file) in &known {
        let text = std::fs::read_to_string(file).expect("a source file");
        let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut paths = Paths::default();
        paths.visit_file(&parsed);
        for path in &paths.0 {
            if let Some(target) = resolve(module, path, crate_name, &known, &exports)
                && target != *module
            {
                edges.insert((module.clone(), target));
            }
        }
    }
    edges
}

/// The edge between the two children of their nearest common parent that
/// hold `from` and `to`, if neither is the other's ancestor.
fn sibling_edge(from: &Module, to: &Module) -> Option<(Module, Module)> {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    (from.len() > common && to.len() > common).then(|| (from[..=common].to_vec(), to[..=common].to_vec()))
}

/// A circle in `graph`, if there is one, as the modules on it.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            return Some([&path[at..], &[node.to_owned()]].concat());
        }
        if !done.insert(node.to_owned()) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn name(module: &Module) -> String {
    module.join("/")
}

/// The "may use" table of docs/architecture.md: module → what it may import.
fn documented_map() -> BTreeMap<String, BTreeSet<String>> {
    let doc = std::fs::read_to_string(repo_root().join("docs/architecture.md")).expect("docs/architecture.md");
    let ticked = |cell: &str| -> Vec<String> { cell.split('`').skip(1).step_by(2).map(str::to_owned).collect() };
    doc.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().strip_prefix('|')?.split('|').collect();
            let [module, _, uses, ..] = cells.as_slice() else { return None };
            let [module] = ticked(module).try_into().ok()?;
            Some((module, ticked(uses).into_iter().collect()))
        })
        .collect()
}

#[test]
fn imports_follow_the_documented_map_and_run_one_way() {
    let src = repo_root().join("runtime/src");
    let map = documented_map();
    assert!(map.contains_key("verdict") && map["verdict"].is_empty(), "the map names verdict, importing nothing");
    assert_eq!(circle(&map), None, "docs/architecture.md's table has a circle");

    let library: BTreeSet<_> = edges(&src, "hookrt", Some(&src.join("lib.rs")))
        .into_iter()
        .filter(|(from, _)| from.first() != Some(&"cli".to_owned()))
        .collect();
    // The binary's own modules, named as the library's tree places them.
    let under_cli = |m: Module| [vec!["cli".to_owned()], m].concat();
    let binary: BTreeSet<_> =
        edges(&src.join("cli"), "crate", None).into_iter().map(|(a, b)| (under_cli(a), under_cli(b))).collect();
    // Enough edges were read for the check to mean something.
    assert!(library.len() > 150, "only {} imports found in runtime/src", library.len());

    let mut against = Vec::new();
    let mut siblings: BTreeMap<Module, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (from, to) in library.iter().chain(&binary) {
        let Some((a, b)) = sibling_edge(from, to) else { continue };
        siblings.entry(a[..a.len() - 1].to_vec()).or_default().entry(name(&a)).or_default().insert(name(&b));
    }
    for (from, to) in &library {
        let (Some(top_from), Some(top_to)) = (from.first(), to.first()) else { continue };
        if top_from == top_to {
            continue;
        }
        let allowed = map.get(top_from).unwrap_or_else(|| panic!("docs/architecture.md does not place `{top_from}`"));
        if !allowed.contains(top_to) {
            against.push(format!("{} uses {} ({top_from} may use: {allowed:?})", name(from), name(to)));
        }
    }
    assert!(against.is_empty(), "imports docs/architecture.md does not allow:\n{}", against.join("\n"));
    for (parent, graph) in &siblings {
        let parent = if parent.is_empty() { "the crate root".to_owned() } else { name(parent) };
        let found = circle(graph);
        assert!(found.is_none(), "an import circle among the modules of {parent}: {found:?}");
    }
    // The binary's files were read and checked too, among themselves.
    assert!(siblings.contains_key(&vec!["cli".to_owned()]), "no imports among cli/'s files found");
}

/// The end-to-end suite's own modules: a test module imports helpers from
/// `support`, from its parent and from helper modules beside it, never
/// from another module that holds tests.
#[test]
fn test_modules_import_helpers_not_each_other() {
    let suite = repo_root().join("tests/e2e");
    let with_tests: Vec<Module> = modules(&suite)
        .into_iter()
        .filter(|(_, file)| std::fs::read_to_string(file).expect("a test file").contains("#[test]"))
        .map(|(module, _)| module)
        .collect();
    let holds_tests = |module: &Module| with_tests.iter().any(|m| m.starts_with(module));
    let edges = edges(&suite, "crate", None);
    assert!(edges.iter().any(|(_, to)| to.first().is_some_and(|t| t == "support")), "no imports of support found");
    let between: Vec<String> = edges
        .iter()
        .filter(|(from, to)| sibling_edge(from, to).is_some_and(|(_, sibling)| holds_tests(&sibling)))
        .map(|(from, to)| format!("{} uses {}", name(from), name(to)))
        .collect();
    assert!(
        between.is_empty(),
        "test modules importing others (move what they share to support/):\n{}",
        between.join("\n")
    );
}

#[test]
fn the_checker_finds_circles_and_resolves_paths() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into();
    assert_eq!(circle(&graph), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    let module = |m: &str| m.split('/').map(str::to_owned).collect::<Module>();
    assert_eq!(
        sibling_edge(&module("sandbox/run"), &module("sandbox/engine")),
        Some((module("sandbox/run"), module("sandbox/engine")))
    );
    assert_eq!(sibling_edge(&module("host/events"), &module("host")), None);
    assert_eq!(sibling_edge(&module("hook"), &module("sandbox/engine")), Some((module("hook"), module("sandbox"))));
}
