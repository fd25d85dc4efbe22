"""FortiGate's events made OUTCOME_LINES lines at a time, from line columns in chunks of any size (fortigate.py): every
split gives the whole batch's answer."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from detector.ingest import FORMATS, fortigate
from detector.ingest.base import ParseContext, in_file_order, open_parse_connection

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs" / "fortigate" / "basic.log"


def parse(lines: list[str], chunk_lines: int | None = None):  # type: ignore[no-untyped-def]
    context = ParseContext("fw-20251118.log", "Europe/Amsterdam", open_parse_connection())
    chunk_lines = chunk_lines or len(lines)
    column = pa.chunked_array([pa.array(lines[start:start + chunk_lines]) for start in range(0, len(lines), chunk_lines)])
    table = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": column})
    return in_file_order(FORMATS["fortigate"].new_parser(context))(table)


@pytest.mark.parametrize(("chunk_lines", "outcome_lines"), [(4, 10), (3, 7), (5, 5), (1, 2), (64, 9)])
def test_any_chunk_and_slice_sizes_give_the_whole_batch_answer(
        monkeypatch: pytest.MonkeyPatch, chunk_lines: int, outcome_lines: int) -> None:
    sample = SAMPLE.read_text(encoding="utf-8").splitlines()
    # lines with and without eventtime in runs
    lines = sample * 2 + [line for line in sample if "eventtime=" not in line] * 3 + sample[::-1] + ["", "x=1"]
    whole = parse(lines)
    monkeypatch.setattr(fortigate, "OUTCOME_LINES", outcome_lines)
    sliced = parse(lines, chunk_lines)
    assert sliced.events.to_pylist() == whole.events.to_pylist()
    assert sliced.rejects.to_pylist() == whole.rejects.to_pylist() and sliced.ignored == whole.ignored
