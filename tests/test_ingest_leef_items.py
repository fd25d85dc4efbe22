"""LEEF items cut at each line's own delimiter: lines whose delimiters differ (a tab, '^', '|' with escapes, and
delimiters of several bytes) parse in one batch as they do in batches of one delimiter each."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from detector.ingest import FORMATS
from detector.ingest.base import BatchParser, ParseContext, open_parse_connection

KEYS = ["devTime", "src", "dst", "usrName", "url", "action", "srcBytes", "dstBytes", "cat", "appname", "role",
        "SRC", "x", ""]
VALUES = ["1710140533000", "10.20.1.15", "0.0.0.0", "https://chatgpt.com/a?b=c", "api.openai.com", "Blocked",
          "allow", "1288", "", " ", "a=b", "x\\=y", "x\\|y", "p\\\\", "a\tb", "a^b", "|", "^", "é ü"]
HEADERS = [("LEEF:1.0|Z|NSS|4.1|Allowed|", "\t"), ("LEEF:2.0|V|P|1|E|^|", "^"), ("LEEF:2.0|V|P|1|E|x09|", "\t"),
           ("LEEF:2.0|V|P|1|E|0x7c|", "|"), ("LEEF:2.0|V|P|1|E|", "\t"), ("LEEF:2.0|V|P|1|E|a=b|", "\t"),
           ("LEEF:1.0|V|P|", "\t"), ("", "\t")]
PREFIXES = ["", "<134>Mar 11 08:02:14 zscaler-nss ", "<134>1 2024-03-11T08:31:00+01:00 swg01 app - - - "]


def fuzzed_lines(seed: int, count: int) -> list[str]:
    rnd = random.Random(seed)
    lines = []
    for _ in range(count):
        header, delimiter = rnd.choice(HEADERS)
        items = [f"{rnd.choice(KEYS)}={rnd.choice(VALUES)}" if rnd.random() < 0.95 else rnd.choice(KEYS)
                 for _ in range(rnd.randint(0, 10))]
        lines.append(rnd.choice(PREFIXES) + header + delimiter.join(items))
    return lines


def new_parse() -> BatchParser:
    return FORMATS["leef"].new_parser(ParseContext("gateway-20240311.log", "Europe/Amsterdam",
                                                   open_parse_connection()))


def parsed(lines: list[str], line_numbers: list[int] | None = None, parse: BatchParser | None = None
           ) -> tuple[list[dict], list[dict], int]:
    parse = parse or new_parse()
    numbers = line_numbers or list(range(1, len(lines) + 1))
    result = parse(pa.table({"line_no": pa.array(numbers, pa.int64()), "line": lines}))
    assert result.events.num_rows + result.rejects.num_rows + result.ignored == len(lines)
    return result.events.to_pylist(), result.rejects.to_pylist(), result.ignored


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_of_mixed_delimiters_parses_as_batches_of_one_delimiter(seed: int) -> None:
    lines = fuzzed_lines(seed, 3_000) + [f"LEEF:2.0|V|P|1|E|{mark}|src=10.1.1.1{mark}url=x.ai/p{mark}devTime=1710140533000"
                                         for mark in ("ab", "x2603", "\\^", "=", "x5C")]
    parse = new_parse()
    found = parsed(lines, parse=parse)
    assert found[0], "some lines parse"
    groups: dict[str, list[int]] = {}
    for number, line in enumerate(lines, start=1):  # each line's delimiter field (or none)
        fields = line.split("|")
        groups.setdefault(fields[5] if len(fields) > 6 and "LEEF:2.0" in fields[0] else "", []).append(number)
    events, rejects, ignored = [], [], 0
    for numbers in groups.values():
        part = parsed([lines[n - 1] for n in numbers], numbers, parse)
        events, rejects, ignored = events + part[0], rejects + part[1], ignored + part[2]
    def by_line(rows: list[dict]) -> list[dict]:
        return sorted(rows, key=lambda row: row["line_no"])
    assert (by_line(events), by_line(rejects), ignored) == (by_line(found[0]), by_line(found[1]), found[2])


def test_a_value_may_hold_another_lines_delimiter() -> None:
    """In a '^'-delimited line a tab is part of a value, and in a tab-delimited line a '^' is."""
    events, rejects, _ = parsed([
        "LEEF:2.0|V|P|1|E|^|devTime=1710140533000^src=10.1.1.1^usrName=a\tb^url=x.ai/p",
        "LEEF:1.0|V|P|1|E|devTime=1710140533000\tsrc=10.1.1.2\tusrName=c^d\turl=y.ai/q",
    ])
    assert not rejects
    assert [(e["user_name"], e["host"]) for e in events] == [("a\tb", "x.ai"), ("c^d", "y.ai")]
