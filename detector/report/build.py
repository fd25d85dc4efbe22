"""The nightly report: one period's data -> report.html, CSV tables, summary.json (written last, so a
complete summary means a complete report), alerts to the SIEM file, and the optional mail.

The output depends only on the lake and the configuration, not on the clock: the same period over the
same data gives byte-identical files, overwritten in place.
"""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from detector import db
from detector.config import Settings
from detector.report import csvout, fmt, html
from detector.report.alerts import Alert, append_to_siem, evaluate, risk_reasons
from detector.report.config import ReportOptions, load_options
from detector.report.data import ReportData, collect
from detector.report.files import write_atomic
from detector.report.period import Period

# Each CSV file and its columns, explicitly: nothing reaches a file by accident.
CSV_FILES: dict[str, tuple[str, ...]] = {
    "headline.csv": ("figure", "label", "value", "previous", "change", "suppressed"),
    "departments.csv": ("department", "employees", "ai_users", "unsanctioned_users", "unsanctioned_share",
                        "services", "events", "unsanctioned_bytes_out", "blocked", "suppressed"),
    "services.csv": ("service_key", "name", "vendor", "category", "match", "verdict", "verdicts", "risk_level",
                     "risk_score", "why", "hq_country", "data_location", "trains_on_inputs", "enterprise_plan",
                     "gdpr_dpa", "users", "unsanctioned_users", "departments", "days", "events", "bytes_out",
                     "unsanctioned_bytes_out", "blocked", "first_day"),
    "new_services.csv": ("service_key", "name", "category", "match", "verdict", "risk_level", "first_day", "users",
                         "events"),
    "uploads.csv": ("service_key", "name", "verdict", "data_location", "unsanctioned_bytes_out", "unsanctioned_users",
                    "departments", "days"),
    "blocked.csv": ("service_key", "name", "verdict", "blocked", "events", "departments"),
    "candidates.csv": ("host", "registered_domain", "score", "is_ai", "clients", "events", "first_seen",
                       "last_seen", "rule"),
    "changes.csv": ("service_key", "name", "change", "users_before", "users_now"),
    "daily.csv": ("day", "ai_users", "unsanctioned_users", "events", "unsanctioned_bytes_out", "blocked"),
    "sources.csv": ("source_kind", "log_format", "status", "events", "days_with_events", "with_user",
                    "first_event", "last_event", "silent_hours"),
    "sources_daily.csv": ("source_kind", "log_format", "day", "events"),
    "rejects.csv": ("log_format", "reason", "lines", "files"),
    "alerts.csv": ("id", "rule", "title", "severity", "day", "subject", "message"),
}
HTML_FILE = "report.html"
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class ReportResult:
    directory: Path
    files: list[Path]
    alerts: list[Alert]
    siem_appended: int = 0
    mailed_to: tuple[str, ...] = field(default_factory=tuple)

    @property
    def html(self) -> Path:
        return self.directory / HTML_FILE


def report_directory(options: ReportOptions, period: Period) -> Path:
    return options.report.directory / period.label


def gather(settings: Settings, period: Period, options: ReportOptions) -> ReportData:
    """The period's data with its alerts evaluated."""
    rules = options.alerts
    with db.connect(settings) as connection:
        data = collect(connection, settings, period, rules.silent_source_hours, rules.silent_source_lookback_days)
        data.alerts = evaluate(connection, data, rules)
    return data


def write_report(settings: Settings, period: Period, out: Path | None = None,
                 options: ReportOptions | None = None, send_mail: bool = True) -> ReportResult:
    options = options or load_options(settings)
    data = gather(settings, period, options)
    directory = out or report_directory(options, period)
    files = [write_atomic(directory / HTML_FILE, html.render(data, options.report.max_rows))]
    for name, rows in tables(data).items():
        files.append(write_atomic(directory / name, csvout.to_csv(CSV_FILES[name], rows)))
    files.append(write_atomic(directory / SUMMARY_FILE, summary_json(data, [f.name for f in files])))
    appended = 0
    if options.alerts.siem_file is not None:
        appended = append_to_siem(options.alerts.siem_file, data.alerts, settings.organisation, period)
    mailed: tuple[str, ...] = ()
    if send_mail and options.mail.enabled:
        from detector.report.mail import send_report

        send_report(options.mail, settings.organisation, period, files[0], data.alerts)
        mailed = options.mail.to
    return ReportResult(directory, files, data.alerts, appended, mailed)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")


def tables(data: ReportData) -> dict[str, list[dict[str, Any]]]:
    """The rows of each CSV file."""
    services = _records(data.services)
    for row in services:
        row["why"] = "; ".join(risk_reasons(row))
    headline = [{"figure": key, **figure} for key, figure in data.headline.items()]
    for row in headline:
        if row["suppressed"]:
            row["value"] = f"< {data.min_group_size}"
        if row["previous_suppressed"]:
            row["previous"] = f"< {data.min_group_size}"
    return {
        "headline.csv": headline,
        "departments.csv": _records(data.departments),
        "services.csv": services,
        "new_services.csv": _records(data.new_services),
        "uploads.csv": _records(data.uploads),
        "blocked.csv": _records(data.blocked),
        "candidates.csv": _records(data.candidates),
        "changes.csv": data.changes,
        "daily.csv": _records(data.trend),
        "sources.csv": _records(data.sources),
        "sources_daily.csv": _records(data.sources_daily),
        "rejects.csv": _records(data.rejects),
        "alerts.csv": [alert.to_dict() for alert in data.alerts],
    }


def summary(data: ReportData, files: list[str]) -> dict[str, Any]:
    """The report for machines: the same tables as the CSV files, and the alerts."""
    rows = tables(data)

    def pick(name: str) -> list[dict[str, Any]]:
        return [{key: _plain(row.get(key)) for key in CSV_FILES[name]} for row in rows[name]]

    return {
        "organisation": data.organisation,
        "period": data.period.to_dict(),
        "previous_period": data.previous.to_dict(),
        "min_group_size": data.min_group_size,
        "population": "users.csv" if data.population_from_directory else "people seen in the logs",
        "headline": {key: {name: _plain(value) for name, value in figure.items()}
                     for key, figure in data.headline.items()},
        "alerts": [alert.to_dict() for alert in data.alerts],
        "departments": pick("departments.csv"),
        "services": pick("services.csv"),
        "new_services": pick("new_services.csv"),
        "uploads": pick("uploads.csv"),
        "blocked": pick("blocked.csv"),
        "candidates": pick("candidates.csv"),
        "changes": pick("changes.csv"),
        "sources": pick("sources.csv"),
        "rejects": pick("rejects.csv"),
        "lake": {key: _plain(value) for key, value in data.lake.items()},
        "files": sorted(files),
    }


def summary_json(data: ReportData, files: list[str]) -> str:
    return json.dumps(summary(data, [*files, SUMMARY_FILE]), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def _plain(value: Any) -> Any:
    """A JSON value: numbers as numbers, times as ISO text, missing as null."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple) or type(value).__name__ == "ndarray":
        return [_plain(item) for item in value]
    if fmt.missing(value):
        return None
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
