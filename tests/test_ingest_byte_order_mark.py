"""A UTF-8 byte order mark at the start of a file (Windows tools, Excel and PowerShell's Out-File write one) is
no part of its first line: that line is recognised and read like the others, and ingesting it again adds
nothing (the mark still counts among the file's bytes)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from detector.cli import cli
from detector.ingest import sniff
from detector.ingest.reader import head_lines
from tests.golden import parse_lines

BOM = "\ufeff"
EVE = ('{"timestamp":"2025-11-18T09:00:01.102345+0100","event_type":"tls","src_ip":"10.20.1.15","src_port":50000,'
       '"dest_ip":"104.18.32.47","dest_port":443,"proto":"TCP","tls":{"sni":"chatgpt.com"}}')


def test_first_line_after_a_byte_order_mark_is_recognised_and_read(tmp_path: Path) -> None:
    path = tmp_path / "eve.json"
    events, rejects, report = parse_lines(path, "suricata_eve", [BOM + EVE, EVE.replace("chatgpt.com", "claude.ai")])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert rejects.num_rows == 0 and report.parsed == 2
    assert [e["host"] for e in sorted(events.to_pylist(), key=lambda e: e["line_no"])] == ["chatgpt.com", "claude.ai"]
    assert head_lines(path.read_bytes())[0] == EVE
    assert sniff(head_lines(path.read_bytes())).name == "suricata_eve"


def test_a_file_with_a_byte_order_mark_is_ingested_once(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "eve.json"
    path.write_bytes(b"\xef\xbb\xbf" + (EVE + "\n").encode())
    runs = [CliRunner().invoke(cli, ["--home", str(home), "ingest", "--json", str(path)]) for _ in range(2)]
    assert all(run.exit_code == 0 for run in runs), runs[0].output
    first, again = (json.loads(run.output.splitlines()[0]) for run in runs)
    assert (first["format"], first["parsed"], first["rejected"]) == ("suricata_eve", 1, 0)
    assert (again["skipped"], again["parsed"]) == (True, 0)
