#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this): formatting and lints first (cheap,
# and they fail fast), then every test from one build. Installs the system packages the tests
# need when they are missing (apt-get; needs root), and says so.
#
# The test binaries run one after another (cargo test); inside each, tests run in parallel.
# The suite's tests take about a minute on a 2-core machine, most of it the browser tests, so
# running binaries side by side (cargo nextest) would save seconds, not minutes, and is not on
# every machine.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have chromium || need+=(chromium)
have chromedriver || need+=(chromium-driver)
have certutil || need+=(libnss3-tools)
have mkfs.ext4 || need+=(e2fsprogs)   # tests/disk_faults.rs: a loop-mounted ext4 image
have c++ || need+=(g++)               # fuzz/: libfuzzer-sys compiles libFuzzer
if [ ${#need[@]} -gt 0 ]; then
    echo "tests/run.sh: installing test packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

export CARGO_TERM_COLOR=never
step() { echo "tests/run.sh: $*"; }
elapsed() { echo "tests/run.sh: ... $1 took $(( SECONDS - $2 )) s"; }

t=$SECONDS
step "formatting (cargo fmt --check)"
cargo fmt --check
step "lints (cargo clippy --all-targets --locked -- -D warnings)"
cargo clippy --all-targets --locked -- -D warnings
elapsed "fmt and clippy" "$t"

t=$SECONDS
step "building every test binary once"
cargo test --locked --lib --bins --tests --no-run
elapsed "the build" "$t"

t=$SECONDS
step "unit and integration tests"
cargo test --locked --lib --bins --tests
elapsed "the tests" "$t"

t=$SECONDS
step "fuzz smoke run (fuzz/run.sh --smoke: every target builds and runs 3 s; docs/FUZZING.md)"
bash fuzz/run.sh --smoke 3
elapsed "the fuzz smoke run" "$t"

if [ -x tests/package/run.sh ] && [ "${SCANSTATION_SKIP_PACKAGE_TEST:-0}" != 1 ]; then
    step "package test (.deb in a booted systemd container)"
    tests/package/run.sh
fi
step "all tests passed (${SECONDS} s)"
