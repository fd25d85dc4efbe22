"""JSON documents and batches read as JSON lines, one record a line.

The log formats read one JSON object a line, as SIEMs and shippers write them. But the tools an analyst exports with
write documents, and some feeds write batches:
- a pretty-printed document (its first line a lone `[` or `{`): PowerShell's `ConvertTo-Json` and `az ... -o json`
  write an array; Microsoft Graph a page `{"@odata.context": ..., "value": [...]}` (pages saved one after another);
  an Azure storage account's diagnostic logs `{"records": [...]}`; AWS CloudTrail `{"Records": [...]}`; an
  Elasticsearch search `{"hits": {"hits": [...]}}`; `ConvertTo-Json` without `-Compress` one object after another.
  Streamed with ijson (yajl's C parser, bounded memory): the records are the items of the array, of a top-level
  RECORD_KEYS array of objects, or else each top-level object itself.
- lines that hold a batch (the first line an array, or an object holding `value` / `records` / `Records`): a
  collector's batches `[{...}, {...}]` a line (Zscaler Cloud NSS's JSON array option), a REST response saved as
  it came (`{"value": [...]}` on one line), PowerShell's `ConvertTo-Json -Compress`. Each such line gives its
  records; any other line passes unchanged.
Each record is written as one compact line, so every format, the sniffer, the manifest's offsets and hashes and the
accounting (a record is a line) see JSON lines. Anything else passes through untouched.

A pretty-printed document's top-level values after the first are read by the first one's shape (an array's items,
a container's records, objects): one tool's output, or pages of it, share it. In an indented document (only
top-level values start a line with a bracket) a value of another shape stops the reading with an error that says
so, the records before it kept: none is dropped unsaid. A document that breaks off likewise.

Measured (benchmarks/json_document.py, 1M Graph traffic records, 791 MB pretty-printed, 2026-12-02): the stream alone
10.5 s (75 MB/s); `ingest` 13.6 s wall, 15.4 s CPU, peak RSS 607 MiB, against 1.9 s and 3.0 s (609 MiB) for the same
records as JSON lines: the stream is read twice (the fingerprint, then the records), at the speed of ijson and
json.dumps. Exports are seldom that large; lines stay the fast way for a feed. (The first version appended each
line to its pending bytes: 7.4 MB/s.)
"""

from __future__ import annotations

import io
import json
import lzma
import re
import zlib
from collections.abc import Iterator
from typing import IO

import ijson

from detector.ingest.produced_stream import produced_stream

# Keys under which a document's top-level object holds its records (OData/Graph, Azure Monitor, CloudTrail, common
# REST APIs); `hits` is Elasticsearch's, whose records are `hits.hits`.
RECORD_KEYS = ("value", "records", "Records", "items", "data", "results", "events", "logs", "rows", "entries", "hits")
# On one line, only these name a batch: an event's own `data` or `events` list is the event's data.
LINE_RECORD_KEYS = ("value", "records", "Records")
# How much of a file is looked at to tell a document from JSON lines (or any other log).
PEEK_BYTES = 4096
# A line longer than this is passed on as it is (the reader rejects it as too long) rather than held whole.
MAX_BATCH_LINE_BYTES = 256 * 1024 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"
# A pretty-printed document: its first line a lone `[` or `{` (a JSON lines file's first line is a whole object).
_PRETTY = re.compile(rb"\s*[\[{][ \t]*\r?\n")
# A line holding a batch: an array of objects (or an empty one), or an object naming LINE_RECORD_KEYS' array of
# objects. A text log that starts with `[` has a time or a name after it.
_BATCH_LINE = re.compile(rb'[ \t]*(?:\[\s*[{\]]|\{.*"(?:' + b"|".join(k.encode() for k in LINE_RECORD_KEYS)
                         + rb')"\s*:\s*\[\s*\{)')
_COMPACT = {"ensure_ascii": False, "separators": (",", ":")}


def document_kind(head: bytes) -> str | None:
    """`pretty`, `lines` (lines holding batches) or None (JSON lines or another log), from a file's first bytes."""
    head = head.removeprefix(_UTF8_BOM)
    if _PRETTY.match(head):
        return "pretty"
    first_line = head.lstrip(b" \t\r\n").split(b"\n", 1)[0]
    return "lines" if _BATCH_LINE.match(first_line) else None


def is_document(head: bytes) -> bool:
    """Whether a file starting with `head` is read record by record (a document, or lines holding batches)."""
    return document_kind(head) is not None


def records_prefix(stream: IO[bytes]) -> str:
    """The ijson prefix of a document's records: the array's items, the items of a top-level RECORD_KEYS array of
    objects, or else each top-level object itself (""). Reads the document's first object at most."""
    events = ijson.parse(stream, multiple_values=True)
    try:
        _, first, _ = next(events)
        if first == "start_array":
            return "item"
        depth, key, opened = 1, None, None  # `opened`: the array just begun, read at the next event
        for prefix, event, value in events:
            if opened is not None and event in ("start_map", "end_array"):
                return f"{opened}.item"
            opened = None
            if depth == 1 and event == "map_key":
                key = value
            elif event == "start_array" and _holds_records(depth, key, prefix):
                opened = prefix
            if event in ("start_map", "start_array"):
                depth += 1
            elif event in ("end_map", "end_array"):
                depth -= 1
                if depth == 0:
                    break
    except (ijson.JSONError, StopIteration):
        pass  # broken or empty: read as top-level values, where the break is then reported
    return ""


def _holds_records(depth: int, key: object, prefix: str) -> bool:
    """Whether an array starting here is where a document keeps its records (RECORD_KEYS, Elasticsearch's)."""
    return (depth == 1 and key in RECORD_KEYS) or (depth == 2 and prefix == "hits.hits")


def _document_records(source: IO[bytes], prefix: str) -> Iterator[bytes]:
    """A pretty-printed document's records (records_prefix), each a compact line; a break in the document, or a
    top-level value of another shape (_ShapeGuard), ends them with an OSError that says so."""
    count = 0
    try:
        for record in ijson.items(source, prefix, use_float=True, multiple_values=True):
            count += 1
            yield json.dumps(record, **_COMPACT).encode() + b"\n"  # type: ignore[arg-type]
    except ijson.JSONError as exc:
        raise OSError(f"the JSON document breaks after {count} records: {exc}") from exc
    except _OtherShape as exc:
        raise OSError(f"the JSON document holds a top-level {exc} after its {count} records: the rest is not "
                      "read (one document a file)") from None


class _OtherShape(Exception):
    pass


class _ShapeGuard(io.RawIOBase):
    """The source as ijson reads it, watching for a top-level value of another shape than the first: in an indented
    document only top-level values start a line with a bracket."""

    def __init__(self, source: IO[bytes], shape: bytes) -> None:
        self._source = source
        self._other = b"\n{" if shape == b"[" else b"\n["
        self._last = b""
        self._stopped = False

    def readable(self) -> bool:
        return True

    def readinto(self, target: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._stopped:
            raise _OtherShape("object" if self._other == b"\n{" else "array")
        data = self._source.read(len(target))
        at = (self._last + data).find(self._other)
        if at >= 0:  # the bytes before the other value are read first (the records in them are whole)
            data, self._stopped = data[:at + 1 - len(self._last)], True
            if not data:
                raise _OtherShape("object" if self._other == b"\n{" else "array")
        self._last = data[-1:]
        target[:len(data)] = data
        return len(data)


def _batch_lines(source: IO[bytes]) -> Iterator[bytes]:
    """Each line as it is, or, where it holds a batch (_BATCH_LINE), its records a line each."""
    while line := source.readline(MAX_BATCH_LINE_BYTES):
        if len(line) < MAX_BATCH_LINE_BYTES or line.endswith(b"\n"):
            yield from _batch_records(line) or (line,)
            continue
        yield line  # too long to hold: on as it is, to its end
        while line and not line.endswith(b"\n"):
            line = source.readline(MAX_BATCH_LINE_BYTES)
            yield line


def _batch_records(line: bytes) -> list[bytes] | None:
    """A batch line's records as lines, or None for a line that holds none (passed on as it is)."""
    if not _BATCH_LINE.match(line):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if isinstance(value, dict):
        value = next((value[key] for key in LINE_RECORD_KEYS
                      if isinstance(value.get(key), list) and all(isinstance(item, dict) for item in value[key])),
                     None)
    if not isinstance(value, list):
        return None
    return [json.dumps(record, **_COMPACT).encode() + b"\n" for record in value]  # type: ignore[arg-type]


def as_json_lines(stream: IO[bytes]) -> IO[bytes]:
    """The stream itself, or where it holds a JSON document or batches (and can be read again from its start), its
    records as JSON lines."""
    if not stream.seekable():
        return stream
    head = b""
    try:
        while len(head) < PEEK_BYTES and (piece := stream.read1(PEEK_BYTES - len(head))):  # type: ignore[attr-defined]
            head += piece
    except (EOFError, OSError, zlib.error, lzma.LZMAError):
        pass  # a broken compressed file: the reader reports where it breaks
    stream.seek(0)
    kind = document_kind(head)
    if kind is None:
        return stream
    mark = len(_UTF8_BOM) if head.startswith(_UTF8_BOM) else 0  # (a byte order mark is no JSON: read past it)
    stream.read(mark)
    if kind == "lines":
        return produced_stream(stream, lambda: _batch_lines(stream))
    prefix = records_prefix(stream)
    stream.seek(0)
    stream.read(mark)
    second_line = head[mark:].lstrip(b" \t\r\n").split(b"\n", 2)[1:2]
    indented = bool(second_line) and second_line[0][:1] in (b" ", b"\t")
    parsed = _ShapeGuard(stream, b"[" if prefix == "item" else b"{") if indented else stream
    return produced_stream(stream, lambda: _document_records(parsed, prefix))
