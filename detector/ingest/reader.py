"""Streaming line reader: files, globs, directories, gzip/bz2, in bounded memory, as Arrow batches.

Lines are cut out of whole reads (no Python loop per line; line_cuts): by a compiled kernel (lines_scan) where Numba
is loaded, into one text buffer a batch, or with numpy and Arrow compute. Content is hashed as it streams, so the
lake's manifest can recognise a file it has seen, and a file that has only grown.

Measured (30 Nov 2026, fifteenth session; whole ingest of 1M lines, process CPU s, 3 runs interleaved, before/after
the kernel, the reused read buffer and one chunk a batch; /tmp/reader/ab2.sh with /tmp/s15/tl3.py's per-thread CPU):
json OCSF 3.76-4.62 -> 3.41-3.74 (reader thread 0.71-1.41 -> 0.50-0.65, parse 1.55-1.69 -> 1.43-1.52: a batch is
one chunk), proxysg_kv QRadar 4.23-4.61 -> 3.68-4.01 (reader 0.61-0.81 -> 0.42-0.48, parse 1.99-2.10 -> 1.67-1.82),
suricata_eve basic 3.53-3.79 -> 3.56-3.82 (no change seen: its 427 MB are few batches, and the text buffers' first
page faults, ~54,000, are most of the kernel's cost there), Squid 2.43-2.50 -> 2.48-2.54 and Defender DNS
inspection 6.09-6.30 -> 6.13-6.43 (both without Numba: cut the numpy and Arrow way, as before). Peak RSS
(ru_maxrss): json 594 -> 554 MB, proxysg_kv 836 -> 692, Squid 564 -> 548, Defender 643-677 -> 646-660.

Measured and left: Arrow's other ways to drop each line's newline without `ascii_rtrim` (0.26-0.31 s per GB of
Defender lines): a list_view of the bytes flattened 1.05, a string_view built with numpy and cast to string 0.83.
Numba for every format, or for a stream's bytes past its first GiB: see line_cuts.LINES_KERNEL.
"""

from __future__ import annotations

import bz2
import functools
import glob
import gzip
import hashlib
import lzma
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import xxhash

from detector.errors import ReadError
from detector.ingest.json_document import as_json_lines
from detector.ingest.line_cuts import LINES_SCHEMA, REJECT_PREVIEW_CHARS, TextPool, new_batch_lines, preview_text
from detector.ingest.utf16 import as_utf8

__all__ = ["LINES_SCHEMA", "REJECT_PREVIEW_CHARS"]  # (where the lines' schema was always imported from)

CHUNK_BYTES = 8 * 1024 * 1024
# A batch is read in chunks of about 64 bytes a line of `batch_lines`, within these bounds: a small
# file is then cut into batches of `batch_lines` lines too (the tests' 7-line batches)
MIN_CHUNK_BYTES = 64
# A batch also ends at this much text, so that long lines (Zscaler JSON: ~850 bytes) do not make a
# batch of `batch_lines` lines several times the memory of a batch of short ones. 64 MiB (fewer batches, so
# less of each batch's fixed cost) was measured and left: the same CPU on 1M OCSF and Azure Firewall lines
# (3.30-3.48 against 3.30-3.58 s; 3.64-3.87 against 3.64-3.94 s, interleaved, idle), ~180 MiB more peak RSS.
MAX_BATCH_BYTES = 32 * 1024 * 1024
HEAD_BYTES = 64 * 1024

_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}


_NEWLINE = ord("\n")


def expand_paths(patterns: list[str]) -> tuple[list[Path], list[str]]:
    """Files named by paths, globs and directories (recursively, sorted); and the patterns that named nothing."""
    files: list[Path] = []
    missing: list[str] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        elif path.exists():
            found = [path]
        elif glob.has_magic(pattern):
            found = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
        else:
            found = []
        if not found:
            missing.append(pattern)
        for item in found:
            if item not in files:
                files.append(item)
    return files, missing


def compression_of(path: Path) -> str | None:
    """Compression by magic bytes, not by name: rotated logs are often misnamed."""
    with path.open("rb") as raw:
        head = raw.read(6)
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def open_stream(path: Path) -> IO[bytes]:
    """The file's decompressed bytes (UTF-16 as UTF-8: utf16; a JSON document's records as JSON lines: json_document);
    raises ReadError for a missing or unreadable file."""
    try:
        return as_json_lines(as_utf8(_decompressed(path)))
    except FileNotFoundError as exc:
        raise ReadError("no such file", str(path)) from exc
    except OSError as exc:
        raise ReadError(f"cannot open: {exc.strerror or exc}", str(path)) from exc


def _decompressed(path: Path) -> IO[bytes]:
    kind = compression_of(path)
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "bz2":
        return bz2.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    return path.open("rb")


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first `size` decompressed bytes, for sniffing and for recognising a known file."""
    with open_stream(path) as stream:
        return read_chunk(stream, size)[0]


UTF8_BOM = b"\xef\xbb\xbf"


def head_lines(head: bytes, limit: int = 50) -> list[str]:
    """Complete, non-blank lines of a file's head, for sniffing."""
    text = head.removeprefix(UTF8_BOM).decode("utf-8", errors="replace")
    if len(head) == HEAD_BYTES and "\n" in text:
        text = text[: text.rindex("\n")]
    lines = [line.rstrip("\r") for line in text.split("\n")]
    return [line for line in lines if line.strip()][:limit]


_READ_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError)


def read_chunk(stream: IO[bytes], size: int) -> tuple[bytes, ReadError | None]:
    """Up to `size` bytes, and the error that ended the stream early (truncated or corrupt).

    Reads with read1(): a plain read() of a truncated gzip raises and loses everything it had
    decompressed for that call, whereas read1() pieces keep what was readable.
    """
    pieces: list[bytes] = []
    wanted = size
    while wanted > 0:
        try:
            piece = stream.read1(wanted)  # type: ignore[attr-defined]
        except _READ_ERRORS as exc:
            return b"".join(pieces), ReadError(_describe(exc))
        if not piece:
            break
        pieces.append(piece)
        wanted -= len(piece)
    return b"".join(pieces), None


@dataclass
class LineBatch:
    """A batch of lines with their 1-based numbers; `too_long` are (line number, start of the line)
    of lines the reader rejected itself for exceeding the maximum length. `before` and `after` are
    lines of the neighbouring batches, context for formats that join lines (see `with_context`)."""

    lines: pa.Table
    too_long: list[tuple[int, str]] = field(default_factory=list)
    before: pa.Table | None = None
    after: pa.Table | None = None

    @property
    def count(self) -> int:
        return self.lines.num_rows + len(self.too_long)


@dataclass
class StreamState:
    """Where reading stands: bytes consumed, lines seen, and the error that ended reading early.

    With a `hasher` (a ContentHasher), every byte consumed is hashed too (the content hash of a new
    file, without a separate pass over it).
    """

    offset: int = 0
    lines: int = 0
    error: ReadError | None = None
    hasher: Any = None


class ContentHasher:
    """The content hash of what was read: XXH3-128, tagged `xxh3_128:<hex>`.

    Every byte of every ingested file is hashed once: SHA-256 cost ~0.7 ms per MB (on long-line logs such
    as FortiGate's, a sixth of the CPU the plain DuckDB pipeline spends on them in all), XXH3 ~0.1 ms. The
    hash recognises a file seen before; it guards against no adversary. Segments written before carry a bare SHA-256 hex
    digest (`legacy=True` computes that too, to recognise their files).
    """

    TAG = "xxh3_128:"

    def __init__(self, legacy: bool = False) -> None:
        self._hash = xxhash.xxh3_128()
        self._legacy = hashlib.sha256() if legacy else None

    def update(self, data: bytes | memoryview) -> None:
        self._hash.update(data)
        if self._legacy is not None:
            self._legacy.update(data)

    def hexdigest(self) -> str:
        return self.TAG + self._hash.hexdigest()

    def digests(self) -> frozenset[str]:
        """Every form of the hash so far: the tagged XXH3 one, and the legacy SHA-256 one if computed."""
        legacy = {self._legacy.hexdigest()} if self._legacy is not None else set()
        return frozenset({self.hexdigest(), *legacy})

    @classmethod
    def is_legacy(cls, stored: str) -> bool:
        return not stored.startswith(cls.TAG)


@dataclass(frozen=True)
class Fingerprint:
    """A file's content identity: the hash and size of its (decompressed) content, plus the hashes of
    its prefixes at the asked offsets, which recognise a file that has grown since last time. Hashes
    are sets: the current form, and the legacy one where it was asked for (see ContentHasher)."""

    content_hashes: frozenset[str]
    size: int
    prefix_hashes: dict[int, frozenset[str]]
    error: ReadError | None

    @property
    def content_hash(self) -> str:
        """The hash to record: the current form."""
        return next(h for h in self.content_hashes if not ContentHasher.is_legacy(h))

    def prefix_hash(self, offset: int) -> str:
        """The current form of the hash of the content up to `offset` ("" if it was not asked for)."""
        return next((h for h in self.prefix_hashes.get(offset, ()) if not ContentHasher.is_legacy(h)), "")

    def has_prefix(self, offset: int, stored: str) -> bool:
        """Whether the content up to `offset` has the hash `stored` (of either form)."""
        return stored in self.prefix_hashes.get(offset, frozenset())


def fingerprint(path: Path, checkpoints: set[int], legacy: bool = False) -> Fingerprint:
    """Hash a file's content in one streaming pass, snapshotting the hash at each checkpoint offset."""
    hasher = ContentHasher(legacy)
    prefix_hashes: dict[int, frozenset[str]] = {}
    pending = sorted(c for c in checkpoints if c > 0)
    size = 0
    error = None
    with open_stream(path) as stream:
        while True:
            data, failure = read_chunk(stream, CHUNK_BYTES)
            if failure:
                error = ReadError(f"stopped reading after {size + len(data)} bytes: {failure.message}", str(path))
            if not data:
                break
            start = size
            while pending and pending[0] <= start + len(data):
                cut = pending.pop(0)
                hasher.update(data[: cut - start])
                prefix_hashes[cut] = hasher.digests()
                data = data[cut - start :]
                start = cut
            hasher.update(data)
            size = start + len(data)
            if error:
                break
    return Fingerprint(hasher.digests(), size, prefix_hashes, error)


def iter_line_batches(
    stream: IO[bytes],
    state: StreamState,
    batch_lines: int,
    max_line_bytes: int,
    skip_bytes: int = 0,
    end_offset: int | None = None,
) -> Iterator[LineBatch]:
    """Yield batches of about `batch_lines` lines (fewer where they exceed MAX_BATCH_BYTES); update
    `state` as bytes are consumed.

    `skip_bytes` of already-ingested content are read past, not yielded (a grown file). Reading stops
    at `end_offset`, the size that was fingerprinted, even if the file grows meanwhile. A line longer
    than `max_line_bytes` is yielded as a reject without ever being held whole in memory. A read error
    (truncated or corrupt compression) ends the stream: complete lines before it are still yielded and
    the error is left in `state.error`.

    Reads go into one buffer, reused for the whole stream, behind the unfinished line of the read before (where
    `pending + data` copied every byte once more, ~0.09 s per GB, and each read was a fresh 8 MiB of bytes); its
    bytes are copied into the lines and never referred to by a batch. A batch ends as before (the same boundaries:
    fuzzed against the previous reader): at the read that brings it to `batch_lines` lines or MAX_BATCH_BYTES.
    Where Numba is loaded, a batch's lines are one Arrow chunk (see line_cuts and lines_scan).
    """
    at_start = state.offset == 0 and skip_bytes == 0
    _skip(stream, state, skip_bytes)
    chunk_size = min(CHUNK_BYTES, max(MIN_CHUNK_BYTES, batch_lines * 64))
    # A batch ends at the read that brings it to `batch_lines` lines or MAX_BATCH_BYTES: the kernel's buffers are
    # sized for that.
    new_lines = functools.partial(new_batch_lines, TextPool(), [np.empty(0, bool)],
                                  min(MAX_BATCH_BYTES, 4 * chunk_size) + chunk_size, batch_lines + chunk_size // 64,
                                  max_line_bytes)
    read = bytearray(chunk_size + 1)  # (+1: room for the newline a last line without one is given)
    start = filled = 0  # read[start:filled]: the bytes not cut into lines yet (the start of an unfinished line)
    long_line: tuple[int, bytes] | None = None  # (number, preview) of an over-long line being passed
    lines = new_lines()
    too_long: list[tuple[int, str]] = []
    in_batch = in_batch_bytes = 0
    while True:
        want = chunk_size if end_offset is None else min(chunk_size, end_offset - state.offset)
        read, start, filled = _room_for(read, start, filled, max(want, 0) + 1)
        got, failure = _read_into(stream, memoryview(read)[filled : filled + want]) \
            if want > 0 and state.error is None else (0, None)
        if failure:
            state.error = ReadError(f"stopped reading after {state.offset + got} bytes: {failure.message}")
        at_end = not got
        state.offset += got
        if state.hasher is not None:
            state.hasher.update(memoryview(read)[filled : filled + got])
        filled += got
        if at_start and (filled - start >= len(UTF8_BOM) or at_end):
            # A byte order mark (Windows tools, Excel, PowerShell's Out-File write one) is no part of the first
            # line: taken off its text, still counted and hashed as the file's bytes.
            if read.startswith(UTF8_BOM, start, filled):
                start += len(UTF8_BOM)
            at_start = False
        if long_line is not None:
            end = read.find(b"\n", start, filled)
            if end < 0 and not at_end:
                start = filled  # still inside the over-long line: hold none of it
                continue
            start = filled if end < 0 else end + 1
            too_long.append((long_line[0], preview_text(long_line[1])))
            in_batch += 1
            long_line = None
        if at_end:
            cut = filled
            if filled > start and read[filled - 1] != _NEWLINE:
                if state.error is not None:
                    # The stream broke inside this line: leave it to a re-run on the complete file,
                    # which then reads it whole (no half line now and its other half later).
                    state.offset -= filled - start
                    cut = start
                else:
                    read[filled] = _NEWLINE  # the last line has no newline: it is still a line
                    cut = filled = filled + 1
        else:
            cut = read.rfind(b"\n", start, filled) + 1 or start
        if cut > start:
            count, rejects = lines.add(memoryview(read)[start:cut], state.lines + 1, max_line_bytes)
            state.lines += count
            too_long.extend(rejects)
            in_batch += count
            in_batch_bytes += cut - start
        start = cut
        if filled - start > max_line_bytes:
            state.lines += 1
            long_line = (state.lines, bytes(read[start : min(filled, start + REJECT_PREVIEW_CHARS)]))
            start = filled
        if in_batch >= batch_lines or in_batch_bytes >= MAX_BATCH_BYTES or (at_end and in_batch):
            yield LineBatch(lines.table(), too_long)
            lines, too_long, in_batch, in_batch_bytes = new_lines(), [], 0, 0
        if at_end:
            return


def _room_for(read: bytearray, start: int, filled: int, wanted: int) -> tuple[bytearray, int, int]:
    """The read buffer with its unfinished bytes moved to its start and `wanted` bytes free after them: the same
    buffer, or a larger one where a long line does not fit."""
    unfinished = filled - start
    if unfinished + wanted > len(read):
        larger = bytearray(max(2 * len(read), unfinished + wanted))
        larger[:unfinished] = memoryview(read)[start:filled]
        return larger, 0, unfinished
    if start:
        held = np.frombuffer(read, np.uint8)
        held[:unfinished] = held[start:filled]  # (numpy copies overlapping ranges correctly)
    return read, 0, unfinished


def _read_into(stream: IO[bytes], target: memoryview) -> tuple[int, ReadError | None]:
    """Fill `target` from the stream; the bytes read, and the error that ended the stream early (truncated or
    corrupt). Like read_chunk, in read1-sized pieces: what was readable before a broken gzip member is kept."""
    readinto1 = getattr(stream, "readinto1", None)
    got = 0
    while got < len(target):
        try:
            if readinto1 is not None:
                count = readinto1(target[got:]) or 0
            else:  # a stream with read1 only
                piece = stream.read1(len(target) - got)  # type: ignore[attr-defined]
                count = len(piece)
                target[got : got + count] = piece
        except _READ_ERRORS as exc:
            return got, ReadError(_describe(exc))
        if not count:
            break
        got += count
    return got, None


def with_context(batches: Iterable[LineBatch], reach: int) -> Iterator[LineBatch]:
    """The batches, each with up to `reach` lines read before it and after it (`before`, `after`).

    For formats whose events join lines that a batch boundary may separate (a DNS query and its
    answer): the parser sees the neighbours, the pipeline counts only the batch's own lines. A batch is
    handed on once `reach` lines after it are read (or the input ended), so the lines waiting stay
    bounded by one batch plus `reach`. Nothing is carried past the end of the input: the content read
    is parsed completely, and a re-run resumes exactly where the committed content ends.
    """
    waiting: deque[LineBatch] = deque()
    waiting_lines = 0
    before = LINES_SCHEMA.empty_table()

    def hand_on() -> LineBatch:
        nonlocal before, waiting_lines
        batch = waiting.popleft()
        waiting_lines -= batch.lines.num_rows
        after: list[pa.Table] = []
        wanted = reach
        for later in waiting:
            if wanted <= 0:
                break
            after.append(later.lines.slice(0, wanted))
            wanted -= after[-1].num_rows
        # A copy of the last lines only: the previous batch's buffers are freed.
        recent = pa.concat_tables([before, batch.lines])
        before_next = recent.slice(max(0, recent.num_rows - reach)).combine_chunks()
        handed = replace(batch, before=before, after=pa.concat_tables(after) if after else LINES_SCHEMA.empty_table())
        before = before_next
        return handed

    for batch in batches:
        waiting.append(batch)
        waiting_lines += batch.lines.num_rows
        while waiting and waiting_lines - waiting[0].lines.num_rows >= reach:
            yield hand_on()
    while waiting:
        yield hand_on()


def _skip(stream: IO[bytes], state: StreamState, skip_bytes: int) -> None:
    remaining = skip_bytes
    while remaining > 0:
        data, failure = read_chunk(stream, min(CHUNK_BYTES, remaining))
        if failure:
            raise ReadError(f"cannot re-read the part ingested before: {failure.message}")
        if not data:
            raise ReadError("file is shorter than the part ingested before")
        state.offset += len(data)
        if state.hasher is not None:
            state.hasher.update(data)
        remaining -= len(data)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "compressed stream is truncated"
    return f"corrupt data ({exc})"
