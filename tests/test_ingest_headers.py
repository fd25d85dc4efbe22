"""Formats whose header lines name the columns (W3C `#Fields`, Zeek `#fields`, a CSV header row): the header in force
travels from batch to batch while batches parse two at a time, and a file that grew is read on under
the header above its new lines."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from detector.config import load_settings
from detector.ingest import FORMATS
from detector.ingest.base import HeaderedParser
from detector.ingest.pipeline import ingest_paths
from tests.test_ingest_context import with_batch_lines

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
HEADERED = ["w3c", "csv", "zeek_conn", "zeek_ssl", "zeek_http", "zeek_dns"]


def events(home: Path) -> list[tuple[object, ...]]:
    """The lake's events in file order, without file_id (the grown and the whole file differ in content)."""
    query = (f"select * exclude (file_id, day) from read_parquet('{home}/lake/events/**/*.parquet',"
             " hive_partitioning = true) order by line_no")
    return duckdb.connect().sql(query).fetchall()


@pytest.mark.parametrize("key", HEADERED)
def test_headered_formats_parse_on_two_threads(key: str) -> None:
    assert FORMATS[key].independent_batches


@pytest.mark.parametrize(("key", "sample"), [("w3c", "proxysg.log"), ("zeek_ssl", "basic.log"),
                                             ("zeek_conn", "basic.log"), ("csv", "proxy_export.csv")])
def test_a_grown_file_is_read_on_under_its_header(home: Path, tmp_path: Path, key: str, sample: str) -> None:
    lines = (SAMPLES / key / sample).read_text(encoding="utf-8").splitlines()
    data = [i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")]
    assert len(data) >= 4, "the sample needs data lines to split"
    cut = data[len(data) // 2]  # the appended half has no header line of its own
    with_batch_lines(home, 3)
    path = tmp_path / f"{key}.log"
    path.write_text("".join(line + "\n" for line in lines[:cut]), encoding="utf-8")
    [first] = ingest_paths(load_settings(home), [str(path)], format_name=key)
    with path.open("a", encoding="utf-8") as log:
        log.write("".join(line + "\n" for line in lines[cut:]))
    [second] = ingest_paths(load_settings(home), [str(path)], format_name=key)
    assert first.error is None and second.error is None
    assert second.lines == len(lines) - cut
    assert second.parsed > 0  # without the header above, every line would be a reject

    whole_home = tmp_path / "whole"
    whole_home.mkdir()
    for same in ("shadow-ai.toml", "pseudonym.key"):  # the same settings and pseudonyms
        (whole_home / same).write_bytes((home / same).read_bytes())
    whole_path = whole_home / f"{key}.log"
    whole_path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    [whole] = ingest_paths(load_settings(whole_home), [str(whole_path)], format_name=key)
    assert (first.parsed + second.parsed, first.rejected + second.rejected) == (whole.parsed, whole.rejected)
    assert events(home) == events(whole_home)


def test_carry_reads_only_header_lines() -> None:
    """The in-order step sees every batch but only folds its header lines: a data line changes nothing."""
    import pyarrow as pa

    from detector.ingest.base import ParseContext, open_parse_connection

    parser = FORMATS["zeek_ssl"].new_parser(ParseContext("x.log", "UTC", open_parse_connection()))
    assert isinstance(parser, HeaderedParser)
    batch = pa.table({"line_no": pa.array([1, 2, 3], pa.int64()),
                      "line": ["#separator \\x09", "#fields\tts\tuid", "1700000000.000000\tC1"]})
    state = parser.carry(batch, parser.start)
    assert state.fields == ("ts", "uid")
    assert parser.carry(batch.slice(2), state) == state
