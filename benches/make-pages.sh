#!/usr/bin/env bash
# Writes N offering pages for the loopback benchmarks into DIR: the demo's
# HTML versions (snapshots/) in turn, each titled with its number. In round 3
# every page lists one service more than in rounds 1 and 2.
#
#   benches/make-pages.sh N ROUND DIR
set -euo pipefail
n=$1 round=$2 dir=$3
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$dir"
mapfile -t templates < <(ls "$root"/snapshots/*/*.html)
for ((i = 0; i < n; i++)); do
  t=${templates[$((i % ${#templates[@]}))]}
  extra=""
  [ "$round" = 3 ] && extra="<li>Service added in round three $i</li>"
  sed -e "s|</h1>| $i</h1>|" -e "s|<ul>|<ul>$extra|" "$t" > "$dir/offering-$i.html"
done
