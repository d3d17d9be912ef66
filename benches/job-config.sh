#!/usr/bin/env bash
# Prints a scopewatch configuration for the N pages of benches/make-pages.sh
# served on 127.0.0.1:PORT, with the history in DB. Six requests at once (as
# urlwatch makes by default) and no pause between them.
#
#   benches/job-config.sh N PORT DB > scopewatch.toml
set -euo pipefail
n=$1 port=$2 db=$3
printf 'database = "%s"\n[fetch]\nper_host_concurrency = 6\nper_host_delay_ms = 0\n' "$db"
for ((i = 0; i < n; i++)); do
  printf '[[source]]\nid = "offering-%d"\nurl = "http://127.0.0.1:%d/offering-%d.html"\n' "$i" "$port" "$i"
done
