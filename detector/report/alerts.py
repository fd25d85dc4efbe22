"""Alert rules (`[alerts]` in shadow-ai.toml) checked on each report, and the SIEM file they go to.

Rules: a forbidden service was used (requests that were not blocked); an AI service of risk level high
or critical was used for the first time; a department uploaded more than N MB in one day to
unsanctioned AI; a log source that was sending has been silent for N hours. Alerts name services,
departments and log sources, never people or addresses.

Each alert has a stable id (rule + what it is about + the day or period), so that re-running a report
appends nothing new to the SIEM file and a SIEM can de-duplicate on `event.id`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from detector import db
from detector.errors import DetectorError
from detector.report import fmt
from detector.report.config import AlertRules
from detector.report.data import ReportData, day_end
from detector.report.period import Period

ECS_VERSION = "8.11.0"
SEVERITY = {"high": 73, "medium": 47, "low": 21}  # ECS event.severity, as Elastic's rule severities map them
MB = 1_000_000

RULES = {
    "forbidden_used": "Forbidden AI service used",
    "new_high_risk_service": "New high-risk AI service",
    "upload_volume": "Large upload to unsanctioned AI",
    "silent_source": "Log source silent",
}


@dataclass(frozen=True)
class Alert:
    rule: str
    severity: str
    message: str
    subject: str  # what it is about: a service, a department, a source
    day: date  # the day it concerns (the period's last day for rules about the whole period)
    scope: str  # the day or the period label: part of the id
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return RULES[self.rule]

    @property
    def id(self) -> str:
        return hashlib.sha256(f"{self.rule}|{self.subject}|{self.scope}".encode()).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "rule": self.rule, "title": self.title, "severity": self.severity,
                "message": self.message, "subject": self.subject, "day": self.day.isoformat(),
                "facts": self.facts}

    def to_ecs(self, organisation: str, period: Period) -> dict[str, Any]:
        """One Elastic Common Schema document; product-specific facts under `shadow_ai`."""
        document: dict[str, Any] = {
            "@timestamp": day_end(self.day).isoformat().replace("+00:00", "Z"),
            "ecs": {"version": ECS_VERSION},
            "message": self.message,
            "event": {
                "kind": "alert",
                "category": ["network"] if self.rule != "silent_source" else ["host"],
                "type": ["info"],
                "action": self.rule,
                "id": self.id,
                "severity": SEVERITY[self.severity],
                "module": "shadow_ai",
                "dataset": "shadow_ai.alert",
                "provider": "shadow-ai",
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
            },
            "rule": {"id": self.rule, "name": self.title, "ruleset": "shadow-ai", "category": "AI governance"},
            "observer": {"product": "shadow-ai detector", "vendor": "shadow-ai", "type": "analyzer"},
            "organization": {"name": organisation},
            "shadow_ai": {"subject": self.subject, "severity": self.severity, **self.facts},
        }
        domains = self.facts.get("domains")
        if domains:
            document["destination"] = {"domain": domains[0]}
        return document


def evaluate(connection: duckdb.DuckDBPyConnection, data: ReportData, rules: AlertRules) -> list[Alert]:
    """Every alert the configured rules raise for the report's period, most severe first."""
    period = data.period
    found: list[Alert] = []
    if rules.forbidden_used:
        for row in db.run(connection, "report_forbidden_use", start=period.start, end=period.end).to_pylist():
            departments = [d for d in row["departments"] if d]
            found.append(Alert(
                "forbidden_used", "high",
                f"{row['service_name']} is forbidden by policy but was used {row['events']} time(s) on "
                f"{row['days']} day(s) by {', '.join(departments)}",
                row["service_key"], period.end, period.label,
                {"service": {"id": row["service_key"], "name": row["service_name"]}, "departments": departments,
                 "events": row["events"], "bytes_out": row["bytes_out"], "days": row["days"]}))
    if rules.new_high_risk_service:
        new = data.new_services
        for row in new[new["risk_level"].isin(["high", "critical"])].to_dict("records"):
            reasons = ", ".join(risk_reasons(row)) or "see the catalog"
            found.append(Alert(
                "new_high_risk_service", "high" if row["risk_level"] == "critical" else "medium",
                f"{row['name']} (risk {row['risk_level']}: {reasons}) was used for the first time on "
                f"{row['first_day'].isoformat()}",
                row["service_key"], row["first_day"], row["first_day"].isoformat(),
                {"service": {"id": row["service_key"], "name": row["name"], "risk_level": row["risk_level"],
                             "risk_score": row["risk_score"]}, "reasons": risk_reasons(row)}))
    if rules.upload_mb_per_day > 0:
        rows = db.run(connection, "report_upload_days", start=period.start, end=period.end,
                      min_bytes=int(rules.upload_mb_per_day * MB)).to_pylist()
        for row in rows:
            found.append(Alert(
                "upload_volume", "high",
                f"{row['department']} uploaded {row['bytes_out'] / MB:.1f} MB to unsanctioned AI on "
                f"{row['day'].isoformat()} ({', '.join(row['services'])}); the threshold is "
                f"{rules.upload_mb_per_day:g} MB per day",
                row["department"], row["day"], row["day"].isoformat(),
                {"department": row["department"], "bytes_out": row["bytes_out"], "services": row["services"],
                 "threshold_mb": rules.upload_mb_per_day}))
    if rules.silent_source_hours > 0:
        for row in data.silent_sources.to_dict("records"):
            source = f"{row['source_kind']}/{row['log_format']}"
            last = row["last_event"]
            found.append(Alert(
                "silent_source", "medium",
                f"log source {source} sent nothing for {row['silent_hours']:g} hours before the end of the "
                f"period (last event {last.isoformat()}); the threshold is {rules.silent_source_hours} hours",
                source, period.end, period.end.isoformat(),
                {"source": {"kind": row["source_kind"], "format": row["log_format"]},
                 "last_event": last.isoformat(), "silent_hours": row["silent_hours"]}))
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted(found, key=lambda alert: (order[alert.severity], alert.rule, alert.day, alert.subject))


def risk_reasons(row: dict[str, Any]) -> list[str]:
    """Why a catalog service is risky, in the words a board understands, from its risk facts."""
    row = {key: (None if fmt.missing(value) else value) for key, value in row.items()}
    reasons = []
    location = row.get("data_location")
    if location and location != "EU":
        reasons.append(f"data processed outside the EU ({location})")
    trains = row.get("trains_on_inputs")
    if trains is True:
        reasons.append("uses inputs for training by default")
    elif trains is None and location is not None:
        reasons.append("unknown whether inputs are used for training")
    dpa = row.get("gdpr_dpa")
    if dpa is False:
        reasons.append("no data processing agreement available")
    elif dpa is None and location is not None:
        reasons.append("no known data processing agreement")
    if row.get("enterprise_plan") is False:
        reasons.append("no business plan with contractual safeguards")
    return reasons


def append_to_siem(path: Path, alerts: list[Alert], organisation: str, period: Period) -> int:
    """Append alerts not yet in the file as JSON lines; returns how many were appended.

    Ids already in the file are skipped, so a re-run of the same report appends nothing."""
    if not alerts:
        return 0
    seen: set[str] = set()
    try:
        if path.exists():
            with path.open(encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    try:
                        seen.add(json.loads(line)["event"]["id"])
                    except (ValueError, KeyError, TypeError):
                        continue
        fresh = [alert for alert in alerts if alert.id not in seen]
        if not fresh:
            return 0
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(alert.to_ecs(organisation, period), ensure_ascii=False, sort_keys=True,
                                  default=str) + "\n" for alert in fresh)
        # One write of whole lines in append mode: a collector never reads half an alert.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise DetectorError(f"cannot write the SIEM file: {exc.strerror}", str(path)) from exc
    return len(fresh)
