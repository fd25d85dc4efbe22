"""Second conformance pass for Suricata EVE, Zscaler NSS web feeds and Unbound: layouts documented by vendors and
SIEM integrations other than Elastic's (lines written here from their documentation, not copied samples)."""

from __future__ import annotations

import json
from pathlib import Path

from detector.ingest import FORMATS, sniff
from detector.ingest.pipeline import parse_file
from tests.golden import golden_settings
from tests.test_ingest_zscaler import EVENT, parse, wrapped


def template_event(**values: str) -> dict[str, str]:
    """A web event with the keys of the JSON feed template SIEM integrations document for NSS (Splunk's, whose keys
    Sekoia's documented format reuses): `datetime`, `ClientIP`, `url`, `hostname`, `requestsize` ..."""
    return {"datetime": "2025-03-04 10:11:12", "reason": "Allowed", "event_id": "7001", "protocol": "HTTPS",
            "action": "Allowed", "transactionsize": "2000", "responsesize": "1500", "requestsize": "500",
            "urlcategory": "Generative AI", "serverip": "203.0.113.9", "requestmethod": "POST",
            "refererURL": "None", "useragent": "Mozilla/5.0", "product": "NSS", "location": "Stadhuis",
            "ClientIP": "10.0.0.5", "status": "200", "user": "a.devries@gemeente-voorbeeld.nl",
            "url": "chat.example.ai/api/conversation", "vendor": "Zscaler", "hostname": "chat.example.ai", **values}


def test_nss_json_behind_a_syslog_header_is_recognised_and_read(tmp_path: Path) -> None:
    """Sekoia's documented NSS feed formats put the JSON object behind an RFC 3164 header
    (`%s{mon} %02d{dd} %02d{hh}:%02d{mm}:%02d{ss} zscaler-nss NSS \\{"sourcetype" : "zscalernss-web", ...`) or an
    RFC 5424 one whose message is `event=` and the object; a syslog daemon writes NSS's lines so too (an RFC 5424
    header's structured data may hold quotes)."""
    spaced = json.dumps({"sourcetype": "zscalernss-web", "event": template_event()}, separators=(", ", " : "))
    compact = json.dumps({"sourcetype": "zscalernss-web", "event": template_event(action="Blocked", status="403")},
                         separators=(",", ":"))
    lines = [
        f"Mar 04 10:11:12 zscaler-nss NSS {spaced}",
        f"<134>1 2025-03-04T10:11:12Z zscaler-nss NSS - - - event={compact}",
        wrapped(EVENT),
        'Mar 04 10:11:12 host "quoted" {"sourcetype":"zscalernss-web","event":{}}',  # (a quote before: not a header)
        f'<134>1 2025-03-04T10:11:12Z relay zscaler-nss - - [meta sequenceId="7" note="a\\]b\\"c"] {compact}',
    ]
    assert sniff(lines[:2]).name == "zscaler_json"
    assert sniff(lines[-1:]).name == "zscaler_json"
    events, rejects = parse(tmp_path, "zscaler_json", *lines)
    assert [(e["line_no"], e["host"], e["url_path"], e["src_ip"], e["action"], e["bytes_out"], e["bytes_in"])
            for e in events] == [
        (1, "chat.example.ai", "/api/conversation", "10.0.0.5", "allowed", 500, 1500),
        (2, "chat.example.ai", "/api/conversation", "10.0.0.5", "blocked", 500, 1500),
        (3, "chatgpt.com", "/backend-api/conversation", "10.20.1.15", "allowed", 18422, 3120),
        (5, "chat.example.ai", "/api/conversation", "10.0.0.5", "blocked", 500, 1500)]
    assert events[0]["user_name"] == "a.devries@gemeente-voorbeeld.nl"
    assert events[1]["http_status"] == 403
    assert [(r["line_no"], r["reason"]) for r in rejects] == [(4, "not a JSON object")]


def test_unbound_rpz_log_lines_give_the_policy_decision(tmp_path: Path) -> None:
    """`rpz-log: yes` (Unbound's services/rpz.c, log_rpz_apply): `info: rpz: applied [LOG-NAME] [TRIGGER] NAME ACTION
    CLIENT@PORT QNAME TYPE CLASS`. Such a line answers the query line before it (as a local action does): a policy
    that answers for the name (rpz-nxdomain, rpz-nodata, rpz-drop, rpz-local-data, rpz-cname-override) blocks it,
    rpz-passthru lets it through; the reply after it (NXDOMAIN, made by the policy) no longer hides the block. A line
    without a client (Unbound's own lookups) pairs with nothing and is ignored."""
    head = "<30>Mar  4 10:11:12 resolver unbound[2201]: [2201:0] info:"
    lines = [
        f"{head} 10.20.1.15 chat.example.ai. A IN",
        f"{head} rpz: applied [ai-policy] *.example.ai. rpz-nxdomain 10.20.1.15@53124 chat.example.ai. A IN",
        f"{head} 10.20.1.15 chat.example.ai. A IN NXDOMAIN 0.000000 0 44",
        f"{head} rpz: applied gemini.example. rpz-local-data 10.20.1.16@40000 gemini.example. AAAA IN",
        f"{head} rpz: applied [policy zone] clientip 10.20.1.17/32 rpz-passthru 10.20.1.17@40001 www.example.org. A IN",
        f"{head} rpz: applied example.net. rpz-nxdomain  example.net. A IN",
        "[1709550000] unbound[2201:0] info: rpz: applied bad.example. rpz-drop 192.0.2.7@5353 bad.example. HTTPS IN",
        f"{head} 10.20.1.18 plain.example. A IN NXDOMAIN 0.001000 0 44",
    ]
    events, rejects = parse(tmp_path, "unbound", *lines)
    assert not rejects
    assert [(e["line_no"], e["src_ip"], e["host"], e["dns_qtype"], e["action"]) for e in events] == [
        (1, "10.20.1.15", "chat.example.ai", "A", "blocked"),
        (4, "10.20.1.16", "gemini.example", "AAAA", "blocked"),
        (5, "10.20.1.17", "www.example.org", "A", "allowed"),
        (7, "192.0.2.7", "bad.example", "HTTPS", "blocked"),
        (8, "10.20.1.18", "plain.example", "A", "allowed")]
    assert events[0]["dns_rcode"] == "NXDOMAIN"  # (the reply's, joined to the query as before)


def test_name_value_feed_whose_time_is_only_its_date_field_prefix(tmp_path: Path) -> None:
    """NSS's Date/Time fields (%s{mon}, %02d{dd}, %02d{hh}, %02d{mm}, %02d{ss}, %04d{yyyy}, %02d{mth}) may make up a
    feed's only time, as a prefix: SIEM templates begin `%s{mon} %02d{dd} %02d{hh}:%02d{mm}:%02d{ss} zscaler-nss: `
    before their name=value items. Such lines were rejected ('no time field'); the prefix is now read where a line
    has no time, datetime or epochtime, in the feed's zone (here tz=GMT says UTC), a year-less one placed no later
    than the file's date. A line with a time field keeps it."""
    items = "\t".join(f"{k}={v}" for k, v in {
        "reason": "Allowed", "event_id": "7001", "protocol": "HTTPS", "action": "Allowed", "requestsize": "500",
        "responsesize": "1500", "urlcategory": "Generative AI", "serverip": "203.0.113.9", "requestmethod": "POST",
        "ClientIP": "10.0.0.5", "status": "200", "user": "a.devries@gemeente-voorbeeld.nl",
        "url": "chat.example.ai/api/conversation", "hostname": "chat.example.ai", "tz": "GMT"}.items())
    lines = [
        f"Mar 04 10:11:12 zscaler-nss: {items}",
        f"<134>Dec 31 23:59:58 zscaler-nss: {items}",
        f"2025-03-05 08:00:00\t{items}",
        f"Mar 04 10:11:12 zscaler-nss: time=Mon Mar 03 09:00:00 2025\t{items}",
        f"zscaler-nss: {items}",
    ]
    path = tmp_path / "nss-web-20250310.log"  # (the file's date: the reference for year-less times)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["zscaler_kv"], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    assert [(e["line_no"], e["ts"].isoformat(), e["host"], e["bytes_out"]) for e in events.to_pylist()] == [
        (1, "2025-03-04T10:11:12+00:00", "chat.example.ai", 500),
        (2, "2024-12-31T23:59:58+00:00", "chat.example.ai", 500),
        (3, "2025-03-05T08:00:00+00:00", "chat.example.ai", 500),
        (4, "2025-03-03T09:00:00+00:00", "chat.example.ai", 500)]
    assert [(r["line_no"], r["reason"]) for r in rejects.to_pylist()] == [
        (5, "no time field (time, datetime or epochtime)")]
