"""The compiled FortiGate scan (fortigate_scan.py) against a plain reading of its documented rules, on lines made
of the bytes that matter (quote marks, `=`, spaces, a PRI's `<` and `>`, parts of keys)."""

from __future__ import annotations

import re

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.compiled import WantedKeys
from detector.ingest.fortigate_scan import value_spans
from detector.ingest.layout_bytes import line_bytes

KEYS = ("type", "subtype", "tz", "t", "srcip")
PIECES = ['"', "=", " ", "<", ">", "type", "sub", "tz", "t", "srcip", "x", "1", "é", '="', "<189>"]


def rules(line: bytes, keys: tuple[str, ...]) -> dict[str, bytes]:
    """Each key's value as fortigate_scan's docstring states the rules, one `=` at a time."""
    begin = 0
    if line[:1] == b"<":
        closing, quote = line.find(b">"), line.find(b'"')
        if closing >= 0 and (quote < 0 or closing < quote):
            begin = closing + 1
    values: dict[str, bytes] = {}
    for at in (match.start() for match in re.finditer(b"=", line)):
        if at < begin or line[:at].count(b'"') % 2:
            continue
        key = line[max(line.rfind(b" ", begin, at), line.rfind(b"=", begin, at), begin - 1) + 1:at].decode()
        if key in keys and key not in values:
            rest = line[at + 1:]
            if rest[:1] == b'"':
                closing = rest.find(b'"', 1)
                values[key] = rest[1:closing if closing >= 0 else len(rest)]
            else:
                values[key] = re.match(rb'[^" =]*=?', rest).group()
    return values


def scanned(lines: list[str], keys: tuple[str, ...]) -> list[dict[str, bytes]]:
    array = pa.array(lines)
    _, data, offsets = line_bytes(array)
    found, starts, ends = value_spans(data, offsets, WantedKeys(keys))
    return [{key: bytes(data[starts[row, number]:ends[row, number]])
             for number, key in enumerate(keys) if found[row, number]} for row in range(len(lines))]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=14).map("".join), min_size=1, max_size=8))
def test_the_scan_follows_its_rules(lines: list[str]) -> None:
    assert scanned(lines, KEYS) == [rules(line.encode(), KEYS) for line in lines]


def test_examples_of_each_rule() -> None:
    lines = [
        '<189>type="traffic" msg="a type=x" subtype=forward= srcip=1.2.3.4"x" type=later',
        'xtype=1 tz="+0100',  # a longer word ending in a key is no key; a quoted value runs to the line's end
        '<1 "q">type=2',  # a quote mark before the `>`: no PRI, the `>` is part of the word
        "",
    ]
    assert scanned(lines, KEYS) == [
        {"type": b"traffic", "subtype": b"forward=", "srcip": b"1.2.3.4"},
        {"tz": b"+0100"},
        {},
        {},
    ]
