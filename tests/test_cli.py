"""The command line contract of ARCHITECTURE.md: output shapes, exit codes, help and README coverage."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from detector.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SQUID_SAMPLE = ROOT / "sample_logs" / "squid" / "basic.log"


def run(home: Path, *args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False)


def commands(group: click.Group = cli, prefix: str = "") -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        names.append(full)
        if isinstance(command, click.Group):
            names += commands(command, full + " ")
    return names


def test_ingest_json_prints_one_object_per_file_with_the_contract_keys(home: Path, tmp_path: Path) -> None:
    second = tmp_path / "second.log"
    second.write_text(SQUID_SAMPLE.read_text().splitlines()[0] + "\n")
    result = run(home, "ingest", "--json", str(SQUID_SAMPLE), str(second))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [Path(r["file"]).name for r in rows] == ["basic.log", "second.log"]
    for row in rows:
        assert {"file", "format", "lines", "parsed", "rejected", "ignored", "skipped"} <= row.keys()
        assert row["lines"] == row["parsed"] + row["rejected"] + row["ignored"]
    assert rows[0]["format"] == "squid" and rows[0]["rejected"] == 4 and rows[0]["ignored"] == 1
    again = run(home, "ingest", "--json", str(SQUID_SAMPLE))
    assert json.loads(again.output)["skipped"] is True


def test_ingest_exits_1_when_a_file_fails_but_still_ingests_the_others(home: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(home), "ingest", str(tmp_path / "nope.log"), str(SQUID_SAMPLE)])
    assert result.exit_code == 1
    assert "no such file" in result.output
    assert "Traceback" not in result.output
    status = json.loads(run(home, "status", "--json").output)
    assert status["events"] == 13 and status["rejected"] == 4


def test_unknown_format_is_a_usage_error(home: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(home), "ingest", "--format", "nope", str(SQUID_SAMPLE)])
    assert result.exit_code == 2 and "unknown format" in result.output


def test_bad_map_is_a_usage_error(home: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(home), "ingest", "--map", "a=not_a_field", str(SQUID_SAMPLE)])
    assert result.exit_code == 2 and "--map" in result.output


def test_sql_formats_and_refusal(home: Path) -> None:
    run(home, "ingest", str(SQUID_SAMPLE))
    query = "select host, count(*) as n from events where host like '%deepl%' group by host"
    as_json = [json.loads(line) for line in run(home, "sql", query, "--format", "json").output.splitlines()]
    assert as_json == [{"host": "www.deepl.com", "n": 2}]
    as_csv = run(home, "sql", query, "--format", "csv").output.splitlines()
    assert as_csv == ["host,n", "www.deepl.com,2"]
    table = run(home, "sql", query).output
    assert "www.deepl.com" in table and "host" in table.splitlines()[0]
    refused = CliRunner().invoke(cli, ["--home", str(home), "sql", "drop view events"])
    assert refused.exit_code == 1 and "only SELECT" in refused.output


def test_status_on_an_empty_lake_says_how_to_start(home: Path) -> None:
    result = run(home, "status")
    assert result.exit_code == 0 and "shadow-ai ingest" in result.output


def test_formats_lists_every_registered_format() -> None:
    from detector.ingest import FORMATS

    output = CliRunner().invoke(cli, ["formats", "--json"]).output
    listed = {json.loads(line)["format"] for line in output.splitlines()}
    assert listed == set(FORMATS)


@pytest.mark.parametrize("command", commands())
def test_every_command_has_help_with_an_example_and_is_in_the_readme(command: str) -> None:
    result = CliRunner().invoke(cli, [*command.split(), "-h"])
    assert result.exit_code == 0
    target = cli
    for part in command.split():
        target = target.commands[part]  # type: ignore[attr-defined]
    if not isinstance(target, click.Group):
        assert "Example:" in (target.help or ""), f"`shadow-ai {command}` help has no Example: block"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"shadow-ai {re.escape(command)}\b", readme), f"README does not document `shadow-ai {command}`"


def test_python_dash_m_detector_is_the_same_command() -> None:
    result = subprocess.run([sys.executable, "-m", "detector", "--version"], capture_output=True, text=True, check=True)
    assert "shadow-ai" in result.stdout


def test_readme_format_table_is_generated_from_the_registry() -> None:
    from tests.readme import README, rendered

    text = README.read_text(encoding="utf-8")
    assert rendered(text) == text, "README format table is out of date: python -m tests.readme --update"
