"""bench.png: time and peak RSS against sessions, both axes logarithmic, the floor beside the Gateway.

matplotlib is an optional extra (`pip install 'path3-sandbox[bench]'`, which `make bench` does): without it the
bench still writes bench.json and bench.md, and says how to get the plot.
"""

from __future__ import annotations

from pathlib import Path

from .report import BenchRow

INSTALL_HINT = "pip install 'path3-sandbox[bench]' (or: make bench), then run the bench again"


def plot(rows: list[BenchRow], path: Path, *, title: str, time_limit_s: float) -> str | None:
    """Write the plot; None when done, else why not (matplotlib missing, nothing measured)."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: a file only
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return f"matplotlib is not installed: {INSTALL_HINT}"
    if not rows:
        return "no size was measured"
    figure, (times, memory) = plt.subplots(1, 2, figsize=(12, 4.8))
    sessions = [r.sessions for r in rows]

    def series(axis, values, label, **style):
        points = [(s, v) for s, v in zip(sessions, values) if v]
        if points:
            axis.plot(*zip(*points), marker="o", label=label, **style)

    series(times, [r.seconds_to_ready for r in rows], "Gateway: seconds to ready")
    series(times, [r.import_seconds for r in rows], "Gateway: import seconds (its manifest)")
    series(times, [r.floor_seconds for r in rows], "floor: one node:sqlite transaction", linestyle="--")
    timeouts = [r.sessions for r in rows if r.outcome == "timeout"]
    if timeouts:
        times.scatter(timeouts, [time_limit_s] * len(timeouts), marker="x", s=80, color="red", zorder=3,
                      label=f"timeout (limit {time_limit_s:.0f}s)")
        times.axhline(time_limit_s, color="red", linewidth=0.6, linestyle=":")
    series(memory, [r.peak_rss_mib for r in rows], "Gateway: peak RSS")
    series(memory, [r.floor_peak_rss_mib for r in rows], "floor: peak RSS", linestyle="--")
    plain = matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}")
    for axis, ylabel in ((times, "seconds"), (memory, "MiB")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        low, high = axis.get_ylim()
        axis.set_ylim(min(low, high / 10), high)  # at least a decade: a flat line reads as flat
        axis.yaxis.set_major_formatter(plain)
        axis.xaxis.set_major_formatter(plain)
        axis.set_xlabel("sessions")
        axis.set_ylabel(ylabel)
        axis.grid(True, which="both", linewidth=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=8)
    times.set_title("time")
    memory.set_title("peak memory")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None
