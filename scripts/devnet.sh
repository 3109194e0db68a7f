#!/usr/bin/env bash
# Starts N local `salus dev` nodes (default 3) joined over libp2p on loopback: node 0 mines a
# block every second, the others follow it by gossip and sync; each node dials every node
# started before it. Each node's data, log and
# addresses are under $DEVNET_DIR (default ./devnet). Ctrl-C stops them all.
#
#   scripts/devnet.sh 3
#   curl -s -X POST -H 'content-type: application/json' \
#     -d '{"jsonrpc":"2.0","id":1,"method":"net_peers","params":[]}' http://127.0.0.1:8661
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
count="${1:-3}"
if ! [[ "$count" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/devnet.sh [NODES]   (a positive number, default 3)" >&2
    exit 2
fi
dir="${DEVNET_DIR:-devnet}"
base_rpc_port="${DEVNET_RPC_PORT:-8660}"
base_p2p_port="${DEVNET_P2P_PORT:-30400}"
cargo build --bin salus
salus="$CARGO_TARGET_DIR/debug/salus"
mkdir -p "$dir"

pids=()
stop() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop EXIT INT TERM

bootnodes=()
for ((i = 0; i < count; i++)); do
    node_dir="$dir/node$i"
    mkdir -p "$node_dir"
    rpc="127.0.0.1:$((base_rpc_port + i))"
    p2p="/ip4/127.0.0.1/tcp/$((base_p2p_port + i))"
    args=(dev --data-dir "$node_dir/data" --rpc-addr "$rpc" --p2p-listen "$p2p")
    if ((i == 0)); then
        args+=(--block-time-ms 1000)
    else
        args+=(--block-time-ms 0)
        for bootnode in "${bootnodes[@]}"; do args+=(--bootnode "$bootnode"); done
    fi
    "$salus" "${args[@]}" >"$node_dir/out.log" 2>&1 &
    pids+=("$!")
    # Wait (with a deadline) for the node to print its peer-to-peer address.
    address=""
    for _ in $(seq 1 600); do
        address="$(grep -m1 '^P2P: ' "$node_dir/out.log" | cut -d' ' -f2 || true)"
        [[ -n "$address" ]] && break
        if ! kill -0 "${pids[-1]}" 2>/dev/null; then
            echo "node $i exited; see $node_dir/out.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    if [[ -z "$address" ]]; then
        echo "node $i did not start within 60 s; see $node_dir/out.log" >&2
        exit 1
    fi
    bootnodes+=("$address")
    echo "node $i  RPC http://$rpc  P2P $address  log $node_dir/out.log"
done
echo "devnet of $count nodes running; Ctrl-C stops it"
wait
