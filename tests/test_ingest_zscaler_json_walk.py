"""Zscaler NSS JSON lines walked piece by piece and value by value by their learned layout
(`zscaler_scan.json_layout_spans`): which lines a layout reads, and that what it reads is what DuckDB's JSON reader
reads of the same lines. Lines built from the JSON output type's documented layout ("NSS Feed Output Format: Web
Logs", https://help.zscaler.com/zia/nss-feed-output-format-web-logs: `{"sourcetype":"zscalernss-web","event":{...}}`,
every value a string), behind syslog headers as RFC 3164 (https://www.rfc-editor.org/rfc/rfc3164#section-4.1) and
RFC 5424 (https://www.rfc-editor.org/rfc/rfc5424#section-6) write them; the values are our own."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from detector.ingest.base import open_parse_connection, parse_cursor
from detector.ingest.zscaler import LAYOUTS_PER_BATCH, _json_fields, _json_layout_of, _json_table

EVENT = {"time": "Mon Mar 11 08:02:13 2024", "login": "j@x.nl", "eurl": "chatgpt.com/", "reqmethod": "GET",
         "urlcat": "AI & ML Applications", "ua": "Mozilla/5.0 (KHTML, like Gecko)", "dept": "Zaken"}


def nss(event: dict[str, str]) -> str:
    return '{"sourcetype":"zscalernss-web","event":' + json.dumps(event, separators=(",", ":"), ensure_ascii=False) \
        + "}"


def table_of(lines: list[str | None]) -> pa.Table:
    return pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines, pa.string())})


def fields_of(lines: list[str | None], layouts: int) -> list[dict]:
    with parse_cursor(open_parse_connection()) as cursor:
        columns = _json_table(cursor, table_of(lines), layouts)
    return pa.table({name: pc.cast(column, pa.string()) for name, column in columns.items()}).to_pylist()


def read_by_layout(lines: list[str | None], template: str) -> np.ndarray:
    """Which lines the layout of `template` reads."""
    layout = _json_layout_of(template)
    assert layout is not None
    [(fits, _)] = _json_fields(table_of(lines), [layout])
    return fits


# values whose closing quote falls on every place of a word, a comma right after the opening quote (`":",` looks
# like the end of a piece), brackets and braces, multi-byte characters
VALUES = ["", "a", ",", ",x", "a,b", ":", "[1]", "{", "}", "x}}", "é", "€uro", "😀", *("v" * n for n in range(5, 19))]


def test_values_are_read_to_their_closing_quote_as_duckdb_reads_them() -> None:
    lines = [nss(EVENT)] + [nss({**EVENT, "login": value, "dept": value[::-1]}) for value in VALUES]
    assert read_by_layout(lines, lines[0]).all()
    assert fields_of(lines, LAYOUTS_PER_BATCH) == fields_of(lines, 0)
    assert [row["login"] for row in fields_of(lines, LAYOUTS_PER_BATCH)][1:4] == ["", "a", ","]


@pytest.mark.parametrize("odd", ["\\", "\t", "\x1f", "\x00", '"'])
def test_an_escape_or_control_character_anywhere_in_a_value_leaves_the_line_to_duckdb(odd: str) -> None:
    lines = [nss(EVENT)]
    for at in range(10):  # (every place in a word, the value's first and last byte too)
        value = "0123456789"[:at] + odd + "0123456789"[at:]
        lines.append(nss(EVENT).replace('"Zaken"', f'"{value}"'))
    fits = read_by_layout(lines, lines[0])
    assert fits[0] and not fits[1:].any()
    assert fields_of(lines, LAYOUTS_PER_BATCH) == fields_of(lines, 0)


def test_a_line_that_ends_the_buffer_is_read_to_its_last_byte() -> None:
    # each line the last of its chunk's buffer, values of every length up to the end (no word to load past it)
    for value in VALUES:
        line = nss({**EVENT, "dept": value})
        lines = [nss(EVENT), line]
        fits = read_by_layout(lines, lines[0])
        assert fits.all()
        assert fields_of(lines, LAYOUTS_PER_BATCH) == fields_of(lines, 0)
        assert fields_of([line], LAYOUTS_PER_BATCH)[0]["dept"] == value


def test_pieces_out_of_place_or_cut_leave_the_line() -> None:
    line = nss(EVENT)
    lines = [line, line[:-1], line + " ", line.replace('"dept"', '"Dept"'), line.replace(',"ua"', ', "ua"'),
             line[:len(line) // 2], "", None, line.replace('"login"', '"time"')]
    fits = read_by_layout(lines, line)
    assert fits.tolist() == [True] + [False] * (len(lines) - 1)
    assert fields_of(lines, LAYOUTS_PER_BATCH) == fields_of(lines, 0)


def test_a_line_off_the_first_layout_half_way_is_read_by_the_second() -> None:
    # two layouts alike up to the user agent: a line walked along the first up to there is read by the second
    first = nss(EVENT)
    second = nss({**EVENT, "ua": "curl/8.5", "urlcat": "x"}).replace('"urlcat"', '"appclass"')
    lines = [first, second] * 30 + [nss({**EVENT, "dept": "Wonen"}), second.replace("curl/8.5", "x é")]
    read = _json_fields(table_of(lines), [_json_layout_of(first), _json_layout_of(second)])
    assert read[0][0].tolist() == [True, False] * 30 + [True, False]
    assert read[1][0].tolist() == [False, True] * 30 + [False, True]
    assert plain_texts(read[1][1]["ua"]) == ["curl/8.5"] * 30 + ["x é"]
    assert fields_of(lines, LAYOUTS_PER_BATCH) == fields_of(lines, 0)


def plain_texts(values: pa.Array) -> list[str]:
    return pc.cast(values, pa.string()).to_pylist()


def test_headers_before_the_object() -> None:
    bsd = "Mar 11 08:02:14 zscaler-nss NSS " + nss(EVENT)
    rfc5424 = "<134>1 2024-03-11T08:05:41Z zscaler-nss NSS - - - event=" + nss(EVENT)
    lines = [bsd, rfc5424,
             bsd.replace("Zaken", "a [b]"),  # a bracket in a value: read (no structured data to mistake)
             rfc5424.replace("Zaken", "a [b]"),  # ... behind an RFC 5424 header: left to DuckDB
             rfc5424.replace("- - -", "- - [x@1 a=1]"),  # structured data
             bsd.replace("NSS ", 'NSS "x" '), bsd.replace("NSS ", "NSS\t"), bsd.replace("NSS ", "NSS a\\b "),
             bsd.replace("NSS {", "NSS }{"), "<13>" + nss(EVENT), nss(EVENT)]
    fits = read_by_layout(lines, bsd)
    assert fits.tolist() == [True, True, True, False, False, False, False, False, True, True, True]
    assert fields_of(lines, LAYOUTS_PER_BATCH) == fields_of(lines, 0)
