"""Charts as SVG drawn on the server: the geometry is computed here, `analytics/_chart.html`
draws it. No chart library and no script, so a chart shows in any browser, prints, and is the
same picture in every test; the table under it holds the exact figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 720
LABEL_WIDTH = 190
ROW = 28
PLOT_HEIGHT = 220
TOP = 12
BOTTOM = 40
LEFT = 56


@dataclass
class Mark:
    """One bar (or point) of a chart, in SVG user units."""

    x: float
    y: float
    w: float
    h: float
    series: int
    title: str  # the tooltip: label, series and figure
    text: str = ""
    whisker: tuple[float, float] | None = None  # x from–to of an interval

    @property
    def mid_y(self) -> float:
        return self.y + self.h / 2

    @property
    def end_x(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


@dataclass
class Label:
    x: float
    y: float
    text: str
    anchor: str = "end"


@dataclass
class Chart:
    """Everything `_chart.html` needs: size, bars or lines, labels, legend, a description."""

    kind: str  # "hbar", "columns" or "line"
    title: str
    width: int
    height: int
    series: list[str]
    marks: list[Mark] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    lines: list[tuple[int, str]] = field(default_factory=list)  # (series, "x,y x,y …")
    grid: list[tuple[float, str]] = field(default_factory=list)  # (y or x, tick text)
    empty: bool = False

    @property
    def plot_left(self) -> int:
        return LABEL_WIDTH if self.kind == "hbar" else LEFT


def _scale(values: Sequence[float | None]) -> float:
    top = max((v for v in values if v is not None), default=0.0)
    return top if top > 0 else 1.0


def axis_ticks(top: float, n: int = 4) -> list[float]:
    return [top * i / n for i in range(n + 1)]


def tick_text(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:,.1f}"


def hbar_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[float | None]]],
    series: Sequence[str],
    *,
    texts: Sequence[Sequence[str]] | None = None,
    whiskers: Sequence[Sequence[tuple[float, float] | None]] | None = None,
    top: float | None = None,
) -> Chart:
    """Horizontal bars, one row per label and one bar per series in it (e.g. won vs lost)."""
    values = [v for _, vs in rows for v in vs]
    if whiskers:
        values += [w[1] for ws in whiskers for w in ws if w]
    top = top or _scale(values)
    plot = WIDTH - LABEL_WIDTH - 70
    per = max(1, len(series))
    height = TOP + ROW * len(rows) + BOTTOM // 2
    chart = Chart("hbar", title, WIDTH, max(height, 60), list(series), empty=not rows)
    for i, (label, vs) in enumerate(rows):
        y0 = TOP + i * ROW
        chart.labels.append(Label(LABEL_WIDTH - 8, y0 + ROW / 2 + 4, label[:32]))
        for s, v in enumerate(vs):
            if v is None:
                continue
            w = plot * v / top
            h = (ROW - 8) / per
            y = y0 + 4 + s * h
            text = texts[i][s] if texts else tick_text(v)
            whisker = None
            if whiskers and whiskers[i][s]:
                lo, hi = whiskers[i][s]  # type: ignore[misc]
                whisker = (LABEL_WIDTH + plot * lo / top, LABEL_WIDTH + plot * hi / top)
            chart.marks.append(
                Mark(
                    LABEL_WIDTH,
                    y,
                    max(w, 1),
                    h - 1,
                    s,
                    f"{label} · {series[s]}: {text}",
                    text,
                    whisker,
                )
            )
    chart.grid = [(LABEL_WIDTH + plot * t / top, tick_text(t)) for t in axis_ticks(top)]
    return chart


def column_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    stacked: bool = False,
    texts: Sequence[Sequence[str]] | None = None,
) -> Chart:
    """Vertical columns per category (e.g. a month), grouped or stacked by series."""
    if stacked:
        sums = [sum(vs[i] or 0 for _, vs in series) for i in range(len(categories))]
        top = _scale(sums)
    else:
        top = _scale([v for _, vs in series for v in vs])
    plot_w = WIDTH - LEFT - 10
    slot = plot_w / max(1, len(categories))
    names = [name for name, _ in series]
    chart = Chart("columns", title, WIDTH, TOP + PLOT_HEIGHT + BOTTOM, names, empty=not categories)
    base_y = TOP + PLOT_HEIGHT
    for i, category in enumerate(categories):
        x0 = LEFT + i * slot
        chart.labels.append(Label(x0 + slot / 2, base_y + 16, category[:12], "middle"))
        stack = 0.0
        width = slot * 0.7 if stacked else slot * 0.8 / max(1, len(series))
        for s, (name, vs) in enumerate(series):
            v = vs[i]
            if v is None:
                continue
            h = PLOT_HEIGHT * v / top
            text = texts[s][i] if texts else tick_text(v)
            if stacked:
                x, y = x0 + slot * 0.15, base_y - stack - h
                stack += h
            else:
                x, y = x0 + slot * 0.1 + s * width, base_y - h
            chart.marks.append(
                Mark(x, y, width - 1, max(h, 0.5), s, f"{category} · {name}: {text}", text)
            )
    chart.grid = [(base_y - PLOT_HEIGHT * t / top, tick_text(t)) for t in axis_ticks(top)]
    return chart


def line_chart(
    title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]
) -> Chart:
    """One line per series across the categories (e.g. a figure month by month)."""
    top = _scale([v for _, vs in series for v in vs])
    plot_w = WIDTH - LEFT - 20
    step = plot_w / max(1, len(categories) - 1)
    base_y = TOP + PLOT_HEIGHT
    chart = Chart(
        "line",
        title,
        WIDTH,
        TOP + PLOT_HEIGHT + BOTTOM,
        [n for n, _ in series],
        # no point to draw: the page says so instead of showing empty axes
        empty=not categories or all(v is None for _, vs in series for v in vs),
    )
    for i, category in enumerate(categories):
        chart.labels.append(Label(LEFT + i * step, base_y + 16, category[:12], "middle"))
    for s, (name, vs) in enumerate(series):
        points = []
        for i, v in enumerate(vs):
            if v is None:
                continue
            x, y = LEFT + i * step, base_y - PLOT_HEIGHT * v / top
            points.append(f"{x:.1f},{y:.1f}")
            chart.marks.append(
                Mark(x - 3, y - 3, 6, 6, s, f"{categories[i]} · {name}: {tick_text(v)}")
            )
        chart.lines.append((s, " ".join(points)))
    chart.grid = [(base_y - PLOT_HEIGHT * t / top, tick_text(t)) for t in axis_ticks(top)]
    return chart
