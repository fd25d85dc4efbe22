"""UTF-16 files read as UTF-8.

Windows PowerShell 5.1 writes UTF-16 (little-endian, with a byte order mark) wherever output is redirected (`... >
export.csv`, `Out-File`), and some Windows tools export so. Every format reads UTF-8, so such a file (it starts with
the mark FF FE or FE FF) is decoded as it streams, in bounded memory, and handed on as UTF-8; other files pass
through untouched. Offsets, hashes and the manifest then count the UTF-8 bytes, the same on every run.
"""

from __future__ import annotations

import codecs
import io
from typing import IO

_MARKS = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}
_READ_BYTES = 1024 * 1024


class _Utf8FromUtf16(io.RawIOBase):
    """The source's UTF-16 text (after its mark) as UTF-8 bytes; can go back to its start (seek(0)), as the readers
    of a file's head do."""

    def __init__(self, source: IO[bytes], encoding: str) -> None:
        self._source = source
        self._encoding = encoding
        self.seek(0)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if (offset, whence) != (0, io.SEEK_SET):
            raise io.UnsupportedOperation("a UTF-16 file is read from its start only")
        self._source.seek(2)  # (past the mark)
        self._decoder = codecs.getincrementaldecoder(self._encoding)(errors="replace")
        self._pending = b""
        self._done = False
        return 0

    def readinto(self, target: memoryview | bytearray) -> int:  # type: ignore[override]
        while not self._pending and not self._done:
            data = self._source.read(_READ_BYTES)
            self._done = not data
            self._pending = self._decoder.decode(data, final=self._done).encode("utf-8")
        size = min(len(target), len(self._pending))
        target[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        self._source.close()
        super().close()


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
    return io.BufferedReader(_Utf8FromUtf16(stream, encoding), buffer_size=_READ_BYTES)
