//! tether without its default features, as a crate outside this workspace sees it.
//!
//! Inside the workspace every build of `tether` has its default features (cargo unifies the
//! features of a package across the members built together), so this test writes a small crate
//! of its own that depends on `tether` with `default-features = false` and runs `cargo check`
//! on it, in a target directory of its own: the core must compile with no warning, and
//! `#[tether::main(workers = N)]` must fail with an error that names the `workers` feature.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The scratch crate's manifest: `tether` by path, no default features, outside any workspace.
fn manifest(runtime: &Path) -> String {
    format!(
        "[package]\nname = \"tether-no-default-features\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
         publish = false\n\n[dependencies]\ntether = {{ path = {runtime:?}, default-features = false }}\n\n\
         [workspace]\n"
    )
}

/// A program that uses the core (tasks, a group, a timer) and asks for workers.
const MAIN: &str = r#"use std::time::Duration;

#[tether::main(workers = 2)]
async fn main() {
    let task = tether::create_task(async { 1 });
    let sum = tether::task_group!(|tg| {
        let child = tg.create_task(async { 2 });
        tether::sleep(Duration::from_millis(1)).await;
        child
    });
    assert!(task.await.is_ok() && sum.is_ok());
}
"#;

#[test]
#[cfg_attr(miri, ignore = "runs cargo")]
fn workers_without_the_feature_names_the_feature() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-default-features");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest(&workspace.join("runtime"))).unwrap();
    std::fs::write(dir.join("src/main.rs"), MAIN).unwrap();
    // The workspace's lock file: the same versions, already downloaded, so `--offline` works.
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["check", "--offline", "--quiet", "--color", "never"])
        .arg("--target-dir")
        .arg(dir.join("target"))
        .current_dir(&dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "compiled without the `workers` feature:\n{stderr}"
    );
    // One error, at the option's literal, that names the feature and how to turn it on; tether
    // itself compiled without a warning.
    assert_eq!(stderr.matches("error[").count(), 1, "{stderr}");
    assert!(
        stderr
            .contains("error[E0277]: `workers = N` needs tether's `workers` feature, which is off"),
        "{stderr}"
    );
    assert!(stderr.contains("--> src/main.rs:3:26"), "{stderr}");
    assert!(
        stderr.contains("features = [\"workers\"]"),
        "the error should say how to turn the feature on:\n{stderr}"
    );
    assert!(!stderr.contains("warning"), "{stderr}");
}
