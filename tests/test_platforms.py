"""Hosting platforms' user-content domains (signatures/non_ai/platforms.txt): a host under one is someone's own
site, so the model does not judge it; and the platforms' names are not training data. The same holds for the
ad-tech and analytics sites of signatures/non_ai/trackers.txt and the infrastructure sites (updates, security
vendors' clouds, PKI, DNS, CDN ...) of signatures/non_ai/infrastructure.txt."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from detector.classify import features, model
from detector.cli import cli
from detector.config import load_settings
from detector.signatures import load_catalog, read_domain_list

PLATFORMS = read_domain_list(model.SIGNATURES_DIR / "non_ai" / "platforms.txt")
INFRASTRUCTURE = read_domain_list(model.SIGNATURES_DIR / "non_ai" / "infrastructure.txt")


def test_the_list_holds_the_big_hosting_platforms() -> None:
    assert {"vercel.app", "web.app", "firebaseapp.com", "myshopify.com", "ngrok-free.app"} <= set(PLATFORMS)
    assert features.non_ai_lists()[features.PLATFORMS] == PLATFORMS


def test_the_infrastructure_list_is_known_and_not_trained_on() -> None:
    """Update, telemetry, security-vendor, PKI, DNS and CDN sites: known as not AI (score 0), like trackers.txt."""
    assert len(INFRASTRUCTURE) >= 400
    assert {"nos-avg.cz", "lencr.org", "akadns.net", "pphosted.com", "msftncsi.com", "surfnet.nl"} <= set(INFRASTRUCTURE)
    assert features.non_ai_lists()["infrastructure"] == INFRASTRUCTURE
    assert {"trackers", "infrastructure"} < features.NOT_TRAINED


def test_no_infrastructure_site_or_host_under_one_matches_the_catalog() -> None:
    """A catalog match would be an AI service: such a site must not be listed, nor a site that a catalog host or
    domain lies under (a cloud whose AI endpoints the catalog names, such as ovh.net's)."""
    catalog = load_catalog(model.SIGNATURES_DIR)
    hosts = [*INFRASTRUCTURE, *(f"{prefix}.{site}" for site in INFRASTRUCTURE for prefix in ("api", "config"))]
    assert [host for host in hosts if catalog.match_host(host) is not None] == []
    known_ai = [*model.catalog_hosts(catalog), *(d for service in catalog.services.values() for d in service.domains)]
    assert [name for name in known_ai if features.under(name, set(INFRASTRUCTURE))] == []


def test_platform_names_are_not_training_data(home: Path) -> None:
    """Neither the platforms nor hosts under them (the synthetic subdomains) are among the training hosts."""
    data = model.training_set(load_settings(home), load_catalog(model.SIGNATURES_DIR), None)
    lists = features.non_ai_lists()
    known_only = {name for origin in features.NOT_TRAINED for name in lists[origin]}
    assert set(PLATFORMS) < known_only and "bluekai.com" in known_only and set(INFRASTRUCTURE) < known_only
    assert not [host for host in data.hosts if features.under(host, known_only)]
    assert not features.NOT_TRAINED & set(data.origins)
    assert "saas" in data.origins and "popular" in data.origins  # the other lists still are


def test_a_host_under_a_platform_is_not_judged_by_its_name(home: Path) -> None:
    """`chat-gpt-notes.vercel.app` reads like an AI tool, but the name is its maker's choice on a platform:
    score 0, as for every non-AI list; the same name on its own domain is still the model's to judge."""
    hosts = ["chat-gpt-notes.vercel.app", "notes-app.firebaseapp.com", "abc123.ngrok-free.app", "tags.bluekai.com",
             "config.nos-avg.cz", "telemetry.cyberark.cloud", "chatgptnotes.ai"]
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--json", *hosts])
    assert result.exit_code == 0, result.output
    rows = {row["host"]: row for row in map(json.loads, result.output.splitlines())}
    for host in hosts[:-1]:
        assert (rows[host]["score"], rows[host]["match"], rows[host]["verdict"]) == (0.0, "none", "not-ai"), host
    assert rows["chatgptnotes.ai"]["match"] == "model" and rows["chatgptnotes.ai"]["score"] > 0.5


AI_ADJACENT = read_domain_list(model.SIGNATURES_DIR / "non_ai" / "ai_adjacent.txt")


def test_sites_about_ai_are_known_not_ai_and_not_trained_on(home: Path) -> None:
    """AI-tool directories, AI news and prompt libraries read as AI by name (toolify.ai, unite.ai) but send nobody's
    data to a model: known as not AI (score 0), not training data; no AI service of the catalog or the AI lists."""
    assert len(AI_ADJACENT) >= 100 and {"toolify.ai", "theresanaiforthat.com", "promptbase.com"} <= set(AI_ADJACENT)
    assert "ai_adjacent" in features.NOT_TRAINED and features.non_ai_lists()["ai_adjacent"] == AI_ADJACENT
    catalog = load_catalog(model.SIGNATURES_DIR)
    assert [site for site in AI_ADJACENT if catalog.match_host(f"www.{site}") is not None] == []
    known_ai = {*model.training_positives(model.SIGNATURES_DIR), *model.heldout_services(model.SIGNATURES_DIR),
                *model.catalog_hosts(catalog)}
    assert [name for name in known_ai if features.under(name, set(AI_ADJACENT))] == []
    hosts = ["toolify.ai", "www.aitools.fyi", "unite.ai"]
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--json", *hosts])
    rows = {row["host"]: row for row in map(json.loads, result.output.splitlines())}
    assert all((rows[h]["score"], rows[h]["match"]) == (0.0, "none") for h in hosts), rows
