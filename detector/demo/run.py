"""The demo end to end: simulate into a fresh data directory, ingest every log, classify, and summarise
what the product found (from its own views, next to what the simulation knows it wrote).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from detector.config import Settings, load_settings
from detector.demo import DemoError
from detector.demo.simulation import Simulation, simulate
from detector.ingest.pipeline import FileReport


@dataclass
class Found:
    """What the product found, for the summary the command prints."""

    employees: int = 0
    ai_users: int = 0  # people using catalog services (the model's finds are counted apart: model_hosts)
    top_services: list[dict[str, Any]] = field(default_factory=list)
    departments: list[dict[str, Any]] = field(default_factory=list)
    forbidden: list[dict[str, Any]] = field(default_factory=list)
    uploads: int = 0
    model_hosts: list[str] = field(default_factory=list)  # hosts the catalog lacks that the model judged AI
    events: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class DemoRun:
    settings: Settings
    simulation: Simulation
    ingested: list[FileReport]
    found: Found


def ingest(settings: Settings, simulation: Simulation,
           progress: Callable[[FileReport], None] | None = None) -> list[FileReport]:
    """Ingest each log folder with its format named, as an operator does once a source is known."""
    from detector.ingest.pipeline import ingest_paths

    reports = []
    for key in simulation.formats:
        for report in ingest_paths(settings, [str(simulation.folders[key])], key):
            if report.error:
                raise DemoError(f"ingest failed: {report.error}", report.file)
            reports.append(report)
            if progress:
                progress(report)
    return reports


def find(settings: Settings) -> Found:
    """The summary figures, read from the product's views as any analyst would."""
    from detector import db

    def rows(sql: str) -> list[dict[str, Any]]:
        return db.run_user_sql(connection, sql).to_pylist()

    found = Found()
    with db.connect(settings) as connection:
        found.employees = rows("select count(*) as n from user_departments")[0]["n"]
        found.ai_users = rows("select count(distinct user_id) as n from ai_events"
                              " where user_id is not null and service is not null")[0]["n"]
        found.top_services = rows(
            "select service_name as service, count(distinct user_id) as users, count(*) as events"
            " from ai_events where service is not null group by service_name order by users desc, events desc limit 6")
        found.departments = rows(
            "with staff as (select department, count(*) as employees from user_departments group by department),"
            " users as (select department, count(distinct user_id) as ai_users from ai_events"
            "  where user_id is not null and service is not null group by department)"
            " select s.department, s.employees, coalesce(u.ai_users, 0) as ai_users"
            " from staff as s left join users as u using (department) order by s.department")
        found.forbidden = rows(
            "select service_name as service, department, count(distinct user_id) as users, count(*) as events,"
            " count(*) filter (where action = 'blocked') as blocked from ai_events where verdict = 'forbidden'"
            " group by all order by events desc")
        found.uploads = rows("select count(*) as n from ai_events where bytes_out >= 1000000")[0]["n"]
        found.model_hosts = [r["host"] for r in rows(
            "select host from hosts where match = 'model' and is_ai order by clients desc, events desc, host")]
        found.events = rows("select count(*) as n from events")[0]["n"]
        found.rejected = rows("select count(*) as n from rejects")[0]["n"]
    return found


def run_demo(home: Path, employees: int, days: int, seed: int, last_day: date,
             day_done: Callable[[date, int], None] | None = None,
             file_done: Callable[[FileReport], None] | None = None) -> DemoRun:
    """Simulate, ingest, classify; the report and the dashboard are the command's business."""
    from detector.classify.run import classify

    simulation = simulate(home, employees, days, seed, last_day, day_done)
    settings = load_settings(home)
    reports = ingest(settings, simulation, file_done)
    classify(settings)
    return DemoRun(settings=settings, simulation=simulation, ingested=reports, found=find(settings))
