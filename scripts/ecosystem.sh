#!/usr/bin/env bash
# The tokio ecosystem's clients on tether, against real servers: installs PostgreSQL and Redis
# when they are missing (Debian packages `postgresql`, `redis-server`), starts them as an
# unprivileged user on 127.0.0.1 (and a Unix socket) in a temporary directory, runs the tests of
# the `ecosystem/` package, and stops the servers, whatever happens.
#
#   scripts/ecosystem.sh                 # the tests
#   scripts/ecosystem.sh --bench         # the client benchmarks (benches/ecosystem/), release
#   scripts/ecosystem.sh -- <cargo args> # extra arguments for cargo test
#
# The tests read where the servers are from TETHER_ECO_* variables, which this script sets.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=test
if [[ "${1:-}" == "--bench" ]]; then
    mode=bench
    shift
fi
[[ "${1:-}" == "--" ]] && shift

log() { echo "ecosystem.sh: $*" >&2; }

# --- The servers' programs, installed when missing ----------------------------------------
pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/postgres" ]] && { echo "$dir"; return; }
    done
}
missing=()
[[ -n "$(pg_bin)" ]] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    as_root=()
    [[ $(id -u) == 0 ]] || as_root=(sudo)
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q "${missing[@]}" >/dev/null ||
        { "${as_root[@]}" apt-get update -q >/dev/null &&
            DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q "${missing[@]}" >/dev/null; }
    # The packages start their own servers on the default ports: the tests use their own.
    "${as_root[@]}" service postgresql stop >/dev/null 2>&1 || true
    "${as_root[@]}" service redis-server stop >/dev/null 2>&1 || true
fi
PG_BIN=$(pg_bin)

# --- An unprivileged user, and a directory it owns -----------------------------------------
work=$(mktemp -d /tmp/tether-ecosystem.XXXXXX)
chmod 755 "$work"
run_as=()
if [[ $(id -u) == 0 ]]; then
    # PostgreSQL refuses to run as root; `nobody` owns nothing else here.
    chown nobody "$work"
    run_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi

pids=()
cleanup() {
    local status=$?
    [[ -f "$work/pg/postmaster.pid" ]] && "${run_as[@]}" "$PG_BIN/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- PostgreSQL: password authentication over TCP, a Unix socket in $work -------------------
pg_port=$(free_port)
printf 'tether-secret\n' >"$work/pwfile"
chmod 644 "$work/pwfile"
"${run_as[@]}" "$PG_BIN/initdb" -D "$work/pg" -U tether --pwfile="$work/pwfile" \
    --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C >"$work/initdb.log" 2>&1 ||
    { cat "$work/initdb.log" >&2; exit 1; }
cat >>"$work/pg/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$work'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
pg_ctl() { "${run_as[@]}" "$PG_BIN/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -t 30 "$@" >/dev/null; }
pg_ctl start
"${run_as[@]}" "$PG_BIN/createdb" -h "$work" -p "$pg_port" -U tether tether
# What the restart test runs to take the server down and bring it back.
cat >"$work/pg-restart" <<EOF
#!/usr/bin/env bash
exec ${run_as[*]} $PG_BIN/pg_ctl -D $work/pg -l $work/pg.log -w -t 30 -m fast restart >/dev/null
EOF
chmod 755 "$work/pg-restart"

# --- Redis: TCP on 127.0.0.1, no persistence -----------------------------------------------
redis_port=$(free_port)
"${run_as[@]}" redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
    --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
for _ in $(seq 100); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null

export TETHER_ECO_PG="host=127.0.0.1 port=$pg_port user=tether password=tether-secret dbname=tether"
export TETHER_ECO_PG_ADDR="127.0.0.1:$pg_port"
export TETHER_ECO_PG_RESTART="$work/pg-restart"
export TETHER_ECO_REDIS="127.0.0.1:$redis_port"
export TETHER_ECO_TMP="$work"
log "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port"

start=$SECONDS
if [[ $mode == test ]]; then
    cargo test --manifest-path ecosystem/Cargo.toml --no-fail-fast "$@"
else
    cargo bench --manifest-path ecosystem/Cargo.toml --bench clients "$@"
fi
log "done in $((SECONDS - start)) s (servers included: see the total of .ci/run)"
