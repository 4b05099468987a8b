//! What the example tests share: where cargo put an example, how to run one and compare what it
//! printed with what it should print.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command};
use std::sync::mpsc::{self, Receiver};
use std::time::Instant;

/// The lines of a running example's stdout, read on a thread of their own: the channel
/// closes when stdout does.
#[allow(
    dead_code,
    reason = "used by servers.rs and supervisor.rs, not by every test"
)]
pub fn lines_of(stdout: ChildStdout) -> Receiver<String> {
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// What one example must do.
pub struct Expected {
    pub name: &'static str,
    /// The stdout lines, as patterns: `#` stands for one digit, `*` for any text.
    pub lines: &'static [&'static str],
    /// Bounds on the wall time, in seconds: at least, and less than.
    pub seconds: Option<(f64, f64)>,
}

/// Where cargo put the example `name`: `target/<profile>/examples/`, next to the `deps/`
/// directory that holds this test.
pub fn binary(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = test
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps/");
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "the example `{name}` is not built (looked for {}); run `cargo test -p tether-examples`, \
         which builds the examples before running this test",
        binary.display(),
    );
    binary
}

/// Runs one example and compares what it did with what it should do.
pub fn check(expected: &Expected, binary: &Path) -> Result<(), String> {
    let name = expected.name;
    let start = Instant::now();
    let output = Command::new(binary)
        .output()
        .map_err(|error| format!("{name}: could not run {}: {error}", binary.display()))?;
    let elapsed = start.elapsed();
    println!("{name} took {:.2} s", elapsed.as_secs_f64()); // shown with `-- --nocapture`
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown = format!("--- stdout:\n{stdout}--- stderr:\n{stderr}---");

    if !output.status.success() {
        return Err(format!("{name}: exited with {}\n{shown}", output.status));
    }
    if !stderr.is_empty() {
        return Err(format!("{name}: wrote to stderr\n{shown}"));
    }
    let lines: Vec<&str> = stdout.lines().collect();
    let wrong = (0..lines.len().max(expected.lines.len())).find(|&i| {
        match (expected.lines.get(i), lines.get(i)) {
            (Some(pattern), Some(line)) => !matches(pattern, line),
            _ => true,
        }
    });
    if let Some(i) = wrong {
        let end = "(end of output)";
        let (want, got) = (
            expected.lines.get(i).unwrap_or(&end),
            lines.get(i).unwrap_or(&end),
        );
        return Err(format!(
            "{name}: stdout line {}: wanted {want:?}, got {got:?}\n{shown}",
            i + 1
        ));
    }
    if let Some((at_least, less_than)) = expected.seconds {
        let took = elapsed.as_secs_f64();
        if took < at_least || took >= less_than {
            return Err(format!(
                "{name}: took {took:.2} s, expected at least {at_least} s and less than \
                 {less_than} s"
            ));
        }
    }
    Ok(())
}

/// Whether `line` fits `pattern`, where `#` matches one ASCII digit and `*` any run of
/// characters (possibly none); every other character matches itself.
pub fn matches(pattern: &str, line: &str) -> bool {
    fn go(pattern: &[u8], line: &[u8]) -> bool {
        match pattern.split_first() {
            None => line.is_empty(),
            Some((b'*', rest)) => (0..=line.len()).any(|skip| go(rest, &line[skip..])),
            Some((b'#', rest)) => {
                line.first().is_some_and(u8::is_ascii_digit) && go(rest, &line[1..])
            }
            Some((c, rest)) => line.first() == Some(c) && go(rest, &line[1..]),
        }
    }
    go(pattern.as_bytes(), line.as_bytes())
}
