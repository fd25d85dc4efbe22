"""Naming IP-only flows through DNS answers: each flow gets the name its own client resolved; the names are
kept per day and only the days whose inputs changed are named again."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from detector import db
from detector.classify.run import classify
from detector.config import load_settings
from detector.enrich.privacy import prune
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


def test_answers_given_at_the_same_instant_name_a_flow_alike_in_any_order(home: Path, tmp_path: Path) -> None:
    # One client gets two names for the CDN address in the same second, another client the same pair:
    # whichever line comes first, the flow takes the first name in name order (an ASOF join alone takes
    # either, which named flows differently from run to run).
    names = []
    for order, first, second in ((0, "b-site.example", "a-site.example"), (1, "a-site.example", "b-site.example")):
        logs, own_home = tmp_path / f"logs{order}", tmp_path / f"home{order}"
        logs.mkdir()
        write_jsonl(logs / "dns.log", [zeek_dns(T0, "10.0.1.1", first, [CDN]), zeek_dns(T0, "10.0.1.1", second, [CDN]),
                                      zeek_dns(T0, "10.0.1.2", first, [CDN]), zeek_dns(T0, "10.0.1.2", second, [CDN])])
        write_jsonl(logs / "conn.log", [zeek_conn(T0 + 5, "10.0.1.1", CDN), zeek_conn(T0 + 6, "10.0.1.9", CDN)])
        ingest(own_home, [logs / "dns.log", logs / "conn.log"])
        classify(load_settings(own_home))
        names.append([(client, host, certainty) for _, client, host, certainty in flow_names(own_home)])
    assert names[0] == names[1] == [("10.0.1.1", "a-site.example", "same_client"),
                                    ("10.0.1.9", "a-site.example", "any_client")]


# ---- incremental per day -------------------------------------------------------------------------------

DAY1, DAY2, DAY3 = (datetime(2024, 11, day, tzinfo=UTC).timestamp() for day in (26, 27, 28))


def day_logs(folder: Path, start: float, client: str, *, late_answer: bool = False) -> list[Path]:
    """One day's DNS and conn logs: a lookup at 09:00 and a flow to its address at 09:05; with
    `late_answer`, also a lookup at 23:50 whose address the next day's 00:10 flow goes to."""
    folder.mkdir(parents=True)
    answers = [zeek_dns(start + 9 * 3600, client, "chatgpt.com", [CDN])]
    flows = [zeek_conn(start + 9 * 3600 + 300, client, CDN)]
    if late_answer:
        answers.append(zeek_dns(start + 23 * 3600 + 50 * 60, client, "claude.ai", ["160.79.104.10"]))
    # the flow just after this day's midnight: named only by the day before's late answer
    flows.insert(0, zeek_conn(start + 10 * 60, client, "160.79.104.10"))
    write_jsonl(folder / "dns.log", answers)
    write_jsonl(folder / "conn.log", flows)
    return [folder / "dns.log", folder / "conn.log"]


def flow_names(home: Path) -> list[tuple[object, ...]]:
    with db.connect(load_settings(home)) as connection:
        return connection.execute(
            "select e.ts, e.src_ip, f.host, f.certainty from flow_names as f"
            " join events as e using (file_id, line_no) order by all").fetchall()


def full_recompute(home: Path, tmp_path: Path) -> list[tuple[object, ...]]:
    """The flow names of a copy of `home` classified without any stored names."""
    copy = tmp_path / "full-copy"
    shutil.copytree(home, copy)
    shutil.rmtree(load_settings(copy).flow_names)
    report = classify(load_settings(copy))
    assert report.flow_days_kept == 0
    return flow_names(copy)


def ingest(home: Path, paths: list[Path]) -> None:
    reports = list(ingest_paths(load_settings(home), [str(p) for p in paths]))
    assert all(r.parsed for r in reports), reports


def test_a_new_day_names_only_itself_and_the_day_after_it_reaches(home: Path, tmp_path: Path) -> None:
    ingest(home, day_logs(tmp_path / "d1", DAY1, "10.0.2.1") + day_logs(tmp_path / "d3", DAY3, "10.0.2.1"))
    first = classify(load_settings(home))
    assert (first.flow_days_named, first.flow_days_kept) == (2, 0)
    assert classify(load_settings(home)).flow_days_named == 0  # nothing new: nothing named again

    # late logs of the day in between: its 23:50 answer names day 3's 00:10 flow
    ingest(home, day_logs(tmp_path / "d2", DAY2, "10.0.2.1", late_answer=True))
    second = classify(load_settings(home))
    assert (second.flow_days_named, second.flow_days_kept) == (2, 1)  # days 2 and 3; day 1 kept
    named = flow_names(home)
    just_after_midnight = datetime.fromtimestamp(DAY3 + 600, UTC)
    assert [(host, certainty) for ts, _, host, certainty in named if ts == just_after_midnight] == [
        ("claude.ai", "same_client")]
    assert len(named) == 4  # each day's 09:05 flow, and day 3's 00:10 flow
    assert named == full_recompute(home, tmp_path)


def test_a_changed_window_names_every_day_again(home: Path, tmp_path: Path) -> None:
    ingest(home, day_logs(tmp_path / "d1", DAY1, "10.0.2.1") + day_logs(tmp_path / "d2", DAY2, "10.0.2.1"))
    classify(load_settings(home))
    before = flow_names(home)
    config = home / "shadow-ai.toml"
    config.write_text(config.read_text().replace("dns_answer_window_minutes = 60", "dns_answer_window_minutes = 4"))
    report = classify(load_settings(home))
    assert (report.flow_days_named, report.flow_days_kept) == (2, 0)
    assert len(before) == 2 and flow_names(home) == []  # 5 minutes after the answer: outside a 4-minute window


def test_a_pruned_day_drops_its_names_and_names_the_day_after_again(home: Path, tmp_path: Path) -> None:
    ingest(home, day_logs(tmp_path / "d1", DAY1, "10.0.2.1", late_answer=True)
           + day_logs(tmp_path / "d2", DAY2, "10.0.2.1") + day_logs(tmp_path / "d3", DAY3, "10.0.2.1"))
    classify(load_settings(home))
    assert len(flow_names(home)) == 4  # day 2's 00:10 flow named by day 1's late answer
    keep_from = datetime.fromtimestamp(DAY2, UTC).date()
    pruned = prune(load_settings(home), (datetime.now(UTC).date() - keep_from).days)
    assert pruned.partitions == 1  # day 1's (Zeek's dns and conn logs are both of source kind sensor)
    report = classify(load_settings(home))
    assert (report.flow_days_named, report.flow_days_kept) == (1, 1)  # day 2 (its answers changed); day 3 kept
    named = flow_names(home)
    assert len(named) == 2 and all(ts.date() >= keep_from for ts, *_ in named)
    assert sorted(p.name for p in load_settings(home).flow_names.glob("day=*")) == [
        "day=2024-11-27.parquet", "day=2024-11-28.parquet"]
    assert named == full_recompute(home, tmp_path)
