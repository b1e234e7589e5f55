"""Attendance over time as an SVG chart drawn on the server: no script, no internet; pure.

Bars show how many came to each occurrence; an optional line shows a second figure (the
newcomers). The chart carries ``<title>`` and ``<desc>`` for screen readers, a ``<title>`` on
every bar for a hover tooltip, and every label is escaped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 28, 56
BAR_COLOUR, LINE_COLOUR, GRID_COLOUR, TEXT_COLOUR = "#4a6fa5", "#c0612b", "#d9d9d9", "#333"


@dataclass(frozen=True)
class ChartPoint:
    """One bar: its label (a date, say), its value and an optional second value for the line."""

    label: str
    value: int
    line_value: int | None = None


def nice_step(largest: int, ticks: int = 5) -> int:
    """Return a gridline step of 1, 2 or 5 times a power of ten giving at most ``ticks`` lines."""
    if largest <= ticks:
        return 1
    raw = largest / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return int(factor * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", text) or "chart"


def attendance_chart(
    points: Sequence[ChartPoint],
    *,
    title: str,
    description: str,
    value_name: str = "Attended",
    line_name: str | None = "Newcomers",
    chart_id: str = "attendance-chart",
) -> str:
    """Return an SVG bar chart (with an optional line) of attendance over time."""
    cid = _safe_id(chart_id)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" class="chart" aria-labelledby="{cid}-title {cid}-desc">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(description)}</desc>'
    )
    if not points:
        return (
            head + f'<text x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}" text-anchor="middle" '
            f'fill="{TEXT_COLOUR}" font-size="14">Nothing to show yet.</text></svg>'
        )
    has_line = line_name is not None and any(p.line_value is not None for p in points)
    largest = max(max(p.value, p.line_value or 0) for p in points)
    step = nice_step(largest)
    top_value = max(step * math.ceil(largest / step), step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / top_value

    parts = [head, _grid(step, top_value, y)]
    slot = plot_w / len(points)
    bar_w = max(slot * 0.6, 1.0)
    label_every = max(1, math.ceil(len(points) / 12))
    line: list[tuple[str, str]] = []
    for i, point in enumerate(points):
        x = LEFT + slot * i + (slot - bar_w) / 2
        centre = LEFT + slot * (i + 0.5)
        tip = f"{point.label}: {point.value} {value_name.lower()}"
        if has_line and point.line_value is not None:
            tip += f", {point.line_value} {line_name.lower() if line_name else ''}".rstrip()
            line.append((_num(centre), _num(y(point.line_value))))
        parts.append(
            f'<rect x="{_num(x)}" y="{_num(y(point.value))}" width="{_num(bar_w)}" '
            f'height="{_num(TOP + plot_h - y(point.value))}" fill="{BAR_COLOUR}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if i % label_every == 0:
            parts.append(
                f'<text x="{_num(centre)}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                f'font-size="11" fill="{TEXT_COLOUR}">{escape(point.label)}</text>'
            )
    if line:
        parts.append(
            f'<polyline points="{" ".join(f"{cx},{cy}" for cx, cy in line)}" fill="none" '
            f'stroke="{LINE_COLOUR}" stroke-width="2"/>'
        )
        parts += [f'<circle cx="{cx}" cy="{cy}" r="3" fill="{LINE_COLOUR}"/>' for cx, cy in line]
    parts.append(_legend(value_name, line_name if line else None))
    parts.append("</svg>")
    return "".join(parts)


def _grid(step: int, top_value: int, y: Callable[[float], float]) -> str:
    lines = []
    for value in range(0, top_value + 1, step):
        at = _num(y(value))
        lines.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{at}" y2="{at}" stroke="{GRID_COLOUR}"/>'
            f'<text x="{LEFT - 6}" y="{at}" dy="4" text-anchor="end" font-size="11" '
            f'fill="{TEXT_COLOUR}">{value}</text>'
        )
    return "".join(lines)


def _legend(value_name: str, line_name: str | None) -> str:
    y = HEIGHT - 14
    parts = [
        f'<rect x="{LEFT}" y="{y - 9}" width="10" height="10" fill="{BAR_COLOUR}"/>',
        f'<text x="{LEFT + 14}" y="{y}" font-size="11" fill="{TEXT_COLOUR}">'
        f"{escape(value_name)}</text>",
    ]
    if line_name:
        x = LEFT + 120
        parts += [
            f'<line x1="{x}" x2="{x + 14}" y1="{y - 4}" y2="{y - 4}" stroke="{LINE_COLOUR}" '
            'stroke-width="2"/>',
            f'<text x="{x + 18}" y="{y}" font-size="11" fill="{TEXT_COLOUR}">'
            f"{escape(line_name)}</text>",
        ]
    return "".join(parts)


def series_points(
    labels: Sequence[str], attended: Sequence[int], newcomers: Sequence[int]
) -> list[ChartPoint]:
    """Return chart points for a series: attendance with newcomers as the line."""
    return [
        ChartPoint(label, value, new)
        for label, value, new in zip(labels, attended, newcomers, strict=True)
    ]
