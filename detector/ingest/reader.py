"""Streaming line reader: files, globs, directories, gzip/bz2, in bounded memory, as Arrow batches.

Lines are split with Arrow compute over whole chunks (no Python loop per line). Content is hashed as it
streams, so the lake's manifest can recognise a file it has seen, and a file that has only grown.
"""

from __future__ import annotations

import bz2
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


def _split_lines(chunk: bytes | memoryview) -> pa.Array:
    """Split a chunk of complete lines (ending with b'\\n') into an Arrow string array.

    Each line is first taken with its newline (offsets just past each b'\\n', found by numpy: no copy), then the
    newline and any CRs before it are trimmed in one Arrow pass; about 2.5x cheaper than Arrow's split_pattern,
    which also needed a second pass to find CRLF lines.
    """
    whole = memoryview(chunk)
    # A chunk is megabytes, so 32-bit offsets hold it: the lines come out as `string`, no cast copy.
    kind, width = (pa.string(), np.int32) if len(whole) < 2**31 else (pa.large_string(), np.int64)
    body_offsets = pa.array([0, len(whole)], pa.from_numpy_dtype(width)).buffers()[1]
    try:
        pa.Array.from_buffers(kind, 1, [None, body_offsets, pa.py_buffer(whole)]).validate(full=True)
    except pa.ArrowInvalid:
        # Not valid UTF-8: decode with replacement characters so that the line is still seen and
        # rejected or parsed with its reason, never silently dropped.
        whole = memoryview(bytes(whole).decode("utf-8", errors="replace").encode("utf-8"))
        kind, width = (pa.string(), np.int32) if len(whole) < 2**31 else (pa.large_string(), np.int64)
    data = np.frombuffer(whole, np.uint8)
    ends = np.flatnonzero(data == _NEWLINE)
    offsets = np.empty(len(ends) + 1, width)
    offsets[0] = 0
    offsets[1:] = ends + 1
    with_newlines = pa.Array.from_buffers(kind, len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(whole)])
    # CRLF files: the CRs go with the newline (as before, every CR at a line's end). ASCII trimming: the same lines
    # (no byte of a multi-byte UTF-8 character is a CR or newline) without decoding characters.
    return pc.ascii_rtrim(with_newlines, characters="\r\n", memory_pool=_lines_pool()).cast(pa.string())


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
    """
    at_start = state.offset == 0 and skip_bytes == 0
    _skip(stream, state, skip_bytes)
    pending = b""
    long_line: tuple[int, bytes] | None = None  # (number, preview) of an over-long line being passed
    batch: list[pa.Table] = []
    too_long: list[tuple[int, str]] = []
    in_batch = in_batch_bytes = 0
    chunk_size = min(CHUNK_BYTES, max(MIN_CHUNK_BYTES, batch_lines * 64))
    while True:
        want = chunk_size if end_offset is None else min(chunk_size, end_offset - state.offset)
        data, failure = read_chunk(stream, want) if want > 0 and state.error is None else (b"", None)
        if failure:
            state.error = ReadError(f"stopped reading after {state.offset + len(data)} bytes: {failure.message}")
        at_end = not data
        state.offset += len(data)
        if state.hasher is not None:
            state.hasher.update(data)
        buffer = pending + data
        pending = b""
        if at_start and (len(buffer) >= len(UTF8_BOM) or at_end):
            # A byte order mark (Windows tools, Excel, PowerShell's Out-File write one) is no part of the first
            # line: taken off its text, still counted and hashed as the file's bytes.
            buffer = buffer.removeprefix(UTF8_BOM)
            at_start = False
        if long_line is not None:
            end = buffer.find(b"\n")
            if end < 0 and not at_end:
                continue  # still inside the over-long line: hold none of it
            buffer = b"" if end < 0 else buffer[end + 1 :]
            too_long.append((long_line[0], _preview_text(long_line[1])))
            in_batch += 1
            long_line = None
        if at_end:
            if buffer and not buffer.endswith(b"\n"):
                if state.error is not None:
                    # The stream broke inside this line: leave it to a re-run on the complete file,
                    # which then reads it whole (no half line now and its other half later).
                    state.offset -= len(buffer)
                    buffer = b""
                else:
                    buffer += b"\n"  # the last line has no newline: it is still a line
        else:
            cut = buffer.rfind(b"\n") + 1
            buffer, pending = memoryview(buffer)[:cut], buffer[cut:]  # a view: no copy of the lines
        if buffer:
            table, rejects = _number_lines(buffer, state, max_line_bytes)
            batch.append(table)
            too_long.extend(rejects)
            in_batch += table.num_rows + len(rejects)
            in_batch_bytes += len(buffer)
        if len(pending) > max_line_bytes:
            state.lines += 1
            long_line = (state.lines, pending[:REJECT_PREVIEW_CHARS])
            pending = b""
        if in_batch >= batch_lines or in_batch_bytes >= MAX_BATCH_BYTES or (at_end and in_batch):
            table = pa.concat_tables(batch) if batch else LINES_SCHEMA.empty_table()
            yield LineBatch(table, too_long)
            batch, too_long, in_batch, in_batch_bytes = [], [], 0, 0
        if at_end:
            return


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


def _number_lines(
    buffer: bytes | memoryview, state: StreamState, max_line_bytes: int
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Lines of a buffer of complete lines, numbered on from `state`; over-long ones as rejects."""
    lines = _split_lines(buffer)
    first = state.lines + 1
    state.lines += len(lines)
    numbers = pa.array(np.arange(first, first + len(lines), dtype=np.int64))
    too_long = pc.greater(pc.binary_length(lines), max_line_bytes)
    rejects: list[tuple[int, str]] = []
    if pc.any(too_long).as_py():
        # Rare, so a loop over just these lines is fine.
        for number, text in zip(
            pc.filter(numbers, too_long).to_pylist(), pc.filter(lines, too_long).to_pylist(), strict=True
        ):
            rejects.append((number, _preview_text(text.encode()[:REJECT_PREVIEW_CHARS])))
        keep = pc.invert(too_long)
        lines, numbers = pc.filter(lines, keep), pc.filter(numbers, keep)
    return pa.Table.from_arrays([numbers, lines], schema=LINES_SCHEMA), rejects


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
