#!/usr/bin/env bash
# `tether web` in a real browser: starts a target (the `inspect_demo` example of the cli
# package, or with `--fixture` a saved snapshot), serves its page with `tether web`, loads the
# page in headless Chromium (Debian's `chromium`, installed when missing), checks the DOM the
# page's script built against the snapshot the server serves, and saves a screenshot as a test
# artifact (target/artifacts/inspect-web.png). Everything it starts is stopped on the way out.
#
#   scripts/inspect-web.sh             # against inspect_demo (the fixture where it is missing)
#   scripts/inspect-web.sh --fixture   # against cli/tests/fixtures/demo.json
#
# Bounded: every step has a timeout, and after the install and the build the script runs again
# under `timeout 60` (it takes about 10 s).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "inspect-web.sh: $*" >&2; }

fixture=cli/tests/fixtures/demo.json
use_fixture=false
[[ "${1:-}" == "--fixture" || ! -f cli/examples/inspect_demo.rs ]] && use_fixture=true

# --- The browser, installed when missing ---------------------------------------------------
if [[ ! -x /usr/bin/chromium ]]; then
    log "installing chromium"
    as_root=()
    [[ $(id -u) == 0 ]] || as_root=(sudo)
    DEBIAN_FRONTEND=noninteractive timeout 900 "${as_root[@]}" apt-get install -y -q chromium >/dev/null ||
        { timeout 300 "${as_root[@]}" apt-get update -q >/dev/null &&
            DEBIAN_FRONTEND=noninteractive timeout 900 "${as_root[@]}" apt-get install -y -q chromium >/dev/null; }
fi

# --- What runs: the tool, a target, the server ---------------------------------------------
bin="${CARGO_TARGET_DIR:-target}/debug"
if [[ -z ${INSPECT_WEB_TIMED:-} ]]; then
    timeout 900 cargo build -q -p tether-cli
    $use_fixture || timeout 900 cargo build -q -p tether-cli --example inspect_demo
    # The check itself, a minute at most: `timeout` stops the script and all it started.
    INSPECT_WEB_TIMED=1 exec timeout 60 bash "$PWD/scripts/inspect-web.sh" "$@"
fi

work=$(mktemp -d)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'log "stopped"; exit 1' TERM INT

if $use_fixture; then
    log "target: $fixture"
    source=(--load "$fixture")
else
    # The demo says `ready PID`, waits for a line (sent once the tool has attached, which
    # switches the recording of waits on), then takes its lock and says `stuck` when a task
    # blocks its loop: the page is read while it stays so.
    mkfifo "$work/demo.in"
    exec 3<>"$work/demo.in"
    "$bin/examples/inspect_demo" --stuck-secs 50 <"$work/demo.in" >"$work/demo.out" 2>&1 &
    pids+=($!)
    source=("$!")
    log "target: inspect_demo, pid $!"
    wait_for_line() { # FILE PATTERN: the demo says it, within 10 s
        for _ in $(seq 100); do
            grep -q "$2" "$1" && return 0
            sleep 0.1
        done
        log "the demo never said $2:"
        cat "$1" >&2
        return 1
    }
    wait_for_line "$work/demo.out" '^ready '
fi

timeout 90 "$bin/tether" web "${source[@]}" --port 0 >"$work/web.out" 2>"$work/web.err" &
pids+=($!)
url=
for _ in $(seq 100); do
    url=$(sed -n 's|^serving \(http://127\.0\.0\.1:[0-9]*/\)$|\1|p' "$work/web.out")
    [[ -n $url ]] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
done
[[ -n $url ]] || { log "tether web did not start:"; cat "$work/web.err" >&2; exit 1; }
log "serving $url"
if ! $use_fixture; then
    echo go >&3 # `tether web` has attached (its first snapshot): the demo may go on
    wait_for_line "$work/demo.out" '^stuck$'
fi

chromium() {
    timeout 20 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d -p "$work")" --virtual-time-budget=5000 "$@" 2>>"$work/chromium.err"
}

# --- The DOM after the page's script ran, checked against the served snapshot ---------------
# A target attached for the first time may not have recorded waits that began before the
# attach: wait (10 s at most) for a snapshot that shows a lock's waiter and holder.
python3 - "$url" >"$work/before.json" <<'PY'
import json, sys, time, urllib.request
deadline = time.monotonic() + 10
while True:
    text = urllib.request.urlopen(sys.argv[1] + "snapshot.json", timeout=5).read().decode()
    tasks = json.loads(text)["tasks"]
    if any((t.get("awaiting") or {}).get("held_by") is not None for t in tasks) or time.monotonic() > deadline:
        break
    time.sleep(0.5)
print(text)
PY
chromium --dump-dom "$url" >"$work/dom.html" || { log "chromium failed:"; tail -20 "$work/chromium.err" >&2; exit 1; }
python3 - "$url" "$work/before.json" "$work/dom.html" <<'PY'
import json, sys, urllib.request
from html.parser import HTMLParser

url, before_path, dom_path = sys.argv[1:]
before = json.load(open(before_path))
after = json.loads(urllib.request.urlopen(url + "snapshot.json", timeout=5).read())
# Tasks live both before and after the page was read: the page must show them.
alive = {t["id"]: t for t in after["tasks"]}
tasks = [t for t in before["tasks"] if t["id"] in alive]

class Dom(HTMLParser):
    """Each task row's own line (its text and links), the timeline's bars, the tree's ids."""
    def __init__(self):
        super().__init__()
        self.stack = []          # (tag, attrs) of open elements
        self.rows = {}           # task id -> {"text": str, "links": [href]}
        self.bars = set()
        self.line_of = None      # task id whose line is being read
        self.line_depth = None
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "rect" and "bar" in classes and (attrs.get("data-id") or "").isdigit():
            self.bars.add(int(attrs["data-id"]))
        if tag == "div" and "line" in classes and self.stack:
            parent_tag, parent = self.stack[-1]
            if "task" in (parent.get("class") or "").split() and parent.get("id", "").startswith("task-"):
                self.line_of = int(parent["data-id"])
                self.line_depth = len(self.stack)
                self.rows[self.line_of] = {"text": "", "links": [], "in_tree": self.in_tree()}
        if tag == "a" and self.line_of is not None:
            self.rows[self.line_of]["links"].append(attrs.get("href"))
        if tag not in ("meta", "input", "br", "img", "hr", "link"):  # void elements never close
            self.stack.append((tag, attrs))
    def in_tree(self):
        return any(attrs.get("id") == "tree" for _, attrs in self.stack)
    def handle_endtag(self, tag):
        while self.stack:
            open_tag, _ = self.stack.pop()
            if self.line_depth is not None and len(self.stack) == self.line_depth:
                self.line_of = self.line_depth = None
            if open_tag == tag:
                break
    def handle_data(self, data):
        if self.line_of is not None:
            self.rows[self.line_of]["text"] += data

dom = Dom()
dom.feed(open(dom_path).read())
failures = []
def label(t):
    plain = "Task-%d" % t["id"]
    return plain if t["name"] in ("", plain) else "%s (%s)" % (t["name"], plain)
for t in tasks:
    row = dom.rows.get(t["id"])
    if row is None or not row["in_tree"]:
        failures.append("task %s has no row in #tree" % label(t))
    elif label(t) not in row["text"]:
        failures.append("the row of task %d does not name it %r: %r" % (t["id"], label(t), row["text"]))
    if t["id"] not in dom.bars:
        failures.append("task %s has no bar in #timeline" % label(t))
locks = [t for t in tasks if t["state"] == "waiting" and (t.get("awaiting") or {}).get("kind") == "sync"
         and t["awaiting"].get("held_by") is not None]
if not locks:
    failures.append("no task awaits a lock held by another task: the target shows no lock")
for t in locks:
    holder = t["awaiting"]["held_by"]
    row = dom.rows.get(t["id"], {"links": [], "text": ""})
    if "#task-%d" % holder not in row["links"]:
        failures.append("%s awaits a lock held by Task-%d, but its row has no link to #task-%d (links: %s)"
                        % (label(t), holder, holder, row["links"]))
    elif holder in alive and "held by" not in row["text"]:
        failures.append("%s: its row does not say who holds the lock: %r" % (label(t), row["text"]))
# Each await cycle of the snapshot the page shows is listed, with a link to each of its tasks.
cycles = json.loads(urllib.request.urlopen(url + "cycles.json", timeout=5).read())
if cycles["taken_ns"] == after["taken_ns"]:
    listed = open(dom_path).read()
    listed = listed[listed.index('id="cycles"'):listed.index('id="tree"')]
    for cycle in cycles["cycles"]:
        if not all('href="#task-%d"' % i in listed for i in cycle):
            failures.append("the cycle %s is not listed in #cycles with links to its tasks" % cycle)
if failures:
    print("inspect-web.sh: the page is wrong:", *failures, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print("inspect-web.sh: the page shows %d tasks in the tree and the timeline, and %d lock wait(s) linked to the holder"
      % (len(tasks), len(locks)), file=sys.stderr)
PY

# --- The filter: `?filter=NAME` (a lock waiter's) keeps the rows that match and those above ---
python3 - "$work/before.json" >"$work/filter.txt" <<'PY'
import json, sys
snapshot = json.load(open(sys.argv[1]))
by_id = {t["id"]: t for t in snapshot["tasks"]}
def chain(task):
    """The task and the runners above it."""
    ids = []
    while task is not None and task["id"] not in ids:
        ids.append(task["id"])
        owner = task["owner"]
        task = by_id.get(owner.get("runner")) if owner["kind"] == "group" else None
    return ids
waiter = next(t for t in snapshot["tasks"] if (t.get("awaiting") or {}).get("held_by") is not None)
text = waiter["name"].lower()
def matches(t):
    where = "%s:%d:%d" % (t["created_at"]["file"], t["created_at"]["line"], t["created_at"]["column"])
    return any(text in s.lower() for s in (t["name"], "Task-%d" % t["id"], str(t["id"]), where))
allowed = sorted({i for t in snapshot["tasks"] if matches(t) for i in chain(t)})
print(waiter["name"])
print(*chain(waiter))
print(*allowed)
PY
{ read -r name; read -r wanted; read -r allowed; } <"$work/filter.txt"
query=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$name")
chromium --dump-dom "${url}?filter=$query" >"$work/filtered.html"
python3 - "$work/filtered.html" "$name" "$wanted" "$allowed" <<'PY'
import re, sys
dom, name = open(sys.argv[1]).read(), sys.argv[2]
wanted, allowed = ({int(i) for i in arg.split()} for arg in sys.argv[3:5])
tree = dom[dom.index('id="tree"'):dom.index('id="timeline"')]
rows = {int(i) for i in re.findall(r'id="task-(\d+)"', tree)}
if not wanted <= rows or not rows <= allowed:
    sys.exit("inspect-web.sh: filtering on %r shows rows %s; wanted at least %s, at most %s"
             % (name, sorted(rows), sorted(wanted), sorted(allowed)))
print("inspect-web.sh: filtering on %r shows rows %s only" % (name, sorted(rows)), file=sys.stderr)
PY

# --- A screenshot, kept as an artifact -------------------------------------------------------
mkdir -p target/artifacts
shot="$PWD/target/artifacts/inspect-web.png"
rm -f "$shot"
chromium --screenshot="$shot" --window-size=1400,900 "$url" >/dev/null || true
[[ -s $shot ]] || { log "no screenshot was written"; tail -20 "$work/chromium.err" >&2; exit 1; }
log "screenshot: $shot"
