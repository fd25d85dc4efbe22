"""UTF-16 files read as UTF-8.

Windows PowerShell 5.1 writes UTF-16 (little-endian, with a byte order mark) wherever output is redirected (`... >
export.csv`, `Out-File`), and some Windows tools export so. Every format reads UTF-8, so such a file (it starts with
the mark FF FE or FE FF) is decoded as it streams, in bounded memory, and handed on as UTF-8; other files pass
through untouched. Offsets, hashes and the manifest then count the UTF-8 bytes, the same on every run.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import IO

from detector.ingest.produced_stream import produced_stream

_MARKS = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}
_READ_BYTES = 1024 * 1024


def _utf8_pieces(source: IO[bytes], encoding: str) -> Iterator[bytes]:
    """The source's UTF-16 text from where it stands, as UTF-8, a read at a time."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    while data := source.read(_READ_BYTES):
        yield decoder.decode(data).encode("utf-8")
    yield decoder.decode(b"", final=True).encode("utf-8")


def as_utf8(stream: IO[bytes]) -> IO[bytes]:
    """The stream itself, or where it is UTF-16 with a byte order mark (and can be read again from its start), its
    text as UTF-8."""
    if not stream.seekable():
        return stream
    try:
        mark = stream.read(2)
    except (EOFError, OSError, ValueError):
        mark = b""  # a broken compressed file: the reader reports where it breaks
    stream.seek(0)
    encoding = _MARKS.get(mark)
    if encoding is None:
        return stream
    stream.seek(len(mark))
    return produced_stream(stream, lambda: _utf8_pieces(stream, encoding), restart=lambda: stream.seek(len(mark)))
