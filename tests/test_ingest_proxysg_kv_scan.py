"""The ProxySG kv scan's dictionary-encoded values: the same as pyarrow's `dictionary_encode` of the values it
cuts out as text (distinct values in the order first seen, nulls where a line lacks the field), whether the scan
encodes a field itself or leaves a mostly-distinct one to Arrow.

Lines are written from the documented layouts, as in test_ingest_proxysg_kv.py: Splunk's kv format
(https://docs.splunk.com/Documentation/AddOns/latest/BlueCoatProxySG/About: space-separated pairs, values with
spaces in double quotes) and QRadar's custom format
(https://www.ibm.com/docs/en/dsm?topic=sg-creating-extra-custom-format-key-value-pairs: `|`-separated pairs).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest import proxysg_kv
from detector.ingest.compiled import WantedKeys
from detector.ingest.proxysg_kv_scan import SAMPLE_LINES, Scanned
from tests.test_ingest_proxysg_kv import _KV_TEXT, QRADAR, SPLUNK

FIELDS = proxysg_kv.FIELDS
KEYS = WantedKeys(list(proxysg_kv._KEY_FIELD))


def _assert_encoded_as_arrow_would(text: pa.Array) -> None:
    as_text = Scanned(text, KEYS, proxysg_kv._FIELD_OF_KEY, FIELDS, FIELDS)
    encoded = Scanned(text, KEYS, proxysg_kv._FIELD_OF_KEY, FIELDS, (), FIELDS)
    assert not encoded.columns
    for field in FIELDS:
        expected = pc.dictionary_encode(as_text.columns[field])
        found = encoded.encoded[field]
        found.validate(full=True)
        assert found.dictionary.equals(expected.dictionary), field
        assert found.indices.equals(expected.indices), field


@settings(max_examples=200, deadline=None)
@given(st.lists(_KV_TEXT, min_size=1, max_size=40))
def test_encoded_values_are_arrows_dictionary_encoding_of_the_text(text: list[str]) -> None:
    _assert_encoded_as_arrow_would(pa.array(text))


def test_tables_grow_and_mostly_distinct_fields_are_encoded_alike() -> None:
    """Lines that repeat at first (so the scan encodes every field), then whose numbers all differ (its tables grow
    to thousands of values); and lines whose numbers differ from the start (left to Arrow)."""
    repeated = [SPLUNK, QRADAR, SPLUNK.replace('"', "")] * (SAMPLE_LINES // 3 + 1)
    rng = np.random.default_rng(7)
    numbered = [line.replace("10.20.", f"10.{number % 250}.").replace("=200", f"={number}").replace(
        "chatgpt.com", f"h{number}.example") for number, line in zip(rng.integers(0, 10**6, 9000),
                                                                     [SPLUNK, QRADAR] * 4500, strict=True)]
    _assert_encoded_as_arrow_would(pa.array(repeated + numbered))
    _assert_encoded_as_arrow_would(pa.array(numbered + repeated).slice(5))
