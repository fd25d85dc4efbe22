"""zscaler_scan's line-by-line readers of the fields' values against Python: the copy (`field_spans` then
`copied_texts`) against slices of the buffer, the numbering (`DistinctTexts`) against numbering in order of first
appearance and `int()`: spans anywhere in a buffer, its last bytes included (read byte by byte, where a word would
read past the end), missing values, empty and multi-byte values, buffers shorter than a word, several chunks."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from detector.ingest import texts_scan, zscaler_scan


def copies(data: bytes, starts: np.ndarray, ends: np.ndarray, choices: np.ndarray) -> list[list[bytes | None]]:
    """Each field's values (None where missing) as the kernels copy them out of `data`."""
    lines, fields = starts.shape[0], len(choices)
    begin, end = np.empty((lines, fields), np.int32), np.empty((lines, fields), np.int32)
    missing, sizes = np.empty((lines, fields), bool), np.empty(fields, np.int64)
    zscaler_scan.field_spans(starts, ends, choices, begin, end, missing, sizes)
    wanted = np.arange(fields, dtype=np.int64)
    base = np.concatenate([[0], np.cumsum(sizes + 8)]).astype(np.int64)
    offsets, out = np.empty((fields, lines + 1), np.int32), np.empty(int(base[-1]), np.uint8)
    buffer = np.frombuffer(data, np.uint8)
    texts_scan.copied_texts(buffer, begin, end, missing, wanted, base, offsets, out)
    texts = []
    for k in range(fields):
        assert offsets[k, -1] == sizes[k]
        field = out[base[k]:base[k] + sizes[k]].tobytes()
        texts.append([None if missing[line, k] else field[offsets[k, line]:offsets[k, line + 1]]
                      for line in range(lines)])
    return texts


@pytest.mark.parametrize("seed", range(40))
def test_copied_values_are_the_buffers_spans(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = ["a", "Z", "0", "=", "\t", "é", "€", "😀", " "]
    data = "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 3, 7, 8, 9, 40, 300]))).encode()
    lines, slots = rng.randrange(1, 30), rng.randrange(1, 5)
    starts = np.full((lines, slots), -1, np.int32)
    ends = np.empty((lines, slots), np.int32)
    for line in range(lines):
        for slot in range(slots):
            if rng.random() < 0.7:
                a = rng.randrange(len(data) + 1)
                b = rng.choice([a, min(len(data), a + rng.randrange(20)), len(data)])
                starts[line, slot], ends[line, slot] = a, b
    # each field: the first present of one or two slots (a field's names), in order of preference
    choices = np.array([[slot, (slot + 1) % slots if rng.random() < 0.5 else -1] for slot in range(slots)], np.int64)
    expected = []
    for field in range(slots):
        values = []
        for line in range(lines):
            found = [c for c in choices[field] if c >= 0 and starts[line, c] >= 0]
            values.append(data[starts[line, found[0]]:ends[line, found[0]]] if found else None)
        expected.append(values)
    assert copies(data, starts, ends, choices) == expected


def spans_of_lines(rng: random.Random, data: bytes, lines: int, fields: int) -> tuple[np.ndarray, ...]:
    """Random spans of `data` (some missing) as `field_spans` gives them: begin, end, missing (lines x fields)."""
    begin = np.zeros((lines, fields), np.int32)
    end = np.zeros((lines, fields), np.int32)
    missing = np.zeros((lines, fields), bool)
    for line in range(lines):
        for field in range(fields):
            a = rng.randrange(len(data) + 1)
            begin[line, field], end[line, field] = a, min(len(data), a + rng.choice([0, 1, 3, 8, 9, 17]))
            missing[line, field] = rng.random() < 0.2
    return begin, end, missing


@pytest.mark.parametrize("seed", range(30))
def test_texts_numbered_across_chunks_as_dictionary_encode_numbers_them(seed: int) -> None:
    """`DistinctTexts` over several chunks (buffers of their own): each field's codes index its dictionary, in order
    of first appearance; number fields read where plain digits (else flagged); fields given as -1 left alone; the
    table and text buffer grown on the way (many distinct texts)."""
    rng = random.Random(seed)
    distinct = texts_scan.DistinctTexts()
    fields = 4
    expected: list[list[bytes | None]] = [[] for _ in range(fields)]
    codes_of: list[list[int]] = [[] for _ in range(fields)]
    for _ in range(rng.randrange(1, 4)):
        data = "".join(rng.choice(["1", "2", "0", "a", "é", "=", "€"]) for _ in range(rng.choice([5, 60, 3000]))).encode()
        lines = rng.choice([rng.randrange(1, 300), 5000])  # (5,000: the table and text buffer grow)
        begin, end, missing = spans_of_lines(rng, data, lines, fields + 1)
        texts = np.array([0, 1, 2, 3], np.int64)
        numbers = np.array([4], np.int64)
        codes, values, plain = distinct.read(np.frombuffer(data, np.uint8), begin, end, missing, texts, numbers)
        for k in range(fields):
            for line in range(lines):
                expected[k].append(None if missing[line, k] else data[begin[line, k]:end[line, k]])
                codes_of[k].append(int(codes[k, line]))
        spans = [None if missing[line, 4] else data[begin[line, 4]:end[line, 4]] for line in range(lines)]
        digits = all(s is None or (0 < len(s) <= 18 and s.isdigit() and s.isascii()) for s in spans)
        assert bool(plain[0]) == digits
        if digits:
            assert [int(values[0, line]) for line, s in enumerate(spans) if s is not None] \
                == [int(s) for s in spans if s is not None]
    dictionaries = distinct.dictionaries(fields)
    for k in range(fields):
        order = list(dict.fromkeys(value for value in expected[k] if value is not None))
        assert dictionaries[k].cast(pa.binary()).to_pylist() == order  # (as bytes: random cuts split characters)
        assert [None if code < 0 else order[code] for code in codes_of[k]] == expected[k]
