// A `Child` owns its process: dropping it kills the process, so `let _ = command.spawn()`
// would kill it at once. It is refused in `#[tether::main]`, `#[tether::test]` and
// `#[tether::owned]` code, as `let _ =` on a `Task` is (`spawn` returns `io::Result<Child>`).
// (`#[tether::test]` expands through the same check; a test fn is not compiled here.)

use tether::process::Command;

#[tether::main]
async fn main() {
    let _ = Command::new("sleep").arg("10").spawn();
}

#[tether::owned]
fn start_helper() {
    let _ = Command::new("true").spawn().unwrap();
}
