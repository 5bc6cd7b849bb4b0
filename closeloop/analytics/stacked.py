"""Two chart helpers the stock `charts` module lacks: stacked horizontal bars (a bar cut into one
segment per series) and an axis end for counts that gives whole-number ticks. Both produce a
plain `Chart` of kind "hbar", so `_chart.html` draws it unchanged."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .charts import LABEL_WIDTH, ROW, TOP, WIDTH, Chart, Label, Mark, axis_ticks, tick_text


def count_top(largest: float) -> float:
    """The axis end for counts: four equal steps of a round whole number (1, 2, 3, 4, 5, 6 or 8
    times a power of ten), so the ticks read 0, 2, 4, 6, 8 rather than 1.2, 2.5, 3.8."""
    need = max(largest, 1) / 4
    power = 10 ** max(0, math.floor(math.log10(need)))
    step = next((k * power for k in (1, 2, 3, 4, 5, 6, 8, 10) if k * power >= need), 10 * power)
    return 4 * step


def stacked_hbar_chart(
    title: str, rows: Sequence[tuple[str, Sequence[float]]], series: Sequence[str]
) -> Chart:
    """Horizontal bars cut into one segment per series (e.g. a stage's losses by reason), with
    each bar's total written at its end; drawn by `_chart.html` like any "hbar" chart."""
    totals = [sum(v or 0 for v in vs) for _, vs in rows]
    top = count_top(max(totals, default=0))
    plot = WIDTH - LABEL_WIDTH - 70
    height = TOP + ROW * len(rows) + 20
    chart = Chart("hbar", title, WIDTH, max(height, 60), list(series), empty=not any(totals))
    for i, (label, vs) in enumerate(rows):
        y0 = TOP + i * ROW
        chart.labels.append(Label(LABEL_WIDTH - 8, y0 + ROW / 2 + 4, label[:32]))
        drawn = [(s, v) for s, v in enumerate(vs) if v]
        x = float(LABEL_WIDTH)
        for j, (s, v) in enumerate(drawn):
            w = plot * v / top
            # only the last segment carries the bar's total, so the figure sits at the bar's end
            text = tick_text(totals[i]) if j == len(drawn) - 1 else ""
            title_ = f"{label} · {series[s]}: {tick_text(v)}"
            chart.marks.append(Mark(x, y0 + 4, max(w, 1), ROW - 9, s, title_, text))
            x += w
    chart.grid = [(LABEL_WIDTH + plot * t / top, tick_text(t)) for t in axis_ticks(top)]
    return chart
