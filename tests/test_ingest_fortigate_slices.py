"""FortiGate's two slice sizes (fortigate.py): keys found SLICE_LINES lines at a time, events made OUTCOME_LINES
lines at a time from those slices' values; every split gives the whole batch's answer."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from detector.ingest import FORMATS, fortigate
from detector.ingest.base import ParseContext, in_file_order, open_parse_connection

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs" / "fortigate" / "basic.log"


def parse(lines: list[str]):  # type: ignore[no-untyped-def]
    context = ParseContext("fw-20251118.log", "Europe/Amsterdam", open_parse_connection())
    table = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})
    return in_file_order(FORMATS["fortigate"].new_parser(context))(table)


@pytest.mark.parametrize(("slice_lines", "outcome_lines"), [(4, 10), (3, 7), (5, 5), (1, 2), (64, 9)])
def test_any_slice_sizes_give_the_whole_batch_answer(
        monkeypatch: pytest.MonkeyPatch, slice_lines: int, outcome_lines: int) -> None:
    sample = SAMPLE.read_text(encoding="utf-8").splitlines()
    # lines with and without eventtime in runs, so that slices switch between the two ways of reading local times
    lines = sample * 2 + [line for line in sample if "eventtime=" not in line] * 3 + sample[::-1] + ["", "x=1"]
    whole = parse(lines)
    monkeypatch.setattr(fortigate, "SLICE_LINES", slice_lines)
    monkeypatch.setattr(fortigate, "OUTCOME_LINES", outcome_lines)
    sliced = parse(lines)
    assert sliced.events.to_pylist() == whole.events.to_pylist()
    assert sliced.rejects.to_pylist() == whole.rejects.to_pylist() and sliced.ignored == whole.ignored
