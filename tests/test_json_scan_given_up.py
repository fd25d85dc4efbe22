"""json_scan.read_inside where its reading in place gives up: the slot's value copied out whole in the same pass (for
`spans` to walk again, as defender_walk does), with the walk's spans `spans`' on every line. The copy is the string's
text with its escapes read (what `json.loads` gives), an object's or array's text as it stands, nothing for other
values and doubtful lines; where the value is an object the reading takes, its keys' values instead. (Moved from the
tests of spans_copying, the walk that only copied, gone since nothing called it: read_inside's copy is that copy.)

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
KEYS = ("query", "direction")  # (the inner keys read where they stand)


def _walked(lines: list[bytes], slot: int = FIELDS
            ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], np.ndarray, list[bytes], list[dict]]:
    """spans and read_inside's spans of the lines, `again`, each line's text and the inner keys' values it holds."""
    data = np.frombuffer(b"".join(lines) + bytes(8), np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(line) for line in lines])]).astype(np.int32)
    trie = json_scan.PathTrie(PATHS)
    plain = json_scan.spans(data, offsets, trie)
    walked, (begin, end, missing), again, text, text_offsets = json_scan.read_inside(
        data, offsets, trie, slot, json_scan.PathTrie([(key,) for key in KEYS]))
    copies = [bytes(text[text_offsets[i]:text_offsets[i + 1]]) for i in range(len(lines))]
    inner = [{key: bytes(text[begin[i, k]:end[i, k]]).decode() for k, key in enumerate(KEYS) if not missing[i, k]}
             for i in range(len(lines))]
    return plain, walked, again, copies, inner


def _same(plain: tuple[np.ndarray, ...], walked: tuple[np.ndarray, ...]) -> bool:
    return all((a == b).all() for a, b in zip(plain, walked, strict=True))


def _record(fields: object) -> bytes:
    """A DeviceNetworkEvents record with this AdditionalFields value, as the streaming API writes it (compact)."""
    return json.dumps({"time": "2026-03-30T08:11:02.1000000Z", "category": "AdvancedHunting-DeviceNetworkEvents",
                       "properties": {"ActionType": "DnsConnectionInspected", "RemotePort": 53,
                                      "AdditionalFields": fields}}, separators=(",", ":"), ensure_ascii=False).encode()


def test_escaped_json_string_given_up_is_copied_with_its_escapes_read() -> None:
    inner = {"direction": "Out", "query": "example.org", "answers": json.dumps(["192.0.2.1"]),
             "path": "C:\\temp\\x", "note": "tab\there / slash", "ctl": "\b\f\n\r", "nested": {"a": [1]}}
    fields = json.dumps(inner, separators=(",", ":"))
    plain, walked, again, copies, _ = _walked([_record(fields)])
    assert not plain[4][0]
    assert again.tolist() == [True]  # (a nested container: the reading gives up)
    assert copies == [fields.encode()]
    assert _same(plain, walked)


def test_escaped_slash_and_short_strings_near_the_line_end() -> None:
    lines = [b'{"properties":{"AdditionalFields":"a\\/b"}}', b'{"properties":{"AdditionalFields":"\\""}}',
             b'{"properties":{"AdditionalFields":""}}', b'{"properties":{"AdditionalFields":"x\\\\"}}']
    plain, walked, again, copies, _ = _walked(lines)
    assert not walked[4].any()
    assert again.all()
    assert copies == [b"a/b", b'"', b"", b"x\\"]
    assert _same(plain, walked)


def test_object_and_array_values_are_read_or_copied_as_they_stand() -> None:
    lines = [_record({"direction": "In", "query": "example.org"}), _record([1, 2]), _record({"a": {"b": [1]}})]
    plain, walked, again, copies, inner = _walked(lines)
    assert not walked[4].any()
    assert again.tolist() == [False, True, True]
    assert inner[0] == {"direction": "In", "query": "example.org"}
    assert copies[1:] == [b"[1,2]", b'{"a":{"b":[1]}}']
    assert _same(plain, walked)


def test_other_values_and_doubtful_lines_copy_nothing() -> None:
    lines = [_record(17), _record(None), _record(True), b'{"category":"x"}',
             b'{"properties":{"AdditionalFields":"\\u00e9"}}',  # \u escape in a value read: doubtful
             b'{"properties":{"AdditionalFields":"cut',  # no closing quote
             b'{"properties":{"AdditionalFields":"a\\qb"}}',  # no JSON escape
             b'{"properties":{"AdditionalFields":"ok"}} x',  # text after the object
             b'{"properties":{"AdditionalFields":"ok"},"properties":{}}']  # (a repeated key at a wanted path)
    plain, walked, again, copies, _ = _walked(lines)
    assert walked[4].tolist() == plain[4].tolist() == [False] * 4 + [True] * 5
    assert not again.any()
    assert copies == [b""] * len(lines)


def test_a_doubtful_line_drops_its_copy_and_the_next_line_starts_clean() -> None:
    lines = [_record("first"), b'{"properties":{"AdditionalFields":"dropped"},"oops"}', _record("third")]
    _, walked, again, copies, _ = _walked(lines)
    assert walked[4].tolist() == [False, True, False]
    assert again.tolist() == [True, False, True]
    assert copies == [b"first", b"", b"third"]


def test_any_slot_may_be_the_one_read() -> None:
    lines = [_record("{\"query\":\"example.org\"}"), b'{"category":"a\\"b","properties":{"ActionType":"x"}}']
    plain, walked, again, copies, _ = _walked(lines, slot=0)
    assert _same(plain, walked)
    assert again.all()
    assert copies == [b"AdvancedHunting-DeviceNetworkEvents", b'a"b']


# (runs of eight plain bytes and more: the copy's word-at-a-time path)
TEXTS = st.lists(st.sampled_from([*'ab"\\/\b\f\n\r\t {}:,é', "x" * 9, "y" * 17]), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(TEXTS, st.dictionaries(st.one_of(st.sampled_from(KEYS), TEXTS), TEXTS, max_size=4)),
                min_size=1, max_size=8))
def test_copies_equal_the_decoded_strings_and_readings_the_objects(values: list[object]) -> None:
    texts = [value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
             for value in values]
    plain, walked, again, copies, inner = _walked([_record(text) for text in texts])
    assert _same(plain, walked)
    for text, copy, read, doubtful, again_ in zip(texts, copies, inner, walked[4], again, strict=True):
        if doubtful:  # (json.dumps writes control characters other than \b\f\n\r\t as \u escapes)
            assert copy == b""
            assert not again_
        elif again_:
            assert copy == text.encode()
        else:  # (read where it stands: a JSON object, its keys' values as that JSON writes them)
            expected = json.loads(text)
            assert isinstance(expected, dict)
            assert {key: json.loads(f'"{found}"') for key, found in read.items()} == \
                {key: expected[key] for key in KEYS if key in expected}
