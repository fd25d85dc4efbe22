"""Second conformance pass for Suricata EVE, Zscaler NSS web feeds and Unbound: layouts documented by vendors and
SIEM integrations other than Elastic's (lines written here from their documentation, not copied samples)."""

from __future__ import annotations

import json
from pathlib import Path

from detector.ingest import sniff
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
    RFC 5424 one whose message is `event=` and the object; a syslog daemon writes NSS's lines so too."""
    spaced = json.dumps({"sourcetype": "zscalernss-web", "event": template_event()}, separators=(", ", " : "))
    compact = json.dumps({"sourcetype": "zscalernss-web", "event": template_event(action="Blocked", status="403")},
                         separators=(",", ":"))
    lines = [
        f"Mar 04 10:11:12 zscaler-nss NSS {spaced}",
        f"<134>1 2025-03-04T10:11:12Z zscaler-nss NSS - - - event={compact}",
        wrapped(EVENT),
        'Mar 04 10:11:12 host "quoted" {"sourcetype":"zscalernss-web","event":{}}',  # (a quote before: not a header)
    ]
    assert sniff(lines[:2]).name == "zscaler_json"
    events, rejects = parse(tmp_path, "zscaler_json", *lines)
    assert [(e["line_no"], e["host"], e["url_path"], e["src_ip"], e["action"], e["bytes_out"], e["bytes_in"])
            for e in events] == [
        (1, "chat.example.ai", "/api/conversation", "10.0.0.5", "allowed", 500, 1500),
        (2, "chat.example.ai", "/api/conversation", "10.0.0.5", "blocked", 500, 1500),
        (3, "chatgpt.com", "/backend-api/conversation", "10.20.1.15", "allowed", 18422, 3120)]
    assert events[0]["user_name"] == "a.devries@gemeente-voorbeeld.nl"
    assert events[1]["http_status"] == 403
    assert [(r["line_no"], r["reason"]) for r in rejects] == [(4, "not a JSON object")]
