#!/usr/bin/env bash
# Runs the whole Salus test suite (installing what is missing first).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/lib/fhir_validator.sh
source scripts/lib/browser.sh
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi
# The contracts' own unit tests (their workspace is separate; here they run on the host).
cargo test --manifest-path contracts/Cargo.toml --workspace --lib --quiet
