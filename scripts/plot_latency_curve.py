#!/usr/bin/env python3
"""Plots the load generator's throughput-latency curve (`--curve --csv FILE`) as a PNG.

Usage: scripts/plot_latency_curve.py docs/bench/curve.csv docs/latency-curve.png
Needs matplotlib (pip install matplotlib).
"""

import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source: str, target: str) -> None:
    runs = defaultdict(list)
    with open(source, newline="") as handle:
        for row in csv.DictReader(handle):
            if row["fraction"] == "max":
                continue
            runs[row["workload"]].append(row)
    if not runs:
        sys.exit(f"{source}: no curve rows (run the load generator with --curve --csv)")

    figure, (throughput, latency) = plt.subplots(1, 2, figsize=(12, 4.8))
    for workload, rows in sorted(runs.items()):
        rows.sort(key=lambda row: float(row["fraction"]))
        offered = [float(row["offered_tps"]) for row in rows]
        included = [float(row["included_tps"]) for row in rows]
        (whole,) = throughput.plot(offered, included, marker="o", label=f"{workload}, whole run")
        # The run's second half, once the pool has filled (CSVs from the fifth slice on).
        steady = [(o, float(row["steady_tps"])) for o, row in zip(offered, rows) if row.get("steady_tps")]
        if steady:
            throughput.plot(
                [o for o, _ in steady],
                [v for _, v in steady],
                marker=".",
                linestyle="--",
                color=whole.get_color(),
                label=f"{workload}, steady state",
            )
        (line,) = latency.plot(
            offered, [float(row["p99_ms"]) for row in rows], marker="o", label=f"{workload} p99"
        )
        latency.plot(
            offered,
            [float(row["p50_ms"]) for row in rows],
            marker=".",
            linestyle="--",
            color=line.get_color(),
            label=f"{workload} p50",
        )
    top = max(max(float(r["offered_tps"]) for r in rows) for rows in runs.values())
    throughput.plot([0, top], [0, top], color="grey", linewidth=0.8, linestyle=":", label="included = offered")
    throughput.set_xlabel("offered tx/s (10, 25, 50, 75, 100, 125 % of the measured maximum)")
    throughput.set_ylabel("included tx/s")
    throughput.set_title("Throughput")
    throughput.legend(fontsize="small")
    throughput.grid(alpha=0.3)
    latency.axhline(1000, color="grey", linewidth=0.8, linestyle=":")
    latency.axhline(2000, color="red", linewidth=0.8, linestyle=":", label="2 block intervals")
    latency.set_xlabel("offered tx/s")
    latency.set_ylabel("submit-to-inclusion latency, ms")
    latency.set_title("Latency (1 s blocks)")
    latency.legend(fontsize="small")
    latency.grid(alpha=0.3)
    figure.suptitle("Salus dev node, 2 cores: offered load vs included throughput and latency")
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    print(f"wrote {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
