"""Small inline SVG charts for the HTML report: no script, no external file, text escaped.

Suppressed values ("< 5") are gaps in a chart, never drawn as a number.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from datetime import date
from html import escape

FONT = "font-family:Segoe UI,Helvetica,Arial,sans-serif"


def _number(value: object) -> float | None:
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value:
        return float(value)
    return None


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude  # pragma: no cover


def columns(days: Sequence[date], series: Sequence[tuple[str, str, Sequence[object]]], width: int = 720,
            height: int = 220, title: str = "") -> str:
    """Grouped columns per day: series = (name, colour, values). Labels every few days."""
    left, right, top, bottom = 44, 10, 28, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    numbers_ = [_number(v) for _, _, values in series for v in values]
    top_value = _nice_max(max([n for n in numbers_ if n is not None] or [0]))
    slot = plot_w / max(len(days), 1)
    bar = max(1.0, slot * 0.8 / max(len(series), 1))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" style="{FONT};font-size:11px">']
    for tick in range(5):
        value = top_value * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{value:g}</text>')
    for index, day in enumerate(days):
        x0 = left + index * slot + slot * 0.1
        for number, (name, colour, values) in enumerate(series):
            value = _number(values[index]) if index < len(values) else None
            if value is None:
                continue
            h = plot_h * value / top_value
            parts.append(f'<rect x="{x0 + number * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>{escape(name)} {day.isoformat()}: '
                         f'{value:g}</title></rect>')
        every = max(1, round(len(days) / 8))
        if index % every == 0 or len(days) <= 8:
            parts.append(f'<text x="{left + index * slot + slot / 2:.1f}" y="{height - bottom + 16}" '
                         f'text-anchor="middle" fill="#555">{day.strftime("%d %b")}</text>')
    x = left
    for name, colour, _ in series:
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="16" fill="#222">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    parts.append("</svg>")
    return "".join(parts)


def spark(values: Sequence[object], width: int = 160, height: int = 28) -> str:
    """Events per day of one source: a column per day, days without events marked red on the axis."""
    numbers_ = [_number(v) or 0.0 for v in values]
    top_value = max([*numbers_, 1.0])
    slot = width / max(len(numbers_), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">']
    for index, value in enumerate(numbers_):
        x = index * slot + slot * 0.1
        if value <= 0:
            parts.append(f'<rect x="{x:.1f}" y="{height - 3}" width="{max(slot * 0.8, 1):.1f}" height="3" '
                         'fill="#c62828"/>')
            continue
        h = max(1.0, (height - 2) * value / top_value)
        parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{max(slot * 0.8, 1):.1f}" '
                     f'height="{h:.1f}" fill="#5c7fa3"/>')
    parts.append("</svg>")
    return "".join(parts)
