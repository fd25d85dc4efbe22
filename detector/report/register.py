"""Candidates for the organisation's algorithm register (for Dutch public bodies: the Algoritmeregister):
the AI services the policy sanctions, with the facts a register entry asks for — what it is and who
supplies it, its purpose, where data is processed, whether a processing agreement exists, whether inputs
train the vendor's models, the sources of those facts, and which departments use it.

A starting point for the register's owner, not an entry: purpose and legal basis of each use are the
organisation's to write.
"""

from __future__ import annotations

from typing import Any

from detector import db
from detector.config import Settings
from detector.enrich.policy import Policy, load_policy
from detector.report.csvout import to_csv
from detector.report.data import is_small
from detector.report.period import Period
from detector.signatures import Catalog, Service, load_catalog

COLUMNS = ("service", "name", "vendor", "category", "purpose", "sanctioned_for", "hq_country", "data_location",
           "gdpr_dpa", "trains_on_inputs", "enterprise_plan", "risk_level", "risk_score", "users",
           "departments_using", "first_used", "last_used", "sources", "facts_verified")


def sanctioned_for(policy: Policy, service: Service) -> str | None:
    """Where the policy sanctions the service: the whole organisation, some departments, or nowhere."""
    whole = policy.verdict(service.id, service.category) == "sanctioned"
    rule = policy.services.get(service.id) or policy.categories.get(service.category)
    departments = sorted(d for d, v in (rule.departments.items() if rule else ()) if v == "sanctioned")
    if whole:
        others = sorted(d for d, v in (rule.departments.items() if rule else ()) if v != "sanctioned")
        return "whole organisation" + (f" except {', '.join(others)}" if others else "")
    return ", ".join(departments) if departments else None


def _tri(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def rows(catalog: Catalog, policy: Policy, usage: list[dict[str, Any]], minimum: int) -> list[dict[str, Any]]:
    """One row per sanctioned service; departments with fewer users than `minimum` are only counted."""
    by_service: dict[str, list[dict[str, Any]]] = {}
    for row in usage:
        by_service.setdefault(row["service"], []).append(row)
    found = []
    for service in catalog.services.values():
        where = sanctioned_for(policy, service)
        if where is None:
            continue
        used = by_service.get(service.id, [])
        total = next((row for row in used if row["department"] is None), None)
        departments = [row for row in used if row["department"] is not None]
        named = sorted(row["department"] for row in departments if row["users"] >= minimum)
        hidden = len(departments) - len(named)
        listing = ", ".join(named) + (f"{' and ' if named else ''}{hidden} smaller group(s)" if hidden else "")
        users = total["users"] if total else 0
        facts = service.risk
        found.append({
            "service": service.id, "name": service.name, "vendor": service.vendor, "category": service.category,
            "purpose": service.description, "sanctioned_for": where, "hq_country": facts.hq_country,
            "data_location": facts.data_location, "gdpr_dpa": _tri(facts.gdpr_dpa),
            "trains_on_inputs": _tri(facts.trains_on_inputs), "enterprise_plan": _tri(facts.enterprise_plan),
            "risk_level": service.risk_level, "risk_score": service.risk_score,
            "users": f"< {minimum}" if is_small(users, minimum) else users,
            "departments_using": listing, "first_used": total["first_day"] if total else None,
            "last_used": total["last_day"] if total else None, "sources": list(facts.sources),
            "facts_verified": facts.last_verified,
        })
    return found


def register_csv(settings: Settings, period: Period) -> str:
    catalog = load_catalog(settings.catalog_dir)
    policy = load_policy(settings.home, catalog)
    with db.connect(settings) as connection:
        usage = db.run(connection, "export_register", start=period.start, end=period.end).to_pylist()
    return to_csv(COLUMNS, rows(catalog, policy, usage, settings.min_group_size))
