"""Sizes and times of Zscaler's JSON feed (`reqsize`, `respsize`, `ctime`: strings in the JSON output type, see
https://help.zscaler.com/zia/nss-feed-output-format-web-logs) read as SQL's try_cast reads them, whether each
distinct text is cast by Arrow (plain digits) or by SQL (any other form)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.golden import parse_lines

EVENT = {"time": "Mon Mar 11 08:02:13 2024", "login": "j@x.nl", "eurl": "chatgpt.com/", "reqmethod": "GET",
         "urlcat": "AI & ML Applications", "reqsize": "1", "respsize": "2", "ctime": "3"}
FORMS = [("1288", 1288), ("0012", 12), (" 12", 12), ("1.5", 2), ("+4", 4), ("None", None), ("", None),
         ("999999999999999999", 999999999999999999), ("99999999999999999999", None), ("-7", -7)]


def parse(tmp_path: Path, lines: list[str]) -> list[dict]:
    events, rejects, _ = parse_lines(tmp_path / "zscaler.log", "zscaler_json", lines)
    assert not rejects.num_rows
    return events.to_pylist()


def wrapped(event: dict[str, str]) -> str:
    return json.dumps({"sourcetype": "zscalernss-web", "event": event}, separators=(",", ":"))


def test_json_numbers_in_other_forms_read_as_sql_reads_them(tmp_path: Path) -> None:
    lines = [wrapped({**EVENT, "reqsize": text, "respsize": "5", "ctime": text}) for text, _ in FORMS]
    events = parse(tmp_path, lines)
    assert [e["bytes_out"] for e in events] == [number for _, number in FORMS]
    assert [e["duration_ms"] for e in events] == [number for _, number in FORMS]
    assert {e["bytes_in"] for e in events} == {5}


def test_json_numbers_mostly_distinct_and_plain(tmp_path: Path) -> None:
    lines = [wrapped({**EVENT, "reqsize": str(1000 + i), "respsize": str(7 * i), "ctime": str(i % 5)})
             for i in range(300)]
    events = parse(tmp_path, lines)
    assert [e["bytes_out"] for e in events] == [1000 + i for i in range(300)]
    assert [e["bytes_in"] for e in events] == [7 * i for i in range(300)]
    assert [e["duration_ms"] for e in events] == [i % 5 for i in range(300)]
