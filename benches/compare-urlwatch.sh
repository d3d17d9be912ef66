#!/usr/bin/env bash
# scopewatch and urlwatch 2.29 side by side on the same work: a loopback
# server with N offering pages (made from snapshots/), three rounds each:
#   1. first run   2. nothing changed (conditional GET)   3. every page changed
# Reports wall time, CPU time (user + system) and peak RSS for both, and the
# ratios. Touches only 127.0.0.1; the page server stops by itself.
#
#   benches/compare-urlwatch.sh            # N = 10, 100, 1000
#   SIZES="100" benches/compare-urlwatch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZES=${SIZES:-"10 100 1000"}
WORK=$(mktemp -d)
PORT=${PORT:-18473}
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "setting up urlwatch 2.29 in a virtual environment and building scopewatch ..." >&2
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check urlwatch==2.29
cargo build --release --quiet
SCOPEWATCH="$ROOT/target/release/scopewatch"
URLWATCH="$WORK/venv/bin/urlwatch"

make_pages() { # n round
  "$ROOT/benches/make-pages.sh" "$1" "$2" "$WORK/pages"
}

# Measures one command: prints "wall cpu rss_kb". Wall time is taken to the
# millisecond (time(1) rounds to 10 ms, too coarse for the fastest rounds).
measure() {
  local start end
  start=$(date +%s%N)
  /usr/bin/time -f '%U %S %M' -o "$WORK/usage" "$@" > /dev/null 2>&1 || true
  end=$(date +%s%N)
  tail -n 1 "$WORK/usage" | awk -v ns=$((end - start)) '{ printf "%.3f %.2f %d\n", ns / 1e9, $1 + $2, $3 }'
}

printf '| N | round | scopewatch wall s | urlwatch wall s | wall ratio | scopewatch CPU s | urlwatch CPU s | scopewatch peak RSS MB | urlwatch peak RSS MB | RSS ratio |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for n in $SIZES; do
  rm -rf "$WORK/pages" "$WORK/sw" "$WORK/uw"; mkdir -p "$WORK/sw" "$WORK/uw"
  make_pages "$n" 1
  python3 "$ROOT/benches/pages_server.py" --dir "$WORK/pages" --port "$PORT" --lifetime 1800 &
  SERVER=$!
  sleep 1
  # Equal footing: six requests at once (urlwatch's default), no pause between them.
  {
    printf 'database = "%s"\n[fetch]\nper_host_concurrency = 6\nper_host_delay_ms = 0\n' "$WORK/sw/sw.db"
    for ((i = 0; i < n; i++)); do
      printf '[[source]]\nid = "offering-%d"\nurl = "http://127.0.0.1:%d/offering-%d.html"\n' "$i" "$PORT" "$i"
    done
  } > "$WORK/sw/scopewatch.toml"
  for ((i = 0; i < n; i++)); do
    printf 'name: offering-%d\nurl: http://127.0.0.1:%d/offering-%d.html\n---\n' "$i" "$PORT" "$i"
  done > "$WORK/uw/urls.yaml"
  UW=("$URLWATCH" --urls "$WORK/uw/urls.yaml" --config "$WORK/uw/urlwatch.yaml" --cache "$WORK/uw/cache.db")
  "${UW[@]}" --list > /dev/null 2>&1 || true   # writes urlwatch's default configuration
  for round in 1 2 3; do
    [ "$round" = 3 ] && { sleep 1; make_pages "$n" 3; }
    read -r sw_wall sw_cpu sw_rss < <(measure "$SCOPEWATCH" --config "$WORK/sw/scopewatch.toml" run --quiet)
    read -r uw_wall uw_cpu uw_rss < <(measure "${UW[@]}")
    awk -v n="$n" -v r="$round" -v sw="$sw_wall" -v uw="$uw_wall" -v swc="$sw_cpu" -v uwc="$uw_cpu" -v swr="$sw_rss" -v uwr="$uw_rss" \
      'BEGIN { printf "| %d | %d | %.3f | %.3f | %.1fx | %.2f | %.2f | %.1f | %.1f | %.2f |\n", n, r, sw, uw, (sw > 0 ? uw / sw : 0), swc, uwc, swr / 1024, uwr / 1024, (uwr > 0 ? swr / uwr : 0) }'
  done
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
done
