"""One simulated day of network traffic, as numpy columns: connections, and the DNS lookups before them.

Everything is drawn in bulk: a Python loop runs per AI service, never per employee or per connection.
Times are UTC epoch milliseconds; the working day is laid out in local time (Europe/Amsterdam) and
stays between 06:30 and 22:30, away from midnight and from daylight-saving switches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from detector.demo.habits import Habits
from detector.demo.organisation import Organisation
from detector.demo.services import Hosts, SimService

TIMEZONE = ZoneInfo("Europe/Amsterdam")
CONNECT, GET, POST = 0, 1, 2
PATHS = ("/", "/nieuws", "/onderwerpen/", "/css/site.css", "/js/app.js", "/images/logo.png", "/zoeken",
         "/v1/chat/completions")
API_PATH = len(PATHS) - 1
DNS_IDLE_MS = 300_000  # a client resolves a host again after five idle minutes
LATEST = 21.5 * 3600  # nobody starts anything after 21:30 local


@dataclass(frozen=True)
class Clock:
    """One local calendar day and how to turn its local time into UTC."""

    day: date
    index: int
    midnight_ms: int  # UTC epoch ms of local midnight, at the day's (midday) offset
    offset_seconds: int

    @classmethod
    def of(cls, day: date, index: int) -> Clock:
        noon = datetime.combine(day, time(12), TIMEZONE)
        offset = int(noon.utcoffset().total_seconds())  # type: ignore[union-attr]
        midnight = datetime.combine(day, time(0), ZoneInfo("UTC")) - timedelta(seconds=offset)
        return cls(day=day, index=index, midnight_ms=int(midnight.timestamp() * 1000), offset_seconds=offset)

    @property
    def workday(self) -> bool:
        return self.day.weekday() < 5


@dataclass(frozen=True, eq=False)
class Connections:
    """A day's connections, one row each, in no particular order."""

    start: np.ndarray  # UTC epoch ms when the client opened it
    client: np.ndarray  # employee number, or employees + device number
    host: np.ndarray  # index into Hosts
    method: np.ndarray  # CONNECT (HTTPS tunnel), GET or POST (plain HTTP)
    path: np.ndarray  # index into PATHS (plain HTTP only)
    bytes_out: np.ndarray
    bytes_in: np.ndarray
    duration: np.ndarray  # ms
    blocked: np.ndarray  # refused by the proxy

    def __len__(self) -> int:
        return len(self.start)


@dataclass(frozen=True, eq=False)
class Presence:
    """Who switched a computer on today, and from when to when (UTC epoch ms): DHCP follows this."""

    client: np.ndarray
    begin: np.ndarray
    end: np.ndarray


@dataclass(frozen=True, eq=False)
class Lookups:
    """DNS queries: one row per query line (A, and AAAA for dual-stack clients)."""

    ts: np.ndarray
    client: np.ndarray
    host: np.ndarray
    aaaa: np.ndarray  # False: an A query, True: an AAAA query


def _lognormal(rng: np.random.Generator, median: float, sigma: float, size: int) -> np.ndarray:
    return np.exp(rng.normal(np.log(median), sigma, size)).astype(np.int64)


def _browsing(rng: np.random.Generator, clients: np.ndarray, begin: np.ndarray, end: np.ndarray,
              rate: np.ndarray, hosts: Hosts) -> dict[str, np.ndarray]:
    """Ordinary sites: Poisson counts per client, uniform times, hosts by popularity."""
    counts = rng.poisson(rate * (end - begin) / 3600)
    owner = np.repeat(np.arange(len(clients)), counts)
    total = len(owner)
    plain = rng.random(total) < 0.1
    return {
        "start": (begin[owner] + rng.random(total) * (end - begin)[owner]) * 1000,
        "client": clients[owner],
        "host": rng.choice(len(hosts.name), size=total, p=hosts.browse_weight),
        "method": np.where(plain, GET, CONNECT),
        "path": rng.integers(0, API_PATH, total),
        "bytes_out": _lognormal(rng, 1500, 0.8, total),
        "bytes_in": _lognormal(rng, 30000, 1.4, total),
        "duration": np.clip(_lognormal(rng, 3000, 1.2, total), 20, 900_000),
    }


def _visits(rng: np.random.Generator, service: SimService, hosts: Hosts, clients: np.ndarray, begin: np.ndarray,
            end: np.ndarray, rate: np.ndarray, forced: np.ndarray) -> dict[str, np.ndarray]:
    """Visits to one AI service: a burst of connections each; some visits upload a document or a recording."""
    visits = rng.poisson(rate)
    visits = np.where(forced, np.maximum(visits, 1), visits)
    owner = np.repeat(np.arange(len(clients)), visits)
    length = service.minutes * 60
    opens = begin[owner] + rng.random(len(owner)) * np.maximum(end - begin - length, 60)[owner]
    follow = rng.poisson(service.burst, len(owner))
    first_visit = np.zeros(len(owner), dtype=bool)
    if len(owner):
        first_visit[np.r_[0, np.flatnonzero(np.diff(owner)) + 1]] = True
    uploads = (rng.random(len(owner)) < service.upload) | (forced[owner] & first_visit & (service.upload > 0))
    per_visit = 1 + follow + uploads
    visit = np.repeat(np.arange(len(owner)), per_visit)
    position = np.arange(len(visit)) - np.repeat(np.cumsum(per_visit) - per_visit, per_visit)
    total = len(visit)
    names = [h for h, _ in service.hosts]
    weights = np.array([w for _, w in service.hosts])
    choice = np.array([hosts.index(h) for h in names])[rng.choice(len(names), size=total, p=weights / weights.sum())]
    host = np.where(position == 0, hosts.index(names[0]), choice)
    is_upload = uploads[visit] & (position == per_visit[visit] - 1)
    host = np.where(is_upload, hosts.index(service.upload_host or names[0]), host)
    offset = np.where(position == 0, 0.0, rng.random(total) * length)
    bytes_out = _lognormal(rng, 4000 if service.mode != "ide" else 2500, 0.8, total)
    big = _lognormal(rng, 40e6 if service.mode == "meeting" else 6e6, 0.7, total)
    bytes_out = np.where(is_upload, np.clip(big, 500_000, 200_000_000), bytes_out)
    duration = np.clip(_lognormal(rng, 2500, 1.0, total), 30, 600_000)
    duration = np.where(is_upload, bytes_out // 2000 + 500, duration)  # about 2 MB/s
    return {
        "start": (opens[visit] + offset) * 1000,
        "client": clients[owner][visit],
        "host": host,
        "method": np.full(total, POST if service.mode == "api" else CONNECT),
        "path": np.full(total, API_PATH),
        "bytes_out": bytes_out,
        "bytes_in": _lognormal(rng, 20000, 1.2, total),
        "duration": duration,
    }


def generate(org: Organisation, habits: Habits, hosts: Hosts, clock: Clock, rng: np.random.Generator
             ) -> tuple[Connections, Presence]:
    """All connections of one day: employees' browsing and AI use, and the unauthenticated devices'."""
    employees = org.employees
    if clock.workday:
        present = rng.random(employees) < habits.attendance
        begin = np.clip(habits.start + rng.normal(0, 1200, employees), 6.5 * 3600, 10.5 * 3600)
        end = np.minimum(begin + habits.hours * 3600 + rng.normal(0, 1800, employees), LATEST)
    else:
        present = rng.random(employees) < 0.03
        begin = rng.uniform(9 * 3600, 14 * 3600, employees)
        end = begin + rng.uniform(1.5, 4.0, employees) * 3600
    who = np.flatnonzero(present)
    begin, end = begin[who], end[who]
    parts = [_browsing(rng, who, begin, end, habits.browse_rate[who], hosts)]
    for column, service in enumerate(hosts.services):
        active = habits.since[who, column] <= clock.index
        users = who[active]
        rate = service.visits * habits.intensity[users, column]
        if service.mode == "ide":
            rate = rate * (end[active] - begin[active]) / (8 * 3600)
        forced = habits.cast[users, column] & clock.workday
        parts.append(_visits(rng, service, hosts, users, begin[active], end[active], rate, forced))
    on = rng.random(org.devices) < 0.9
    on[0] = True  # the meeting room that records its meetings is in use every working day
    devices = np.flatnonzero(on) if clock.workday else np.zeros(0, dtype=np.int64)
    device_begin = np.full(len(devices), 8.0 * 3600)
    device_end = np.full(len(devices), 17.0 * 3600)
    if clock.workday:
        parts.append(_browsing(rng, employees + devices, device_begin, device_end, np.full(len(devices), 6.0), hosts))
        for column, service in enumerate(hosts.services):
            chosen = habits.device_service[devices] == column
            users = devices[chosen]
            forced = users == 0
            parts.append(_visits(rng, service, hosts, employees + users, device_begin[chosen], device_end[chosen],
                                 np.full(len(users), 1.2), forced))
    columns = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    start = clock.midnight_ms + columns["start"].astype(np.int64)
    client = columns["client"].astype(np.int64)
    is_device = client >= employees
    # Devices' browsers talk TLS to everything; their plain-HTTP share goes out as HTTPS too.
    method = np.where(is_device, CONNECT, columns["method"]).astype(np.int8)
    proxied = ~is_device
    proxied[~is_device] = ~org.direct[client[~is_device]]
    deepseek = [hosts.index(h) for h, _ in hosts.services[_position(hosts, "deepseek")].hosts]
    # The proxy refuses DeepSeek from the middle of the period; whoever goes around the proxy is not stopped.
    blocked = np.isin(columns["host"], deepseek) & proxied & (clock.index >= habits.block_from)
    connections = Connections(
        start=start, client=client, host=columns["host"].astype(np.int64), method=method,
        path=columns["path"].astype(np.int8), bytes_out=columns["bytes_out"].astype(np.int64),
        bytes_in=columns["bytes_in"].astype(np.int64), duration=columns["duration"].astype(np.int64),
        blocked=blocked,
    )
    presence = Presence(
        client=np.concatenate([who, employees + devices]),
        begin=clock.midnight_ms + (np.concatenate([begin, device_begin]) * 1000).astype(np.int64),
        end=clock.midnight_ms + (np.concatenate([end, device_end]) * 1000).astype(np.int64),
    )
    return connections, presence


def _position(hosts: Hosts, key: str) -> int:
    return next(i for i, s in enumerate(hosts.services) if s.key == key)


def lookups(connections: Connections, rng: np.random.Generator, dual_stack: np.ndarray) -> Lookups:
    """The DNS query before each new connection: a client asks again only after DNS_IDLE_MS of silence."""
    order = np.lexsort((connections.start, connections.host, connections.client))
    client, host, start = connections.client[order], connections.host[order], connections.start[order]
    new = np.ones(len(order), dtype=bool)
    same = (client[1:] == client[:-1]) & (host[1:] == host[:-1])
    new[1:] = ~same | (start[1:] - start[:-1] > DNS_IDLE_MS)
    ts = start[new] - rng.integers(2, 40, int(new.sum()))
    client, host = client[new], host[new]
    both = dual_stack[client]
    return Lookups(
        ts=np.concatenate([ts, ts[both] + 1]),
        client=np.concatenate([client, client[both]]),
        host=np.concatenate([host, host[both]]),
        aaaa=np.concatenate([np.zeros(len(ts), dtype=bool), np.ones(int(both.sum()), dtype=bool)]),
    )
