"""Suricata EVE: the one query that reads every guessed record type gives each line its own type's values."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from detector.ingest import FORMATS, suricata_eve
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs" / "suricata_eve" / "basic.log"


def parse(path: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    events, rejects, report = parse_file(path, FORMATS["suricata_eve"], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist()


def mixed_lines() -> list[str]:
    """The sample's lines (every record type, an invalid line, a spaced one) shuffled and repeated."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    spaced = json.dumps(json.loads(lines[0]))  # (`"event_type": "tls"`: not guessed, read by every path)
    nested = lines[1].replace('"dns":{', '"x":{"event_type":"http"},"dns":{')  # (a wrong guess, read again)
    # (the nested line a lookup of its own in each copy: another DNS id; the sample's own is one lookup with its answer)
    return [line for copy in range(3)
            for line in (*lines[::-1], spaced, nested.replace('"id":4711', f'"id":{copy}'), *lines)]


def test_every_type_read_in_one_query_matches_the_golden_lines(tmp_path: Path) -> None:
    path = tmp_path / "eve.json"
    path.write_text("\n".join(mixed_lines()) + "\n", encoding="utf-8")
    events, rejects = parse(path)
    golden = {e["line_no"]: e for e in parse(SAMPLE)[0]}
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    by_text = {lines[n - 1]: event for n, event in golden.items()}
    mixed = mixed_lines()
    for event in events:
        text = mixed[event["line_no"] - 1]
        # (a DNS record's event is its lookup's, _Lookups: which records of the lookup a batch has decides its
        # answers, and whether it is the event; its own addresses and name do not change)
        kept = ("src_ip", "dst_ip", "dst_port", "host", "host_source") if '"event_type":"dns"' in text else None
        if text in by_text:
            assert {k: v for k, v in event.items() if k != "line_no" and (kept is None or k in kept)} == \
                   {k: v for k, v in by_text[text].items() if k != "line_no" and (kept is None or k in kept)}
    assert len(rejects) == 3 * 2 * len(parse(SAMPLE)[1])
    spaced = [e for e in events if mixed[e["line_no"] - 1].startswith('{"timestamp": ')]
    assert spaced and all(e["host"] == "chatgpt.com" for e in spaced)
    nested = [e for e in events if '"x":{"event_type":"http"}' in mixed[e["line_no"] - 1]]
    assert nested and all(e["host"] == "api.openai.com" and e["host_source"] == "dns_query" for e in nested)


def test_a_reordered_query_result_is_put_back_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "eve.json"
    path.write_text("\n".join(mixed_lines()) + "\n", encoding="utf-8")
    expected = parse(path)
    union = suricata_eve.groups_query
    monkeypatch.setattr(suricata_eve, "groups_query",
                        lambda *key: f"select * from ({union(*key)}) order by row desc")
    monkeypatch.setattr(suricata_eve, "_GROUPS_QUERIES", suricata_eve._GroupsQueries())
    assert parse(path) == expected


def test_batches_after_a_malformed_line_are_read_alike() -> None:
    """A batch with a line that is not valid JSON makes the next batch start with the tolerant query: the same
    events and rejects as a parser that never saw that line."""
    from detector.ingest.base import ParseContext, open_parse_connection

    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    valid = [line for line in lines if line.endswith("}}") or line.endswith('"}')]
    batches = [[valid[0][:60], *valid], valid, valid[::-1], valid]
    connection = open_parse_connection()

    def table(batch: list[str]) -> pa.Table:
        return pa.table({"line_no": pa.array(range(1, len(batch) + 1), pa.int64()), "line": pa.array(batch)})

    def outcome(parse, batch: list[str]):  # type: ignore[no-untyped-def]
        result = parse(table(batch))
        return result.events.to_pylist(), result.rejects.to_pylist(), result.ignored

    seen = FORMATS["suricata_eve"].new_parser(ParseContext("eve.json", "UTC", connection))
    for batch in batches:
        fresh = FORMATS["suricata_eve"].new_parser(ParseContext("eve.json", "UTC", connection))
        assert outcome(seen, batch) == outcome(fresh, batch)
    first = outcome(FORMATS["suricata_eve"].new_parser(ParseContext("eve.json", "UTC", connection)), batches[0])
    assert {r["line_no"]: r["reason"] for r in first[1]}[1] == "not a valid JSON object"
