"""JSON documents (an array, a page of records, pretty-printed objects) read as one record a line (json_document)."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from detector.config import load_settings
from detector.ingest import FORMATS
from detector.ingest.json_document import as_json_lines, is_document
from detector.ingest.pipeline import ingest_paths, parse_file
from tests.golden import golden_settings

RECORDS = [
    {"timestamp": "2026-12-01T08:00:01Z", "client_ip": "10.20.1.15", "user": "j.devries", "url": "https://chatgpt.com/c",
     "action": "allowed", "note": "ü € \" \\ \n"},
    {"timestamp": "2026-12-01T08:00:02Z", "client_ip": "10.20.1.16", "user": "p.jansen", "host": "claude.ai",
     "action": "blocked", "bytes_sent": 2.5e3},
    {"timestamp": "2026-12-01T08:00:03Z", "client_ip": "10.20.1.17", "host": "gemini.google.com",
     "answers": [{"type": "A", "data": "192.0.2.1"}]},
]


def hosts_of(tmp_path: Path, name: str, data: bytes) -> tuple[list[tuple[int, str]], int]:
    path = tmp_path / name
    path.write_bytes(data)
    events, rejects, report = parse_file(path, FORMATS["json"], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored and not rejects.num_rows
    return sorted((e["line_no"], e["host"]) for e in events.to_pylist()), report.lines


EXPECTED = [(1, "chatgpt.com"), (2, "claude.ai"), (3, "gemini.google.com")]


@pytest.mark.parametrize("document", [
    json.dumps(RECORDS, indent=4),                                     # ConvertTo-Json, az -o json
    json.dumps(RECORDS),                                               # an array on one line
    json.dumps({"@odata.context": "https://graph.example/$metadata", "value": RECORDS}, indent=2),  # a Graph page
    json.dumps({"records": RECORDS}, indent=1),                        # an Azure storage account's file
    json.dumps({"took": 3, "hits": {"total": {"value": 3}, "hits": [{"_index": "proxy", "_source": r}
                                                                     for r in RECORDS]}}, indent=2),  # Elasticsearch
    "\n".join(json.dumps(r, indent=2) for r in RECORDS),              # ConvertTo-Json per object, no -Compress
    "\r\n".join(json.dumps({"value": [r]}, indent=2).replace("\n", "\r\n") for r in RECORDS),  # Graph pages
], ids=["array", "one-line-array", "graph", "azure-records", "elasticsearch", "objects", "crlf-pages"])
def test_a_document_is_read_one_record_a_line(tmp_path: Path, document: str) -> None:
    assert hosts_of(tmp_path, "export.json", b"\xef\xbb\xbf" + document.encode()) == (EXPECTED, 3)


def test_a_compressed_document_is_read_the_same(tmp_path: Path) -> None:
    assert hosts_of(tmp_path, "export.json.gz", gzip.compress(json.dumps(RECORDS, indent=2).encode())) == (EXPECTED, 3)


def test_json_lines_and_text_logs_pass_through_unchanged() -> None:
    lines = b"".join(json.dumps(r).encode() + b"\n" for r in RECORDS)
    unbound = b"[1764576001] unbound[812:0] info: 10.20.1.15 chatgpt.com. A IN\n"
    for data in (lines, unbound, b"{ \"a\": 1 }\n", b'{"data": [{"a": 1}]}\n'):
        assert not is_document(data)
        assert as_json_lines(io.BytesIO(data)).read() == data
    assert is_document(b"[\n]") and as_json_lines(io.BytesIO(b"[\n]")).read() == b""
    assert as_json_lines(io.BytesIO(b"{\n}\n")).read() == b"{}\n"  # an empty object is a record (rejected as such)


def test_lines_holding_batches_give_their_records_and_other_lines_pass_unchanged() -> None:
    # (the first line decides: an array, or an object with `value` / `records` / `Records`; a REST response, a
    # collector's batches, ConvertTo-Json -Compress)
    one = [json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for r in RECORDS]
    batches = (json.dumps(RECORDS[:2]) + "\n" + json.dumps({"value": RECORDS[2:]}) + "\n[]x\n[\"a\"]\n"
               + json.dumps(RECORDS[0]) + "\n").encode()
    assert is_document(batches)
    assert as_json_lines(io.BytesIO(batches)).read() == b"".join(
        [*one, b"[]x\n", b'["a"]\n', json.dumps(RECORDS[0]).encode() + b"\n"])  # (no objects: passed on)


def test_an_array_that_is_no_records_is_one_record_and_a_key_of_another_name_is_data() -> None:
    # a pretty-printed event whose lists are its own data (answers) is one record; so is an object whose
    # `data` holds no objects
    event = dict(RECORDS[2], value=[1, 2])
    assert as_json_lines(io.BytesIO(json.dumps(event, indent=2).encode())).read() == \
        json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def test_a_broken_document_keeps_the_records_before_the_break_and_says_where(tmp_path: Path) -> None:
    text = json.dumps(RECORDS, indent=2)
    broken = text[: text.index('"gemini.google.com"') + 5]
    home = tmp_path / "home"
    path = tmp_path / "broken.json"
    path.write_text(broken, encoding="utf-8")
    [report] = list(ingest_paths(load_settings(home), [str(path)], "json"))
    assert (report.lines, report.parsed) == (2, 2)
    assert report.error is not None and "the JSON document breaks after 2 records" in report.error


def test_a_document_ingested_again_adds_nothing_and_a_grown_one_only_its_new_records(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = tmp_path / "export.json"
    path.write_text(json.dumps(RECORDS[:2], indent=2), encoding="utf-8")
    settings = load_settings(home)
    assert [(r.format, r.parsed, r.skipped) for r in ingest_paths(settings, [str(path)])] == [("json", 2, False)]
    assert [(r.parsed, r.skipped) for r in ingest_paths(settings, [str(path)])] == [(0, True)]
    path.write_text(json.dumps(RECORDS, indent=2), encoding="utf-8")  # the export run again, one record more
    assert [(r.parsed, r.skipped) for r in ingest_paths(settings, [str(path)])] == [(1, False)]


def test_a_top_level_value_of_another_shape_stops_the_document_with_an_error_that_says_so(tmp_path: Path) -> None:
    # pretty-printed arrays one after another are read; an object after them is not silently passed over
    text = json.dumps(RECORDS[:1], indent=2) + "\n" + json.dumps(RECORDS[1:2], indent=2) + "\n" + \
        json.dumps(RECORDS[2], indent=2) + "\n"
    path = tmp_path / "mixed.json"
    path.write_text(text, encoding="utf-8")
    [report] = list(ingest_paths(load_settings(tmp_path / "home"), [str(path)], "json"))
    assert report.parsed == 2
    assert report.error is not None and "holds a top-level object after its 2 records" in report.error
