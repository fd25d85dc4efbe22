"""Cisco Umbrella S3 exports: DNS column layouts, identities that are (not) users, the proxy's layouts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.config import Settings
from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

USER = "Jan de Vries (j.devries@gemeente-voorbeeld.nl)"


def csv(*values: str) -> str:
    return '"' + '","'.join(values) + '"'


def parse(tmp_path: Path, key: str, *lines: str, config: Settings | None = None) -> tuple[list[dict], list[dict], int]:
    path = tmp_path / f"{key}.csv"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS[key], config or golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report.ignored


DNS_TAIL = ("Allowed", "28 (AAAA)", "NOERROR", "ChatGPT.com.", "Generative AI")


@pytest.mark.parametrize("head", [
    ("2024-03-11 07:02:11", "BZ-LT-0042", "BZ-LT-0042,Stadhuis", "10.20.1.15", "198.51.100.23"),  # 10 columns
    ("2024-03-11 07:02:11", "BZ-LT-0042", "BZ-LT-0042", "Stadhuis", "10.20.1.15", "198.51.100.23"),  # extra identity
], ids=["ten-columns", "extra-identity-column"])
def test_dns_columns_are_found_from_the_action_whatever_the_layout(tmp_path: Path, head: tuple[str, ...]) -> None:
    current = csv(*head, *DNS_TAIL, "Roaming Computers", "Roaming Computers,Networks", "")
    events, rejects, _ = parse(tmp_path, "umbrella_dns", csv(*head, *DNS_TAIL), current)
    assert not rejects
    for event in events:
        assert (event["host"], event["dns_qtype"], event["dns_rcode"], event["action"]) == (
            "chatgpt.com", "AAAA", "NOERROR", "allowed")
        assert event["src_ip"] == "10.20.1.15" and event["user_name"] is None
        assert event["ts"].isoformat() == "2024-03-11T07:02:11+00:00"  # UTC, whatever the configured zone
        assert event["vendor_category"] == "Generative AI"  # Umbrella's categories, as logged


def test_dns_user_is_the_identity_typed_as_user(tmp_path: Path) -> None:
    lines = [
        csv("2024-03-11 07:05:39", "COM-LT-0107", f"COM-LT-0107,{USER},Stadhuis", "10.20.3.41", "198.51.100.23",
            *DNS_TAIL, "Roaming Computers", "Roaming Computers,AD Users,Networks", ""),
        csv("2024-03-11 07:05:40", USER, f"{USER},Stadhuis", "10.20.3.41", "198.51.100.23", *DNS_TAIL,
            "AD Users", "AD Users,Networks", ""),
        # A comma inside a name: the lists no longer pair up, so no user is guessed.
        csv("2024-03-11 07:05:41", "COM-LT-0107", "COM-LT-0107,Vries, J. de", "10.20.3.41", "198.51.100.23",
            *DNS_TAIL, "Roaming Computers", "Roaming Computers,AD Users", ""),
        csv("2024-03-11 07:05:42", "Stadhuis", "Stadhuis", "", "198.51.100.23", *DNS_TAIL, "Networks", "Networks", ""),
    ]
    events, _, _ = parse(tmp_path, "umbrella_dns", *lines)
    assert [e["user_name"] for e in events] == [USER, USER, None, None]
    assert events[3]["src_ip"] is None  # only the egress address is known: not the client


def test_dns_optional_header_row_is_ignored(tmp_path: Path) -> None:
    header = csv("Timestamp", "Most Granular Identity", "Identities", "Internal Ip", "External Ip", "Action",
                 "Query Type", "Response Code", "Domain", "Categories")
    events, rejects, ignored = parse(tmp_path, "umbrella_dns", header,
                                     csv("2024-03-11 07:02:11", "x", "x", "10.0.0.1", "198.51.100.1", *DNS_TAIL))
    assert (len(events), len(rejects), ignored) == (1, 0, 1)


def test_dns_vendor_sample_both_layouts(vendor_samples: Path) -> None:
    path = vendor_samples / "cisco-umbrella/umbrella-dnslogs.log"
    events, rejects, _ = parse_file(path, FORMATS["umbrella_dns"], golden_settings())
    rows = events.to_pylist()
    assert rejects.num_rows == 0
    assert [(r["host"], r["dns_qtype"], r["dns_rcode"], r["action"], r["src_ip"]) for r in rows] == [
        ("elastic.co", "A", "NOERROR", "allowed", "192.168.1.1"),
        ("elastic.co/something", "A", "NOERROR", "blocked", "192.168.1.1"),
        ("elastic.co", "A", "NOERROR", "allowed", "1.1.1.1"),
    ]
    assert [r["user_name"] for r in rows] == [None, None, "Elastic User (ElasticUser@elastic.co)"]
    assert [r["vendor_category"] for r in rows] == [
        "Software/Technology,Business Services,Application", "Chat,Instant Messaging,Block List,Application",
        "Infrastructure"]


def web(internal: str, identities: str, identity_types: str, method: str = "POST") -> str:
    return csv("2024-03-11 07:02:15", "BZ-LT-0042", internal, "198.51.100.23", "104.18.32.47", "text/event-stream",
               "ALLOWED", "https://chatgpt.com/backend-api/conversation", "", "Mozilla/5.0", "200", "18422", "3120",
               "2950", "", "Generative AI", "", "", "", "", "", "Roaming Computers", "", identities, identity_types,
               method, "", "", "")


def test_proxy_current_layout(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, "umbrella_proxy", web("10.20.1.15", f"BZ-LT-0042,{USER}",
                                                                "Roaming Computers,AD Users"))
    assert not rejects
    event = events[0]
    assert (event["src_ip"], event["dst_ip"], event["user_name"], event["http_method"]) == (
        "10.20.1.15", "104.18.32.47", USER, "POST")
    assert (event["bytes_out"], event["bytes_in"], event["http_status"]) == (18422, 3120, 200)
    assert (event["host"], event["url_path"], event["network_protocol"]) == (
        "chatgpt.com", "/backend-api/conversation", "https")
    assert event["vendor_category"] == "Generative AI"


def test_proxy_early_layout_has_identities_in_the_third_column(tmp_path: Path) -> None:
    early = csv("2017-10-02 23:52:53", "BZ-LT-0042", "BZ-LT-0042,Stadhuis", "10.20.1.15", "198.51.100.23", "",
                "BLOCKED", "http://chatgpt.com/", "", "Mozilla/5.0", "403", "562", "1489", "", "", "", "", "", "",
                "", "Networks")
    events, _, _ = parse(tmp_path, "umbrella_proxy", early)
    event = events[0]
    assert (event["src_ip"], event["dst_ip"], event["action"]) == ("10.20.1.15", None, "blocked")
    assert (event["bytes_out"], event["bytes_in"]) == (562, 1489)
    assert event["vendor_category"] is None  # an empty categories column


@pytest.mark.parametrize("key", ["umbrella_dns", "umbrella_proxy"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.lists(st.sampled_from(["", "Allowed", "Blocked", "1 (A)", "NOERROR", "x,y", '"', "a.b.",
                                                 "2024-03-11 07:02:11", "https://", "10.0.0.1", "ALLOWED"]),
                                max_size=30), min_size=1, max_size=6))
def test_arbitrary_columns_never_crash_and_are_all_counted(tmp_path: Path, key: str, values: list[list[str]]) -> None:
    parse(tmp_path, key, *(csv(*row) if row else "" for row in values))


def test_dns_layouts_mixed_in_one_batch_each_read_from_its_action(tmp_path: Path) -> None:
    """Lines of the three layouts side by side (columns found per line), the header row among them."""
    ten = csv("2024-03-11 07:02:11", "BZ-LT-0042", "BZ-LT-0042,Stadhuis", "10.20.1.15", "198.51.100.23", *DNS_TAIL)
    extra = csv("2024-03-11 07:02:12", "BZ-LT-0042", "BZ-LT-0042", "Stadhuis", "10.20.1.16", "198.51.100.23",
                *DNS_TAIL, "Roaming Computers", "Roaming Computers,Networks", "")
    user = csv("2024-03-11 07:02:13", USER, f"{USER},Stadhuis", "10.20.1.17", "198.51.100.23", "Blocked", "1 (A)",
               "NXDOMAIN", "Claude.ai.", "Generative AI", "AD Users", "AD Users,Networks", "")
    header = csv("Timestamp", "Most Granular Identity", "Identities", "Internal Ip")
    events, rejects, ignored = parse(tmp_path, "umbrella_dns", ten, header, extra, user, ten)
    assert not rejects and ignored == 1
    assert [e["src_ip"] for e in events] == ["10.20.1.15", "10.20.1.16", "10.20.1.17", "10.20.1.15"]
    assert [e["host"] for e in events] == ["chatgpt.com", "chatgpt.com", "claude.ai", "chatgpt.com"]
    assert [(e["dns_qtype"], e["dns_rcode"], e["action"]) for e in events[1:3]] == [
        ("AAAA", "NOERROR", "allowed"), ("A", "NXDOMAIN", "blocked")]
    assert [e["user_name"] for e in events] == [None, None, USER, None]
