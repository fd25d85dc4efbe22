"""One judgement per distinct host: analyst label, else catalog match, else the model's score, raised to 1
where the host's requests went to a model API path (api_paths).

Runs a Python loop over distinct host names only (thousands, not millions of events).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import numpy as np
import pyarrow as pa

from detector.classify import api_paths, vendor_categories
from detector.labels import Label
from detector.signatures import Catalog, Match, is_ip_address, registered_domain

HOSTS = pa.schema(
    [
        ("host", pa.string()),
        ("registered_domain", pa.string()),
        ("service", pa.string()),
        ("category", pa.string()),  # the service's, or the one an analyst gave an unlisted service
        ("match", pa.string()),  # catalog | label | model | none
        ("is_ai", pa.bool_()),  # the verdict of whichever of the above decided
        ("score", pa.float64()),  # 0..1: 1 for catalog and AI labels, 0 for not-AI labels, else the model's
        ("rule", pa.string()),  # what decided: the catalog rule and pattern, the label's author, the model
    ]
)


# A public AI service has a public name. Internal names (printer01.corp.lan, dc01.ad.internal, *.local, a bare
# `wpad`), CHAOS queries (version.bind), reverse lookups (*.in-addr.arpa), home.arpa and .onion fill DNS logs;
# judged by their words they were flagged (printer01.corp.lan 0.98, smartbot.home.arpa 1.0). So were lookups of
# service records, whose labels start with `_` (_ldap._tcp.dc._msdcs.example.nl 0.997, s1._domainkey.example.nl):
# no one browses to those.
SPECIAL_USE = (".arpa", ".onion")
NOT_PUBLIC = "not a public host name (no public suffix, a special-use domain or a service record): not judged"
ADDRESS = "an IP address, not a name"
API_CALLS_RULE = "calls a model API path"
# A known AI service of the bundled lists, flagged for certain: not the name model's guess.
LISTED_RULE = "listed AI service"


class HostScorer(Protocol):
    """What classify needs of a model: a probability per host, and the threshold to call it AI."""

    threshold: float
    name: str

    def score(self, hosts: Sequence[str],
              behaviour: pa.Table | Callable[[], pa.Table | None] | None) -> np.ndarray: ...

    def listed_ai(self, host: str) -> bool:
        """Whether the host is under a site of the AI list the model was trained with (scored 1)."""
        ...


def judge_hosts(
    hosts: Sequence[str],
    catalog: Catalog,
    labels: Mapping[str, Label],
    scorer: HostScorer | None = None,
    behaviour: pa.Table | Callable[[], pa.Table | None] | None = None,
    catalog_matches: Mapping[str, Match | None] | None = None,
) -> pa.Table:
    """The `hosts` table rows for these host names (schema HOSTS). `behaviour`: the hosts' traffic
    features (with their calls to model API paths, api_paths), or a function that waits for them, called
    only after everything the names alone decide.
    `catalog_matches`: `catalog.match_host` of these names (None: no match), where the caller has them
    already (classify matches the lake's hosts once, for co-use and for this); a name it lacks is matched here."""
    # One list per column, not a dict per row: classify judges every host of the lake (tens of thousands)
    # while DuckDB reads their traffic, and this Python loop shares the machine with it.
    count = len(hosts)
    domains: list[str | None] = [None] * count
    services: list[str | None] = [None] * count
    categories: list[str | None] = [None] * count
    matches: list[str] = ["none"] * count
    is_ai: list[bool] = [False] * count
    scores: list[float | None] = [None] * count
    rules: list[str | None] = [None] * count
    unknown: list[int] = []
    for index, host in enumerate(hosts):
        if host:
            domains[index] = registered_domain(host)
        label = labels.get(host)
        if not host:
            found = None
        elif catalog_matches is not None and host in catalog_matches:
            found = catalog_matches[host]
        else:
            found = catalog.match_host(host)
        if label is not None:
            services[index], categories[index], matches[index] = label.service, label.category, "label"
            is_ai[index], scores[index] = label.ai, 1.0 if label.ai else 0.0
            rules[index] = f"label by {label.by} at {label.at}"
        elif found is not None:
            services[index], categories[index], matches[index] = found.service.id, found.service.category, "catalog"
            is_ai[index], scores[index], rules[index] = True, 1.0, f"{found.rule}: {found.pattern}"
        elif _may_be_address(host) and is_ip_address(host):  # a name model has nothing to say of an address
            rules[index] = ADDRESS
        elif domains[index] is None or domains[index].endswith(SPECIAL_USE) or host[0] == "_" or "._" in host:
            rules[index] = NOT_PUBLIC
        else:
            unknown.append(index)
    if scorer is not None and unknown:
        scored = scorer.score([hosts[i] for i in unknown], behaviour)
        rule = f"model {scorer.name} (threshold {scorer.threshold:.2f})"
        listed = f"{LISTED_RULE} (signatures/ai_training.txt or heldout_ai*.txt; {rule})"
        for index, score in zip(unknown, scored, strict=True):
            above = float(score) >= scorer.threshold
            scores[index], matches[index], is_ai[index] = round(float(score), 4), "model" if above else "none", above
            rules[index] = listed if above and scorer.listed_ai(hosts[index]) else rule
    if unknown and behaviour is not None:
        # A call to a model API path is evidence whatever the name (and with no model at all): flagged for review.
        described = behaviour() if callable(behaviour) else behaviour
        calls = api_paths.calling_hosts(described)
        for index in (i for i in unknown if hosts[i] in calls):
            scores[index], matches[index], is_ai[index] = 1.0, "model", True
            rules[index] = api_calls_rule(calls[hosts[index]])
        # So is the gateway's own AI category, where the log writes one (a model API call says more: kept first).
        filed = vendor_categories.categorised_hosts(described)
        for index in (i for i in unknown if hosts[i] in filed and hosts[i] not in calls):
            scores[index], matches[index], is_ai[index] = 1.0, "model", True
            rules[index] = vendor_categories.rule(*filed[hosts[index]])
    columns = [list(hosts), domains, services, categories, matches, is_ai, scores, rules]
    return pa.Table.from_arrays([pa.array(c, f.type) for c, f in zip(columns, HOSTS, strict=True)], schema=HOSTS)


def api_calls_rule(requests: int) -> str:
    return f"{API_CALLS_RULE} ({requests} requests; signatures/{api_paths.API_PATHS_FILE})"


def _may_be_address(host: str) -> bool:
    """A cheap necessary condition for is_ip_address (which parses, and raises for every name): an IPv4
    address ends with a digit, an IPv6 address has colons."""
    return bool(host) and (host[-1:].isdigit() or ":" in host)
