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


def test_utf16_output_of_a_redirect_is_read_as_utf8(tmp_path: Path) -> None:
    # Windows PowerShell 5.1's `> file` and Out-File write UTF-16 LE with a byte order mark
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "shadow-ai.toml").write_text('[ingest]\ntimezone = "UTC"\n', encoding="utf-8")
    text = ('"TimeCreated","ClientIP","QueryName","QueryType"\r\n"1-12-2026 08:00:01","10.20.1.15","chatgpt.com","A"\r\n'
            '"1-12-2026 08:00:02","10.20.1.16","café-ai.example","A"\r\n')
    assert ingested(tmp_path, "dns.csv", text.encode("utf-16")) == [
        (2, "2026-12-01 08:00:01", "chatgpt.com", "dns_query"),
        (3, "2026-12-01 08:00:02", "café-ai.example", "dns_query")]


def test_utf16_big_endian_json_document_compressed(tmp_path: Path) -> None:
    import gzip
    import json

    records = [{"timestamp": "2026-12-01T08:00:01Z", "client_ip": "10.20.1.15", "url": "https://claude.ai/new"}]
    data = gzip.compress(b"\xfe\xff" + json.dumps(records, indent=4).encode("utf-16-be"))
    assert ingested(tmp_path, "export.json.gz", data) == [(1, "2026-12-01 08:00:01", "claude.ai", "url")]


def test_as_utf8_passes_other_streams_and_reads_again_from_the_start() -> None:
    import io

    from detector.ingest.utf16 import as_utf8

    plain = io.BytesIO(b"\xff\xfeX")  # not UTF-16 text after all: decoded with replacement, never a crash
    assert as_utf8(io.BytesIO(b"abc\n")).read() == b"abc\n"
    assert as_utf8(plain).read() == "\ufffd".encode()
    stream = as_utf8(io.BytesIO("\ufeffzeer één\n".encode("utf-16-le")))
    assert stream.read() == "zeer één\n".encode()
    stream.seek(0)
    assert stream.read(4) == b"zeer"
