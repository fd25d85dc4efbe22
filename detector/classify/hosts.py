"""One judgement per distinct host: analyst label, else catalog match, else the model's score.

Runs a Python loop over distinct host names only (thousands, not millions of events).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import numpy as np
import pyarrow as pa

from detector.labels import Label
from detector.signatures import Catalog, is_ip_address, registered_domain

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
) -> pa.Table:
    """The `hosts` table rows for these host names (schema HOSTS). `behaviour`: the hosts' traffic
    features, or a function that waits for them, called only after everything the names alone decide."""
    rows: list[dict[str, object]] = []
    unknown: list[int] = []
    for host in hosts:
        row: dict[str, object] = {"host": host, "registered_domain": registered_domain(host) if host else None,
                                  "service": None, "category": None, "match": "none", "is_ai": False, "score": None,
                                  "rule": None}
        label = labels.get(host)
        found = catalog.match_host(host) if host else None
        if label is not None:
            row.update(service=label.service, category=label.category, match="label", is_ai=label.ai,
                       score=1.0 if label.ai else 0.0, rule=f"label by {label.by} at {label.at}")
        elif found is not None:
            row.update(service=found.service.id, category=found.service.category, match="catalog", is_ai=True,
                       score=1.0, rule=f"{found.rule}: {found.pattern}")
        elif is_ip_address(host):  # a name model has nothing to say of an address: no score, not a guess
            row.update(rule="an IP address, not a name")
        else:
            unknown.append(len(rows))
        rows.append(row)
    if scorer is not None and unknown:
        scores = scorer.score([hosts[i] for i in unknown], behaviour)
        for index, score in zip(unknown, scores, strict=True):
            above = float(score) >= scorer.threshold
            rule = f"model {scorer.name} (threshold {scorer.threshold:.2f})"
            if above and scorer.listed_ai(hosts[index]):
                rule = f"listed AI service (signatures/ai_training.txt, taught to {rule})"
            rows[index].update(score=round(float(score), 4), match="model" if above else "none", is_ai=above,
                               rule=rule)
    return pa.Table.from_pylist(rows, schema=HOSTS)
