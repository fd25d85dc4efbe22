"""Zeek's Arrow shortcuts against the general reading: first bytes, fixed-width times, partial splits, slices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from detector.ingest import zeek
from detector.ingest.arrow_ops import cut_at, first_bytes
from detector.ingest.base import open_parse_connection
from tests.test_ingest_zeek import SSL_FIELDS, header, parse


def test_first_bytes_of_chunked_sliced_empty_and_null_lines() -> None:
    text = pa.chunked_array([pa.array(["#fields", "", None, "{x", " y"]), pa.array(["#z", "q"]).slice(1)])
    assert first_bytes(text).tolist() == [ord("#"), 0, 0, ord("{"), ord(" "), ord("q")]
    assert first_bytes(pa.chunked_array([], pa.string())).tolist() == []


def test_cut_at_a_character_and_untouched_without_it() -> None:
    assert cut_at(pa.array(["/a?b#c", "/d#e", None, "?"]), "?").to_pylist() == ["/a", "/d#e", None, ""]
    plain = pa.array(["/a", "/b"])
    assert cut_at(plain, "?") is plain


@pytest.mark.parametrize("values", [
    ["1700000000.000001", "1700000000.999999", "0000000001.500000"],
    ["1700000000.000001", "170000000.5000000"],  # another form: not this shortcut's
    ["1700000000.000001", "17000000x0.000001"],
    ["1700000000.000001", "1700000000,000001"],
    ["1700000000.000001", None],
])
def test_fixed_width_times_read_exactly_or_not_at_all(values: list[str | None]) -> None:
    text = pa.array(["junk", *values]).slice(1)  # a slice: offsets that do not start at 0
    micros = zeek._fixed_width_micros(text)
    usual = all(v is not None and len(v) == 17 and v[10] == "." and (v[:10] + v[11:]).isdigit() for v in values)
    if not usual:
        assert micros is None
    else:
        assert micros is not None
        assert micros.tolist() == [int(v.replace(".", "")) for v in values if v is not None]


def test_epoch_times_in_every_form_read_as_the_sql_reads_them() -> None:
    """Arrow's arithmetic (fixed width, or 1-6 decimals as Zeek's JSON writes them) against the SQL reading."""
    connection = open_parse_connection()
    forms = [["1575413096.052279", "1575413096.000001"], ["1575413096.05", "1575413096", "1575413096.123456"],
             ["1575413096.1234567", "2023-11-14T22:13:20Z", "1e9", "+5.5", "-", None],
             ["1575413096.05", "1575413096", "1575413096.123456", "1.5", "123456789012.000001"],
             ["1575413096.0", "1575413096.", "1575413096"], ["1575413096.0", ".5"], ["1575413096.0", "1.2.3"],
             ["1575413096.0", "1234567890123.5"], ["1575413096.0", "1575413096.1234567"], ["1575413096.0", ""],
             ["1575413096.0", "١٥٧٥٤١٣٠٩٦"], ["1575413096.0", "-1.5"],
             ["1575413096.0", None]]
    for values in forms:
        text = pa.array(values, pa.string())
        arrow = zeek._epoch_times(connection, zeek._Queries(), text)
        connection.register("distinct_values", pa.table({"value": text}))
        sql = connection.sql(zeek.TS_SQL).to_arrow_table().column("value").cast(arrow.type)
        connection.unregister("distinct_values")
        assert arrow.cast(pa.int64()).to_pylist() == sql.cast(pa.int64()).to_pylist(), values


@pytest.mark.parametrize("seed", range(4))
def test_epoch_times_of_one_or_several_widths_read_as_the_sql_reads_them(seed: int) -> None:
    """Times of one width (as many decimals in a batch) or several (JSON drops trailing zeros), now and then
    one of another form or with its point elsewhere, in a slice: each read as the SQL reads it."""
    random = np.random.default_rng(seed)
    connection = open_parse_connection()
    odd = ["1575413096.", ".5", "1.5e3", "-1.5", "1575413096.1234567", "1234567890123", "15754130.9612", "x"]
    for _ in range(40):
        values = ["junk"]
        whole_digits = 10 if random.random() < 0.9 else int(random.integers(1, 13))  # mostly a 2020s epoch's ten
        decimals_of_batch = int(random.integers(0, 7)) if random.random() < 0.5 else None
        for _ in range(int(random.integers(1, 40))):
            digits = whole_digits if random.random() < 0.9 else int(random.integers(1, 13))
            whole = str(int(random.integers(10 ** (digits - 1), 10 ** digits)))
            decimals = int(random.integers(0, 7)) if decimals_of_batch is None else decimals_of_batch
            values.append(whole + ("." + "".join(random.choice(list("0123456789"), decimals)) if decimals else ""))
        if random.random() < 0.3:
            values.insert(int(random.integers(1, len(values) + 1)), str(random.choice(odd)))
        text = pa.array(values, pa.string()).slice(1)
        arrow = zeek._epoch_times(connection, zeek._Queries(), text)
        connection.register("distinct_values", pa.table({"value": text}))
        sql = connection.sql(zeek.TS_SQL).to_arrow_table().column("value").cast(arrow.type)
        connection.unregister("distinct_values")
        assert arrow.cast(pa.int64()).to_pylist() == sql.cast(pa.int64()).to_pylist(), values


@pytest.mark.parametrize("separator", ["\t", "||"])
def test_partial_split_counts_every_field(separator: str) -> None:
    lines = pa.array([separator.join(str(i) for i in range(n)) for n in (1, 2, 3, 4, 5, 9)] + [""])
    for last_read in range(0, 6):
        field, count = zeek._split_fields(lines, separator, [0, last_read], 9)
        assert count.to_pylist() == pc.list_value_length(pc.split_pattern(lines, separator)).to_pylist()
        assert field(0).to_pylist() == [line.split(separator)[0] for line in lines.to_pylist()]


def test_extra_fields_after_the_last_one_read_are_a_reject(tmp_path: Path) -> None:
    line = "1700000000.500000\tC1\t10.0.0.1\t5\t104.18.32.47\t443\tTLSv13\tchatgpt.com"
    events, rejects, _ = parse(tmp_path, "zeek_ssl", [*header("ssl", SSL_FIELDS), line, line + "\tx\ty"],
                               batch_lines=100)
    assert [e["host"] for e in events] == ["chatgpt.com"]
    assert [r["reason"] for r in rejects] == ["expected 8 fields (as in #fields), found 10"]


def test_lines_under_one_header_are_a_slice_others_a_copy() -> None:
    lines = pa.table({"line_no": pa.array(range(5), pa.int64()), "line": pa.array(list("abcde"))})
    sliced = zeek._rows_where(lines, np.array([False, True, True, True, False]))
    assert sliced.column("line").to_pylist() == ["b", "c", "d"]
    assert sliced.column("line").chunks[0].buffers()[2] == lines.column("line").chunks[0].buffers()[2]
    assert zeek._rows_where(lines, np.array([True, False, True, False, False])).column("line").to_pylist() == ["a", "c"]
    assert zeek._rows_where(lines, np.zeros(5, bool)).num_rows == 0


@pytest.mark.parametrize("read", [[0, 2, 29], [0, 21, 29], [3, 27, 28, 29], [29], [0, 1, 2]])
def test_fields_far_to_the_right_are_taken_from_the_end(read: list[int]) -> None:
    """Lines with the header's 30 fields: every field read is the one a full split gives; the counts are
    exact on any line (a shorter or longer one is a reject, whatever its fields)."""
    full = ["\t".join(f"{row}-{i}" for i in range(30)) for row in range(3)]
    lines = pa.array([*full, "a\tb", "\t".join(["x"] * 31), ""]).slice(0)
    field, count = zeek._split_fields(lines, "\t", read, 30)
    assert count.to_pylist() == [30, 30, 30, 2, 31, 1]
    for position in read:
        assert field(position).to_pylist()[:3] == [line.split("\t")[position] for line in full]


@pytest.mark.parametrize("seed", range(3))
def test_integers_told_on_the_bytes_read_as_the_shared_reading(seed: int) -> None:
    """Plain digits, too long, empty, signed, spaced, decimal, non-ASCII digits, placeholders and nulls, in
    slices: `_integers` gives what `distinct_sql.integers` gives for both targets."""
    rnd = np.random.default_rng(seed)
    connection, queries = open_parse_connection(), zeek._Queries()
    pieces = ["0", "1", "9", "12345", "999999999", "1234567890", "99999999999999999999", "", "-1", "+5", " 5",
              "5 ", "1.5", "x", "٣", None, "-"]
    for _ in range(300):
        values = [pieces[i] for i in rnd.integers(0, len(pieces), int(rnd.integers(0, 12)))]
        text = pa.array(["lead", *values], pa.string()).slice(1)
        for target, query in ((pa.int32(), queries.integer), (pa.int64(), queries.bigint)):
            expected = zeek.integers(connection, query, text, target).to_pylist()
            assert zeek._integers(connection, query, text, target).to_pylist() == expected, values


@pytest.mark.parametrize("repeat", [1, 5])
def test_json_lists_read_as_the_sql_reads_them(repeat: int) -> None:
    """JSON sets and vectors' text, repeating (read once per distinct text) or not (read for every row)."""
    connection = open_parse_connection()
    texts = ['["a","b"]', '["é","a\\"b"]', '[1,"x"]', "[]", "str", '[["x"]]', None, '[null,"x"]', '["x\\ty"]',
             '[""]', '["",""]', '["a",",","b"]']
    text = pa.array(["junk", *(texts * repeat)], pa.string()).slice(1)
    lists = zeek._json_lists(connection, zeek._Queries(), text)
    connection.register("distinct_values", pa.table({"value": text}))
    sql = connection.sql(zeek.JSON_LIST_SQL).to_arrow_table().column("value")
    connection.unregister("distinct_values")
    assert lists.to_pylist() == sql.to_pylist()
    assert lists.type == sql.type
