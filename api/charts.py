"""Charts drawn on the server as SVG with matplotlib (no JavaScript; pages show the numbers beside them).

matplotlib's object API (Figure, no pyplot): no global state, so threads of one worker draw side by
side. Text is drawn as paths (svg.fonttype "path"), so a browser needs no font; Noto Sans CJK is in
the font list for the Chinese names of Taiwan's cities and for zh-TW labels.

Pages serve a chart as its own `image/svg+xml` response in an <img>: the page's Content-Security-Policy
then does not apply to matplotlib's inline styles.
"""

from __future__ import annotations

import io
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: never a GUI backend on a server

from matplotlib import rcParams  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import EngFormatter, MaxNLocator  # noqa: E402

rcParams["svg.fonttype"] = "path"
rcParams["svg.hashsalt"] = "pb_engine"  # stable ids: the same figures give the same bytes
rcParams["font.family"] = ["DejaVu Sans", "Noto Sans CJK TC", "Noto Sans CJK JP", "sans-serif"]

BAR = "#2f6f9f"
BAR_2 = "#7a5c9e"


def _svg(fig: Figure) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    return out.getvalue()


def city_category_bars(cities: Sequence[str], median_costs: Sequence[float | None],
                       shares_funded: Sequence[float | None], *, cost_label: str, share_label: str,
                       title: str) -> str:
    """Two panels, one bar per city: median cost (chosen currency) and share funded (0..1, as %).

    A city without the figure gets no bar (the table beside the chart says "no figure")."""
    n = max(len(cities), 1)
    fig = Figure(figsize=(9, 1.2 + 0.45 * n))
    fig.suptitle(title, fontsize=12)
    left, right = fig.subplots(1, 2, sharey=True)
    ys = list(range(len(cities)))
    left.barh(ys, [v or 0 for v in median_costs], color=BAR)
    left.xaxis.set_major_formatter(EngFormatter(sep=""))  # 100k, 1.5M: full figures crowd the axis
    left.xaxis.set_major_locator(MaxNLocator(4))
    left.set_xlabel(cost_label)
    left.set_yticks(ys, labels=list(cities))
    left.invert_yaxis()  # the first city on top, as in the table
    right.barh(ys, [100 * (v or 0) for v in shares_funded], color=BAR_2)
    right.set_xlim(0, 100)
    right.set_xlabel(share_label)
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


# --- generic charts of the comparison page (api/pages/compare.py): rounds side by side ------------

SERIES_COLOURS = ("#2f6f9f", "#c0504d", "#7a5c9e", "#4f8f3a", "#d08a1f", "#3f9fa8", "#8c564b", "#6b6b6b")


def grouped_bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *, title: str,
                 value_label: str, percent: bool = False) -> str:
    """Horizontal bars, one group per label (a round), one bar per series (a rule, a category, a length).

    Shares (0..1) are drawn as % with `percent`. A missing figure (None) draws no bar; the table
    beside the chart says so."""
    n, k = max(len(labels), 1), max(len(series), 1)
    fig = Figure(figsize=(9, 1.4 + 0.32 * n * k + (0.3 * k if k > 1 else 0)))
    ax = fig.subplots()
    height = 0.8 / k
    scale = 100 if percent else 1
    for j, (name, values) in enumerate(series):
        ys = [i - 0.4 + height * (j + 0.5) for i in range(len(labels))]
        ax.barh(ys, [scale * (v or 0) for v in values], height=height, label=name,
                color=SERIES_COLOURS[j % len(SERIES_COLOURS)])
    ax.set_yticks(list(range(len(labels))), labels=list(labels))
    ax.invert_yaxis()  # the first round on top, as in the table
    ax.set_xlabel(value_label)
    ax.set_title(title, fontsize=12)
    if percent:
        ax.xaxis.set_major_formatter(lambda x, _pos: f"{x:g}%")
    if k > 1:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.9 / (1.4 + 0.32 * n * k)),
                  ncol=min(k, 4), frameon=False, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def box_summary(labels: Sequence[str], stats: Sequence[dict | None], *, title: str, value_label: str,
                percent: bool = False) -> str:
    """One box per label from figures already computed (min, q1, median, q3, max): matplotlib's bxp,
    so that the chart shows exactly the numbers of the table, not a re-computation."""
    n = max(len(labels), 1)
    fig = Figure(figsize=(9, 1.4 + 0.5 * n))
    ax = fig.subplots()
    scale = 100 if percent else 1
    boxes, positions = [], []
    for i, s in enumerate(stats):
        if not s:
            continue
        boxes.append({"label": labels[i], "whislo": scale * s["min"], "q1": scale * s["q1"], "med": scale * s["median"],
                      "q3": scale * s["q3"], "whishi": scale * s["max"], "fliers": []})
        positions.append(i)
    if boxes:
        ax.bxp(boxes, positions=positions, orientation="horizontal", widths=0.5, patch_artist=True,
               boxprops={"facecolor": "#cfe0ee", "edgecolor": BAR}, medianprops={"color": "#c0504d"})
    ax.set_yticks(list(range(len(labels))), labels=list(labels))
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlabel(value_label)
    ax.set_title(title, fontsize=12)
    if percent:
        ax.xaxis.set_major_formatter(lambda x, _pos: f"{x:g}%")
    ax.grid(axis="x", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)
