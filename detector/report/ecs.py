"""Events and findings as Elastic Common Schema documents, one JSON object per line (NDJSON), for a SIEM.

Events: every AI event of the period, with the service, verdict and department this product added;
no client address, URL path or user agent (the SIEM has the raw logs for those), pseudonyms only on
request. Findings: the alerts of the period and the daily use per department and service, with
small groups' user counts left out. Product-specific fields live under `shadow_ai`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import duckdb

from detector import db
from detector.config import Settings
from detector.report.alerts import ECS_VERSION
from detector.report.data import day_end, is_small
from detector.report.period import Period

OBSERVER_TYPES = {"proxy": "proxy", "dns": "dns", "firewall": "firewall", "sensor": "sensor"}
BATCH_ROWS = 50_000


def _timestamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _drop_empty(document: dict[str, Any]) -> dict[str, Any]:
    """ECS leaves out what is unknown rather than writing nulls."""
    cleaned: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            value = _drop_empty(value)
            if not value:
                continue
        if value is None or value == []:
            continue
        cleaned[key] = value
    return cleaned


def event_document(row: dict[str, Any], organisation: str) -> dict[str, Any]:
    kind = row["source_kind"]
    # A DNS lookup is one whatever logged it (a JSON export's DNS rows are of the proxy kind): never a web request.
    lookup = row.get("host_source") == "dns_query"
    web = kind == "proxy" and not lookup
    categories = ["network", "web"] if web else ["network"]
    return _drop_empty({
        "@timestamp": _timestamp(row["ts"]),
        "ecs": {"version": ECS_VERSION},
        "event": {"kind": "event", "category": categories, "type": ["connection"], "action": row["action"],
                  "module": "shadow_ai", "dataset": "shadow_ai.ai_event", "provider": row["log_format"],
                  "id": f"{row['file_id']}:{row['line_no']}"},
        "observer": {"type": OBSERVER_TYPES.get(kind, kind)},
        "organization": {"name": organisation or None},
        "destination": {"domain": row["host"], "bytes": row["bytes_in"]},
        "source": {"bytes": row["bytes_out"]},
        "url": {"domain": row["host"]} if web else {},
        "dns": {"question": {"name": row["host"]}} if lookup else {},
        "http": {"request": {"method": row["http_method"]}},
        "user": {"id": row["user_id"]},
        "shadow_ai": {
            "service": {"id": row["service"], "name": row["service_name"], "category": row["category"]},
            "match": row["match"], "verdict": row["verdict"], "department": row["department"],
            "attribution": row["attribution"],
        },
    })


def events(connection: duckdb.DuckDBPyConnection, period: Period, organisation: str,
           pseudonyms: bool = False) -> Iterator[str]:
    """NDJSON lines of the period's AI events, streamed in batches (a month can be millions)."""
    relation = connection.sql(db.query_text("export_ai_events"),
                              params={"start": period.start, "end": period.end, "pseudonyms": pseudonyms})
    reader = relation.to_arrow_reader(BATCH_ROWS)
    for batch in reader:
        for row in batch.to_pylist():
            yield json.dumps(event_document(row, organisation), ensure_ascii=False, sort_keys=True)


def findings(settings: Settings, period: Period) -> Iterator[str]:
    """NDJSON lines: the period's alerts (event.kind alert), then its daily use (event.kind metric)."""
    from detector.report.build import gather
    from detector.report.config import load_options

    options = load_options(settings)
    data = gather(settings, period, options)
    for alert in data.alerts:
        yield json.dumps(alert.to_ecs(settings.organisation, period), ensure_ascii=False, sort_keys=True,
                         default=str)
    with db.connect(settings) as connection:
        rows = db.run(connection, "export_usage", start=period.start, end=period.end).to_pylist()
    for row in rows:
        yield json.dumps(usage_document(row, settings.organisation, settings.min_group_size), ensure_ascii=False,
                         sort_keys=True)


def usage_document(row: dict[str, Any], organisation: str, minimum: int) -> dict[str, Any]:
    small = is_small(row["users"], minimum)
    return _drop_empty({
        "@timestamp": _timestamp(day_end(row["day"])),
        "ecs": {"version": ECS_VERSION},
        "message": f"{row['service_name']} used by {row['department']} on {row['day'].isoformat()}: "
                   f"{row['events']} events ({row['verdict']})",
        "event": {"kind": "metric", "category": ["network"], "type": ["info"], "module": "shadow_ai",
                  "dataset": "shadow_ai.usage_daily",
                  "id": f"usage:{row['day'].isoformat()}:{row['department']}:{row['service_key']}:{row['verdict']}"},
        "organization": {"name": organisation or None},
        "shadow_ai": {
            "service": {"id": row["service"], "key": row["service_key"], "name": row["service_name"],
                        "category": row["category"]},
            "verdict": row["verdict"], "department": row["department"], "day": row["day"].isoformat(),
            "users": None if small else row["users"], "users_suppressed": small or None,
            "events": row["events"], "bytes_out": row["bytes_out"], "bytes_in": row["bytes_in"],
            "blocked": row["blocked"],
        },
    })
