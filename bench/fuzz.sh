#!/usr/bin/env bash
# Fuzzes the config parser and the daemon's request decoding with
# cargo-fuzz (libFuzzer), a million inputs per target unless told
# otherwise, from the seeds in fuzz/corpus/TARGET (never written to: new
# inputs go to a scratch folder). A crash stops the run and is saved under
# fuzz/artifacts/TARGET/.
# Needs the nightly toolchain and cargo-fuzz: cargo install cargo-fuzz.
# Usage: bench/fuzz.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000000}
for target in config requests; do
  scratch=$(mktemp -d /tmp/harness-fuzz.XXXXXX)
  echo "== fuzz $target: $runs inputs"
  start=${EPOCHREALTIME/./}
  cargo +nightly fuzz run "$target" "$scratch" "fuzz/corpus/$target" -- \
    -runs="$runs" -max_len=65536 -timeout=10 -print_final_stats=1 2>&1 |
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)|SUMMARY|panicked|ERROR' || true
  end=${EPOCHREALTIME/./}
  python3 -c "print(f'$target: {($end-$start)/1e6:.0f} s, corpus grew to', len(__import__('os').listdir('$scratch')), 'inputs')"
  rm -rf "$scratch"
done
