#!/usr/bin/env bash
# Runs one cargo-fuzz target for a while: scripts/fuzz.sh TARGET SECONDS [libFuzzer options…]
#
# Targets: transaction, block, abi_codec (light: no wasmtime, no RocksDB), wasm_module,
# peer_message and rpc_request (built with the whole node: wasmtime, RocksDB, libp2p). Installs
# cargo-fuzz if missing; needs the nightly toolchain (libFuzzer instrumentation). Builds into
# FUZZ_TARGET_DIR (default ~/.cache/salus/fuzz-target), apart from the stable build, and keeps what libFuzzer finds in
# FUZZ_CORPUS_DIR/TARGET (default ~/.cache/salus/fuzz-corpus/TARGET): the seeds in
# fuzz/corpus/TARGET are read, never written. Crashes land in fuzz/artifacts/TARGET/; reproduce
# one on stable with `cargo run -p salus-fuzz --example reproduce -- TARGET FILE`, and once it is
# fixed copy it to fuzz/corpus/TARGET/regression-<what> so that the replay test keeps checking it.
#
# FUZZ_SANITIZER (default `none`): Salus's crates forbid unsafe code, so AddressSanitizer adds
# little but halves the speed; set `address` to use it anyway. FUZZ_JOBS (default 1) runs that
# many fuzzing processes in parallel.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET SECONDS [libFuzzer options…]" >&2
    echo "targets: $(ls fuzz/fuzz_targets | sed 's/\.rs$//' | tr '\n' ' ')" >&2
    exit 2
fi
target="$1"
seconds="$2"
shift 2
if [ ! -f "fuzz/fuzz_targets/$target.rs" ]; then
    echo "no fuzz target $target (fuzz/fuzz_targets/$target.rs)" >&2
    exit 2
fi

if ! rustup toolchain list | grep '^nightly' >/dev/null; then
    echo "fuzzing needs the nightly toolchain: rustup toolchain install nightly" >&2
    exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

# The heavy targets share one build (`--features node`, which includes `runtime`): building
# `wasm_module` with `runtime` alone would spare RocksDB but compile a second variant of the
# crates the two feature sets share.
features=()
case "$target" in
    wasm_module | peer_message | rpc_request)
        features=(--features node)
        # The node embeds the contracts, built for wasm32 by the toolchain that builds it.
        if ! rustup +nightly target list --installed | grep '^wasm32-unknown-unknown$' >/dev/null; then
            rustup +nightly target add wasm32-unknown-unknown >&2
        fi
        ;;
esac

export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/salus/fuzz-target}"
work_corpus="${FUZZ_CORPUS_DIR:-$HOME/.cache/salus/fuzz-corpus}/$target"
mkdir -p "$CARGO_TARGET_DIR" "$work_corpus" "fuzz/artifacts/$target"

options=(-max_total_time="$seconds" -print_final_stats=1)
if [ -f "fuzz/dictionaries/$target.dict" ]; then
    options+=(-dict="fuzz/dictionaries/$target.dict")
fi
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
    options+=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
fi

log="$CARGO_TARGET_DIR/fuzz-$target.log"
status=0
cargo +nightly fuzz run --fuzz-dir fuzz --sanitizer "${FUZZ_SANITIZER:-none}" "${features[@]}" \
    "$target" "$work_corpus" "fuzz/corpus/$target" -- "${options[@]}" "$@" 2>&1 | tee "$log" ||
    status=$?

# libFuzzer's closing statistics and the coverage it reached.
echo
echo "== $target: $seconds s =="
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
grep -E '^#[0-9]+.*(DONE|pulse|NEW)' "$log" | tail -n 1 || true
echo "corpus: $(find "$work_corpus" -type f | wc -l) inputs in $work_corpus"
if [ "$status" -ne 0 ]; then
    echo "FINDING: the run stopped with status $status; see the artifact named above and $log"
else
    echo "findings: none"
fi
exit "$status"
