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
