"""json_scan.spans_copying: the walk that also copies one slot's value out (Defender's AdditionalFields, a JSON string
holding JSON): its spans are `spans`' on every line, and the copy is the string's text with its escapes read (what
`json.loads` gives), an object's or array's text as it stands, nothing for other values and doubtful lines.

Lines written from the JSON grammar (RFC 8259, https://www.rfc-editor.org/rfc/rfc8259: strings with the escapes
\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX) and the layout of Defender's streaming API records (Microsoft, "Stream
Microsoft Defender for Endpoint events": `{"time", "category", "properties": {... "AdditionalFields": ...}}`, the
Zeek-based inspection fields as an escaped JSON string, https://learn.microsoft.com/en-us/defender-xdr/
advanced-hunting-devicenetworkevents-table).
"""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest import json_scan

PATHS = (("category",), ("properties", "ActionType"), ("properties", "AdditionalFields"))
FIELDS = 2


def _walked(lines: list[bytes], slot: int = FIELDS) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...],
                                                              list[bytes]]:
    """spans and spans_copying of the lines, and each line's copy."""
    data = np.frombuffer(b"".join(lines) + bytes(8), np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(line) for line in lines])]).astype(np.int32)
    trie = json_scan.PathTrie(PATHS)
    plain = json_scan.spans(data, offsets, trie)
    copying, text, text_offsets = json_scan.spans_copying(data, offsets, trie, slot)
    copies = [bytes(text[text_offsets[i]:text_offsets[i + 1]]) for i in range(len(lines))]
    return plain, copying, copies


def _record(fields: object) -> bytes:
    """A DeviceNetworkEvents record with this AdditionalFields value, as the streaming API writes it (compact)."""
    return json.dumps({"time": "2026-03-30T08:11:02.1000000Z", "category": "AdvancedHunting-DeviceNetworkEvents",
                       "properties": {"ActionType": "DnsConnectionInspected", "RemotePort": 53,
                                      "AdditionalFields": fields}}, separators=(",", ":"), ensure_ascii=False).encode()


def test_escaped_json_string_is_copied_with_its_escapes_read() -> None:
    inner = {"direction": "Out", "query": "example.org", "answers": json.dumps(["192.0.2.1"]),
             "path": "C:\\temp\\x", "note": "tab\there / slash", "ctl": "\b\f\n\r"}
    fields = json.dumps(inner, separators=(",", ":"))
    plain, copying, copies = _walked([_record(fields)])
    assert not plain[4][0]
    assert copies == [fields.encode()]
    assert all((a == b).all() for a, b in zip(plain, copying, strict=True))


def test_escaped_slash_and_short_strings_near_the_line_end() -> None:
    lines = [b'{"properties":{"AdditionalFields":"a\\/b"}}', b'{"properties":{"AdditionalFields":"\\""}}',
             b'{"properties":{"AdditionalFields":""}}', b'{"properties":{"AdditionalFields":"x\\\\"}}']
    _, copying, copies = _walked(lines)
    assert not copying[4].any()
    assert copies == [b"a/b", b'"', b"", b"x\\"]


def test_object_and_array_values_are_copied_as_they_stand() -> None:
    lines = [_record({"direction": "In", "query": "example.org"}), _record([1, 2]), _record({"a": {"b": [1]}})]
    _, copying, copies = _walked(lines)
    assert not copying[4].any()
    assert copies == [b'{"direction":"In","query":"example.org"}', b"[1,2]", b'{"a":{"b":[1]}}']


def test_other_values_and_doubtful_lines_copy_nothing() -> None:
    lines = [_record(17), _record(None), _record(True), b'{"category":"x"}',
             b'{"properties":{"AdditionalFields":"\\u00e9"}}',  # \u escape in a value read: doubtful
             b'{"properties":{"AdditionalFields":"cut',  # no closing quote
             b'{"properties":{"AdditionalFields":"a\\qb"}}',  # no JSON escape
             b'{"properties":{"AdditionalFields":"ok"}} x',  # text after the object
             b'{"properties":{"AdditionalFields":"ok"},"properties":{}}']  # (a repeated key at a wanted path)
    plain, copying, copies = _walked(lines)
    assert copying[4].tolist() == plain[4].tolist() == [False] * 4 + [True] * 5
    assert copies == [b""] * len(lines)


def test_a_doubtful_line_drops_its_copy_and_the_next_line_starts_clean() -> None:
    lines = [_record("first"), b'{"properties":{"AdditionalFields":"dropped"},"oops"}', _record("third")]
    _, copying, copies = _walked(lines)
    assert copying[4].tolist() == [False, True, False]
    assert copies == [b"first", b"", b"third"]


def test_any_slot_may_be_the_one_copied() -> None:
    lines = [_record("{\"query\":\"example.org\"}"), b'{"category":"a\\"b","properties":{"ActionType":"x"}}']
    plain, copying, copies = _walked(lines, slot=0)
    assert all((a == b).all() for a, b in zip(plain, copying, strict=True))
    assert copies == [b"AdvancedHunting-DeviceNetworkEvents", b'a"b']


# (runs of eight plain bytes and more: the copy's word-at-a-time path)
TEXTS = st.lists(st.sampled_from([*'ab"\\/\b\f\n\r\t {}:,é', "x" * 9, "y" * 17]), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(TEXTS, st.dictionaries(TEXTS, TEXTS, max_size=4)), min_size=1, max_size=8))
def test_copies_equal_the_decoded_strings(values: list[object]) -> None:
    lines = [_record(value if isinstance(value, str) else json.dumps(value, separators=(",", ":"),
                                                                      ensure_ascii=False)) for value in values]
    plain, copying, copies = _walked(lines)
    assert all((a == b).all() for a, b in zip(plain, copying, strict=True))
    for value, copy, doubtful in zip(values, copies, copying[4], strict=True):
        if doubtful:  # (json.dumps writes control characters other than \b\f\n\r\t as \u escapes)
            assert copy == b""
        else:
            assert copy == (value if isinstance(value, str)
                            else json.dumps(value, separators=(",", ":"), ensure_ascii=False)).encode()
