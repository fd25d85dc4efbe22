"""classify matches the lake's hosts against the catalog once (run.catalog_matches) and hands the matches to
both the traffic query (the catalog's AI hosts, for co-use) and judge_hosts, which matched every host again."""

from __future__ import annotations

from detector.classify.hosts import judge_hosts
from detector.classify.run import catalog_matches
from detector.labels import Label
from detector.signatures import load_catalog

CATALOG = load_catalog()
HOSTS = ["chatgpt.com", "api.openai.com", "www.example.nl", "claude.ai", "10.0.0.1", "printer01.corp.lan",
         "www.bing.com", "gemini.google.com", "www.google.com", ""]


def test_judging_with_the_precomputed_matches_equals_matching_each_host_again() -> None:
    labels = {"www.example.nl": Label(host="www.example.nl", ai=True, service="example", category="chat",
                                      by="analyst", at="2026-11-30")}
    matches = catalog_matches(CATALOG, HOSTS)
    assert "" not in matches  # an empty name is not matched, as judge_hosts never matched it
    assert matches["chatgpt.com"] is not None and matches["www.example.nl"] is None
    assert judge_hosts(HOSTS, CATALOG, labels, catalog_matches=matches).equals(judge_hosts(HOSTS, CATALOG, labels))


def test_judge_hosts_takes_a_given_match_and_matches_the_names_it_lacks() -> None:
    """The matches are used, not recomputed: a (wrong) match given for www.example.nl decides it; a name the
    mapping lacks (claude.ai) is matched against the catalog as before."""
    chatgpt = CATALOG.match_host("chatgpt.com")
    assert chatgpt is not None
    judged = judge_hosts(["www.example.nl", "claude.ai", "chatgpt.com"], CATALOG, {},
                         catalog_matches={"www.example.nl": chatgpt, "chatgpt.com": None}).to_pylist()
    assert [(row["host"], row["match"], row["service"]) for row in judged] == [
        ("www.example.nl", "catalog", chatgpt.service.id),
        ("claude.ai", "catalog", CATALOG.match_host("claude.ai").service.id),  # type: ignore[union-attr]
        ("chatgpt.com", "none", None),
    ]
