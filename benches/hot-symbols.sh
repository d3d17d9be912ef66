#!/usr/bin/env bash
# Remakes benches/hot-symbols.txt: the functions of the release binary that a
# nightly run executes, most executed first. build.rs has the linker place
# them first and together, so a run maps ~3 MB of code rather than ~8 MB
# (see build.rs). Rerun after upgrading rustc or dependencies, whose symbol
# names then change, and after adding or renaming hot functions; a stale list
# is harmless but saves less.
#
# Runs the job on 100 loopback pages, three rounds (first run, nothing
# changed, every page changed), under valgrind's callgrind, which sees every
# function called, however briefly. Installs valgrind if missing.
#
#   benches/hot-symbols.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT=${PORT:-18474}
WORK=$(mktemp -d)
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

if ! command -v valgrind >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null
fi
cargo build --release --quiet
BIN="$ROOT/target/release/scopewatch"

N=100
benches/make-pages.sh "$N" 1 "$WORK/pages"
python3 benches/pages_server.py --dir "$WORK/pages" --port "$PORT" --lifetime 900 &
SERVER=$!
sleep 1
benches/job-config.sh "$N" "$PORT" "$WORK/job.db" > "$WORK/scopewatch.toml"
for round in 1 2 3; do
  [ "$round" = 3 ] && { sleep 1; benches/make-pages.sh "$N" 3 "$WORK/pages"; }
  valgrind --tool=callgrind --demangle=no --compress-strings=no --compress-pos=no \
    --callgrind-out-file="$WORK/round-$round.out" \
    "$BIN" --config "$WORK/scopewatch.toml" run --quiet > /dev/null 2> "$WORK/round-$round.log"
done

python3 - "$BIN" benches/hot-symbols.txt "$WORK"/round-*.out <<'PY'
"""Sums each function's own cost over the callgrind outputs, keeps those of
the binary (by `ob=`), and writes them most costly first."""
import collections, re, subprocess, sys

binary, out, files = sys.argv[1], sys.argv[2], sys.argv[3:]
cost = collections.Counter()
for path in files:
    ours = False
    fn = None
    call_line = False
    for line in open(path, errors="replace"):
        if line.startswith("ob="):
            ours = line[3:].strip() == binary
        elif line.startswith("fn="):
            # callgrind marks recursion depth with a 'N suffix.
            fn = re.sub(r"'\d+$", "", line[3:].strip()) if ours else None
            if fn:
                cost[fn] += 0
        elif line.startswith("calls="):
            call_line = True  # the next cost line is the call's, not fn's own
        elif fn and line[:1].isdigit():
            if call_line:
                call_line = False
            else:
                fields = line.split()
                cost[fn] += int(fields[1]) if len(fields) > 1 else 0
defined = set()
nm = subprocess.run(["nm", binary], capture_output=True, text=True, check=True)
for line in nm.stdout.splitlines():
    fields = line.split()
    if len(fields) == 3 and fields[1] in "tTwW":
        defined.add(fields[2])
hot = sorted((f for f in cost if f in defined), key=lambda f: (-cost[f], f))
with open(out, "w") as o:
    o.write("".join(f + "\n" for f in hot))
print(f"{len(hot)} functions written to {out}", file=sys.stderr)
PY
