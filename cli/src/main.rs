//! `tether`: see inside any running tether program from outside.
//!
//! ```text
//! tether ps PID [--json]          one line per task
//! tether pstree PID [--json]      the ownership tree, and every await cycle
//! tether top PID [--sort busy|age|polls] [--interval MS] [--count N]
//!                                 the busiest tasks, redrawn (keys b, a, p sort; q quits)
//! tether web PID [--port PORT]    a live page on 127.0.0.1: the tree, its waits, a timeline
//! ```
//!
//! `--read-only` leaves the target as it is: the first attach otherwise switches on the
//! recording of waits and the counting of polls in it (see `attach`), which then cost what
//! `Builder::track_waits` costs and a clock read at each end of a poll, until it exits.
//!
//! Every command also takes `--load FILE` instead of a PID: a snapshot saved with `--json`
//! (`top` and `web` read the file again at each refresh). The JSON is documented in
//! [`cli/SCHEMA.md`](../SCHEMA.md).
//! How the tool reads the target, and why that way, is in `attach`.

mod attach;
mod model;
mod render;
#[cfg(test)]
mod testing;
mod top;
mod web;

use std::process::ExitCode;

use model::Snapshot;

const USAGE: &str = "\
usage: tether ps PID|--load FILE [--json] [--read-only]
       tether pstree PID|--load FILE [--json] [--read-only]
       tether top PID|--load FILE [--sort busy|age|polls] [--interval MS] [--count N] [--read-only]
       tether web PID|--load FILE [--port PORT] [--read-only]
       tether --help
Reads the tasks of a running tether program (same user, or root).";

/// What the command line asked for.
#[derive(Debug)]
struct Args {
    command: String,
    target: Target,
    json: bool,
    sort: top::Sort,
    interval_ms: u64,
    count: Option<u64>,
    port: u16,
}

/// Where the snapshot comes from.
#[derive(Debug, Clone)]
enum Target {
    /// A running program; `read_only`: leave its switches as they are.
    Pid {
        pid: u32,
        read_only: bool,
    },
    File(String),
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let command = args.next().ok_or("no command given")?;
    if !matches!(command.as_str(), "ps" | "pstree" | "top" | "web") {
        return Err(format!("unknown command `{command}`"));
    }
    let mut parsed = Args {
        command,
        target: Target::File(String::new()),
        json: false,
        sort: top::Sort::Busy,
        interval_ms: 1000,
        count: None,
        port: 0,
    };
    let mut target = None;
    let mut read_only = false;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("`{name}` needs a value"));
        match arg.as_str() {
            "--json" => parsed.json = true,
            "--read-only" => read_only = true,
            "--load" => target = Some(Target::File(value("--load")?)),
            "--sort" => parsed.sort = value("--sort")?.parse()?,
            "--interval" => parsed.interval_ms = number(&value("--interval")?, "--interval")?,
            "--count" => parsed.count = Some(number(&value("--count")?, "--count")?),
            "--port" => parsed.port = number(&value("--port")?, "--port")?,
            pid if target.is_none() && !pid.starts_with('-') => {
                target = Some(Target::Pid {
                    pid: number(pid, "PID")?,
                    read_only: false,
                });
            }
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    parsed.target = match target.ok_or("no PID given")? {
        Target::Pid { pid, .. } => Target::Pid { pid, read_only },
        Target::File(_) if read_only => {
            return Err("`--read-only` goes with a PID, not `--load`".into());
        }
        file => file,
    };
    if parsed.json && !matches!(parsed.command.as_str(), "ps" | "pstree") {
        return Err("`--json` goes with `ps` and `pstree`".into());
    }
    Ok(parsed)
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a valid {what}"))
}

/// One snapshot of the target.
fn take(target: &Target) -> Result<Snapshot, String> {
    match target {
        Target::Pid { pid, read_only } => {
            attach::snapshot(*pid, !read_only).map_err(|error| error.to_string())
        }
        Target::File(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|error| format!("cannot read {path}: {error}"))?;
            let snapshot: Snapshot = serde_json::from_str(&text)
                .map_err(|error| format!("{path} is not a tether snapshot: {error}"))?;
            if snapshot.schema != model::SCHEMA {
                return Err(format!(
                    "{path} has schema `{}`; this tool reads `{}`",
                    snapshot.schema,
                    model::SCHEMA
                ));
            }
            Ok(snapshot)
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    match args.command.as_str() {
        "ps" | "pstree" => {
            let snapshot = take(&args.target)?;
            let out = if args.json {
                let mut json = serde_json::to_string_pretty(&snapshot)
                    .map_err(|error| format!("cannot write JSON: {error}"))?;
                json.push('\n');
                json
            } else if args.command == "ps" {
                render::ps(&snapshot)
            } else {
                render::pstree(&snapshot)
            };
            print!("{out}");
            Ok(())
        }
        "top" => top::run(&args, || take(&args.target)),
        "web" => {
            // The sampler runs on the blocking pool: it takes the target along.
            let target = args.target.clone();
            web::serve(&args, move || take(&target))
        }
        _ => unreachable!("`parse` refuses other commands"),
    }
}

fn main() -> ExitCode {
    let mut words = std::env::args().skip(1).peekable();
    match words.peek().map(String::as_str) {
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        None => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
        Some(_) => {}
    }
    let args = match parse(words) {
        Ok(args) => args,
        // One line, for scripts that read it; the usage is one `--help` away.
        Err(message) => {
            eprintln!("tether: {message} (`tether --help` shows the usage)");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tether: {message}");
            ExitCode::FAILURE
        }
    }
}
