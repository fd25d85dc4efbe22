"""Chart images for the deck (matplotlib, Agg backend: no display needed), sized for a 16:9 slide and
with fonts that stay readable on a projector. Suppressed values are never drawn as numbers."""

from __future__ import annotations

import io
import numbers
from collections.abc import Sequence
from datetime import date

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.dates import DateFormatter
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

ORANGE, BLUE, GREY, RED = "#e65100", "#5c7fa3", "#9aa5b1", "#b71c1c"
FONT_SIZE = 15
DPI = 200


def _style() -> None:
    plt.rcParams.update({
        "font.size": FONT_SIZE, "axes.titlesize": FONT_SIZE + 2, "axes.labelsize": FONT_SIZE,
        "xtick.labelsize": FONT_SIZE - 2, "ytick.labelsize": FONT_SIZE - 1, "legend.fontsize": FONT_SIZE - 1,
        "axes.spines.top": False, "axes.spines.right": False, "font.family": "DejaVu Sans",
        "svg.hashsalt": "shadow-ai",
    })


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def _value(value: object) -> float | None:
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value:
        return float(value)
    return None


def trend(days: Sequence[date], ai_users: Sequence[object], unsanctioned: Sequence[object],
          size: tuple[float, float] = (7.2, 4.2)) -> bytes:
    """People using AI and unsanctioned AI per day; days of small groups are left out."""
    _style()
    figure, axes = plt.subplots(figsize=size)
    for values, colour, label in ((ai_users, BLUE, "any AI"), (unsanctioned, ORANGE, "unsanctioned AI")):
        points = [(d, _value(v)) for d, v in zip(days, values, strict=False)]
        axes.plot([d for d, v in points if v is not None], [v for _, v in points if v is not None], marker="o",
                  markersize=4, linewidth=2.5, color=colour, label=label)
    axes.set_ylabel("people per day")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(bottom=0)
    axes.xaxis.set_major_locator(MaxNLocator(6))
    axes.xaxis.set_major_formatter(DateFormatter("%d %b"))
    axes.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    axes.grid(axis="y", color="#e3e3e3")
    return _png(figure)


def horizontal_bars(labels: Sequence[str], values: Sequence[object], notes: Sequence[str], xlabel: str,
                    percent: bool = False, colour: str = ORANGE, size: tuple[float, float] = (8.0, 4.6)) -> bytes:
    """Largest on top; a bar whose value is suppressed is drawn empty with its note ("< 5") instead."""
    _style()
    figure, axes = plt.subplots(figsize=(size[0], max(2.2, min(size[1], 0.45 * len(labels) + 1.0))))
    numbers_ = [_value(v) for v in values]
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, [n or 0 for n in numbers_], color=colour, height=0.6)
    axes.set_yticks(positions, labels=[_short(label) for label in labels])
    top = max([n for n in numbers_ if n is not None] or [1.0])
    for position, number, note in zip(positions, numbers_, notes, strict=True):
        axes.text((number or 0) + top * 0.015, position, note, va="center", fontsize=FONT_SIZE - 2, color="#333")
    axes.set_xlim(0, top * 1.3)
    if percent:
        axes.set_xticks([tick for tick in (0, 0.25, 0.5, 0.75, 1.0) if tick <= top * 1.05 or tick == 0.25])
        axes.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    else:
        axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axes.set_xlabel(xlabel)
    axes.grid(axis="x", color="#e3e3e3")
    axes.set_axisbelow(True)
    return _png(figure)


def _short(label: str, width: int = 32) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"
