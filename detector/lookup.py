"""`shadow-ai lookup`: the product's opinion of host names, with or without a lake."""

from __future__ import annotations

from detector.classify.hosts import judge_hosts
from detector.classify.run import load_scorer
from detector.config import Settings
from detector.labels import read_labels
from detector.signatures import load_catalog, normalise_host


def lookup_hosts(settings: Settings, hosts: list[str]) -> list[dict[str, object]]:
    """One row per host: host, service, name, category, match, score, verdict (ARCHITECTURE.md)."""
    catalog = load_catalog(settings.catalog_dir)
    names = [normalise_host(h) for h in hosts]
    judged = judge_hosts(names, catalog, read_labels(settings.home), load_scorer(settings)).to_pylist()
    rows = []
    for row in judged:
        service = catalog.services.get(row["service"]) if row["service"] else None
        rows.append({
            "host": row["host"],
            "service": row["service"],
            "name": service.name if service else None,
            "category": service.category if service else None,
            "match": row["match"],
            "score": row["score"],
            "verdict": "shadow" if row["is_ai"] else "not-ai",
        })
    return rows
