"""Naming IP-only flows through DNS answers: each flow gets the name its own client resolved."""

from __future__ import annotations

import json
from pathlib import Path

from detector import db
from detector.classify.run import classify
from detector.config import load_settings
from detector.ingest.pipeline import ingest_paths

T0 = 1732780800.0  # 2024-11-28 08:00:00 UTC
CDN = "104.18.32.47"  # one CDN address that serves several sites


def zeek_dns(ts: float, client: str, query: str, answers: list[str]) -> dict[str, object]:
    return {"ts": ts, "uid": f"D{int(ts)}{client[-1]}", "id.orig_h": client, "id.orig_p": 50000, "id.resp_h": "10.0.0.53",
            "id.resp_p": 53, "proto": "udp", "query": query, "qtype_name": "A", "rcode_name": "NOERROR",
            "trans_id": 4242, "AA": False, "TC": False, "RD": True, "RA": True, "Z": 0, "answers": answers,
            "TTLs": [300.0] * len(answers), "rejected": False}


def zeek_conn(ts: float, client: str, server: str) -> dict[str, object]:
    return {"ts": ts, "uid": f"C{int(ts)}{client[-1]}", "id.orig_h": client, "id.orig_p": 51000, "id.resp_h": server,
            "id.resp_p": 443, "proto": "tcp", "service": "ssl", "duration": 30.0, "orig_bytes": 2000,
            "resp_bytes": 9000, "conn_state": "SF"}


def write_jsonl(path: Path, records: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_each_flow_is_named_after_its_own_clients_answer(home: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_jsonl(logs / "dns.log", [
        zeek_dns(T0, "10.0.1.1", "chatgpt.com", [CDN]),
        zeek_dns(T0 + 1, "10.0.1.2", "www.example-news.nl", ["cdn.example.net", CDN]),  # CNAME, then address
        zeek_dns(T0 + 2, "10.0.1.3", "claude.ai", ["160.79.104.10"]),
    ])
    write_jsonl(logs / "conn.log", [
        zeek_conn(T0 + 10, "10.0.1.1", CDN),             # -> chatgpt.com (its own answer)
        zeek_conn(T0 + 11, "10.0.1.2", CDN),             # -> www.example-news.nl, not chatgpt.com
        zeek_conn(T0 + 12, "10.0.1.9", CDN),             # no own answer: another client's, less certain
        zeek_conn(T0 + 13, "10.0.1.3", "198.51.100.7"),  # nobody resolved it: stays unnamed
        zeek_conn(T0 + 7200, "10.0.1.1", CDN),           # answer older than the 1 h window: unnamed
    ])
    reports = list(ingest_paths(load_settings(home), [str(logs)]))
    assert [r.format for r in reports] == ["zeek_conn", "zeek_dns"], reports
    classify(load_settings(home))
    with db.connect(load_settings(home)) as connection:
        flows = connection.sql(
            "select src_ip, dst_ip, host, host_source, host_certainty from events"
            " where log_format = 'zeek_conn' order by ts"
        ).to_arrow_table().to_pylist()
    named = [(f["src_ip"], f["host"], f["host_source"], f["host_certainty"]) for f in flows]
    assert named == [
        ("10.0.1.1", "chatgpt.com", "dns_answer", "same_client"),
        ("10.0.1.2", "www.example-news.nl", "dns_answer", "same_client"),
        ("10.0.1.9", "www.example-news.nl", "dns_answer", "any_client"),
        ("10.0.1.3", None, "none", None),
        ("10.0.1.1", None, "none", None),
    ]
    with db.connect(load_settings(home)) as connection:
        ai = connection.execute("select count(*) from ai_events where log_format = 'zeek_conn'").fetchone()[0]
    assert ai == 1  # only the flow named chatgpt.com is AI traffic
