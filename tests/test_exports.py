"""Block lists (never a shared domain), ECS events and findings, and the AI-register candidate list."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector.cli import cli
from detector.enrich.policy import Policy, Rule
from detector.report import exports
from detector.signatures import SHARED_DOMAINS, Catalog, RiskFacts, Service, load_catalog
from tests.test_report import PERIOD, build_organisation

FACTS = RiskFacts("US", "US", True, False, False, ("https://example.org/privacy",), date(2026, 1, 1))


def service(id_: str, domains: tuple[str, ...], shared: bool = False, exclude: tuple[str, ...] = ()) -> Service:
    return Service(id=id_, name=id_.title(), vendor="Vendor", category="chat", risk=FACTS, domains=domains,
                   shared_domain=shared, exclude=exclude)


def domain_of(line: str) -> str | None:
    """The domain a block-list line names, whatever the format."""
    line = line.strip()
    if not line or line[0] in "#;$@" or line.startswith("IN "):
        return None
    line = line.removeprefix("address=/").removeprefix("0.0.0.0 ").split(" CNAME")[0]
    return line.strip("/").removeprefix("*.").removeprefix(".").split("/")[0]


def test_shared_domains_and_shared_services_are_never_blocked() -> None:
    catalog = Catalog([
        service("chatish", ("chatish.ai", "cdn.chatish.ai")),
        service("inside_google", ("gemini.google.com",), shared=True),
        service("careless", ("googleapis.com", "careless.ai")),  # a catalog mistake the export must survive
        service("topdomain", ("com",)),
    ])
    policy = Policy(services={name: Rule("forbidden") for name in ("chatish", "inside_google", "careless",
                                                                     "topdomain")})
    blocklist = exports.blocklist(catalog, policy)
    assert [entry.domain for entry in blocklist.entries] == ["careless.ai", "chatish.ai"]  # cdn. is covered
    assert "inside_google" in blocklist.left_out and "shared" in blocklist.left_out["inside_google"]
    for name, render in exports.FORMATS.items():
        named = {domain_of(line) for line in render(blocklist).splitlines()} - {None}
        assert named == {"careless.ai", "chatish.ai"}, name


def test_the_real_catalog_never_exports_a_shared_domain() -> None:
    catalog = load_catalog()
    everything = Policy(default="forbidden", services={s: Rule("forbidden") for s in catalog.services})
    blocklist = exports.blocklist(catalog, everything)
    assert len(blocklist.entries) > 100
    flagged = {s.id for s in catalog.services.values() if s.shared_domain}
    assert flagged and flagged <= set(blocklist.left_out)
    for name, render in exports.FORMATS.items():
        for line in render(blocklist).splitlines():
            domain = domain_of(line)
            if domain is None:
                continue
            assert domain not in SHARED_DOMAINS, (name, line)
            assert not any(shared.endswith("." + domain) for shared in SHARED_DOMAINS), (name, line)


def test_department_exceptions_and_other_services_below_a_blocked_domain() -> None:
    catalog = Catalog([
        service("bigai", ("bigai.com",)),
        service("bigai_docs", ("docs.bigai.com",)),
        service("helper", ("helper.ai",), exclude=("status.helper.ai",)),
        service("coder", ("coder.dev",)),
    ])
    policy = Policy(services={"bigai": Rule("forbidden"), "bigai_docs": Rule("sanctioned"),
                              "helper": Rule("forbidden"), "coder": Rule("forbidden", {"ICT": "sanctioned"})})
    blocklist = exports.blocklist(catalog, policy)
    assert "coder" in blocklist.left_out and "ICT" in blocklist.left_out["coder"]
    assert set(blocklist.exceptions) == {"docs.bigai.com", "status.helper.ai"}
    squid = exports.squid(blocklist).splitlines()
    assert "bigai.com" in squid and ".bigai.com" not in squid  # exact name: the sanctioned docs stay reachable
    assert "helper.ai" in squid and not any(line.endswith("coder.dev") for line in squid)
    rpz = exports.rpz(blocklist, serial=7)
    assert "*.bigai.com CNAME ." in rpz and "docs.bigai.com CNAME rpz-passthru." in rpz
    assert "(7 3600 600 604800 300)" in rpz
    assert "server=/status.helper.ai/#" in exports.dnsmasq(blocklist)
    # no wildcard where an exception lies below; PAN-OS and FortiGate lists have no way to express one
    assert sorted(exports.paloalto(blocklist).splitlines()) == ["bigai.com/", "helper.ai/"]
    assert sorted(exports.fortigate(blocklist).splitlines()) == ["bigai.com", "helper.ai"]


# ---- on a constructed organisation --------------------------------------------------------------------


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_organisation(tmp_path_factory.mktemp("exports"))


def run(home: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_block_lists_from_the_policy_with_hosts_seen_in_the_logs(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "squid.txt"
    assert run(home, "export", "squid", "--out", str(out)) == ""
    squid = out.read_text().splitlines()
    assert ".deepseek.com" in squid or "deepseek.com" in squid
    assert any("github_copilot" in line and "ICT" in line for line in squid if line.startswith("#"))
    hosts = run(home, "export", "hosts")
    assert "0.0.0.0 chat.deepseek.com" in hosts  # seen in the logs: exact names for a hosts file


def test_events_are_ecs_without_addresses_and_pseudonyms_only_on_request(home: Path) -> None:
    lines = run(home, "export", "events", "--period", PERIOD).splitlines()
    documents = [json.loads(line) for line in lines]
    assert documents and all(d["event"]["dataset"] == "shadow_ai.ai_event" for d in documents)
    text = "\n".join(lines)
    assert not re.search(r"\b10\.\d+\.\d+\.\d+\b", text) and "user" not in {k for d in documents for k in d}
    deepseek = [d for d in documents if d["shadow_ai"]["service"].get("id") == "deepseek"]
    assert {d["event"]["action"] for d in deepseek} == {"allowed", "blocked"}
    assert all(d["shadow_ai"]["verdict"] == "forbidden" and d["shadow_ai"]["department"] == "Burgerzaken"
               for d in deepseek)
    assert deepseek[0]["source"]["bytes"] == 60_000_000
    with_ids = [json.loads(line) for line in run(home, "export", "events", "--period", PERIOD,
                                                    "--pseudonyms").splitlines()]
    assert all(re.fullmatch(r"u-[0-9a-f]{20}", d["user"]["id"]) for d in with_ids)


def test_findings_hold_alerts_and_daily_use_with_small_groups_suppressed(home: Path) -> None:
    documents = [json.loads(line) for line in run(home, "export", "findings", "--period", PERIOD).splitlines()]
    kinds = {d["event"]["kind"] for d in documents}
    assert kinds == {"alert", "metric"}
    hr = [d["shadow_ai"] for d in documents if d["event"]["kind"] == "metric" and d["shadow_ai"]["department"] == "HR"]
    assert hr and all("users" not in row and row["users_suppressed"] for row in hr)
    burgerzaken = next(d["shadow_ai"] for d in documents if d["event"]["kind"] == "metric"
                       and d["shadow_ai"]["department"] == "Burgerzaken" and d["shadow_ai"]["service"]["key"] == "chatgpt")
    assert burgerzaken["users"] == 6


def test_register_lists_sanctioned_services_with_their_facts(home: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(run(home, "export", "register", "--period", PERIOD))))
    by_service = {row["service"]: row for row in rows}
    assert set(by_service) == {"deepl", "github_copilot"}
    copilot = by_service["github_copilot"]
    assert copilot["sanctioned_for"] == "ICT" and copilot["departments_using"] == "ICT"
    assert copilot["users"] == "5" and copilot["data_location"] == "US" and copilot["gdpr_dpa"] == "yes"
    assert copilot["sources"].startswith("https://")
    assert by_service["deepl"]["sanctioned_for"] == "whole organisation" and by_service["deepl"]["users"] == "0"
