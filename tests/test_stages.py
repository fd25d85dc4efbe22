"""ordered_map: parse results in input order, with one batch waiting beyond the busy workers."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from detector.ingest.stages import ordered_map


def test_results_keep_the_input_order_with_at_most_one_item_waiting_beyond_the_workers() -> None:
    pulled = 0

    def items() -> Iterator[int]:
        nonlocal pulled
        for i in range(40):
            pulled += 1
            yield i

    def work(i: int) -> int:
        time.sleep(0.001 * ((7 * i) % 5))  # later items often finish first
        return i * i

    results = []
    ahead = []
    for result in ordered_map(work, items(), workers=2):
        ahead.append(pulled - len(results))
        results.append(result)
    assert results == [i * i for i in range(40)]
    # Two being worked on and one waiting, so that a free worker never idles; no more read ahead.
    assert max(ahead) == 3


def test_an_error_in_the_work_reaches_the_consumer() -> None:
    def work(i: int) -> int:
        if i == 5:
            raise ValueError("batch 5 is bad")
        return i

    results = []
    with pytest.raises(ValueError, match="batch 5 is bad"):
        for result in ordered_map(work, iter(range(20)), workers=2):
            results.append(result)
    assert results == [0, 1, 2, 3, 4]
