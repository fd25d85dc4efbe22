"""The compiled walk over Azure Firewall records (azure_firewall_scan.py) gives what DuckDB's JSON path gives.

Records written from Microsoft's documented layouts: the legacy `msg` texts of "Azure Firewall logs and metrics"
(https://learn.microsoft.com/azure/firewall/firewall-diagnostics), the structured AZFW* properties of "Azure
Structured Firewall Logs" (https://learn.microsoft.com/azure/firewall/firewall-structured-logs) and the Log Analytics
columns of the table references (https://learn.microsoft.com/azure/azure-monitor/reference/tables/azfwapplicationrule).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from detector.ingest import azure_firewall as az
from detector.ingest.base import ParseContext, open_parse_connection, parse_cursor

ENVELOPE = '"time":"2025-03-01T10:00:00.0000000Z","resourceId":"/SUBSCRIPTIONS/X/AZUREFIREWALLS/FW"'
TAKEN = [
    '{"category":"AzureFirewallApplicationRule",' + ENVELOPE + ',"operationName":"AzureFirewallApplicationRuleLog",'
    '"properties":{"msg":"HTTPS request from 10.1.0.4:50000 to chatgpt.com:443. Action: Allow. Rule Collection: c. '
    'Rule: r. Web Category: ArtificialIntelligence"}}',
    '{"category": "AzureFirewallNetworkRule", ' + ENVELOPE.replace(":", ": ", 1) + ', "properties": {"msg": "TCP '
    'request from [fe80::1]:5000 to 20.1.2.3:443. Action: Deny. "}}',
    '{"category":"AzureFirewallNetworkRule",' + ENVELOPE + ',"properties":{"msg":"TCP request from 10.1.0.4:5 to '
    '20.1.2.3:443 was DNAT\'ed to 10.2.0.9:8443"}}',
    '{"category":"AzureFirewallApplicationRule",' + ENVELOPE + ',"properties":{"msg":"HTTP  request from 10.1.0.4:6 '
    'to a.example:80. Url: a.example/x?y=1. Action: Deny. ThreatIntel: Bot Networks"}}',
    '{"category":"AzureFirewallNetworkRule",' + ENVELOPE + ',"properties":{"msg":"ICMP Type=8 request from 10.1.0.4 '
    'to 10.2.0.5. Action: Deny. "}}',
    '{"category":"AzureFirewallDnsProxy",' + ENVELOPE + ',"properties":{"msg":" DNS Request: 10.1.0.4:53000 - 1 A IN '
    'claude.ai. udp 40 false 512 NOERROR qr,rd,ra 120 0.0012s "}}',
    '{"category":"AzureFirewallDnsProxy",' + ENVELOPE + ',"properties":{"msg":" Error: 2 upstream timed out "}}',
    '{' + ENVELOPE + ',"category":"AZFWApplicationRule","properties":{"SourceIp":"10.1.0.4","SourcePort":50001,'
    '"DestinationPort":443,"Protocol":"HTTPS","TargetUrl":"","Action":"Allow","IsTlsInspected":false,'
    '"WebCategory":"","Fqdn":"gemini.google.com"}}',
    '{' + ENVELOPE + ',"category":"AZFWDnsQuery","properties":{"SourceIp":"10.1.0.4","QueryType":"AAAA",'
    '"QueryName":"claude.ai.","RequestSize":38,"ResponseCode":"NOERROR","ResponseSize":94,'
    '"RequestDurationSecs":0.0012417}}',
    '{"TimeGenerated": "2025-03-01T10:00:00.123Z", "SourceIp": "10.1.0.4", "DestinationPort": 443, "Protocol": '
    '"HTTPS", "Fqdn": "www.perplexity.ai", "Action": "Deny", "Type": "AZFWApplicationRule"}',
    '{"TimeGenerated": "2025-03-01T10:00:00Z", "Category": "AzureFirewallApplicationRule", "Type": "AzureDiagnostics",'
    ' "msg_s": "HTTPS request from 10.1.0.4:7 to poe.com:443. Action: Allow. "}',
    '{"records": [{' + ENVELOPE + ',"category":"AZFWNatRule","properties":{"SourceIp":"1.2.3.4",'
    '"DestinationIp":"20.1.2.3","DestinationPort":3389,"Protocol":"TCP"}}]}',
    '{"records": []}',
    '{"category":"AZFWFlowTrace",' + ENVELOPE + ',"properties":{"SourceIp":"10.1.0.4"}}',
    '{"category":"AZFWApplicationRule","properties":{"Fqdn":"x.example"}}',
    '{"resourceId":"x","properties":{}}',
]
NOT_TAKEN = [
    # an escape in a value read, a key given twice, a number DuckDB writes otherwise, several records, bad JSON
    '{"category":"AZFWApplicationRule",' + ENVELOPE + ',"properties":{"Fqdn":"chat\\u0067pt.com"}}',
    '{"category":"AZFWApplicationRule","category":"AZFWDnsQuery",' + ENVELOPE + ',"properties":{}}',
    '{"category":"AZFWApplicationRule",' + ENVELOPE + ',"properties":{"DestinationPort":443.0}}',
    '{"records": [{"category":"AZFWApplicationRule"}, 5]',
    '{"category":"AZFWApplicationRule",' + ENVELOPE + ',"properties":{"Fqdn":"a.example",}}',
    '{"category":"AzureFirewallApplicationRule",' + ENVELOPE + ',"properties":{"msg":"HTTPS request from '
    '10.1.0.4:1 to a.b:443. Action: Allow. Web Category: News\u00a0"}}',
]


def _records(lines: list[str]) -> tuple[pa.Table, pa.Table, list[bool], list[bool]]:
    """The walk's records (without the lines it counts as ignored), DuckDB's (of every line, in line order), which
    lines the walk read and which of those it counted as ignored."""
    table = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})
    connection = open_parse_connection()
    queries = az.Queries()
    scanned, ok, ignored = az._scanned(az.Scan(), table)
    with parse_cursor(connection) as cursor:
        walked = az._finished_words(cursor, queries.port, scanned)
        queried = az._queried(cursor, az.Queries().port, table).sort_by("line_no")
    return walked, queried, ok.tolist(), ignored.tolist()


def test_walk_takes_documented_records_and_gives_duckdb_values() -> None:
    walked, queried, ok, ignored = _records(TAKEN)
    assert ok == [True] * len(TAKEN)
    # (the flow trace record and the message of no records: EVENTS_QUERY gives them no event and no reject)
    assert [line for line, skipped in zip(TAKEN, ignored, strict=True) if skipped] == [TAKEN[12], TAKEN[13]]
    queried = queried.filter(pa.array([not skipped for skipped in ignored]))
    assert walked.column("records").to_pylist() == queried.column("records").to_pylist()
    # (a message of no records is ignored and one of several rejected whatever they hold: their values are not read)
    one = [count in (None, 1) for count in walked.column("records").to_pylist()]
    for name in walked.column_names:
        if name == "rule_msg":  # (not copied out by the walk: its words are)
            continue
        expected, got = queried.filter(one).column(name).to_pylist(), walked.filter(one).column(name).to_pylist()
        if name == "no_msg":  # (null or false where the record is no message: both read as "not missing")
            expected, got = [bool(value) for value in expected], [bool(value) for value in got]
        assert got == expected, name


def test_walk_leaves_lines_duckdb_could_read_otherwise() -> None:
    _, _, ok, _ = _records(NOT_TAKEN)
    assert ok == [False] * len(NOT_TAKEN)


def test_records_the_format_does_not_read_are_counted_as_ignored() -> None:
    """Records of categories not read (flow trace, fat flow, another Azure service's) and an empty Event Hubs
    message are ignored lines; a message of several such records, or a record without a category, is still a reject;
    a rule record beside them is still an event."""
    lines = [
        '{"category":"AZFWFlowTrace",' + ENVELOPE + ',"properties":{"SourceIp":"10.1.0.4","Flag":"INVALID"}}',
        '{"category":"AZFWFatFlow",' + ENVELOPE + ',"properties":{"SourceIp":"10.1.0.4","DestinationIp":"1.2.3.4"}}',
        '{"category":"ApplicationGatewayAccessLog",' + ENVELOPE + ',"properties":{"requestUri":"/"}}',
        '{"records": []}',
        '{"records": [{"category":"AZFWFlowTrace"}, {"category":"AZFWFlowTrace"}]}',
        '{' + ENVELOPE + ',"properties":{"SourceIp":"10.1.0.4"}}',
        '{"category":"AZFWNetworkRule",' + ENVELOPE + ',"properties":{"SourceIp":"10.1.0.4","DestinationIp":'
        '"20.1.2.3","DestinationPort":443,"Protocol":"TCP","Action":"Deny"}}',
    ]
    parse = az.AZURE_FIREWALL.new_parser(ParseContext(path="x", timezone="UTC", connection=open_parse_connection()))
    result = parse(pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)}))
    assert result.ignored == 4
    assert result.rejects.column("line_no").to_pylist() == [5, 6]
    assert result.rejects.column("reason").to_pylist()[1] == "not an Azure Firewall record (no category or Type)"
    assert result.events.column("line_no").to_pylist() == [7]
    assert result.events.column("action").to_pylist() == ["blocked"]


@pytest.mark.parametrize("line", NOT_TAKEN)
def test_lines_off_the_walk_parse_as_before(line: str) -> None:
    """A line the walk leaves is read by DuckDB: an event or a named reject, never dropped."""
    parse = az.AZURE_FIREWALL.new_parser(ParseContext(path="x", timezone="UTC", connection=open_parse_connection()))
    result = parse(pa.table({"line_no": pa.array([1], pa.int64()), "line": pa.array([line])}))
    assert result.events.num_rows + result.rejects.num_rows + result.ignored == 1


@pytest.mark.parametrize("chunks", [0, 1])
def test_empty_batch_parses_to_nothing(chunks: int) -> None:
    """A batch of no lines (a table of no chunks, or of one empty chunk) gives no events, rejects or ignored lines."""
    schema = pa.schema([("line_no", pa.int64()), ("line", pa.string())])
    lines = schema.empty_table() if chunks else pa.Table.from_batches([], schema=schema)
    assert lines.column("line").num_chunks == chunks
    parse = az.AZURE_FIREWALL.new_parser(ParseContext(path="x", timezone="UTC", connection=open_parse_connection()))
    result = parse(lines)
    assert (result.events.num_rows, result.rejects.num_rows, result.ignored) == (0, 0, 0)


def test_batch_walked_in_slices_gives_what_one_walk_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch's chunk is walked a few megabytes at a time (slices of it, in the cache): cut into slices of a
    line or two, its events, rejects and ignored lines are those of one walk over the whole chunk."""
    lines = TAKEN + NOT_TAKEN + TAKEN
    table = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})

    def parsed() -> tuple[list[dict[str, object]], list[int], int]:
        parse = az.AZURE_FIREWALL.new_parser(ParseContext(path="x", timezone="UTC",
                                                          connection=open_parse_connection()))
        result = parse(table)
        return result.events.to_pylist(), result.rejects.column("line_no").to_pylist(), result.ignored

    whole = parsed()
    monkeypatch.setattr(az, "SLICE_BYTES", 300)
    assert len(az._slices(table.column("line"))) > len(lines) // 3
    assert parsed() == whole
    assert whole[2] == 6 and len(whole[0]) > 10  # (twice: a flow trace record, no records, a DNS proxy error)


def test_hashed_keys_find_each_wanted_key_and_no_near_miss() -> None:
    """The walk's key look-up (one bucket, three word compares) finds every wanted key, also where it ends the
    buffer (fewer than eight bytes left to load), and none that differs from one in a byte, a letter's case or
    its length."""
    from detector.ingest import azure_firewall_scan as scan

    keys = ("category", "time", "Type", "Category", "TimeGenerated", "msg_s", "properties", "records", *az.PROPERTIES)
    arrays = scan.HashedKeys(keys).arrays()

    def number(key: bytes, before: bytes = b'{"', after: bytes = b'":1}') -> int:
        data = np.frombuffer(before + key + after, np.uint8)
        return int(scan._hashed_number(data, len(before), len(before) + len(key), *arrays))

    for at, key in enumerate(keys):
        encoded = key.encode()
        assert number(encoded) == at
        assert number(encoded, after=b"") == at  # (the buffer's last bytes)
        misses = [encoded + b"x", encoded[:-1], b"x" + encoded, encoded.swapcase()]
        misses += [encoded[:i] + bytes([encoded[i] ^ 1]) + encoded[i + 1:] for i in range(len(encoded))]
        assert [number(miss) for miss in misses] == [-1] * len(misses), key
    assert number(b"") == -1
    assert number(b"resourceId") == -1
    with pytest.raises(ValueError):
        scan.HashedKeys(("AzureFirewallApplicationRule",))
    with pytest.raises(ValueError):
        scan.HashedKeys(("time", "time"))
