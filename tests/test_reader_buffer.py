"""The reader's reused read buffer and its two ways of cutting lines (the compiled kernel of lines_scan where Numba is
loaded, numpy and Arrow elsewhere): both give every line as Python would split the bytes, wherever the reads cut it."""

from __future__ import annotations

import contextlib
import gzip
import io
import sys
import types
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import detector.ingest.line_cuts as line_cuts
import detector.ingest.lines_scan  # noqa: F401  (the kernel, and Numba with it, loaded as a format with kernels does)
import detector.ingest.reader as reader
from detector.ingest.reader import UTF8_BOM, ContentHasher, LineBatch, StreamState, iter_line_batches

WAYS = [pytest.param(False, id="numpy-arrow"), pytest.param(True, id="kernel")]


@contextlib.contextmanager
def reading(kernel: bool | None, chunk: int = reader.CHUNK_BYTES, min_chunk: int = reader.MIN_CHUNK_BYTES,
            max_batch: int = reader.MAX_BATCH_BYTES) -> Iterator[None]:
    """The reader set to one way of cutting lines and to reads of `chunk` bytes (`min_chunk`: the least)."""
    saved = line_cuts.LINES_KERNEL, reader.CHUNK_BYTES, reader.MIN_CHUNK_BYTES, reader.MAX_BATCH_BYTES
    line_cuts.LINES_KERNEL, reader.CHUNK_BYTES, reader.MIN_CHUNK_BYTES, reader.MAX_BATCH_BYTES = (
        kernel, chunk, min_chunk, max_batch)
    try:
        yield
    finally:
        line_cuts.LINES_KERNEL, reader.CHUNK_BYTES, reader.MIN_CHUNK_BYTES, reader.MAX_BATCH_BYTES = saved


class Pieces(io.RawIOBase):
    """A stream with read1 only (no readinto1), giving at most `piece` bytes a call."""

    def __init__(self, data: bytes, piece: int) -> None:
        self._data, self._piece, self._at = data, piece, 0

    def read1(self, size: int = -1) -> bytes:
        chunk = self._data[self._at : self._at + min(size, self._piece)]
        self._at += len(chunk)
        return chunk


def expected(data: bytes, max_line_bytes: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(number, text) of the lines Python reads from `data`, and of the over-long ones (their first 1024 bytes)."""
    body = data.removeprefix(UTF8_BOM)
    raw = body.split(b"\n")
    if raw[-1] == b"":
        raw.pop()  # (the newline ends the last line; it starts none)
    lines, too_long = [], []
    for number, line in enumerate(raw, 1):
        text = line.decode("utf-8", errors="replace").rstrip("\r")
        if len(text.encode()) > max_line_bytes:
            too_long.append((number, text.encode()[:1024].decode("utf-8", errors="replace")))
        else:
            lines.append((number, text))
    return lines, too_long


def read_all(stream: io.IOBase, batch_lines: int = 7, max_line_bytes: int = 1 << 20
             ) -> tuple[list[LineBatch], StreamState]:
    state = StreamState(hasher=ContentHasher())
    return list(iter_line_batches(stream, state, batch_lines, max_line_bytes)), state  # type: ignore[arg-type]


def got(batches: list[LineBatch]) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    lines = [(number, text) for batch in batches
             for number, text in zip(batch.lines.column("line_no").to_pylist(), batch.lines.column("line").to_pylist(),
                                     strict=True)]
    return lines, [reject for batch in batches for reject in batch.too_long]


def test_the_kernel_way_makes_each_batch_one_arrow_chunk() -> None:
    """Parsers that need a batch's lines as one array then read them in place (no copy of the batch's text)."""
    data = b"".join(b"line %d of a file read in many pieces\r\n" % i for i in range(500))
    with reading(kernel=True, chunk=256, min_chunk=256):
        batches, _ = read_all(io.BytesIO(data), batch_lines=100)
    assert len(batches) >= 5
    assert all(batch.lines.column("line").num_chunks == 1 for batch in batches)
    assert got(batches) == expected(data, 1 << 20)


@pytest.mark.parametrize("kernel", WAYS)
@pytest.mark.parametrize("chunk", [1, 3, 16, 64])
def test_a_line_cut_across_reads_is_one_line_with_crlf_trimmed(kernel: bool, chunk: int) -> None:
    data = b"first\r\nsecond line, longer than a read\r\n\r\nlast \xe2\x82\xac sign\r\r\n"
    with reading(kernel, chunk=chunk, min_chunk=1):
        batches, state = read_all(io.BytesIO(data), batch_lines=2)
    assert got(batches) == ([(1, "first"), (2, "second line, longer than a read"), (3, ""), (4, "last € sign")], [])
    assert (state.offset, state.lines) == (len(data), 4)


@pytest.mark.parametrize("kernel", WAYS)
def test_reading_on_into_the_same_buffer_never_changes_an_earlier_batchs_lines(kernel: bool) -> None:
    """Every read reuses one buffer: the lines handed out before must be copies, not views of it."""
    data = b"".join(b"%d %s\n" % (i, bytes([65 + i % 26]) * (i % 37)) for i in range(300))
    with reading(kernel, chunk=64, min_chunk=64):
        batches, _ = read_all(io.BytesIO(data), batch_lines=5)
    assert len(batches) > 20
    assert got(batches) == expected(data, 1 << 20)  # checked once all were read


@pytest.mark.parametrize("kernel", WAYS)
@pytest.mark.parametrize("chunk", [8, 50, 4096])
def test_over_long_lines_are_rejects_numbered_where_they_are_even_across_reads(kernel: bool, chunk: int) -> None:
    data = b"short\n" + b"x" * 300 + b"\nmiddle\n" + b"y" * 120 + b"\r\n" + b"z" * 2000 + b"\nend"
    with reading(kernel, chunk=chunk, min_chunk=1):
        batches, state = read_all(io.BytesIO(data), batch_lines=3, max_line_bytes=100)
    lines, too_long = got(batches)
    assert lines == [(1, "short"), (3, "middle"), (6, "end")]
    # each with the start of its text: as much as was read when it went over the limit, up to 1024 bytes
    assert [number for number, _ in too_long] == [2, 4, 5]
    assert all(len(text) > 100 and full.startswith(text)
               for (_, text), full in zip(too_long, ["x" * 300, "y" * 120, "z" * 1024], strict=True))
    assert (state.lines, state.offset) == (6, len(data))
    assert sum(batch.count for batch in batches) == 6


@pytest.mark.parametrize("kernel", WAYS)
def test_invalid_utf8_in_a_later_read_is_replaced_in_its_line_only(kernel: bool) -> None:
    data = b"".join(b"clean line %02d\n" % i for i in range(20)) + b"bad \xff\xc3 bytes\r\n\xc3\xa9t\xc3\xa9\n"
    with reading(kernel, chunk=32, min_chunk=32):
        batches, _ = read_all(io.BytesIO(data), batch_lines=4)
    lines, _ = got(batches)
    assert lines[-2:] == [(21, "bad \ufffd\ufffd bytes"), (22, "été")]
    assert lines[:20] == [(i + 1, f"clean line {i:02d}") for i in range(20)]


@pytest.mark.parametrize("kernel", WAYS)
def test_a_gzip_file_and_a_byte_order_mark_read_in_small_pieces(kernel: bool) -> None:
    data = UTF8_BOM + b"".join(b"gzip line %d\r\n" % i for i in range(200))
    with reading(kernel, chunk=40, min_chunk=40):
        batches, state = read_all(gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(data))))
    assert got(batches) == expected(data, 1 << 20)
    assert got(batches)[0][0] == (1, "gzip line 0")
    assert state.offset == len(data)
    check = ContentHasher()
    check.update(data)
    assert state.hasher.hexdigest() == check.hexdigest()  # every byte, the mark too


def test_the_kernel_is_used_where_numba_is_loaded_and_lines_are_not_too_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(line_cuts, "LINES_KERNEL", None)
    monkeypatch.delitem(sys.modules, "detector.ingest.compiled", raising=False)
    assert not line_cuts.kernel_wanted(1 << 20)  # (a format without kernels: Numba is not loaded for the reader)
    being_imported = types.ModuleType("detector.ingest.compiled")  # (in sys.modules from the start of its import)
    monkeypatch.setitem(sys.modules, "detector.ingest.compiled", being_imported)
    assert not line_cuts.kernel_wanted(1 << 20)  # (a parse thread still importing Numba: not in the reading thread)
    being_imported.LOADED = True  # type: ignore[attr-defined]
    assert line_cuts.kernel_wanted(1 << 20)
    assert not line_cuts.kernel_wanted(line_cuts.KERNEL_MAX_LINE_BYTES + 1)


def test_a_format_that_loads_numba_as_it_parses_gets_one_chunk_batches_from_then_on(monkeypatch: pytest.MonkeyPatch
                                                                                   ) -> None:
    """The way is chosen per batch: batches read before a format loaded its kernels are cut the numpy and Arrow way
    (an Arrow chunk a read), those after by the kernel (one chunk); the lines and their numbers run on unchanged."""
    monkeypatch.setattr(line_cuts, "LINES_KERNEL", None)
    compiled = sys.modules["detector.ingest.compiled"]
    monkeypatch.delitem(sys.modules, "detector.ingest.compiled")
    data = b"".join(b"%04d a line of some length\r\n" % i for i in range(400))
    batches = []
    with reading(kernel=None, chunk=200, min_chunk=200):
        for batch in iter_line_batches(io.BytesIO(data), StreamState(), 25, 1 << 20):
            batches.append(batch)
            if len(batches) == 3:
                sys.modules["detector.ingest.compiled"] = compiled  # (as a parser's first kernel loads it)
    chunks = [batch.lines.column("line").num_chunks for batch in batches]
    assert chunks[0] > 1 and chunks[-1] == 1
    assert got(batches) == expected(data, 1 << 20)


LINE_PIECES = [b"a", b"bc", b" ", b"\r", b"\t", b"\xc3\xa9", b"\xe2\x82\xac", b"\xff", b"\xc3", b'{"k":1}']


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(st.one_of(st.lists(st.sampled_from(LINE_PIECES), max_size=6).map(b"".join),
                             st.integers(130, 600).map(lambda n: b"L" * n)), max_size=40),
    crlf=st.booleans(), final_newline=st.booleans(), bom=st.booleans(),
    chunk=st.sampled_from([1, 5, 17, 64, 1000]), batch_lines=st.integers(1, 9), max_batch=st.sampled_from([50, 1 << 20]),
    how=st.sampled_from(["bytes", "gzip", "pieces"]), kernel=st.booleans(),
)
def test_any_lines_read_in_any_pieces_come_out_as_python_splits_them(
    lines: list[bytes], crlf: bool, final_newline: bool, bom: bool, chunk: int, batch_lines: int, max_batch: int,
    how: str, kernel: bool,
) -> None:
    """Short lines of any bytes (CRs, invalid UTF-8) and ASCII lines over the limit of 100 bytes."""
    data = (UTF8_BOM if bom else b"") + b"".join(line + (b"\r\n" if crlf else b"\n") for line in lines)
    if not final_newline and data.endswith(b"\n"):
        data = data[:-1]
    stream = {"bytes": lambda: io.BytesIO(data), "gzip": lambda: gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(data))),
              "pieces": lambda: Pieces(data, 7)}[how]()
    with reading(kernel, chunk=chunk, min_chunk=1, max_batch=max_batch):
        batches, state = read_all(stream, batch_lines=batch_lines, max_line_bytes=100)  # type: ignore[arg-type]
    lines_read, too_long = got(batches)
    lines_expected, too_long_expected = expected(data, 100)
    assert lines_read == lines_expected
    assert [number for number, _ in too_long] == [number for number, _ in too_long_expected]
    # each with the start of its text held when it went over the limit (as read: a CR read before its newline too)
    assert all(len(text) > 100 and full.startswith(text.rstrip("\r"))
               for (_, text), (_, full) in zip(too_long, too_long_expected, strict=True))
    assert state.offset == len(data)
    assert state.lines == sum(batch.count for batch in batches)


def test_a_batch_text_buffer_is_used_again_only_once_nothing_refers_to_its_lines(monkeypatch: pytest.MonkeyPatch
                                                                                 ) -> None:
    """The kernel way lends each batch a text buffer from a pool: a dropped batch's buffer serves a later batch, while
    a batch kept, or a slice kept of one, keeps its text as it was read."""
    allocated = []
    original = line_cuts._text_buffer
    monkeypatch.setattr(line_cuts, "_text_buffer", lambda size: allocated.append(size) or original(size))
    data = b"".join(b"%05d %s\n" % (i, bytes([97 + i % 26]) * (i % 50)) for i in range(2000))
    lines = expected(data, 1 << 20)[0]
    kept: list[tuple[int, object]] = []
    batches = 0
    with reading(kernel=True, chunk=512, min_chunk=512):
        for batch in iter_line_batches(io.BytesIO(data), StreamState(), 20, 1 << 20):
            batches += 1
            if batches % 7 == 0:
                kept.append((batches, batch.lines))  # a whole batch
            elif batches % 5 == 0:
                kept.append((batches, batch.lines.slice(3, 4)))  # a few of its lines only
            del batch  # the others are gone: their buffers may serve the next batches
    assert batches > 50 and len(allocated) < batches / 2
    for _, table in kept:
        numbers = table.column("line_no").to_pylist()  # type: ignore[attr-defined]
        texts = table.column("line").to_pylist()  # type: ignore[attr-defined]
        assert list(zip(numbers, texts, strict=True)) == lines[numbers[0] - 1 : numbers[-1]]
