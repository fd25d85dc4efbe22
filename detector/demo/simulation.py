"""Simulating the municipality into a data directory: the organisation's files, the logs, the truth.

Deterministic for (seed, employees, days, last day): the organisation and habits come from the seed, each
day from (seed, day number), so a day's logs do not depend on how many days come before it. One day is in
memory at a time; its files are written in chunks.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from detector.config import CONFIG_NAME, default_config_text, load_settings
from detector.demo import DemoError, habits, organisation, traffic
from detector.demo.services import Hosts, build_hosts
from detector.demo.truth import Observed, Truth
from detector.demo.writers import (
    DayFiles,
    DhcpMessages,
    Vocabulary,
    bind_lines,
    damage,
    dhcpd_lines,
    fortigate_lines,
    squid_lines,
    zeek_ssl_footer,
    zeek_ssl_header,
    zeek_ssl_lines,
)
from detector.signatures import load_catalog

MARKER = "demo.json"  # marks a directory as the demo's own: it may be replaced by the next demo
LOGS = "demo-logs"
TRUTH = "demo-truth"
DAMAGE_RATE = 0.001
DUAL_STACK = 0.35  # clients that ask for AAAA as well as A
BASE_FORMATS = ("squid", "bind_query", "fortigate", "zeek_ssl")
DHCP_FORMAT = "isc_dhcpd"
TIMEZONE_NAME = "Europe/Amsterdam"


@dataclass(frozen=True)
class Simulation:
    home: Path
    logs: Path
    truth: Path
    formats: tuple[str, ...]  # the format key of each log folder, in ingest order
    folders: dict[str, Path]
    summary: dict[str, Any]


def prepare(home: Path) -> None:
    """A fresh data directory: refuse one that holds anything but a previous demo, and empty that one."""
    if home.exists() and not home.is_dir():
        raise DemoError("exists and is not a directory", str(home))
    if home.is_dir() and any(home.iterdir()):
        if not (home / MARKER).is_file():
            raise DemoError("not empty and not a previous demo directory: choose another --out (the demo never "
                            "writes into a data directory that may hold real logs)", str(home))
        for child in home.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    home.mkdir(parents=True, exist_ok=True)


DHCP_PROBE = ("2025-03-12T07:55:17.662+01:00 dhcp01 dhcpd[812]: DHCPACK on 10.20.1.20 to 00:50:56:00:00:01 (WS-1) "
              "via 10.20.1.1\n")


def dhcp_support(home: Path) -> str | None:
    """None when this version of the product parses ISC dhcpd logs, else why not.

    Registered is not enough: one line is parsed (dry run, nothing written), because the truth counts
    people identified through leases only if the product can read them.
    """
    from detector.ingest import FORMATS
    from detector.ingest.pipeline import ingest_paths

    if DHCP_FORMAT not in FORMATS:
        return f"no {DHCP_FORMAT} format in this version"
    probe = home / ".dhcp-probe.log"
    probe.write_text(DHCP_PROBE, encoding="utf-8")
    try:
        reports = list(ingest_paths(load_settings(home), [str(probe)], DHCP_FORMAT, dry_run=True))
    except Exception as exc:  # a parser that fails on its own format must not stop the demo
        return f"the {DHCP_FORMAT} parser fails: {type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        probe.unlink()
    if len(reports) != 1 or reports[0].parsed != 1:
        return f"the {DHCP_FORMAT} parser does not read a DHCPACK line"
    return None


def simulate(home: Path, employees: int, days: int, seed: int, last_day: date,
             progress: Callable[[date, int], None] | None = None) -> Simulation:
    """Write the organisation, `days` days of logs ending on `last_day`, and the ground truth into `home`."""
    if days < 1:
        raise DemoError(f"--days must be at least 1, not {days}")
    try:
        organisation.department_sizes(employees)
    except ValueError as exc:
        raise DemoError(str(exc)) from exc
    prepare(home)
    first_day = last_day - timedelta(days=days - 1)
    parameters = {"seed": seed, "employees": employees, "days": days, "first_day": first_day.isoformat(),
                  "last_day": last_day.isoformat(), "timezone": TIMEZONE_NAME}
    (home / MARKER).write_text(json.dumps(parameters, indent=2) + "\n", encoding="utf-8")
    config = default_config_text().replace('timezone = "local"', f'timezone = "{TIMEZONE_NAME}"')
    (home / CONFIG_NAME).write_text(config.replace('name = "Gemeente Voorbeeld"', 'name = "Gemeente Voorbeeld (demo)"'),
                                    encoding="utf-8")
    catalog = load_catalog()
    hosts = build_hosts(catalog)
    rng = np.random.default_rng(seed)
    org = organisation.build(employees, rng)
    plan = habits.build(org, hosts.services, days, rng)
    organisation.write_directory_files(org, home)
    dhcp_problem = dhcp_support(home)
    with_dhcp = dhcp_problem is None
    formats = (*BASE_FORMATS, DHCP_FORMAT) if with_dhcp else BASE_FORMATS
    words = Vocabulary.of(org, hosts)
    dual_stack = rng.random(org.employees + org.devices) < DUAL_STACK
    categories = {sid: s.category for sid, s in catalog.services.items()}
    truth = Truth(org=org, hosts=hosts, categories=categories, leases_identify=with_dhcp)
    logs = home / LOGS
    folders: dict[str, Path] = {}
    for index in range(days):
        clock = traffic.Clock.of(first_day + timedelta(days=index), index)
        files = DayFiles(logs, clock, formats, compress=index < days - 1)
        folders = {key: path.parent for key, path in files.paths.items()}
        lines = _simulate_day(org, plan, hosts, words, dual_stack, clock, files, truth,
                              np.random.default_rng([seed, index]))
        if progress:
            progress(clock.day, lines)
    summary = truth.write(home / TRUTH, {**parameters, "dhcp": with_dhcp, "dhcp_skipped_because": dhcp_problem,
                                         "formats": list(formats)})
    return Simulation(home=home, logs=logs, truth=home / TRUTH, formats=formats, folders=folders, summary=summary)


def _simulate_day(org: organisation.Organisation, plan: habits.Habits, hosts: Hosts, words: Vocabulary,
                  dual_stack: np.ndarray, clock: traffic.Clock, files: DayFiles, truth: Truth,
                  rng: np.random.Generator) -> int:
    """Generate one day, write each source's file, and record what survived in the truth."""
    c, presence = traffic.generate(org, plan, hosts, clock, rng)
    employees = org.employees
    is_employee = c.client < employees
    proxied = is_employee.copy()
    proxied[is_employee] = ~org.direct[c.client[is_employee]]
    ends = c.start + c.duration
    written = 0
    observed: list[Observed] = []

    # Proxy: a refused request has no other line that names its user, so it is never the damaged one.
    proxy = np.flatnonzero(proxied)
    proxy = proxy[np.argsort(ends[proxy], kind="stable")]
    proxy_bad = damage(rng, len(proxy), DAMAGE_RATE, allowed=~c.blocked[proxy])
    written += files.write("squid", len(proxy), lambda p: squid_lines(c, proxy[p], words, proxy_bad[p]))
    truth.add_file(files.paths["squid"], "squid", len(proxy), int(proxy_bad.sum()))
    kept = proxy[~proxy_bad]
    observed.append(Observed("proxy", c.client[kept], c.host[kept], np.ones(len(kept), dtype=bool),
                             bytes_in=np.where(c.blocked[kept], 3918, c.bytes_in[kept]), blocked=c.blocked[kept]))

    # Firewall: never damage both lines of a connection that name its user.
    lost_proxy = np.zeros(len(c), dtype=bool)
    lost_proxy[proxy[proxy_bad]] = True
    flows = np.flatnonzero(~c.blocked)
    flows = flows[np.argsort(ends[flows], kind="stable")]
    flow_bad = damage(rng, len(flows), DAMAGE_RATE, allowed=~lost_proxy[flows])
    base = clock.index * 50_000_000
    written += files.write("fortigate", len(flows),
                           lambda p: fortigate_lines(c, flows[p], words, clock, flow_bad[p], base, rng))
    truth.add_file(files.paths["fortigate"], "fortigate", len(flows), int(flow_bad.sum()))
    kept = flows[~flow_bad]
    observed.append(Observed("firewall", c.client[kept], c.host[kept], proxied[kept],
                             bytes_out=c.bytes_out[kept], bytes_in=c.bytes_in[kept]))

    # Sensor: TLS handshakes of every connection that got through, shortly after it opened.
    tls = np.flatnonzero(~c.blocked & (c.method == traffic.CONNECT))
    handshake = c.start[tls] + rng.integers(20, 200, len(tls))
    order = np.argsort(handshake, kind="stable")
    tls, handshake = tls[order], handshake[order]
    tls_bad = damage(rng, len(tls), DAMAGE_RATE)
    written += files.write("zeek_ssl", len(tls),
                           lambda p: zeek_ssl_lines(c, tls[p], handshake[p], words, tls_bad[p], rng),
                           header=zeek_ssl_header(clock), footer=zeek_ssl_footer(clock))
    truth.add_file(files.paths["zeek_ssl"], "zeek_ssl", len(tls) + 9, int(tls_bad.sum()), ignored=9)
    kept = tls[~tls_bad]
    observed.append(Observed("sensor", c.client[kept], c.host[kept], np.zeros(len(kept), dtype=bool)))

    # DNS: the lookups before the connections.
    q = traffic.lookups(c, rng, dual_stack)
    order = np.argsort(q.ts, kind="stable")
    dns_bad = damage(rng, len(order), DAMAGE_RATE)
    written += files.write("bind_query", len(order), lambda p: bind_lines(q, order[p], words, clock, dns_bad[p], rng))
    truth.add_file(files.paths["bind_query"], "bind_query", len(order), int(dns_bad.sum()))
    kept = order[~dns_bad]
    observed.append(Observed("dns", q.client[kept], q.host[kept], np.zeros(len(kept), dtype=bool), ts=q.ts[kept]))

    # DHCP: a computer's first ACK of the day is the only proof of whose it is: never damaged.
    if "isc_dhcpd" in files.paths:
        m = DhcpMessages.of(presence, rng)
        dhcp_bad = damage(rng, len(m.ts), DAMAGE_RATE, allowed=~m.first_ack)
        rows = np.arange(len(m.ts))
        written += files.write("isc_dhcpd", len(m.ts), lambda p: dhcpd_lines(m, rows[p], words, clock, dhcp_bad[p]))
        ignored = int(((m.step != 3) & ~dhcp_bad).sum())
        truth.add_file(files.paths["isc_dhcpd"], "isc_dhcpd", len(m.ts), int(dhcp_bad.sum()), ignored=ignored)

    truth.add_day(clock, observed)
    return written


def read_marker(home: Path) -> dict[str, Any]:
    return json.loads((home / MARKER).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
