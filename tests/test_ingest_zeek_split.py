"""Zeek's numpy split of TSV lines against the list split, the JSON times without a regex, odd headers and
values that must not fail a batch, and http's first MIME type read directly in both writers."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pytest

from detector.ingest import zeek
from detector.ingest.arrow_ops import cut_at
from detector.ingest.distinct_sql import url_parts
from tests.test_ingest_zeek import header, parse

HTTP_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "method", "host", "uri",
               "user_agent", "status_code", "resp_mime_types"]
CONN_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
               "orig_bytes", "resp_bytes"]


def _random_lines(rows: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    values = ["", "-", "(empty)", "x", "é-ü", "(empty", "--", "a b", "1700000000.000001", "日本"]
    return ["\t".join(rnd.choice(values) for _ in range(rnd.choice([1, 2, 5, 6, 6, 6, 7]))) for _ in range(rows)]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("read", [None, [2, 4], [0, 5], [7]])
def test_numpy_split_matches_the_list_split(seed: int, read: list[int] | None) -> None:
    """Every field of every line (slices of the text, lines with fewer or more fields, placeholders) as a
    split reads it, whichever fields were announced as read; the same field count as the list split;
    placeholders null."""
    lines = pa.array(["lead", *_random_lines(500, seed)]).slice(1)
    if seed % 2:  # every line with as many fields: the matrix reading
        lines = pa.array(["lead", *("\t".join(line.split("\t")[:1] * 6) for line in lines.to_pylist())]).slice(1)
    placeholders = ("-", "(empty)")
    field, count = zeek._split_at_byte(lines, "\t", placeholders, read)
    _, listed_count = zeek._split_with_lists(lines, "\t", list(range(8)), 6)
    assert count.to_pylist() == listed_count.to_pylist()
    split = [line.split("\t") for line in lines.to_pylist()]
    for position in range(8):
        expected = [values[position] if position < len(values) else None for values in split]
        assert field(position).to_pylist() == [None if v in placeholders else v for v in expected], position


def test_numpy_split_of_empty_lines_and_separators_only() -> None:
    field, count = zeek._split_at_byte(pa.array(["", "\t", "\t\t", "a"]), "\t", ())
    assert count.to_pylist() == [1, 2, 3, 1]
    assert field(0).to_pylist() == ["", "", "", "a"]
    assert field(1).to_pylist() == [None, "", "", None]
    assert field(2).to_pylist() == [None, None, "", None]


def test_a_header_without_separators_does_not_fail_the_batch(tmp_path: Path) -> None:
    fields = header("http", HTTP_FIELDS)
    no_set_separator = [line if not line.startswith("#set_separator") else "#set_separator\t" for line in fields]
    line = "1700000000.500000\tC1\t10.0.0.1\t5\t104.18.32.47\t80\tGET\tchatgpt.com\t/\tcurl\t200\ttext/html,text/plain"
    events, _, _ = parse(tmp_path, "zeek_http", [*no_set_separator, line])
    assert [e["content_type"] for e in events] == ["text/html,text/plain"]
    events, _, _ = parse(tmp_path, "zeek_http", ["#separator ", *fields[1:], line])  # the tab stays
    assert [e["content_type"] for e in events] == ["text/html"]


def test_a_duration_too_large_for_milliseconds_is_null_not_a_failed_batch(tmp_path: Path) -> None:
    line = "1700000000.500000\tC1\t10.0.0.1\t5\t104.18.32.47\t443\ttcp\tssl\t{}\t10\t20"
    lines = [*header("conn", CONN_FIELDS), line.format("1e400"), line.format("99999999999999999999.5"),
             line.format("1.5")]
    events, _, _ = parse(tmp_path, "zeek_conn", lines)
    assert [e["duration_ms"] for e in events] == [None, None, 1500]


@pytest.mark.parametrize(("mime_types", "content_type"), [
    ('["text/html","text/plain"]', "text/html"), ("[]", None), ('"text/html"', None), ("[null]", None),
    ('[{"a":1}]', '{"a":1}'), ("[1]", "1"), ("null", None), ('["a\\"b"]', 'a"b'),
])
def test_json_first_mime_type(tmp_path: Path, mime_types: str, content_type: str | None) -> None:
    line = ('{"ts":1700000000.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":5,"id.resp_h":"1.2.3.4",'
            f'"id.resp_p":80,"trans_depth":1,"method":"GET","host":"a.example","uri":"/","resp_mime_types":{mime_types}}}')
    events, _, _ = parse(tmp_path, "zeek_http", [line])
    assert [e["content_type"] for e in events] == [content_type]


def test_tsv_first_mime_type_with_a_longer_set_separator(tmp_path: Path) -> None:
    fields = [line if not line.startswith("#set_separator") else "#set_separator\t;;" for line in header(
        "http", HTTP_FIELDS)]
    line = "1700000000.500000\tC1\t10.0.0.1\t5\t104.18.32.47\t80\tGET\tchatgpt.com\t/\tcurl\t200\ta/b;;c/d;;e/f"
    events, _, _ = parse(tmp_path, "zeek_http", [*fields, line])
    assert [e["content_type"] for e in events] == ["a/b"]


@pytest.mark.parametrize("values", [
    ["/a?b#c", "/d#e?f", None, "?", "#", "", "/plain", "é?ü", "/x??y"], ["/a", None, "/b"], [None, None], [],
])
def test_relative_uri_path_as_cut_at_each_mark(values: list[str | None]) -> None:
    text = pa.array(["lead?", *values, "tail#"], pa.string()).slice(1, len(values))
    path, absolute, _ = zeek._uri_parts(text)
    assert path.to_pylist() == cut_at(cut_at(text, "?"), "#").to_pylist()
    assert len(absolute) == 0


@pytest.mark.parametrize("seed", range(4))
def test_uri_parts_as_url_parts(seed: int) -> None:
    """Random URIs of '/', '?', '#', ':', '://', letters and digits (sliced, with nulls): a URI with a scheme
    has the path and authority `url_parts` reads, any other is cut at its first '?' or '#' (a '://' after its
    start included)."""
    rnd = random.Random(seed)
    pieces = ["/", "?", "#", ":", "://", "//", "@", "a", "é", ":/", "1", "+", "http://"]
    values = [None if rnd.random() < 0.05 else "".join(rnd.choice(pieces) for _ in range(rnd.randrange(8)))
              for _ in range(3_000)]
    text = pa.array(["http://lead/", *values, "tail://"], pa.string()).slice(1, len(values))
    path, absolute, authority = zeek._uri_parts(text)
    url_scheme, _, url_authority, url_path = url_parts(text)
    relative = cut_at(cut_at(text, "?"), "#").to_pylist()
    is_absolute = [scheme is not None for scheme in url_scheme.to_pylist()]
    assert 0 < sum(is_absolute) < sum(value is not None and "://" in value for value in values)
    assert absolute.tolist() == [row for row, flag in enumerate(is_absolute) if flag]
    assert path.to_pylist() == [url_path[row].as_py() if flag else relative[row]
                                for row, flag in enumerate(is_absolute)]
    assert authority.to_pylist() == [url_authority[row].as_py() for row in absolute]


def test_coalesce_on_dictionaries_as_on_text() -> None:
    """Two dictionary arrays (overlapping values, nulls in either) chosen per row as their decoded text would be;
    the joined dictionary holds each value once."""
    chosen = pa.array(["a", None, "b", "c", None]).dictionary_encode()
    otherwise = pa.array(["b", "x", None, "a", "y"]).dictionary_encode()
    use = pa.array([True, True, False, False, False])
    joined = zeek._coalesce_where(use, chosen, otherwise)
    assert joined.to_pylist() == ["a", None, None, "a", "y"]
    assert len(joined.dictionary) == len(set(joined.dictionary.to_pylist()))
    assert zeek._coalesce_where(use, chosen.dictionary_decode(), otherwise).to_pylist() == joined.to_pylist()
