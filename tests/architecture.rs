//! The shape of the house (docs/ARCHITECTURE.md), checked on the source text:
//! * every top-level module of the library imports only modules of its own layer or below, and
//!   the imports among top-level modules form no cycle;
//! * the library prints nothing, draws no progress bar and knows no clap (the CLI, `src/cli/`
//!   on the bin side, does);
//! * `lib.rs` holds only `pub mod` / `pub use` lines (and comments).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers from the bottom up; a module may import its own layer and the ones below.
const LAYERS: &[&[&str]] = &[
    &["error"],
    &["fsio", "units"],
    &["config"],
    &["workload"],
    &["energy"],
    &["machine"],
    &["systolic", "simt"],
    &["registry"],
    &["run"],
    &["system"],
    &["report", "plot", "compare"],
    &["jobs"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Library source files (everything under src/ but the bin side: main.rs and cli/), with the
/// top-level module each belongs to and its text without comments.
fn library_sources() -> Vec<(String, PathBuf, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let rel = p
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let top = rel
                .split('/')
                .next()
                .unwrap()
                .trim_end_matches(".rs")
                .to_string();
            if top == "main" || top == "cli" {
                return None;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let code: String = text
                .lines()
                .map(|l| match l.find("//") {
                    Some(i) if !l[..i].contains('"') => &l[..i],
                    _ => l,
                })
                .collect::<Vec<_>>()
                .join("\n");
            Some((top, p, code))
        })
        .collect()
}

/// `crate::NAME` and `crate::{NAME, ...}` imports/paths in a text.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.insert(name);
            }
        } else {
            out.insert(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    out
}

#[test]
fn layers_point_down_and_modules_form_no_cycle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    let sources = library_sources();
    assert!(sources.len() > 40, "found {} library files", sources.len());
    for (top, path, code) in &sources {
        if top == "lib" {
            continue;
        }
        let from = layer_of(top).unwrap_or_else(|| panic!("module `{top}` has no layer"));
        for target in crate_refs(code) {
            if target == *top {
                continue;
            }
            let Some(to) = layer_of(&target) else {
                wrong.push(format!(
                    "{}: `crate::{target}` is not a module (use its module path)",
                    path.display()
                ));
                continue;
            };
            if to > from {
                wrong.push(format!(
                    "{}: `{top}` (layer {from}) imports `{target}` (layer {to}) above it",
                    path.display()
                ));
            }
            edges.entry(top.clone()).or_default().insert(target);
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // No cycle among top-level modules (depth-first search with colors).
    fn visit<'a>(
        n: &'a str,
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) {
        match state.get(n) {
            Some(1) => panic!("import cycle: {} -> {n}", path.join(" -> ")),
            Some(_) => return,
            None => {}
        }
        state.insert(n, 1);
        path.push(n);
        for m in edges.get(n).into_iter().flatten() {
            visit(m, edges, state, path);
        }
        path.pop();
        state.insert(n, 2);
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        visit(n, &edges, &mut state, &mut Vec::new());
    }
    // The check can fail: a made-up upward import is caught.
    assert!(layer_of("machine") < layer_of("registry"));
    assert!(crate_refs("use crate::{registry::load, run};").contains("registry"));
}

#[test]
fn the_library_prints_nothing_and_knows_no_clap() {
    let forbidden = [
        "println!",
        "eprintln!",
        "print!(",
        "eprint!(",
        "dbg!(",
        "indicatif",
        "clap::",
    ];
    let mut found = Vec::new();
    for (_, path, code) in library_sources() {
        for f in forbidden {
            if code.contains(f) {
                found.push(format!("{}: {f}", path.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "library code that prints or uses clap:\n{}",
        found.join("\n")
    );
}

#[test]
fn lib_rs_only_declares_modules_and_reexports() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for line in lib.lines().map(str::trim) {
        assert!(
            line.is_empty()
                || line.starts_with("//")
                || line.starts_with("pub mod ")
                || line.starts_with("pub use "),
            "src/lib.rs: `{line}`"
        );
    }
}
