"""Zscaler NSS web feeds as public templates and Zscaler's field reference write them (lines written here from
the documentation, not copied samples): Elastic's documented JSON feed template (`"cltip":"%s{cip}"`,
`"useragent":"%s{eua}"`, `"login":"%s{elogin}"`, `"b64url":"%s{b64url}"`), Zscaler's b64 and hex-encoded fields
("NSS Feed Output Format: Web Logs": b64 fields are base64, the e-fields write bytes <= 0x20 or >= 0x7F as %HH), and
NSS's other log types, which name themselves in the JSON output type's `sourcetype`."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.test_ingest_zscaler import EVENT, kv, parse, wrapped


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def elastic_template(**values: str) -> dict[str, str]:
    """A web event with the keys of Elastic's documented feed template (no `cip`, `ua` or `eurl`)."""
    event = {k: v for k, v in EVENT.items() if k not in ("cip", "ua", "eurl", "login")}
    return {**event, "cltip": "10.20.1.15", "cltintip": "203.0.113.5", "cltpubip": "198.51.100.23",
            "host": "chatgpt.com", "useragent": "Mozilla/5.0%20(Windows%20NT%2010.0)",
            "login": "j.devries@gemeente-voorbeeld.nl", **values}


def test_elastic_template_client_ip_and_encoded_user_agent(tmp_path: Path) -> None:
    events, rejects = parse(tmp_path, "zscaler_json", wrapped(elastic_template(eurl="chatgpt.com/c/abc")))
    assert not rejects
    (event,) = events
    assert event["src_ip"] == "10.20.1.15"  # cltip is %s{cip}, not the NATed cltintip or the public cltpubip
    assert event["user_agent"] == "Mozilla/5.0 (Windows NT 10.0)"
    assert (event["host"], event["url_path"]) == ("chatgpt.com", "/c/abc")


@pytest.mark.parametrize("key", ["zscaler_json", "zscaler_kv"])
def test_base64_url_read_where_the_feed_has_no_plain_url(tmp_path: Path, key: str) -> None:
    event = elastic_template(b64url=b64("claude.ai/api/append_message?x=1"), host="claude.ai")
    line = wrapped(event) if key == "zscaler_json" else kv({**event, "urlsupercat": "Information Technology"})
    events, rejects = parse(tmp_path, key, line)
    assert not rejects
    assert (events[0]["host"], events[0]["url_path"], events[0]["host_source"]) == (
        "claude.ai", "/api/append_message", "url")


def test_a_plain_url_wins_over_the_base64_one_and_base64_host_stands_in(tmp_path: Path) -> None:
    lines = [
        wrapped({**EVENT, "b64url": b64("other.example/x")}),
        wrapped({k: v for k, v in {**EVENT, "b64host": b64("gemini.google.com")}.items() if k != "eurl"}),
        wrapped({k: v for k, v in {**EVENT, "b64url": "None", "b64host": "!not base64"}.items() if k != "eurl"}),
    ]
    events, rejects = parse(tmp_path, "zscaler_json", *lines)
    assert [(e["line_no"], e["host"]) for e in events] == [(1, "chatgpt.com"), (2, "gemini.google.com")]
    assert [(r["line_no"], r["reason"]) for r in rejects] == [(3, "no URL or host field (eurl, url, ehost, host)")]


def test_hex_encoded_login_and_department_read_back(tmp_path: Path) -> None:
    event = {**EVENT, "login": "j%C3%B6rg.de%20vries@gemeente-voorbeeld.nl", "dept": "Burgerzaken%2C%20team%201",
             "ua": "Mozil%ffla/5.0"}  # (the last does not decode to UTF-8: kept as it is)
    events, rejects = parse(tmp_path, "zscaler_json", wrapped(event))
    assert not rejects
    assert events[0]["user_name"] == "jörg.de vries@gemeente-voorbeeld.nl"
    assert events[0]["vendor_department"] == "Burgerzaken, team 1"
    assert events[0]["user_agent"] == "Mozil%ffla/5.0"


OTHER_LOG_TYPES = [  # (sourcetype, the event's fields as Zscaler's references for those log types name them)
    ("zscalernss-fw", {"datetime": "Mon Mar 11 08:02:13 2024", "user": "j.devries@gemeente-voorbeeld.nl",
                       "csip": "10.20.1.15", "cdip": "104.18.32.47", "cdport": "443", "action": "Allow"}),
    ("zscalernss-dns", {"datetime": "Mon Mar 11 08:02:13 2024", "user": "j.devries@gemeente-voorbeeld.nl",
                        "dns_req": "chatgpt.com", "dns_reqtype": "A record", "clt_sip": "10.20.1.15"}),
    ("zscalernss-tunnel", {"datetime": "Mon Mar 11 08:02:13 2024", "Recordtype": "Tunnel Event",
                           "sourceip": "198.51.100.23", "event": "IPsec tunnel is up"}),
    ("zscalernss-audit", {"time": "Mon Mar 11 08:02:13 2024", "action": "SIGN_OUT", "clientip": "10.20.1.15",
                          "adminid": "beheer@gemeente-voorbeeld.nl"}),
    ("zscalernss-saas_security", {"time": "1710144133", "hostname": "gemeente.sharepoint.com",
                                  "user_name": "j.devries@gemeente-voorbeeld.nl"}),
]


@pytest.mark.parametrize(("sourcetype", "event"), OTHER_LOG_TYPES)
def test_other_nss_log_types_are_rejected_as_such(tmp_path: Path, sourcetype: str, event: dict[str, str]) -> None:
    events, rejects = parse(tmp_path, "zscaler_json", json.dumps({"sourcetype": sourcetype, "event": event}))
    assert not events
    assert len(rejects) == 1
    assert f"(sourcetype {sourcetype}), not a web log" in rejects[0]["reason"]
    assert rejects[0]["reason"].startswith("a Zscaler NSS ")


def test_web_lines_beside_other_log_types_keep_their_reading(tmp_path: Path) -> None:
    dns = json.dumps({"sourcetype": "zscalernss-dns", "event": dict(OTHER_LOG_TYPES[1][1])})
    events, rejects = parse(tmp_path, "zscaler_json", wrapped(EVENT), dns, wrapped({**EVENT, "time": "later"}))
    assert [e["line_no"] for e in events] == [1]
    assert [(r["line_no"], r["reason"]) for r in rejects] == [
        (2, "a Zscaler NSS DNS log record (sourcetype zscalernss-dns), not a web log"),
        (3, "time is not a Zscaler NSS time: later")]


def rsa_netwitness(**values: str) -> str:
    """A line of the layout RSA NetWitness's Zscaler NSS parser reads: a syslog-style prefix, then `name=value` items
    separated by `^^`, with the names of the SIEM templates."""
    items = {"time": "Mon Mar 11 08:02:13 2024", "timezone": "GMT", "action": "Allowed", "reason": "Allowed",
             "hostname": "chatgpt.com", "protocol": "HTTPS", "serverip": "104.18.32.47",
             "url": "chatgpt.com/backend-api/conversation", "urlcategory": "AI & ML Applications",
             "urlclass": "Business Use", "ClientIP": "10.20.1.15", "location": "Stadhuis",
             "useragent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "department": "Burgerzaken",
             "user": "j.devries@gemeente-voorbeeld.nl", "clienttranstime": "1904", "requestmethod": "POST",
             "requestsize": "18422", "status": "200", "responsesize": "3120", **values}
    return "<134>Mar 11 08:02:14 nss01 ZSCALERNSS: " + "^^".join(f"{k}={v}" for k, v in items.items())


def test_rsa_netwitness_caret_separated_feed(tmp_path: Path) -> None:
    from detector.ingest import sniff_scores

    lines = [rsa_netwitness(), rsa_netwitness(requestsize="None", time="Mon Mar 11 09:00:00 2024"),
             rsa_netwitness(url="claude.ai/api", hostname="claude.ai", action="Blocked", serverip="0.0.0.0")]
    assert sniff_scores(lines)[0][0] == "zscaler_kv"
    tab_line = kv({**EVENT, "urlsupercat": "Information Technology"})
    events, rejects = parse(tmp_path, "zscaler_kv", lines[0], tab_line, *lines[1:], "no items here ^^ at all")
    assert [(r["line_no"], r["reason"]) for r in rejects] == [
        (5, "expected tab-separated name=value pairs (Zscaler NSS feed)")]
    first, tab, second, third = events
    assert first["ts"].isoformat() == "2024-03-11T08:02:13+00:00"
    assert (first["host"], first["url_path"], first["src_ip"], first["dst_ip"]) == (
        "chatgpt.com", "/backend-api/conversation", "10.20.1.15", "104.18.32.47")
    assert (first["user_name"], first["http_method"], first["http_status"], first["action"]) == (
        "j.devries@gemeente-voorbeeld.nl", "POST", 200, "allowed")
    assert (first["bytes_out"], first["bytes_in"], first["duration_ms"]) == (18422, 3120, 1904)
    assert (first["user_agent"], first["vendor_department"]) == ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
                                                                 "Burgerzaken")
    assert {k: v for k, v in tab.items() if k != "line_no"} == {
        k: v for k, v in parse(tmp_path, "zscaler_kv", tab_line)[0][0].items() if k != "line_no"}
    assert (second["bytes_out"], second["bytes_in"]) == (None, 3120)
    assert (third["host"], third["action"], third["dst_ip"]) == ("claude.ai", "blocked", None)


def test_hex_encoded_location_as_login_is_no_user(tmp_path: Path) -> None:
    # (unauthenticated traffic is logged under its location: elogin and elocation both hex-encode its space)
    event = {**EVENT, "login": "Stadhuis%20Noord", "location": "Stadhuis%20Noord"}
    for key, line in (("zscaler_json", wrapped(event)), ("zscaler_kv", kv({**event, "urlsupercat": "x"}))):
        events, rejects = parse(tmp_path, key, line)
        assert not rejects
        assert events[0].get("user_name") is None


def test_a_json_array_of_events_gives_each_event_a_line(tmp_path: Path) -> None:
    # Cloud NSS's JSON array option: a batch a line, read as its events (json_document), the lines after it too
    events, rejects = parse(tmp_path, "zscaler_json", json.dumps([json.loads(wrapped(EVENT))] * 2), wrapped(EVENT))
    assert [e["line_no"] for e in events] == [1, 2, 3] and not rejects


def test_a_json_array_after_single_events_is_rejected_as_such(tmp_path: Path) -> None:
    from detector.ingest.zscaler import JSON_ARRAY_ERROR

    events, rejects = parse(tmp_path, "zscaler_json", wrapped(EVENT), json.dumps([json.loads(wrapped(EVENT))] * 2))
    assert [e["line_no"] for e in events] == [1]
    assert [(r["line_no"], r["reason"]) for r in rejects] == [(2, JSON_ARRAY_ERROR)]


def test_a_feed_whose_tabs_rsyslog_escaped_as_011_reads_as_the_tab_separated_one(tmp_path: Path) -> None:
    """rsyslog escapes control characters in what it writes by default: a tab becomes `#011`."""
    from detector.ingest import sniff_scores

    tab_line = "<134>Mar 11 08:02:14 nss01 ZSCALERNSS: " + kv({**EVENT, "urlsupercat": "Information Technology"})
    escaped = tab_line.replace("\t", "#011")
    assert "\t" not in escaped and sniff_scores([escaped])[0][0] == "zscaler_kv"
    events, rejects = parse(tmp_path, "zscaler_kv", tab_line, escaped)
    assert not rejects and len(events) == 2
    tab, relayed = ({k: v for k, v in event.items() if k != "line_no"} for event in events)
    assert relayed == tab and tab["host"] == "chatgpt.com" and tab["src_ip"] == "10.20.1.15"


def test_a_feed_without_a_time_field_takes_the_time_of_rsyslogs_rfc3339_prefix(tmp_path: Path) -> None:
    """rsyslog's file format starts each line with an RFC 3339 time, its offset and microseconds: that instant."""
    items = {k: v for k, v in EVENT.items() if k != "time"}
    bsd = "Mar 11 08:02:13 zscaler-nss: " + kv(items)
    rfc3339 = "2024-03-11T08:02:13.123456+01:00 zscaler-nss: " + kv(items)
    events, rejects = parse(tmp_path, "zscaler_kv", bsd, rfc3339)
    assert not rejects and len(events) == 2
    assert events[1]["ts"].isoformat() == "2024-03-11T07:02:13.123456+00:00"
    assert events[1]["host"] == events[0]["host"] == "chatgpt.com"
