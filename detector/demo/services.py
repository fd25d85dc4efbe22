"""What the simulated employees visit: the AI services (catalog hosts and held-out ones) and ordinary sites.

AI hosts are checked against the real catalog when the simulation starts, so a renamed service or domain
fails loudly instead of silently turning AI traffic into ordinary traffic. Ordinary sites come from
signatures/non_ai/*.txt, minus anything the catalog would claim (including hosts whose URL paths can
make them AI), so every AI event of the ground truth is AI for the product and no other is.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Literal

import numpy as np

from detector.demo import DemoError
from detector.signatures import SIGNATURES_DIR, Catalog, read_domain_list

Mode = Literal["web", "ide", "api", "meeting"]


@dataclass(frozen=True)
class SimService:
    """One AI service as the simulation uses it."""

    key: str  # catalog id, or the held-out domain
    catalog_id: str | None  # None: an AI service the catalog does not know (discovery)
    hosts: tuple[tuple[str, float], ...]  # host, share of a visit's connections; the first opens a visit
    mode: Mode = "web"
    visits: float = 1.5  # mean visits per active day
    burst: float = 7.0  # mean further connections per visit
    minutes: float = 12.0  # how long a visit lasts
    upload: float = 0.0  # probability that a visit uploads a document or a recording
    upload_host: str | None = None


NOTE_TAKERS = ("otter", "fireflies", "read_ai", "tldv", "jamie")
# Small tools of everyday kinds (a planner, a paraphraser, an image generator, a writer, a transcriber, document
# chat); well-known services leave the held-out lists for the catalog, so this list names only lesser-known ones.
HELD_OUT_PREFERRED = ("goblin.tools", "paraphraser.io", "getimg.ai", "copymatic.ai", "notta.ai", "askyourpdf.com")

CATALOG_SERVICES: tuple[SimService, ...] = (
    SimService("chatgpt", "chatgpt", (("chatgpt.com", 0.6), ("cdn.oaistatic.com", 0.25), ("ab.chatgpt.com", 0.15)),
               visits=2.5, burst=9, upload=0.05, upload_host="files.oaiusercontent.com"),
    SimService("m365_copilot", "m365_copilot", (("copilot.cloud.microsoft", 1.0),), visits=1.8, burst=6,
               upload=0.03),
    SimService("copilot_bing", "copilot_bing", (("copilot.microsoft.com", 1.0),), visits=1.0),
    SimService("gemini", "gemini", (("gemini.google.com", 1.0),), visits=1.2, upload=0.03),
    SimService("claude", "claude", (("claude.ai", 0.8), ("www.claude.ai", 0.2)), visits=1.2, upload=0.05),
    SimService("perplexity", "perplexity", (("www.perplexity.ai", 1.0),), visits=1.0),
    SimService("mistral", "mistral", (("chat.mistral.ai", 1.0),), visits=0.8),
    SimService("deepseek", "deepseek", (("chat.deepseek.com", 0.7), ("cdn.deepseek.com", 0.3)), visits=0.8,
               upload=0.05),
    SimService("grammarly", "grammarly", (("app.grammarly.com", 0.5), ("capi.grammarly.com", 0.5)), visits=2.0),
    SimService("deepl", "deepl", (("www.deepl.com", 0.7), ("s.deepl.com", 0.3)), visits=3.0, burst=5,
               upload=0.08),
    SimService("otter", "otter", (("otter.ai", 0.5), ("api.otter.ai", 0.5)), mode="meeting", visits=0.6,
               burst=3, minutes=45, upload=0.8, upload_host="api.otter.ai"),
    SimService("fireflies", "fireflies", (("app.fireflies.ai", 1.0),), mode="meeting", visits=0.6, burst=3,
               minutes=45, upload=0.8),
    SimService("read_ai", "read_ai", (("app.read.ai", 1.0),), mode="meeting", visits=0.6, burst=3, minutes=45,
               upload=0.8),
    SimService("tldv", "tldv", (("tldv.io", 1.0),), mode="meeting", visits=0.6, burst=3, minutes=45, upload=0.8),
    SimService("jamie", "jamie", (("meetjamie.ai", 1.0),), mode="meeting", visits=0.6, burst=3, minutes=45,
               upload=0.8),
    SimService("github_copilot", "github_copilot",
               (("api.githubcopilot.com", 0.6), ("copilot-proxy.githubusercontent.com", 0.25),
                ("copilot-telemetry.githubusercontent.com", 0.15)), mode="ide", visits=5.0, burst=18, minutes=55),
    SimService("cursor", "cursor", (("api2.cursor.sh", 0.7), ("api3.cursor.sh", 0.3)), mode="ide", visits=4.0,
               burst=15, minutes=50),
    SimService("openai_api", "openai_api", (("api.openai.com", 1.0),), mode="api", visits=4.0, burst=3,
               minutes=5, upload=0.05),
)


def held_out_services(directory: str = str(SIGNATURES_DIR)) -> tuple[SimService, ...]:
    """A handful of real AI services the catalog deliberately lacks (signatures/heldout_ai.txt)."""
    listed = read_domain_list(f"{directory}/heldout_ai.txt")
    chosen = [d for d in HELD_OUT_PREFERRED if d in listed] or listed[:6]
    return tuple(SimService(domain, None, ((domain, 1.0),), visits=1.0, burst=5) for domain in chosen[:6])


@dataclass(frozen=True, eq=False)
class Hosts:
    """Every destination host the simulation uses, with what it is and where it lives."""

    name: np.ndarray  # host names
    service: np.ndarray  # index into `services`, -1 for ordinary sites
    address: np.ndarray  # the (public) address DNS gives and the flows go to
    services: tuple[SimService, ...]
    browse_weight: np.ndarray  # popularity of ordinary sites (0 for AI hosts)

    def index(self, host: str) -> int:
        return int(np.flatnonzero(self.name == host)[0])


def _address(host: str) -> str:
    """A stable public-looking IPv4 address per host (not in private or reserved ranges)."""
    value = zlib.crc32(host.encode())
    first = (23, 34, 52, 104, 142, 151, 162, 185, 195, 213)[value % 10]
    return f"{first}.{(value >> 8) % 256}.{(value >> 16) % 256}.{1 + (value >> 24) % 254}"


def _ordinary_sites(catalog: Catalog, directory: str) -> tuple[list[str], list[float]]:
    """Non-AI hosts with a popularity weight: office suites and government sites weigh most for civil servants."""
    weights = {"office": 4.0, "government": 2.0, "popular": 1.0, "ai_lookalikes": 0.15}
    hosts: dict[str, float] = {}
    for list_name, factor in weights.items():
        for rank, domain in enumerate(read_domain_list(f"{directory}/non_ai/{list_name}.txt")):
            host = f"www.{domain}" if domain.count(".") == 1 else domain
            if host in hosts or catalog.match_host(host) or catalog.needs_path(host):
                continue
            hosts[host] = factor / (rank + 8)
    return list(hosts), list(hosts.values())


def build_hosts(catalog: Catalog, directory: str = str(SIGNATURES_DIR)) -> Hosts:
    """All hosts, after checking that each AI host is judged as its service by the catalog."""
    services = (*CATALOG_SERVICES, *held_out_services(directory))
    names: list[str] = []
    owner: list[int] = []
    problems = []
    for index, service in enumerate(services):
        wanted = [h for h, _ in service.hosts] + ([service.upload_host] if service.upload_host else [])
        for host in wanted:
            if host in names:
                continue
            found = catalog.match_host(host)
            got = found.service.id if found else None
            if got != service.catalog_id:
                problems.append(f"{host}: catalog says {got!r}, the simulation means {service.catalog_id!r}")
            names.append(host)
            owner.append(index)
    if problems:
        raise DemoError("the demo's AI hosts disagree with the signature catalog:\n  " + "\n  ".join(problems))
    ordinary, weights = _ordinary_sites(catalog, directory)
    all_names = names + ordinary
    browse = np.array([0.0] * len(names) + weights)
    return Hosts(
        name=np.array(all_names),
        service=np.array(owner + [-1] * len(ordinary), dtype=np.int64),
        address=np.array([_address(h) for h in all_names]),
        services=services,
        browse_weight=browse / browse.sum(),
    )
