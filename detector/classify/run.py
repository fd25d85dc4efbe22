"""`shadow-ai classify`: judge every distinct host in the lake and rebuild the catalog database.

The judgements (hosts, services, path and user-agent rules) are small tables written to a new DuckDB
file that atomically replaces the old one, so readers (dashboard, reports) never see a half-built
catalog and never wait for a lock. Events are never rewritten: a new signature or label applies to all
history at the next classify.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from detector import db
from detector.classify.hosts import HostScorer, judge_hosts
from detector.config import Settings
from detector.enrich import directory
from detector.enrich.policy import load_policy, verdict_table
from detector.labels import read_labels
from detector.lake import Lake
from detector.signatures import Catalog, load_catalog, normalise_host

PATH_RULES = pa.schema([("host", pa.string()), ("path", pa.string()), ("service", pa.string())])
AGENT_SERVICES = pa.schema([("user_agent", pa.string()), ("service", pa.string())])


@dataclass
class ClassifyReport:
    hosts: int = 0
    ai_hosts: int = 0
    by_match: dict[str, int] = field(default_factory=dict)
    services_seen: int = 0
    model: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    # wall and CPU seconds of each step, to see where a slow classify spends its time
    steps: dict[str, tuple[float, float]] = field(default_factory=dict)


def services_table(catalog: Catalog) -> pa.Table:
    """The catalog as a table: each service with its facts and computed risk."""
    rows = []
    for service in catalog.services.values():
        facts = service.risk
        rows.append({
            "service": service.id, "name": service.name, "vendor": service.vendor, "category": service.category,
            "description": service.description, "risk_score": service.risk_score, "risk_level": service.risk_level,
            "hq_country": facts.hq_country, "data_location": facts.data_location,
            "trains_on_inputs": facts.trains_on_inputs, "enterprise_plan": facts.enterprise_plan,
            "gdpr_dpa": facts.gdpr_dpa, "shared_domain": service.shared_domain,
            "domains": list(service.domains), "sources": list(facts.sources),
            "last_verified": facts.last_verified,
        })
    return pa.Table.from_pylist(rows)


def path_rules_for(catalog: Catalog, hosts: list[str]) -> pa.Table:
    """URL-path rules expanded to the observed hosts they cover (a rule for bing.com covers www.bing.com)."""
    patterns = [(p.host, p.path.lower(), s.id) for s in catalog.services.values() for p in s.url_patterns]
    rows = []
    for host in hosts:
        for rule_host, path, service in patterns:
            if host == rule_host or host.endswith("." + rule_host):
                rows.append({"host": host, "path": path, "service": service})
    return pa.Table.from_pylist(rows, schema=PATH_RULES)


def agent_services_for(catalog: Catalog, agents: list[str]) -> pa.Table:
    rows = []
    for agent in agents:
        found = catalog.match_host("", user_agent=agent)
        if found is not None:
            rows.append({"user_agent": agent, "service": found.service.id})
    return pa.Table.from_pylist(rows, schema=AGENT_SERVICES)


def load_scorer(settings: Settings) -> HostScorer | None:
    """The trained model of this data directory, if there is one and the model module is installed."""
    try:
        from detector.classify import model
    except ImportError:
        return None
    return model.load_scorer(settings)  # type: ignore[no-any-return]


@contextlib.contextmanager
def timed(steps: dict[str, tuple[float, float]], name: str) -> Iterator[None]:
    """Record the wall and CPU seconds (all threads) the block took under `name`."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    steps[name] = (round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2))


def classify(settings: Settings, catalog: Catalog | None = None) -> ClassifyReport:
    started, started_cpu = time.perf_counter(), time.process_time()
    steps: dict[str, tuple[float, float]] = {}
    with timed(steps, "load"):
        catalog = catalog or load_catalog(settings.catalog_dir)
        policy = load_policy(settings.home, catalog)
        labels = read_labels(settings.home)
        scorer = load_scorer(settings)
    connection = db.open_connection(settings)
    try:
        # classify's results are tables, not ordered output: letting DuckDB drop order saves memory
        connection.execute("set preserve_insertion_order = false")
        with timed(steps, "open_lake"):
            db.create_lake_views(connection, Lake(settings.lake))
        with timed(steps, "flow_names"):
            flow_names = db.run(connection, "flow_names", window_seconds=settings.dns_window_seconds)
            connection.register("incoming_flow_names", flow_names)
            connection.execute("create table flow_names as select * from incoming_flow_names")
            connection.unregister("incoming_flow_names")
            db.create_events_view(connection)
        with timed(steps, "hosts_seen"):
            seen = db.run(connection, "hosts_seen")
            names = [normalise_host(h) for h in seen.column("host").to_pylist()]
        behaviour = None
        if scorer is not None:
            from detector.classify import features

            with timed(steps, "behaviour"):
                behaviour = features.behaviour(connection, catalog)
        with timed(steps, "judge"):
            judged = judge_hosts(names, catalog, labels, scorer, behaviour)
            hosts = judged.set_column(0, "host", seen.column("host"))
            for column in ("first_seen", "last_seen", "events", "clients"):
                hosts = hosts.append_column(column, seen.column(column))
        with timed(steps, "agents_addresses"):
            agents = db.run(connection, "agents_seen").column("user_agent").to_pylist()
            addresses = db.run(connection, "client_addresses").column("src_ip").to_pylist()
        with timed(steps, "directory"):
            users = directory.read_users(settings.home)
            networks = directory.read_networks(settings.home)
            departments = {*pc.drop_null(users.column("department")).to_pylist(), *(d for _, d in networks),
                           *(d for rule in [*policy.services.values(), *policy.categories.values()]
                             for d in rule.departments)}
            services = services_table(catalog)
            services = services.append_column(
                "verdict", pa.array([policy.verdict(s, c) for s, c in zip(
                    services.column("service").to_pylist(), services.column("category").to_pylist(), strict=True)],
                    pa.string()))
            tables = {
                "hosts": hosts,
                "services": services,
                "path_rules": path_rules_for(catalog, names),
                "agent_services": agent_services_for(catalog, agents),
                "user_departments": users,
                "ip_departments": directory.ip_departments(addresses, networks),
                "workstation_users": directory.read_workstations(settings.home),
                "verdicts": verdict_table(policy, catalog, departments),
            }
        with timed(steps, "proxy_sessions"):
            tables["proxy_sessions"] = db.run(connection, "proxy_sessions", gap_seconds=settings.session_gap_seconds,
                                              window_seconds=settings.session_window_seconds)
        with timed(steps, "dhcp_leases"):
            tables["dhcp_leases"] = db.run(connection, "dhcp_leases", lease_seconds=settings.lease_seconds)
        for name, table in tables.items():
            connection.register(f"incoming_{name}", table)
            connection.execute(f"create table {name} as select * from incoming_{name}")
            connection.unregister(f"incoming_{name}")
        with timed(steps, "ai_events"):
            # the per-event joins of attribution run once; the rollups below read their result
            connection.execute(f"create temp table ai_events as {db.query_text('ai_events')}")
        rollups = ("usage_daily", "user_daily", "source_daily", "candidate_events")
        for rollup in rollups:
            with timed(steps, rollup):
                connection.execute(f"create table {rollup} as {db.query_text(rollup)}")
        with timed(steps, "save"):
            save_catalog_database(connection, ["flow_names", *tables, *rollups], settings.database)
    finally:
        connection.close()
    is_ai = hosts.column("is_ai")
    matches = pc.value_counts(hosts.column("match")).to_pylist()
    return ClassifyReport(
        hosts=hosts.num_rows,
        ai_hosts=pc.sum(pc.cast(is_ai, pa.int64())).as_py() or 0,
        by_match={m["values"]: m["counts"] for m in matches},
        services_seen=len(set(pc.drop_null(pc.filter(hosts.column("service"), is_ai)).to_pylist())),
        model=scorer.name if scorer else None,
        seconds=round(time.perf_counter() - started, 2),
        cpu_seconds=round(time.process_time() - started_cpu, 2),
        steps=steps,
    )


def save_catalog_database(connection: duckdb.DuckDBPyConnection, tables: list[str], database: Path) -> None:
    """Copy the tables into a fresh DuckDB file and move it over the old one in one step."""
    database.parent.mkdir(parents=True, exist_ok=True)
    temporary = database.with_name(f".{database.name}.{uuid.uuid4().hex}.tmp")
    literal = "'" + str(temporary).replace("'", "''") + "'"
    try:
        connection.execute(f"attach {literal} as fresh")
        for name in tables:
            connection.execute(f"create table fresh.{name} as select * from main.{name}")
        connection.execute("detach fresh")
        os.replace(temporary, database)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        with contextlib.suppress(FileNotFoundError):
            Path(str(temporary) + ".wal").unlink()
