"""`shadow-ai lookup` on what analysts paste: host names, URLs, addresses."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector import cli_support
from detector import lookup as lookup_module
from detector.cli import cli
from detector.lookup import NotAHost, host_and_path


def lookup(home: Path, *asked: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--json", *asked])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


@pytest.mark.parametrize(("asked", "expected"), [
    ("chatgpt.com", ("chatgpt.com", None)),
    ("ChatGPT.com.:443", ("chatgpt.com", None)),
    ("www.bing.com/chat?q=1#top", ("www.bing.com", "/chat")),
    ("https://user@Claude.ai:443/new?x=1", ("claude.ai", "/new")),
    ("https://www.bing.com", ("www.bing.com", None)),
    ("[2001:db8::1]:8443", ("2001:db8::1", None)),
    ("http://[2001:db8::1]/v1/chat", ("2001:db8::1", "/v1/chat")),
])
def test_host_and_path_of_what_is_pasted(asked: str, expected: tuple[str, str | None]) -> None:
    assert host_and_path(asked) == expected


@pytest.mark.parametrize("asked", ["", "   ", "https:///chat", "/chat"])
def test_no_host_is_an_error(asked: str) -> None:
    with pytest.raises(NotAHost):
        host_and_path(asked)


def test_a_url_path_finds_ai_inside_a_shared_site(home: Path) -> None:
    """Copilot lives under www.bing.com/chat: the URL is catalogued, the bare host is not (bing.com is not AI)."""
    with_path, bare = lookup(home, "https://www.bing.com/chat?q=hello", "www.bing.com")
    assert (with_path["service"], with_path["match"], with_path["verdict"]) == ("copilot_bing", "catalog", "shadow")
    assert bare["service"] is None and bare["verdict"] == "not-ai"


def test_an_address_gets_no_model_score(home: Path) -> None:
    """A name model has nothing to say of an IP address: no score, not AI, whatever digits it has."""
    rows = lookup(home, "104.18.32.47", "[2606:4700::6810:1]:443", "10.0.0.1")
    assert [(r["host"], r["match"], r["score"], r["verdict"]) for r in rows] == [
        ("104.18.32.47", "none", None, "not-ai"), ("2606:4700::6810:1", "none", None, "not-ai"),
        ("10.0.0.1", "none", None, "not-ai")]


def test_an_empty_argument_fails_with_a_message(home: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "chatgpt.com", ""])
    assert result.exit_code == 1 and "no host name in ''" in result.output


def test_a_list_file_is_judged_like_hosts_given_as_arguments(home: Path, tmp_path: Path) -> None:
    """A host per line (comments after it allowed); blank lines and # comments are skipped; arguments come first."""
    listed = tmp_path / "ai-blocklist.txt"
    listed.write_text("# AI services\nclaude.ai  # Anthropic\n\n   \nwww.bing.com/chat\t2026-11-30\n"
                      "www.rijksoverheid.nl\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--json", "chatgpt.com", "--file", str(listed)])
    assert result.exit_code == 0, result.output
    from_file = [json.loads(line) for line in result.output.splitlines()]
    assert from_file == lookup(home, "chatgpt.com", "claude.ai", "www.bing.com/chat", "www.rijksoverheid.nl")
    assert [row["service"] for row in from_file][:3] == ["chatgpt", "claude", "copilot_bing"]


def test_a_list_line_without_a_host_is_skipped_and_reported_with_its_line_number(home: Path, tmp_path: Path) -> None:
    """The rest of the list is still judged; standard error names the line (tests/test_host_lists.py has the
    syntaxes)."""
    listed = tmp_path / "hosts.txt"
    listed.write_text("chatgpt.com\n\nhttps:///chat\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--file", str(listed)])
    assert result.exit_code == 0 and result.stdout.startswith("chatgpt.com: ChatGPT")
    assert result.stderr.strip() == f"{listed}: 1 line names no host, skipped: not a host name 1 (line 3)"


def test_a_list_saved_with_a_byte_order_mark_or_in_windows_1252_is_read_not_a_traceback(home: Path,
                                                                                      tmp_path: Path) -> None:
    """Notepad's UTF-8 mark is no part of the first host; a byte that is not UTF-8 (an Excel export's é) makes its
    line no host name, reported, the rest judged (it was a UnicodeDecodeError traceback)."""
    listed = tmp_path / "hosts.txt"
    listed.write_bytes(b"\xef\xbb\xbfchatgpt.com\ncaf\xe9.example\nclaude.ai\n")
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--file", str(listed)])
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["chatgpt.com", "claude.ai"]
    assert result.stderr.strip() == f"{listed}: 1 line names no host, skipped: not a host name 1 (line 2)"


def test_no_hosts_at_all_is_an_error(home: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup"])
    assert result.exit_code == 1 and "no hosts" in result.output


def test_summary_counts_what_the_rows_say(home: Path) -> None:
    """--summary: how much of a list the product recognises, and how it knows, from standard input."""
    asked = ["chatgpt.com", "claude.ai", "www.rijksoverheid.nl", "10.0.0.1", "some-new-ai-chat-tool.ai"]
    rows = lookup(home, *asked)
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--summary", "--json", "--file", "-"],
                                input="\n".join(asked) + "\n")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    ai = [row for row in rows if row["verdict"] != "not-ai"]
    assert counts["hosts"] == 5 and counts["ai"] == len(ai) and counts["not_ai"] == 5 - len(ai)
    assert counts["ai_by_match"]["catalog"] == 2 and sum(counts["verdicts"].values()) == 5
    assert sum(counts["ai_by_match"].values()) + sum(counts["not_ai_by_match"].values()) == 5
    text = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--summary", *asked])
    assert text.output.splitlines()[0].startswith(f"5 hosts: {len(ai)} AI (catalog 2")
    all_ai = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--summary", "chatgpt.com", "claude.ai"])
    assert all_ai.output.splitlines() == ["2 hosts: 2 AI (catalog 2), 0 not AI", "verdicts: shadow 2"]


def test_notices_of_the_library_go_to_a_terminal_s_standard_error_not_the_output(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first model training is announced on standard error where it is a terminal; --json output stays one
    object per line, and a script's standard error gets no notice."""
    def notifying(settings: object, hosts: list[str]) -> list[dict[str, object]]:
        logging.getLogger("detector.classify.model").info("training a model")
        return [{"host": "x.example", "verdict": "not-ai", "match": "none"}]

    monkeypatch.setattr(lookup_module, "lookup_hosts", notifying)
    asked = ["--home", str(home), "lookup", "--json", "x.example"]
    piped = CliRunner().invoke(cli, asked)
    assert piped.exit_code == 0 and piped.stderr == ""
    monkeypatch.setattr(cli_support, "stderr_is_terminal", lambda: True)
    logger = logging.getLogger("detector")
    try:
        shown = CliRunner().invoke(cli, asked)
    finally:
        for handler in [h for h in logger.handlers if isinstance(h, cli_support.StderrNotices)]:
            logger.removeHandler(handler)
    assert shown.exit_code == 0, shown.output
    assert shown.stderr == "training a model\n"
    assert shown.stdout == '{"host": "x.example", "verdict": "not-ai", "match": "none"}\n'


def test_rows_say_what_decided_and_the_summary_counts_the_listed_services(home: Path) -> None:
    """Each row's rule tells a listed AI service (known for certain) from the name model's guess, and --summary
    counts the model's AI hosts that are listed: how much of a list the product knows, not guesses."""
    from detector.classify.hosts import LISTED_RULE
    from detector.classify.model import training_positives
    from detector.signatures import SIGNATURES_DIR, load_catalog

    catalog = load_catalog(SIGNATURES_DIR)
    listed = next(site for site in training_positives(SIGNATURES_DIR) if catalog.match_host(site) is None)
    asked = ["chatgpt.com", listed, "some-new-ai-chat-tool.ai", "www.rijksoverheid.nl"]
    rows = {row["host"]: row for row in lookup(home, *asked)}
    assert rows["chatgpt.com"]["rule"].startswith("domain")
    assert rows[listed]["match"] == "model" and rows[listed]["rule"].startswith(LISTED_RULE)
    guessed = rows["some-new-ai-chat-tool.ai"]
    assert guessed["match"] == "model" and guessed["rule"].startswith("model ")
    assert rows["www.rijksoverheid.nl"]["match"] == "none"
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--summary", "--json", *asked])
    counts = json.loads(result.output)
    assert counts["ai_by_match"] == {"catalog": 1, "model": 2} and counts["model_listed"] == 1
    text = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--summary", *asked]).output
    assert text.splitlines()[0] == "4 hosts: 3 AI (catalog 1, model 2 of which 1 listed), 1 not AI (none 1)"
