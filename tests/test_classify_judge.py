"""judge_hosts builds the `hosts` judgements column by column (classify judges every host of the lake while
DuckDB reads their traffic); these tests hold it to the row-by-row contract: label, else catalog, else an
address or a name with no public suffix (no score), else the model."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.classify.hosts import HOSTS, NOT_PUBLIC, judge_hosts
from detector.labels import Label
from detector.signatures import Catalog, is_ip_address, load_catalog, registered_domain

CATALOG = load_catalog()


class StubScorer:
    """A model that scores by a checksum of the name and calls names with a 'z' listed AI."""

    threshold = 0.5
    name = "stub"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def score(self, hosts: Sequence[str], behaviour: object = None) -> np.ndarray:
        self.asked.extend(hosts)
        return np.array([zlib.crc32(h.encode()) % 1000 / 999 for h in hosts])

    def listed_ai(self, host: str) -> bool:
        return "z" in host


def judged_row_by_row(hosts: Sequence[str], catalog: Catalog, labels: Mapping[str, Label],
                      scorer: StubScorer | None) -> pa.Table:
    """The contract, one dict per host (as judge_hosts was written before it built columns)."""
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
        elif is_ip_address(host):
            row.update(rule="an IP address, not a name")
        elif row["registered_domain"] is None or str(row["registered_domain"]).endswith((".arpa", ".onion")) \
                or host.startswith("_") or "._" in host:
            row.update(rule=NOT_PUBLIC)
        else:
            unknown.append(len(rows))
        rows.append(row)
    if scorer is not None and unknown:
        scores = scorer.score([hosts[i] for i in unknown])
        for index, score in zip(unknown, scores, strict=True):
            above = float(score) >= scorer.threshold
            rule = f"model {scorer.name} (threshold {scorer.threshold:.2f})"
            if above and scorer.listed_ai(hosts[index]):
                rule = f"listed AI service (signatures/ai_training.txt or heldout_ai*.txt; {rule})"
            rows[index].update(score=round(float(score), 4), match="model" if above else "none", is_ai=above,
                               rule=rule)
    return pa.Table.from_pylist(rows, schema=HOSTS)


def label(host: str, ai: bool) -> Label:
    return Label(host=host, ai=ai, service="acme-chat" if ai else None, category="chat" if ai else None,
                 by="analyst", at="2026-11-30T09:00:00+00:00")


def test_addresses_and_non_public_names_get_no_score_and_public_names_that_look_numeric_go_to_the_model() -> None:
    scorer = StubScorer()
    hosts = ["10.1.2.3", "2001:db8::1", "fe80::1%eth0", "::ffff:192.0.2.1", "cdn1.example.nl", "s3", "999.1.1.1",
             "1.2.3", "a:b", "chatgpt.com", "", "1.2.3.nl", "123.ai"]
    judged = judge_hosts(hosts, CATALOG, {}, scorer)
    rules = dict(zip(hosts, judged.column("rule").to_pylist(), strict=True))
    assert [h for h in hosts if rules[h] == "an IP address, not a name"] == hosts[:4]
    assert [h for h in hosts if rules[h] == NOT_PUBLIC] == ["s3", "999.1.1.1", "1.2.3", "a:b", ""]
    assert scorer.asked == ["cdn1.example.nl", "1.2.3.nl", "123.ai"]
    assert rules["chatgpt.com"].startswith("domain")
    assert judged.equals(judged_row_by_row(hosts, CATALOG, {}, StubScorer()))


NAME_CHARACTERS = st.sampled_from([*"abcz019.-:%[]", ".com", ".ai", "chatgpt", "openai", "::", "192.0.2."])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(NAME_CHARACTERS, max_size=8).map("".join), max_size=25, unique=True),
       st.data())
def test_the_columns_equal_the_row_by_row_judgement(hosts: list[str], data: st.DataObject) -> None:
    labelled = data.draw(st.lists(st.sampled_from(hosts), unique=True)) if hosts else []
    labels = {h: label(h, ai=bool(i % 2)) for i, h in enumerate(labelled)}
    judges: list[Callable[[], StubScorer | None]] = [StubScorer, lambda: None]
    for make in judges:
        assert judge_hosts(hosts, CATALOG, labels, make()).equals(judged_row_by_row(hosts, CATALOG, labels, make()))
