"""The report as one self-contained HTML file: inline CSS and SVG, no script, no external asset, so it
reads the same offline, from a file share and in a mail client.

Everything that comes from data (host names, service names, department names, reasons) is escaped:
only the fragments this module builds itself are marked `Safe`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

from detector.report import fmt, svg
from detector.report.alerts import risk_reasons
from detector.report.data import RISK_ORDER, VERDICT_ORDER, ReportData

VERDICT_COLOURS = {"forbidden": "#b71c1c", "shadow": "#e65100", "tolerated": "#5d6d7e", "sanctioned": "#2e7d32"}
RISK_COLOURS = {"critical": "#b71c1c", "high": "#e65100", "medium": "#b7950b", "low": "#2e7d32"}

CSS = """
body{margin:0;background:#f4f5f7;color:#1d2733;font:14px/1.45 'Segoe UI',Helvetica,Arial,sans-serif}
.page{max-width:1040px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h3{font-size:15px;margin:14px 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #d5d9e0;padding-bottom:4px}
.sub{color:#56606b;margin:0 0 12px}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 4px}
th,td{padding:5px 8px;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600;font-size:12px;color:#3b4652}
td.n,th.n{text-align:right;white-space:nowrap}
.cards td{width:25%;border:6px solid #f4f5f7;background:#fff;padding:10px 12px}
.cards .v{font-size:24px;font-weight:700}.cards .l{color:#56606b;font-size:12px}.cards .c{color:#56606b;font-size:12px}
.alert{background:#fdecea;border-left:5px solid #b71c1c;padding:8px 12px;margin:6px 0}
.alert.medium{background:#fff4e5;border-left-color:#e65100}
.ok{background:#e8f5e9;border-left:5px solid #2e7d32;padding:8px 12px}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;color:#fff;font-size:12px;white-space:nowrap}
.bar{background:#e3e6ea;height:10px;width:120px;display:inline-block;vertical-align:middle}
.bar span{display:block;height:10px;background:#e65100}
.muted{color:#6b7580;font-size:12px}.more{color:#6b7580;font-size:12px;margin:2px 0 0}
"""


class Safe(str):
    """HTML this module built itself: inserted as it is, everything else is escaped."""


def _html(value: Any) -> str:
    return value if isinstance(value, Safe) else escape(str(value))


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    show: Callable[[Any], Any] = fmt.count
    numeric: bool = False


def table(columns: Sequence[Column], rows: Iterable[dict[str, Any]], max_rows: int, empty: str,
          csv_name: str = "") -> str:
    rows = list(rows)
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    head = "".join(f'<th class="n">{escape(c.header)}</th>' if c.numeric else f"<th>{escape(c.header)}</th>"
                   for c in columns)
    body = []
    for row in rows[:max_rows]:
        cells = "".join(
            (f'<td class="n">{_html(c.show(row.get(c.key)))}</td>' if c.numeric
             else f"<td>{_html(c.show(row.get(c.key)))}</td>") for c in columns)
        body.append(f"<tr>{cells}</tr>")
    more = ""
    if len(rows) > max_rows:
        where = f" (all of them in {escape(csv_name)})" if csv_name else ""
        more = f'<p class="more">{len(rows) - max_rows} more rows not shown{where}.</p>'
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


def _text(value: Any) -> str:
    return "—" if fmt.missing(value) else str(value)


def badge(value: Any, colours: dict[str, str]) -> Safe:
    if fmt.missing(value):
        return Safe('<span class="muted">—</span>')
    colour = colours.get(str(value), "#5d6d7e")
    return Safe(f'<span class="badge" style="background:{colour}">{escape(str(value))}</span>')


def share_bar(value: Any) -> Safe:
    if fmt.missing(value) or isinstance(value, str):
        return Safe(escape(fmt.percent(value)))
    width = max(0, min(100, round(100 * float(value))))
    return Safe(f'<span class="bar"><span style="width:{width}%"></span></span> {escape(fmt.percent(value))}')


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")


def render(data: ReportData, max_rows: int = 25) -> str:
    """The whole report page."""
    organisation = data.organisation or "Organisation"
    sections = [
        _header(data, organisation),
        _alerts(data, max_rows),
        _headline(data),
        _trend(data),
        _departments(data, max_rows),
        _services(data, max_rows),
        _new_services(data, max_rows),
        _uploads(data, max_rows),
        _blocked(data, max_rows),
        _candidates(data, max_rows),
        _health(data, max_rows),
        _footer(data),
    ]
    title = f"AI use at {organisation}: {data.period.title}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body><div class=\"page\">"
            + "\n".join(sections) + "</div></body></html>\n")


def _header(data: ReportData, organisation: str) -> str:
    ingested = data.lake.get("last_ingest")
    last = pd.Timestamp(ingested).strftime("%Y-%m-%d %H:%M UTC") if ingested else "never"
    return (f"<h1>AI use at {escape(organisation)}</h1>"
            f'<p class="sub">Period {escape(data.period.title)} ({data.period.days} day(s), UTC days), compared '
            f"with {escape(data.previous.title)}. Data ingested up to {escape(str(last))}.</p>")


def _alerts(data: ReportData, max_rows: int) -> str:
    """A line of counts, then per rule a table of its alerts (all of them in alerts.csv)."""
    if not data.alerts:
        return '<h2>Alerts</h2><p class="ok">No alert rule fired in this period.</p>'
    by_rule: dict[str, list[Any]] = {}
    for alert in data.alerts:
        by_rule.setdefault(alert.title, []).append(alert)
    counts = ", ".join(f"{len(items)} × {title}" for title, items in by_rule.items())
    parts = [f"<h2>Alerts ({len(data.alerts)})</h2>", f'<div class="alert"><b>{escape(counts)}</b></div>']
    columns = [Column("Severity", "severity", lambda v: badge(v, {"high": "#b71c1c", "medium": "#e65100"})),
               Column("Day", "day", _text, True), Column("Alert", "message", _text)]
    for title, items in by_rule.items():
        rows = [{"severity": a.severity, "day": a.day.isoformat(), "message": a.message} for a in items]
        parts.append(f"<h3>{escape(title)}</h3>" + table(columns, rows, max_rows, "", "alerts.csv"))
    return "".join(parts)


def _headline(data: ReportData) -> str:
    keys = ["unsanctioned_share", "unsanctioned_users", "ai_users", "employees", "services",
            "unsanctioned_services", "new_services", "unsanctioned_bytes_out", "blocked", "ai_share", "events"]
    cells = []
    for key in keys:
        figure = data.headline[key]
        value = f"< {data.min_group_size}" if figure["suppressed"] else fmt.figure(key, figure["value"])
        before = f"< {data.min_group_size}" if figure["previous_suppressed"] else fmt.figure(key, figure["previous"])
        delta = fmt.change(key, figure["change"])
        note = f"{delta} against {before}" if delta else f"previous period: {before}"
        if not figure["previous_logged"]:
            note = "no logs for the previous period"
        cells.append(f'<td><div class="v">{escape(value)}</div><div class="l">{escape(figure["label"])}</div>'
                     f'<div class="c">{escape(note)}</div></td>')
    rows = "".join("<tr>" + "".join(cells[i:i + 4]) + "</tr>" for i in range(0, len(cells), 4))
    population = ("employees in users.csv" if data.population_from_directory
                  else "the people seen in any log of the period (no users.csv given)")
    return (f'<h2>Headline</h2><table class="cards">{rows}</table>'
            f'<p class="muted">Shares are of {escape(population)}. People are users, and client devices where '
            'no user could be attributed; each is counted once over the period.</p>')


def _trend(data: ReportData) -> str:
    if data.period.days < 2:
        return ""
    trend = data.trend
    chart = svg.columns(list(trend["day"]), [
        ("People using AI", "#5c7fa3", list(trend["ai_users"])),
        ("People using unsanctioned AI", "#e65100", list(trend["unsanctioned_users"])),
    ], title="People using AI per day")
    note = f"Days with fewer than {data.min_group_size} people show no column."
    return f'<h2>Per day</h2>{chart}<p class="muted">{note}</p>'


def _departments(data: ReportData, max_rows: int) -> str:
    columns = [
        Column("Department", "department", _text),
        Column("Employees" if data.population_from_directory else "People seen", "employees", fmt.count, True),
        Column("People using AI", "ai_users", fmt.count, True),
        Column("Unsanctioned AI", "unsanctioned_users", fmt.count, True),
        Column("Share of employees (unsanctioned)" if data.population_from_directory
               else "Share of people seen (unsanctioned)", "unsanctioned_share", share_bar),
        Column("Services", "services", fmt.count, True),
        Column("Uploaded to unsanctioned AI", "unsanctioned_bytes_out", fmt.size, True),
        Column("Blocked", "blocked", fmt.count, True),
    ]
    return ("<h2>AI use by department</h2>" + table(columns, _records(data.departments), max_rows,
                                                    "No AI use in this period.", "departments.csv")
            + f'<p class="muted">Groups of fewer than {data.min_group_size} people show "&lt; '
            f'{data.min_group_size}" and no figures. (unknown): traffic no department could be attributed to.</p>')


def _risk_matrix(frame: pd.DataFrame) -> str:
    head = "".join(f"<th class=\"n\">{escape(level)}</th>" for level in (*RISK_ORDER, "not in catalog"))
    rows = []
    for verdict in VERDICT_ORDER:
        part = frame[frame["verdict"] == verdict]
        counts = [int((part["risk_level"] == level).sum()) for level in RISK_ORDER]
        counts.append(int(part["risk_level"].isna().sum()))
        cells = "".join(f'<td class="n">{n or ""}</td>' for n in counts)
        rows.append(f"<tr><td>{badge(verdict, VERDICT_COLOURS)}</td>{cells}</tr>")
    return f'<table style="width:auto"><tr><th>Verdict \\ risk</th>{head}</tr>{"".join(rows)}</table>'


def _services(data: ReportData, max_rows: int) -> str:
    frame = data.services
    if frame.empty:
        return '<h2>Services by verdict and risk</h2><p class="muted">No AI service was used in this period.</p>'
    rows = _records(frame)
    for row in rows:
        row["why"] = "; ".join(risk_reasons(row)) or ("not in the catalog: no facts known"
                                                      if fmt.missing(row.get("risk_level")) else "—")
    columns = [
        Column("Service", "name", _text),
        Column("Category", "category", _text),
        Column("Verdict", "verdict", lambda v: badge(v, VERDICT_COLOURS)),
        Column("Risk", "risk_level", lambda v: badge(v, RISK_COLOURS)),
        Column("Why", "why", _text),
        Column("People", "users", fmt.count, True),
        Column("Depts", "departments", fmt.count, True),
        Column("Events", "events", fmt.count, True),
        Column("Uploaded", "bytes_out", fmt.size, True),
    ]
    return ("<h2>Services by verdict and risk</h2>" + _risk_matrix(frame)
            + table(columns, rows, max_rows, "", "services.csv"))


def _new_services(data: ReportData, max_rows: int) -> str:
    columns = [
        Column("Service", "name", _text),
        Column("First used", "first_day", _text),
        Column("How found", "match", _text),
        Column("Verdict", "verdict", lambda v: badge(v, VERDICT_COLOURS)),
        Column("Risk", "risk_level", lambda v: badge(v, RISK_COLOURS)),
        Column("People", "users", fmt.count, True),
        Column("Events", "events", fmt.count, True),
    ]
    return ("<h2>New AI services</h2>" + table(columns, _records(data.new_services), max_rows,
                                                 "No AI service was used for the first time in this period.",
                                                 "new_services.csv"))


def _uploads(data: ReportData, max_rows: int) -> str:
    columns = [
        Column("Service", "name", _text),
        Column("Verdict", "verdict", lambda v: badge(v, VERDICT_COLOURS)),
        Column("Data location", "data_location", _text),
        Column("Uploaded", "unsanctioned_bytes_out", fmt.size, True),
        Column("People", "unsanctioned_users", fmt.count, True),
        Column("Depts", "departments", fmt.count, True),
        Column("Days", "days", fmt.count, True),
    ]
    return ("<h2>Uploads to unsanctioned AI</h2>" + table(
        columns, _records(data.uploads), max_rows,
        "Nothing was uploaded to unsanctioned AI services in this period (as far as the logs record uploads).",
        "uploads.csv") + '<p class="muted">Only proxy, firewall and sensor logs record uploads; DNS logs do not.</p>')


def _blocked(data: ReportData, max_rows: int) -> str:
    columns = [
        Column("Service", "name", _text),
        Column("Verdict", "verdict", lambda v: badge(v, VERDICT_COLOURS)),
        Column("Blocked attempts", "blocked", fmt.count, True),
        Column("Events", "events", fmt.count, True),
        Column("Depts", "departments", fmt.count, True),
    ]
    return "<h2>Blocked attempts</h2>" + table(columns, _records(data.blocked), max_rows,
                                               "No attempt to reach an AI service was blocked in this period.",
                                               "blocked.csv")


def _candidates(data: ReportData, max_rows: int) -> str:
    columns = [
        Column("Host", "host", _text),
        Column("Model score", "score", lambda v: "—" if fmt.missing(v) else f"{float(v):.2f}", True),
        Column("Counted as AI", "is_ai", fmt.yes_no),
        Column("Devices", "clients", fmt.count, True),
        Column("Events", "events", fmt.count, True),
        Column("First seen", "first_seen", lambda v: _text(v)[:10]),
        Column("Last seen", "last_seen", lambda v: _text(v)[:10]),
        Column("Why", "rule", _text),  # the model's score, a listed AI service, or calls to a model API path
    ]
    return ("<h2>Candidates awaiting review</h2>" + table(
        columns, _records(data.candidates), max_rows, "No unreviewed model candidate was seen in this period.",
        "candidates.csv") + '<p class="muted">Hosts the model takes for AI services that the catalog does not '
        "know. Confirm or dismiss them with <code>shadow-ai review</code> and <code>shadow-ai label</code>.</p>")


def _health(data: ReportData, max_rows: int) -> str:
    daily = data.sources_daily
    rows = _records(data.sources)
    for row in rows:
        part = daily[(daily["source_kind"] == row["source_kind"]) & (daily["log_format"] == row["log_format"])]
        row["chart"] = Safe(svg.spark(list(part["events"])))
        row["source"] = f"{row['source_kind']} / {row['log_format']}"
        row["state"] = badge(row["status"], {"ok": "#2e7d32", "gaps": "#b7950b", "silent": "#b71c1c"})
        row["last"] = "—" if fmt.missing(row["last_event"]) else pd.Timestamp(row["last_event"]).strftime(
            "%Y-%m-%d %H:%M UTC")
    columns = [
        Column("Source", "source", _text),
        Column("State", "state", lambda v: v),
        Column("Events", "events", fmt.count, True),
        Column("Per day", "chart", lambda v: v),
        Column("Days with events", "days_with_events", fmt.count, True),
        Column("With user", "with_user", fmt.count, True),
        Column("Last event", "last", _text),
    ]
    rejects = [
        Column("Format", "log_format", _text),
        Column("Reason", "reason", _text),
        Column("Lines", "lines", fmt.count, True),
        Column("Files", "files", fmt.count, True),
    ]
    return ("<h2>Data health</h2>" + table(columns, rows, max(max_rows, 50), "No log source sent events recently.",
                                          "sources_daily.csv")
            + '<p class="muted">silent: nothing arrived in the configured hours before the end of the period '
              "(an alert); gaps: days without events (red marks).</p>"
            + "<h3>Rejected lines</h3>"
            + table(rejects, _records(data.rejects), max_rows, "No rejected lines in the files of this period.",
                    "rejects.csv"))


def _footer(data: ReportData) -> str:
    return (f'<h2>About this report</h2><p class="muted">Made by shadow-ai detector from the organisation\'s own '
            "proxy, DNS and firewall logs, offline. People are pseudonymised before storage; this report shows "
            f"department aggregates only and no names or network addresses. Groups of fewer than "
            f"{data.min_group_size} people are suppressed. Machine-readable: summary.json and the CSV files "
            "beside this file.</p>")
