#!/usr/bin/env bash
# scopewatch and urlwatch 2.29 side by side on the same work: a loopback
# server with N offering pages (made from snapshots/), three rounds each:
#   1. first run   2. nothing changed (conditional GET)   3. every page changed
# Reports wall time, CPU time (user + system) and peak RSS for both, each the
# median of REPEAT repetitions from empty state (single runs of a few tens of
# milliseconds vary by a third), and the ratios of the medians. Touches only
# 127.0.0.1; the page server stops by itself.
#
#   benches/compare-urlwatch.sh                     # N = 10, 100, 1000; 5 repetitions
#   SIZES="100" REPEAT=3 benches/compare-urlwatch.sh
#   SCOPEWATCH=/path/to/other/scopewatch benches/compare-urlwatch.sh   # another build, e.g. a before/after
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZES=${SIZES:-"10 100 1000"}
REPEAT=${REPEAT:-5}
WORK=$(mktemp -d)
PORT=${PORT:-18473}
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "setting up urlwatch 2.29 in a virtual environment and building scopewatch and the page server ..." >&2
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check urlwatch==2.29
cargo build --release --quiet --example pages_server
if [ -z "${SCOPEWATCH:-}" ]; then
  cargo build --release --quiet
  SCOPEWATCH="$ROOT/target/release/scopewatch"
fi
URLWATCH="$WORK/venv/bin/urlwatch"

# Writes the pages of a round, flushes them to disk, then requests each
# once, untimed: the server reads a changed file and builds its response on
# the first request, and the first fsync after the pages were written (one
# tool's, when it commits) flushes the 1,000 new files with it; whichever
# tool ran first would pay for both (about 30 ms and 10 ms for 1,000 pages).
make_pages() { # n round
  "$ROOT/benches/make-pages.sh" "$1" "$2" "$WORK/pages"
  sync
  python3 - "$PORT" "$1" <<'PY'
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port)
for i in range(n):
    conn.request("GET", f"/offering-{i}.html")
    conn.getresponse().read()
PY
}

# Measures one command: prints "wall cpu rss_kb". Wall time is taken to the
# millisecond (time(1) rounds to 10 ms, too coarse for the fastest rounds).
measure() {
  local start end
  start=$(date +%s%N)
  /usr/bin/time -f '%U %S %M' -o "$WORK/usage" "$@" > /dev/null 2> "$WORK/stderr" || true
  end=$(date +%s%N)
  tail -n 1 "$WORK/usage" | awk -v ns=$((end - start)) '{ printf "%.3f %.2f %d\n", ns / 1e9, $1 + $2, $3 }'
}

# As measure, for scopewatch: a failed run is no measurement, so it stops the
# script (a round with every page stored exits 0).
measure_scopewatch() {
  measure "$SCOPEWATCH" --config "$WORK/sw/scopewatch.toml" run --quiet
  if grep -q 'exited with non-zero status' "$WORK/usage"; then
    echo "scopewatch failed:" >&2
    cat "$WORK/stderr" >&2
    exit 1
  fi
}

# One repetition of the three rounds for N pages, from empty state; appends
# "n round sw_wall sw_cpu sw_rss uw_wall uw_cpu uw_rss" lines to $WORK/raw.
repetition() { # n
  local n=$1 round
  rm -rf "$WORK/sw" "$WORK/uw"; mkdir -p "$WORK/sw" "$WORK/uw"
  make_pages "$n" 1
  # Equal footing: six requests at once (urlwatch's default), no pause between them.
  "$ROOT/benches/job-config.sh" "$n" "$PORT" "$WORK/sw/sw.db" > "$WORK/sw/scopewatch.toml"
  for ((i = 0; i < n; i++)); do
    printf 'name: offering-%d\nurl: http://127.0.0.1:%d/offering-%d.html\n---\n' "$i" "$PORT" "$i"
  done > "$WORK/uw/urls.yaml"
  local uw=("$URLWATCH" --urls "$WORK/uw/urls.yaml" --config "$WORK/uw/urlwatch.yaml" --cache "$WORK/uw/cache.db")
  "${uw[@]}" --list > /dev/null 2>&1 || true   # writes urlwatch's default configuration
  for round in 1 2 3; do
    [ "$round" = 3 ] && { sleep 1; make_pages "$n" 3; }
    local sw
    sw=$(measure_scopewatch)
    echo "$n $round $sw $(measure "${uw[@]}")" >> "$WORK/raw"
  done
}

mkdir -p "$WORK/pages"
"$ROOT/target/release/examples/pages_server" --dir "$WORK/pages" --port "$PORT" --lifetime 3600 &
SERVER=$!
sleep 1
for n in $SIZES; do
  for ((rep = 1; rep <= REPEAT; rep++)); do
    echo "N = $n, repetition $rep of $REPEAT ..." >&2
    repetition "$n"
  done
done

# The median of each measure over the repetitions, and the ratios of medians.
python3 - "$WORK/raw" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    n, r, *values = line.split()
    rows.setdefault((int(n), int(r)), []).append([float(v) for v in values])
print("| N | round | scopewatch wall s | urlwatch wall s | wall ratio | scopewatch CPU s | urlwatch CPU s | scopewatch peak RSS MB | urlwatch peak RSS MB | RSS ratio |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (n, r), reps in sorted(rows.items()):
    sw_wall, sw_cpu, sw_rss, uw_wall, uw_cpu, uw_rss = (statistics.median(c) for c in zip(*reps))
    print(f"| {n} | {r} | {sw_wall:.3f} | {uw_wall:.3f} | {uw_wall / sw_wall:.1f}x | {sw_cpu:.2f} | {uw_cpu:.2f} "
          f"| {sw_rss / 1024:.1f} | {uw_rss / 1024:.1f} | {sw_rss / uw_rss:.2f} |")
PY
