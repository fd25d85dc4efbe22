"""The dashboard's data: one cached read-only connection per lake version, cached query results, and the
privacy rules (small groups shown as "< N", no client addresses) applied before anything reaches a page.

Pages call the loaders here and never hold SQL. Every query is a file in `detector/queries/` run with
DuckDB named parameters. The connection is rebuilt when the lake changes (a new ingest or classify
changes the version), so no page shows judgements older than the catalog database on disk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import streamlit as st

from detector import db
from detector.config import HOME_ENV, Settings, load_settings
from detector.dashboard import show_people
from detector.enrich.policy import VERDICTS
from detector.enrich.privacy import suppress_small_groups as _suppress_small_groups
from detector.lake import Lake
from detector.signatures import CATEGORIES, Catalog, load_catalog

# Results are keyed by the lake's version, so they never go stale: the TTL only bounds memory.
TTL_SECONDS = 3600
UNKNOWN = "(unknown)"
# Period presets (shown as they are, and kept in the URL as they are: ?period=Last+30+days) -> days.
PERIODS = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90, "Last 365 days": 365, "All data": None,
           "Custom range": None}
CUSTOM = "Custom range"
# Spreadsheets run a cell starting with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Discovery's evidence covers this many days up to the newest data (bounds its pass over raw events).
EVIDENCE_DAYS = 30
# A source that sent nothing for this long before the newest data has a gap.
GAP = timedelta(hours=24)
MB = 1_000_000


@dataclass(frozen=True)
class LakeState:
    """What the data directory holds; `version` changes whenever ingest or classify changes it."""

    home: Path
    has_events: bool
    has_rejects: bool
    classified: bool
    version: str


@dataclass(frozen=True)
class Filters:
    """The sidebar's filters, shared by every page; empty tuples mean "all"."""

    start: date
    end: date
    departments: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of the same length just before this one, for comparisons."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def params(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "departments": list(self.departments),
                "categories": list(self.categories), "verdicts": list(self.verdicts)}


def settings() -> Settings:
    """The data directory given by `shadow-ai dashboard` ($SHADOW_AI_HOME); never creates it."""
    return load_settings(os.environ.get(HOME_ENV), create=False)


def people_enabled(config: Settings) -> bool:
    return show_people(config)


def lake_state(config: Settings) -> LakeState:
    lake = Lake(config.lake)
    stamps = []
    for path in (config.database, lake.manifest_dir, lake.rejects_dir, lake.events_dir):
        stat = path.stat() if path.exists() else None
        stamps.append(f"{stat.st_mtime_ns}:{stat.st_size}" if stat else "-")
    return LakeState(
        home=config.home,
        has_events=lake.events_dir.is_dir() and any(lake.events_dir.glob("source_kind=*/day=*/*.parquet")),
        has_rejects=lake.rejects_dir.is_dir() and any(lake.rejects_dir.glob("*.parquet")),
        classified=config.database.exists(),
        version="|".join(stamps),
    )


# --- connection and queries ----------------------------------------------------------------------------

@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(home: str, version: str) -> duckdb.DuckDBPyConnection:
    """The catalog database attached read-only: the tables and rollups classify built, which is all the
    pages read but data health's rejected lines. One per lake version. No views over the lake's event
    files: creating them reads every Parquet file's footer, which was most of a first view."""
    return db.connect(load_settings(home, create=False), lake=False)


@st.cache_resource(max_entries=2, show_spinner=False)
def _with_rejects(home: str, version: str) -> duckdb.DuckDBPyConnection:
    """The version's connection with the `rejects` view over the rejected-line files added (once)."""
    connection = _connection(home, version)
    db.create_rejects_view(connection, Lake(load_settings(home, create=False).lake))
    return connection


@st.cache_resource(max_entries=2, show_spinner=False)
def _rollups(home: str, version: str) -> duckdb.DuckDBPyConnection:
    """The connection with the dashboard's views over classify's rollups and the filter every usage page applies."""
    connection = _connection(home, version)
    cursor = connection.cursor()
    try:
        # classify builds user_daily; the pages group missing departments as "(unknown)"
        cursor.execute("create or replace view dashboard_user_daily as select * replace"
                       " (coalesce(department, '(unknown)') as department, coalesce(category, '(unknown)') as category)"
                       " from user_daily")
        # the filters every usage page applies (an empty selection means everything)
        cursor.execute("create or replace macro usage_chosen(start_day, end_day, departments, categories, verdicts)"
                       " as table select * from dashboard_user_daily where day between start_day and end_day"
                       " and chosen(departments, department) and chosen(categories, category)"
                       " and chosen(verdicts, verdict)")
    finally:
        cursor.close()
    return connection


@st.cache_data(ttl=TTL_SECONDS, max_entries=512, show_spinner=False)
def _run(home: str, version: str, name: str, source: str, params: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    """`source`: "rollups" (the dashboard's rollups built), "catalog" (classify's tables only) or "rejects"
    (with the view over the rejected lines)."""
    connection = {"rollups": _rollups, "catalog": _connection, "rejects": _with_rejects}[source](home, version)
    cursor = connection.cursor()
    try:
        arguments = {key: list(value) if isinstance(value, tuple) else value for key, value in params}
        table = db.run(cursor, name, **arguments)
    finally:
        cursor.close()
    return _plain_numbers(table).to_pandas()


def _plain_numbers(table: pa.Table) -> pa.Table:
    """DuckDB sums are 128-bit (Arrow decimals): make them plain integers for pandas and charts."""
    for index, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            target = pa.float64() if field.type.scale else pa.int64()
            table = table.set_column(index, field.name, pc.cast(table.column(index), target))
    return table


def problem(state: LakeState) -> str | None:
    """Why the lake cannot be read (a catalog database from an older version, a damaged file), if so."""
    try:
        _connection(str(state.home), state.version)
    except duckdb.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def query(state: LakeState, name: str, *, rollups: bool = True, rejects: bool = False, **params: Any) -> pd.DataFrame:
    """Run `detector/queries/<name>.sql` (cached per lake version and parameters). `rollups=False` for
    a query of classify's tables only; `rejects=True` for one of the rejected lines."""
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
    source = "rejects" if rejects else "rollups" if rollups else "catalog"
    return _run(str(state.home), state.version, name, source, frozen)


# --- filters -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FilterOptions:
    departments: list[str]
    categories: list[str]
    first_day: date | None
    last_day: date | None


def filter_options(state: LakeState) -> FilterOptions:
    frame = query(state, "dashboard_filter_options", rollups=False)
    days = frame[frame["kind"] == "days"]
    first = days["first_day"].iloc[0] if len(days) else None
    last = days["last_day"].iloc[0] if len(days) else None
    return FilterOptions(
        departments=sorted(frame.loc[frame["kind"] == "department", "value"].dropna().unique()),
        categories=sorted(frame.loc[frame["kind"] == "category", "value"].dropna().unique()),
        first_day=None if pd.isna(first) else pd.Timestamp(first).date(),
        last_day=None if pd.isna(last) else pd.Timestamp(last).date(),
    )


def period_range(choice: str, options: FilterOptions, custom: tuple[date, date] | None = None) -> tuple[date, date]:
    """A period preset as dates, counted back from the newest day with data (not from today: an archive
    or a demo lake is shown as it was)."""
    newest = options.last_day or date.today()
    oldest = options.first_day or newest
    if choice == CUSTOM and custom:
        start, end = sorted(custom)
        return start, end
    days = PERIODS.get(choice)
    if days is None:
        return oldest, newest
    return newest - timedelta(days=days - 1), newest


def suppress_small_groups(frame: pd.DataFrame, min_size: int, users: str = "users",
                          measures: tuple[str, ...] = ()) -> pd.DataFrame:
    """detector's rule ("< N", figures blanked), with the counts column made text throughout so that
    tables and CSV files get one type per column."""
    shown = _suppress_small_groups(frame, min_size, users, measures)
    shown[users] = shown[users].astype(str)
    return shown


def verdicts() -> tuple[str, ...]:
    return VERDICTS


# --- Overview ------------------------------------------------------------------------------------------

def population(state: LakeState, filters: Filters) -> pd.DataFrame:
    """People per department (users.csv, else seen in the period) and the selection's total."""
    return query(state, "dashboard_population", start=filters.start, end=filters.end,
                 departments=list(filters.departments))


def kpis(state: LakeState, filters: Filters) -> dict[str, Any]:
    """The headline figures for the period and the one before, with the denominator they share."""
    current = query(state, "dashboard_kpis", **filters.params()).iloc[0].to_dict()
    before = query(state, "dashboard_kpis", **filters.previous().params()).iloc[0].to_dict()
    people = population(state, filters)
    total = people[people["is_total"]]
    people_before = population(state, filters.previous())
    total_before = people_before[people_before["is_total"]]
    return {
        "current": current,
        "previous": before,
        "population": int(total["people"].iloc[0]) if len(total) else 0,
        "population_previous": int(total_before["people"].iloc[0]) if len(total_before) else 0,
        "from_directory": bool(people["from_directory"].any()) if len(people) else False,
    }


def trend(state: LakeState, filters: Filters) -> pd.DataFrame:
    bucket = "day" if filters.days <= 62 else "week"
    frame = query(state, "dashboard_trend", bucket=bucket, **filters.params())
    frame["uploaded_mb"] = frame["bytes_out"] / MB
    frame["bucket"] = bucket
    return frame


def top_services(state: LakeState, filters: Filters, limit: int = 10) -> pd.DataFrame:
    """The `limit` most used services: the first rows of the services page's query (most people, then events),
    so that both read one query and the overview's call shares the page's cached result. (Its column of every
    verdict a service's use had is `verdicts` here, as the overview's table and its CSV name it.)"""
    frame = query(state, "dashboard_services", **filters.params()).head(limit).rename(columns={"verdict": "verdicts"})
    frame["uploaded_mb"] = frame["bytes_out"] / MB
    return frame


# --- Departments ---------------------------------------------------------------------------------------

def department_matrix(state: LakeState, filters: Filters, by: str, min_size: int) -> pd.DataFrame:
    """Department x service (or category) with people; cells of fewer than `min_size` people carry no
    figures (`people_value` is empty, `people_label` says "< N")."""
    frame = query(state, "dashboard_department_matrix", by=by, **filters.params())
    frame["uploaded_mb"] = frame["bytes_out"] / MB
    small = frame["people"] < min_size
    frame["people_value"] = frame["people"].astype("float64").mask(small)
    frame["people_label"] = frame["people"].astype(str).mask(small, f"< {min_size}")
    # white labels on the darker part of the colour scale (which runs from the smallest shown value)
    low, high = frame["people_value"].min(), frame["people_value"].max()
    dark = (frame["people_value"] > low + 0.6 * (high - low)) & (high > low)
    frame["label_colour"] = dark.map({True: "white", False: "black"})
    for column in ("events", "uploaded_mb"):
        frame[column] = frame[column].astype("float64").mask(small)
    return frame.drop(columns=["people", "bytes_out"])


def department_usage(state: LakeState, filters: Filters, min_size: int) -> pd.DataFrame:
    """Per department: its people, how many use AI and unsanctioned AI, and their shares; small groups
    (people, AI users or unsanctioned users under `min_size`) shown as "< N" with their shares hidden."""
    usage = query(state, "dashboard_department_usage", **filters.params())
    people = population(state, filters)
    people = people[~people["is_total"]][["department", "people"]]
    frame = people.merge(usage, on="department", how="outer")
    for column in ("people", "ai_people", "unsanctioned_people", "services", "events", "bytes_out"):
        frame[column] = frame[column].fillna(0).astype("int64")
    frame["people"] = frame[["people", "ai_people"]].max(axis=1)
    denominator = frame["people"].where(frame["people"] > 0)
    frame["share_ai"] = frame["ai_people"] / denominator
    frame["share_unsanctioned"] = frame["unsanctioned_people"] / denominator
    frame["uploaded_mb"] = frame["bytes_out"] / MB
    frame = frame.drop(columns=["bytes_out"]).sort_values("department")
    frame = suppress_small_groups(frame, min_size, "unsanctioned_people", ("share_unsanctioned",))
    frame = suppress_small_groups(frame, min_size, "ai_people", ("share_ai", "events", "uploaded_mb", "services"))
    return suppress_small_groups(frame, min_size, "people", ("share_ai", "share_unsanctioned"))


# --- Services ------------------------------------------------------------------------------------------

def services(state: LakeState, filters: Filters, min_size: int) -> pd.DataFrame:
    frame = query(state, "dashboard_services", **filters.params())
    frame["uploaded_mb"] = frame["bytes_out"] / MB
    return suppress_small_groups(frame.drop(columns=["bytes_out"]), min_size, "people", ("events", "uploaded_mb"))


def service_facts(state: LakeState, service: str) -> dict[str, Any] | None:
    frame = query(state, "dashboard_service_facts", rollups=False, service=service)
    return frame.iloc[0].to_dict() if len(frame) else None


def service_departments(state: LakeState, filters: Filters, service_key: str, min_size: int) -> pd.DataFrame:
    frame = query(state, "dashboard_service_departments", service_key=service_key, start=filters.start,
                  end=filters.end, departments=list(filters.departments), verdicts=list(filters.verdicts))
    frame["uploaded_mb"] = frame["bytes_out"] / MB
    return suppress_small_groups(frame.drop(columns=["bytes_out"]), min_size, "people", ("events", "uploaded_mb"))


def service_hosts(state: LakeState, service_key: str) -> pd.DataFrame:
    return query(state, "dashboard_service_hosts", rollups=False, service_key=service_key)


# --- Discovery -----------------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def catalog(directory: str) -> Catalog:
    return load_catalog(Path(directory))


def candidates(state: LakeState, config: Settings, margin: float = 0.1, limit: int = 200) -> pd.DataFrame:
    """The model's candidate AI hosts and those just under its threshold; hosts an analyst labelled
    since the last classify are marked, not hidden, until classify applies the label."""
    from detector.labels import read_labels

    frame = query(state, "dashboard_candidates", rollups=False, margin=margin, limit=limit)
    labels = read_labels(config.home)
    frame["pending_label"] = [
        ("AI" if labels[h].ai else "not AI") if h in labels else "" for h in frame["host"]
    ]
    return frame


def candidate_evidence(state: LakeState, hosts: list[str], newest: date | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The candidates' traffic per day and pattern over the last EVIDENCE_DAYS days with data: one
    partition-pruned pass over the events for all candidates (cached per lake version)."""
    end = newest or date.today()
    start = end - timedelta(days=EVIDENCE_DAYS - 1)
    days = query(state, "dashboard_candidate_days", rollups=False, hosts=sorted(hosts), start=start, end=end)
    profiles = query(state, "dashboard_candidate_profile", rollups=False, hosts=sorted(hosts), start=start, end=end)
    return days, profiles


def label(config: Settings, host: str, ai: bool, service: str | None = None, category: str | None = None) -> str:
    """Record the analyst's decision exactly as `shadow-ai label` does (labels.jsonl)."""
    from detector.labels import add_label

    recorded = add_label(config.home, host, ai, catalog(str(config.catalog_dir)), service, category)
    return recorded.host


def reclassify(config: Settings) -> str:
    """Run `shadow-ai classify` in-process; the next run of any page reads the new judgements."""
    from detector.classify.run import classify

    report = classify(config)
    return f"{report.hosts} hosts judged in {report.seconds:.1f} s; {report.ai_hosts} are AI"


def categories() -> tuple[str, ...]:
    return tuple(CATEGORIES)


# --- Data health ---------------------------------------------------------------------------------------

def sources_daily(state: LakeState) -> pd.DataFrame:
    return query(state, "dashboard_sources", rollups=False)


def source_summary(state: LakeState) -> pd.DataFrame:
    """Per source kind and format: events, days, newest event, the share of events carrying each field
    (as a badge), and whether it stopped sending (nothing for > 24 h before the newest data)."""
    daily = sources_daily(state)
    if daily.empty:
        return daily
    grouped = daily.groupby(["source_kind", "log_format"], as_index=False).agg(
        events=("events", "sum"), days=("day", "nunique"), first_day=("day", "min"), newest=("newest", "max"),
        with_user=("with_user", "sum"), with_bytes_out=("with_bytes_out", "sum"),
        with_url_path=("with_url_path", "sum"), with_host=("with_host", "sum"))
    for field in ("user", "bytes_out", "url_path", "host"):
        counts = zip(grouped[f"with_{field}"], grouped["events"], strict=True)
        grouped[field] = [_badge(count, total) for count, total in counts]
    latest = grouped["newest"].max()
    grouped["silent_hours"] = (latest - grouped["newest"]).dt.total_seconds() / 3600
    grouped["gap"] = grouped["newest"] < latest - GAP
    return grouped.drop(columns=[f"with_{f}" for f in ("user", "bytes_out", "url_path", "host")])


def _badge(count: int, total: int) -> str:
    share = count / total if total else 0.0
    # plain symbols, not emoji: headless and locked-down browsers often lack an emoji font
    if share >= 0.9:
        return "✓ yes"
    if share > 0:
        return f"⚠ {share:.0%}"
    return "✗ no"


def rejects(state: LakeState) -> pd.DataFrame:
    """Rejected lines by format and reason (the offending value after the colon is left out)."""
    return query(state, "status_rejects", rejects=True)


# --- People --------------------------------------------------------------------------------------------

def people(state: LakeState, filters: Filters, limit: int = 500) -> pd.DataFrame:
    frame = query(state, "dashboard_people", limit=limit, **filters.params())
    frame["uploaded_mb"] = frame["bytes_out"] / MB
    return frame.drop(columns=["bytes_out"])


# --- output --------------------------------------------------------------------------------------------

def to_csv(frame: pd.DataFrame) -> bytes:
    """The table as CSV for a spreadsheet, with formula injection neutralised: a text cell starting with
    = + - @ tab or CR gets a leading quote, so the spreadsheet shows it instead of running it."""
    safe = frame.copy()
    for column in safe.columns:
        safe[column] = safe[column].map(_safe_cell).astype(object)
    safe.columns = [_safe_cell(str(c)) for c in safe.columns]
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")  # RFC 4180: CR in a cell is quoted


def _safe_cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    elif hasattr(value, "tolist") and not isinstance(value, str):
        value = ", ".join(str(v) for v in value.tolist()) if getattr(value, "ndim", 0) else value
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def human_bytes(count: float | None) -> str:
    if count is None or pd.isna(count):
        return "–"
    value = float(count)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} TB"


# --- what the router hands to the pages ----------------------------------------------------------------

@dataclass(frozen=True)
class Context:
    """Drawn once per run by streamlit_app.py (settings, lake, filters) and read by every page."""

    settings: Settings
    state: LakeState
    filters: Filters
    options: FilterOptions

    @property
    def min_size(self) -> int:
        return self.settings.min_group_size


CONTEXT_KEY = "_shadow_ai_context"


def set_context(context: Context) -> None:
    st.session_state[CONTEXT_KEY] = context


def context() -> Context:
    return st.session_state[CONTEXT_KEY]  # type: ignore[no-any-return]


def suppress_people(frame: pd.DataFrame, min_size: int, measures: tuple[str, ...] = ()) -> pd.DataFrame:
    """Keep `people` numeric for charts but empty where fewer than `min_size`, and the given measures
    with it; `people_label` is what to show ("< N" for those)."""
    shown = frame.copy()
    small = shown["people"] < min_size
    shown["people_label"] = shown["people"].astype(str).mask(small, f"< {min_size}")
    for column in ("people", *measures):
        shown[column] = shown[column].astype("float64").mask(small)
    return shown


def uploads_by_verdict(figures: dict[str, Any], min_size: int) -> pd.DataFrame:
    """MB uploaded per verdict in this period and the previous one (from `kpis`); empty where fewer than
    `min_size` people uploaded under that verdict."""
    rows = [
        {"verdict": verdict, "period": label, "people": int(values[f"people_{verdict}"] or 0),
         "uploaded_mb": float(values[f"bytes_{verdict}"] or 0) / MB}
        for label, values in (("this period", figures["current"]), ("previous period", figures["previous"]))
        for verdict in VERDICTS
    ]
    return suppress_people(pd.DataFrame(rows), min_size, ("uploaded_mb",))


def present(value: Any) -> bool:
    """A real value, not None or a missing-value marker."""
    if value is None:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays: present when not empty
        return len(value) > 0


def yes_no(value: Any) -> str:
    return ("yes" if bool(value) else "no") if present(value) else "unknown"


def as_list(value: Any) -> list[str]:
    if not present(value):
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def text(value: Any, default: str = "unknown") -> str:
    return str(value) if present(value) else default
