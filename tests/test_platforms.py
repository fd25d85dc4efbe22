"""Hosting platforms' user-content domains (signatures/non_ai/platforms.txt): a host under one is someone's own
site, so the model does not judge it; and the platforms' names are not training data. The same holds for the
ad-tech and analytics sites of signatures/non_ai/trackers.txt."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from detector.classify import features, model
from detector.cli import cli
from detector.config import load_settings
from detector.signatures import load_catalog, read_domain_list

PLATFORMS = read_domain_list(model.SIGNATURES_DIR / "non_ai" / "platforms.txt")


def test_the_list_holds_the_big_hosting_platforms() -> None:
    assert {"vercel.app", "web.app", "firebaseapp.com", "myshopify.com", "ngrok-free.app"} <= set(PLATFORMS)
    assert features.non_ai_lists()[features.PLATFORMS] == PLATFORMS


def test_platform_names_are_not_training_data(home: Path) -> None:
    """Neither the platforms nor hosts under them (the synthetic subdomains) are among the training hosts."""
    data = model.training_set(load_settings(home), load_catalog(model.SIGNATURES_DIR), None)
    lists = features.non_ai_lists()
    known_only = {name for origin in features.NOT_TRAINED for name in lists[origin]}
    assert set(PLATFORMS) < known_only and "bluekai.com" in known_only
    assert not [host for host in data.hosts if features.under(host, known_only)]
    assert not features.NOT_TRAINED & set(data.origins)
    assert "saas" in data.origins and "popular" in data.origins  # the other lists still are


def test_a_host_under_a_platform_is_not_judged_by_its_name(home: Path) -> None:
    """`chat-gpt-notes.vercel.app` reads like an AI tool, but the name is its maker's choice on a platform:
    score 0, as for every non-AI list; the same name on its own domain is still the model's to judge."""
    hosts = ["chat-gpt-notes.vercel.app", "notes-app.firebaseapp.com", "abc123.ngrok-free.app", "tags.bluekai.com",
             "chatgptnotes.ai"]
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--json", *hosts])
    assert result.exit_code == 0, result.output
    rows = {row["host"]: row for row in map(json.loads, result.output.splitlines())}
    for host in hosts[:4]:
        assert (rows[host]["score"], rows[host]["match"], rows[host]["verdict"]) == (0.0, "none", "not-ai"), host
    assert rows["chatgptnotes.ai"]["match"] == "model" and rows["chatgptnotes.ai"]["score"] > 0.5
