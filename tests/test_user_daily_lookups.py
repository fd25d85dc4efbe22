"""user_daily counts each DNS lookup once per row, client, host and minute by grouping the lookups apart
(queries/user_daily.sql), not with a count(distinct ...) over every event: its rows must be those of the
count(distinct) formulation it replaced (REFERENCE below), on any mix of lookups and other events,
blocked or not, with or without a user, service, action or byte count."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
import pytest

from detector import db

# user_daily.sql as it was before the lookups were grouped apart (count(distinct lookup) over all events)
REFERENCE = """
with ai_events as (
    select day, department, service, host, service_name, category, verdict, user_id, src_ip, bytes_out, action,
        case when host_source = 'dns_query' then (src_ip, host, date_trunc('minute', ts)) end as lookup
    from ai_events
),
directory as (select distinct user_id from user_departments),
grouped as (
    select
        day, department, coalesce(service, host) as service_key,
        any_value(service) as service,
        any_value(case when service is null then host end) as host,
        any_value(case when service is null then host else service_name end) as service_name,
        any_value(category) as category,
        verdict, user_id, case when user_id is null then src_ip end as client,
        count(*) filter (where lookup is null) + count(distinct lookup) as events,
        sum(bytes_out) filter (where action is distinct from 'blocked' and lookup is null) as bytes_out,
        count(*) filter (where action = 'blocked' and lookup is null)
            + count(distinct lookup) filter (where action = 'blocked') as blocked
    from ai_events
    group by day, department, coalesce(service, host), verdict, user_id, case when user_id is null then src_ip end
)
select g.day, g.department, g.service_key, g.service, g.host, g.service_name, g.category, g.verdict,
    coalesce(g.user_id, 'c-' || left(md5(g.client), 16)) as person, g.user_id,
    d.user_id is not null or not exists (select 1 from directory) as in_population,
    g.events, g.bytes_out, g.blocked
from grouped as g
left join directory as d on d.user_id = g.user_id
"""

T0 = datetime(2024, 11, 28, 8, 0, tzinfo=UTC)
# service and host go together (as classify's joins give them): a listed service, or an unlisted host
SERVICES = [("chatgpt", "chatgpt.com", "ChatGPT", "chat"), ("chatgpt", "api.openai.com", "ChatGPT", "chat"),
            ("claude", "claude.ai", "Claude", "chat"), (None, "newai.example", "unlisted AI service", "chat"),
            (None, "other.example", "unlisted AI service", None)]



def random_events(seed: int, count: int) -> list[dict[str, object]]:
    """Few values of each key, so that rows share keys and lookups repeat within a minute."""
    rng = random.Random(seed)
    return [{
        "service": rng.choice([0, 0, 0, 1, 2, 3, 4]),
        "seconds": rng.randint(50, 130),
        "day": rng.choice([0, 0, 0, 1]),
        "department": rng.choice([None, "IT", "IT", "IT"]),
        "verdict": rng.choice(["shadow", "shadow", "shadow", "forbidden"]),
        "user_id": rng.choice([None, None, "u-1", "u-2"]),
        "src_ip": rng.choice([None, "10.0.0.1", "10.0.0.1", "10.0.0.2"]),
        "bytes_out": rng.choice([None, rng.randint(0, 5000)]),
        "action": rng.choice([None, "allowed", "blocked"]),
        "host_source": rng.choice([None, "url", "dns_query", "dns_query", "dns_answer"]),
    } for _ in range(count)]


def rows_of(connection: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return sorted(connection.execute(sql).fetchall(), key=repr)


@pytest.mark.parametrize("directory", [[], ["u-1"], ["u-1", "u-2"]])
@pytest.mark.parametrize(("seed", "count"), [(seed, count) for seed in range(4) for count in (0, 1, 12, 60, 400)])
def test_user_daily_equals_the_count_distinct_formulation(seed: int, count: int, directory: list[str]) -> None:
    events = random_events(seed, count)
    columns: dict[str, list[object]] = {name: [] for name in (
        "ts", "day", "department", "service", "host", "service_name", "category", "verdict", "user_id", "src_ip",
        "bytes_out", "action", "host_source")}
    for event in events:
        service, host, name, category = SERVICES[event["service"]]
        ts = T0 + timedelta(days=event["day"], seconds=event["seconds"])
        values = {**event, "ts": ts, "day": ts.date(), "service": service, "host": host, "service_name": name,
                  "category": category}
        for column, found in columns.items():
            found.append(values[column])
    types = {"ts": pa.timestamp("us", tz="UTC"), "day": pa.date32(), "bytes_out": pa.int64()}
    table = pa.table({c: pa.array(v, types.get(c, pa.string())) for c, v in columns.items()})
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    connection.register("incoming", table)
    connection.execute("create table ai_events as select * from incoming")
    connection.execute("create table user_departments (user_id varchar, department varchar)")
    for user in directory:
        connection.execute("insert into user_departments values (?, 'IT')", [user])
    assert rows_of(connection, db.query_text("user_daily")) == rows_of(connection, REFERENCE)
