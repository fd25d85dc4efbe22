"""The ProxySG kv scan where it leans on the line before: a token's key is taken from the line before's token of the
same number when its bytes are the same (a file's lines mostly hold their keys in one order), and a line after one
of QRadar's layout is first read as one. Whatever the order of lines, the values and heads are those of the Arrow
split it replaced (`_split_values`).

Lines are written from the documented layouts: Splunk's kv format
(https://docs.splunk.com/Documentation/AddOns/latest/BlueCoatProxySG/About: space-separated pairs, values with
spaces in double quotes) and QRadar's custom format
(https://www.ibm.com/docs/en/dsm?topic=sg-creating-extra-custom-format-key-value-pairs: `Bluecoat|` then
`|`-separated pairs).
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest import proxysg_kv
from detector.ingest.compiled import WantedKeys
from detector.ingest.proxysg_kv_scan import Scanned
from tests.test_ingest_proxysg_kv import QRADAR, SPLUNK, _split_values

_HEAD = re.compile(r"(.*?)(?:SPLV[\d.]*[\t\n\f\r ]|(?i:bluecoat)\||[^\t\n\f\r |=\"]+=)", re.S)
# Keys as the layouts write them, and look-alikes: other cases, `_` for `-`, one byte changed inside a long key
# (its first and last 8 bytes as the wanted key's), keys 15-17 bytes long, unwanted keys, tokens without `=`
_KEYS = ["src", "SRC", "dst", "srcport", "username", "devicetime", "cs-host", "CS_HOST", "cs-uri", "cs-uri-path",
         "cs(User-Agent)", "cs-user-agent", "rs(Content-Type)", "rs_Content_Type", "sc-filter-result",
         "filter-category", "x-bluecoat-application-name", "x-bluecoat-XpplicaTion-name", "c-ip", "C-Ip",
         "date", "time", "sc-bytes", "cs-uri-extension", "cs-uri-extensions", "x", ""]
_VALUES = ["10.0.0.1", "-", "chatgpt.com", "Mozilla/5.0 (X11)", "[02/Nov/2026:08:20:12 GMT]", "2026-11-02",
           "08:20:12", '"a b"', '""', "a=b", ""]


@st.composite
def _lines(draw: st.DrawFn) -> list[str]:
    """Lines of one key order (or a few), each with some tokens changed, dropped or moved, in either layout."""
    order = draw(st.lists(st.sampled_from(_KEYS), min_size=1, max_size=12))
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        keys = list(order)
        for _ in range(draw(st.integers(0, 2))):
            at = draw(st.integers(0, len(keys) - 1))
            change = draw(st.sampled_from(["replace", "drop", "move"]))
            if change == "replace":
                keys[at] = draw(st.sampled_from(_KEYS))
            elif change == "drop" and len(keys) > 1:
                del keys[at]
            else:
                keys.insert(draw(st.integers(0, len(keys) - 1)), keys.pop(at))
        tokens = [f"{key}={draw(st.sampled_from(_VALUES))}" if key != "x" else "x" for key in keys]
        layout = draw(st.sampled_from(["qradar", "qradar-headed", "splunk", "no-mark"]))
        if layout == "qradar":
            lines.append("Bluecoat|" + "|".join(tokens))
        elif layout == "qradar-headed":
            lines.append("<13>2026-11-02T08:21:00Z sgproxy01 BlueCoat|" + "|".join(tokens))
        elif layout == "splunk":
            lines.append("SPLV5.1 " + " ".join(tokens))
        else:  # `|` between the pairs but no `Bluecoat|`: split on spaces
            lines.append("|".join(tokens))
    return lines


def _assert_as_split(text: list[str]) -> None:
    fields = proxysg_kv.FIELDS
    scanned = Scanned(pa.array(text), WantedKeys(list(proxysg_kv._KEY_FIELD)), proxysg_kv._FIELD_OF_KEY, fields,
                      fields)
    expected = _split_values(text)
    for field in fields:
        assert scanned.columns[field].to_pylist() == expected[field], field
    heads = [(m.group(1) if (m := _HEAD.match(line)) else "") for line in text]
    assert scanned.head(np.arange(len(text))).to_pylist() == heads


@settings(max_examples=300, deadline=None)
@given(_lines())
def test_keys_read_from_the_line_before_are_those_of_the_split(text: list[str]) -> None:
    _assert_as_split(text)


def test_a_long_key_like_the_one_before_only_at_its_ends_is_not_taken_for_it() -> None:
    """`x-bluecoat-XpplicaTion-name` has the first and last 8 bytes of `x-bluecoat-application-name`: the token of
    the same number in the next line is compared whole."""
    lines = ["Bluecoat|src=1|x-bluecoat-application-name=ChatGPT|cs-host=a",
             "Bluecoat|src=2|x-bluecoat-XpplicaTion-name=Other|cs-host=b",
             "Bluecoat|src=3|X_Bluecoat_Application_Name=Claude|cs-host=c"]
    _assert_as_split(lines)
    scanned = Scanned(pa.array(lines), WantedKeys(list(proxysg_kv._KEY_FIELD)), proxysg_kv._FIELD_OF_KEY,
                      proxysg_kv.FIELDS, proxysg_kv.FIELDS)
    assert scanned.columns["x-bluecoat-application-name"].to_pylist() == ["ChatGPT", None, "Claude"]


def test_a_line_of_another_layout_after_qradar_lines_is_split_on_spaces() -> None:
    """After QRadar lines, a line with `|` but no `Bluecoat|` mark, and Splunk's, are read by their own rules."""
    lines = [QRADAR, QRADAR, 'c-ip=10.0.0.9|cs-host=x.example cs-User-Agent="a|b c" src=1', SPLUNK, QRADAR,
             QRADAR.replace("Bluecoat|", "bluecoat | ")]
    _assert_as_split(lines)
    scanned = Scanned(pa.array(lines), WantedKeys(list(proxysg_kv._KEY_FIELD)), proxysg_kv._FIELD_OF_KEY,
                      proxysg_kv.FIELDS, proxysg_kv.FIELDS)
    assert scanned.columns["c-ip"].to_pylist()[:3] == ["10.20.2.15", "10.20.2.15", "10.0.0.9|cs-host=x.example"]
    assert scanned.columns["cs(user-agent)"].to_pylist()[2] == "a|b c"
