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
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from detector import db
from detector.classify import flows
from detector.config import Settings
from detector.lake import Lake

# Imported where used, not here: the catalog's modules (signatures, labels, policy, judging) import tldextract
# and yaml (~0.13 s of Python), which classify's background thread then imports while DuckDB reads the lake,
# instead of the main thread before the first scan starts, with the second core idle.
if TYPE_CHECKING:
    from detector.classify.hosts import HostScorer
    from detector.enrich.policy import Policy
    from detector.labels import Label
    from detector.signatures import Catalog, Match

PATH_RULES = pa.schema([("host", pa.string()), ("path", pa.string()), ("service", pa.string())])
AGENT_SERVICES = pa.schema([("user_agent", pa.string()), ("service", pa.string())])


@dataclass
class ClassifyReport:
    hosts: int = 0
    ai_hosts: int = 0
    by_match: dict[str, int] = field(default_factory=dict)
    services_seen: int = 0
    flow_days_named: int = 0  # days whose IP-only flows were named again (their inputs changed)
    flow_days_kept: int = 0  # days whose stored flow names still matched their inputs
    model: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    # wall and CPU seconds of each step, to see where a slow classify spends its time; CPU is the
    # process's, so steps that run beside each other (client_tables beside host_traffic) share theirs
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
    by_host: dict[str, list[tuple[str, str]]] = {}
    for service in catalog.services.values():
        for pattern in service.url_patterns:
            by_host.setdefault(pattern.host, []).append((pattern.path.lower(), service.id))
    rows = []
    for host in hosts:
        labels = host.split(".")
        # the host itself and each parent domain: a few dictionary lookups per host, not one per rule
        for suffix in (".".join(labels[i:]) for i in range(len(labels))):
            rows.extend({"host": host, "path": path, "service": service} for path, service in by_host.get(suffix, ()))
    return pa.Table.from_pylist(rows, schema=PATH_RULES)


def agent_services_for(catalog: Catalog, agents: list[str]) -> pa.Table:
    rows = []
    for agent in agents:
        found = catalog.match_host("", user_agent=agent)
        if found is not None:
            rows.append({"user_agent": agent, "service": found.service.id})
    return pa.Table.from_pylist(rows, schema=AGENT_SERVICES)


def load_scorer(settings: Settings) -> HostScorer | None:
    """The trained model of this data directory: read as arrays (no scikit-learn import); trained and
    stored first on a fresh install, where the model module is installed."""
    from detector.classify import scorer

    stored = scorer.load(settings.home)
    if stored is not None:
        return stored
    try:
        from detector.classify import model
    except ImportError:
        return None
    return model.load_scorer(settings)


def host_traffic(connection: duckdb.DuckDBPyConnection, seen: list[str], matches: dict[str, Match | None],
                 catalog_dir: Path) -> tuple[pa.Table, pa.Table]:
    """(every host's traffic, the behaviour rows of the hosts the model judges) from one query.

    queries/host_behaviour.sql describes every host once (when, how much, how many clients) and gives
    the model's features of the hosts `features.behaviour` describes by default (not the catalog's AI
    hosts, not the non-AI lists' sites), so that scores do not depend on how the query was shared.
    `matches`: the catalog's match of each of the `seen` hosts (catalog_matches), for co-use. The behaviour
    rows keep the hosts' calls to model API paths (api_paths), which judge_hosts reads with or without a model.
    """
    from detector.classify import api_paths, features, vendor_categories

    ai_hosts = features.catalog_ai_hosts(seen, matches.__getitem__)  # the matches judge_hosts uses too
    judged = features.model_judged(seen, ai_hosts, catalog_dir)
    traffic = features.host_features(connection, ai_hosts, judged, every_host=True, catalog_dir=catalog_dir)
    described = pc.is_in(traffic.column("host"), value_set=pa.array(judged, pa.string()))
    return traffic, traffic.filter(described).select(["host", *features.BEHAVIOUR_COLUMNS, api_paths.COLUMN,
                                                      vendor_categories.COLUMN, vendor_categories.NAME_COLUMN])


API_PATH_CALLS = pa.schema([("host", pa.string()), ("url_path", pa.string()), ("requests", pa.int64())])


def api_path_use(connection: duckdb.DuckDBPyConnection, hosts: pa.Table, calls: pa.ChunkedArray,
                 catalog_dir: Path) -> tuple[pa.Table, pa.Table]:
    """A host no judgement calls AI and no analyst decided on (under a non-AI list's site, an IP address, an
    internal name) may still receive requests to a model API path: a relay on `api.cloudflare.com`, a model
    served from a cloud address. Those requests are AI use; the rest of the host's traffic is not, so the
    host stays as judged. Returns the hosts, whose rule says so for such hosts, and their (host, url_path,
    requests), which ai_events reads. `calls`: each host's requests to a model API path, in the hosts' order."""
    from detector.classify import api_paths

    other = pc.and_(pc.greater(pc.fill_null(calls, 0), 0), pc.equal(hosts.column("match"), "none"))
    if not pc.any(other).as_py():
        return hosts, API_PATH_CALLS.empty_table()
    connection.register("api_path_hosts", pa.table({"host": hosts.filter(other).column("host")}))
    try:
        found = db.run(connection, "api_path_calls", api_path_pattern=api_paths.default_pattern(catalog_dir))
    finally:
        connection.unregister("api_path_hosts")
    said = pc.binary_join_element_wise(pc.cast(calls, pa.string()), api_paths.AI_USE_RULE, "")
    rule = hosts.column("rule")
    rule = pc.if_else(other, pc.coalesce(pc.binary_join_element_wise(rule, said, "; "), said), rule)
    return hosts.set_column(hosts.schema.get_field_index("rule"), "rule", rule), found.cast(API_PATH_CALLS)


def catalog_matches(catalog: Catalog, hosts: list[str]) -> dict[str, Match | None]:
    """The catalog's match of each host, once: host_traffic needs the catalog's AI hosts (co-use) before
    the traffic is read, and judge_hosts the same matches (they were matched twice: ~0.1 s of Python on
    50,000 hosts, beside the scan)."""
    return {h: catalog.match_host(h) for h in hosts if h}


def client_tables(cursor: duckdb.DuckDBPyConnection, settings: Settings,
                  steps: dict[str, tuple[float, float]]) -> tuple[list[str], list[str]]:
    """What classify builds without the hosts' judgements: who was at which address when (stretches,
    proxy sessions, DHCP leases); returns the client addresses and the user agents seen. Runs on its own
    cursor beside host_traffic (see classify)."""
    with timed(steps, "client_stretches"):
        # a table, not a temp table: the main connection reads it later (people_daily)
        cursor.execute(f"create table client_stretches as {db.query_text('client_stretches')}",
                       {"gap_seconds": settings.session_gap_seconds})
        addresses = db.run(cursor, "client_addresses").column("src_ip").to_pylist()
    with timed(steps, "agents"):
        agents = db.run(cursor, "agents_seen").column("user_agent").to_pylist()
    with timed(steps, "proxy_sessions"):
        cursor.execute(f"create table proxy_sessions as {db.query_text('proxy_sessions')}",
                       {"gap_seconds": settings.session_gap_seconds,
                        "window_seconds": settings.session_window_seconds})
    with timed(steps, "dhcp_leases"):
        cursor.execute(f"create table dhcp_leases as {db.query_text('dhcp_leases')}",
                       {"lease_seconds": settings.lease_seconds})
    return addresses, agents


def source_counts(cursor: duckdb.DuckDBPyConnection, steps: dict[str, tuple[float, float]]) -> None:
    """Each source's daily counts (source_daily), on the side cursor once host_traffic is read: while the
    judging thread finishes (Python, one core) rather than beside host_traffic, where both cores are busy."""
    with timed(steps, "source_daily"):
        cursor.execute(f"create table source_daily as {db.query_text('source_daily')}")


def judge_seen_hosts(loading: Future[Inputs], hosts: list[str], behaviour_read: Future[pa.Table],
                     catalog: Catalog, matches: dict[str, Match | None]) -> pa.Table:
    """judge_hosts on the lake's hosts, as soon as the inputs are loaded; the traffic features are waited
    for only once the names are judged (the model's traffic stage, calls to model API paths). `matches`:
    `catalog`'s of the hosts (catalog_matches)."""
    from detector.classify.hosts import judge_hosts
    from detector.signatures import normalise_host

    inputs = loading.result()
    return judge_hosts([normalise_host(h) for h in hosts], inputs.catalog, inputs.labels, inputs.scorer,
                       behaviour_read.result,
                       matches if inputs.catalog is catalog else None)


def in_order_of(judged: pa.Table, hosts: list[str], traffic_hosts: pa.ChunkedArray, inputs: Inputs,
                behaviour: pa.Table | None) -> pa.Table:
    """The judgements of `hosts` in the order of the traffic table's hosts. Both are the lake's distinct
    hosts; should the traffic have one the list lacked, those are judged again in full here."""
    from detector.classify.hosts import judge_hosts
    from detector.signatures import normalise_host

    where = pc.index_in(traffic_hosts, value_set=pa.array(hosts, pa.string()))
    if where.null_count == 0:
        return judged.take(where)
    names = [normalise_host(h) for h in traffic_hosts.to_pylist()]
    return judge_hosts(names, inputs.catalog, inputs.labels, inputs.scorer, behaviour)


# The columns of ai_events that usage_daily and user_daily read: classify keeps only these (~1.1M events on
# the 10M benchmark lake: writing all 23 columns cost ~0.5 s CPU more); a rollup that reads another fails.
ROLLUP_COLUMNS = ("ts, day, source_kind, department, service, host, host_source, service_name, category, verdict, "
                  "user_id, src_ip, bytes_out, bytes_in, action")


def write_rollup(cursor: duckdb.DuckDBPyConnection, name: str, steps: dict[str, tuple[float, float]]) -> None:
    """Write queries/<name>.sql's rows straight into the new catalog database (`fresh`)."""
    with timed(steps, name):
        cursor.execute(f"create table fresh.{name} as {db.query_text(name)}")


@contextlib.contextmanager
def timed(steps: dict[str, tuple[float, float]], name: str) -> Iterator[None]:
    """Record the wall and CPU seconds (all threads) the block took under `name`."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    steps[name] = (round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2))


@dataclass
class Inputs:
    """What a classify judges with: catalog, policy, analysts' labels and the stored model."""

    catalog: Catalog
    policy: Policy
    labels: dict[str, Label]
    scorer: HostScorer | None


def load_catalog(settings: Settings) -> Catalog:
    """The configured catalog (see the note on imports above: classify calls this in its background thread)."""
    from detector.signatures import load_catalog as load

    return load(settings.catalog_dir)


def load_inputs(settings: Settings, catalog: Catalog | None) -> Inputs:
    from detector.enrich.policy import load_policy
    from detector.labels import read_labels

    catalog = catalog or load_catalog(settings)
    return Inputs(catalog, load_policy(settings.home, catalog), read_labels(settings.home), load_scorer(settings))


def classify(settings: Settings, catalog: Catalog | None = None) -> ClassifyReport:
    started, started_cpu = time.perf_counter(), time.process_time()
    steps: dict[str, tuple[float, float]] = {}
    connection = db.open_connection(settings)
    # Python work (loading the catalog and the model, judging host names) runs in a second thread while
    # DuckDB, which releases the GIL, scans the lake: on a 2-core machine that hides most of it.
    background = ThreadPoolExecutor(max_workers=1)
    # The tables that need no judgements are built on a cursor of their own beside host_traffic: each
    # query has phases that keep one core busy (merging, Python between queries), which the other fills.
    beside = ThreadPoolExecutor(max_workers=1)
    side_cursor: duckdb.DuckDBPyConnection | None = None
    building_client_tables: Future[tuple[list[str], list[str]]] | None = None
    counting: Future[None] | None = None
    behaviour_read: Future[pa.Table] | None = None
    try:
        # classify's results are tables, not ordered output: letting DuckDB drop order saves memory
        connection.execute("set preserve_insertion_order = false")
        with timed(steps, "open_lake"):
            db.create_lake_views(connection, Lake(settings.lake))
        # the catalog (host_traffic needs it for co-use), then the model, while the lake is read; not while
        # the views are made above: that is Python work too, which waits for the GIL the loading holds
        cataloguing = background.submit(lambda: catalog or load_catalog(settings))
        with timed(steps, "flow_names"):
            # the names stay in their day files, which every connection's `events` view reads
            naming = flows.update_flow_names(connection, Lake(settings.lake), settings.flow_names,
                                             settings.dns_window_seconds)
            db.create_flow_names_view(connection, naming.files)
            db.create_events_view(connection)
        side = side_cursor = db.session_cursor(connection)
        building_client_tables = beside.submit(client_tables, side, settings, steps)
        with timed(steps, "hosts"):
            seen_hosts = db.run(connection, "hosts_distinct").column("host").to_pylist()
        with timed(steps, "catalog (waited for)"):
            loaded_catalog = cataloguing.result()
        loading = background.submit(load_inputs, settings, loaded_catalog)
        with timed(steps, "catalog matches"):
            matches = catalog_matches(loaded_catalog, seen_hosts)
        # The names are judged (labels, the model's name scores: Python, most of judging's time) while
        # DuckDB reads the hosts' traffic; the model's traffic stage then waits for `behaviour_read`.
        behaviour_read = Future()
        judging = background.submit(judge_seen_hosts, loading, seen_hosts, behaviour_read, loaded_catalog, matches)
        with timed(steps, "host_traffic"):
            traffic, behaviour = host_traffic(connection, seen_hosts, matches, settings.catalog_dir)
        behaviour_read.set_result(behaviour)
        # queued after the client tables on the side cursor
        counting = beside.submit(source_counts, side, steps)
        with timed(steps, "load (waited for)"):
            inputs = loading.result()
        with timed(steps, "client tables (waited for)"):
            addresses, agents = building_client_tables.result()
        with timed(steps, "judge (waited for)"):
            judged = in_order_of(judging.result(), seen_hosts, traffic.column("host"), inputs, behaviour)
        # the judged names are the traffic's hosts normalised, in its order (see in_order_of)
        names = judged.column("host").to_pylist()
        hosts = judged.set_column(0, "host", traffic.column("host"))
        for column in ("first_seen", "last_seen", "events"):
            hosts = hosts.append_column(column, traffic.column(column))
        hosts = hosts.append_column("clients", pc.cast(traffic.column("clients"), pa.int64()))
        with timed(steps, "api_path_calls"):
            hosts, api_path_calls = api_path_use(connection, hosts, traffic.column("api_calls"), settings.catalog_dir)
        from detector.enrich import directory
        from detector.enrich.policy import verdict_table

        policy = inputs.policy
        users = directory.read_users(settings.home)
        networks = directory.read_networks(settings.home)
        departments = {*pc.drop_null(users.column("department")).to_pylist(), *(d for _, d in networks),
                       *(d for rule in [*policy.services.values(), *policy.categories.values()]
                         for d in rule.departments)}
        services = services_table(inputs.catalog)
        services = services.append_column(
            "verdict", pa.array([policy.verdict(s, c) for s, c in zip(
                services.column("service").to_pylist(), services.column("category").to_pylist(), strict=True)],
                pa.string()))
        tables = {
            "hosts": hosts,
            "services": services,
            "path_rules": path_rules_for(inputs.catalog, names),
            "api_path_calls": api_path_calls,
            "agent_services": agent_services_for(inputs.catalog, agents),
            "user_departments": users,
            "ip_departments": directory.ip_departments(addresses, networks),
            "workstation_users": directory.read_workstations(settings.home),
            "verdicts": verdict_table(policy, inputs.catalog, departments),
        }
        for name, table in tables.items():
            connection.register(f"incoming_{name}", table)
            connection.execute(f"create table {name} as select * from incoming_{name}")
            connection.unregister(f"incoming_{name}")
        with timed(steps, "source_daily (waited for)"):
            counting.result()
        with building_catalog_database(connection, settings.database):
            for name in ["proxy_sessions", "dhcp_leases", "source_daily", *tables]:
                connection.execute(f"create table fresh.{name} as select * from main.{name}")
            # candidate_events reads the lake and the judgements only: it is written on the side cursor
            # beside ai_events and the rollups, whose phases that keep one core busy it fills
            candidates = beside.submit(write_rollup, side, "candidate_events", steps)
            try:
                with timed(steps, "ai_events"):
                    # the per-event joins of attribution run once; the rollups below read their result
                    connection.execute(f"create temp table ai_events as select {ROLLUP_COLUMNS} "
                                       f"from ({db.query_text('ai_events')})")
                # the rollups go straight into the new file: they are not read again here
                for rollup in ("usage_daily", "user_daily", "people_daily"):
                    write_rollup(connection, rollup, steps)
            except BaseException:
                side.interrupt()  # failing: the new file is dropped, do not wait for the side query
                wait([candidates])
                raise
            with timed(steps, "candidates (waited for)"):
                candidates.result()
    finally:
        if behaviour_read is not None and not behaviour_read.done():
            behaviour_read.cancel()  # failing: the judging thread must not wait for it
        if side_cursor is not None and any(f is not None and not f.done() for f in (building_client_tables, counting)):
            side_cursor.interrupt()  # failing: do not wait for the side queries to finish
        beside.shutdown()
        background.shutdown(cancel_futures=True)
        if side_cursor is not None:
            side_cursor.close()
        connection.close()
    is_ai = hosts.column("is_ai")
    matches = pc.value_counts(hosts.column("match")).to_pylist()
    return ClassifyReport(
        hosts=hosts.num_rows,
        ai_hosts=pc.sum(pc.cast(is_ai, pa.int64())).as_py() or 0,
        by_match={m["values"]: m["counts"] for m in matches},
        services_seen=len(set(pc.drop_null(pc.filter(hosts.column("service"), is_ai)).to_pylist())),
        flow_days_named=len(naming.named_days),
        flow_days_kept=len(naming.kept_days),
        model=inputs.scorer.name if inputs.scorer else None,
        seconds=round(time.perf_counter() - started, 2),
        cpu_seconds=round(time.process_time() - started_cpu, 2),
        steps=steps,
    )


@contextlib.contextmanager
def building_catalog_database(connection: duckdb.DuckDBPyConnection, database: Path) -> Iterator[None]:
    """Attach a fresh DuckDB file as `fresh` for the block to fill, then move it over the old one in one
    step; if the block fails, the old one stays and the fresh file is removed."""
    database.parent.mkdir(parents=True, exist_ok=True)
    temporary = database.with_name(f".{database.name}.{uuid.uuid4().hex}.tmp")
    literal = "'" + str(temporary).replace("'", "''") + "'"
    try:
        connection.execute(f"attach {literal} as fresh")
        try:
            yield
        finally:
            connection.execute("detach fresh")
        os.replace(temporary, database)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        with contextlib.suppress(FileNotFoundError):
            Path(str(temporary) + ".wal").unlink()
