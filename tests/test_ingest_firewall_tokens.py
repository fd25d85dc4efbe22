"""Firewall parsers that split lines in Arrow (pfSense filterlog, PAN-OS, Cisco ASA): the cases where a
line's first comma-separated token does not hold its whole syslog header, and short or odd records."""

from __future__ import annotations

from pathlib import Path

from detector.ingest import FORMATS
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings

FILTERLOG_V4 = "112,,,1000000103,igb1,match,pass,in,4,0x0,,64,38211,0,DF,6,tcp,60,10.20.3.14,104.18.32.47,52011,443,0"


def parse(tmp_path: Path, key: str, *lines: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "fw-20251118.log"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS[key], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report


def test_filterlog_header_with_commas_is_read_from_the_whole_line(tmp_path: Path) -> None:
    events, rejects, _ = parse(
        tmp_path, "pfsense_filterlog",
        "<134>Nov 18 09:00:00 fw,relay filterlog[1]: " + FILTERLOG_V4,
        '<134>1 2025-11-18T09:03:10+01:00 OPN filterlog 76404 - [meta a="1,2"][b c="d,e"] ' + FILTERLOG_V4,
        '<134>1 2025-11-18T09:03:10+01:00 OPN filterlog 76404 - [meta a="1"] ' + FILTERLOG_V4,
    )
    assert not rejects
    assert [(e["src_ip"], e["dst_ip"], e["dst_port"], e["action"]) for e in events] == [
        ("10.20.3.14", "104.18.32.47", 443, "allowed")] * 3


def test_filterlog_record_without_ip_version_is_rejected_and_nameless_program_ignored(tmp_path: Path) -> None:
    events, rejects, report = parse(
        tmp_path, "pfsense_filterlog",
        "<134>Nov 18 09:00:00 filterlog[1]: 112,,,1000000103,igb1,match,pass",
        "<134>Nov 18 09:00:00 filterlog[1]:",
        "<134>1 2025-11-18T09:03:10+01:00 OPN - 76404 - - " + FILTERLOG_V4,
        "<134>Nov 18 09:00:00 filterlog[1]: " + FILTERLOG_V4.replace(",4,", ",4.0,", 1),
    )
    assert not events and report.ignored == 1
    assert [r["reason"] for r in rejects] == ["IP version (field 8) is not 4 or 6: missing"] * 2 + [
        "IP version (field 8) is not 4 or 6: 4.0"]
