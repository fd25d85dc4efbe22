"""What a report says, as data: the figures of one period (and the one before), with small groups
suppressed, ready for the HTML, CSV, JSON and deck writers, which only format.

Suppression happens here, once, so that no writer can leak a figure of a small group: a count of
distinct users below `min_group_size` becomes "< N" and the figures that go with it become empty.
Zero stays zero (nobody to single out). No client address or user name is ever selected.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import duckdb
import pandas as pd

from detector import db
from detector.config import Settings
from detector.enrich.privacy import suppress_small_groups
from detector.report.period import Period

UNSANCTIONED = db.UNSANCTIONED  # (the verdicts the queries' unsanctioned() macro tests)
VERDICT_ORDER = ("forbidden", "shadow", "tolerated", "sanctioned")
RISK_ORDER = ("critical", "high", "medium", "low")

# Headline figures: key -> (label, is a count of people that small-group suppression applies to)
HEADLINE = {
    "employees": ("Employees", False),
    "ai_users": ("People using AI", True),
    "unsanctioned_users": ("People using unsanctioned AI", True),
    "unsanctioned_share": ("Share of employees using unsanctioned AI", False),
    "ai_share": ("Share of employees using AI", False),
    "services": ("AI services in use", False),
    "unsanctioned_services": ("Unsanctioned AI services in use", False),
    "new_services": ("AI services used for the first time", False),
    "unsanctioned_bytes_out": ("Uploaded to unsanctioned AI (bytes)", False),
    "blocked": ("Blocked attempts", False),
    "events": ("AI events", False),
}


@dataclass
class ReportData:
    organisation: str
    period: Period
    previous: Period
    min_group_size: int
    headline: dict[str, dict[str, Any]]
    population_from_directory: bool
    departments: pd.DataFrame
    services: pd.DataFrame
    previous_services: pd.DataFrame
    candidates: pd.DataFrame
    trend: pd.DataFrame
    sources: pd.DataFrame
    sources_daily: pd.DataFrame
    rejects: pd.DataFrame
    lake: dict[str, Any]
    changes: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[Any] = field(default_factory=list)

    @property
    def new_services(self) -> pd.DataFrame:
        frame = self.services
        return frame[(frame["first_day"] >= self.period.start) & (frame["first_day"] <= self.period.end)]

    @property
    def uploads(self) -> pd.DataFrame:
        """Unsanctioned services that data was uploaded to, largest first."""
        frame = self.services[self.services["unsanctioned_bytes_out"] > 0]
        return frame.sort_values(["unsanctioned_bytes_out", "service_key"], ascending=[False, True])

    @property
    def blocked(self) -> pd.DataFrame:
        frame = self.services[self.services["blocked"] > 0]
        return frame.sort_values(["blocked", "service_key"], ascending=[False, True])

    @property
    def silent_sources(self) -> pd.DataFrame:
        return self.sources[self.sources["status"] == "silent"]

def collect(connection: duckdb.DuckDBPyConnection, settings: Settings, period: Period,
            silent_hours: int = 24, lookback_days: int = 30) -> ReportData:
    """Run the report's queries for the period and the one before, and suppress small groups."""
    minimum = settings.min_group_size
    previous = period.previous()
    params = {"start": period.start, "end": period.end}
    current = _row(db.run(connection, "report_headline", **params).to_pylist())
    before = _row(db.run(connection, "report_headline", start=previous.start, end=previous.end).to_pylist())
    since = period.end - timedelta(days=max(lookback_days, period.days) - 1)
    sources = db.run(connection, "report_sources", since=since, **params).to_pandas()
    now = db.run(connection, "report_services", **params).to_pandas()
    then = db.run(connection, "report_services", start=previous.start, end=previous.end).to_pandas()
    return ReportData(
        organisation=settings.organisation,
        period=period,
        previous=previous,
        min_group_size=minimum,
        headline=headline(current, before, minimum, from_directory=bool(current.get("from_directory"))),
        population_from_directory=bool(current.get("from_directory")),
        departments=departments(db.run(connection, "report_departments", **params).to_pandas(), minimum),
        services=services(now, minimum),
        previous_services=services(then, minimum),
        candidates=db.run(connection, "report_candidates", **params).to_pandas(),
        trend=trend(db.run(connection, "report_trend", **params).to_pandas(), minimum),
        sources=source_status(sources, period, silent_hours),
        sources_daily=db.run(connection, "report_sources_daily", since=since, **params).to_pandas(),
        rejects=db.run(connection, "report_rejects", **params).to_pandas(),
        lake=lake_state(connection),
        changes=changes(now, then, minimum),
    )


def _row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return rows[0] if rows else {}


def is_small(value: object, minimum: int) -> bool:
    """A count of people that must not be shown: at least one and fewer than the minimum group size."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        return False
    return 0 < value < minimum


# Without users.csv the population is everyone seen in the logs, not the employees: the labels say so.
WITHOUT_DIRECTORY = {
    "employees": "People seen in the logs",
    "unsanctioned_share": "Share of people seen using unsanctioned AI",
    "ai_share": "Share of people seen using AI",
}


def headline(current: dict[str, Any], before: dict[str, Any], minimum: int, from_directory: bool = True
             ) -> dict[str, dict[str, Any]]:
    """Each headline figure now and in the previous period, its change, and whether it is suppressed."""

    def figures(row: dict[str, Any]) -> dict[str, Any]:
        employees = row.get("employees") or 0
        found = {key: row.get(key) or 0 for key in HEADLINE if key in row}
        in_population = row.get("unsanctioned_employees") or 0
        found["unsanctioned_share"] = in_population / employees if employees else None
        found["ai_share"] = (row.get("ai_employees") or 0) / employees if employees else None
        return found

    now, then = figures(current), figures(before)
    no_data_before = not before.get("logged_events")
    shown: dict[str, dict[str, Any]] = {}
    for key, (label, counts_people) in HEADLINE.items():
        value, previous = now.get(key), None if no_data_before else then.get(key)
        hidden = counts_people and is_small(value, minimum)
        hidden_before = counts_people and is_small(previous, minimum)
        if key in ("unsanctioned_share", "ai_share"):  # a share of a small group is that group's figure
            people = "unsanctioned_users" if key == "unsanctioned_share" else "ai_users"
            hidden, hidden_before = is_small(now.get(people), minimum), is_small(then.get(people), minimum)
        change = None
        if not hidden and not hidden_before and value is not None and previous is not None:
            change = value - previous
        shown[key] = {
            "label": label if from_directory else WITHOUT_DIRECTORY.get(key, label),
            "value": None if hidden else value,
            "previous": None if hidden_before else previous,
            "change": change,
            "suppressed": bool(hidden),
            "previous_suppressed": bool(hidden_before) and not no_data_before,
            "previous_logged": not no_data_before,
        }
    return shown


def suppress(frame: pd.DataFrame, column: str, measures: tuple[str, ...], minimum: int,
             also: pd.Series | None = None) -> pd.DataFrame:
    """suppress_small_groups for the rows whose `column` is a small group (and the rows `also` marks);
    rows with zero people and nothing else stay as they are."""
    shown = frame.copy()
    small = shown[column].map(lambda value: is_small(value, minimum)).astype(bool)
    if also is not None:
        small = small | also
    if not small.any():
        return shown
    part = suppress_small_groups(shown.loc[small], minimum, users=column, measures=measures)
    for name in (column, *measures):
        shown[name] = shown[name].astype("object")
        shown.loc[small, name] = part[name]
    return shown


def departments(frame: pd.DataFrame, minimum: int) -> pd.DataFrame:
    """Per department; a department with AI users but fewer than the minimum shows "< N" and no figures.

    A person is a user, or a client device where no user could be attributed; traffic with neither (no
    client address in the log) counts nobody, so a department with only such traffic is suppressed as well."""
    frame = frame.copy()
    frame["employees"] = frame["employees"].astype("Int64")
    frame["unsanctioned_share"] = [
        (u / e) if pd.notna(e) and e else None for u, e in zip(frame["unsanctioned_users"], frame["employees"],
                                                                   strict=True)
    ]
    measures = ("services", "events", "unsanctioned_users", "unsanctioned_bytes_out", "unsanctioned_share", "blocked")
    network_only = (frame["ai_users"] == 0) & (frame["events"] > 0)
    frame["suppressed"] = frame["ai_users"].map(lambda value: is_small(value, minimum)).astype(bool) | network_only
    shown = suppress(frame, "unsanctioned_users", ("unsanctioned_bytes_out", "unsanctioned_share"), minimum)
    return suppress(shown, "ai_users", measures, minimum, also=network_only)


def services(frame: pd.DataFrame, minimum: int) -> pd.DataFrame:
    """Per service; user counts below the minimum show "< N". A service is not a group of people, so its
    volumes stay visible: they are what decides whether to block or sanction it."""
    frame = frame.copy()
    frame["first_day"] = pd.to_datetime(frame["first_day"]).dt.date
    shown = suppress(frame, "users", (), minimum)
    return suppress(shown, "unsanctioned_users", (), minimum)


def changes(now: pd.DataFrame, then: pd.DataFrame, minimum: int) -> list[dict[str, Any]]:
    """Services that appeared, disappeared, or gained or lost users against the previous period. User
    counts are shown suppressed; a change between two small groups is not reported at all."""
    current = now.set_index("service_key")
    before = then.set_index("service_key")

    def users(frame: pd.DataFrame, key: str) -> object:
        value = frame.at[key, "users"]
        return f"< {minimum}" if is_small(value, minimum) else int(value)

    found: list[tuple[tuple[int, int, str], dict[str, Any]]] = []
    for key in current.index.difference(before.index):
        found.append(((0, 0, key), {"service_key": key, "name": current.at[key, "name"], "change": "new",
                                    "users_before": 0, "users_now": users(current, key)}))
    for key in before.index.difference(current.index):
        found.append(((3, 0, key), {"service_key": key, "name": before.at[key, "name"], "change": "no longer used",
                                    "users_before": users(before, key), "users_now": 0}))
    for key in current.index.intersection(before.index):
        was, is_now = int(before.at[key, "users"]), int(current.at[key, "users"])
        if was == is_now or max(was, is_now) < minimum:
            continue
        found.append(((1 if is_now > was else 2, -abs(is_now - was), key),
                      {"service_key": key, "name": current.at[key, "name"],
                       "change": "more users" if is_now > was else "fewer users",
                       "users_before": users(before, key), "users_now": users(current, key)}))
    return [row for _, row in sorted(found, key=lambda item: item[0])]


def trend(frame: pd.DataFrame, minimum: int) -> pd.DataFrame:
    frame = frame.copy()
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    shown = suppress(frame, "ai_users", (), minimum)
    return suppress(shown, "unsanctioned_users", (), minimum)


def source_status(frame: pd.DataFrame, period: Period, silent_hours: int) -> pd.DataFrame:
    """ok / silent (nothing for `silent_hours` before the end of the period: an alert) / gaps (days of the
    period without events)."""
    frame = frame.copy()
    period_end = datetime.combine(period.end + timedelta(days=1), time(), tzinfo=UTC)
    cutoff = period_end - timedelta(hours=silent_hours) if silent_hours else None
    statuses, silent_for = [], []
    for last, days in zip(frame["last_event"], frame["days_with_events"], strict=True):
        last_time = pd.Timestamp(last).to_pydatetime() if pd.notna(last) else None
        quiet = (period_end - last_time).total_seconds() / 3600 if last_time else None
        silent_for.append(round(quiet, 1) if quiet is not None else None)
        if cutoff is not None and (last_time is None or last_time < cutoff):
            statuses.append("silent")
        elif (days or 0) < period.days:
            statuses.append("gaps")
        else:
            statuses.append("ok")
    frame["status"] = statuses
    frame["silent_hours"] = silent_for
    return frame


def lake_state(connection: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """When data last arrived: the newest ingest. Deterministic for a given lake (no clock reading)."""
    rows = connection.execute("select max(ingested_at), count(distinct file_id) from ingested_segments").fetchall()
    return {"last_ingest": rows[0][0] if rows else None, "files": int(rows[0][1]) if rows else 0}


def first_day_in(frame: pd.DataFrame, period: Period) -> pd.Series:
    return (frame["first_day"] >= period.start) & (frame["first_day"] <= period.end)


def day_end(day: date) -> datetime:
    """The last microsecond of a (UTC) day: the timestamp of an alert about that day."""
    return datetime.combine(day, time.max, tzinfo=UTC)
