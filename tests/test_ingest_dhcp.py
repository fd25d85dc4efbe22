"""Windows Server DHCP audit log: assignments read, every other line ignored or rejected with its reason."""

from __future__ import annotations

from pathlib import Path

from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

TAIL = "005056A11015,,2341155,0,,,,0x4D53465420352E30,MSFT 5.0,,,,0"


def test_assignments_renewals_and_dns_updates_name_the_workstation(tmp_path: Path) -> None:
    lines = [
        "ID,Date,Time,Description,IP Address,Host Name,MAC Address,User Name, TransactionID, QResult",
        "00,11/28/24,07:00:01,Started,,,,,0,6,,,,,,,,,0",
        f"10,11/28/24,07:58:03,Assign,10.20.1.15,PC-BZ-0015.Gemeente.local,{TAIL}",
        f"11,11/28/2024,08:30:12,Renew, 10.20.7.9 ,LT-COMM-0009,{TAIL}",
        "32,11/28/24,08:30:14,DNS Update Successful,10.20.7.9,,,,0,6,,,,,,,,,0",
        f"12,11/28/24,16:59:58,Release,10.20.1.15,PC-BZ-0015.gemeente.local,{TAIL}",
        f"10,13/28/24,07:58:03,Assign,10.20.1.16,PC-BZ-0016,{TAIL}",  # no 13th month
        f"10,11/28/24,07:58:04,Assign,  ,PC-BZ-0017,{TAIL}",
        "10,11/28/24,07:58:05,Assign,10.20.1.18",  # too few columns for an audit event
    ]
    path = tmp_path / "DhcpSrvLog-Thu.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["windows_dhcp"], golden_settings())
    assert (report.parsed, report.rejected, report.ignored) == (3, 2, 4)
    rows = events.to_pylist()
    assert [(e["src_ip"], e["src_host"]) for e in rows] == [
        ("10.20.1.15", "pc-bz-0015.gemeente.local"), ("10.20.7.9", "lt-comm-0009"), ("10.20.7.9", None)]
    assert rows[0]["ts"].isoformat() == "2024-11-28T06:58:03+00:00"  # the server's local time (Amsterdam)
    assert [r["reason"] for r in rejects.to_pylist()] == [
        "date/time is not MM/DD/YY HH:MM:SS", "assignment without an address"]
