//! A small site archiver: crawls a site level by level, and stores each page together with its
//! assets (stylesheets, images), all or nothing.
//!
//! Nothing touches the network: the "site" is a table below, and a fetch sleeps a few
//! milliseconds (a made-up latency derived from the URL, the same on every run) before serving
//! a page, an asset, or a 404.
//!
//! The ownership story:
//! - `main` owns everything shared (configuration, the set of URLs seen, each level's queue and
//!   report) as plain locals. Every task that uses them belongs to a task group that ends inside
//!   `main`, so the tasks simply borrow them: no `Arc`, no `'static`, no cloning. A `RefCell`
//!   (or `Cell`) is enough because every task runs on the event loop's one thread.
//! - Groups nest: one group per depth level, with a child per page; each child archives its
//!   page in a fallible group of its own, one child per asset download.
//! - Concurrency is bounded by the group, without a semaphore or a worker pool: a level's group
//!   has a limit of `max_concurrency` (`task_group!(limit = n, ...)`), so no more pages than that
//!   are ever in flight; the other children wait, unpolled, in the order they were made.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fmt::{self, Write as _};
use std::time::Duration;

use tether::TaskFailure;

/// How to crawl.
#[derive(Debug)]
struct Config {
    /// Where to start; links outside it are not followed.
    site: &'static str,
    max_depth: usize,
    max_concurrency: usize,
}

/// What became of a page: archived with so many assets, or why not.
type Outcome = Result<usize, String>;

#[tether::main]
async fn main() {
    let config = Config {
        site: "https://tether.test/",
        max_depth: 2,
        max_concurrency: 3,
    };
    let seen = RefCell::new(HashSet::from([config.site.to_owned()]));
    let (in_flight, peak) = (Cell::new(0), Cell::new(0));
    let (mut visited, mut archived) = (0, 0);
    println!(
        "crawling {} (max depth {}, at most {} pages at a time)",
        config.site, config.max_depth, config.max_concurrency
    );

    let mut frontier = vec![config.site.to_owned()];
    for depth in 0..=config.max_depth {
        println!("depth {depth}: {}", plural(frontier.len(), "page"));
        let pages = std::mem::take(&mut frontier);
        let found = RefCell::new(Vec::new());
        let report = RefCell::new(Vec::new());

        // The level's group: one child per page, at most `max_concurrency` running at once (the
        // others wait their turn, unpolled, in order). It ends when all its children have, and
        // only then does the next level start. The children borrow `config`, `seen`, `found`,
        // `report`, ...
        let (config, seen, found_ref, report_ref) = (&config, &seen, &found, &report);
        let (in_flight, peak) = (&in_flight, &peak);
        let level = tether::task_group!(limit = config.max_concurrency, |tg| {
            for url in pages {
                tg.create_task(async move {
                    in_flight.set(in_flight.get() + 1);
                    peak.set(peak.get().max(in_flight.get()));
                    let outcome = visit(&url, depth, config, seen, found_ref).await;
                    in_flight.set(in_flight.get() - 1);
                    report_ref.borrow_mut().push((url, outcome));
                });
            }
        });
        // `visit` turns every failure into an outcome, so only a bug (a panic) fails a level.
        level.expect("a page's task panicked");

        // Pages finish in an order that depends on timing: sort, so every run prints the same.
        let mut report = report.into_inner();
        report.sort();
        for (url, outcome) in &report {
            match outcome {
                Ok(assets) => println!("  archived {url} with {}", plural(*assets, "asset")),
                Err(why) => println!("  {why}"),
            }
        }
        visited += report.len();
        archived += report.iter().filter(|(_, outcome)| outcome.is_ok()).count();
        frontier = found.into_inner();
    }
    println!(
        "{} visited, {archived} archived; at most {} in flight at once",
        plural(visited, "page"),
        peak.get(),
    );
}

/// Fetches one page, queues the links nobody has seen yet, and archives the page with its assets.
async fn visit(
    url: &str,
    depth: usize,
    config: &Config,
    seen: &RefCell<HashSet<String>>,
    found: &RefCell<Vec<String>>,
) -> Outcome {
    let html = fetch(url)
        .await
        .map_err(|error| format!("broken link {url}: {error}"))?;
    if depth < config.max_depth {
        for link in attribute_values(&html, "href") {
            // `insert` is false when another worker got there first.
            if link.starts_with(config.site) && seen.borrow_mut().insert(link.to_owned()) {
                found.borrow_mut().push(link.to_owned());
            }
        }
    }

    // All or nothing: a fallible group, one child per download. The first `Err` cancels the
    // other downloads and fails the group; its `GroupError` names each task that failed.
    let assets = attribute_values(&html, "src");
    let mut names = Vec::new(); // (task name, asset): which download was which task
    let downloads = tether::task_group!(try |tg| {
        for &asset in &assets {
            let download = tg.create_task(fetch(asset));
            names.push((download.name(), asset));
        }
    });
    let Err(error) = downloads else {
        return Ok(assets.len());
    };
    let why = error.failures().iter().map(|failure| {
        let named = names.iter().find(|(name, _)| name == failure.task_name());
        let (_, asset) = named.expect("every child of this group is a download");
        match failure {
            TaskFailure::Failed { task, error } => format!("{task} ({asset}) failed: {error}"),
            TaskFailure::Panicked { task, panic } => format!("{task} ({asset}) panicked: {panic}"),
        }
    });
    Err(format!(
        "incomplete {url}: {}",
        why.collect::<Vec<_>>().join("; ")
    ))
}

fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// The values of every `name="..."` attribute: a scanner just good enough for the pages below.
fn attribute_values<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let marker = format!(" {name}=\"");
    let values = html.split(marker.as_str()).skip(1);
    values
        .filter_map(|rest| Some(rest.split_once('"')?.0))
        .collect()
}

// ---- The simulated web ----

const HOST: &str = "https://tether.test";

/// The site: each page's links, then `|`, then its assets. Any other path is a 404.
fn page(path: &str) -> Option<&'static str> {
    Some(match path {
        "/" => "/docs /blog /about | /style.css /logo.png",
        "/docs" => "/ /docs/tasks /docs/groups | /style.css",
        "/blog" => "/ /blog/2024 /blog/feed.xml | /style.css /img/banner.png",
        "/about" => "/ /team https://elsewhere.test/ | /img/team.jpg",
        "/docs/tasks" => "/docs/groups /docs/time | /style.css",
        "/docs/groups" => "/docs/tasks | /style.css /img/groups.svg",
        "/blog/2024" => "/blog | /style.css",
        "/blog/feed.xml" | "/style.css" | "/logo.png" | "/img/team.jpg" | "/img/groups.svg" => "|",
        _ => return None,
    })
}

/// A failed fetch.
#[derive(Debug)]
struct NotFound;

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("404 Not Found")
    }
}

/// "Downloads" `url`: waits its latency, then serves the page (as HTML) or a 404.
async fn fetch(url: &str) -> Result<String, NotFound> {
    // FNV-1a: a stable hash, so each URL gets the same latency (2 to 16 ms) on every run.
    let hash = url.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    tether::sleep(Duration::from_millis(2 + hash % 15)).await;

    let path = url.strip_prefix(HOST).ok_or(NotFound)?;
    let (links, assets) = page(path).ok_or(NotFound)?.split_once('|').unwrap();
    let mut html = String::new();
    for (tag, attribute, urls) in [("a", "href", links), ("img", "src", assets)] {
        for url in urls.split_whitespace() {
            let host = if url.starts_with('/') { HOST } else { "" };
            write!(html, "<{tag} {attribute}=\"{host}{url}\">").unwrap();
        }
    }
    Ok(html)
}
