"""ProxySG's compiled pass (see compiled.py): each line's number of ELFF values, for a batch of mixed layouts.

A relay that sends two layouts line by line (SC4S' 32- and 42-value bcreportermain_v1) leaves proxysg to count every
line's values to group them. numpy counted them in several passes over the bytes (the spaces, the separators, their
places, the quotes, binary searches of both): ~13 % of an ingest of such a log. This loop reads each byte once.
proxysg loads it only for such a batch, so a log of one layout never loads Numba.
"""

from __future__ import annotations

import numpy as np

from detector.ingest.compiled import kernel

SPACE, QUOTE = 32, 34


@kernel
def _value_counts(data: np.ndarray, offsets: np.ndarray, counts: np.ndarray) -> None:  # pragma: no cover (compiled)
    for row in range(len(offsets) - 1):
        start, end = offsets[row], offsets[row + 1]
        if end <= start:
            counts[row] = 0
            continue
        count = 1 if data[start] != SPACE else 0
        quoted = False
        for at in range(start, end - 1):
            byte = data[at]
            if byte == QUOTE:
                quoted = not quoted
            elif byte == SPACE and not quoted and data[at + 1] != SPACE:
                count += 1
        counts[row] = count


def value_counts(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each line's number of values, as proxysg.value_counts counts them (runs of spaces outside double quotes
    separate them; a space between a line's 1st and 2nd quote, 3rd and 4th ... is inside a value): the lines'
    bytes `data` and their offsets (int32 or int64, as Arrow gives them)."""
    counts = np.zeros(len(offsets) - 1, np.int64)
    if len(counts):
        _value_counts(data, offsets.astype(np.int64, copy=False), counts)
    return counts
