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


# --- Juniper SRX: Content Security (UTM) web filtering ------------------------------------------------

WEB_SD = ('source-zone="trust" destination-zone="untrust" source-address="10.20.3.14" source-port="52100" '
          'destination-address="104.18.33.45" destination-port="443" category="Enhanced_Search_Engines" '
          'reason="BY_PRE_DEFINED" profile="wf" url="{url}" obj="{obj}" username="{user}" roles="N/A"')


def test_srx_web_filtering_decisions_are_events_with_the_host(tmp_path: Path) -> None:
    # Junos RT_UTM WEBFILTER_URL_PERMITTED / _BLOCKED: `url` is the host asked for, `obj` the path.
    events, rejects, report = parse(
        tmp_path, "juniper_srx",
        "<14>1 2025-11-18T09:10:00+01:00 srx RT_UTM - WEBFILTER_URL_PERMITTED [junos@2636.1.1.1.2.129 "
        + WEB_SD.format(url="Gemini.Google.com", obj="/app?hl=nl", user="jdevries") + "]",
        "<12>1 2025-11-18T09:10:01+01:00 srx RT_UTM - WEBFILTER_URL_BLOCKED_LS [junos@2636.1.1.1.2.129 "
        + WEB_SD.format(url="claude.ai", obj="/", user="N/A") + "]",
        "<14>Nov 18 09:10:02 srx RT_UTM: WEBFILTER_URL_BLOCKED: WebFilter: ACTION=\"URL Blocked\" "
        "10.20.3.14(52102)->104.18.33.45(443) CATEGORY=\"Enhanced_Search_Engines\" REASON=\"BY_PRE_DEFINED\" "
        "PROFILE=\"wf\" URL=chatgpt.com OBJ=/c/1 USERNAME=GEMEENTE\\jdevries ROLES=N/A",
        "<14>1 2025-11-18T09:10:03+01:00 srx RT_UTM - AV_VIRUS_DETECTED_MT [junos@2636.1.1.1.2.129 "
        'source-address="104.18.33.45" source-port="443" destination-address="10.20.3.14" '
        'destination-port="52100" filename="chatgpt.com/x" name="EICAR"]',
        "<14>1 2025-11-18T09:10:04+01:00 srx RT_UTM - WEBFILTER_URL_PERMITTED [junos@2636.1.1.1.2.129 "
        'url="chatgpt.com" obj="/"]',
        name="srx-20251118.log",
    )
    assert (report.parsed, report.ignored, report.rejected) == (3, 1, 1)
    assert [(e["host"], e["url_path"], e["action"], e["user_name"]) for e in events] == [
        ("gemini.google.com", "/app", "allowed", "jdevries"), ("claude.ai", "/", "blocked", None),
        ("chatgpt.com", "/c/1", "blocked", "GEMEENTE\\jdevries")]
    assert [(e["src_ip"], e["dst_ip"], e["dst_port"], e["host_source"]) for e in events][2] == (
        "10.20.3.14", "104.18.33.45", 443, "url")
    assert events[0]["vendor_category"] == "Enhanced_Search_Engines"
    assert [utc(e) for e in events] == ["2025-11-18T08:10:00Z", "2025-11-18T08:10:01Z", "2025-11-18T08:10:02Z"]
    assert rejects[0]["reason"] == "WEBFILTER_URL_PERMITTED without source and destination addresses"
