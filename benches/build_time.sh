#!/usr/bin/env bash
# Clean dev builds of a hello world, side by side: tether with `default-features = false` and
# with its default features, against tokio's minimal hello (`rt`, `macros`, `time`) and tokio
# with `full`. BENCHMARKS.md ("Build time") quotes what this prints.
#
#   benches/build_time.sh [ROUNDS] [DIR]      # default: 3 rounds, /tmp/tether-build-time
#
# Each project has its own target directory and starts from the workspace's Cargo.lock (the
# same versions, already downloaded: `--offline`). A round builds every project once from
# clean (`rm -rf target && cargo build --offline`), in an order rotated each round, so that a
# change in the machine's load falls on every project alike. Times are whole-process ones,
# from bash's `times`-style accounting (`TIMEFORMAT`): wall, and user + system CPU of cargo
# and every compiler it ran. Medians over the rounds, and each median's ratio to tokio's.
set -euo pipefail
rounds=${1:-3}
dir=${2:-/tmp/tether-build-time}
root=$(cd "$(dirname "$0")/.." && pwd)
unset CARGO_TARGET_DIR RUSTFLAGS
export CARGO_INCREMENTAL=0

hello_tether='#[tether::main]
async fn main() {
    tether::sleep(std::time::Duration::from_millis(1)).await;
    println!("hello");
}
'
hello_tokio='#[tokio::main(flavor = "current_thread")]
async fn main() {
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    println!("hello");
}
'

project() { # name, dependency line, main.rs
    mkdir -p "$dir/$1/src"
    printf '[package]\nname = "%s"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n[dependencies]\n%s\n\n[workspace]\n' \
        "$1" "$2" >"$dir/$1/Cargo.toml"
    printf '%s' "$3" >"$dir/$1/src/main.rs"
    cp "$root/Cargo.lock" "$dir/$1/Cargo.lock"
}

project tether-core "tether = { path = \"$root/runtime\", default-features = false }" "$hello_tether"
project tether-default "tether = { path = \"$root/runtime\" }" "$hello_tether"
project tokio-minimal 'tokio = { version = "1", features = ["rt", "macros", "time"] }' "$hello_tokio"
project tokio-full 'tokio = { version = "1", features = ["full"] }' "$hello_tokio"
names=(tether-core tether-default tokio-minimal tokio-full)

# Resolve once (the lock is trimmed to each project's graph), outside the timed runs.
for name in "${names[@]}"; do
    (cd "$dir/$name" && cargo build --offline --quiet && "./target/debug/$name" >/dev/null)
done

results=$dir/results.txt
: >"$results"
TIMEFORMAT='%R %U %S'
for ((round = 0; round < rounds; round++)); do
    for ((i = 0; i < ${#names[@]}; i++)); do
        name=${names[$(((i + round) % ${#names[@]}))]}
        cd "$dir/$name"
        rm -rf target
        figures=$({ time cargo build --offline --quiet >/dev/null 2>&1; } 2>&1)
        echo "$name $figures" | tee -a "$results"
    done
done

python3 - "$results" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, wall, user, system = line.split()
    runs.setdefault(name, []).append((float(wall), float(user) + float(system)))
med = {n: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r)) for n, r in runs.items()}
print(f"\n{len(next(iter(runs.values())))} rounds; medians")
print("| project | wall | CPU | wall / tokio minimal | wall / tokio full | CPU / tokio minimal | CPU / tokio full |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, (wall, cpu) in med.items():
    tm, tf = med["tokio-minimal"], med["tokio-full"]
    print(f"| {name} | {wall:.1f} s | {cpu:.1f} s | {wall / tm[0]:.2f} | {wall / tf[0]:.2f} | {cpu / tm[1]:.2f} | {cpu / tf[1]:.2f} |")
EOF
