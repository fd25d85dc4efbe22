"""The pipeline's blank lines: empty or whitespace-only lines are ignored (counted), every other line is parsed."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.pipeline import _without_blanks
from detector.ingest.reader import LINES_SCHEMA

# whitespace of every kind a line may hold (ASCII, Latin-1's no-break space, Unicode's spaces), and text
PIECES = [" ", "\t", "\v", "\f", "\x1c", "\u00a0", "\u2003", "\u3000", "\u0085", "a", "é", "#", "\x7f", "\x00", "{}"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=5).map("".join), max_size=30),
       st.integers(min_value=1, max_value=4))
def test_blank_lines_are_those_python_reads_as_empty_or_whitespace(lines: list[str], chunks: int) -> None:
    """Lines in several chunks, as the reader hands them on; a line with anything but whitespace is kept, in order."""
    size = max(1, -(-len(lines) // chunks))
    parts = [pa.table({"line_no": pa.array(range(at, at + len(lines[at:at + size])), pa.int64()),
                       "line": pa.array(lines[at:at + size], pa.string())}, schema=LINES_SCHEMA)
             for at in range(0, len(lines), size)]
    table = pa.concat_tables(parts) if parts else LINES_SCHEMA.empty_table()
    kept, blank = _without_blanks(table)
    expected = [(n, line) for n, line in enumerate(lines) if line and not line.isspace()]
    assert blank == len(lines) - len(expected)
    assert list(zip(kept.column("line_no").to_pylist(), kept.column("line").to_pylist(), strict=True)) == expected
