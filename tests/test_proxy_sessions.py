"""queries/proxy_sessions.sql numbers each (address, user) pair and runs its windows over that number instead
of the two texts. These tests hold it to the definition, computed here in plain Python: per address and user,
stretches in time order, a new session where the user was silent for longer than the gap, widened by the
window each side; pairs with a null address or user make no session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector import db

GAP, WINDOW = 1800, 900
START = datetime(2026, 11, 30, tzinfo=UTC)
STRETCHES = pa.schema([("src_ip", pa.string()), ("user_name", pa.string()), ("first_ts", pa.timestamp("us", "UTC")),
                       ("last_ts", pa.timestamp("us", "UTC")), ("events", pa.int64())])


def sessions_by_definition(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
    by_pair: dict[tuple[object, object], list[dict[str, object]]] = {}
    for row in rows:
        if row["src_ip"] is not None and row["user_name"] is not None:
            by_pair.setdefault((row["src_ip"], row["user_name"]), []).append(row)
    found = []
    for (address, user), stretches in by_pair.items():
        stretches.sort(key=lambda r: r["first_ts"])  # type: ignore[arg-type, return-value]
        current: list[dict[str, object]] = []
        for row in stretches:
            if current and (row["first_ts"] - current[-1]["last_ts"]).total_seconds() > GAP:  # type: ignore[operator]
                found.append(_session(address, user, current))
                current = []
            current.append(row)
        found.append(_session(address, user, current))
    return sorted(found)


def _session(address: object, user: object, stretches: list[dict[str, object]]) -> tuple[object, ...]:
    window = timedelta(seconds=WINDOW)
    return (address, user, min(r["first_ts"] for r in stretches) - window,  # type: ignore[operator, type-var]
            max(r["last_ts"] for r in stretches) + window, sum(r["events"] for r in stretches))  # type: ignore[misc, type-var]


@st.composite
def stretch_rows(draw: st.DrawFn) -> list[dict[str, object]]:
    """Stretches of a few addresses and users (a user on several addresses, an address with several users,
    some without address or user), each starting at its own minute, lasting up to an hour."""
    minutes = draw(st.lists(st.integers(0, 3 * 24 * 60), min_size=1, max_size=60, unique=True))
    rows = []
    for minute in minutes:
        first = START + timedelta(minutes=minute)
        rows.append({"src_ip": draw(st.sampled_from(["10.0.0.1", "10.0.0.2", "10.0.0.3", None])),
                     "user_name": draw(st.sampled_from(["anna", "bob", "10.0.0.1", None])),
                     "first_ts": first, "last_ts": first + timedelta(seconds=draw(st.integers(0, 3600))),
                     "events": draw(st.integers(1, 50))})
    return rows


@settings(max_examples=60, deadline=None)
@given(stretch_rows())
def test_sessions_are_the_definitions_per_address_and_user(rows: list[dict[str, object]]) -> None:
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    connection.register("incoming", pa.Table.from_pylist(rows, schema=STRETCHES))
    connection.execute("create table client_stretches as select * from incoming")
    got = connection.execute(db.query_text("proxy_sessions"), {"gap_seconds": GAP, "window_seconds": WINDOW}).fetchall()
    assert sorted(got) == sessions_by_definition(rows)
