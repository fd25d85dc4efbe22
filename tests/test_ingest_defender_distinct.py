"""Defender's inspection keys read once per distinct value: the same columns whether a batch's values repeat (the
file's cache of answers) or nearly all differ (read without it), and across batches that share some.

Records written from the documented layout (see tests/test_ingest_defender_inspected.py for the sources: the streaming
API record, the DeviceNetworkEvents columns, the Zeek http.log / ssl.log / dns.log keys in AdditionalFields).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings
from tests.test_ingest_defender_inspected import HTTP, SSL, record

DNS = {"direction": "Out", "trans_id": "4711", "query": "Gemini.Google.com.", "qtype_name": "aaaa",
       "rcode_name": "noerror", "answers": "[\"142.250.179.206\"]"}


def lines(count: int, distinct: bool) -> list[str]:
    """Records of the three kinds in turn; with `distinct`, every name, host, method text, agent and code differs."""
    out = []
    for n in range(count):
        tag = str(n) if distinct else "0"
        if n % 3 == 0:
            fields = {**DNS, "query": f"Q{tag}.Example.COM.", "qtype_name": f"t{tag}", "rcode_name": f"r{tag}",
                      "direction": "In" if n % 2 else "out"}
            action = "DnsConnectionInspected"
        elif n % 3 == 1:
            fields = {**HTTP, "host": f" H{tag}.Example.com:8080 ", "method": f" get{tag} ", "user_agent": f"UA {tag}",
                      "status_code": str(100 + n % 600) if distinct else "-", "direction": "Out"}
            action = "HttpConnectionInspected"
        else:
            fields = {**SSL, "server_name": f"S{tag}.Example.org", "direction": "IN" if n % 2 else "Out"}
            action = "SslConnectionInspected"
        out.append(json.dumps(record(ActionType=action, AdditionalFields=json.dumps(fields))))
    return out


def expected(count: int, distinct: bool) -> list[tuple]:
    out = []
    for n in range(count):
        tag = str(n) if distinct else "0"
        if n % 3 == 0:
            out.append((f"q{tag}.example.com", "dns_query", f"T{tag}", f"R{tag}", None, None, None))
        elif n % 3 == 1:
            status = 100 + n % 600 if distinct and 100 + n % 600 <= 599 else None
            out.append((f"h{tag}.example.com", "http_host", None, None, f"GET{tag}", f"UA {tag}", status))
        else:
            out.append((f"s{tag}.example.org", "sni", None, None, None, None, None))
    return out


@pytest.mark.parametrize("distinct", [False, True])
@pytest.mark.parametrize("batch_lines", [7, 1000])
def test_columns_are_the_same_whether_values_repeat_or_differ(tmp_path: Path, distinct: bool,
                                                               batch_lines: int) -> None:
    count = 300
    path = tmp_path / "PT1H.json"
    path.write_text("".join(line + "\n" for line in lines(count, distinct)), encoding="utf-8")
    settings = dataclasses.replace(golden_settings(), batch_lines=batch_lines)
    events, _, report = parse_file(path, FORMATS["defender_network"], settings)
    assert (report.parsed, report.rejected, report.ignored) == (count, 0, 0)
    got = [(e["host"], e["host_source"], e["dns_qtype"], e["dns_rcode"], e["http_method"], e["user_agent"],
            e["http_status"]) for e in events.to_pylist()]
    assert got == expected(count, distinct)
    # a lookup the device answered, a handshake it served (direction In, any case): the client is the remote end
    asked = [e["src_ip"] == "104.18.32.47" for e in events.to_pylist()]
    assert asked == [n % 3 != 1 and n % 2 == 1 for n in range(count)]
