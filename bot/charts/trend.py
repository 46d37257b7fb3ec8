"""The /hitl-stats trend chart as a PNG: rates on top, time to decision and the reviewed count below,
one point per period of the report's trend.

matplotlib draws it: the plotting library most maintained and most widely used in Python, with a
headless renderer (Agg) in its wheel, so nothing else is installed on a server. It is imported here
only, when a chart is first drawn, so neither the intake nor the CLI pays for loading it; an Agg
Figure per call keeps no pyplot state between threads.
"""
from __future__ import annotations

import io

from core.metrics import Stats

SIZE = (8.0, 4.2)  # inches at 100 dpi: 800×420, legible in a Slack message and in App Home
OVERRIDE, REJECTION, TTD, REVIEWED = "#1264a3", "#e01e5a", "#2eb67d", "#dddddd"


def render(st: Stats) -> bytes | None:
    """The chart, or None when no period of the trend had a review to draw a rate from."""
    if not any(h.reviewed for _, h in st.trend):
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    starts = [start for start, _ in st.trend]
    heads = [h for _, h in st.trend]
    labels = [f"{s:%b %d}" for s in starts]
    x = list(range(len(starts)))

    fig = Figure(figsize=SIZE, dpi=100)
    fig.subplots_adjust(left=0.08, right=0.92, top=0.93, bottom=0.08, hspace=0.12)  # fixed: "constrained" costs ~40%
    rates, times = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    for values, colour, name in ((_pcts(h.override_rate for h in heads), OVERRIDE, "Override rate"),
                                 (_pcts(h.rejection_rate for h in heads), REJECTION, "Rejection rate")):
        rates.plot(x, values, marker="o", color=colour, label=name, linewidth=2)
    rates.set_ylabel("of reviewed")
    highest = max((v for h in heads for v in (h.override_rate, h.rejection_rate) if v is not None), default=0)
    rates.set_ylim(0, max(10.0, min(100.0, highest * 100 * 1.2)))
    rates.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    rates.legend(loc="upper left", fontsize=8, frameon=False, ncols=2)
    rates.set_title(f"{st.scope}: last {len(heads)} {st.by}s", fontsize=10, loc="left")

    counts = times.twinx()
    counts.bar(x, [h.reviewed for h in heads], color=REVIEWED, label="Reviewed")
    counts.set_ylabel("reviewed", fontsize=8)
    counts.set_ylim(bottom=0)
    counts.yaxis.set_major_locator(MaxNLocator(integer=True))
    times.set_zorder(counts.get_zorder() + 1)  # the line in front of the bars
    times.patch.set_visible(False)
    times.plot(x, [None if h.ttd_p50 is None else h.ttd_p50 / 60 for h in heads], marker="o", color=TTD,
               label="Time to decision p50 (min)", linewidth=2)
    times.set_ylabel("minutes")
    times.set_ylim(bottom=0)
    times.legend(loc="upper left", fontsize=8, frameon=False)
    times.set_xticks(x, labels, fontsize=8)
    for axis in (rates, times, counts):
        axis.spines[["top"]].set_visible(False)
        axis.tick_params(labelsize=8)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _pcts(values) -> list[float | None]:
    return [None if v is None else v * 100 for v in values]
