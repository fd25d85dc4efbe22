"""What the syslog tests share: a batch's headers read by SyslogHeaders (per distinct header) against
`syslog_lines` (each line whole), which must agree line for line."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from detector.ingest.base import open_parse_connection
from detector.ingest.syslog import SyslogHeaders, define_head_macros

COLUMNS = ["line_no", "line", "header_ts", "host", "app", "pid", "msg", "ts"]


def headers_read_both_ways(lines: list[str], reference: datetime) -> list[dict[str, object]]:
    """The lines' syslog columns as `syslog_lines` reads them, asserted equal to SyslogHeaders.read's (run twice:
    the second answers from its per-file cache)."""
    connection = open_parse_connection()
    define_head_macros(connection)
    table = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines, pa.string())})
    connection.register("lines", table)
    whole = connection.execute(f"select {', '.join(COLUMNS)} from syslog_lines('Europe/Amsterdam', ?)", [reference])
    expected = [dict(zip(COLUMNS, row, strict=True)) for row in whole.fetchall()]
    connection.unregister("lines")
    headers = SyslogHeaders("Europe/Amsterdam", reference)
    for _ in range(2):
        with connection.cursor() as cursor:
            found = headers.read(cursor, table).select(COLUMNS).to_pylist()
        assert found == expected
    return expected
