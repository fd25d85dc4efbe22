"""Streaming line reader: files, globs, directories, gzip/bz2, in bounded memory, as Arrow batches.

Lines are cut out of whole reads (no Python loop per line): by a compiled kernel (lines_scan) where Numba is loaded,
into one text buffer a batch, or with numpy and Arrow compute. Content is hashed as it streams, so the lake's manifest
can recognise a file it has seen, and a file that has only grown.

Measured (30 Nov 2026, fifteenth session; whole ingest of 1M lines, process CPU s, 3 runs interleaved, before/after
the kernel, the reused read buffer and one chunk a batch; /tmp/reader/ab2.sh with /tmp/s15/tl3.py's per-thread CPU):
json OCSF 3.76-4.62 -> 3.41-3.74 (reader thread 0.71-1.41 -> 0.50-0.65, parse 1.55-1.69 -> 1.43-1.52: a batch is
one chunk), proxysg_kv QRadar 4.23-4.61 -> 3.68-4.01 (reader 0.61-0.81 -> 0.42-0.48, parse 1.99-2.10 -> 1.67-1.82),
suricata_eve basic 3.53-3.79 -> 3.56-3.82 (no change seen: its 427 MB are few batches, and the text buffers' first
page faults, ~54,000, are most of the kernel's cost there), Squid 2.43-2.50 -> 2.48-2.54 and Defender DNS
inspection 6.09-6.30 -> 6.13-6.43 (both without Numba: read as before under 1 GiB). Peak RSS (ru_maxrss): json
594 -> 554 MB, proxysg_kv 836 -> 692, Squid 564 -> 548.

Measured and left: Arrow's other ways to drop each line's newline without `ascii_rtrim` (0.26-0.31 s per GB of
Defender lines): a list_view of the bytes flattened 1.05, a string_view built with numpy and cast to string 0.83.
Numba for every format, or for a stream's bytes past its first GiB: see LINES_KERNEL.
"""

from __future__ import annotations

import bz2
import functools
import glob
import gzip
import hashlib
import lzma
import sys
import weakref
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from detector.errors import ReadError

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
REJECT_PREVIEW_CHARS = 1024

LINES_SCHEMA = pa.schema([pa.field("line_no", pa.int64()), pa.field("line", pa.string())])

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
    """The file's decompressed bytes; raises ReadError for a missing or unreadable file."""
    try:
        kind = compression_of(path)
        if kind == "gzip":
            return gzip.open(path, "rb")
        if kind == "bz2":
            return bz2.open(path, "rb")
        if kind == "xz":
            return lzma.open(path, "rb")
        return path.open("rb")
    except FileNotFoundError as exc:
        raise ReadError("no such file", str(path)) from exc
    except OSError as exc:
        raise ReadError(f"cannot open: {exc.strerror or exc}", str(path)) from exc


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


def _split_lines(chunk: bytes | memoryview, newlines: np.ndarray | None = None) -> pa.Array:
    """Split a chunk of complete lines (ending with b'\\n') into an Arrow string array.

    Each line is first taken with its newline (offsets just past each b'\\n', found by numpy: no copy), then the
    newline and any CRs before it are trimmed in one Arrow pass; about 2.5x cheaper than Arrow's split_pattern,
    which also needed a second pass to find CRLF lines. `newlines`, a bool array at least as long as the chunk, is
    reused for the newline test: `np.equal(out=)` into pages in use cost 0.034 s per GB against 0.076 for a fresh
    `data == 10`, and `nonzero()` 0.115 against `flatnonzero`'s 0.153 (/tmp/s15, Defender lines).
    """
    whole = memoryview(chunk)
    # A chunk is megabytes, so 32-bit offsets hold it: the lines come out as `string`, no cast copy.
    kind, width = (pa.string(), np.int32) if len(whole) < 2**31 else (pa.large_string(), np.int64)
    if not _valid_utf8(whole):
        # Not valid UTF-8: decode with replacement characters so that the line is still seen and
        # rejected or parsed with its reason, never silently dropped.
        whole = memoryview(_replaced(whole))
        kind, width = (pa.string(), np.int32) if len(whole) < 2**31 else (pa.large_string(), np.int64)
    data = np.frombuffer(whole, np.uint8)
    if newlines is None or len(newlines) < len(data):
        newlines = np.empty(len(data), bool)
    found = newlines[: len(data)]
    np.equal(data, _NEWLINE, out=found)
    ends = found.nonzero()[0]
    offsets = np.empty(len(ends) + 1, width)
    offsets[0] = 0
    offsets[1:] = ends + 1
    with_newlines = pa.Array.from_buffers(kind, len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(whole)])
    # CRLF files: the CRs go with the newline (as before, every CR at a line's end). ASCII trimming: the same lines
    # (no byte of a multi-byte UTF-8 character is a CR or newline) without decoding characters. The trimmed lines
    # are a fresh buffer: nothing refers to `chunk` afterwards, so the reader may read into it again.
    return pc.ascii_rtrim(with_newlines, characters="\r\n", memory_pool=_lines_pool()).cast(pa.string())


def _valid_utf8(data: memoryview) -> bool:
    """Whether `data` is valid UTF-8 (Arrow's check, many bytes a cycle)."""
    width = pa.int32() if len(data) < 2**31 else pa.int64()
    kind = pa.string() if len(data) < 2**31 else pa.large_string()
    body_offsets = pa.array([0, len(data)], width).buffers()[1]
    try:
        pa.Array.from_buffers(kind, 1, [None, body_offsets, pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _replaced(data: memoryview) -> bytes:
    """Bytes that are not valid UTF-8 with each invalid sequence replaced by U+FFFD, as Python decodes them."""
    return bytes(data).decode("utf-8", errors="replace").encode("utf-8")


def _lines_pool() -> pa.MemoryPool:
    """The memory pool of the lines' text: the C library's malloc, whose heap keeps freed pages for the next chunk.

    Every chunk's lines are a fresh buffer of megabytes. From the jemalloc pool (`stages.tune_allocators`) each came as
    new pages from the kernel: trimming an 8 MiB chunk cost ~5.5 ms of page faults against ~0.6 ms on pages in use.
    glibc's heap, with the thresholds `tune_allocators` sets, hands back the pages of the batches freed before.
    Measured, the reading thread of a pipeline over 1M Suricata lines (407 MiB; process_time, 3 runs interleaved):
    0.59-0.67 s before, 0.58-0.61 s with ASCII trimming alone, 0.44-0.47 s with this pool too (mimalloc's: 0.35-0.60,
    its freed megabyte blocks are not always reused).
    """
    return pa.system_memory_pool()


# How a batch's lines are cut out of the bytes read: True, the compiled kernel (lines_scan); False, numpy and Arrow;
# None (the default), the kernel where Numba is loaded already, that is for a format with kernels of its own (it made
# its parser before reading starts, and loads them at the latest with its first batch). Loading Numba for the reader
# alone was measured and left: ~0.3 s CPU and ~30 MB of RSS, for ~0.45 s per GB saved in a whole ingest (Defender's
# 1M DNS inspection lines, 1 GB, Numba forced: process 5.69-6.14 s against 6.12-6.39; Squid's 124 MB: 2.60-2.72
# against 2.33-2.57, a loss). Loaded only after a stream's first GiB: 3 GB of Defender lines, reader thread 2.17-2.33
# s against 2.66-2.72, process 15.70-16.69 against 16.72-16.86, but peak RSS 723 MB against 691.
LINES_KERNEL: bool | None = None
# The kernel's text offsets are 32-bit: with lines up to this long a batch's text stays far below 2 GiB (even if
# invalid UTF-8 made it three times as long); longer allowed lines are cut the numpy and Arrow way.
KERNEL_MAX_LINE_BYTES = 256 * 1024 * 1024


def _kernel_wanted(max_line_bytes: int) -> bool:
    """Whether to cut a batch's lines with the kernel."""
    wanted = "detector.ingest.compiled" in sys.modules if LINES_KERNEL is None else LINES_KERNEL
    return wanted and max_line_bytes <= KERNEL_MAX_LINE_BYTES


def _new_lines(texts: _TextPool, newlines: list[np.ndarray], chunk_size: int, batch_lines: int, max_line_bytes: int
               ) -> _ArrowLines | _CompiledLines:
    """The lines of a new batch, cut the way chosen at its start: a format may load its kernels, and with them
    Numba, only as it parses its first batch, while the reader is batches ahead (both ways give the same lines)."""
    if _kernel_wanted(max_line_bytes):
        return _CompiledLines(texts, chunk_size, batch_lines)
    return _ArrowLines(newlines)


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
    Where Numba is loaded, a batch's lines are one Arrow chunk (see lines_scan and `_CompiledLines`).
    """
    at_start = state.offset == 0 and skip_bytes == 0
    _skip(stream, state, skip_bytes)
    chunk_size = min(CHUNK_BYTES, max(MIN_CHUNK_BYTES, batch_lines * 64))
    new_lines = functools.partial(_new_lines, _TextPool(), [np.empty(0, bool)], chunk_size, batch_lines, max_line_bytes)
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
            too_long.append((long_line[0], _preview_text(long_line[1])))
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
            count, rejects = lines.add(memoryview(read)[start:cut], state, max_line_bytes)
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


class _ArrowLines:
    """A batch's lines cut by numpy and Arrow: an Arrow chunk per read. `newlines`: the stream's bool array for the
    newline test (see `_split_lines`), in a list to be replaced by a longer one where a read needs it."""

    def __init__(self, newlines: list[np.ndarray]) -> None:
        self._tables: list[pa.Table] = []
        self._newlines = newlines

    def add(self, buffer: memoryview, state: StreamState, max_line_bytes: int) -> tuple[int, list[tuple[int, str]]]:
        """The complete lines of `buffer`, numbered on from `state`: their count, and the over-long ones as rejects."""
        if len(self._newlines[0]) < len(buffer):
            self._newlines[0] = np.empty(len(buffer), bool)
        table, rejects = _number_lines(buffer, state, max_line_bytes, self._newlines[0])
        self._tables.append(table)
        return table.num_rows + len(rejects), rejects

    def table(self) -> pa.Table:
        return pa.concat_tables(self._tables) if self._tables else LINES_SCHEMA.empty_table()


def _number_lines(
    buffer: bytes | memoryview, state: StreamState, max_line_bytes: int, newlines: np.ndarray | None = None
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Lines of a buffer of complete lines, numbered on from `state`; over-long ones as rejects."""
    lines = _split_lines(buffer, newlines)
    first = state.lines + 1
    state.lines += len(lines)
    numbers = np.arange(first, first + len(lines), dtype=np.int64)
    offsets = np.frombuffer(lines.buffers()[1], np.int32, len(lines) + 1, lines.offset * 4)
    lengths = np.diff(offsets)
    if len(lines) and lengths.max() > max_line_bytes:
        rows = np.flatnonzero(lengths > max_line_bytes)  # rare, so a loop over just these lines is fine
        rejects = [(int(numbers[row]), _preview_of(_text_bytes(lines), int(offsets[row]), int(lengths[row])))
                   for row in rows]
        keep = pa.array(lengths <= max_line_bytes)
        return pa.Table.from_arrays([pa.array(numbers).filter(keep), lines.filter(keep)], schema=LINES_SCHEMA), rejects
    return pa.Table.from_arrays([pa.array(numbers), lines], schema=LINES_SCHEMA), []


def _text_bytes(lines: pa.Array) -> np.ndarray:
    """The text bytes of a string array, as numpy sees them."""
    data = lines.buffers()[2]
    return np.frombuffer(data, np.uint8) if data is not None else np.empty(0, np.uint8)


def _preview_of(text: np.ndarray, start: int, length: int) -> str:
    """The kept start of the over-long line text[start:start + length]."""
    return _preview_text(text[start : start + min(length, REJECT_PREVIEW_CHARS)].tobytes())


class _CompiledLines:
    """A batch's lines cut by the compiled kernel (lines_scan): every read's lines copied into one text buffer, so the
    batch is one Arrow chunk."""

    def __init__(self, texts: _TextPool, chunk_size: int, batch_lines: int) -> None:
        # A batch ends at the read that brings it to `batch_lines` lines or MAX_BATCH_BYTES: sized for that, it
        # seldom grows.
        self._texts = texts
        self._text = texts.take(min(MAX_BATCH_BYTES, 4 * chunk_size) + chunk_size)
        self._ends = np.empty(batch_lines + chunk_size // 64 + 2, np.int32)
        self._ends[0] = 0
        self._rows = self._written = 0
        self._numbers: list[tuple[int, int]] = []  # (lines, number of the first) of each read
        self._dropped: list[np.ndarray] = []  # rows rejected as over-long

    def add(self, buffer: memoryview, state: StreamState, max_line_bytes: int) -> tuple[int, list[tuple[int, str]]]:
        """The complete lines of `buffer`, numbered on from `state`: their count, and the over-long ones as rejects."""
        from detector.ingest.lines_scan import trimmed_lines

        data = np.frombuffer(buffer if _valid_utf8(buffer) else _replaced(buffer), np.uint8)
        if len(self._text) - self._written < len(data):
            larger = self._texts.take(max(self._written + len(data), 2 * len(self._text)))
            larger[: self._written] = self._text[: self._written]
            self._text = larger
        first_row = self._rows
        consumed = longest = 0
        while consumed < len(data):
            if self._rows + 2 > len(self._ends):
                self._ends = _grown(self._ends, self._rows + 1, 2 * len(self._ends))
            count, used, self._written, most = trimmed_lines(data[consumed:], self._text, self._written, self._ends,
                                                              self._rows)
            self._rows += count
            consumed += used
            longest = max(longest, most)
        count = self._rows - first_row
        first = state.lines + 1
        state.lines += count
        self._numbers.append((count, first))
        if longest <= max_line_bytes:
            return count, []
        ends = self._ends[first_row : self._rows + 1]
        lengths = np.diff(ends)
        rows = np.flatnonzero(lengths > max_line_bytes)  # rare, so a loop over just these lines is fine
        self._dropped.append(rows + first_row)
        return count, [(first + int(row), _preview_of(self._text, int(ends[row]), int(lengths[row]))) for row in rows]

    def table(self) -> pa.Table:
        rows = self._rows
        lines = pa.Array.from_buffers(pa.string(), rows, [None, pa.py_buffer(self._ends[: rows + 1]),
                                                          pa.py_buffer(self._texts.lend(self._text, self._written))])
        numbers = np.empty(rows, np.int64)
        row = 0
        for count, first in self._numbers:  # (one entry a read: a handful a batch)
            numbers[row : row + count] = np.arange(first, first + count)
            row += count
        table = pa.Table.from_arrays([pa.array(numbers), lines], schema=LINES_SCHEMA)
        if self._dropped:
            keep = np.ones(rows, bool)
            keep[np.concatenate(self._dropped)] = False
            table = table.filter(pa.array(keep))
        return table


class _TextPool:
    """The text buffers of a stream's batches, each taken again once nothing refers to the batch that had it.

    A batch's text is tens of MiB, and a fresh buffer that size came as fresh pages from the kernel (glibc keeps
    buffers that large in a heap of their own for the reading thread, unmapped when freed): in a whole ingest of 1M
    OCSF lines, 136,000 page faults, the kernel's copies 0.36 s CPU against 0.06 s alone. A buffer is lent to its
    batch as a numpy view: when the last Arrow buffer over that view is freed (in whichever thread), the view goes
    and the buffer comes back here. At most as many buffers as batches are alive at once (the pipeline's queues).
    """

    def __init__(self) -> None:
        self._free: list[np.ndarray] = []

    def take(self, size: int) -> np.ndarray:
        while self._free:
            buffer = self._free.pop()
            if len(buffer) >= size:
                return buffer
        return _text_buffer(size)

    def lend(self, buffer: np.ndarray, used: int) -> np.ndarray:
        """buffer[:used], for a batch's lines; the buffer is taken again once that view is gone."""
        view = buffer[:used]
        weakref.finalize(view, self._free.append, buffer)
        return view


def _text_buffer(size: int) -> np.ndarray:
    """Room for a batch's text, from the C library's heap as the lines of `_split_lines` (see `_lines_pool`). Not
    numpy's own: numpy asks the kernel for huge pages for arrays of 4 MiB or more (madvise), and a fault on such a
    page may compact memory first; measured in a whole ingest of 1M OCSF lines (683 MB, the page cache full of other
    files), the kernel's copies into such buffers took 0.49 s CPU against 0.06 s alone."""
    return np.frombuffer(pa.allocate_buffer(size, memory_pool=_lines_pool()), np.uint8)


def _grown(array: np.ndarray, used: int, wanted: int) -> np.ndarray:
    """`array` with its first `used` items, in room for at least `wanted` (twice as much, for the next growth)."""
    larger = np.empty(max(wanted, 2 * len(array)), array.dtype)
    larger[:used] = array[:used]
    return larger


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


def _preview_text(preview: bytes) -> str:
    """The kept start of an over-long line (the reason is given by the pipeline)."""
    return preview.decode("utf-8", errors="replace")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "compressed stream is truncated"
    return f"corrupt data ({exc})"
