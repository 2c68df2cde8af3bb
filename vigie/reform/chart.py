"""The progress chart as plain numbers for an inline SVG (no JavaScript library)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import formats

from vigie.reform.dashboard import CHART_SERIES, Week

# Wide, like the card that holds it at a desktop width (the SVG scales to the card).
WIDTH, HEIGHT = 1200, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 28, 12, 28  # room for the last week's label
COLOURS = {"sensitised": "#2e90fa", "mandate": "#12b76a", "pa": "#f79009"}


@dataclass
class Series:
    key: str
    label: str
    colour: str
    points: str
    last: int


MAX_STEPS = 5


def _axis(value: int) -> tuple[int, int]:
    """(top, step) of the vertical axis: the smallest round step (1, 2, 2.5 or 5 × 10^k)
    that reaches `value` in at most five steps, and the first multiple of it at or
    above `value`. The portfolio's total then sits near the top: 4,537 clients give an
    axis to 5,000 (not 8,000), 9 clients an axis to 10."""
    value = max(value, 4)
    magnitude = 1
    while True:
        for factor in (1, 2, 2.5, 5):
            step = factor * magnitude
            if step != int(step):
                continue
            steps = -(-value // int(step))
            if steps <= MAX_STEPS:
                return steps * int(step), int(step)
        magnitude *= 10


def _n(value: float) -> str:
    # SVG wants a dot, whatever the page's locale formats numbers with.
    return f"{value:g}"


def build(weeks: list[Week], total: int) -> dict:
    top, tick = _axis(max([total, *[v for w in weeks for v in w.values.values()]]))
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
    ticks = [
        {"y": y(value), "label": formats.number_format(value)} for value in range(0, top + 1, tick)
    ]
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
