#!/usr/bin/env bash
# Fuzz campaign: build every target (stable toolchain, libFuzzer through libfuzzer-sys; see
# docs/FUZZING.md), then run each one for SECONDS (or until 10 million executions), one at a
# time, under `nice -n 19`, and print per target: executions, coverage (libFuzzer's `cov`, edges,
# and `ft`, features), corpus size and crashes.
#
#   fuzz/run.sh SECONDS [TARGET...]      a campaign (default: every target)
#   fuzz/run.sh --smoke [SECONDS]        tests/run.sh's step: every target builds and runs
#                                        SECONDS (default 3) from the committed seeds only
#
# The growing corpus lives in fuzz/target/corpus/<target> (not committed); the committed seeds
# are fuzz/corpus/<target>; inputs the licence keeps out of the repository (tests/fixtures/
# greenriver, ../shared/testdata) are copied at run time into fuzz/target/seeds/<target>. A crash
# leaves its input in fuzz/artifacts/<target>/ and makes the script exit 1.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$here"

smoke=0
if [[ "${1:-}" == "--smoke" ]]; then
    smoke=1
    shift
    secs="${1:-3}"
    [[ $# -gt 0 ]] && shift
else
    secs="${1:?usage: fuzz/run.sh SECONDS [TARGET...] | fuzz/run.sh --smoke [SECONDS]}"
    shift
fi
max_runs="${FUZZ_MAX_RUNS:-10000000}"

all_targets=(barcode keys frame import_export import_project import_client import_enrollment
    import_exit import_services import_zip config web_json upstream_response export_clienttrack
    export_hud)
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all_targets[@]}")

# libfuzzer-sys builds libFuzzer from C++ source: it needs a C++ compiler.
if ! command -v c++ >/dev/null 2>&1; then
    echo "fuzz/run.sh: installing g++ (libfuzzer-sys compiles libFuzzer) with apt-get"
    apt-get install -y g++ >/dev/null
fi

export CARGO_INCREMENTAL=0
build_start=$(date +%s)
# Not --locked: fuzz/Cargo.lock follows the main crate, whose dependencies other work changes.
nice -n 19 cargo build --release --bins
echo "fuzz/run.sh: build took $(( $(date +%s) - build_start )) s"
bin="$here/target/x86_64-unknown-linux-gnu/release"

# Run-time seeds: files of the target's name from the fixtures whose licence keeps them out of
# fuzz/corpus (small ones: libFuzzer's inputs are kept under 64 KiB anyway).
seed_file_of() {
    case "$1" in
        import_export) echo Export.csv ;; import_project) echo Project.csv ;;
        import_client) echo Client.csv ;; import_enrollment) echo Enrollment.csv ;;
        import_exit) echo Exit.csv ;; import_services) echo Services.csv ;;
        import_zip) echo '*.zip' ;; *) echo "" ;;
    esac
}
run_seeds() {
    local target="$1" dir="$here/target/seeds/$1" name
    name="$(seed_file_of "$target")"
    [[ -z "$name" ]] && return 0
    mkdir -p "$dir"
    local n=0
    for src in "$root/tests/fixtures/greenriver" "$root/../shared/testdata/hmis-csv"; do
        [[ -d "$src" ]] || continue
        while IFS= read -r -d '' f; do
            n=$((n + 1))
            cp "$f" "$dir/$(echo "$f" | md5sum | cut -c1-12)-$(basename "$f")"
        done < <(find "$src" -iname "$name" -size -2048k -print0)
    done
    [[ $n -gt 0 ]] && echo "$dir"
    return 0
}

report="$here/target/campaign.tsv"
[[ -f "$report" ]] || printf 'date\ttarget\tseconds\texecs\tcov\tft\tcorpus\tcrashes\n' > "$report"
printf '%-20s %8s %12s %8s %8s %8s %s\n' target seconds execs cov ft corpus crashes
failed=0
for t in "${targets[@]}"; do
    work="$here/target/corpus/$t"
    # The smoke run starts from the committed seeds only (a campaign's grown corpus would take
    # longer to load than the smoke run lasts).
    [[ $smoke -eq 1 ]] && work="$here/target/smoke-corpus/$t" && rm -rf "$work"
    art="$here/artifacts/$t"
    mkdir -p "$work" "$art"
    dirs=("$work")
    [[ -d "$here/corpus/$t" ]] && dirs+=("$here/corpus/$t")
    if [[ $smoke -eq 0 ]]; then
        extra="$(run_seeds "$t")"
        [[ -n "$extra" ]] && dirs+=("$extra")
    fi
    log="$here/target/$t.log"
    start=$(date +%s)
    rc=0
    nice -n 19 "$bin/$t" -max_total_time="$secs" -runs="$max_runs" -max_len=65536 \
        -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
        "${dirs[@]}" >"$log" 2>&1 || rc=$?
    took=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
    ft=$(echo "$last" | grep -o 'ft: [0-9]*' | awk '{print $2}')
    corp=$(echo "$last" | grep -o 'corp: [0-9]*' | awk '{print $2}')
    crashes=$(find "$art" -type f | wc -l)
    if [[ $rc -ne 0 ]]; then
        failed=1
        [[ -z "$execs" ]] && execs=$(echo "$last" | grep -o '^#[0-9]*' | tr -d '#')
        echo "fuzz/run.sh: $t stopped (exit $rc); see $log:" >&2
        grep -E "panicked|ERROR|SUMMARY|Test unit written" "$log" | head -5 >&2 || true
    fi
    printf '%-20s %8s %12s %8s %8s %8s %s\n' "$t" "$took" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
        "${corp:-?}" "$crashes"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$took" "${execs:-?}" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" >> "$report"
done
exit $failed
