#!/usr/bin/env bash
# Every benchmark, in release mode; each prints its figures against its target.
# Usage: bash benches/run.sh [NAME...]   (default: all [[bench]] entries in Cargo.toml)
# The scale benchmark generates its 100k and 1M exports once into target/bench-data (about 600 MiB
# of CSV for the million) and reuses them; the whole run takes about half an hour on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sqlite3 >/dev/null 2>&1 || {
    echo "benches/run.sh: installing sqlite3 (the import benchmark compares with it)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null
}
if [ $# -gt 0 ]; then
    names=("$@")
else
    mapfile -t names < <(awk '/^\[\[bench\]\]/{b=1; next} b && /^name *=/{gsub(/[" ]/,"",$0); sub(/name=/,"",$0); print; b=0}' Cargo.toml)
fi
for name in "${names[@]}"; do
    if [ "$name" = import ]; then
        # Import speed at 100k and 1M clients: the ratio to sqlite3 should stay flat.
        for n in ${SCANSTATION_BENCH_IMPORT_SIZES:-100000 1000000}; do
            echo "=== bench: import, $n clients"
            SCANSTATION_BENCH_CLIENTS=$n cargo bench --locked --bench import
        done
        continue
    fi
    echo "=== bench: $name"
    cargo bench --locked --bench "$name"
done
