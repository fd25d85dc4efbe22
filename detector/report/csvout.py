"""CSV files that open safely in a spreadsheet: text that a spreadsheet would run as a formula is
neutralised, because host names, user agents and paths come from log lines anyone can cause.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

# Cells starting with these are formulas (or become one) in Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value: str) -> str:
    """Prefix a leading quote to text a spreadsheet would evaluate (OWASP's advice for CSV injection)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def cell(value: Any) -> Any:
    """A value as a CSV cell: empty for missing, ISO dates, numbers as they are, text neutralised."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "true" if value else "false"
    if isinstance(value, numbers.Real):
        return "" if math.isnan(float(value)) else value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return neutralise("; ".join(str(item) for item in value))
    return neutralise(str(value))


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(name)) for name in columns])
    return buffer.getvalue()
