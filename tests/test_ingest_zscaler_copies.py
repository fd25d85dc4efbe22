"""zscaler_scan's line-by-line copy of the fields' values (`field_spans` then `copied_texts`) against slicing the
buffer in Python: spans anywhere in a buffer, its last bytes included (copied byte by byte, where a word would
read past the end), missing values, empty and multi-byte values, buffers shorter than a word."""

from __future__ import annotations

import random

import numpy as np
import pytest

from detector.ingest import zscaler_scan


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
    zscaler_scan.copied_texts(buffer, begin, end, missing, wanted, base, offsets, out)
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
