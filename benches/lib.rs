//! tether's benchmarks, side by side with tokio, async-executor and asyncio; see
//! `BENCHMARKS.md` at the workspace root for the latest table and how to read it.
//!
//! - `benches/run.sh`: everything, one Markdown table (with the asyncio column).
//! - `cargo bench -p tether-benches --bench compare`: the Rust part of that table.
//! - `cargo bench -p tether-benches --bench runtimes`: criterion's view of the same workloads.
//! - `benches/callgrind.sh`: instructions per operation under callgrind.
//! - `workloads/`: the workloads themselves, shared by the targets above and the `workload`
//!   example (one workload on one runtime, for profilers).
//! - `python/asyncio_twins.py`: the asyncio versions.
