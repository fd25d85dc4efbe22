"""A byte stream whose bytes are produced as they are read (a file's records rewritten as lines, its text re-encoded),
for the reader to take like a file's: bounded memory, read1/readinto through io.BufferedReader."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import IO

BUFFER_BYTES = 1024 * 1024


class _Produced(io.RawIOBase):
    def __init__(self, source: IO[bytes], produce: Callable[[], Iterator[bytes]], restart: Callable[[], None] | None
                 ) -> None:
        self._source, self._produce, self._restart = source, produce, restart
        self._start()

    def _start(self) -> None:
        self._pieces = self._produce()
        self._pending = b""
        self._done = False
        self._error: OSError | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._restart is not None

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self._restart is None or (offset, whence) != (0, io.SEEK_SET):
            raise io.UnsupportedOperation("read again from the start only")
        self._restart()
        self._start()
        return 0

    def readinto(self, target: memoryview | bytearray) -> int:  # type: ignore[override]
        parts, size = [self._pending], len(self._pending)
        while size < len(target) and not self._done:
            try:
                piece = next(self._pieces)
            except StopIteration:
                self._done = True
                break
            except OSError as exc:  # reported once the bytes before it are read
                self._done, self._error = True, exc
                break
            parts.append(piece)
            size += len(piece)
        pending = b"".join(parts) if len(parts) > 1 else self._pending  # (joined once a read: no quadratic copying)
        if not pending and self._error is not None:
            error, self._error = self._error, None
            raise error
        size = min(len(target), len(pending))
        target[:size] = pending[:size]
        self._pending = pending[size:]
        return size

    def close(self) -> None:
        self._source.close()
        super().close()


def produced_stream(source: IO[bytes], produce: Callable[[], Iterator[bytes]],
                    restart: Callable[[], None] | None = None) -> IO[bytes]:
    """The bytes `produce()` yields, read from `source` (closed with the stream). With `restart` (which puts the
    source back where `produce` begins), seek(0) reads them again from the start. An OSError `produce` raises is
    raised once the bytes before it are read (a broken file's readable part is kept)."""
    return io.BufferedReader(_Produced(source, produce, restart), buffer_size=BUFFER_BYTES)
