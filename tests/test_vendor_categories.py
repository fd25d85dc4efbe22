"""Web gateways' own AI categories (signatures/ai_vendor_categories.txt): a host the catalog does not know that the
gateway files under "Generative AI" or "AI & ML Applications" is flagged for review whatever its name; one in another
category, a catalogued one or one under a non-AI list's site is not. The pattern is checked in DuckDB (RE2)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from detector import db
from detector.classify import vendor_categories
from detector.classify.hosts import judge_hosts
from detector.classify.run import classify
from detector.config import load_settings
from detector.ingest.pipeline import ingest_paths
from detector.labels import Label, read_labels
from detector.signatures import load_catalog

PATTERN = vendor_categories.default_pattern()


def matches(values: list[str], pattern: str = PATTERN) -> list[bool]:
    rows = duckdb.connect().sql("select regexp_matches(v, $pattern) from unnest($values) as t(v)",
                                params={"pattern": pattern, "values": values}).fetchall()
    return [bool(r[0]) for r in rows]


@pytest.mark.parametrize("value", [
    "Generative AI", "generative  ai", "Generative AI, Business", "AI & ML Applications", "AI/ML Applications",
    "Artificial Intelligence Technology", "artificial-intelligence", "Cloud Storage;GenAI",
])
def test_the_vendors_ai_categories_match(value: str) -> None:
    assert matches([value]) == [True]


@pytest.mark.parametrize("value", [
    "Business", "Shopping", "Computers and Internet", "Technology", "GenAIus Labs", "Chat", "Web-based Email", "",
])
def test_other_categories_do_not(value: str) -> None:
    assert matches([value]) == [False]


def test_an_empty_list_matches_nothing_and_names_are_quoted() -> None:
    assert matches(["Generative AI", "a.b"], vendor_categories.category_pattern([])) == [False, False]
    assert matches(["axb", "a.b"], vendor_categories.category_pattern(["a.b"])) == [False, True]


def test_classify_flags_an_unknown_host_the_gateway_files_under_ai(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "gateway.csv"
    rows = ["timestamp,client_ip,user,host,url_category,action"]
    for minute in range(6):
        rows.append(f"2026-11-30T08:{minute:02d}:00Z,10.40.2.{minute},u{minute},helper.harbourfreight-tools.nl,"
                    "AI & ML Applications,allowed")
        rows.append(f"2026-11-30T09:{minute:02d}:00Z,10.40.2.{minute},u{minute},shop.harbourfreight-tools.nl,"
                    "Shopping,allowed")
        rows.append(f"2026-11-30T10:{minute:02d}:00Z,10.40.2.{minute},u{minute},www.google.com,Generative AI,allowed")
        rows.append(f"2026-11-30T11:{minute:02d}:00Z,10.40.2.{minute},u{minute},chatgpt.com,"
                    '"Generative AI, Business",allowed')
    log.write_text("\n".join(rows) + "\n")
    reports = list(ingest_paths(load_settings(home), [str(log)]))
    assert [(r.format, r.parsed) for r in reports] == [("csv", 24)], reports
    classify(load_settings(home))
    with db.connect(load_settings(home)) as connection:
        hosts = {r["host"]: r for r in connection.sql("select * from hosts").to_arrow_table().to_pylist()}
        ai_hosts = {r[0] for r in connection.sql("select distinct host from ai_events").fetchall()}
    helper = hosts["helper.harbourfreight-tools.nl"]
    assert (helper["match"], helper["is_ai"], helper["score"]) == ("model", True, 1.0)
    assert helper["rule"].startswith(vendor_categories.RULE) and '"AI & ML Applications" (6 requests' in helper["rule"]
    assert not hosts["shop.harbourfreight-tools.nl"]["rule"].startswith(vendor_categories.RULE)
    assert hosts["www.google.com"]["match"] == "none"  # a non-AI list's site: AI inside it is the catalog's job
    assert hosts["chatgpt.com"]["match"] == "catalog"
    assert "helper.harbourfreight-tools.nl" in ai_hosts and "shop.harbourfreight-tools.nl" not in ai_hosts


def test_the_category_needs_no_model_and_an_analysts_label_still_decides(home: Path) -> None:
    names = ["new.example-tools.nl", "quiet.example-tools.nl", "labelled.example-tools.nl"]
    behaviour = pa.table({"host": names, vendor_categories.COLUMN: pa.array([4, 0, 5], pa.int64()),
                          vendor_categories.NAME_COLUMN: ["Generative AI", None, "Generative AI"]})
    labels = {**read_labels(home), names[2]: Label(host=names[2], ai=False, service=None, category=None,
                                                   by="analyst", at="2026-12-02T09:00:00+00:00")}
    rows = {r["host"]: r for r in judge_hosts(names, load_catalog(), labels, None, lambda: behaviour).to_pylist()}
    assert (rows[names[0]]["match"], rows[names[0]]["is_ai"]) == ("model", True)
    assert '"Generative AI" (4 requests' in rows[names[0]]["rule"]
    assert (rows[names[1]]["match"], rows[names[1]]["score"]) == ("none", None)
    assert (rows[names[2]]["match"], rows[names[2]]["is_ai"]) == ("label", False)
