"""How the reader cuts a batch's lines out of the bytes it read: by the compiled kernel of lines_scan into one text
buffer a batch (one Arrow chunk), where Numba is loaded, or with numpy and Arrow compute (an Arrow chunk a read). Both
give the same lines: the newline and every CR before it trimmed, invalid UTF-8 replaced as Python decodes it, lines
longer than the maximum left out as rejects with their start. The reader keeps what is read, numbered and counted.
"""

from __future__ import annotations

import sys
import weakref

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

REJECT_PREVIEW_CHARS = 1024

LINES_SCHEMA = pa.schema([pa.field("line_no", pa.int64()), pa.field("line", pa.string())])

_NEWLINE = ord("\n")


def split_lines(chunk: bytes | memoryview, newlines: np.ndarray | None = None) -> pa.Array:
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
    if not valid_utf8(whole):
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
    return pc.ascii_rtrim(with_newlines, characters="\r\n", memory_pool=lines_pool()).cast(pa.string())


def valid_utf8(data: memoryview) -> bool:
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


def lines_pool() -> pa.MemoryPool:
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


def kernel_wanted(max_line_bytes: int) -> bool:
    """Whether to cut a batch's lines with the kernel."""
    wanted = numba_loaded() if LINES_KERNEL is None else LINES_KERNEL
    return wanted and max_line_bytes <= KERNEL_MAX_LINE_BYTES


def numba_loaded() -> bool:
    """Whether a format's kernels have loaded Numba wholly (compiled.LOADED). Seen in sys.modules is not enough: a parse
    thread importing its kernels puts compiled there first, and the reading thread importing lines_scan (and Numba's
    modules with it) meanwhile was handed a half-initialised `numba.core.cgutils` (an ImportError that ended the
    ingest of CEF and Skyhigh files). Once compiled is loaded, lines_scan imports nothing else."""
    return getattr(sys.modules.get("detector.ingest.compiled"), "LOADED", False) is True


def new_batch_lines(texts: TextPool, newlines: list[np.ndarray], text_bytes: int, lines: int, max_line_bytes: int
                    ) -> _ArrowLines | _CompiledLines:
    """The lines of a new batch, cut the way chosen at its start: a format may load its kernels, and with them
    Numba, only as it parses its first batch, while the reader is batches ahead (both ways give the same lines).
    `text_bytes` and `lines`: what a batch usually holds (the kernel's buffers are sized for it)."""
    if kernel_wanted(max_line_bytes):
        return _CompiledLines(texts, text_bytes, lines)
    return _ArrowLines(newlines)


class _ArrowLines:
    """A batch's lines cut by numpy and Arrow: an Arrow chunk per read. `newlines`: the stream's bool array for the
    newline test (see `split_lines`), in a list to be replaced by a longer one where a read needs it."""

    def __init__(self, newlines: list[np.ndarray]) -> None:
        self._tables: list[pa.Table] = []
        self._newlines = newlines

    def add(self, buffer: memoryview, first: int, max_line_bytes: int) -> tuple[int, list[tuple[int, str]]]:
        """The complete lines of `buffer`, numbered from `first`: their count, and the over-long ones as rejects."""
        if len(self._newlines[0]) < len(buffer):
            self._newlines[0] = np.empty(len(buffer), bool)
        table, rejects = _number_lines(buffer, first, max_line_bytes, self._newlines[0])
        self._tables.append(table)
        return table.num_rows + len(rejects), rejects

    def table(self) -> pa.Table:
        return pa.concat_tables(self._tables) if self._tables else LINES_SCHEMA.empty_table()


def _number_lines(
    buffer: bytes | memoryview, first: int, max_line_bytes: int, newlines: np.ndarray | None = None
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Lines of a buffer of complete lines, numbered from `first`; over-long ones as rejects."""
    lines = split_lines(buffer, newlines)
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
    return preview_text(text[start : start + min(length, REJECT_PREVIEW_CHARS)].tobytes())


class _CompiledLines:
    """A batch's lines cut by the compiled kernel (lines_scan): every read's lines copied into one text buffer, so the
    batch is one Arrow chunk."""

    def __init__(self, texts: TextPool, text_bytes: int, lines: int) -> None:
        self._texts = texts
        self._text = texts.take(text_bytes)
        self._ends = np.empty(lines + 2, np.int32)
        self._ends[0] = 0
        self._rows = self._written = 0
        self._numbers: list[tuple[int, int]] = []  # (lines, number of the first) of each read
        self._dropped: list[np.ndarray] = []  # rows rejected as over-long

    def add(self, buffer: memoryview, first: int, max_line_bytes: int) -> tuple[int, list[tuple[int, str]]]:
        """The complete lines of `buffer`, numbered from `first`: their count, and the over-long ones as rejects."""
        from detector.ingest.lines_scan import trimmed_lines

        data = np.frombuffer(buffer if valid_utf8(buffer) else _replaced(buffer), np.uint8)
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


class TextPool:
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
    """Room for a batch's text, from the C library's heap as the lines of `split_lines` (see `lines_pool`). Not
    numpy's own: numpy asks the kernel for huge pages for arrays of 4 MiB or more (madvise), and a fault on such a
    page may compact memory first; measured in a whole ingest of 1M OCSF lines (683 MB, the page cache full of other
    files), the kernel's copies into such buffers took 0.49 s CPU against 0.06 s alone."""
    return np.frombuffer(pa.allocate_buffer(size, memory_pool=lines_pool()), np.uint8)


def _grown(array: np.ndarray, used: int, wanted: int) -> np.ndarray:
    """`array` with its first `used` items, in room for at least `wanted` (twice as much, for the next growth)."""
    larger = np.empty(max(wanted, 2 * len(array)), array.dtype)
    larger[:used] = array[:used]
    return larger



def preview_text(preview: bytes) -> str:
    """The kept start of an over-long line (the reason is given by the pipeline)."""
    return preview.decode("utf-8", errors="replace")
