"""Hashed feature columns of host-name texts, the same columns and values as scikit-learn's
`HashingVectorizer(analyzer="char_wb", alternate_sign=False, norm="l2", lowercase=False)` and
`FeatureHasher(input_type="dict", alternate_sign=False)` give, computed without scikit-learn.

Why: scoring a host must not need scikit-learn, whose import alone (it loads SciPy's statistics) cost
about 1 s of CPU, a tenth of `classify` on a big lake; the fitted weights are stored as plain arrays over
these columns (`scorer.py`). Training builds its matrix from the same functions, so the columns of
training and of scoring cannot drift apart; tests check them against scikit-learn's own hashers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import mmh3
import numpy as np

_INT32_MIN = -(2**31)


@dataclass(frozen=True)
class HashedRows:
    """One entry per (row, column) that has a value; entries ordered by row, then column."""

    rows: np.ndarray  # int64
    columns: np.ndarray  # int64
    values: np.ndarray  # float64
    row_count: int

    def indptr(self) -> np.ndarray:
        """Where each row's entries start (CSR layout)."""
        return np.concatenate([[0], np.cumsum(np.bincount(self.rows, minlength=self.row_count))])


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams inside word boundaries, each word padded with a space; a word shorter than n
    gives itself once (scikit-learn's `char_wb` analyzer, to the letter)."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if length <= n:
                grams.append(padded)
                break
            grams.extend(padded[start:start + n] for start in range(length - n + 1))
    return grams


def column_of(feature: str, n_features: int) -> int:
    """The feature's column: |signed 32-bit MurmurHash3 of its UTF-8 bytes| modulo n_features."""
    hashed = mmh3.hash(feature, 0, signed=True)
    if hashed == _INT32_MIN:  # |-2**31| does not fit in 32 bits; scikit-learn defines this case so
        return (2**31 - 1 - (n_features - 1)) % n_features
    return abs(hashed) % n_features


def _combined(rows: list[int], columns: list[int], values: np.ndarray | None, row_count: int,
              n_features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries of one (row, column) summed; ordered by row, then column."""
    keys = np.asarray(rows, dtype=np.int64) * n_features + np.asarray(columns, dtype=np.int64)
    unique, where = np.unique(keys, return_inverse=True)
    weights = np.ones(len(keys)) if values is None else values
    summed = np.bincount(where, weights=weights, minlength=len(unique))
    return unique // n_features, unique % n_features, summed


def hashed_ngrams(texts: Sequence[str], ngram_range: tuple[int, int], n_features: int) -> HashedRows:
    """Per text, the counts of its hashed char_wb n-grams, scaled to unit length (l2)."""
    low, high = ngram_range
    rows: list[int] = []
    columns: list[int] = []
    known: dict[str, int] = {}  # n-grams repeat across names: each is hashed once
    per_text: dict[str, list[int]] = {}  # and so do whole texts (hosts of one domain, www, api ...)
    for row, text in enumerate(texts):
        found = per_text.get(text)
        if found is None:
            found = per_text[text] = []
            for gram in char_wb_ngrams(text, low, high):
                column = known.get(gram)
                if column is None:
                    column = known[gram] = column_of(gram, n_features)
                found.append(column)
        columns.extend(found)
        rows.extend([row] * len(found))
    row_ids, column_ids, counts = _combined(rows, columns, None, len(texts), n_features)
    lengths = np.sqrt(np.bincount(row_ids, weights=counts * counts, minlength=len(texts)))
    return HashedRows(row_ids, column_ids, counts / lengths[row_ids], len(texts))


def hashed_named(features: Sequence[Mapping[str, float]], n_features: int) -> HashedRows:
    """Per row, its named values in their hashed columns (colliding names summed; zeros left out)."""
    rows: list[int] = []
    columns: list[int] = []
    values: list[float] = []
    known: dict[str, int] = {}
    for row, named in enumerate(features):
        for name, value in named.items():
            if value == 0:
                continue
            column = known.get(name)
            if column is None:
                column = known[name] = column_of(name, n_features)
            rows.append(row)
            columns.append(column)
            values.append(value)
    row_ids, column_ids, summed = _combined(rows, columns, np.asarray(values, dtype=np.float64), len(features),
                                            n_features)
    return HashedRows(row_ids, column_ids, summed, len(features))
