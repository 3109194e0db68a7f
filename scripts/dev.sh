#!/usr/bin/env bash
# Builds and starts `salus dev`: a single-node development chain with funded dev accounts.
# Extra arguments go to `salus dev` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --bin salus
exec "$CARGO_TARGET_DIR/debug/salus" dev "$@"
