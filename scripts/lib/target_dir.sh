# Housekeeping of the shared cargo target directory, sourced by scripts/setup.sh (and tested by
# node/tests/setup_script.rs).

# prune_incremental TARGET_DIR LIMIT_GIB: drops TARGET_DIR/debug/incremental when it holds more
# than LIMIT_GIB GiB (rounded up). Cargo never collects these caches, so a target directory shared
# by many checkouts grows without bound; dependencies' artifacts are untouched, and the
# workspace's own crates compile once from scratch afterwards.
prune_incremental() {
    local incremental="$1/debug/incremental"
    local limit="$2"
    [ -d "$incremental" ] || return 0
    local size
    size="$(du -s --block-size=1G "$incremental" | cut -f1)"
    if [ "$size" -gt "$limit" ]; then
        echo "setup: dropping $incremental (${size} GiB, over ${limit} GiB)" >&2
        rm -rf "$incremental"
    fi
}
