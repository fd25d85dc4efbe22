"""`shadow-ai demo`: the product's figures on a simulated municipality equal the simulator's ground truth."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from detector import db
from detector.cli import cli
from detector.config import load_settings
from detector.demo import DemoError
from detector.demo.simulation import MARKER, read_marker, simulate

LAST_DAY = date(2025, 3, 12)  # a Wednesday: both simulated days are working days
KINDS = ("proxy", "dns", "firewall", "sensor")


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """30 employees, 2 days, through the command as a user runs it (without the dashboard).

    The host model only judges hosts the catalog does not know; every figure checked here is a catalog
    service's, so the model is switched off to keep the test quick and independent of its training.
    """
    home = tmp_path_factory.mktemp("demo") / "gemeente"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("detector.classify.run.load_scorer", lambda settings: None)
        result = CliRunner().invoke(cli, ["demo", "--employees", "30", "--days", "2", "--seed", "11", "--end",
                                          LAST_DAY.isoformat(), "--out", str(home), "--no-dashboard"],
                                    catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "What the product found" in result.output
    yield home


def truth_rows(home: Path) -> list[dict[str, Any]]:
    with (home / "demo-truth" / "usage_daily.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def query(home: Path, sql: str) -> list[tuple[Any, ...]]:
    with db.connect(load_settings(home)) as connection:
        return connection.execute(sql).fetchall()


def test_usage_daily_equals_the_truth_per_department_and_catalog_service(demo_home: Path) -> None:
    """Users, clients, events (as usage_daily counts them: DNS lookups once per client, host and minute),
    each source's count, bytes up and down (the largest per-source total) and blocked requests."""
    numbers = ("users", "clients", "events", "proxy_events", "dns_lookups", "firewall_events", "sensor_events",
               "bytes_out", "bytes_in", "blocked")
    expected = {(r["day"], r["department"], r["service"]): (*(int(r[n]) for n in numbers), r["verdict"])
                for r in truth_rows(demo_home) if r["service"]}
    found = {(str(day), department, service): tuple(rest) for day, department, service, *rest in query(demo_home, """
        select day, department, service, users, clients, events, proxy_events, dns_lookups, firewall_events,
            sensor_events, coalesce(bytes_out, 0)::bigint, coalesce(bytes_in, 0)::bigint, blocked, verdict
        from usage_daily where service is not null""")}
    assert len(expected) > 20
    assert found == expected


def test_ai_events_per_source_kind_equal_the_truth(demo_home: Path) -> None:
    """Every surviving line is one event: each DNS query too, before usage_daily's de-duplication."""
    columns = {"proxy": "proxy_events", "dns": "dns_queries", "firewall": "firewall_events", "sensor": "sensor_events"}
    expected = {(r["day"], r["department"], r["service"], kind): int(r[column])
                for r in truth_rows(demo_home) if r["service"] for kind, column in columns.items() if int(r[column])}
    found = {(str(day), department, service, kind): events for day, department, service, kind, events in query(
        demo_home, "select day, department, service, source_kind, count(*) from ai_events"
                   " where service is not null group by all")}
    assert found == expected
    assert {kind for *_, kind in expected} == set(KINDS)


def test_policy_verdicts_forbidden_service_and_department_exceptions(demo_home: Path) -> None:
    verdicts = dict(((service, department), verdict) for service, department, verdict in query(
        demo_home, "select distinct service, department, verdict from usage_daily where service is not null"))
    assert verdicts[("deepseek", "Burgerzaken")] == "forbidden"
    assert verdicts[("github_copilot", "ICT")] == "sanctioned"
    assert verdicts[("github_copilot", "Ruimte")] == "forbidden"
    assert verdicts[("deepl", "Communicatie")] == "sanctioned"
    assert verdicts[("m365_copilot", "Financiën")] == "sanctioned"
    assert verdicts[("otter", "HR")] == "forbidden"  # the transcription category


def test_every_damaged_line_is_rejected_and_nothing_else(demo_home: Path) -> None:
    summary_files = {Path(f["path"]).name: f for f in read_summary(demo_home)["files"]}
    rejected = dict(query(demo_home, "select regexp_extract(path, '[^/]+$'), count(*) from rejects group by all"))
    segments = {name: (lines, ignored) for name, lines, ignored in query(demo_home, """
        select regexp_extract(path, '[^/]+$'), sum(parsed + rejected + ignored), sum(ignored)
        from ingested_segments group by all""")}
    assert {name: f["damaged"] for name, f in summary_files.items()} == {
        name: rejected.get(name, 0) for name in summary_files}
    assert all(f["damaged"] >= 1 for f in summary_files.values())
    assert {name: (f["lines"], f["ignored"]) for name, f in summary_files.items()} == segments


def read_summary(home: Path) -> dict[str, Any]:
    return json.loads((home / "demo-truth" / "summary.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_events_without_a_user_are_attributed_through_sessions_leases_and_networks(demo_home: Path) -> None:
    attributions = {a for (a,) in query(demo_home, "select distinct attribution from ai_events")}
    assert {"user", "proxy_session", "network"} <= attributions
    if read_summary(demo_home)["dhcp"]:  # only when this version reads the DHCP log the demo then writes
        assert "dhcp" in attributions


def test_the_simulation_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    def digest(home: Path) -> dict[str, str]:
        return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(home.rglob("*")) if p.is_file() and p.name != "summary.json"}

    first = simulate(tmp_path / "a", 24, 1, 5, LAST_DAY)
    second = simulate(tmp_path / "b", 24, 1, 5, LAST_DAY)
    other = simulate(tmp_path / "c", 24, 1, 6, LAST_DAY)
    assert digest(first.home) == digest(second.home)
    assert len(digest(first.home)) >= 10
    changed = {name for name, value in digest(other.home).items() if digest(first.home).get(name) != value}
    assert any(name.startswith("demo-logs/") for name in changed)


def test_a_non_empty_directory_is_refused_unless_it_holds_a_previous_demo(tmp_path: Path) -> None:
    taken = tmp_path / "real"
    taken.mkdir()
    (taken / "users.csv").write_text("user,department\njdevries,ICT\n")
    with pytest.raises(DemoError, match="not empty"):
        simulate(taken, 24, 1, 1, LAST_DAY)
    assert (taken / "users.csv").read_text() == "user,department\njdevries,ICT\n"
    result = CliRunner().invoke(cli, ["demo", "--employees", "24", "--days", "1", "--out", str(taken)])
    assert result.exit_code == 1 and "not empty" in result.output

    previous = tmp_path / "previous"
    simulate(previous, 24, 1, 1, LAST_DAY)
    (previous / "leftover.txt").write_text("from an older demo")
    simulate(previous, 24, 1, 2, LAST_DAY)
    assert read_marker(previous)["seed"] == 2 and (previous / MARKER).is_file()
    assert not (previous / "leftover.txt").exists()


def test_tools_not_in_the_catalog_are_those_the_lake_holds(demo_home: Path) -> None:
    """The summary names every unknown AI tool the simulation sent traffic to, meeting-room devices' included:
    exactly the held-out hosts found among the lake's events (the analyst is told what the model could find)."""
    from detector.demo.services import held_out_services

    held_out = [s.key for s in held_out_services()]
    seen = {host for (host,) in query(demo_home, "select distinct host from events where host is not null")}
    named = read_summary(demo_home)["not_in_catalog"]
    assert named and set(named) <= set(held_out)
    assert set(named) == seen & set(held_out)
