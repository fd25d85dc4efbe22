"""PAN-OS DECRYPTION records read as events named by their TLS SNI; THREAT url records whose URL is a bare host;
TRAFFIC records of App-ID `ssl` / `web-browsing`; GLOBALPROTECT records ignored.

Every line is written here from the documented field order, by field name (never copied from a sample):
- "Decryption Log Fields", PAN-OS 10.0 (ends at Action Flags) and 10.1/11.0 (device group, vsys and
  application fields after it):
  https://docs.paloaltonetworks.com/pan-os/10-0/pan-os-admin/monitoring/use-syslog-for-monitoring/syslog-field-descriptions/decryption-log-fields
  https://docs.paloaltonetworks.com/pan-os/11-0/pan-os-admin/monitoring/use-syslog-for-monitoring/syslog-field-descriptions/decryption-log-fields
- "Unsupported Parameters by Proxy Type and TLS Version" (no SNI under a no-decrypt rule):
  https://docs.paloaltonetworks.com/pan-os/10-2/pan-os-admin/decryption/troubleshoot-and-monitor-decryption/unsupported-parameters-by-proxy-type-and-tls-version
- "Traffic Log Fields", "Threat Log Fields" (URL/Filename: the URL of a url record, without scheme) and
  "GlobalProtect Log Fields", PAN-OS 10.x syslog field descriptions on docs.paloaltonetworks.com.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyarrow as pa

from detector.ingest import panos, sniff
from tests.edits import edited
from tests.golden import parse_lines
from tests.test_ingest_panos_fields import reference_fields

HEAD = "<14>Nov 18 09:03:04 pa-stadhuis "

# The documented order, PAN-OS 10.0: field N of the record is DECRYPTION_10_0[N].
DECRYPTION_10_0 = (
    "FUTURE_USE", "Receive Time", "Serial Number", "Type", "Threat/Content Type", "Config Version", "Generate Time",
    "Source Address", "Destination Address", "NAT Source IP", "NAT Destination IP", "Rule", "Source User",
    "Destination User", "Application", "Virtual System", "Source Zone", "Destination Zone", "Inbound Interface",
    "Outbound Interface", "Log Action", "Time Logged", "Session ID", "Repeat Count", "Source Port",
    "Destination Port", "NAT Source Port", "NAT Destination Port", "Flags", "IP Protocol", "Action", "Tunnel",
    "FUTURE_USE 2", "FUTURE_USE 3", "Source VM UUID", "Destination VM UUID", "UUID for rule",
    "Stage for Client to Firewall", "Stage for Firewall to Server", "TLS Version", "Key Exchange Algorithm",
    "Encryption Algorithm", "Hash Algorithm", "Policy Name", "Elliptic Curve", "Error Index", "Root Status",
    "Chain Status", "Proxy Type", "Certificate Serial Number", "Fingerprint", "Certificate Start Date",
    "Certificate End Date", "Certificate Version", "Certificate Size", "Common Name Length",
    "Issuer Common Name Length", "Root Common Name Length", "SNI Length", "Certificate Flags", "Subject Common Name",
    "Issuer Subject Common Name", "Root Subject Common Name", "Server Name Indication", "Error", "Container ID",
    "POD Namespace", "POD Name", "Source External Dynamic List", "Destination External Dynamic List",
    "Source Dynamic Address Group", "Destination Dynamic Address Group", "High Res Timestamp",
    "Source Device Category", "Source Device Profile", "Source Device Model", "Source Device Vendor",
    "Source Device OS Family", "Source Device OS Version", "Source Hostname", "Source Mac Address",
    "Destination Device Category", "Destination Device Profile", "Destination Device Model",
    "Destination Device Vendor", "Destination Device OS Family", "Destination Device OS Version",
    "Destination Hostname", "Destination Mac Address", "Sequence Number", "Action Flags",
)
# PAN-OS 10.1 and later add these after Action Flags.
DECRYPTION_LATER = (
    *DECRYPTION_10_0, "Device Group Hierarchy Level 1", "Device Group Hierarchy Level 2", "Device Group Hierarchy Level 3",
    "Device Group Hierarchy Level 4", "Virtual System Name", "Device Name", "Virtual System ID",
    "Application Subcategory", "Application Category", "Application Technology", "Application Risk",
    "Application Characteristic", "Application Container", "Tunneled Application", "Application SaaS",
    "Application Sanctioned State",
)

TLS_SESSION = {
    "FUTURE_USE": "1", "Receive Time": "2025/11/18 09:03:04", "Serial Number": "012801000001",
    "Type": "DECRYPTION", "Threat/Content Type": "0", "Config Version": "2561", "Generate Time": "2025/11/18 09:03:03",
    "Source Address": "10.20.3.14", "Destination Address": "104.18.32.47", "NAT Source IP": "192.0.2.10",
    "NAT Destination IP": "104.18.32.47", "Rule": "decrypt-internet", "Source User": "gemeente\\jdevries",
    "Application": "ssl", "Virtual System": "vsys1", "Source Zone": "trust", "Destination Zone": "untrust",
    "Inbound Interface": "ethernet1/2", "Outbound Interface": "ethernet1/1", "Log Action": "default",
    "Time Logged": "2025/11/18 09:03:03", "Session ID": "4712", "Repeat Count": "1", "Source Port": "52011",
    "Destination Port": "443", "NAT Source Port": "41022", "NAT Destination Port": "443", "Flags": "0x400000",
    "IP Protocol": "tcp", "Action": "allow", "Tunnel": "N/A", "UUID for rule": "5e1b7f3a-0c4d-4e2f-9a8b-7c6d5e4f3a2b",
    "Stage for Client to Firewall": "Finished", "Stage for Firewall to Server": "Finished", "TLS Version": "TLS1.3",
    "Key Exchange Algorithm": "ECDHE", "Encryption Algorithm": "AES_256_GCM", "Hash Algorithm": "SHA384",
    "Policy Name": "decrypt-internet", "Elliptic Curve": "x25519", "Error Index": "None", "Root Status": "trusted",
    "Chain Status": "Trusted", "Proxy Type": "Forward", "Certificate Serial Number": "0a1b2c3d",
    "Fingerprint": "ab" * 32, "Certificate Start Date": "2025/09/01 00:00:00",
    "Certificate End Date": "2025/12/01 00:00:00", "Certificate Version": "V3", "Certificate Size": "256",
    "Common Name Length": "11", "Issuer Common Name Length": "3", "Root Common Name Length": "0",
    "SNI Length": "11", "Certificate Flags": "0", "Subject Common Name": "chatgpt.com", "Issuer Subject Common Name": "WE1",
    "Root Subject Common Name": "", "Server Name Indication": "chatgpt.com", "Error": "",
    "High Res Timestamp": "2025-11-18T09:03:03.250+01:00", "Sequence Number": "7013", "Action Flags": "0x0",
    "Device Name": "pa-stadhuis", "Virtual System ID": "1", "Application Category": "networking",
}


def test_layouts_are_the_documented_positions() -> None:
    assert (len(DECRYPTION_10_0), len(DECRYPTION_LATER)) == (91, 107)
    assert [DECRYPTION_10_0.index(name) for name in ("Destination Port", "Action", "Server Name Indication")] == [
        25, 30, 63]


def decryption(layout: tuple[str, ...] = DECRYPTION_LATER, **changes: str) -> str:
    """A DECRYPTION record in `layout`'s order (fields named there; `changes` by name with `_` for spaces)."""
    values = TLS_SESSION | {name.replace("_", " "): value for name, value in changes.items()}
    return HEAD + ",".join(values.get(name, "") for name in layout)


def _events(table) -> list[dict]:  # type: ignore[no-untyped-def]
    return [{k: v for k, v in row.items() if v is not None and k not in ("file_id", "source_kind", "log_format")}
            for row in table.to_pylist()]


def test_decryption_record_is_an_event_named_by_its_sni(tmp_path: Path) -> None:
    lines = [decryption(DECRYPTION_10_0), decryption(DECRYPTION_LATER)]
    assert sniff(lines).name == "panos"
    events, _, report = parse_lines(tmp_path / "pan.log", "panos", lines)
    assert (report.parsed, report.rejected, report.ignored) == (2, 0, 0)
    first, later = _events(events)
    assert first == {
        "line_no": 1, "ts": first["ts"], "src_ip": "10.20.3.14", "dst_ip": "104.18.32.47", "dst_port": 443,
        "user_name": "gemeente\\jdevries", "host": "chatgpt.com", "host_source": "sni", "network_protocol": "tcp",
        "action": "allowed", "vendor_app": "ssl",
    }  # no bytes, duration, URL category (field 37 is a handshake stage), path or method
    assert first["ts"].isoformat() == "2025-11-18T08:03:03+00:00"  # generated time, in the configured zone
    assert later == first | {"line_no": 2}  # the versions differ only after the SNI


def test_sni_is_lower_case_without_trailing_dot(tmp_path: Path) -> None:
    events, _, _ = parse_lines(tmp_path / "pan.log", "panos", [decryption(Server_Name_Indication="ChatGPT.com.")])
    assert [(e["host"], e["host_source"]) for e in _events(events)] == [("chatgpt.com", "sni")]


def test_decryption_without_sni_has_no_host(tmp_path: Path) -> None:
    """A no-decrypt rule logs no SNI: the certificate's common name (a wildcard here) is not taken for one."""
    line = decryption(Server_Name_Indication="", SNI_Length="0", Subject_Common_Name="*.openai.com",
                      Proxy_Type="No Decrypt")
    events, _, report = parse_lines(tmp_path / "pan.log", "panos", [line])
    (event,) = _events(events)
    assert report.parsed == 1
    assert ("host" not in event, event["host_source"], event["dst_ip"]) == (True, "none", "104.18.32.47")


def test_quoted_common_names_with_commas_keep_the_sni_in_its_place(tmp_path: Path) -> None:
    line = decryption(Issuer_Subject_Common_Name='"Example CA, Inc. ""G2"""', Subject_Common_Name='"a,b"',
                      Error='"Received fatal alert, CertificateUnknown"', Server_Name_Indication="api.openai.com")
    events, _, _ = parse_lines(tmp_path / "pan.log", "panos", [line])
    assert [e["host"] for e in _events(events)] == ["api.openai.com"]


def test_denied_handshake_is_blocked(tmp_path: Path) -> None:
    events, _, _ = parse_lines(tmp_path / "pan.log", "panos", [decryption(Action="deny")])
    assert [e["action"] for e in _events(events)] == ["blocked"]


def test_decryption_cut_before_its_sni_is_rejected(tmp_path: Path) -> None:
    full = decryption(DECRYPTION_10_0)
    cut = HEAD + ",".join(TLS_SESSION.get(name, "") for name in DECRYPTION_10_0[:50])
    very_short = HEAD + ",".join(TLS_SESSION.get(name, "") for name in DECRYPTION_10_0[:20])
    _, rejects, report = parse_lines(tmp_path / "pan.log", "panos", [full, cut, very_short])
    assert (report.parsed, report.rejected, report.ignored) == (1, 2, 0)
    assert [r["reason"] for r in rejects.to_pylist()] == [
        "expected at least 64 CSV fields for DECRYPTION, found 50",
        "expected at least 64 CSV fields for DECRYPTION, found 20",
    ]


def test_sni_and_field_count_are_the_csv_split_of_edited_lines() -> None:
    """The kernel's rest of a record (fields 38-63, then the rest of the line as one) against a plain CSV split."""
    rng = random.Random(11)
    bases = [decryption(DECRYPTION_10_0), decryption(Issuer_Subject_Common_Name='"CA, Inc."')]
    lines = [edited(rng.choice(bases), rng, ['"', ",", '"a,b"', "é", ""], edits=3) for _ in range(2000)]
    fields = panos.Fields(pa.array(lines))
    every = np.ones(len(lines), bool)
    fields.read(every, every)
    for row, line in enumerate(lines):
        split = reference_fields(line)
        assert fields.full_count[row] == min(len(split), panos.SNI + 2), line
        assert fields.at[panos.SNI][row].as_py() == (split[panos.SNI] if len(split) > panos.SNI else None), line


def test_decryption_with_a_bad_time_is_rejected(tmp_path: Path) -> None:
    line = decryption(Generate_Time="2025/13/40 09:03:03", Receive_Time="yesterday")
    _, rejects, report = parse_lines(tmp_path / "pan.log", "panos", [line])
    assert report.rejected == 1
    assert rejects.to_pylist()[0]["reason"] == "generated time is not YYYY/MM/DD hh:mm:ss"


# --- THREAT url and TRAFFIC records with App-ID ssl / web-browsing ------------------------------------------

def record(kind: str, subtype: str, application: str, tail: list[str]) -> str:
    """Fields 0-30 as TRAFFIC and THREAT share them, then `tail` (field 31 on)."""
    fields = ["1", "2025/11/18 09:03:04", "012801000001", kind, subtype, "2561", "2025/11/18 09:03:04", "10.20.3.14",
              "104.18.32.47", "192.0.2.10", "104.18.32.47", "internet", "gemeente\\jdevries", "", application,
              "vsys1", "trust", "untrust", "ethernet1/2", "ethernet1/1", "default", "2025/11/18 09:03:04", "4712",
              "1", "52011", "443", "41022", "443", "0x400000", "tcp", "allow"]
    return HEAD + ",".join(fields + tail)


def url_record(url: str, method: str = "") -> str:
    """THREAT url: 31 URL, 32 threat ID, 33 category, ..., 41 content type, 46 user agent, ..., 63 HTTP method."""
    tail = [url, "(9999)", "artificial-intelligence", "informational", "client-to-server"] + [""] * 27 + [method]
    return record("THREAT", "url", "ssl", tail)


def test_url_that_is_a_bare_host_or_host_and_port_names_the_host_and_no_path(tmp_path: Path) -> None:
    lines = [url_record('"chatgpt.com"'), url_record("chatgpt.com:443"), url_record("Claude.AI:443/"),
             url_record('"chatgpt.com/c/1?x=2"', "post")]
    events, _, report = parse_lines(tmp_path / "pan.log", "panos", lines)
    assert report.parsed == 4
    assert [(e["host"], e["host_source"], e.get("url_path"), e.get("http_method")) for e in _events(events)] == [
        ("chatgpt.com", "url", None, None),  # nothing is known of a path
        ("chatgpt.com", "url", None, None),
        ("claude.ai", "url", "/", None),
        ("chatgpt.com", "url", "/c/1", "POST"),
    ]


def test_traffic_of_ssl_and_web_browsing_keeps_its_app_and_names_no_host(tmp_path: Path) -> None:
    """TRAFFIC: 31 bytes, 32 bytes sent, 33 bytes received, 34 packets, 35 start time, 36 elapsed, 37 category."""
    tail = ["6000", "1000", "5000", "20", "2025/11/18 09:02:55", "9", "any", "0", "7013", "0x0"]
    lines = [record("TRAFFIC", "end", "ssl", tail), record("TRAFFIC", "end", "web-browsing", tail)]
    events, _, report = parse_lines(tmp_path / "pan.log", "panos", lines)
    assert report.parsed == 2
    assert [(e["vendor_app"], e.get("host"), e["host_source"], e["bytes_out"], e["bytes_in"], e["duration_ms"],
             e.get("vendor_category")) for e in _events(events)] == [
        ("ssl", None, "none", 1000, 5000, 9000, None), ("web-browsing", None, "none", 1000, 5000, 9000, None)]


def test_globalprotect_records_are_ignored(tmp_path: Path) -> None:
    """GlobalProtect: 6 generated time, 7 vsys, 8 event ID, 9 stage, 10 auth method, 11 tunnel type, 12 source user,
    13 source region, 14 machine name, 15 public IP, 16 public IPv6, 17 private IP, ..., then portal and gateway:
    the VPN, not a destination."""
    fields = ["1", "2025/11/18 09:03:04", "012801000001", "GLOBALPROTECT", "0", "2561", "2025/11/18 09:03:04", "vsys1",
              "gateway-connected", "connected", "", "IPSec", "jdevries", "NL", "ws-0142", "198.51.100.7", "0.0.0.0",
              "10.30.0.5", "0.0.0.0", "host-id", "serial", "6.2.1", "Windows", "10", "1", "", "", "", "success",
              "Amsterdam", "", "on-demand", "0", "gp-portal", "7014", "0x0"]
    _, _, report = parse_lines(tmp_path / "pan.log", "panos", [HEAD + ",".join(fields)])
    assert (report.parsed, report.rejected, report.ignored) == (0, 0, 1)
