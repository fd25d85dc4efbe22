"""Event Hubs messages of Defender's streaming API on one line, whatever their `records` array holds.

Layout from Microsoft's "Stream Microsoft Defender for Endpoint events to Azure Event Hubs"
(https://learn.microsoft.com/en-us/defender-endpoint/api/raw-data-export-event-hub): each message is
`{"records": [<record>, ...]}`, a record `{"time", "tenantId", "category": "AdvancedHunting-<table>", "properties"}`.
The parser counts a message's records by a second parse of the line only where its first parse leaves a doubt; these
messages are the doubtful ones: a JSON null or a number after the record (it counts as a record, as
`json_array_length` counts it), an empty array, no array, an empty first record.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_ingest_defender import compact, parse, record

SEVERAL = "records on one line: one event per line is read"


@pytest.mark.parametrize(("line", "count"), [
    ('{"records":[' + compact(record()) + ",null]}", 2),
    ('{ "records": [' + json.dumps(record()) + ", \t null ] }", 2),
    ('{"records":[' + compact(record()) + ",null,]}", 2),  # DuckDB's JSON reader takes the trailing comma
    ('{"records":[' + compact(record()) + ",5]}", 2),
    ('{"records":[' + compact(record()) + ",null,null]}", 3),
    ('{"records":[null,' + compact(record()) + "]}", 2),
    ('{"records":[{},' + compact(record()) + "]}", 2),
])
def test_a_message_of_several_records_is_rejected_whatever_follows_the_first(tmp_path: Path, line: str,
                                                                                 count: int) -> None:
    # (after a line of one record of its own: a file whose first line is a message is read a record a line)
    events, rejects = parse(tmp_path, "defender_network", compact(record()), line)
    assert [e["host"] for e in events] == ["chatgpt.com"]
    assert [r["reason"].startswith(f"an Event Hubs message of {count} {SEVERAL}") for r in rejects] == [True]


@pytest.mark.parametrize(("line", "reason"), [
    ('{"records":[]}', 'not a Defender streaming API record (no "category")'),
    ('{"records":{"category":"AdvancedHunting-DeviceNetworkEvents"}}', 'not a Defender streaming API record (no '
                                                                       '"category")'),
    ('{"records":[{}]}', 'not a Defender streaming API record (no "category")'),
    ('{"records":[' + compact(record()) + "]", "not a JSON object"),
])
def test_a_message_without_one_record_is_read_as_it_is(tmp_path: Path, line: str, reason: str) -> None:
    events, rejects = parse(tmp_path, "defender_network", line)
    assert not events and [r["reason"] for r in rejects] == [reason]


def test_one_record_and_text_that_looks_like_a_null_after_it_is_an_event(tmp_path: Path) -> None:
    """A `}, null` inside a record (a value, not a record) leaves a message of one record."""
    inner = record(AdditionalFields=json.dumps({"tags": [{"a": 1}, None]}))
    lines = [compact({"records": [inner]}), json.dumps({"records": [record()]}),
             compact({"records": [record(ActionType="ConnectionFound")], "x": 1})]
    events, rejects = parse(tmp_path, "defender_network", *lines)
    assert not rejects
    assert [(e["line_no"], e["host"], e["action"]) for e in events] == [
        (1, "chatgpt.com", "allowed"), (2, "chatgpt.com", "allowed"), (3, "chatgpt.com", "allowed")]
