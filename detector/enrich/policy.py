"""The organisation's AI policy (`policy.yaml` in the data directory) and the verdicts it gives.

A verdict is decided, most specific first, by: the service for this department, the service, the
category for this department, the category, then `default` (for AI services nobody listed: `shadow`).
Verdicts are precomputed per (service, department) into a small table joined at query time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import pyarrow as pa
import yaml

from detector.errors import ConfigError
from detector.signatures import CATEGORIES, Catalog
from detector.text_files import read_text

Verdict = Literal["sanctioned", "tolerated", "forbidden", "shadow"]
VERDICTS: tuple[str, ...] = get_args(Verdict)
NOT_AI = "not-ai"
POLICY_FILE = "policy.yaml"

STARTER_POLICY = """\
# The organisation's policy for AI services: which are sanctioned (approved, with a processing
# agreement), tolerated (allowed, not endorsed), forbidden (to be blocked), and the default for AI
# services nobody has listed yet ("shadow": in use without any decision).
#
# Most specific wins: a service's department exception, the service, a category's department
# exception, the category, then `default`. Service ids are the file names in the signature catalog
# (`shadow-ai lookup HOST` shows a host's service id); categories are: chat, api, writing, translation,
# transcription, code, image, video, audio, search, document, presentation, agent, other.
# Department names are those of users.csv / networks.csv.
#
# Example:
#   services:
#     microsoft_365_copilot: sanctioned
#     deepl:
#       verdict: tolerated
#       departments:
#         Communicatie: sanctioned
#     github_copilot:
#       verdict: forbidden
#       departments:
#         ICT: sanctioned
#     deepseek: forbidden
#   categories:
#     transcription: forbidden   # meeting note-takers record citizens' conversations

default: shadow
services: {}
categories: {}
"""


@dataclass(frozen=True)
class Rule:
    verdict: str
    departments: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    default: str = "shadow"
    services: dict[str, Rule] = field(default_factory=dict)
    categories: dict[str, Rule] = field(default_factory=dict)

    def verdict(self, service: str | None, category: str | None, department: str | None = None) -> str:
        """The verdict for an AI service (or an unlisted one: service and category None)."""
        for rule in (self.services.get(service or ""), self.categories.get(category or "")):
            if rule is None:
                continue
            if department is not None and department in rule.departments:
                return rule.departments[department]
            return rule.verdict
        return self.default


def policy_path(home: Path) -> Path:
    return home / POLICY_FILE


def ensure_policy(home: Path) -> Path:
    """Write the commented starter policy on first run; never overwrite the organisation's."""
    path = policy_path(home)
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(STARTER_POLICY, encoding="utf-8")
    return path


def load_policy(home: Path, catalog: Catalog) -> Policy:
    """Read and validate policy.yaml; every problem is reported at once, with the file."""
    path = ensure_policy(home)
    try:
        data = yaml.safe_load(read_text(path)) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", str(path)) from exc
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping with default, services and categories", str(path))
    unknown = set(data) - {"default", "services", "categories"}
    if unknown:
        problems.append(f"unknown keys: {', '.join(sorted(unknown))} (allowed: default, services, categories)")
    default = data.get("default", "shadow")
    if default not in VERDICTS:
        problems.append(f"default: {default!r} is not one of {', '.join(VERDICTS)}")
    services = _rules(data.get("services"), "services", set(catalog.services), problems)
    categories = _rules(data.get("categories"), "categories", set(CATEGORIES), problems)
    if problems:
        raise ConfigError("invalid policy:\n  " + "\n  ".join(problems), str(path))
    return Policy(default=default, services=services, categories=categories)


def _rules(value: Any, section: str, known: set[str], problems: list[str]) -> dict[str, Rule]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{section}: expected a mapping of {section[:-1]} -> verdict")
        return {}
    rules = {}
    for name, spec in value.items():
        where = f"{section}.{name}"
        if name not in known:
            problems.append(f"{where}: unknown {section[:-1]} (see `shadow-ai lookup` or signatures/)")
            continue
        if isinstance(spec, str):
            spec = {"verdict": spec}
        if not isinstance(spec, dict) or set(spec) - {"verdict", "departments"}:
            problems.append(f"{where}: expected a verdict, or verdict + departments")
            continue
        verdict = spec.get("verdict")
        if verdict not in VERDICTS:
            problems.append(f"{where}.verdict: {verdict!r} is not one of {', '.join(VERDICTS)}")
            continue
        departments = spec.get("departments") or {}
        if not isinstance(departments, dict):
            problems.append(f"{where}.departments: expected a mapping of department -> verdict")
            continue
        for department, exception in departments.items():
            if exception not in VERDICTS:
                problems.append(f"{where}.departments.{department}: {exception!r} is not one of {', '.join(VERDICTS)}")
        rules[name] = Rule(verdict=verdict, departments={str(k): str(v) for k, v in departments.items()})
    return rules


VERDICT_TABLE = pa.schema([("service", pa.string()), ("department", pa.string()), ("verdict", pa.string())])


def verdict_table(policy: Policy, catalog: Catalog, departments: Iterable[str | None]) -> pa.Table:
    """Verdict per (service, department), including service null (unlisted AI) and department null."""
    wanted: list[str | None] = [*sorted({d for d in departments if d}), None]
    rows = []
    for service_id, service in [*catalog.services.items(), (None, None)]:
        category = service.category if service else None
        for department in wanted:
            rows.append({"service": service_id, "department": department,
                         "verdict": policy.verdict(service_id, category, department)})
    return pa.Table.from_pylist(rows, schema=VERDICT_TABLE)
