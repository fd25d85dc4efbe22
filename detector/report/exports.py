"""Block lists of the services the policy forbids, for proxies, DNS servers and firewalls.

What is blocked: the catalog domains (each with its subdomains) of every service whose organisation-wide
verdict is `forbidden`. What is never blocked:
- services marked `shared_domain` in the catalog (they live inside domains that are not AI as a whole,
  such as Gemini in google.com): blocking them by name would cut off ordinary work, so they are listed
  as comments for a URL-path rule in the proxy instead;
- any domain in (or above) `SHARED_DOMAINS` of detector/signatures.py;
- services the policy allows for some department (a department exception): a DNS or firewall list
  cannot tell departments apart, so they are listed as comments.
A subdomain that belongs to another, not forbidden, service or is excluded by the catalog is an
exception: formats that can express it (RPZ passthru, dnsmasq `server=/…/#`) do; for the others the
parent domain is blocked by its exact name only.

The registry `FORMATS` is what `shadow-ai export` offers: one entry per format.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from detector import db
from detector.config import Settings
from detector.enrich.policy import Policy, load_policy
from detector.signatures import SHARED_DOMAINS, Catalog, Service, load_catalog


@dataclass(frozen=True)
class Entry:
    domain: str
    service: str
    subdomains: bool = True  # False: an exception lies below it; formats without exceptions block the name only


@dataclass(frozen=True)
class Blocklist:
    entries: list[Entry]
    exceptions: dict[str, str]  # domain below a blocked one -> why it stays reachable
    left_out: dict[str, str]  # service id -> why it is not in the list
    hosts: list[str] = field(default_factory=list)  # observed host names under the blocked domains

    def services(self) -> list[str]:
        return sorted({entry.service for entry in self.entries})


def is_shared(domain: str) -> bool:
    """A domain in the deny-list, or above one (blocking it would block the shared domain)."""
    return domain in SHARED_DOMAINS or any(shared.endswith("." + domain) for shared in SHARED_DOMAINS)


def _covered(domain: str, parents: set[str]) -> bool:
    labels = domain.split(".")
    return any(".".join(labels[i:]) in parents for i in range(1, len(labels)))


def _exceptions_for(policy: Policy, service: Service) -> dict[str, str]:
    rule = policy.services.get(service.id) or policy.categories.get(service.category)
    if rule is None:
        return {}
    return {department: verdict for department, verdict in rule.departments.items() if verdict != "forbidden"}


def blocklist(catalog: Catalog, policy: Policy, observed: dict[str, str] | None = None) -> Blocklist:
    """The forbidden services' domains, with what must stay reachable; `observed` = host -> service seen."""
    left_out: dict[str, str] = {}
    chosen: dict[str, str] = {}
    for service in catalog.services.values():
        if policy.verdict(service.id, service.category) != "forbidden":
            continue
        exceptions = _exceptions_for(policy, service)
        if exceptions:
            allowed = ", ".join(f"{verdict} for {department}" for department, verdict in sorted(exceptions.items()))
            left_out[service.id] = f"department exception ({allowed}): block it per department in the proxy"
            continue
        if service.shared_domain:
            left_out[service.id] = "lives inside a shared domain (catalog: shared_domain): block it by URL path"
            continue
        for domain in service.domains:
            if is_shared(domain):
                left_out.setdefault(service.id, f"{domain} is a shared domain: never blocked")
                continue
            chosen.setdefault(domain, service.id)
    parents = set(chosen)
    domains = sorted((d for d in chosen if not _covered(d, parents)), key=lambda d: d.split(".")[::-1])
    # Below a blocked domain: names the catalog gives to other, not forbidden, services or excludes.
    exceptions: dict[str, str] = {}
    for service in catalog.services.values():
        for domain in service.domains:
            if domain not in chosen and _covered(domain, set(domains)):
                exceptions[domain] = f"belongs to {service.name} ({policy.verdict(service.id, service.category)})"
        for domain in service.exclude:
            if _covered(domain, set(domains)) or domain in domains:
                exceptions[domain] = f"excluded from {service.name} by the catalog"
    with_exception = {d for d in domains if any(e.endswith("." + d) for e in exceptions)}
    entries = [Entry(d, chosen[d], d not in with_exception) for d in domains]
    hosts: list[str] = []
    if observed:
        blocked = {entry.service for entry in entries}
        hosts = sorted(h for h, s in observed.items()
                       if s in blocked and not is_shared(h) and not any(h == e or h.endswith("." + e)
                                                                         for e in exceptions))
    return Blocklist(entries, exceptions, left_out, hosts)


def load_blocklist(settings: Settings) -> Blocklist:
    """From the configured catalog and policy.yaml, plus the host names classify saw for those services."""
    catalog = load_catalog(settings.catalog_dir)
    policy = load_policy(settings.home, catalog)
    observed: dict[str, str] = {}
    with db.connect(settings) as connection:
        for host, service in connection.execute(
                "select host, service from hosts where service is not null").fetchall():
            observed[host] = service
    return blocklist(catalog, policy, observed)


def _header(blocklist: Blocklist, comment: str, title: str) -> list[str]:
    """No date in it: the same policy gives the same file, so configuration management sees real changes."""
    lines = [f"{comment} {title}", f"{comment} Made by shadow-ai export: the services policy.yaml forbids."]
    services = textwrap.wrap(", ".join(blocklist.services()) or "(none)", 96)
    lines += [f"{comment} Services: {line}" if i == 0 else f"{comment}   {line}" for i, line in enumerate(services)]
    for service, why in sorted(blocklist.left_out.items()):
        lines.append(f"{comment} Not listed: {service}: {why}")
    return lines


def squid(blocklist: Blocklist) -> str:
    """For `acl shadow_ai_forbidden dstdomain "/etc/squid/shadow-ai-forbidden.txt"`."""
    lines = _header(blocklist, "#", "Squid dstdomain list (acl NAME dstdomain \"/path/to/this/file\")")
    for domain, why in sorted(blocklist.exceptions.items()):
        lines.append(f"# Exception not expressible here, its parent is listed by exact name only: {domain} ({why})")
    lines += [("." if entry.subdomains else "") + entry.domain for entry in blocklist.entries]
    return "\n".join(lines) + "\n"


def rpz(blocklist: Blocklist, serial: int | None = None) -> str:
    """A DNS Response Policy Zone (BIND, Unbound, Knot, PowerDNS): NXDOMAIN for the names, passthru for
    the exceptions."""
    serial = serial if serial is not None else int(datetime.now(UTC).timestamp())
    lines = _header(blocklist, ";", "DNS RPZ zone: load it as a response-policy zone")
    lines += ["$TTL 300", f"@ IN SOA localhost. hostmaster.localhost. ({serial} 3600 600 604800 300)",
              "  IN NS localhost."]
    for entry in blocklist.entries:
        lines += [f"{entry.domain} CNAME .", f"*.{entry.domain} CNAME ."]
    for domain, why in sorted(blocklist.exceptions.items()):
        lines += [f"; {why}", f"{domain} CNAME rpz-passthru.", f"*.{domain} CNAME rpz-passthru."]
    return "\n".join(lines) + "\n"


def dnsmasq(blocklist: Blocklist) -> str:
    """dnsmasq (and Pi-hole's /etc/dnsmasq.d/): `address=/domain/` answers NXDOMAIN for it and below."""
    lines = _header(blocklist, "#", "dnsmasq / Pi-hole configuration (put it in /etc/dnsmasq.d/)")
    lines += [f"address=/{entry.domain}/" for entry in blocklist.entries]
    for domain, why in sorted(blocklist.exceptions.items()):
        lines += [f"# {why}", f"server=/{domain}/#"]
    return "\n".join(lines) + "\n"


def hosts(blocklist: Blocklist) -> str:
    """A hosts file (also a Pi-hole or AdGuard list): exact names only, so the domains and every host
    name of those services seen in the logs."""
    lines = _header(blocklist, "#", "hosts file: exact names (the domains and the host names seen in the logs)")
    names = sorted({entry.domain for entry in blocklist.entries} | set(blocklist.hosts),
                   key=lambda d: d.split(".")[::-1])
    lines += [f"0.0.0.0 {name}" for name in names]
    return "\n".join(lines) + "\n"


def paloalto(blocklist: Blocklist) -> str:
    """A PAN-OS external dynamic list of type URL List: `domain/` and `*.domain/` (the trailing slash
    stops `example.com` from matching `example.com.evil.net`). No comments: plain entries only."""
    lines: list[str] = []
    for entry in blocklist.entries:
        lines.append(f"{entry.domain}/")
        if entry.subdomains:
            lines.append(f"*.{entry.domain}/")
    return "\n".join(lines) + ("\n" if lines else "")


def fortigate(blocklist: Blocklist) -> str:
    """A FortiGate threat feed of type Domain Name (DNS filter remote category): `domain` and
    `*.domain`, one per line."""
    lines: list[str] = []
    for entry in blocklist.entries:
        lines.append(entry.domain)
        if entry.subdomains:
            lines.append(f"*.{entry.domain}")
    return "\n".join(lines) + ("\n" if lines else "")


# The block-list formats `shadow-ai export` offers (its subcommands, with their help, are in commands.py).
FORMATS: dict[str, Callable[[Blocklist], str]] = {
    "squid": squid,
    "rpz": rpz,
    "dnsmasq": dnsmasq,
    "hosts": hosts,
    "paloalto": paloalto,
    "fortigate": fortigate,
}
