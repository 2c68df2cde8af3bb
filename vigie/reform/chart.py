"""The progress chart as plain numbers for an inline SVG (no JavaScript library)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import formats

from vigie.reform.dashboard import CHART_SERIES, Week

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
COLOURS = {"sensitised": "#2e90fa", "mandate": "#12b76a", "pa": "#f79009"}


@dataclass
class Series:
    key: str
    label: str
    colour: str
    points: str
    last: int


def _nice_max(value: int) -> int:
    """The smallest 4 × (1, 2, 2.5 or 5 × 10^k) at or above `value`: four even ticks."""
    magnitude = 1
    while True:
        for factor in (1, 2, 2.5, 5):
            step = int(factor * magnitude)
            if step and 4 * step >= value:
                return 4 * step
        magnitude *= 10


def _n(value: float) -> str:
    # SVG wants a dot, whatever the page's locale formats numbers with.
    return f"{value:g}"


def build(weeks: list[Week], total: int) -> dict:
    top = _nice_max(max([total, *[v for w in weeks for v in w.values.values()]] or [1]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(weeks) - 1)

    def x(i: int) -> str:
        return _n(round(LEFT + i * step, 1))

    def y(v: int) -> str:
        return _n(round(TOP + plot_h - plot_h * v / top, 1))

    series = [
        Series(
            key=key,
            label=label,
            colour=COLOURS[key],
            points=" ".join(f"{x(i)},{y(w.values[key])}" for i, w in enumerate(weeks)),
            last=weeks[-1].values[key] if weeks else 0,
        )
        for key, label, *_ in CHART_SERIES
    ]
    ticks = [{"y": y(top * i // 4), "label": formats.number_format(top * i // 4)} for i in range(5)]
    labels = [
        {"x": x(i), "label": formats.date_format(w.start, "d/m")}
        for i, w in enumerate(weeks)
        if i % 2 == (len(weeks) - 1) % 2
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "axis_x": LEFT - 6,
        "right": WIDTH - RIGHT,
        "label_y": HEIGHT - 8,
        "series": series,
        "ticks": ticks,
        "labels": labels,
        "total_y": y(total),
    }
