#!/usr/bin/env bash
# Every benchmark, in release mode; each prints its figures against its target.
# Usage: bash benches/run.sh [NAME...]   (default: all [[bench]] entries in Cargo.toml)
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
    echo "=== bench: $name"
    cargo bench --locked --bench "$name"
done
