"""Host names out of the lists analysts are handed (detector/host_lists.py), in the syntaxes those lists are
written in. Each syntax's lines follow its documentation:
hosts(5) (https://man7.org/linux/man-pages/man5/hosts.5.html); Adblock Plus filters
(https://help.adblockplus.org/hc/en-us/articles/360062733293); dnsmasq `--address`/`--server`
(https://thekelleys.org.uk/dnsmasq/docs/dnsmasq-man.html); Unbound `local-zone`
(https://unbound.docs.nlnetlabs.nl/en/latest/manpages/unbound.conf.html); Clash/mihomo rules
(https://wiki.metacubex.one/en/config/rules/), Surge (https://manual.nssurge.com/rule/domain-based.html) and
Quantumult X `host-suffix`; v2fly domain-list-community (https://github.com/v2fly/domain-list-community);
DNS RPZ (https://dnsrpz.info/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector.cli import cli
from detector.host_lists import read_host_list


def hosts_of(*lines: str) -> list[str]:
    return read_host_list(lines).hosts


@pytest.mark.parametrize(("line", "expected"), [
    ("chatgpt.com", ["chatgpt.com"]),
    ("Claude.AI  # Anthropic", ["Claude.AI"]),
    ("claude.ai # Anthropic, the vendor", ["claude.ai"]),
    ("https://www.bing.com/chat?q=1", ["https://www.bing.com/chat?q=1"]),  # a URL keeps its path
    ("0.0.0.0 poe.com", ["poe.com"]),  # hosts file
    ("127.0.0.1\tcharacter.ai www.character.ai # companions", ["character.ai", "www.character.ai"]),
    (":: perplexity.ai", ["perplexity.ai"]),
    ("||chat.deepseek.com^", ["chat.deepseek.com"]),  # Adblock
    ("||gemini.google.com^$third-party", ["gemini.google.com"]),
    ("@@||grammarly.com^", ["grammarly.com"]),
    ("|https://www.jasper.ai/|", ["https://www.jasper.ai/"]),
    ("address=/you.com/0.0.0.0", ["you.com"]),  # dnsmasq
    ("server=/phind.com/kagi.com/10.0.0.1", ["phind.com", "kagi.com"]),
    ('local-zone: "mistral.ai." always_nxdomain', ["mistral.ai."]),  # Unbound
    ("DOMAIN-SUFFIX,openai.com", ["openai.com"]),  # Clash / Surge
    ("DOMAIN,api.anthropic.com,REJECT", ["api.anthropic.com"]),
    ("  - DOMAIN-SUFFIX,x.ai", ["x.ai"]),  # a Clash payload: item
    ("  - '+.anthropic.com'", ["anthropic.com"]),  # mihomo domain behaviour
    ("host-suffix, suno.com, proxy", ["suno.com"]),  # Quantumult X
    ("full:gemini.google.com", ["gemini.google.com"]),  # v2fly
    ("domain:deepl.com @!cn", ["deepl.com"]),
    ("*.huggingface.co CNAME .", ["huggingface.co"]),  # RPZ
    (".elevenlabs.io", ["elevenlabs.io"]),
    ('"runwayml.com",', ["runwayml.com"]),  # a JSON array's item
    ("ChatGPT,https://chatgpt.com,chat", ["https://chatgpt.com"]),  # a spreadsheet row: the cell that is a host
    ('"Jasper, Inc.";jasper.ai', ["jasper.ai"]),
])
def test_each_syntax_names_its_hosts(line: str, expected: list[str]) -> None:
    listed = read_host_list([line])
    assert listed.hosts == expected and not listed.skipped and listed.ignored == 0


@pytest.mark.parametrize(("line", "reason"), [
    ("DOMAIN-KEYWORD,openai", "DOMAIN-KEYWORD rule"),
    ("IP-CIDR,1.2.3.0/24,no-resolve", "IP-CIDR rule"),
    ("keyword:chatgpt", "keyword: rule"),
    ("regexp:^.*\\.ai$", "regexp: rule"),
    ("example.com##.ai-widget", "Adblock element-hiding rule"),
    ("ai*.example.com", "wildcard pattern inside a name"),
    ("https:///chat", "not a host name"),
    ("address=/#/0.0.0.0", "dnsmasq line without a domain"),
    ('"rules": [', "not a host name"),
    ('""', "not a host name"),
    ("- ", "not a host name"),
])
def test_a_line_that_names_no_host_is_skipped_with_its_reason(line: str, reason: str) -> None:
    listed = read_host_list(["chatgpt.com", line])
    assert listed.hosts == ["chatgpt.com"] and listed.skipped == {reason: [2]}


def test_every_line_is_accounted_for() -> None:
    """lines = lines with hosts + skipped + ignored (blank lines, comments, section headers)."""
    lines = ["[Adblock Plus 2.0]", "! Title: AI", "", "# comment", "; zone comment", "$TTL 300", "payload:",
             "  - DOMAIN-SUFFIX,openai.com", "  - IP-CIDR,1.2.3.0/24", "0.0.0.0 a.ai b.ai", "{", "keyword:gpt"]
    listed = read_host_list(lines)
    assert listed.hosts == ["openai.com", "a.ai", "b.ai"]
    assert listed.ignored == 8 and {reason: len(n) for reason, n in listed.skipped.items()} == {
        "IP-CIDR rule": 1, "keyword: rule": 1}
    assert 2 + sum(len(numbers) for numbers in listed.skipped.values()) + listed.ignored == len(lines)


def test_a_spreadsheet_header_names_the_host_column() -> None:
    listed = read_host_list(["Name;Website;Country", "Le Chat;https://chat.mistral.ai;FR",
                             "DeepL;deepl.com;DE", "Nothing;;NL"])
    assert listed.hosts == ["https://chat.mistral.ai", "deepl.com"] and listed.ignored == 1
    assert listed.skipped == {"row with no host in its host column": [4]}
    assert hosts_of("domain", "claude.ai", "poe.com") == ["claude.ai", "poe.com"]  # a one-column export


def test_only_the_first_data_line_can_be_a_header() -> None:
    listed = read_host_list(["claude.ai", "localhost"])
    assert listed.hosts == ["claude.ai", "localhost"] and listed.ignored == 0


def test_lookup_judges_a_rule_set_by_its_hosts_and_says_what_it_skipped(home: Path, tmp_path: Path) -> None:
    """The catalog recognises a Clash rule set's and a hosts file's entries; the rules that name no host are
    reported on standard error with their line numbers, and the rest is still judged."""
    rules = tmp_path / "ai.list"
    rules.write_text("payload:\n  - DOMAIN-SUFFIX,openai.com\n  - DOMAIN-KEYWORD,openai\n"
                     "  - IP-CIDR,1.2.3.0/24\n", encoding="utf-8")
    hosts = tmp_path / "hosts"
    hosts.write_text("0.0.0.0 claude.ai\n0.0.0.0 www.rijksoverheid.nl\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--home", str(home), "lookup", "--json", "--file", str(rules), "--file", str(hosts)])
    assert result.exit_code == 0, result.output + result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(row["host"], row["service"]) for row in rows] == [
        ("openai.com", "chatgpt"), ("claude.ai", "claude"), ("www.rijksoverheid.nl", None)]
    assert result.stderr.strip() == (f"{rules}: 2 lines name no host, skipped: DOMAIN-KEYWORD rule 1 (line 3), "
                                     "IP-CIDR rule 1 (line 4)")


def test_a_list_with_no_host_at_all_is_an_error(home: Path, tmp_path: Path) -> None:
    rules = tmp_path / "keywords.list"
    rules.write_text("DOMAIN-KEYWORD,openai\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--file", str(rules)])
    assert result.exit_code == 1 and "no hosts" in result.output + result.stderr
    assert "1 line names no host, skipped: DOMAIN-KEYWORD rule 1 (line 1)" in result.stderr


def test_the_summary_counts_the_skipped_lines_too(home: Path, tmp_path: Path) -> None:
    """--summary --json: a script sees how many lines named no host, by reason, beside the hosts' counts."""
    rules = tmp_path / "ai.list"
    rules.write_text("DOMAIN-SUFFIX,openai.com\nDOMAIN-KEYWORD,openai\nIP-CIDR,1.2.3.0/24\nIP-CIDR,5.6.7.0/24\n",
                     encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--summary", "--json", "--file", str(rules)])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert counts["hosts"] == 1 and counts["skipped_lines"] == {"DOMAIN-KEYWORD rule": 1, "IP-CIDR rule": 2}
    text = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--summary", "--file", str(rules)])
    assert text.stdout.splitlines()[-1] == "skipped lines (no host): 3"
