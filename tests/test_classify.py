"""`shadow-ai classify`'s tables built from one pass over the lake: proxy sessions (split only where the
user was silent longer than the gap, across stretch and day boundaries), the people seen per day, and
readers of the catalog database alone (the dashboard) never opening the lake files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from detector import db
from detector.classify.run import classify
from detector.config import load_settings
from detector.ingest.pipeline import ingest_paths

CLIENT = "10.0.5.5"


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def squid(when: str, user: str, url: str, method: str = "GET") -> str:
    return f"{at(when):.3f}     90 {CLIENT} TCP_MISS/200 1500 {method} {url} {user} HIER_DIRECT/192.0.2.10 text/html\n"


def write_lake(home: Path, tmp_path: Path) -> None:
    """anna at one address: 23:20, 23:40, 00:05 (next day) and, after 45 silent minutes, 00:50; at 00:15
    the same address reaches chatgpt.com without a user name."""
    log = tmp_path / "logs" / "access.log"
    log.parent.mkdir()
    log.write_text("".join([
        squid("2024-11-28 23:20:00", "anna", "http://www.example.nl/a"),
        squid("2024-11-28 23:40:00", "anna", "http://www.example.nl/b"),
        squid("2024-11-29 00:05:00", "anna", "http://www.example.nl/c"),
        squid("2024-11-29 00:15:00", "-", "https://chatgpt.com/backend-api/conversation", "POST"),
        squid("2024-11-29 00:50:00", "anna", "http://www.example.nl/d"),
    ]))
    reports = list(ingest_paths(load_settings(home), [str(log.parent)]))
    assert [r.format for r in reports] == ["squid"], reports


def test_sessions_split_only_where_the_user_was_silent_longer_than_the_gap(home: Path, tmp_path: Path) -> None:
    write_lake(home, tmp_path)
    report = classify(load_settings(home))
    assert {"client_stretches", "proxy_sessions", "ai_events"} <= set(report.steps)
    with db.connect(load_settings(home)) as connection:
        anna = connection.execute("select distinct user_name from events where user_name is not null").fetchall()
        sessions = connection.execute(
            "select user_id, starts, ends, events from proxy_sessions order by starts").fetchall()
        attributed = connection.execute("select user_id, attribution from ai_events").fetchall()
    assert len(anna) == 1
    user = anna[0][0]
    # 30-minute gap, 15-minute window each side (the defaults); 23:40 -> 00:05 crosses midnight
    assert [(u, s.astimezone(UTC).strftime("%d %H:%M"), e.astimezone(UTC).strftime("%d %H:%M"), n)
            for u, s, e, n in sessions] == [
        (user, "28 23:05", "29 00:20", 3),
        (user, "29 00:35", "29 01:05", 1),
    ]
    assert attributed == [(user, "proxy_session")]


def test_people_seen_per_day_only_without_a_users_file(home: Path, tmp_path: Path) -> None:
    write_lake(home, tmp_path)
    classify(load_settings(home))
    with db.connect(load_settings(home)) as connection:
        user = connection.execute("select distinct user_name from events where user_name is not null").fetchone()[0]
        people = connection.execute("select day, person from people_daily order by day, person").fetchall()
    by_day: dict[date, set[str]] = {}
    for day, person in people:
        by_day.setdefault(day, set()).add(person)
    assert set(by_day) == {date(2024, 11, 28), date(2024, 11, 29)}
    assert by_day[date(2024, 11, 28)] == {user}
    anonymous = by_day[date(2024, 11, 29)] - {user}
    assert len(anonymous) == 1 and next(iter(anonymous)).startswith("c-")  # the address, hashed
    assert all(CLIENT not in person for _, person in people)

    (home / "users.csv").write_text("user,department\nanna,ICT\n")
    classify(load_settings(home))
    with db.connect(load_settings(home)) as connection:
        assert connection.execute("select count(*) from people_daily").fetchone()[0] == 0


def test_the_catalog_alone_answers_without_opening_the_lake(home: Path, tmp_path: Path) -> None:
    write_lake(home, tmp_path)
    settings = load_settings(home)
    classify(settings)
    with db.connect(settings) as connection:
        usage = connection.execute("select sum(events) from usage_daily").fetchone()
    assert usage == (1,)
    settings.lake.rename(tmp_path / "lake-moved")  # not one lake file left to read
    with db.connect(settings, lake=False) as connection:
        assert connection.execute("select sum(events) from usage_daily").fetchone() == usage
        views = {row[0] for row in connection.execute("select view_name from duckdb_views()").fetchall()}
    assert "lake_events" not in views and "ai_events" not in views


def test_each_host_with_its_first_and_last_event_events_and_clients(home: Path, tmp_path: Path) -> None:
    write_lake(home, tmp_path)
    log = tmp_path / "more" / "access.log"
    log.parent.mkdir()
    # anna from a second address, and a third address without a user name
    log.write_text(squid("2024-11-29 09:00:00", "anna", "http://www.example.nl/e").replace(CLIENT, "10.0.5.6")
                   + squid("2024-11-29 09:10:00", "-", "http://www.example.nl/f").replace(CLIENT, "10.0.5.7"))
    assert [r.parsed for r in ingest_paths(load_settings(home), [str(log)])] == [2]
    classify(load_settings(home))
    with db.connect(load_settings(home)) as connection:
        hosts = connection.execute(
            "select host, first_seen, last_seen, events, clients from hosts order by host").fetchall()
    when = [(host, first.astimezone(UTC).strftime("%d %H:%M"), last.astimezone(UTC).strftime("%d %H:%M"), events,
             clients) for host, first, last, events, clients in hosts]
    # clients: anna (a user counts once, whatever her address) and the address that logged no user
    assert when == [("chatgpt.com", "29 00:15", "29 00:15", 1, 1), ("www.example.nl", "28 23:20", "29 09:10", 6, 2)]


@pytest.mark.parametrize("step", ["host_traffic", "client_tables"])
def test_a_failing_step_fails_classify_and_keeps_the_previous_catalog_database(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    """Judging runs in a thread that waits for the traffic read (host_traffic) on the main one, and the
    client tables on a cursor of their own: a failure on either side must end classify with that error,
    not hang it, and leave the previous catalog database as it was."""
    from detector.classify import run

    write_lake(home, tmp_path)
    settings = load_settings(home)
    classify(settings)
    before = settings.database.read_bytes()

    def broken(*args: object) -> None:
        raise RuntimeError(f"{step} failed")

    with monkeypatch.context() as patch:
        patch.setattr(run, step, broken)
        with pytest.raises(RuntimeError, match=f"{step} failed"):
            classify(settings)
    assert settings.database.read_bytes() == before
    assert classify(settings).hosts == 2


def test_judgements_follow_the_traffic_tables_host_order_and_judge_a_host_the_list_lacked() -> None:
    from detector.classify.hosts import judge_hosts
    from detector.classify.run import Inputs, in_order_of
    from detector.enrich.policy import Policy
    from detector.signatures import load_catalog

    catalog = load_catalog()
    inputs = Inputs(catalog, Policy(), {}, None)
    seen = ["chatgpt.com", "www.example.nl"]
    judged = judge_hosts(seen, catalog, {})
    reordered = in_order_of(judged, seen, pa.chunked_array([["www.example.nl", "chatgpt.com"]]), inputs, None)
    assert reordered.column("host").to_pylist() == ["www.example.nl", "chatgpt.com"]
    assert reordered.column("is_ai").to_pylist() == [False, True]
    grown = in_order_of(judged, seen, pa.chunked_array([["claude.ai", "www.example.nl"]]), inputs, None)
    assert grown.column("host").to_pylist() == ["claude.ai", "www.example.nl"]
    assert grown.column("is_ai").to_pylist() == [True, False]
