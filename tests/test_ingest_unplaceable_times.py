"""An event whose time no lake day can hold is rejected with its reason, whatever the format.

A misread epoch or a 5-digit year fits Arrow's timestamp but no calendar date: such an event once
stopped the whole ingest with OverflowError in the lake's day arithmetic.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from detector.ingest.base import REJECTS_OF_BATCH, ParseResult
from detector.ingest.pipeline import _parse
from detector.ingest.reader import LINES_SCHEMA, LineBatch
from detector.schema import TIMESTAMP

MICROSECONDS_PER_DAY = 86_400_000_000
# Microseconds since 1970 of the first instant after 9999-12-31 and of the last one before 0001-01-01.
AFTER_9999 = (datetime(9999, 12, 31, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).days * MICROSECONDS_PER_DAY \
    + MICROSECONDS_PER_DAY
BEFORE_YEAR_1 = (datetime(1, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).days * MICROSECONDS_PER_DAY - 1


def parse_with_times(times: list[int | None]) -> ParseResult:
    """_parse over one line per time, with a parser that gives each line's event that time."""
    lines = pa.table({"line_no": pa.array(range(1, len(times) + 1), pa.int64()),
                      "line": pa.array([f"line {n}" for n in range(1, len(times) + 1)])}, schema=LINES_SCHEMA)

    def parser(batch: pa.Table) -> ParseResult:
        events = pa.table({"line_no": batch.column("line_no"), "ts": pa.array(times, pa.int64()).cast(TIMESTAMP)})
        return ParseResult(events, REJECTS_OF_BATCH.empty_table())

    return _parse(LineBatch(lines), parser, max_line_bytes=1 << 20)


def test_times_beyond_the_calendar_are_rejected_with_their_reason_and_the_rest_kept() -> None:
    last_instant = AFTER_9999 - 1
    result = parse_with_times([0, AFTER_9999, None, BEFORE_YEAR_1, last_instant, BEFORE_YEAR_1 + 1])
    assert result.events.column("line_no").to_pylist() == [1, 5, 6]
    assert result.events.column("ts").to_pylist()[1] == datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    rejects = sorted(zip(result.rejects.column("line_no").to_pylist(), result.rejects.column("reason").to_pylist(),
                         result.rejects.column("line").to_pylist(), strict=True))
    assert rejects == [
        (2, "timestamp outside the years 1-9999", "line 2"),
        (3, "no timestamp", "line 3"),
        (4, "timestamp outside the years 1-9999", "line 4"),
    ]


def test_a_batch_of_good_times_is_passed_through_whole() -> None:
    result = parse_with_times([0, 1, 2])
    assert result.events.num_rows == 3
    assert result.rejects.num_rows == 0
