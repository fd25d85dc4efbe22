"""CEF/LEEF read by the compiled kernels (`cef_scan`): which key's value a field takes, escapes, delimiters, and
the table of distinct texts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from detector.ingest import FORMATS, cef_scan
from detector.ingest.base import ParseContext, open_parse_connection

CEF = "CEF:0|V|P|1|100|Web|1|rt=1710140533000 "
LEEF2 = "LEEF:2.0|V|P|1|E|"


def parsed(key: str, lines: list[str]) -> tuple[list[dict], list[dict], int]:
    parse = FORMATS[key].new_parser(ParseContext("gateway-20240311.log", "UTC", open_parse_connection()))
    result = parse(pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": lines}))
    assert result.events.num_rows + result.rejects.num_rows + result.ignored == len(lines)
    return result.events.to_pylist(), result.rejects.to_pylist(), result.ignored


def test_keys_in_any_case_first_occurrence_and_the_preferred_key() -> None:
    events, rejects, _ = parsed("cef", [
        CEF + "SRC=10.0.0.1 src=10.0.0.2 dhost=a.ai",  # the first occurrence, in any case
        CEF + "duser=later suser=first src=10.0.0.3 dhost=b.ai",  # suser is preferred to duser wherever it is
        CEF + "suser= duser=x src=10.0.0.4 dhost=c.ai",  # an empty preferred key hides the later alias
        CEF + "sourceAddress=10.0.0.5 DHOST=d.ai"])
    assert not rejects
    assert [(e["src_ip"], e["user_name"], e["host"]) for e in events] == [
        ("10.0.0.1", None, "a.ai"), ("10.0.0.3", "first", "b.ai"), ("10.0.0.4", None, "c.ai"),
        ("10.0.0.5", None, "d.ai")]


def test_cef_values_run_to_the_next_key_and_escapes_hide_separators() -> None:
    events, rejects, _ = parsed("cef", [
        CEF + r"src=10.0.0.1 suser=Jan de Vries dhost=a.ai request=https://a.ai/p?q\=1 a b",
        r"CEF:0|V\|x|P|1|100|Web|1|rt=1710140533000 src=10.0.0.2 suser=x\\ dhost=b.ai"])
    assert not rejects
    assert [(e["user_name"], e["url_path"]) for e in events] == [("Jan de Vries", "/p"), ("x\\", None)]


def test_leef_delimiters_of_several_bytes_and_escaped_ones() -> None:
    events, rejects, _ = parsed("leef", [
        LEEF2 + "ab|devTime=1710140533000absrc=10.0.0.1abusrName=a\\=bcabdhost=x",  # 'ab' cuts; '\=' in a value
        LEEF2 + "x2603|devTime=1710140533000\u2603src=10.0.0.2\u2603url=y.ai/p",  # a character of 3 bytes
        LEEF2 + "\\^|devTime=1710140533000\\^src=10.0.0.3\\^url=z.ai/q"])  # two characters: '\^'
    assert not rejects
    assert [(e["src_ip"], e["user_name"], e["host"]) for e in events] == [
        ("10.0.0.1", "a=bc", "x"), ("10.0.0.2", None, "y.ai"), ("10.0.0.3", None, "z.ai")]


def test_a_leef_delimiter_code_that_is_no_character_cuts_nothing() -> None:
    """`xD800` (a surrogate, no UTF-8 character) used to fail the batch; now the attributes are one item."""
    events, rejects, ignored = parsed("leef", [LEEF2 + "xD800|devTime=1710140533000\tsrc=10.0.0.1",
                                               LEEF2 + "^|devTime=1710140533000^src=10.0.0.2"])
    assert [e["src_ip"] for e in events] == ["10.0.0.2"]
    assert len(rejects) + ignored == 1


def test_distinct_values_numbered_once_and_the_table_grows() -> None:
    """Texts repeated and all distinct (more than the table's first size): equal texts get one number."""
    texts = [f"value-{n % 7_000}" for n in range(20_000)]
    line = " ".join(texts)
    data = np.frombuffer(line.encode(), np.uint8)
    starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]]).astype(np.int32)
    ends = starts + np.array([len(t) for t in texts], np.int32)
    value_start, value_end = starts.reshape(-1, 4).copy(), ends.reshape(-1, 4).copy()
    value_start[0, 1] = -1  # none
    value_end[1, 2] = value_start[1, 2]  # empty
    codes, present, offsets, text = cef_scan.distinct_values(data, value_start, value_end)
    distinct = pa.StringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(text))
    assert len(distinct) == 7_000 and len(set(distinct.to_pylist())) == 7_000
    assert codes[1, 0] == -1 and codes[2, 1] == -2 and present.all()  # (fields x lines; -2: empty)
    decoded = distinct.take(pa.array(np.maximum(codes.T.ravel(), 0), mask=codes.T.ravel() < 0)).to_pylist()
    expected = list(texts)
    expected[1], expected[6] = None, None
    assert decoded == expected


def test_a_batch_of_several_chunks_parses_as_one() -> None:
    """Chunks (of their own buffers, one empty, one a slice) read one by one give what one chunk gives."""
    lines = [CEF + f"src=10.0.{n % 3}.1 dhost=h{n % 5}.ai suser=u{n} cs1Label=HTTP Status cs1={200 + n % 2}"
             for n in range(40)]
    lines[7] = "<134>Mar 11 08:02:14 gw CEF:0|V|P|1|100|Web|1|src=10.9.9.9 dhost=x.ai"  # the syslog header's time
    whole = pa.array(["pad", *lines[20:], "pad"])
    chunks = pa.chunked_array([pa.array(lines[:7]), pa.array([], pa.string()), pa.array(lines[7:20]),
                               whole.slice(1, 20)])
    parse = FORMATS["cef"].new_parser(ParseContext("gateway-20240311.log", "UTC", open_parse_connection()))
    numbers = pa.array(range(1, 41), pa.int64())
    one = parse(pa.table({"line_no": numbers, "line": pa.array(lines)}))
    several = parse(pa.table({"line_no": numbers, "line": chunks}))
    assert several.events.to_pylist() == one.events.to_pylist()
    assert several.rejects.to_pylist() == one.rejects.to_pylist() and several.ignored == one.ignored
    assert one.events.num_rows == 40 and one.events.column("http_status").to_pylist()[:2] == [200, 201]
