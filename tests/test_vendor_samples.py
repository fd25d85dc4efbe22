"""The team's real vendor samples (`../shared/vendor-samples/`): each parses with no reject, is
recognised without --format, and yields the hosts, users and byte counts the file holds.

To cover a new format's vendor files, add rows to VENDOR_FILES; nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc
import pytest

from detector.ingest import FORMATS, sniff_scores
from detector.ingest.pipeline import parse_file
from detector.ingest.reader import head_lines, read_head
from tests.golden import golden_settings


@dataclass(frozen=True)
class VendorFile:
    path: str  # relative to vendor-samples/
    format: str
    parsed: int  # events expected (lines that carry traffic)
    has_users: bool = False  # some events carry a user name
    has_bytes_out: bool = False  # some events carry the client's upload size
    min_host_share: float = 1.0  # share of events with a host name


VENDOR_FILES = [
    VendorFile("squid/access1.excerpt-lines-1-30.log", "squid", parsed=30, has_users=True),
    VendorFile("squid/test-access-extensive.log", "squid_extended", parsed=11, has_users=True, has_bytes_out=True),
    # IIS and other web servers log no destination name unless cs(Host) is configured (.3, .4 have it).
    VendorFile("w3c-iis/logfile_w3c.0", "w3c", parsed=1, min_host_share=0.0),
    VendorFile("w3c-iis/logfile_w3c.1", "w3c", parsed=1, has_users=True, min_host_share=0.0),
    VendorFile("w3c-iis/logfile_w3c.2", "w3c", parsed=14, min_host_share=0.0),
    VendorFile("w3c-iis/logfile_w3c.3", "w3c", parsed=3),
    VendorFile("w3c-iis/logfile_w3c.4", "w3c", parsed=2, has_bytes_out=True),
    VendorFile("w3c-iis/logfile_w3c.6", "w3c", parsed=1, has_bytes_out=True, min_host_share=0.0),
    VendorFile("w3c-iis/logfile_w3c_big.0", "w3c", parsed=210, has_bytes_out=True, min_host_share=0.0),
    # Zeek: conn is a pure flow log; 2013's ssl.log predates SNI logging. The zeek-btest baselines have
    # masked timestamps (XXXXXXXXXX.XXXXXX): tests/test_ingest_zeek.py reads them with times filled in.
    VendorFile("zeek/zat-tsv/conn.log", "zeek_conn", parsed=360, has_bytes_out=True, min_host_share=0.0),
    VendorFile("zeek/zat-json/conn.log", "zeek_conn", parsed=50, has_bytes_out=True, min_host_share=0.0),
    VendorFile("zeek/lnav-tsv/logfile_bro_conn.log.0", "zeek_conn", parsed=92, has_bytes_out=True, min_host_share=0.0),
    VendorFile("zeek/zat-tsv/ssl.log", "zeek_ssl", parsed=37, min_host_share=0.0),
    VendorFile("zeek/zat-json/ssl.log", "zeek_ssl", parsed=50),
    VendorFile("zeek/zat-tsv/http.log", "zeek_http", parsed=150, has_bytes_out=True),
    VendorFile("zeek/zat-json/http.log", "zeek_http", parsed=28, has_bytes_out=True, min_host_share=0.9),
    VendorFile("zeek/zat-tsv/dns.log", "zeek_dns", parsed=54, min_host_share=0.9),
    VendorFile("zeek/zat-json/dns.log", "zeek_dns", parsed=50),
    VendorFile("suricata-eve/eve-small.log", "suricata_eve", parsed=5, has_bytes_out=True, min_host_share=0.8),
    # Firewalls: sessions are counted at their end, so session-start records are ignored, not parsed.
    VendorFile("panw-panos/pan_inc_traffic.excerpt-lines-1-10.log", "panos", parsed=3, has_users=True,
               has_bytes_out=True, min_host_share=0.0),
    VendorFile("panw-panos/threat.excerpt-lines-1-2-and-21.log", "panos", parsed=3),
    VendorFile("fortinet-fortigate/traffic.log", "fortigate", parsed=13, has_users=True, has_bytes_out=True,
               min_host_share=0.0),
    VendorFile("fortinet-fortigate/utm.excerpt-lines-1-9.log", "fortigate", parsed=9, has_users=True),
    VendorFile("cisco-asa/test-sample.log", "cisco_asa", parsed=47, has_users=True, min_host_share=0.0),
    VendorFile("pfsense-opnsense/test-pfsense-bsd.log", "pfsense_filterlog", parsed=19, min_host_share=0.0),
    VendorFile("pfsense-opnsense/test-opensense.log", "pfsense_filterlog", parsed=3, min_host_share=0.0),
    VendorFile("juniper-srx/test-flow.excerpt-lines-1-8.log", "juniper_srx", parsed=5, has_bytes_out=True,
               min_host_share=0.0),
    VendorFile("checkpoint/test-checkpoint.excerpt-lines-1-8.log", "checkpoint", parsed=5, min_host_share=0.0),
    # 28 mixed named lines: 13 lookups (queries, responses, CEF RPZ); transfers, notifies, DNSSEC ignored.
    VendorFile("infoblox-nios/test-dns.log", "infoblox_nios", parsed=13),
    VendorFile("unbound/test-pfsense-unbound.log", "unbound", parsed=2),
    # DHCP (identity): assignments only; hosts here are workstation names (src_host), not destinations.
    VendorFile("dhcp/isc-dhcpd-pfsense/test-pfsense-dhcp.log", "isc_dhcpd", parsed=1, min_host_share=0.0),
    VendorFile("dhcp/windows-dhcp/test-log.log", "windows_dhcp", parsed=3, min_host_share=0.0),
    VendorFile("zscaler-zia/test-web.log", "zscaler_json", parsed=6, has_users=True, has_bytes_out=True),
    # Identities there are computers and networks, not users (their identity types say so).
    VendorFile("cisco-umbrella/umbrella-proxylogs.log", "umbrella_proxy", parsed=3, has_bytes_out=True),
    # Both DNS layouts: lines 1-2 have an extra identity column; only line 3 names an AD user.
    VendorFile("cisco-umbrella/umbrella-dnslogs.log", "umbrella_dns", parsed=3, has_users=True),
    # Line 1 is application control (P2P denied): traffic without a host name.
    VendorFile("sophos-xg/test-xg-cfilter-new.excerpt-lines-1-9.log", "sophos_xg", parsed=9, has_bytes_out=True,
               min_host_share=0.8),
]


@pytest.mark.parametrize("case", VENDOR_FILES, ids=[c.path for c in VENDOR_FILES])
def test_vendor_sample_parses_without_rejects(case: VendorFile, vendor_samples: Path) -> None:
    path = vendor_samples / case.path
    events, rejects, report = parse_file(path, FORMATS[case.format], golden_settings())
    assert rejects.num_rows == 0, rejects.to_pylist()[:3]
    assert report.lines == report.parsed + report.ignored
    assert report.parsed == case.parsed
    hosts = events.column("host")
    assert (len(hosts) - hosts.null_count) / max(len(hosts), 1) >= case.min_host_share
    for host in pc.drop_null(hosts).to_pylist():
        is_ipv6 = host.count(":") > 1
        assert host == host.lower() and not host.endswith("."), host
        assert is_ipv6 or ":" not in host, f"port left in host {host!r}"
    assert (events.column("user_name").null_count < events.num_rows) == case.has_users
    assert (events.column("bytes_out").null_count < events.num_rows) == case.has_bytes_out


@pytest.mark.parametrize("case", VENDOR_FILES, ids=[c.path for c in VENDOR_FILES])
def test_vendor_sample_is_recognised(case: VendorFile, vendor_samples: Path) -> None:
    lines = head_lines(read_head(vendor_samples / case.path))
    assert sniff_scores(lines)[0][0] == case.format
