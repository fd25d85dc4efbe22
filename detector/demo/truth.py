"""The ground truth: what the simulation wrote about AI use, counted from the lines that survived.

Per day, department and AI service: the people identifiable from the logs, the events per source kind,
the bytes uploaded and downloaded, and the requests the proxy blocked. Counted from the simulator's own
columns, never from the product's output, so the product can be checked against it.

Counted the way usage_daily defines its figures (like with like): `events` adds the proxy, firewall and
sensor events to the DNS lookups de-duplicated per client, host and minute (`dns_lookups`; every query
line is `dns_queries`); `bytes_out` and `bytes_in` are the largest per-source total of the row, since one
upload shows in several logs. Here only the firewall logs uploads; the proxy and the firewall both log
downloads.

Who counts as a user: an employee with at least one surviving line for the service that names them
(the proxy's user, the firewall's FSSO user) or, when DHCP logs are written, any surviving line from
their workstation (its lease and workstations.csv name them). Damage never removes the only such line
of a connection, so the users are the people who really used the service; damage costs events only.
Meeting-room devices name nobody: their events count for their subnet's department, never as users.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from detector.demo.organisation import DEPARTMENTS, Organisation, verdict
from detector.demo.services import Hosts
from detector.demo.traffic import Clock

SOURCE_KINDS = ("proxy", "dns", "firewall", "sensor")
TRUTH_CSV = "usage_daily.csv"
SUMMARY_JSON = "summary.json"
COLUMNS = ("day", "department", "service", "host", "category", "verdict", "users", "clients", "events",
           "proxy_events", "dns_lookups", "firewall_events", "sensor_events", "dns_queries", "bytes_out", "bytes_in",
           "blocked")


@dataclass(frozen=True, eq=False)
class Observed:
    """Surviving lines of one source kind, one row each (AI or not)."""

    kind: str
    client: np.ndarray
    host: np.ndarray
    names_user: np.ndarray  # whether the line itself names its employee
    bytes_out: np.ndarray | None = None
    bytes_in: np.ndarray | None = None
    blocked: np.ndarray | None = None
    ts: np.ndarray | None = None  # UTC epoch ms (DNS only: lookups are counted once per minute)


@dataclass
class Truth:
    """Accumulates the day-by-day truth; `write` puts it beside the logs."""

    org: Organisation
    hosts: Hosts
    categories: dict[str, str]
    leases_identify: bool  # DHCP logs are written: a workstation's lines name its owner
    rows: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    used: np.ndarray = field(init=False)  # [employee, service]: used at least once in the period
    visited: np.ndarray = field(init=False)  # [service]: any traffic in the period, meeting-room devices' too
    first_day: dict[int, str] = field(default_factory=dict)  # first day a user used any AI
    days: list[str] = field(default_factory=list)
    uploads: dict[str, int] = field(default_factory=dict)  # firewall sessions sending over 1 MB, per service

    def __post_init__(self) -> None:
        self.used = np.zeros((self.org.employees, len(self.hosts.services)), dtype=bool)
        self.visited = np.zeros(len(self.hosts.services), dtype=bool)

    def add_file(self, path: Path, log_format: str, lines: int, damaged: int, ignored: int = 0) -> None:
        self.files.append({"path": str(path), "format": log_format, "lines": lines, "damaged": damaged,
                           "ignored": ignored})

    def add_day(self, clock: Clock, observed: list[Observed]) -> None:
        employees = self.org.employees
        departments = np.concatenate([self.org.department, self.org.device_department])
        parts = []
        for seen in observed:
            service = self.hosts.service[seen.host]
            ai = service >= 0
            count = int(ai.sum())
            client = seen.client[ai]
            identified = seen.names_user[ai] | (self.leases_identify & (client < employees))
            parts.append({
                "client": client, "service": service[ai], "host": seen.host[ai],
                "person": np.where(identified & (client < employees), client, -1),
                "kind": np.full(count, SOURCE_KINDS.index(seen.kind)),
                "bytes_out": seen.bytes_out[ai] if seen.bytes_out is not None else np.zeros(count, np.int64),
                "bytes_in": seen.bytes_in[ai] if seen.bytes_in is not None else np.zeros(count, np.int64),
                "blocked": seen.blocked[ai] if seen.blocked is not None else np.zeros(count, bool),
                "minute": seen.ts[ai] // 60_000 if seen.ts is not None else np.zeros(count, np.int64),
            })
        columns = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
        self.days.append(clock.day.isoformat())
        if not len(columns["client"]):
            return
        large = (columns["kind"] == SOURCE_KINDS.index("firewall")) & (columns["bytes_out"] >= 1_000_000)
        for service_index, count in zip(*np.unique(columns["service"][large], return_counts=True), strict=True):
            key = self.hosts.services[service_index].key
            self.uploads[key] = self.uploads.get(key, 0) + int(count)
        department = departments[columns["client"]]
        # Catalog services are one group each; a service the catalog lacks is kept apart by host, as usage_daily does.
        group_host = np.where(np.array([s.catalog_id is None for s in self.hosts.services])[columns["service"]],
                              columns["host"], -1)
        keys = np.stack([department, columns["service"], group_host], axis=1)
        groups, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        n = len(groups)
        kind = columns["kind"]
        events = np.bincount(inverse * 4 + kind, minlength=4 * n).reshape(n, 4)
        dns = kind == SOURCE_KINDS.index("dns")
        lookups = np.unique(np.stack([inverse[dns], columns["client"][dns], columns["host"][dns],
                                      columns["minute"][dns]], axis=1), axis=0)
        dns_lookups = np.bincount(lookups[:, 0], minlength=n)
        per_source = inverse * 4 + kind
        # Blocked requests moved no data to the service: usage_daily leaves their bytes out.
        passed = ~columns["blocked"].astype(bool)
        out = np.bincount(per_source, weights=columns["bytes_out"] * passed, minlength=4 * n).reshape(n, 4).max(axis=1)
        received = np.bincount(per_source, weights=columns["bytes_in"] * passed,
                               minlength=4 * n).reshape(n, 4).max(axis=1)
        person = columns["person"]
        named = person >= 0
        users = np.bincount(np.unique(np.stack([inverse[named], person[named]], axis=1), axis=0)[:, 0], minlength=n)
        clients = np.bincount(np.unique(np.stack([inverse, columns["client"]], axis=1), axis=0)[:, 0], minlength=n)
        blocked = np.bincount(inverse, weights=columns["blocked"], minlength=n)
        self.used[person[named], columns["service"][named]] = True
        self.visited[columns["service"]] = True
        for person_id in np.unique(person[named]):
            self.first_day.setdefault(int(person_id), clock.day.isoformat())
        for g, (dept, service_index, host) in enumerate(groups):
            service = self.hosts.services[service_index]
            department_name = DEPARTMENTS[dept].name
            category = self.categories.get(service.catalog_id or "", "")
            self.rows.append({
                "day": clock.day.isoformat(), "department": department_name, "service": service.catalog_id or "",
                "host": str(self.hosts.name[host]) if host >= 0 else "", "category": category,
                "verdict": verdict(service.catalog_id, category or None, department_name),
                "users": int(users[g]), "clients": int(clients[g]),
                "events": int(events[g, 0] + dns_lookups[g] + events[g, 2] + events[g, 3]),
                "proxy_events": int(events[g, 0]), "dns_lookups": int(dns_lookups[g]),
                "firewall_events": int(events[g, 2]), "sensor_events": int(events[g, 3]),
                "dns_queries": int(events[g, 1]),
                "bytes_out": int(out[g]), "bytes_in": int(received[g]), "blocked": int(blocked[g]),
            })

    def summary(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Period figures: who used AI, which services, per department, forbidden use, what was written."""
        employees = self.org.employees
        ai_users = self.used.any(axis=1)
        by_service = {s.key: int(self.used[:, i].sum()) for i, s in enumerate(self.hosts.services)}
        per_department = {}
        for index, department in enumerate(DEPARTMENTS):
            members = self.org.department == index
            per_department[department.name] = {"employees": int(members.sum()),
                                               "ai_users": int((ai_users & members).sum())}
        forbidden: dict[str, int] = {}
        for row in self.rows:
            if row["verdict"] == "forbidden":
                label = f"{row['service']} / {row['department']}"
                forbidden[label] = forbidden.get(label, 0) + row["events"]
        return {
            **parameters,
            "employees": employees,
            "devices": self.org.devices,
            "ai_users": int(ai_users.sum()),
            "ai_user_share": round(float(ai_users.mean()), 4) if employees else 0.0,
            "identifiable_users_by_service": dict(sorted(by_service.items(), key=lambda item: -item[1])),
            # (meeting-room devices count: the model judges hosts, whoever visited them)
            "not_in_catalog": [s.key for i, s in enumerate(self.hosts.services)
                               if s.catalog_id is None and self.visited[i]],
            "departments": per_department,
            "forbidden_events": forbidden,
            "uploads_over_1mb": self.uploads,
            "ai_users_by_day": self._cumulative_users(),
            "files": self.files,
        }

    def _cumulative_users(self) -> dict[str, int]:
        """Employees who had used AI by the end of each day: adoption over the period."""
        firsts = sorted(self.first_day.values())
        return {day: int(np.searchsorted(firsts, day, side="right")) for day in self.days}

    def write(self, folder: Path, parameters: dict[str, Any]) -> dict[str, Any]:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / TRUTH_CSV).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(sorted(self.rows, key=lambda r: (r["day"], r["department"], r["service"], r["host"])))
        summary = self.summary(parameters)
        (folder / SUMMARY_JSON).write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return summary
