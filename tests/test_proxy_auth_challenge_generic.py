"""The generic CEF/LEEF, CSV and JSON formats follow the 407 rule of the proxy formats (test_proxy_auth_challenge.py):
a 407 (Proxy Authentication Required) is the proxy asking for credentials, which the client then sends (RFC 9110
section 15.5.8, https://www.rfc-editor.org/rfc/rfc9110#section-15.5.8), so its action is `unknown` whatever the
vendor's action field says (TCP_DENIED, Blocked, denied); a refusal (403) stays blocked, a 200 allowed.

Test lines are written from the documented layouts, with our own values:
- Zscaler NSS web log feed in CEF and LEEF (https://help.zscaler.com/zia/nss-feed-output-format-web-logs): the
  response code is `outcome=%s{respcode}`, the action `act=%s{action}` (CEF) / `action=` (LEEF);
- ArcSight CEF's custom number fields with their labels (Micro Focus "Implementing ArcSight Common Event Format",
  cn1/cn1Label, https://www.microfocus.com/documentation/arcsight/arcsight-smartconnectors/pdfdoc/cef-implementation-standard/cef-implementation-standard.pdf):
  a device that labels its status `Response Code`;
- Forcepoint Web Security's LEEF (IBM QRadar DSM guide, Forcepoint V-Series Content Gateway sample event messages,
  https://www.ibm.com/docs/SS42VS_DSM/com.ibm.dsm.doc/c_dsm_guide_Forcepoint_CG_sample_event_msg.html): the event ID
  `transaction:blocked`, the proxy's status to the client `proxyStatus-code`, the server's `serverStatus-code`;
- McAfee Web Gateway's LEEF log handler, its status in `httpStatus`;
- a CSV export with the columns csv_generic's aliases name (status, action), and JSON in the Elastic Common Schema
  (https://www.elastic.co/guide/en/ecs/current/ecs-http.html `http.response.status_code`,
  https://www.elastic.co/guide/en/ecs/current/ecs-event.html `event.action`, `event.type` `denied`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from detector.ingest.auth_challenge import unknown_where_challenged
from tests.golden import parse_lines


def parse(tmp_path: Path, key: str, *lines: str) -> list[dict]:
    events, rejects, report = parse_lines(tmp_path / f"{key}.log", key, lines)
    assert report.lines == len(lines) == report.parsed + report.rejected + report.ignored
    assert rejects.num_rows == 0, rejects.to_pylist()
    return sorted(events.to_pylist(), key=lambda e: e["line_no"])


def outcomes(events: list[dict]) -> list[tuple[object, object, object]]:
    return [(e["host"], e["http_status"], e["action"]) for e in events]


def zscaler_cef(action: str, status: str, host: str) -> str:
    return (f"CEF:0|Zscaler|NSSWeblog|5.7|{action}|None|3|act={action} app=HTTPS cat=Generative AI dhost={host} "
            f"dst=198.51.100.7 src=10.30.1.5 in=512 outcome={status} out=310 request={host}/api rt=Nov 30 2026 "
            f"08:10:00 requestMethod=CONNECT suser=e.jansen@gemeente.example")


def test_zscaler_cef_challenge_is_unknown_refusal_blocked(tmp_path: Path) -> None:
    events = parse(tmp_path, "cef", zscaler_cef("Blocked", "407", "chat.example-ai.com"),
                   zscaler_cef("Allowed", "200", "chat.example-ai.com"),
                   zscaler_cef("Blocked", "403", "deep.example-ai.com"))
    assert outcomes(events) == [("chat.example-ai.com", 407, "unknown"), ("chat.example-ai.com", 200, "allowed"),
                                ("deep.example-ai.com", 403, "blocked")]


def labelled_cef(result: str, status: str, host: str) -> str:
    return (f"<14>Nov 30 08:11:00 gw01 CEF:0|Example|WebProxy|2.1|100|request|3|rt=1795939860000 src=10.30.2.8 "
            f"dhost={host} requestMethod=GET request=http://{host}/ act={result} cn1Label=Response Code "
            f"cn1={status}")


def test_cef_labelled_status_challenge_is_unknown(tmp_path: Path) -> None:
    events = parse(tmp_path, "cef", labelled_cef("TCP_DENIED", "407", "write.example-ai.com"),
                   labelled_cef("TCP_DENIED", "403", "write.example-ai.com"),
                   labelled_cef("TCP_MISS", "200", "write.example-ai.com"))
    assert [e["action"] for e in events] == ["unknown", "blocked", "allowed"]
    assert [e["http_status"] for e in events] == [407, 403, 200]


def test_cef_without_status_keeps_its_action(tmp_path: Path) -> None:
    """Forcepoint's CEF has no status key (its cn1 is a disposition code): a block stays a block."""
    line = ("CEF:0|Forcepoint|Security|8.5|1025|Transaction blocked|7|act=blocked app=https dvc=10.0.0.2 "
            "dst=198.51.100.9 dhost=chat.example-ai.com src=10.30.3.3 rt=1795939900000 requestMethod=CONNECT "
            "cn1Label=DispositionCode cn1=1025 request=https://chat.example-ai.com/")
    assert outcomes(parse(tmp_path, "cef", line)) == [("chat.example-ai.com", None, "blocked")]


def forcepoint_leef(event: str, proxy_status: str, host: str) -> str:
    fields = ["sev=7", "cat=1504", "usrName=p.devries", "loginID=p.devries", "src=10.30.4.4", "srcPort=50122",
              "srcBytes=0", "dstBytes=0", "dst=198.51.100.11", "dstPort=443", f"proxyStatus-code={proxy_status}",
              "serverStatus-code=0", "duration=3", "method=CONNECT", "disposition=1026", "devTime=1795939960000",
              f"url=https://{host}/"]
    return f"LEEF:1.0|Forcepoint|Security|8.5.4|transaction:{event}|" + "\t".join(fields)


def test_forcepoint_leef_proxy_status(tmp_path: Path) -> None:
    events = parse(tmp_path, "leef", forcepoint_leef("blocked", "407", "chat.example-ai.com"),
                   forcepoint_leef("blocked", "403", "chat.example-ai.com"),
                   forcepoint_leef("permitted", "200", "chat.example-ai.com"))
    assert [(e["http_status"], e["action"]) for e in events] == [(407, "unknown"), (403, "blocked"),
                                                                 (200, "allowed")]


def test_zscaler_and_mwg_leef_status(tmp_path: Path) -> None:
    zscaler = "\t".join(["LEEF:1.0|Zscaler|NSS|4.1|Blocked|cat=Generative AI", "devTime=Nov 30 2026 08:13:00",
                         "src=10.30.5.5", "usrName=k.bakker", "action=Blocked", "url=chat.example-ai.com/c",
                         "outcome=407"])
    mwg = "\t".join(["LEEF:1.0|McAfee|Web Gateway|11.2|0|devTime=1795940000000", "src=10.30.5.6",
                     "usrName=k.bakker", "httpStatus=407", "action=blocked", "url=https://code.example-ai.com/"])
    refused = mwg.replace("httpStatus=407", "httpStatus=403")
    events = parse(tmp_path, "leef", zscaler, mwg, refused)
    assert outcomes(events) == [("chat.example-ai.com", 407, "unknown"), ("code.example-ai.com", 407, "unknown"),
                                ("code.example-ai.com", 403, "blocked")]


def test_csv_export_challenge_is_unknown(tmp_path: Path) -> None:
    events = parse(tmp_path, "csv", "timestamp,src_ip,user,url,method,status,action",
                   "2026-11-30T08:20:00Z,10.30.6.1,-,chat.example-ai.com:443,CONNECT,407,TCP_DENIED",
                   "2026-11-30T08:20:01Z,10.30.6.1,m.visser,chat.example-ai.com:443,CONNECT,200,allowed",
                   "2026-11-30T08:20:02Z,10.30.6.2,m.visser,deep.example-ai.com:443,CONNECT,403,TCP_DENIED",
                   "2026-11-30T08:20:03Z,10.30.6.3,-,http://translate.example-ai.com/,GET,407,denied")
    assert outcomes(events) == [("chat.example-ai.com", 407, "unknown"), ("chat.example-ai.com", 200, "allowed"),
                                ("deep.example-ai.com", 403, "blocked"), ("translate.example-ai.com", 407, "unknown")]


def ecs(status: int, action: str, event_type: list[str], host: str) -> str:
    return json.dumps({"@timestamp": "2026-11-30T08:30:00Z", "source": {"ip": "10.30.7.7"},
                       "url": {"domain": host, "full": f"https://{host}/"}, "http": {"response": {"status_code": status}},
                       "event": {"action": action, "type": event_type}})


def test_ecs_json_challenge_is_unknown_even_with_event_type_denied(tmp_path: Path) -> None:
    events = parse(tmp_path, "json", ecs(407, "TCP_DENIED", ["connection", "denied"], "chat.example-ai.com"),
                   ecs(407, "proxy-request", ["denied"], "chat.example-ai.com"),
                   ecs(403, "TCP_DENIED", ["connection", "denied"], "deep.example-ai.com"),
                   ecs(200, "TCP_MISS", ["allowed"], "chat.example-ai.com"))
    assert [(e["http_status"], e["action"]) for e in events] == [(407, "unknown"), (407, "unknown"),
                                                                 (403, "blocked"), (200, "allowed")]


def test_unknown_where_challenged_keeps_type_and_untouched_rows() -> None:
    action = pa.array(["blocked", "allowed", "blocked", None]).dictionary_encode()
    status = pa.array([407, 407, 403, 407], pa.int32())
    result = unknown_where_challenged(action, status)
    assert result.type == action.type
    assert result.to_pylist() == ["unknown", "unknown", "blocked", "unknown"]
    assert unknown_where_challenged(action, pa.array([200, None, 403, 401], pa.int32())) is action


def test_401_with_tcp_denied_is_the_proxys_challenge(tmp_path: Path) -> None:
    """A proxy authenticating transparently answers 401 itself, logged `401 TCP_DENIED` (Symantec KB 167686,
    https://knowledge.broadcom.com/external/article/167686), as w3c.py reads it; a 401 with another action (the
    server's own, passed through) keeps its action."""
    cef = parse(tmp_path, "cef", labelled_cef("TCP_DENIED", "401", "write.example-ai.com"),
                labelled_cef("TCP_NC_MISS", "401", "write.example-ai.com"))
    assert [(e["http_status"], e["action"]) for e in cef] == [(401, "unknown"), (401, "allowed")]
    csv = parse(tmp_path, "csv", "timestamp,src_ip,url,method,status,action",
                "2026-11-30T08:50:00Z,10.30.8.1,http://translate.example-ai.com/,GET,401,TCP_DENIED",
                "2026-11-30T08:50:01Z,10.30.8.1,http://translate.example-ai.com/,GET,401,denied")
    assert [(e["http_status"], e["action"]) for e in csv] == [(401, "unknown"), (401, "blocked")]
    json_events = parse(tmp_path, "json", ecs(401, "TCP_DENIED", ["denied"], "chat.example-ai.com"),
                        ecs(401, "denied", ["denied"], "chat.example-ai.com"))
    assert [(e["http_status"], e["action"]) for e in json_events] == [(401, "unknown"), (401, "blocked")]
