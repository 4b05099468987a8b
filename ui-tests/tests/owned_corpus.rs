//! The corpus behind the `let _ =` check: every example and every integration test of the
//! workspace, with `#[tether::owned]` put on each of its items, still compiles. It is real code
//! that owns its tasks correctly, so any error here is a false alarm of the check.
//!
//! The test copies the `examples`, `tests` and `stress` packages into a workspace of their own
//! under `CARGO_TARGET_TMPDIR` (depending on this checkout's `tether`), adds the attribute in the
//! copies, and runs `cargo check` on every target there. A negative control then adds one file
//! that drops a task with `let _ =`, which must fail, so that a corpus that passes for a wrong
//! reason (the attribute not applied) cannot go unnoticed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use syn::spanned::Spanned;
use syn::{File, Item};

/// The packages whose examples and tests make the corpus.
const PACKAGES: &[&str] = &["examples", "tests", "stress"];

#[test]
#[cfg_attr(miri, ignore = "runs cargo")]
fn every_example_and_test_compiles_with_owned_on_each_item() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let corpus = Path::new(env!("CARGO_TARGET_TMPDIR")).join("owned-corpus");
    if corpus.exists() {
        fs::remove_dir_all(&corpus).unwrap();
    }
    fs::create_dir_all(&corpus).unwrap();
    fs::write(corpus.join("Cargo.toml"), workspace_manifest(root)).unwrap();
    fs::copy(root.join("Cargo.lock"), corpus.join("Cargo.lock")).unwrap();

    let mut owned = 0;
    let mut files = 0;
    for package in PACKAGES {
        // The libraries of `tests` and `stress` are helpers that do not depend on tether (their
        // tests do): their root files stay as they are.
        let depth = if *package == "examples" { 0 } else { 1 };
        copy_package(
            &root.join(package),
            &corpus.join(package),
            depth,
            &mut |count| {
                owned += count;
                files += 1;
            },
        );
    }
    // Not vacuous: the copies hold the attribute on hundreds of items.
    assert!(files > 50 && owned > 500, "{files} files, {owned} items");

    let checked = cargo_check(&corpus);
    assert!(
        checked.status.success(),
        "`#[tether::owned]` rejects code of the workspace's own examples or tests:\n{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    // The negative control: one `let _ =` that drops a task.
    fs::write(
        corpus.join("tests/tests/owned_corpus_control.rs"),
        "#[tether::owned]\nfn control() {\n    let _ = tether::create_task(async {});\n}\n",
    )
    .unwrap();
    let control = cargo_check(&corpus);
    let stderr = String::from_utf8_lossy(&control.stderr);
    assert!(
        !control.status.success() && stderr.contains("which cancels the task it owns"),
        "the negative control compiled, or failed for another reason:\n{stderr}"
    );
    fs::remove_file(corpus.join("tests/tests/owned_corpus_control.rs")).unwrap();
}

/// The root manifest, its members cut to the corpus, and the workspace's own crates reached by
/// absolute paths.
fn workspace_manifest(root: &Path) -> String {
    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let members = PACKAGES
        .iter()
        .map(|package| format!("\"{package}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = String::new();
    for line in manifest.lines() {
        let line = if line.starts_with("members = ") {
            format!("members = [{members}]")
        } else if line.starts_with("tether = ") || line.starts_with("tether-macros = ") {
            let folder = if line.starts_with("tether = ") {
                "runtime"
            } else {
                "macros"
            };
            let path = root.join(folder);
            line.replacen(
                &format!("path = \"{folder}\""),
                &format!("path = \"{}\"", path.display()),
                1,
            )
        } else {
            line.to_owned()
        };
        out.push_str(&line);
        out.push('\n');
    }
    assert!(
        out.contains(&root.join("runtime").display().to_string()),
        "{out}"
    );
    out
}

/// Copies `from` to `to`, Rust files with the attribute added from `depth` folders down;
/// `counted` hears how many items of each Rust file got it.
fn copy_package(from: &Path, to: &Path, depth: usize, counted: &mut dyn FnMut(usize)) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_package(&path, &target, depth.saturating_sub(1), counted);
        } else if depth == 0 && path.extension().is_some_and(|extension| extension == "rs") {
            let source = fs::read_to_string(&path).unwrap();
            let (owned, count) = own_every_item(&source, &path);
            fs::write(&target, owned).unwrap();
            counted(count);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}

/// `source` with `#[tether::owned]` before every function, `impl` block, trait and inline
/// module at its top level (the attribute reaches what they hold), and how many it got.
fn own_every_item(source: &str, path: &Path) -> (String, usize) {
    let file: File =
        syn::parse_file(source).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let mut starts: Vec<(usize, usize)> = file
        .items
        .iter()
        .filter(|item| match item {
            // A const fn is a const context, which the attribute does not enter.
            Item::Fn(function) => function.sig.constness.is_none(),
            Item::Impl(_) | Item::Trait(_) => true,
            Item::Mod(module) => module.content.is_some(),
            _ => false,
        })
        .map(|item| {
            let start = item.span().start();
            (start.line, start.column)
        })
        .collect();
    let count = starts.len();
    // From the end, so that each insertion leaves the positions before it valid.
    starts.sort_unstable();
    let mut lines: Vec<String> = source.lines().map(str::to_owned).collect();
    for (line, column) in starts.into_iter().rev() {
        let text = &mut lines[line - 1];
        let at = text
            .char_indices()
            .nth(column)
            .map_or(text.len(), |(at, _)| at);
        text.insert_str(at, "#[tether::owned] ");
    }
    let mut owned = lines.join("\n");
    owned.push('\n');
    (owned, count)
}

/// `cargo check` on every target of the corpus, in a target directory of its own.
fn cargo_check(corpus: &Path) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target: PathBuf = corpus.with_file_name("owned-corpus-target");
    Command::new(cargo)
        .args([
            "check",
            "--offline",
            "--workspace",
            "--all-targets",
            "--all-features",
        ])
        .arg("--manifest-path")
        .arg(corpus.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap()
}
