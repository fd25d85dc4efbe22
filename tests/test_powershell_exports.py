"""What PowerShell writes when an administrator exports logs: Export-Csv's `#TYPE` line and culture's dates, and
Windows PowerShell 5.1's ConvertTo-Json (a pretty-printed array, CRLF, `\\/Date(ms)\\/` times). Recognised without
--format and read by the generic csv and json formats."""

from __future__ import annotations

from pathlib import Path

import duckdb

from detector.config import load_settings
from detector.ingest.pipeline import ingest_paths


def ingested(tmp_path: Path, name: str, data: bytes) -> list[tuple[object, ...]]:
    path = tmp_path / name
    path.write_bytes(data)
    home = tmp_path / "home"
    settings = load_settings(home)
    [report] = list(ingest_paths(settings, [str(path)]))
    assert report.error is None and report.lines == report.parsed + report.rejected + report.ignored
    assert report.rejected == 0
    with duckdb.connect() as connection:
        return connection.sql(
            f"select line_no, strftime(ts at time zone 'UTC', '%Y-%m-%d %H:%M:%S'), host, host_source "
            f"from read_parquet('{settings.lake}/events/**/*.parquet') order by line_no").fetchall()


def test_export_csv_with_its_type_line_and_a_dutch_culture_date(tmp_path: Path) -> None:
    # Windows PowerShell's Export-Csv writes `#TYPE ...` first (without -NoTypeInformation); nl-NL dates are d-M-yyyy
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "shadow-ai.toml").write_text('[ingest]\ntimezone = "UTC"\n', encoding="utf-8")
    data = ('#TYPE System.Management.Automation.PSCustomObject\r\n"TimeCreated","ClientIP","QueryName","QueryType"\r\n'
            '"1-12-2026 08:00:01","10.20.1.15","chatgpt.com","A"\r\n'
            '"12/1/2026 8:00:02 AM","10.20.1.15","claude.ai","AAAA"\r\n').encode("utf-8-sig")
    assert ingested(tmp_path, "dns.csv", data) == [
        (3, "2026-12-01 08:00:01", "chatgpt.com", "dns_query"), (4, "2026-12-01 08:00:02", "claude.ai", "dns_query")]


def test_windows_powershell_convertto_json_array_with_its_date_times(tmp_path: Path) -> None:
    # `\/Date(ms)\/` is milliseconds since 1970 UTC; an offset after it only names the writer's zone
    data = ('[\r\n    {\r\n        "TimeCreated":  "\\/Date(1764576001000)\\/",\r\n        "ClientIP":  "10.20.1.15",'
            '\r\n        "Host":  "chatgpt.com"\r\n    },\r\n    {\r\n        "TimeCreated":  '
            '"\\/Date(1764576002500+0100)\\/",\r\n        "ClientIP":  "10.20.1.16",\r\n        "Host":  "claude.ai"'
            '\r\n    }\r\n]\r\n').encode("utf-8-sig")
    assert ingested(tmp_path, "export.json", data) == [
        (1, "2025-12-01 08:00:01", "chatgpt.com", "url"), (2, "2025-12-01 08:00:02", "claude.ai", "url")]
