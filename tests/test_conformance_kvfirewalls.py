"""Conformance of the key=value and CSV firewall formats (PAN-OS, FortiGate, Juniper SRX, Check Point) with
layouts documented by the vendors and seen in public real-world test logs. The lines here are written from the
vendors' field descriptions (addresses from the documentation ranges), not copied from those logs."""

from __future__ import annotations

from pathlib import Path

from tests.test_ingest_firewall import panos, parse, utc

# --- PAN-OS ------------------------------------------------------------------------------------------


def test_panos_drop_and_deny_sessions_are_blocked_whatever_the_action_field(tmp_path: Path) -> None:
    # PAN-OS Traffic log subtypes: drop = "session dropped before the application is identified and there is
    # no rule that allows the session"; deny = "session dropped after the application is identified ...".
    events, _, report = parse(
        tmp_path, "panos",
        panos("TRAFFIC", "drop", "allow"), panos("TRAFFIC", "deny", "allow"), panos("TRAFFIC", "end", "allow"),
        panos("TRAFFIC", "drop", "reset-both"),
    )
    assert report.parsed == 4
    assert [e["action"] for e in events] == ["blocked", "blocked", "allowed", "blocked"]
    assert utc(events[0]) == "2025-11-18T08:00:04Z"
