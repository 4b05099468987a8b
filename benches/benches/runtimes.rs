//! Criterion's detailed view of the comparison workloads: one group per workload, one benchmark
//! per runtime, each iteration timed inside a fresh runtime (`iter_custom`), so runtime start-up
//! is not measured.
//!
//! ```text
//! cargo bench -p tether-benches --bench runtimes                 # everything (several minutes)
//! cargo bench -p tether-benches --bench runtimes -- spawn_many   # a filter, as usual
//! ```
//!
//! Reported times are per run of the workload (see `catalogue.rs` for what one run is); the
//! `compare` bench divides them into per-task figures and prints the table.

#[path = "../workloads/mod.rs"]
mod workloads;

use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};

use workloads::alloc::Counting;
use workloads::catalogue::{self, COLUMNS, Unit};

#[global_allocator]
static ALLOC: Counting = Counting;

fn runtimes(c: &mut Criterion) {
    for workload in catalogue::workloads() {
        let mut group = c.benchmark_group(workload.key);
        if matches!(workload.unit, Unit::Ms) || workload.key.ends_with("100k") {
            // Tens of milliseconds per run: few, flat samples.
            group.sampling_mode(SamplingMode::Flat).sample_size(10);
        } else {
            group.sample_size(30);
        }
        group
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for (name, runner) in COLUMNS.iter().zip(workload.runners) {
            if let Some(runner) = runner {
                group.bench_function(*name, |b| b.iter_custom(|iters| runner(iters as usize)));
            }
        }
        group.finish();
    }
}

fn combinators(c: &mut Criterion) {
    let mut group = c.benchmark_group("combinators_on_tether");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (name, _, runner) in catalogue::combinators() {
        group.bench_function(name, |b| b.iter_custom(|iters| runner(iters as usize)));
    }
    group.finish();
}

criterion_group!(benches, runtimes, combinators);
criterion_main!(benches);
