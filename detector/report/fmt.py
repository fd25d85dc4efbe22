"""How figures read to people (HTML report and deck): one place, so both say the same thing."""

from __future__ import annotations

import math
import numbers
from typing import Any

import pandas as pd


def missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def number(value: Any) -> float | None:
    """A figure that may be shown, as a float; None for missing and suppressed ("< 5") values."""
    if missing(value) or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def count(value: Any) -> str:
    """12 345 with a thin space; suppressed text ("< 5") as it is; missing as an em dash."""
    if missing(value):
        return "—"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{int(value):,}".replace(",", "\u202f")
    return str(value)


def size(value: Any) -> str:
    """Bytes in decimal units (kB, MB, GB), as upload thresholds are configured."""
    if missing(value):
        return "—"
    if not isinstance(value, numbers.Real):
        return str(value)
    amount = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(amount) < 1000 or unit == "TB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{amount:.1f} TB"  # pragma: no cover


def percent(value: Any) -> str:
    if missing(value):
        return "—"
    if not isinstance(value, numbers.Real):
        return str(value)
    return f"{100 * float(value):.1f}%" if 0 < float(value) < 0.1 else f"{100 * float(value):.0f}%"


def change(key: str, value: Any) -> str:
    """The change against the previous period: +3, −12%-points, +1.2 MB; empty when unknown."""
    if missing(value):
        return ""
    if key.endswith("_share"):
        points = 100 * float(value)
        if abs(points) < 0.05:
            return "±0 %-points"
        return ("+" if points > 0 else "−") + f"{abs(points):.1f} %-points"
    if key.endswith("bytes_out"):
        return "±0" if value == 0 else ("+" if value > 0 else "−") + size(abs(value))
    return "±0" if value == 0 else ("+" if value > 0 else "−") + count(abs(int(value)))


def figure(key: str, value: Any) -> str:
    """A headline figure by its kind."""
    if key.endswith("_share"):
        return percent(value)
    if key.endswith("bytes_out"):
        return size(value)
    return count(value)


def yes_no(value: Any) -> str:
    if missing(value):
        return "unknown"
    return "yes" if value else "no"
