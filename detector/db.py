"""The DuckDB catalog: views over the lake, and the named queries in `detector/queries/*.sql`.

Views are created per connection over the Parquet files (so the data directory can move) with
DuckDB's relational API, never by formatting SQL text. Query parameters are DuckDB named parameters.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from detector.config import Settings
from detector.errors import QueryError
from detector.lake import Lake
from detector.schema import EVENTS, REJECTS

# Statement types a read-only `shadow-ai sql` accepts.
READ_ONLY_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}

SEGMENTS = pa.schema(
    [
        ("file_id", pa.string()), ("path", pa.string()), ("log_format", pa.string()),
        ("source_kind", pa.string()), ("start_offset", pa.int64()), ("end_offset", pa.int64()),
        ("start_line", pa.int64()), ("end_line", pa.int64()), ("parsed", pa.int64()),
        ("rejected", pa.int64()), ("ignored", pa.int64()), ("ingested_at", pa.string()), ("error", pa.string()),
    ]
)


# The tables `shadow-ai classify` writes into the catalog database, with their columns, so that the
# views exist (empty) before the first classify.
CATALOG_TABLES = {
    "hosts": "host varchar, registered_domain varchar, service varchar, category varchar, match varchar, "
             "is_ai boolean, "
             "score double, rule varchar, first_seen timestamptz, last_seen timestamptz, events bigint, "
             "clients bigint",
    "services": "service varchar, name varchar, vendor varchar, category varchar, description varchar, "
                "risk_score double, risk_level varchar, hq_country varchar, data_location varchar, "
                "trains_on_inputs boolean, enterprise_plan boolean, gdpr_dpa boolean, shared_domain boolean, "
                "domains varchar[], sources varchar[], last_verified date, verdict varchar",
    "path_rules": "host varchar, path varchar, service varchar",
    "api_path_calls": "host varchar, url_path varchar, requests bigint",
    "agent_services": "user_agent varchar, service varchar",
    "user_departments": "user_id varchar, department varchar",
    "ip_departments": "src_ip varchar, network varchar, department varchar",
    "workstation_users": "workstation varchar, user_id varchar",
    "verdicts": "service varchar, department varchar, verdict varchar",
    "proxy_sessions": "src_ip varchar, user_id varchar, starts timestamptz, ends timestamptz, events bigint",
    "dhcp_leases": "src_ip varchar, workstation varchar, starts timestamptz, ends timestamptz",
    "usage_daily": "day date, department varchar, service varchar, host varchar, service_name varchar, "
                   "category varchar, verdict varchar, users bigint, clients bigint, events bigint, "
                   "proxy_events bigint, dns_lookups bigint, firewall_events bigint, sensor_events bigint, "
                   "bytes_out hugeint, bytes_in hugeint, blocked bigint",
    "candidate_events": "host varchar, day date, ts timestamptz, source_kind varchar, user_name varchar, "
                        "src_ip varchar, bytes_out bigint, bytes_in bigint, http_method varchar, url_path varchar, "
                        "user_agent varchar",
    "source_daily": "source_kind varchar, log_format varchar, day date, events bigint, with_user bigint, "
                    "with_bytes_out bigint, with_url_path bigint, with_host bigint, newest timestamptz",
    "people_daily": "day date, department varchar, person varchar",
    "user_daily": "day date, department varchar, service_key varchar, service varchar, host varchar, "
                  "service_name varchar, category varchar, verdict varchar, person varchar, user_id varchar, "
                  "in_population boolean, events bigint, bytes_out hugeint, blocked bigint",
}


def connect(settings: Settings, *, lake: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection with the views: the lake's, and the catalog database's (attached read-only) once
    `classify` has written it. Views live in an in-memory database, so nothing on disk can change.

    `lake=False` leaves out the views over the lake files (lake_events, events, ai_events, rejects,
    ingested_segments): creating them reads every Parquet file's footer, which readers of the catalog's
    tables and rollups alone (the dashboard's pages) need not pay; `add_lake_views` adds them later."""
    connection = open_connection(settings)
    database = settings.database
    if database.exists():
        # ATTACH takes no parameters; the path is ours (the data directory), quoted as a SQL literal.
        literal = "'" + str(database).replace("'", "''") + "'"
        connection.execute(f"attach {literal} as catalog (read_only)")
        for name in CATALOG_TABLES:
            connection.execute(f"create view {name} as select * from catalog.{name}")
    else:
        for name, columns in CATALOG_TABLES.items():
            connection.execute(f"create table {name} ({columns})")
    if lake:
        add_lake_views(connection, settings)
    for macro in MACROS:
        connection.execute(macro)
    return connection


# What the reports and the dashboard call unsanctioned AI: use under the policy's verdicts shadow and forbidden.
UNSANCTIONED = ("shadow", "forbidden")
# The expressions the queries share, written once. `chosen`: a filter of the dashboard and reports, where an empty
# selection means everything. `unsanctioned`: UNSANCTIONED's test of a verdict; and the two sums of unsanctioned use
# the reports take per department, service and day (aggregates: they go where the query groups). `for_review`: a host
# the model calls AI, or one whose requests to a model API path are AI use (api_path_calls): what an analyst reviews.
# `population`: the people AI use is a share of, per department ('(unknown)' where none), over days start..end:
# the employees of users.csv when it was given, else everyone seen in any log (people_daily, built at classify) and
# every person using AI (user_daily: a user, or a client device where no user could be attributed); the report's
# headline and departments and the dashboard count the same people. (A macro is expanded in place: a query calling it
# must not name a CTE after the tables it reads.)
MACROS = (
    "create macro for_review(judged_by, name) as"
    " judged_by = 'model' or name in (select calls.host from api_path_calls as calls)",
    "create macro chosen(selection, value) as len(selection) = 0 or list_contains(selection, value)",
    f"create macro unsanctioned(verdict) as verdict in ({', '.join(repr(v) for v in UNSANCTIONED)})",
    "create macro unsanctioned_people(person, verdict) as count(distinct person) filter (where unsanctioned(verdict))",
    "create macro unsanctioned_bytes_out(bytes_out, verdict) as"
    " cast(coalesce(sum(bytes_out) filter (where unsanctioned(verdict)), 0) as bigint)",
    "create macro population(start_day, end_day) as table"
    " select coalesce(department, '(unknown)') as department, user_id as person from user_departments"
    " where user_id is not null"
    " union all"
    " select coalesce(department, '(unknown)') as department, person from ("
    "  select department, person from people_daily where day between start_day and end_day"
    "  union"
    "  select department, person from user_daily where day between start_day and end_day)"
    " where not exists (select 1 from user_departments where user_id is not null)",
)


# The names classify learned for IP-only flows (classify/flows.py): read from their day files, which
# classify keeps up to date, rather than copied into the catalog database (10M rows at 10M flows).
FLOW_NAMES = "file_id varchar, line_no bigint, host varchar, certainty varchar"


def add_lake_views(connection: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """The views over the lake files, and `ai_events` over them, on a connection made by `connect`."""
    create_flow_names_view(connection, sorted(settings.flow_names.glob("day=*.parquet")))
    create_lake_views(connection, Lake(settings.lake))
    connection.sql(query_text("ai_events")).create_view("ai_events", replace=True)


def open_connection(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection in UTC whose big queries spill to the data directory instead of
    growing past the configured memory limit."""
    connection = duckdb.connect(":memory:")
    connection.execute("set TimeZone = 'UTC'")
    connection.execute("set enable_progress_bar = false")
    # every query over the lake views binds them again, reading each Parquet file's footer: keep them
    connection.execute("set parquet_metadata_cache = true")
    connection.execute("set memory_limit = $limit", {"limit": settings.memory_limit})
    spill = settings.home / ".spill"
    connection.execute("set temp_directory = $spill", {"spill": str(spill)})
    return connection


def session_cursor(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor for another thread: it sees the connection's views and tables (not its temp tables or
    registered Arrow tables), but not its session settings, so those are set again."""
    cursor = connection.cursor()
    cursor.execute("set TimeZone = 'UTC'")
    cursor.execute("set enable_progress_bar = false")
    return cursor


def create_lake_views(connection: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """`lake_events` (the Parquet files as they are), `events` (with names learned from DNS answers
    where a `flow_names` table exists), `rejects` and `ingested_segments`."""
    event_files = [str(p) for p in lake.event_files()]
    if event_files:
        relation = connection.read_parquet(event_files, hive_partitioning=True, union_by_name=True)
        relation = relation.project(f"{event_columns(connection, set(relation.columns))}, cast(day as date) as day")
    else:
        empty = EVENTS.empty_table().append_column("day", pa.array([], pa.date32()))
        relation = connection.from_arrow(empty)
    relation.create_view("lake_events", replace=True)
    create_events_view(connection)

    create_rejects_view(connection, lake)

    segments = [
        {name: getattr(segment, name) for name in SEGMENTS.names} for segment in lake.segments()
    ]
    table = pa.Table.from_pylist(segments, schema=SEGMENTS) if segments else SEGMENTS.empty_table()
    connection.from_arrow(table).create_view("ingested_segments", replace=True)


def event_columns(connection: duckdb.DuckDBPyConnection, present: set[str]) -> str:
    """The event schema's columns in order, as a projection; a column no lake file has yet (one a later
    version added: files are never rewritten) is a typed null, so that older lakes still read."""
    types = dict(zip(EVENTS.names, connection.from_arrow(EVENTS.empty_table()).dtypes, strict=True))
    return ", ".join(f'"{name}"' if name in present else f'cast(null as {types[name]}) as "{name}"'
                     for name in EVENTS.names)


def create_rejects_view(connection: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """`rejects`: the rejected lines' files, as they are."""
    reject_files = [str(p) for p in lake.reject_files()]
    if reject_files:
        rejects = connection.read_parquet(reject_files, union_by_name=True)
    else:
        rejects = connection.from_arrow(REJECTS.empty_table())
    rejects.create_view("rejects", replace=True)


def create_flow_names_view(connection: duckdb.DuckDBPyConnection, files: list[Path]) -> None:
    """`flow_names` (file_id, line_no, host, certainty): a view over these day files, or an empty table
    when there are none, so that `events` over a lake without flows reads its files as they are."""
    connection.execute("drop view if exists flow_names")
    connection.execute("drop table if exists flow_names")
    if files:
        connection.read_parquet([str(p) for p in files]).project(
            "file_id, line_no, host, certainty").create_view("flow_names")
    else:
        connection.execute(f"create table flow_names ({FLOW_NAMES})")


def create_events_view(connection: duckdb.DuckDBPyConnection) -> None:
    """`events`: the lake's, joined with the names of IP-only flows where a `flow_names` view over
    their files exists (see create_flow_names_view)."""
    views = {row[0] for row in connection.execute("select view_name from duckdb_views()").fetchall()}
    if "flow_names" in views:
        connection.sql(query_text("events")).create_view("events", replace=True)
    else:
        connection.sql("select *, cast(null as varchar) as host_certainty from lake_events").create_view(
            "events", replace=True)


def query_text(name: str) -> str:
    return resources.files("detector").joinpath("queries", f"{name}.sql").read_text(encoding="utf-8")


def run(connection: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pa.Table:
    """Run the named query from `detector/queries/<name>.sql` with DuckDB named parameters."""
    return connection.sql(query_text(name), params=params or None).to_arrow_table()


def run_user_sql(connection: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """Run one read-only statement typed by a user; anything that could write is refused."""
    try:
        statements = connection.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"cannot parse the query: {exc}") from exc
    if len(statements) != 1:
        raise QueryError(f"give exactly one statement (found {len(statements)})")
    kind = statements[0].type
    if kind not in READ_ONLY_STATEMENTS:
        raise QueryError(f"only SELECT queries are allowed here; this is a {kind.name} statement")
    try:
        return connection.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        raise QueryError(str(exc).strip()) from exc
