"""`shadow-ai lookup`: the product's opinion of host names, with or without a lake."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from detector.classify import api_paths
from detector.classify.hosts import LISTED_RULE, api_calls_rule, judge_hosts
from detector.classify.run import load_scorer
from detector.config import Settings
from detector.enrich.policy import NOT_AI, load_policy
from detector.labels import read_labels
from detector.signatures import load_catalog, normalise_host


class NotAHost(ValueError):
    """An argument with no host name in it (empty, or a URL without a host)."""


def host_and_path(text: str) -> tuple[str, str | None]:
    """The host (normalised) and the path, if any, of what an analyst pasted: a host name (`chatgpt.com:443`,
    `[2001:db8::1]`), `host/path` (as catalog examples write it) or a URL (`https://www.bing.com/chat?q=1`).
    The path lets AI inside a shared site be recognised (Copilot under bing.com/chat)."""
    raw = text.strip()
    if "://" in raw:
        parts = urlsplit(raw)
        host, path = parts.netloc.rpartition("@")[2], parts.path or None
    else:
        host, slash, rest = raw.partition("/")
        path = "/" + rest.split("?", 1)[0].split("#", 1)[0] if slash else None
    name = normalise_host(host)
    if not name:
        raise NotAHost(f"no host name in {text!r}")
    return name, path


@dataclass(frozen=True)
class ListSummary:
    """How many of a list's hosts are AI and how the product knows (catalog, label, model), how many are
    not, and the verdicts: what a list's coverage comes down to. `model_listed`: the model's AI hosts that are
    services of the bundled AI lists (known for certain), the rest judged by their name."""

    ai_by_match: dict[str, int]
    not_ai_by_match: dict[str, int]
    verdicts: dict[str, int]
    model_listed: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"hosts": sum(self.verdicts.values()), "ai": sum(self.ai_by_match.values()),
                "not_ai": sum(self.not_ai_by_match.values()), **asdict(self)}

    def __str__(self) -> str:
        def counts(found: dict[str, int], notes: dict[str, str] | None = None) -> str:
            return ", ".join(f"{key} {count}{(notes or {}).get(key, '')}" for key, count in found.items())

        def total(found: dict[str, int], what: str, notes: dict[str, str] | None = None) -> str:
            return f"{sum(found.values())} {what}" + (f" ({counts(found, notes)})" if found else "")
        listed = {"model": f" of which {self.model_listed} listed"}
        return (f"{sum(self.verdicts.values())} hosts: {total(self.ai_by_match, 'AI', listed)}, "
                f"{total(self.not_ai_by_match, 'not AI')}\nverdicts: {counts(self.verdicts)}")


def summarise(rows: Iterable[dict[str, object]]) -> ListSummary:
    ai: Counter[str] = Counter()
    not_ai: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    listed = 0
    for row in rows:
        (not_ai if row["verdict"] == NOT_AI else ai)[str(row["match"])] += 1
        verdicts[str(row["verdict"])] += 1
        listed += row["match"] == "model" and str(row.get("rule") or "").startswith(LISTED_RULE)
    return ListSummary(dict(sorted(ai.items())), dict(sorted(not_ai.items())), dict(sorted(verdicts.items())), listed)


def lookup_hosts(settings: Settings, hosts: list[str]) -> list[dict[str, object]]:
    """One row per host: host, service, name, category, match, score, verdict (ARCHITECTURE.md), and rule: what
    decided (the catalog's rule and pattern, the analyst's label, the model, a listed AI service, a model API path).

    A host given with a path (a URL, or `host/path`) is matched with it too: a service found by its URL
    pattern (AI inside a shared site) wins over the host's own judgement, unless an analyst labelled the host;
    a request to a model API path is AI use, as in classify: a host no judgement calls AI answers as a model
    candidate with score 1 (in classify, the host the model judges is flagged, any other's requests count).
    The verdict is the organisation-wide one of policy.yaml (department exceptions need an event's
    department, so they show in ai_events, not here)."""
    catalog = load_catalog(settings.catalog_dir)
    policy = load_policy(settings.home, catalog)
    asked = [host_and_path(h) for h in hosts]
    judged = judge_hosts([name for name, _ in asked], catalog, read_labels(settings.home),
                         load_scorer(settings)).to_pylist()
    rows = []
    for (name, path), row in zip(asked, judged, strict=True):
        if path is not None and row["match"] != "label":
            found = catalog.match_host(name, path)
            if found is not None and found.rule == "url_pattern":
                row.update(service=found.service.id, category=found.service.category, match="catalog",
                           is_ai=True, score=1.0)
            elif row["match"] == "none" and api_paths.is_api_path(path, settings.catalog_dir):
                row.update(match="model", is_ai=True, score=1.0, rule=api_calls_rule(1))
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
            "rule": row["rule"],
        })
    return rows
