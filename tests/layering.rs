//! The module layering of `src/lib.rs`, enforced: a module may import only modules of a lower
//! layer (or its own), so the graph has no cycles and `net` never names the pipeline. The test
//! reads the sources, so an upward `use crate::…` (or a path written inline) fails CI.

use std::collections::BTreeSet;
use std::path::Path;

/// Lowest layer first; modules in one layer may not import each other.
const LAYERS: &[&[&str]] = &[
    &["mcp", "store", "demo", "ratelimit"],
    &["detect"],
    &["config", "stats"],
    &["net"],
    &["upstream"],
    &["pipeline"],
    &["runtime"],
    &["control"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Every `crate::<name>` a file names, `use crate::{a, b}` groups included.
fn imports(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn modules_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut violations = Vec::new();
    let mut seen_modules = BTreeSet::new();
    for path in all {
        let rel = path.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("component");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if matches!(module.as_str(), "lib" | "main" | "cli") {
            continue; // the crate root and the binary sit above every layer
        }
        seen_modules.insert(module.clone());
        let Some(own) = layer_of(&module) else {
            violations.push(format!(
                "{}: module `{module}` has no layer in LAYERS",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("read source");
        for dep in imports(&text) {
            if dep == module {
                continue;
            }
            match layer_of(&dep) {
                Some(l) if l < own => {}
                Some(_) => violations.push(format!(
                    "{}: `{module}` imports `crate::{dep}` from its own or a higher layer",
                    rel.display()
                )),
                None => {}
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
    // The table must follow the code: every top-level module is in it.
    for l in LAYERS.iter().flat_map(|l| l.iter()) {
        assert!(
            seen_modules.contains(*l),
            "LAYERS names `{l}`, which is not a module"
        );
    }
}

#[test]
fn the_scanner_sees_grouped_and_inline_paths() {
    let found = imports("use crate::{net::x, pipeline};\nlet y = crate::runtime::start();");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["net", "pipeline", "runtime"]
    );
}
