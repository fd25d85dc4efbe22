"""The hashed name columns are scikit-learn's, to the bit, without scikit-learn (name_hashing.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer

from detector.classify import features, name_hashing
from detector.signatures import SIGNATURES_DIR, load_catalog, read_domain_list

TEXTS = ["chat gpt .com", "api eu west 0", "", "a", "ab", "x  y\tz", "über setzer .de", "中文 .cn", "é€ab",
         "  lead and trail  ", "writer .studio", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]


def _matrix(rows: name_hashing.HashedRows, width: int) -> sparse.csr_matrix:
    return sparse.csr_matrix((rows.values, rows.columns, rows.indptr()), shape=(rows.row_count, width))


def _hosts() -> list[str]:
    hosts = [d for service in load_catalog().services.values() for d in service.domains]
    for path in sorted((SIGNATURES_DIR / "non_ai").glob("*.txt")):
        hosts += read_domain_list(path)
    return [*hosts, "10.1.2.3", "intranet", "r3---sn-4g5e6nz7.googlevideo.com", "xn--bcher-kva.example"]


def _same(ours: sparse.csr_matrix, theirs: sparse.csr_matrix) -> None:
    assert ours.shape == theirs.shape
    assert (ours != theirs).nnz == 0  # the same entries with the same values, bit for bit


@pytest.mark.parametrize("ngram_range", [(3, 5), (1, 2), (2, 4)])
def test_ngram_columns_equal_sklearns_hashing_vectorizer(ngram_range: tuple[int, int]) -> None:
    texts = TEXTS + [part for host in _hosts()[:3000] for part in features.name_parts(host)[:2]]
    theirs = HashingVectorizer(analyzer="char_wb", ngram_range=ngram_range, n_features=2**18, alternate_sign=False,
                               norm="l2", lowercase=False).transform(texts)
    _same(_matrix(name_hashing.hashed_ngrams(texts, ngram_range, 2**18), 2**18), theirs)


def test_named_columns_equal_sklearns_feature_hasher() -> None:
    named = [features.name_parts(host)[2] for host in _hosts()] + [{}, {"zero": 0.0, "one": 1.0}]
    theirs = FeatureHasher(n_features=2**16, input_type="dict", alternate_sign=False).transform(named)
    _same(_matrix(name_hashing.hashed_named(named, 2**16), 2**16), theirs)


def test_colliding_features_are_summed_like_sklearns() -> None:
    # 2 columns: names collide all the time, within a row too.
    named = [{f"f{i}": float(i) for i in range(1, 9)}, {"a": 0.5, "b": 0.25}]
    theirs = FeatureHasher(n_features=2, input_type="dict", alternate_sign=False).transform(named)
    _same(_matrix(name_hashing.hashed_named(named, 2), 2), theirs)
    texts = ["chat gpt", "aaaa bbbb"]
    theirs = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=3, alternate_sign=False,
                               norm="l2", lowercase=False).transform(texts)
    ours = _matrix(name_hashing.hashed_ngrams(texts, (3, 5), 3), 3)
    assert np.allclose(ours.toarray(), theirs.toarray(), rtol=0, atol=1e-15)
