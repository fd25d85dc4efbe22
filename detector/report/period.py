"""Report periods: what `--period` means, the label that names its output, and the period before it.

Days are the lake's `day` (UTC dates). "Yesterday" is counted from today in the configured time zone,
so a nightly job just after midnight reports the day that ended. A period resolves to fixed dates: the
same period always gets the same label, so re-running a report overwrites its files instead of adding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

PERIOD_HELP = "yesterday, last-7d, last-30d (any last-Nd), a month YYYY-MM, a day YYYY-MM-DD or FROM..TO"
_LAST = re.compile(r"^last-(\d{1,4})d$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """File-system safe and sortable: 2026-11-27, or 2026-11-01_2026-11-30."""
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    @property
    def title(self) -> str:
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()} – {self.end.isoformat()}"

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def to_dict(self) -> dict[str, object]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "days": self.days,
                "label": self.label}


def today_in(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def parse_period(text: str, today: date) -> Period:
    """Resolve a --period value against today's date; ValueError with a readable message when invalid."""
    value = text.strip().lower()
    if value == "yesterday":
        day = today - timedelta(days=1)
        return Period(day, day)
    if value == "today":
        return Period(today, today)
    last = _LAST.match(value)
    if last:
        count = int(last.group(1))
        if count < 1:
            raise ValueError("last-Nd needs N of at least 1")
        return Period(today - timedelta(days=count), today - timedelta(days=1))
    month = _MONTH.match(value)
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        if not 1 <= number <= 12:
            raise ValueError(f"{text!r} is not a month")
        first = date(year, number, 1)
        following = date(year + number // 12, number % 12 + 1, 1)
        return Period(first, following - timedelta(days=1))
    start_text, separator, end_text = value.partition("..")
    try:
        start = date.fromisoformat(start_text.strip())
        end = date.fromisoformat(end_text.strip()) if separator else start
    except ValueError:
        raise ValueError(f"unknown period {text!r}; use {PERIOD_HELP}") from None
    if end < start:
        raise ValueError(f"period {text!r} ends before it starts")
    return Period(start, end)
