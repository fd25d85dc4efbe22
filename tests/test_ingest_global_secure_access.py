"""Microsoft Entra Internet Access (Global Secure Access) traffic logs: the Log Analytics table NetworkAccessTraffic
exported as CSV or JSON lines, and Microsoft Graph's networkAccessTraffic objects (gsa_columns)."""

from __future__ import annotations

import json
from pathlib import Path

from detector.ingest import FORMATS
from detector.ingest.csv_generic import normalise, other_spellings, resolve
from detector.ingest.gsa_columns import is_global_secure_access
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

FIELDS = ("ts", "src_ip", "user_name", "host", "dst_ip", "dst_port", "url_path", "action", "bytes_out", "bytes_in",
          "vendor_category", "network_protocol")


def parse(tmp_path: Path, name: str, text: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["json" if name.endswith(".json") else "csv"],
                                         golden_settings(), None)
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist()


def picked(event: dict[str, object]) -> tuple[object, ...]:
    values = [event[field] for field in FIELDS]
    values[0] = event["ts"].isoformat()  # type: ignore[union-attr]
    return tuple(values)


# The Log Analytics portal's CSV export of NetworkAccessTraffic (its columns as Microsoft's table reference lists
# them; a unit after the time column's name)
LA_HEADER = ("TenantId,TimeGenerated [UTC],TransactionId,ConnectionId,SessionId,TrafficType,TransportProtocol,"
             "NetworkProtocol,SourceIp,SourcePort,DestinationIp,DestinationPort,DestinationFqdn,DestinationUrl,"
             "DestinationWebCategories,Action,PolicyName,RuleName,UserId,UserPrincipalName,DeviceId,DeviceCategory,"
             "SentBytes,ReceivedBytes,InitiatingProcessName,Type")


def test_a_log_analytics_csv_export_reads_the_upn_fqdn_url_and_web_category(tmp_path: Path) -> None:
    events, rejects = parse(tmp_path, "gsa.csv", LA_HEADER + "\n"
        'aaaa,"12/1/2026, 8:00:01.123 AM",t1,c1,s1,internet,TCP,IPv4,10.20.1.15,51234,104.18.32.47,443,chatgpt.com,'
        "https://chatgpt.com/backend-api/conversation,Artificial Intelligence,Allowed,Default,,"
        "5b1f0c2e-1111-4222-8333-444455556666,j.devries@gemeente.example,d1,client,20480,3000,msedge.exe,"
        "NetworkAccessTraffic\n"
        'aaaa,"12/1/2026, 8:00:02.000 AM",t2,c2,s2,internet,TCP,IPv4,10.20.1.16,51235,160.79.104.10,443,claude.ai,,'
        "Artificial Intelligence,Denied,Block AI,Block generative AI,6c2f1d3e-1111-4222-8333-444455556666,"
        "p.jansen@gemeente.example,d2,client,500,100,chrome.exe,NetworkAccessTraffic\n")
    assert not rejects
    # the user principal name, not the object ID; IPv4 (NetworkProtocol) is no protocol: the URL's scheme is
    assert [picked(e) for e in events] == [
        ("2026-12-01T08:00:01.123000+00:00", "10.20.1.15", "j.devries@gemeente.example", "chatgpt.com",
         "104.18.32.47", 443, "/backend-api/conversation", "allowed", 20480, 3000, "Artificial Intelligence", "https"),
        ("2026-12-01T08:00:02+00:00", "10.20.1.16", "p.jansen@gemeente.example", "claude.ai", "160.79.104.10", 443,
         None, "blocked", 500, 100, "Artificial Intelligence", None),
    ]


def test_microsoft_graph_traffic_objects_as_json_lines(tmp_path: Path) -> None:
    # Graph's camelCase names, its web category an object with a displayName, its actions `allow` / `block`
    base = {"@odata.type": "#microsoft.graph.networkaccess.networkAccessTraffic", "trafficType": "internet",
            "networkProtocol": "ipv4", "transportProtocol": "tcp", "destinationPort": 443,
            "destinationWebCategory": {"id": "ArtificialIntelligence", "displayName": "Artificial Intelligence"}}
    lines = [
        {**base, "createdDateTime": "2026-12-01T08:00:01.5Z", "sourceIp": "198.51.100.7",
         "destinationIp": "104.18.32.47", "destinationFQDN": "chatgpt.com",
         "destinationUrl": "https://chatgpt.com/backend-api/conversation", "action": "allow",
         "userId": "5b1f0c2e-1111-4222-8333-444455556666", "userPrincipalName": "j.devries@gemeente.example",
         "sentBytes": 20480, "receivedBytes": 3000},
        {**base, "createdDateTime": "2026-12-01T08:00:02Z", "sourceIp": "198.51.100.8",
         "destinationIp": "160.79.104.10", "destinationFQDN": "claude.ai", "destinationUrl": None, "action": "block",
         "userId": "6c2f1d3e-1111-4222-8333-444455556666", "userPrincipalName": "p.jansen@gemeente.example",
         "sentBytes": 500, "receivedBytes": 100},
    ]
    events, rejects = parse(tmp_path, "graph.json", "".join(json.dumps(line) + "\n" for line in lines))
    assert not rejects
    assert [picked(e) for e in events] == [
        ("2026-12-01T08:00:01.500000+00:00", "198.51.100.7", "j.devries@gemeente.example", "chatgpt.com",
         "104.18.32.47", 443, "/backend-api/conversation", "allowed", 20480, 3000, "Artificial Intelligence", "https"),
        ("2026-12-01T08:00:02+00:00", "198.51.100.8", "p.jansen@gemeente.example", "claude.ai", "160.79.104.10", 443,
         None, "blocked", 500, 100, "Artificial Intelligence", None),
    ]


def test_the_signature_needs_both_names_and_leaves_other_exports_to_the_generic_names() -> None:
    def spelled(*columns: str) -> list[set[str]]:
        return [{normalise(column), *other_spellings(column)} for column in columns]

    assert is_global_secure_access(spelled("TimeGenerated", "DestinationFqdn", "TrafficType"))
    assert is_global_secure_access(spelled("createdDateTime", "destinationFQDN", "trafficType"))
    assert not is_global_secure_access(spelled("timestamp", "destination_fqdn", "user_id"))
    # without TrafficType a `user_id` column is still the generic user, and `network_protocol` the protocol
    generic = resolve(["timestamp", "destination_fqdn", "user_id", "network_protocol"])
    assert (generic.get("user_name"), generic.get("network_protocol")) == (2, 3)
    gsa = resolve(["TimeGenerated", "DestinationFqdn", "TrafficType", "UserId", "NetworkProtocol",
                   "UserPrincipalName"])
    assert (gsa["host"], gsa["user_name"], gsa.get("network_protocol")) == (1, 5, None)
