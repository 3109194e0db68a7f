#!/usr/bin/env bash
# The chaos suite's long run (docs/RELIABILITY.md): four `salus dev` nodes on loopback under a
# steady load of signed transfers through ROUNDS seeded random fault rounds (kill -9, partitions,
# a full disk, a corrupted RocksDB file), checked after every round. The same test as CI's lean
# run (node/tests/it/chaos.rs), with more rounds. Needs root (or CAP_SYS_ADMIN) for the tmpfs.
#
# Usage: scripts/chaos.sh [ROUNDS (default 30)] [SEED (hex; default: a fresh one, printed)]
# The report (Markdown) goes to $SALUS_CHAOS_REPORT (default target/chaos-report.md under the
# shared target directory); SALUS_CHAOS_KEEP=1 keeps the nodes' directories and logs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

export SALUS_CHAOS_ROUNDS="${1:-30}"
if [ -n "${2:-}" ]; then
    export SALUS_CHAOS_SEED="$2"
fi
export SALUS_CHAOS_REPORT="${SALUS_CHAOS_REPORT:-${CARGO_TARGET_DIR:-target}/chaos-report.md}"

# The test unmounts its tmpfs when it ends, even on failure; a run killed outright cannot, so
# every tmpfs of a chaos run whose process is gone is unmounted on the way out.
unmount_leftovers() {
    awk '$1 ~ /^salus-chaos-[0-9]+$/ {print $1, $2}' /proc/mounts | while read -r source mount; do
        if [ ! -d "/proc/${source#salus-chaos-}" ]; then
            umount "$mount" 2>/dev/null || umount -l "$mount" || true
        fi
    done
}

# The nodes run a copy of the binary: a rebuild during the run does not change them.
binary_dir="$(mktemp -d)"
clean_up() {
    unmount_leftovers
    rm -rf "$binary_dir"
}
trap clean_up EXIT
cargo build -p salus-node --bin salus
cp "${CARGO_TARGET_DIR:-target}/debug/salus" "$binary_dir/salus"
export SALUS_CHAOS_BIN="$binary_dir/salus"
cargo nextest run -p salus-node --no-capture -E 'test(chaos_rounds)'
echo "report: $SALUS_CHAOS_REPORT"
