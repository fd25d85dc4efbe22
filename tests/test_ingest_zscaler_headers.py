"""Zscaler JSON lines behind a header (a syslog daemon's, a SIEM template's `event=`) read on their bytes by a
learned layout exactly as DuckDB's JSON reader reads them after taking the header off (JSON_HEADER).

Headers as RFC 3164 (`Mmm dd HH:MM:SS host tag`, https://www.rfc-editor.org/rfc/rfc3164#section-4.1) and RFC 5424
(`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD`, https://www.rfc-editor.org/rfc/rfc5424#section-6) write them before
an NSS feed's message; the JSON is Zscaler's JSON feed output type
(https://help.zscaler.com/unified/general-guidelines-nss-feeds-and-feed-formats)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from detector.ingest.base import open_parse_connection, parse_cursor
from detector.ingest.zscaler import LAYOUTS_PER_BATCH, _json_layout_of, _json_table

EVENT = {"datetime": "2024-03-11 08:02:13", "user": "j@x.nl", "url": "chatgpt.com/", "requestmethod": "GET",
         "urlcategory": "AI & ML Applications", "useragent": "Mozilla/5.0 (KHTML, like Gecko)", "department": "Zaken"}


def spaced(event: dict[str, str]) -> str:
    """The wrapped object with spaces around the separators, as a SIEM template may write it."""
    return json.dumps({"sourcetype": "zscalernss-web", "event": event}, separators=(", ", " : "))


def bsd(event: dict[str, str], second: int = 14) -> str:
    return f"Mar 11 08:02:{second:02d} zscaler-nss NSS " + spaced(event)


def rfc5424(event: dict[str, str], structured: str = "-") -> str:
    compact = json.dumps({"sourcetype": "zscalernss-web", "event": event}, separators=(",", ":"))
    return f"<134>1 2024-03-11T08:05:41Z zscaler-nss NSS - - {structured} event={compact}"


def fields_of(lines: list[str], layouts: int) -> list[dict]:
    table = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})
    with parse_cursor(open_parse_connection()) as cursor:
        columns = _json_table(cursor, table, layouts)
    return pa.table({name: pc.cast(column, pa.string()) for name, column in columns.items()}).to_pylist()


ODD_LINES = [
    bsd(EVENT).replace("NSS ", 'NSS "x" '),  # a quote in the header: DuckDB takes no header off, no JSON then
    bsd(EVENT).replace("NSS ", 'NSS ",'),  # a quote and comma in the header: one mark more
    bsd(EVENT).replace("NSS ", "NSS\t"),  # a control character in the header (DuckDB's header allows it)
    bsd(EVENT).replace("NSS ", "NSS a\\b "),  # a backslash in the header (likewise)
    bsd(EVENT).replace("NSS {", "NSS }{"),
    bsd(EVENT).replace("NSS {", "NSS {{"),  # a brace in the header: the object starts at the first
    bsd({**EVENT, "department": "Za] x {ken"}),  # brackets and braces in a value
    rfc5424(EVENT, "[x@1 a=1]"),  # structured data: DuckDB's header may end elsewhere
    rfc5424({**EVENT, "department": "a [b] c {d"}),  # a value that RFC 5424's header pattern reaches into
    rfc5424({**EVENT, "department": "a ["}),
    bsd(EVENT)[:-1],
    "Mar 11 08:02:14 zscaler-nss NSS",
    "Mar 11 08:02:14 zscaler-nss NSS {",
    spaced(EVENT),  # no header: read by the same layout
    bsd({**EVENT, "useragent": 'say "hi"'}),  # an escaped quote: DuckDB unescapes it
    bsd(EVENT).replace("zscaler-nss", "nss-" + "n" * 100),  # a header longer than the first window looked at
    bsd(EVENT).replace("zscaler-nss", "nss-" + "n" * 1100),  # longer than any window: DuckDB reads it
    rfc5424(EVENT, "[x@1 a=1]").replace("zscaler-nss", "nss-" + "n" * 80),  # structured data past the first window
]


def short_rfc5424(event: dict[str, str]) -> str:
    """An RFC 5424 header of few fields before the object: its pattern's sixth field lies in the object."""
    return "<13>1 h a b " + json.dumps({"sourcetype": "zscalernss-web", "event": event}, separators=(",", ":"))


@pytest.mark.parametrize("user", ["j [x] {y", "j [x]", "j x [y] {z", "j"])
def test_a_bracket_after_the_sixth_space_leaves_the_line_to_duckdb(user: str) -> None:
    # `<13>1 h a b {..."datetime":"2024-03-11 08:02:13","user":"j [x] {y"...`: the sixth space is in the object and
    # RFC 5424's header pattern may run through `[x] ` to the brace after it
    lines = [short_rfc5424(EVENT)] * 3 + [short_rfc5424({**EVENT, "user": user})]
    assert fields_of(lines, LAYOUTS_PER_BATCH) == fields_of(lines, 0)


@pytest.mark.parametrize("odd", ODD_LINES)
def test_json_lines_behind_a_header_read_by_layout_as_duckdb_reads_them(odd: str) -> None:
    lines = [bsd(EVENT)] * 3 + [odd] + [bsd({**EVENT, "user": f"user{i}"}, i) for i in range(3)]
    lines += [rfc5424(EVENT)] * 2 + [rfc5424({**EVENT, "user": "other"})]
    by_layout = fields_of(lines, LAYOUTS_PER_BATCH)
    by_duckdb = fields_of(lines, 0)
    assert by_layout == by_duckdb
    assert by_layout[0]["url"] == "chatgpt.com/" and by_layout[4]["login"] == "user0"
    assert by_layout[-1]["login"] == "other" and by_layout[-1]["parse_error"] is None


def test_json_layout_of_a_line_behind_a_header() -> None:
    layout = _json_layout_of(bsd(EVENT))
    assert layout is not None and layout.prefixed
    assert layout.pieces[0].startswith(b'{"sourcetype"')  # the header is not part of the layout
    assert _json_layout_of(rfc5424(EVENT)) is not None
    assert not _json_layout_of(spaced(EVENT)).prefixed
    assert _json_layout_of(bsd(EVENT).replace("NSS ", 'NSS "x" ')) is None  # a quote: no header DuckDB takes off


class NoDuckDB:
    """A connection that fails when used: a line was left to DuckDB's reader."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"a line was left to DuckDB ({name})")


def test_json_lines_behind_a_header_are_all_read_on_their_bytes() -> None:
    lines = [bsd({**EVENT, "user": f"user{i}"}, i % 60) for i in range(40)] + [rfc5424(EVENT)] * 20
    table = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})
    columns = _json_table(NoDuckDB(), table, LAYOUTS_PER_BATCH)  # type: ignore[arg-type]
    assert pc.cast(columns["login"], pa.string()).to_pylist()[:2] == ["user0", "user1"]
    assert columns["parse_error"].null_count == len(lines)
