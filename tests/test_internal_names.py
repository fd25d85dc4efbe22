"""Names that cannot be a public AI service are not judged by the model: internal names (no public suffix),
CHAOS queries, reverse lookups, home.arpa, .onion and service records (`_ldap._tcp...`). DNS logs of an organisation are full of them, and judged by
their words they were flagged (printer01.corp.lan scored 0.98)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pytest

from detector.classify import model
from detector.classify.hosts import NOT_PUBLIC, judge_hosts
from detector.labels import Label
from detector.signatures import load_catalog


class EverythingIsAI:
    """A scorer that calls every name it is asked about AI, so that what it is not asked shows."""

    threshold, name = 0.5, "stub"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def score(self, hosts: Sequence[str], behaviour: pa.Table | Callable[[], pa.Table | None] | None) -> np.ndarray:
        self.asked.extend(hosts)
        return np.full(len(hosts), 0.99)

    def listed_ai(self, host: str) -> bool:
        return False


@pytest.mark.parametrize("host", ["printer01.corp.lan", "dc01.ad.internal", "ai-server.local", "wpad", "localhost",
                                  "version.bind", "4.3.2.1.in-addr.arpa", "smartbot.home.arpa", "chatbot.onion",
                                  "intranet.test", "_ldap._tcp.dc._msdcs.gemeente.nl", "s1._domainkey.chatbot-news.io",
                                  "_acme-challenge.ai-tool.io"])
def test_a_name_with_no_public_suffix_is_not_judged(host: str) -> None:
    scorer = EverythingIsAI()
    row = judge_hosts([host, "new-ai-tool.io"], load_catalog(model.SIGNATURES_DIR), {}, scorer).to_pylist()[0]
    assert scorer.asked == ["new-ai-tool.io"]
    assert (row["match"], row["is_ai"], row["score"], row["rule"]) == ("none", False, None, NOT_PUBLIC)


def test_a_label_still_decides_an_internal_name() -> None:
    """An analyst who labels an internal host (a self-hosted chat UI in front of a public API) is heard."""
    label = Label(host="chat.gemeente.lan", ai=True, service=None, category="chat", by="analyst",
                  at="2026-11-30T22:00:00+00:00")
    row = judge_hosts(["chat.gemeente.lan"], load_catalog(model.SIGNATURES_DIR), {"chat.gemeente.lan": label},
                      EverythingIsAI()).to_pylist()[0]
    assert (row["match"], row["is_ai"]) == ("label", True)
