"""distinct_sql.in_chunk_slices: a batch parsed in slices that never straddle the chunks of its line column."""

from __future__ import annotations

import pyarrow as pa

from detector.ingest.distinct_sql import in_chunk_slices

SCHEMA = pa.schema([("line_no", pa.int64()), ("line", pa.string())])


def batch(*chunk_lengths: int) -> pa.Table:
    """Lines in chunks of the given lengths (an empty chunk too), numbered from 0."""
    chunks, start = [], 0
    for length in chunk_lengths:
        numbers = range(start, start + length)
        chunks.append(pa.record_batch({"line_no": pa.array(numbers, pa.int64()),
                                       "line": pa.array([f"line {n}" for n in numbers])}, schema=SCHEMA))
        start += length
    return pa.Table.from_batches(chunks, SCHEMA)


def slices_of(lines: pa.Table, rows: int) -> tuple[list[int], pa.Table]:
    seen = []

    def columns(part: pa.Table) -> pa.Table:
        assert part.column("line").num_chunks == 1
        seen.append(part.num_rows)
        return part

    return seen, in_chunk_slices(lines, columns, rows)


def test_chunks_cut_into_slices_of_about_equal_size_in_line_order() -> None:
    lines = batch(17, 0, 5, 40, 1)
    seen, result = slices_of(lines, 16)
    assert seen == [17, 5, 20, 20, 1]  # 17 lines: one slice, not 16 and 1
    assert result.column("line_no").to_pylist() == list(range(63))


def test_a_slice_of_the_batch_and_no_lines() -> None:
    lines = batch(10, 10)
    seen, result = slices_of(lines.slice(7, 6), 2)
    assert seen == [1, 2, 1, 2] and result.column("line_no").to_pylist() == list(range(7, 13))
    seen, result = slices_of(lines.slice(0, 0), 2)
    assert result.num_rows == 0


def test_a_column_plain_in_one_slice_and_encoded_in_another_is_decoded() -> None:
    lines = batch(3, 3)

    def columns(part: pa.Table) -> pa.Table:
        text = part.column("line").combine_chunks()
        first = part.column("line_no")[0].as_py() == 0
        return pa.table({"value": text.dictionary_encode() if first else text})

    result = in_chunk_slices(lines, columns, 3)
    assert result.column("value").type == pa.string()
    assert result.column("value").to_pylist() == [f"line {n}" for n in range(6)]
