"""A name=value line without a time field has its time read from a prefix of NSS's date fields (PREFIX_TIME), as SIEM
templates begin their lines: `%s{mon} %02d{dd} %02d{hh}:%02d{mm}:%02d{ss}` or `%04d{yyyy}-%02d{mth}-%02d{dd} ...`
("NSS Feed Output Format: Web Logs", https://help.zscaler.com/zia/nss-feed-output-format-web-logs), after an
optional syslog priority (RFC 3164, https://www.rfc-editor.org/rfc/rfc3164#section-4.1.1). Only the lines' first
characters are read for it: the same times as the pattern over whole lines."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from detector.ingest.zscaler import PREFIX_TIME, _kv_table, _with_prefix_times

ITEMS = "\t".join(["eurl=chatgpt.com/", "urlcat=AI", "login=j@x.nl"])
PREFIXES = [
    "Mar 11 08:02:14 zscaler-nss: ",
    "<134>Mar 11 08:02:14 zscaler-nss: ",
    "<134> 2024-03-11 08:02:14\t",
    "<1>2024-03-11 08:02:14 ",
    "Mar  1 08:02:14 ",
    "2024-03-11 08:02:14X ",  # no separator after the time: no time
    "<1345>Mar 11 08:02:14 ",  # a priority of four digits: no time
    "Mar 11 08:02:14",  # the time ends the line (the line has no items then)
    "2024-03-11 08:02:14",
    "nss: Mar 11 08:02:14 ",  # not at the start: no time
    "Dez 11 08:02:14 ",
    "<134> 2024-03-11 08:02:14\u00e9 ",  # a two-byte character right after the time: no time
    "<134> 2024-03-11 08:02:14 \u00e9\u00e9\u00e9\u20ac\u20ac ",  # characters of several bytes across the cut
    "Mar 11 08:02:14 " + "\U0001f600" * 6 + " ",
    "",
]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_prefix_time_read_from_the_first_characters_as_from_the_whole_line(prefix: str) -> None:
    line = prefix + ITEMS if prefix != prefix.rstrip() or not prefix else prefix
    lines = pa.table({"line": pa.array([line, "time=Mon Mar 11 08:02:13 2024\t" + ITEMS])})
    fields = _with_prefix_times(lines, _kv_table(lines), datetime(2024, 12, 31))
    whole = pc.struct_field(pc.extract_regex(pa.array([line]), PREFIX_TIME), [0]).to_pylist()[0]
    read = pc.cast(fields["time_text"], pa.string()).to_pylist()
    assert read[1] == "Mon Mar 11 08:02:13 2024"  # (a line's own time field is kept)
    if whole is None:
        assert read[0] is None
    else:
        assert read[0] is not None and read[0].startswith(whole)  # (a year-less time gets the reference's year)
