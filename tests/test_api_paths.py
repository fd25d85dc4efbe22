"""Calls to model API paths (signatures/ai_api_paths.txt): a host the catalog does not know, whose requests go to
`/v1/chat/completions` or `:generateContent`, is flagged for review whatever its name; one with ordinary paths, a
catalogued one or one under a non-AI list's site is not. The pattern is checked in DuckDB, whose RE2 runs it."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner

from detector import db
from detector.classify import api_paths
from detector.classify.hosts import API_CALLS_RULE, judge_hosts
from detector.classify.run import classify
from detector.cli import cli
from detector.config import load_settings
from detector.ingest.pipeline import ingest_paths
from detector.labels import Label, read_labels
from detector.signatures import load_catalog

PATTERN = api_paths.default_pattern()


def matches(paths: list[str], pattern: str = PATTERN) -> list[bool]:
    connection = duckdb.connect()
    rows = connection.sql("select regexp_matches(p, $pattern) from unnest($paths) as t(p)",
                          params={"pattern": pattern, "paths": paths}).fetchall()
    return [bool(r[0]) for r in rows]


@pytest.mark.parametrize("path", [
    "/v1/chat/completions", "/api/v1/chat/completions", "/compatible-mode/v1/chat/completions",
    "/v1beta/openai/chat/completions", "/openai/deployments/gpt-4o/chat/completions",
    "/openai/deployments/text-davinci/completions", "/openai/deployments/ada-002/embeddings", "/V1/Chat/Completions/",
    "/v1/embeddings", "/v1/responses", "/openai/v1/responses", "/v1/audio/transcriptions", "/v1/images/generations",
    "/v1beta/models/gemini-2.5-flash:generateContent", "/v1beta/models/gemini-pro:streamGenerateContent",
    "/v1/projects/p/locations/europe-west4/publishers/google/models/gemini-2.0-flash:generateContent",
    "/model/anthropic.claude-3-5-sonnet-20240620-v1:0/converse", "/model/amazon.titan-text/invoke-with-response-stream",
    "/v2/rerank", "/generate_stream",
])
def test_model_api_paths_match(path: str) -> None:
    assert matches([path]) == [True]
    assert api_paths.is_api_path(path)  # lookup's check, in Python's re


@pytest.mark.parametrize("path", [
    "/", "/chat", "/v1/messages", "/api/chat", "/api/generate", "/v1/predictions", "/chat/completions/history",
    "/blog/chat/completions-explained", "/v1/completionsx", "/v1/chat/completion", "/docs/v1/embeddings.html",
    "/models/gemini/generateContent", "/model/a/b/converse", "/deployments/x/chat", "/openai/deployments/x",
])
def test_other_paths_do_not(path: str) -> None:
    assert matches([path]) == [False]
    assert not api_paths.is_api_path(path)


def test_the_pattern_quotes_the_lists_characters_and_an_empty_list_matches_nothing() -> None:
    assert matches(["/a.b", "/axb", "/x/a.b/"], api_paths.path_pattern(["/a.b"])) == [True, False, True]
    assert matches(["/v1/x:y", "/v1/long-name:y", "/v1/a/b:y"], api_paths.path_pattern(["/v1/*:y"])) == [True, True,
                                                                                                     False]
    assert matches(["", "/", "/v1/chat/completions"], api_paths.path_pattern([])) == [False, False, False]
    assert not re.search(api_paths.path_pattern([]), "/v1/chat/completions")  # in Python's re too (lookup)


def test_the_bundled_list_is_paths() -> None:
    paths = api_paths.read_api_paths()
    assert len(paths) >= 20
    assert all(p.startswith("/") and " " not in p for p in paths), [p for p in paths if not p.startswith("/")]
    assert len(set(paths)) == len(paths)


def squid(second: int, url: str, method: str = "POST") -> str:
    return f"{1732780800 + second}.000     90 10.0.5.5 TCP_MISS/200 1500 {method} {url} anna HIER_DIRECT/192.0.2.10 " \
           "application/json\n"


def test_classify_flags_a_host_calling_a_model_api_path_whatever_its_name(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "access.log"
    log.parent.mkdir()
    log.write_text("".join([
        squid(0, "http://gw.harbourfreight-tools.nl/v1/chat/completions"),  # a relay with a plain name
        squid(1, "http://gw.harbourfreight-tools.nl/v1/chat/completions"),
        squid(2, "http://gw.harbourfreight-tools.nl/status", "GET"),
        squid(3, "http://shop.harbourfreight-tools.nl/checkout"),  # the same site, no model call
        squid(4, "http://www.google.com/v1/chat/completions"),  # under a non-AI list's site: not judged
        squid(5, "http://api.openai.com/v1/chat/completions"),  # the catalog's
        squid(6, "http://10.1.2.3/v1/chat/completions"),  # an address, not a name
        squid(7, "http://team-gpt.azurewebsites.net/openai/v1/responses"),  # someone's gateway on a hosting platform
        squid(8, "http://shop.azurewebsites.net/v1/cart"),  # someone's shop there
    ]))
    reports = list(ingest_paths(load_settings(home), [str(log.parent)]))
    assert [(r.format, r.parsed) for r in reports] == [("squid", 9)], reports
    classify(load_settings(home))
    with db.connect(load_settings(home)) as connection:
        rows = {r["host"]: r for r in connection.sql("select * from hosts").to_arrow_table().to_pylist()}
        ai_hosts = {r[0] for r in connection.sql("select distinct host from ai_events").fetchall()}
    relay = rows["gw.harbourfreight-tools.nl"]
    assert (relay["match"], relay["score"]) == ("model", 1.0)
    assert relay["rule"].startswith(API_CALLS_RULE) and "2 requests" in relay["rule"], relay["rule"]
    assert not rows["shop.harbourfreight-tools.nl"]["rule"].startswith(API_CALLS_RULE)
    assert rows["www.google.com"]["match"] == "none"
    assert rows["api.openai.com"]["match"] == "catalog"
    assert rows["10.1.2.3"]["match"] == "none"
    assert (rows["team-gpt.azurewebsites.net"]["match"], rows["team-gpt.azurewebsites.net"]["score"]) == ("model", 1.0)
    assert (rows["shop.azurewebsites.net"]["match"], rows["shop.azurewebsites.net"]["score"]) == ("none", 0.0)
    assert "gw.harbourfreight-tools.nl" in ai_hosts and "shop.harbourfreight-tools.nl" not in ai_hosts


def test_requests_to_a_model_api_path_are_ai_use_on_any_host_but_the_host_is_not(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "access.log"
    log.parent.mkdir()
    workers_ai = "http://api.cloudflare.com/client/v4/accounts/0a1b2c/ai/v1/chat/completions"
    log.write_text("".join([
        squid(0, workers_ai),  # Workers AI: a model API on a host of a non-AI list's site
        squid(1, workers_ai),
        squid(2, "http://api.cloudflare.com/client/v4/zones", "GET"),  # the host's other traffic
        squid(3, "http://api.cloudflare.com/client/v4/zones/0a1b2c/dns_records"),
        squid(4, "http://203.0.113.7:8000/v1/embeddings"),  # a model served from a public address
        squid(5, "http://203.0.113.7:8000/metrics", "GET"),
        squid(6, "http://llm.corp.lan/v1/chat/completions"),  # an internal gateway
        squid(7, "http://www.google.com/search", "GET"),  # no model call anywhere on it
        squid(8, "http://labelled.cloudflare.com/v1/chat/completions"),  # an analyst said: not AI
    ]))
    assert [r.parsed for r in ingest_paths(load_settings(home), [str(log.parent)])] == [9]
    result = CliRunner().invoke(cli, ["--home", str(home), "label", "labelled.cloudflare.com", "--not-ai"])
    assert result.exit_code == 0, result.output
    classify(load_settings(home))
    with db.connect(load_settings(home)) as connection:
        hosts = {r["host"]: r for r in connection.sql("select * from hosts").to_arrow_table().to_pylist()}
        events = connection.sql("select host, url_path, service, service_name, match from ai_events "
                                "order by host, url_path").fetchall()
        evidence = connection.sql("select host, url_path from candidate_events order by host, url_path").fetchall()
    assert events == [
        ("203.0.113.7", "/v1/embeddings", None, "unlisted AI service", "model"),
        ("api.cloudflare.com", "/client/v4/accounts/0a1b2c/ai/v1/chat/completions", None, "unlisted AI service", "model"),
        ("api.cloudflare.com", "/client/v4/accounts/0a1b2c/ai/v1/chat/completions", None, "unlisted AI service", "model"),
        ("llm.corp.lan", "/v1/chat/completions", None, "unlisted AI service", "model"),
    ]
    # the Discovery page's evidence: those requests, not the rest of a shared host's traffic
    assert evidence == [(host, path) for host, path, *_ in events]
    # the hosts stay as judged (their other traffic is not AI use); their rule says what counted
    cloudflare = hosts["api.cloudflare.com"]
    assert (cloudflare["match"], cloudflare["is_ai"]) == ("none", False)
    assert "2" + api_paths.AI_USE_RULE in cloudflare["rule"], cloudflare["rule"]
    assert (hosts["203.0.113.7"]["match"], hosts["203.0.113.7"]["is_ai"]) == ("none", False)
    assert hosts["203.0.113.7"]["rule"].endswith("1" + api_paths.AI_USE_RULE)
    assert api_paths.AI_USE_RULE not in (hosts["www.google.com"]["rule"] or "")
    assert (hosts["labelled.cloudflare.com"]["match"], hosts["labelled.cloudflare.com"]["is_ai"]) == ("label", False)
    # the analyst reviews them with the model's candidates
    result = CliRunner().invoke(cli, ["--home", str(home), "review", "--json"])
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(line)["host"] for line in result.output.splitlines()) == [
        "203.0.113.7", "api.cloudflare.com", "llm.corp.lan"]


def test_the_configured_catalogs_non_ai_lists_decide_which_hosts_are_shared(home: Path, tmp_path: Path) -> None:
    import shutil

    from detector.signatures import SIGNATURES_DIR

    catalog = home / "signatures"
    shutil.copytree(SIGNATURES_DIR, catalog)
    with (catalog / "non_ai" / "popular.txt").open("a", encoding="utf-8") as listed:
        listed.write("\nharbourfreight-tools.nl\n")  # this organisation's own supplier: not AI as a whole
    (home / "shadow-ai.toml").write_text('[catalog]\ndirectory = "signatures"\n', encoding="utf-8")
    log = tmp_path / "access.log"
    log.write_text(squid(0, "http://gw.harbourfreight-tools.nl/v1/chat/completions")
                   + squid(1, "http://gw.harbourfreight-tools.nl/orders", "GET"))
    assert [r.parsed for r in ingest_paths(load_settings(home), [str(log)])] == [2]
    classify(load_settings(home))
    with db.connect(load_settings(home)) as connection:
        [row] = connection.sql("select * from hosts where host = 'gw.harbourfreight-tools.nl'").to_arrow_table().to_pylist()
        events = connection.sql("select url_path, match from ai_events").fetchall()
    # a site of a non-AI list: the host is not flagged, its request to the model API path is AI use
    assert (row["match"], row["is_ai"]) == ("none", False), row
    assert row["rule"].endswith("1" + api_paths.AI_USE_RULE)
    assert events == [("/v1/chat/completions", "model")]


def test_path_evidence_needs_no_model_and_an_analysts_label_still_decides(home: Path) -> None:
    behaviour = pa.table({"host": ["gw.example-relay.nl", "quiet.example-relay.nl", "labelled.example-relay.nl"],
                          api_paths.COLUMN: pa.array([3, 0, 5], pa.int64())})
    labels = read_labels(home)
    labels = {**labels, "labelled.example-relay.nl": Label(host="labelled.example-relay.nl", ai=False, service=None,
                                                            category=None, by="analyst", at="2026-12-01T09:00:00+00:00")}
    table = judge_hosts(behaviour.column("host").to_pylist(), load_catalog(), labels, None, lambda: behaviour)
    rows = {r["host"]: r for r in table.to_pylist()}
    assert (rows["gw.example-relay.nl"]["match"], rows["gw.example-relay.nl"]["is_ai"]) == ("model", True)
    assert "3 requests" in rows["gw.example-relay.nl"]["rule"]
    assert (rows["quiet.example-relay.nl"]["match"], rows["quiet.example-relay.nl"]["score"]) == ("none", None)
    assert (rows["labelled.example-relay.nl"]["match"], rows["labelled.example-relay.nl"]["is_ai"]) == ("label", False)


def test_review_says_what_flagged_each_candidate(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(squid(0, "http://gw.harbourfreight-tools.nl/openai/deployments/gpt-4o/chat/completions"))
    assert [r.parsed for r in ingest_paths(load_settings(home), [str(log)])] == [1]
    classify(load_settings(home))
    result = CliRunner().invoke(cli, ["--home", str(home), "review", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["host"], r["score"]) for r in rows] == [("gw.harbourfreight-tools.nl", 1.0)]
    assert rows[0]["rule"].startswith(API_CALLS_RULE)
    table = CliRunner().invoke(cli, ["--home", str(home), "review"])
    assert table.exit_code == 0 and rows[0]["rule"] in table.output, table.output  # the last column, whole


@pytest.mark.parametrize(("asked", "match", "score"), [
    ("https://gw.harbourfreight-tools.nl/v1/chat/completions", "model", 1.0),
    ("gw.harbourfreight-tools.nl/v1beta/models/gemini-2.5-pro:generateContent", "model", 1.0),
    ("https://team-gpt.azurewebsites.net/openai/deployments/gpt-4o/chat/completions", "model", 1.0),
    ("https://team-gpt.azurewebsites.net/", "none", 0.0),  # a platform's user site: not judged by its name
    ("https://www.google.com/v1/chat/completions", "model", 1.0),  # the request is AI use, on any host
    ("https://www.google.com/search", "none", 0.0),  # under a non-AI list's site
    ("https://api.openai.com/v1/chat/completions", "catalog", 1.0),
    ("http://10.1.2.3/v1/chat/completions", "model", 1.0),  # an address: the request all the same
    ("http://10.1.2.3/", "none", None),  # an address is not judged
    ("https://llm.corp.lan/v1/chat/completions", "model", 1.0),  # an internal gateway
])
def test_lookup_of_a_url_on_a_model_api_path(home: Path, asked: str, match: str, score: float | None) -> None:
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--json", asked])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert (row["match"], row["score"]) == (match, score)
    assert row["verdict"] == ("not-ai" if match == "none" else "shadow" if match == "model" else row["verdict"])


def test_lookup_of_the_host_alone_is_judged_by_its_name(home: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--json", "gw.harbourfreight-tools.nl"])
    row = json.loads(result.output)
    assert row["match"] == "none", row  # the name alone does not give the relay away


def test_the_nightly_report_lists_the_candidate_with_what_flagged_it(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(squid(0, "http://gw.harbourfreight-tools.nl/v1/embeddings"))
    assert [r.parsed for r in ingest_paths(load_settings(home), [str(log)])] == [1]
    classify(load_settings(home))
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["--home", str(home), "report", "--period", "2024-11-28..2024-11-28",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    [listing] = list(out.rglob("candidates.csv"))
    rows = list(csv.DictReader(listing.open(encoding="utf-8")))
    assert [(r["host"], r["rule"].startswith(API_CALLS_RULE)) for r in rows] == [("gw.harbourfreight-tools.nl", True)]
    [page] = list(out.rglob("*.html"))
    assert API_CALLS_RULE in page.read_text(encoding="utf-8")
