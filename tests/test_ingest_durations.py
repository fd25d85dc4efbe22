"""A duration too large for milliseconds in a BIGINT is unknown (null), never a failed batch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def first_line(path: Path, marker: str) -> str:
    return next(line for line in path.read_text(encoding="utf-8").splitlines() if marker in line)


def fortigate_traffic(seconds: str) -> str:
    return re.sub(r"\bduration=\d+", f"duration={seconds}", first_line(SAMPLES / "fortigate" / "basic.log", "duration="))


def srx_text_close(seconds: str) -> str:
    # the plain-text close: `... rule SRC-ZONE DST-ZONE SESSION-ID PACKETS(BYTES) PACKETS(BYTES) ELAPSED ...`
    line = first_line(SAMPLES / "juniper_srx" / "text-20251118.log", "RT_FLOW_SESSION_CLOSE")
    return re.sub(r"(\d+\(\d+\) \d+\(\d+\) )(\d+)", rf"\g<1>{seconds}", line, count=1)


@pytest.mark.parametrize(("key", "make"), [("fortigate", fortigate_traffic), ("juniper_srx", srx_text_close)])
def test_a_duration_too_large_for_milliseconds_is_unknown(tmp_path: Path, key: str, make) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "fw.log"
    log.write_text(make("99999999999999999") + "\n" + make("184") + "\n", encoding="utf-8")
    events, _, report = parse_file(log, FORMATS[key], golden_settings())
    assert (report.parsed, report.rejected) == (2, 0)
    in_line_order = events.sort_by("line_no")  # a parser's events need not come in line order
    assert in_line_order.column("duration_ms").to_pylist() == [None, 184_000]
