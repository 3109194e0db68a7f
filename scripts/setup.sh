#!/usr/bin/env bash
# Installs what a fresh machine lacks for building Salus, and points cargo at a target directory
# shared by every checkout (sessions and CI reuse one incremental build). Sourced by the other
# scripts.
set -euo pipefail

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is not installed: install Rust with rustup first" >&2
    exit 1
fi

# install_package PACKAGE PURPOSE: installs a Debian package, with sudo unless root.
install_package() {
    echo "setup: installing $1 (for $2)" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "$1" >/dev/null
}

# RocksDB's bindings are generated with bindgen, which needs libclang's unversioned shared
# library (`libclang.so` or `libclang-N.so`, from libclang-dev); `libclang-cpp.so` or a versioned
# `libclang-N.so.M` alone is not enough.
# (grep without -q reads all its input: with -q it may exit early, and under pipefail the
# writer's SIGPIPE would make an installed library look missing.)
if ! ldconfig -p 2>/dev/null | grep -E 'libclang(-[0-9.]+)?\.so ' >/dev/null; then
    install_package libclang-dev "the RocksDB bindings"
fi

# jemalloc (the node's allocator) is built from C source with make.
if ! command -v make >/dev/null 2>&1; then
    install_package make "jemalloc"
fi

# rust-toolchain.toml names the wasm target; rustup installs it on first use, but say so early.
if ! rustup target list --installed 2>/dev/null | grep '^wasm32-unknown-unknown$' >/dev/null; then
    echo "setup: adding the wasm32-unknown-unknown target" >&2
    rustup target add wasm32-unknown-unknown >&2
fi

# One target directory outside the work tree, shared across checkouts, unless the caller chose.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/salus/target}"
mkdir -p "$CARGO_TARGET_DIR"
