"""Draws bench/results/<name>.png from <name>.json (run by bench/bench.py in bench/.venv):
fan-out latency percentiles (WebSocket and SSE) and echo throughput, ssews beside each peer.
A server that failed a scenario gets a "failed" label instead of a bar."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

LABELS = {"ssews": "ssews", "ws": "Node ws/http", "gorilla": "gorilla", "gws": "gws", "pyws": "websockets",
          "nchan": "nchan", "floor": "lws floor", "epoll": "epoll floor"}
ORDER = ["ssews", "floor", "epoll", "ws", "gorilla", "gws", "pyws", "nchan"]


def panel(ax, d, scens, series, ylabel, title):
    """series: [(scenario, metric, label, colour)]; bars grouped by server."""
    med = d["medians"]
    ran = {(r["scenario"], r["peer"]) for r in d["runs"] if not (r.get("error") or "").startswith("skipped")}
    peers = [p for p in ORDER if any((s, p) in ran for s in scens)]
    n = len(series)
    w = 0.8 / max(n, 1)
    for i, (scen, metric, label, colour) in enumerate(series):
        xs, ys, edges = [], [], []
        for x, p in enumerate(peers):
            m = med.get(f"{scen}/{p}")
            if m and metric in m:
                xs.append(x + (i - (n - 1) / 2) * w)
                ys.append(m[metric])
                edges.append("#d62728" if p == "ssews" else "none")
        ax.bar(xs, ys, w, color=colour, edgecolor=edges, linewidth=2)
    for x, p in enumerate(peers):
        if all(not med.get(f"{s}/{p}") for s in scens):
            ax.text(x, 0, "failed", ha="center", va="bottom", color="#d62728", fontsize=10, fontweight="bold")
    ax.set_xticks(list(range(len(peers))))
    ax.set_xticklabels([LABELS[p] for p in peers], rotation=20)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(handles=[Patch(color=c, label=l) for _, _, l, c in series] +
              [Patch(facecolor="white", edgecolor="#d62728", linewidth=2, label="ssews")])
    if not peers:
        ax.text(0.5, 0.5, "not run", ha="center", transform=ax.transAxes)


def main(src, dst):
    d = json.load(open(src))
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.5))
    blues = ("#9ecae1", "#3182bd", "#08519c")
    for ax, scen, title in ((axes[0], "s3_fanout_ws", "WebSocket fan-out"), (axes[1], "s4_fanout_sse", "SSE fan-out")):
        panel(ax, d, [scen], [(scen, k, k[:-3], c) for k, c in zip(("p50_ms", "p99_ms", "max_ms"), blues)],
              "ms until the last subscriber has the message", title + " (lower is better)")
    panel(axes[2], d, ["s2_echo_1", "s2_echo_8"],
          [("s2_echo_1", "msgs_per_s", "1 in flight", "#a1d99b"), ("s2_echo_8", "msgs_per_s", "8 in flight", "#31a354")],
          "echoed messages/s (64 B)", "WebSocket echo (higher is better)")
    m = d["meta"]
    fig.suptitle(f"ssews benchmark, {m['mode']}, {m['when']}, ssews {m['versions'].get('ssews')} — "
                 f"{m['versions'].get('machine')}", fontsize=9)
    fig.tight_layout()
    fig.savefig(dst, dpi=90)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
