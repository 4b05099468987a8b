//! The runtime's folders are its layers (CONTRIBUTING.md): `runtime/src/lib.rs` declares them
//! lowest first, and a folder's code imports only from the folders declared before it.
//!
//! `module-cycles` (run by `.ci/run`) proves there is no cycle; this test holds the order that
//! lib.rs and CONTRIBUTING.md state, and reads every line of non-test code (test modules may
//! reach anywhere).

use std::fs;
use std::path::{Path, PathBuf};

fn runtime_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/src")
}

/// The top-level modules lib.rs declares, in the order it declares them.
fn layers(lib: &str) -> Vec<String> {
    lib.lines()
        .filter_map(|line| {
            // Unindented `mod name;` only: inline modules (`__private`) and what they declare
            // are the crate root's own.
            let rest = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("mod "))?;
            rest.trim_end().strip_suffix(';').map(str::to_owned)
        })
        .collect()
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.is_file() && path.extension().is_some_and(|ext| ext == "rs") {
        out.push(path.to_owned());
    }
}

/// The lines of `source` outside comments and `#[cfg(test)] mod .. { .. }` blocks, numbered.
fn code_lines(source: &str) -> Vec<(usize, &str)> {
    let mut kept = Vec::new();
    let mut lines = source.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        let test_module = trimmed.starts_with("#[cfg(test)]")
            && lines.peek().is_some_and(|(_, next)| {
                let next = next.trim_start();
                next.starts_with("mod ") && next.ends_with('{')
            });
        if test_module {
            let mut depth = 0i32;
            for (_, line) in lines.by_ref() {
                depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
                if depth == 0 && line.contains('}') {
                    break;
                }
            }
            continue;
        }
        kept.push((n + 1, line));
    }
    kept
}

/// Every `crate::NAME` on the line whose `NAME` is one of the layers.
fn layer_paths<'a>(line: &'a str, layers: &[String]) -> Vec<&'a str> {
    line.match_indices("crate::")
        .filter(|(at, _)| {
            let before = line[..*at].chars().next_back();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
        })
        .filter_map(|(at, _)| {
            let rest = &line[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..end];
            layers.iter().any(|layer| layer == name).then_some(name)
        })
        .collect()
}

#[test]
#[cfg_attr(miri, ignore = "reads the source tree, which Miri's isolation forbids")]
fn every_folder_imports_only_from_the_folders_before_it() {
    let src = runtime_src();
    let layers = layers(&fs::read_to_string(src.join("lib.rs")).unwrap());
    assert!(
        layers.len() >= 10 && layers.iter().any(|layer| layer == "task_core"),
        "lib.rs's module declarations were not read: {layers:?}"
    );
    let mut upward = Vec::new();
    for (rank, layer) in layers.iter().enumerate() {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        rust_files(&src.join(format!("{layer}.rs")), &mut files);
        assert!(!files.is_empty(), "no source for the layer `{layer}`");
        for file in files {
            let source = fs::read_to_string(&file).unwrap();
            for (n, line) in code_lines(&source) {
                for target in layer_paths(line, &layers) {
                    let target_rank = layers.iter().position(|l| l == target).unwrap();
                    if target_rank > rank {
                        let file = file.strip_prefix(&src).unwrap().display();
                        upward.push(format!("{file}:{n}: {layer} -> {target}"));
                    }
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a layer declared later in lib.rs (move the code down, or call up through a \
         trait or hook the upper layer installs; CONTRIBUTING.md):\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_reader_sees_test_modules_and_comments_as_such() {
    let source = "use crate::a::X;\n// crate::b\n#[cfg(test)]\nmod tests {\n    fn f() { crate::b::y(); }\n}\nfn g() { $crate::b; crate::b::z(); }\n";
    let names = ["a".to_owned(), "b".to_owned()];
    let found: Vec<_> = code_lines(source)
        .into_iter()
        .flat_map(|(n, line)| layer_paths(line, &names).into_iter().map(move |p| (n, p)))
        .collect();
    assert_eq!(found, [(1, "a"), (7, "b")]);
    assert_eq!(
        layers("mod util;\npub mod task;\npub mod __private {\n    pub mod inner;\n}\n"),
        ["util", "task"]
    );
}
