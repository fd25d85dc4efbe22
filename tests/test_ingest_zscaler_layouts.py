"""Zscaler JSON lines read on their bytes by a learned layout (its pieces) read exactly as the general reading
(DuckDB's JSON reader) reads them, whatever a line holds. (name=value lines: test_ingest_zscaler_kernels.py)"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from detector.ingest.base import open_parse_connection, parse_cursor
from detector.ingest.zscaler import ALIASES, LAYOUTS_PER_BATCH, _json_layout_of, _json_table

EVENT = {"time": "Mon Mar 11 08:02:13 2024", "login": "j@x.nl", "eurl": "chatgpt.com/", "reqmethod": "GET",
         "urlcat": "AI & ML Applications", "ua": "Mozilla/5.0 (KHTML, like Gecko)", "dept": "Zaken"}


def nss(event: dict[str, str]) -> str:
    """A line as NSS writes its JSON feed (its own spacing)."""
    return '{ "sourcetype" : "zscalernss-web", "event" :' + json.dumps(event, separators=(",", ":")) + "}"


ODD_LINES = [
    nss({**EVENT, "ua": 'say "hi"'}),  # an escaped quote: DuckDB unescapes it
    nss({**EVENT, "dept": "a\\b"}),
    nss(EVENT).replace("Zaken", "Za\tken"),  # a raw control character: not JSON
    nss(EVENT).replace("Zaken", 'Za"ken'),  # a raw quote: not JSON
    nss(EVENT).replace("Zaken", 'Za","x":"ken'),  # a raw quote: one piece more
    nss(EVENT).replace('"login"', '"time"'),  # a repeated key: DuckDB reads the first
    nss({**EVENT, "dept": "Gemeentezaken é"}),
    nss(EVENT)[:-1],
    nss(EVENT) + " ",
    "",
    "[1]",
    json.dumps({"event": "x", **EVENT}),
]


def fields_of(lines: list[str], read: object) -> list[dict]:
    table = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})
    with parse_cursor(open_parse_connection()) as cursor:
        columns = read(cursor, table)
    return pa.table({name: pc.cast(column, pa.string()) for name, column in columns.items()}).to_pylist()


@pytest.mark.parametrize("odd", ODD_LINES)
def test_json_lines_read_by_layout_as_duckdb_reads_them(odd: str) -> None:
    lines = [nss(EVENT)] * 3 + [odd] + [nss({**EVENT, "login": f"user{i}"}) for i in range(3)]
    by_layout = fields_of(lines, lambda cursor, table: _json_table(cursor, table, LAYOUTS_PER_BATCH))
    by_duckdb = fields_of(lines, lambda cursor, table: _json_table(cursor, table, 0))
    assert by_layout == by_duckdb
    assert by_layout[0]["url"] == "chatgpt.com/" and by_layout[4]["login"] == "user0"


def test_json_layout_is_only_string_values_and_one_event_object() -> None:
    assert _json_layout_of(nss(EVENT)) is not None
    assert _json_layout_of(json.dumps({**EVENT, "reqsize": 12})) is None  # a number
    assert _json_layout_of(json.dumps({"event": "x", **EVENT})) is None  # `event` not an object
    assert _json_layout_of(json.dumps({"a": {"b": "c"}, **EVENT})) is None  # another object
    assert _json_layout_of(nss(EVENT).replace('"login"', '"time"')) is None  # a repeated key
    assert _json_layout_of(json.dumps({**EVENT, "ua": 'a"b'})) is None  # an escape


def test_aliases_cover_the_fields_read() -> None:
    assert {"url", "login", "time_text"} <= set(ALIASES)


def test_json_quotes_in_a_value_are_not_hidden_by_a_line_with_fewer() -> None:
    # a raw quote pair in one line's value and, in the same slice, a line short of as many quotes (its keys'
    # quotes dropped): counted together they add up to the layout's quotes, yet the first is no JSON
    quoted = nss(EVENT).replace("Zaken", 'Za"x":"y"ken')
    short = nss(EVENT).replace('"login":', "login:").replace('"eurl":', "eurl:")
    lines = [nss(EVENT)] * 3 + [quoted, short] + [nss({**EVENT, "login": f"user{i}"}) for i in range(3)]
    by_layout = fields_of(lines, lambda cursor, table: _json_table(cursor, table, LAYOUTS_PER_BATCH))
    by_duckdb = fields_of(lines, lambda cursor, table: _json_table(cursor, table, 0))
    assert by_layout == by_duckdb
    assert by_layout[3]["parse_error"] == "not a JSON object"
