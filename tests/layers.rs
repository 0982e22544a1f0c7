//! The workspace's top-level modules form layers without cycles (`LAYERS` in src/lib.rs, the
//! order the README's Layout section describes). Read from the source:
//! every `crate::<module>` path and `use crate::{a, b}` group names an edge from the file's
//! top-level module to another. The same check `cargo modules dependencies --acyclic` makes,
//! scripted so that CI needs nothing but cargo.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The source folders of the workspace's crates, lowest first: the training core, the study
/// layer, the app. Cargo already refuses an import from a lower crate into a higher one; this
/// test checks the order of the modules inside each crate and across them.
fn srcs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    vec![
        root.join("crates/core/src"),
        root.join("crates/study/src"),
        root.join("src"),
    ]
}

/// Top-level modules declared in the crates' lib.rs files (`pub mod`).
fn modules() -> BTreeSet<String> {
    srcs()
        .iter()
        .flat_map(|src| {
            let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
            lib.lines()
                .filter_map(|l| l.trim().strip_prefix("pub mod "))
                .map(|m| m.trim_end_matches(';').to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The app's source folder.
fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without its `#[cfg(test)]` module (tests may use anything).
fn non_test_code(text: &str) -> String {
    match text.find("#[cfg(test)]\nmod ") {
        Some(i) => text[..i].to_string(),
        None => text.to_string(),
    }
}

/// Module names a piece of code refers to through `crate::`.
fn referenced(code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    names_after(code, "crate::", known)
}

/// Edges between top-level modules: file's module → modules it refers to.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let known = modules();
    let mut files = Vec::new();
    for src in srcs() {
        let mut here = Vec::new();
        rust_files(&src, &mut here);
        files.extend(here.into_iter().map(|f| (src.clone(), f)));
    }
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (src, f) in files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if !known.contains(&top) {
            continue; // lib.rs, main.rs
        }
        let code = non_test_code(&std::fs::read_to_string(&f).unwrap());
        let deps = g.entry(top.clone()).or_default();
        for m in referenced(&code, &known) {
            if m != top {
                deps.insert(m);
            }
        }
    }
    g
}

/// A cycle through the graph, if there is one (depth-first search with colours).
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|s| s == m).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, g, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_checker_finds_a_planted_cycle() {
    let known: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    assert_eq!(
        referenced("use crate::{a, b::X};\nlet x = crate::c::f();", &known),
        known
    );
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    g.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
    g.insert("c".to_string(), BTreeSet::new());
    assert_eq!(find_cycle(&g), None);
}

#[test]
fn top_level_modules_have_no_cycles() {
    let g = graph();
    for (m, deps) in &g {
        eprintln!(
            "{m} -> {}",
            deps.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    assert_eq!(find_cycle(&g), None, "module cycle");
}

/// Each module's rank in `mnist_lab::LAYERS`.
fn ranks() -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (rank, layer) in mnist_lab::LAYERS.iter().enumerate() {
        for m in *layer {
            assert!(
                out.insert(m.to_string(), rank).is_none(),
                "{m} is ranked twice in LAYERS"
            );
        }
    }
    out
}

/// Imports that do not point to a lower rank: (from, to).
fn upward(
    g: &BTreeMap<String, BTreeSet<String>>,
    ranks: &BTreeMap<String, usize>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (from, deps) in g {
        for to in deps {
            if ranks.get(from) <= ranks.get(to) {
                out.push((from.clone(), to.clone()));
            }
        }
    }
    out
}

#[test]
fn every_module_has_a_rank_and_imports_only_point_down() {
    let ranks = ranks();
    let known = modules();
    let ranked: BTreeSet<String> = ranks.keys().cloned().collect();
    assert_eq!(
        ranked, known,
        "LAYERS must rank exactly the modules of lib.rs"
    );
    let g = graph();
    assert_eq!(upward(&g, &ranks), Vec::<(String, String)>::new());
}

#[test]
fn the_checker_finds_a_planted_upward_import() {
    let ranks = ranks();
    let mut g = graph();
    assert!(upward(&g, &ranks).is_empty());
    // spec (rank 0) importing the TUI, and two modules of one rank importing each other.
    let known = modules();
    let planted = referenced("use crate::tui::app::App;", &known);
    g.entry("spec".into()).or_default().extend(planted);
    g.entry("headless".into()).or_default().insert("tui".into());
    assert_eq!(
        upward(&g, &ranks),
        [("headless", "tui"), ("spec", "tui")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

/// Edges between the modules of `src/tui`: a file's module (its first path part under
/// `src/tui`) → the `tui` modules it names, through `crate::tui::x` or, from a file directly in
/// `src/tui` (or a folder's `mod.rs`), `super::x`.
fn tui_graph() -> BTreeMap<String, BTreeSet<String>> {
    let known: BTreeSet<String> = mnist_lab::tui::LAYERS
        .iter()
        .flat_map(|l| l.iter().map(|m| m.to_string()))
        .collect();
    let root = src().join("tui");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&root).unwrap();
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect();
        let top = parts[0].trim_end_matches(".rs").to_string();
        if !known.contains(&top) {
            continue; // mod.rs of tui itself
        }
        let code = non_test_code(&std::fs::read_to_string(&f).unwrap());
        let mut refs = names_after(&code, "crate::tui::", &known);
        // `super::` names a tui module from a file whose parent module is `tui`.
        if parts.len() == 1 || parts.last().map(String::as_str) == Some("mod.rs") {
            refs.extend(names_after(&code, "super::", &known));
        }
        refs.remove(&top);
        g.entry(top).or_default().extend(refs);
    }
    g
}

/// The `known` module names that follow `prefix` in `code`, as `prefix{a, b::c}` or
/// `prefix a`.
fn names_after(code: &str, prefix: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices(prefix) {
        // `crate::tui::` also ends in `tui::`; only whole paths count.
        if prefix == "super::" && code[..i].ends_with("::") {
            continue;
        }
        let rest = &code[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                out.insert(ident(part.trim()));
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| known.contains(m));
    out
}

fn tui_ranks() -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (rank, layer) in mnist_lab::tui::LAYERS.iter().enumerate() {
        for m in *layer {
            assert!(
                out.insert(m.to_string(), rank).is_none(),
                "{m} is ranked twice in tui::LAYERS"
            );
        }
    }
    out
}

#[test]
fn tui_modules_import_only_lower_layers() {
    let ranks = tui_ranks();
    let declared: BTreeSet<String> = std::fs::read_to_string(src().join("tui/mod.rs"))
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect();
    let ranked: BTreeSet<String> = ranks.keys().cloned().collect();
    assert_eq!(
        ranked, declared,
        "tui::LAYERS must rank every module of src/tui"
    );
    let g = tui_graph();
    for (m, deps) in &g {
        eprintln!(
            "tui::{m} -> {}",
            deps.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    // The views are used by the app, and the app by the frame: the graph is not empty.
    assert!(
        g["app"].contains("views") && g["ui"].contains("app"),
        "{g:?}"
    );
    assert_eq!(upward(&g, &ranks), Vec::<(String, String)>::new());
}

#[test]
fn the_tui_checker_finds_a_planted_upward_import() {
    let ranks = tui_ranks();
    let known: BTreeSet<String> = ranks.keys().cloned().collect();
    let mut g = tui_graph();
    // A view calling up into the app, and the app into the frame (what clicks once did).
    g.entry("views".into()).or_default().extend(names_after(
        "use crate::tui::app::App;",
        "crate::tui::",
        &known,
    ));
    g.entry("app".into()).or_default().extend(names_after(
        "let v = super::ui::tab_at(self);",
        "super::",
        &known,
    ));
    assert_eq!(
        upward(&g, &ranks),
        [("app", "ui"), ("views", "app")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
}
