"""CEF/LEEF lines side by side in one buffer: what one line's bytes hold must not reach into the next."""

from __future__ import annotations

import pyarrow as pa
import pytest

from detector.ingest import FORMATS
from detector.ingest.base import ParseContext, open_parse_connection

LINES = 8_192  # (once the numpy passes' slice of lines; the kernel reads line by line)
CEF = "CEF:0|V|P|1|100|Web|1|rt=1710140533000 src=10.1.2.3 dhost=claude.ai"
LEEF = "LEEF:1.0|V|P|1|E|devTime=1710140533000\tsrc=10.1.2.3\turl=claude.ai/x"


@pytest.mark.parametrize(("key", "line"), [("cef", CEF), ("leef", LEEF)])
@pytest.mark.parametrize("next_start", ["|", "=", "\\", "\\="])
def test_a_backslash_ending_a_line_escapes_nothing_in_the_next(key: str, line: str, next_start: str) -> None:
    """A line ends with a backslash; the next line starts with a separator."""
    lines = [line] * (LINES - 1) + [line + " x\\", next_start + " " + line, line]
    parse = FORMATS[key].new_parser(ParseContext("gateway-20240311.log", "UTC", open_parse_connection()))
    result = parse(pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": lines}))
    assert result.events.num_rows + result.rejects.num_rows + result.ignored == len(lines)
    assert result.events.num_rows == len(lines)
    assert set(result.events.column("src_ip").to_pylist()) == {"10.1.2.3"}
