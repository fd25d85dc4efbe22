"""`shadow-ai lookup`: the product's opinion of host names, with or without a lake."""

from __future__ import annotations

from detector.classify.hosts import judge_hosts
from detector.classify.run import load_scorer
from detector.config import Settings
from detector.enrich.policy import NOT_AI, load_policy
from detector.labels import read_labels
from detector.signatures import load_catalog, normalise_host


def lookup_hosts(settings: Settings, hosts: list[str]) -> list[dict[str, object]]:
    """One row per host: host, service, name, category, match, score, verdict (ARCHITECTURE.md).

    The verdict is the organisation-wide one of policy.yaml (department exceptions need an event's
    department, so they show in ai_events, not here)."""
    catalog = load_catalog(settings.catalog_dir)
    policy = load_policy(settings.home, catalog)
    names = [normalise_host(h) for h in hosts]
    judged = judge_hosts(names, catalog, read_labels(settings.home), load_scorer(settings)).to_pylist()
    rows = []
    for row in judged:
        service = catalog.services.get(row["service"]) if row["service"] else None
        category = service.category if service else row["category"]
        rows.append({
            "host": row["host"],
            "service": row["service"],
            "name": service.name if service else None,
            "category": category,
            "match": row["match"],
            "score": row["score"],
            "verdict": policy.verdict(row["service"], category) if row["is_ai"] else NOT_AI,
        })
    return rows
