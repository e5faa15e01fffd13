#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this). Installs the system packages the tests
# need when they are missing (apt-get; needs root), says so, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have chromium || need+=(chromium)
have chromedriver || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
    echo "tests/run.sh: installing test packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

export CARGO_TERM_COLOR=never
echo "tests/run.sh: unit and integration tests"
cargo test --locked --lib --bins --tests
if [ -x tests/package/run.sh ] && [ "${SCANSTATION_SKIP_PACKAGE_TEST:-0}" != 1 ]; then
    echo "tests/run.sh: package test (.deb in a booted systemd container)"
    tests/package/run.sh
fi
echo "tests/run.sh: all tests passed"
