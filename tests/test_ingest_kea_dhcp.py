"""ISC Kea lease logs: assignments read from Kea's own file, syslog and the legal log, names joined by client.

Test lines are written from Kea's documented layouts, not copied from any log:
- message texts: Kea Messages Manual, https://kea.readthedocs.io/en/latest/kea-messages.html
  (DHCP4_LEASE_ALLOC "%1: lease %2 has been allocated for %3", DHCP6_LEASE_ALLOC "%1: lease for address %2 and
  iaid=%3 has been allocated for %4", DHCP4_CLIENT_HOSTNAME_DATA "%1: client sent Hostname option: %2"), the
  client label "[hwtype=1 MAC], cid=[...], tid=0x..." as Pkt4::makeLabel writes it;
- time and logger layout: https://kea.readthedocs.io/en/latest/arm/logging.html (`%D{%Y-%m-%d %H:%M:%S.%q} %-5p
  [%c/%i.%t] %m`, and `%-5p [%c.%t] %m` for syslog);
- legal log: https://kea.readthedocs.io/en/latest/arm/hooks-legal-log.html ("%Y-%m-%d %H:%M:%S %Z Address: ...
  has been assigned for ... to a device with hardware address: hwtype=1 ...").
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector import db
from detector.classify.run import classify
from detector.config import load_settings
from detector.enrich.pseudonym import load_key, pseudonym
from detector.ingest import FORMATS, sniff
from detector.ingest.kea_dhcp import BAD_TIME, NAME_LINES, NO_ADDRESS, NO_HEADER
from detector.ingest.pipeline import ingest_paths, parse_file
from tests.golden import golden_settings

KEA = FORMATS["kea_dhcp"]
PC = "[hwtype=1 4c:55:41:a0:fa:15], cid=[01:4c:55:41:a0:fa:15]"
LAPTOP = "[hwtype=1 00:50:56:a1:10:07], cid=[no info]"


def own(time: str, level: str, logger: str, message: str) -> str:
    return f"2026-11-20 {time} {level:<5} [kea-dhcp4.{logger}/812.140213283657408] {message}"


def hostname(time: str, label: str, tid: str, name: str) -> str:
    return own(time, "DEBUG", "ddns", f"DHCP4_CLIENT_HOSTNAME_DATA {label}, tid={tid}: client sent Hostname option: {name}")


def alloc(time: str, label: str, tid: str, address: str) -> str:
    return own(time, "INFO", "leases", f"DHCP4_LEASE_ALLOC {label}, tid={tid}: lease {address} has been allocated"
                                       " for 28800 seconds")


def parse(tmp_path: Path, lines: list[str], name: str = "kea-dhcp4.log", batch_lines: int = 7):
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, KEA, replace(golden_settings(), batch_lines=batch_lines))
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report


def test_an_allocation_takes_the_host_name_its_client_sent_and_other_clients_names_stay_theirs(tmp_path: Path) -> None:
    lines = [
        own("06:59:58.790", "INFO", "dhcp4", "DHCP4_STARTED Kea DHCPv4 server version 2.6.1 started"),
        hostname("07:58:02.530", PC, "0x6e1b09c3", "PC-BZ-0015"),
        hostname("07:58:02.531", LAPTOP, "0x2291", "lt-comm-0007.gemeente.local."),
        alloc("07:58:02.533", LAPTOP, "0x2291", "10.20.7.9"),  # the laptop's lease: not the PC's name
        alloc("07:58:02.534", PC, "0x6e1b09c3", "10.20.1.15"),
        alloc("07:58:03.000", "[hwtype=1 00:80:77:31:5a:e0], cid=[no info]", "0x1d4", "10.20.9.31"),
        own("07:58:04.000", "INFO", "leases", f"DHCP4_LEASE_REUSE {PC}, tid=0x7a: lease 10.20.1.15 has been reused"
                                              " for 14398 seconds"),
    ]
    events, _, report = parse(tmp_path, lines)
    assert (report.parsed, report.rejected, report.ignored) == (4, 0, 3)
    assert [(e["src_ip"], e["src_host"]) for e in events] == [
        ("10.20.7.9", "lt-comm-0007.gemeente.local"), ("10.20.1.15", "pc-bz-0015"), ("10.20.9.31", None),
        ("10.20.1.15", "pc-bz-0015")]  # a renewal keeps the name its client sent earlier
    assert events[0]["ts"].isoformat() == "2026-11-20T06:58:02.533000+00:00"  # the server's local time (CET)
    assert {e["network_protocol"] for e in events} == {"dhcp"}


def test_windows_clients_are_named_by_the_client_fqdn_option_they_send(tmp_path: Path) -> None:
    def fqdn(label: str, name: str, kind: str) -> str:
        return own("08:00:00.001", "DEBUG", "ddns", f"DHCP4_CLIENT_FQDN_DATA {label}, tid=0x1: Client sent FQDN option:"
                   f" type=81 (CLIENT_FQDN), flags: (N=0, E=0, O=0, S=1), domain-name='{name}' ({kind})")
    other = "[hwtype=1 f0:de:f1:7a:00:5e], cid=[01:f0:de:f1:7a:00:5e]"
    lines = [fqdn(PC, "WS-SZ-0112.gemeente.local.", "full"), fqdn(LAPTOP, "LT-SZ-0007", "partial"), fqdn(other, "", "partial"),
             alloc("08:00:00.002", PC, "0x1", "10.20.5.112"), alloc("08:00:00.003", LAPTOP, "0x1", "10.20.5.7"),
             alloc("08:00:00.004", other, "0x1", "10.20.5.8")]
    events, _, report = parse(tmp_path, lines)
    assert report.ignored == 3
    assert [(e["src_ip"], e["src_host"]) for e in events] == [
        ("10.20.5.112", "ws-sz-0112.gemeente.local"), ("10.20.5.7", "lt-sz-0007"), ("10.20.5.8", None)]


def test_a_name_logged_too_long_before_the_lease_is_not_taken_whatever_the_batches(tmp_path: Path) -> None:
    filler = own("07:00:00.000", "INFO", "dhcpsrv", "DHCPSRV_MEMFILE_LFC_START starting Lease File Cleanup")
    lines = [hostname("06:59:00.000", PC, "0x1", "PC-OLD"), *[filler] * NAME_LINES,
             alloc("07:10:00.000", PC, "0x2", "10.20.1.15"),
             hostname("07:10:01.000", PC, "0x3", "PC-BZ-0015"), alloc("07:10:02.000", PC, "0x3", "10.20.1.15")]
    for batch_lines in (1000, 2049, 100_000):  # the lease and its names in one batch or two
        events, _, report = parse(tmp_path, lines, batch_lines=batch_lines)
        assert [(e["src_ip"], e["src_host"]) for e in events] == [("10.20.1.15", None), ("10.20.1.15", "pc-bz-0015")]
        assert report.ignored == NAME_LINES + 2


def test_reserved_host_names_and_dhcpv6_addresses_through_syslog_headers(tmp_path: Path) -> None:
    label = "[hwtype=1 00:1b:21:3c:9d:42], cid=[01:00:1b:21:3c:9d:42], tid=0x51c2e7a0"
    duid = "duid=[00:01:00:01:2c:5e:1a:07:4c:55:41:a0:fa:16], [hwtype=1 4c:55:41:a0:fa:16], tid=0x8a31c2"
    lines = [
        f"Nov 20 08:01:15 dhcp1 kea-dhcp4[812]: DEBUG [kea-dhcp4.ddns.1402] DHCP4_RESERVED_HOSTNAME_ASSIGNED {label}:"
        " server assigned reserved hostname ws-fin-0042",
        f"Nov 20 08:01:15 dhcp1 kea-dhcp4[812]: INFO  [kea-dhcp4.leases.1402] DHCP4_LEASE_ALLOC {label}: lease"
        " 10.20.3.42 has been allocated for 28800 seconds",
        f"<158>1 2026-11-20T09:02:11.5+01:00 dhcp1 kea-dhcp6 813 - - INFO  [kea-dhcp6.leases.1404] DHCP6_LEASE_ALLOC"
        f" {duid}: lease for address 2001:DB8:20:1::15 and iaid=73417218 has been allocated for 7200 seconds",
        f"Nov 20 09:02:12 dhcp1 kea-dhcp6[813]: INFO  [kea-dhcp6.leases.1404] DHCP6_PD_LEASE_ALLOC {duid}: lease for"
        " prefix 2001:db8:ff00::/56 and iaid=1 has been allocated for 7200 seconds",
        "Nov 20 09:03:00 dhcp1 kea-dhcp4[812]: 2026-11-20 09:03:00.118 INFO  [kea-dhcp4.leases/812.1402]"
        f" DHCP4_LEASE_ALLOC {LAPTOP}, tid=0x9: lease 10.20.7.10 has been allocated for 28800 seconds",
        "Nov 20 09:04:00 dhcp1 CRON[22031]: (root) CMD (/usr/local/bin/kea-backup.sh)",
    ]
    events, _, report = parse(tmp_path, lines, name="syslog-20261201.log")
    assert (report.parsed, report.rejected, report.ignored) == (3, 0, 3)
    assert [(e["src_ip"], e["src_host"], e["ts"].isoformat()) for e in events] == [
        ("10.20.3.42", "ws-fin-0042", "2026-11-20T07:01:15+00:00"),
        ("2001:db8:20:1::15", None, "2026-11-20T08:02:11.500000+00:00"),
        ("10.20.7.10", None, "2026-11-20T08:03:00.118000+00:00"),
    ]


def test_keas_own_time_after_a_syslog_header_gives_the_year_the_header_lacks(tmp_path: Path) -> None:
    """journald or a relay in front of Kea's stdout: `MMM dd HH:MM:SS host kea-dhcp4[pid]: YYYY-MM-DD HH:MM:SS.mmm
    INFO  [kea-dhcp4.leases/pid.thread] DHCP4_LEASE_ALLOC ...`, the layout seen in public Kea walkthroughs (e.g.
    https://kea.readthedocs.io/en/latest/arm/logging.html, `output: stdout` under systemd). A file of an earlier
    year read later must keep that year, not the header's guessed one, and an unreadable own time falls back to
    the header's."""
    lines = [
        "Aug 13 14:23:38 kea1 kea-dhcp4[6455]: 2025-08-13 14:23:38.856 INFO  [kea-dhcp4.leases/6455.1399]"
        f" DHCP4_LEASE_ALLOC {PC}, tid=0x3f08: lease 192.168.42.100 has been allocated for 7200 seconds",
        "Jan 06 12:48:19 kea1 kea-dhcp4[617]: 2023-01-06 12:48:19.229 INFO  [kea-dhcp4.leases/617.1401]"
        f" DHCP4_LEASE_ALLOC {LAPTOP}, tid=0xa9f4: lease 192.168.101.10 has been allocated for 4000 seconds",
        "Jan 06 12:48:20 kea1 kea-dhcp4[617]: 2023-01-06 25:48:20.229 INFO  [kea-dhcp4.leases/617.1401]"
        f" DHCP4_LEASE_ALLOC {LAPTOP}, tid=0xa9f5: lease 192.168.101.11 has been allocated for 4000 seconds",
    ]
    events, _, report = parse(tmp_path, lines, name="kea-journal.log")
    assert (report.parsed, report.rejected, report.ignored) == (3, 0, 0)
    stamps = [(e["src_ip"], e["ts"].isoformat()) for e in events]
    assert stamps[:2] == [("192.168.42.100", "2025-08-13T12:23:38.856000+00:00"),
                          ("192.168.101.10", "2023-01-06T11:48:19.229000+00:00")]
    assert stamps[2][0] == "192.168.101.11" and stamps[2][1].endswith("-01-06T11:48:20+00:00")


def test_legal_log_assignments_and_renewals_in_the_zone_the_line_names(tmp_path: Path) -> None:
    device = "to a device with hardware address: hwtype=1 4c:55:41:a0:fa:15, client-id: 01:4c:55:41:a0:fa:15"
    lines = [
        f"2026-07-01 08:00:00 CEST Address: 10.20.1.15 has been assigned for 8 hrs 0 mins 0 secs {device}",
        f"2026-07-01 08:00:00 UTC Address: 10.20.1.16 has been renewed for 1 days 0 hrs 0 mins 0 secs {device}",
        f"2026-07-01 08:00:00 XYZ Address: 10.20.1.17 has been assigned for 8 hrs 0 mins 0 secs {device}",
        f"2026-07-01 08:00:00 CEST Address: 10.20.1.18 has been assigned for 8 hrs 0 mins 0 secs {device},"
        " hostname: PC-BZ-0018",
        f"2026-07-01 08:00:00.250000 UTC Address: 10.20.1.19 has been assigned for 8 hrs {device}",  # `%Q`
        f"2026-07-01 17:00:00 CEST Address: 10.20.1.15 has been released from a device {device[12:]}",
        "2026-07-01 17:00:01 CEST Administrator deleted the lease for address: 10.20.1.16",
        f"2026-07-01 17:00:02 CEST Address: 10.20.1.256 has been assigned for 8 hrs 0 mins 0 secs {device}",
    ]
    events, rejects, report = parse(tmp_path, lines, name="kea-legal4.20260701.txt")
    assert (report.parsed, report.rejected, report.ignored) == (5, 1, 2)
    assert [(e["src_ip"], e["src_host"], e["ts"].isoformat()) for e in events] == [
        ("10.20.1.15", None, "2026-07-01T06:00:00+00:00"),
        ("10.20.1.16", None, "2026-07-01T08:00:00+00:00"),
        ("10.20.1.17", None, "2026-07-01T06:00:00+00:00"),  # an unknown abbreviation: the configured zone
        ("10.20.1.18", "pc-bz-0018", "2026-07-01T06:00:00+00:00"),
        ("10.20.1.19", None, "2026-07-01T08:00:00.250000+00:00"),
    ]
    assert [r["reason"] for r in rejects] == [NO_ADDRESS]


def test_broken_lines_are_counted_rejects_with_their_reason(tmp_path: Path) -> None:
    lines = [
        alloc("09:12:44.001", PC, "0x9", "10.20.1.15")[:120],  # cut off before its address
        alloc("09:12:44.002", PC, "0x9", "10.20.300.1"),
        alloc("09:12:44.003", PC, "0x9", "10.20.1.15").replace("2026-11-20", "2026-11-31"),
        '    "valid-lifetime": 28800,',
        own("09:12:45.000", "INFO", "leases", f"DHCP4_RELEASE {PC}, tid=0xa: address 10.20.1.15 was released properly."),
        own("09:12:46.000", "INFO", "bad-packets", f"DHCP4_PACKET_NAK_0004 {PC}, tid=0xb: failed to grant a lease,"
                                                   " client sent ciaddr 0.0.0.0, requested-ip-address 10.20.4.77"),
    ]
    events, rejects, report = parse(tmp_path, lines)
    assert events == [] and report.ignored == 2
    assert [r["reason"] for r in rejects] == [NO_ADDRESS, NO_ADDRESS, BAD_TIME, NO_HEADER]


def test_kea_lines_are_recognised_in_every_layout_and_other_dhcp_logs_are_not_claimed() -> None:
    kea = [alloc("07:58:02.534", PC, "0x1", "10.20.1.15"),
           "Nov 20 07:58:02 dhcp1 kea-dhcp4[812]: INFO  [kea-dhcp4.dhcp4.1] DHCP4_STARTED Kea DHCPv4 server started",
           "2026-11-20 07:58:02 CET Address: 10.20.1.15 has been assigned for 8 hrs 0 mins 0 secs to a device with"
           " hardware address: hwtype=1 4c:55:41:a0:fa:15"]
    for line in kea:
        assert sniff([line]).name == "kea_dhcp", line
    dhcpd = "Nov 28 07:30:00 dhcp01 dhcpd[9]: DHCPACK on 10.2.0.7 to 00:11:22:33:44:55 (PC-BOB) via eth0"
    assert KEA.sniff([dhcpd]) == 0 and sniff([dhcpd]).name == "isc_dhcpd"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=80), st.sampled_from([
    alloc("07:58:02.534", PC, "0x1", "10.20.1.15"), hostname("07:58:02.530", PC, "0x1", "X"),
    "2026-11-20 07:58:02 CET Address: 10.20.1.15 has been assigned", "2026-11-20 07:58:02.1 INFO  [] x: y",
    "Nov 20 07:58:02 h kea-dhcp4[1]: INFO  [kea-dhcp4.leases.1] DHCP4_LEASE_ALLOC : lease"])), max_size=12))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    parse(tmp_path, lines, batch_lines=3)


DNS = "28-Nov-2024 09:05:00.000 queries: info: client @0x1 10.2.0.7#5000 (chatgpt.com): query: chatgpt.com IN A + (10.0.0.53)\n"


@pytest.fixture
def organisation(home: Path, tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "named.log").write_text(DNS)
    label = "[hwtype=1 00:11:22:33:44:55], cid=[01:00:11:22:33:44:55], tid=0x42"
    (logs / "kea-dhcp4.log").write_text(
        f"2024-11-28 08:30:00.001 DEBUG [kea-dhcp4.ddns/9.1] DHCP4_CLIENT_HOSTNAME_DATA {label}: client sent Hostname"
        " option: PC-BOB\n"
        f"2024-11-28 08:30:00.002 INFO  [kea-dhcp4.leases/9.1] DHCP4_LEASE_ALLOC {label}: lease 10.2.0.7 has been"
        " allocated for 28800 seconds\n")
    (home / "users.csv").write_text("user,department\nbob,ICT\n")
    (home / "networks.csv").write_text("cidr,department\n10.2.0.0/16,ICT\n")
    (home / "workstations.csv").write_text("workstation,user\npc-bob.gemeente.local,GEMEENTE\\bob\n")
    reports = list(ingest_paths(load_settings(home), [str(logs)]))
    assert {r.format for r in reports} == {"bind_query", "kea_dhcp"}
    assert all(not r.error and r.rejected == 0 for r in reports), reports
    classify(load_settings(home))
    return home


def test_a_kea_lease_attributes_a_dns_lookup_to_the_workstations_user(organisation: Path) -> None:
    with db.connect(load_settings(organisation)) as connection:
        found = connection.sql("select src_ip, host, user_id, department, attribution from ai_events").fetchall()
    assert found == [("10.2.0.7", "chatgpt.com", pseudonym(load_key(organisation), "bob"), "ICT", "dhcp")]
