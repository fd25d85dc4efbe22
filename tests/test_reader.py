"""The streaming line reader: what it yields and where it stands when a stream breaks off."""

from __future__ import annotations

import io

import pyarrow as pa
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.reader import ContentHasher, StreamState, iter_line_batches, with_context


class BreaksOff(io.RawIOBase):
    """A stream that yields `data` in small pieces, then fails like a truncated gzip member."""

    def __init__(self, data: bytes, piece: int = 7) -> None:
        self._data, self._piece, self._at = data, piece, 0

    def read1(self, size: int = -1) -> bytes:
        if self._at >= len(self._data):
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        chunk = self._data[self._at : self._at + min(size, self._piece)]
        self._at += len(chunk)
        return chunk


def lines_of(batches: list) -> list[str]:  # type: ignore[type-arg]
    return [line for batch in batches for line in batch.lines.column("line").to_pylist()]


@pytest.mark.parametrize("tail", [b"", b"1732780800.000 10 10.0.0.1 TCP_MISS/200 5 GET http://a/ - DIRECT/1.2.3.4 te"])
def test_a_broken_stream_yields_its_complete_lines_and_stops_before_the_broken_one(tail: bytes) -> None:
    complete = b"first line\nsecond line\n"
    state = StreamState(hasher=ContentHasher())
    batches = list(iter_line_batches(BreaksOff(complete + tail), state, batch_lines=1000, max_line_bytes=1 << 20))
    assert lines_of(batches) == ["first line", "second line"]
    assert state.error is not None and "truncated" in state.error.message
    assert state.lines == 2
    assert state.offset == len(complete)


def test_a_last_line_without_newline_at_a_clean_end_is_still_a_line() -> None:
    state = StreamState(hasher=ContentHasher())
    data = b"one\r\ntwo\r\nthree"
    batches = list(iter_line_batches(io.BytesIO(data), state, batch_lines=2, max_line_bytes=1 << 20))
    assert lines_of(batches) == ["one", "two", "three"]
    assert (state.lines, state.offset, state.error) == (3, len(data), None)
    assert state.hasher.hexdigest() == "xxh3_128:" + xxhash.xxh3_128(data).hexdigest()


@pytest.mark.parametrize(("batch_lines", "reach"), [(1, 1), (2, 3), (3, 2), (4, 10), (7, 4)])
def test_with_context_hands_each_batch_its_neighbours_lines_and_every_line_once(batch_lines: int, reach: int) -> None:
    import detector.ingest.reader as reader

    data = b"".join(b"line %-70d\n" % i for i in range(1, 24))  # longer than the 64 bytes a read assumes
    original, reader.MIN_CHUNK_BYTES = reader.MIN_CHUNK_BYTES, 8  # batches of about `batch_lines` lines
    try:
        plain = list(iter_line_batches(io.BytesIO(data), StreamState(), batch_lines, max_line_bytes=1 << 20))
        batches = list(with_context(iter_line_batches(io.BytesIO(data), StreamState(), batch_lines, 1 << 20), reach))
    finally:
        reader.MIN_CHUNK_BYTES = original
    assert len(plain) > 1 and [b.lines for b in batches] == [b.lines for b in plain]
    numbers = [b.lines.column("line_no").to_pylist() for b in batches]
    assert [n for own in numbers for n in own] == list(range(1, 24))  # every line once, in order
    for batch, own in zip(batches, numbers, strict=True):
        before = batch.before.column("line_no").to_pylist()  # type: ignore[union-attr]
        after = batch.after.column("line_no").to_pylist()  # type: ignore[union-attr]
        assert before == list(range(max(1, own[0] - reach), own[0]))
        assert after == list(range(own[-1] + 1, min(23, own[-1] + reach) + 1))


def test_a_batch_of_long_lines_ends_at_max_batch_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Long lines make smaller batches (memory follows bytes, not lines); no line is lost or split."""
    import detector.ingest.reader as reader

    monkeypatch.setattr(reader, "MAX_BATCH_BYTES", 2000)
    data = b"".join(b"%04d %s\n" % (i, b"x" * 495) for i in range(40))  # 500-byte lines
    # reads of 30 * 64 bytes: the line count alone would make batches of 30 lines
    batches = list(iter_line_batches(io.BytesIO(data), StreamState(), batch_lines=30, max_line_bytes=1 << 20))
    assert len(batches) > 2
    assert all(b.lines.num_rows < 10 for b in batches)
    assert lines_of(batches) == data.decode().splitlines()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from([b"a", b" ", b"\r", b"\xc3\xa9", b"\xe2\x82\xac", b"\xff", b"\xc3", b"\t"]),
                         max_size=12).map(b"".join), max_size=20))
def test_split_lines_gives_each_line_without_its_newline_and_trailing_crs(lines: list[bytes]) -> None:
    """Lines of any bytes (CRs anywhere, multi-byte and invalid UTF-8 next to them) come out as Python's reading of
    them: invalid bytes replaced, the newline and the CRs before it gone, every other byte kept."""
    from detector.ingest.line_cuts import split_lines

    chunk = b"".join(line + b"\n" for line in lines)
    expected = [line.decode("utf-8", errors="replace").rstrip("\r") for line in lines]
    split = split_lines(chunk)
    assert split.type == pa.string()
    assert split.to_pylist() == expected
