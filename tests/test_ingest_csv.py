"""Generic CSV/TSV: delimiters, quoting, recognised names and --map, times, missing columns, sniffing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.cli import cli
from detector.errors import FormatError
from detector.ingest import FORMATS, sniff_scores
from detector.ingest.csv_generic import MAX_SNIFF_SCORE, sniff
from detector.ingest.pipeline import FileReport, parse_file
from detector.ingest.reader import head_lines, read_head
from tests.golden import golden_settings


def parse(tmp_path: Path, *lines: str, column_map: Mapping[str, str] | None = None
          ) -> tuple[list[dict[str, object]], list[dict[str, object]], FileReport]:
    path = tmp_path / "export.csv"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["csv"], golden_settings(), column_map)
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_each_delimiter_is_detected_from_the_header(tmp_path: Path, delimiter: str) -> None:
    header = delimiter.join(["timestamp", "client_ip", "user", "domain", "bytes_sent"])
    row = delimiter.join(["2026-03-13T08:00:00Z", "10.0.0.1", "jan", "chatgpt.com", "5120"])
    events, rejects, report = parse(tmp_path, header, row)
    assert not rejects and report.ignored == 1
    assert (events[0]["host"], events[0]["user_name"], events[0]["bytes_out"]) == ("chatgpt.com", "jan", 5120)


def test_quoted_fields_keep_delimiters_and_doubled_quotes(tmp_path: Path) -> None:
    events, rejects, _ = parse(
        tmp_path, "time,url,user_agent,status",
        '2026-03-13T08:00:00Z,"https://api.openai.com/v1/chat/completions?a=1,2","Agent ""X"", 1.0",200',
        '2026-03-13T08:00:01Z,https://claude.ai/,"",',
    )
    assert not rejects
    first, second = events
    assert (first["host"], first["url_path"], first["network_protocol"]) == ("api.openai.com", "/v1/chat/completions",
                                                                             "https")
    assert first["user_agent"] == 'Agent "X", 1.0'
    assert (second["user_agent"], second["http_status"]) == (None, None)


def test_unbalanced_quotes_and_wrong_column_counts_are_rejected(tmp_path: Path) -> None:
    _, rejects, _ = parse(tmp_path, "time,host,user", '2026-03-13T08:00:00Z,"chatgpt.com,jan',
                          "2026-03-13T08:00:00Z,chatgpt.com")
    assert [r["reason"] for r in rejects] == ["unbalanced quotes", "expected 3 columns as in the header, found 2"]


def test_map_names_columns_the_recognised_names_miss(tmp_path: Path) -> None:
    lines = ("Wanneer,Wie,Waarheen", "13-03-2026 09:00:00,jan,https://www.deepl.com/translator")
    events, rejects, _ = parse(tmp_path, *lines, column_map={"wanneer": "ts", "Waarheen": "host", "Wie": "user_name"})
    assert not rejects
    assert (events[0]["host"], events[0]["user_name"]) == ("www.deepl.com", "jan")
    assert events[0]["ts"].isoformat() == "2026-03-13T08:00:00+00:00"


def test_gateway_application_category_and_department_columns(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, "Timestamp,Host,Application,URL Category,Afdeling,Groep",
                         "2026-03-13T08:00:00Z,chatgpt.com,ChatGPT,Generative AI,Burgerzaken,x",
                         "2026-03-13T08:00:01Z,www.nu.nl,-,News,,x")
    assert [(e["vendor_app"], e["vendor_category"], e["vendor_department"]) for e in events] == [
        ("ChatGPT", "Generative AI", "Burgerzaken"), (None, "News", None)]
    mapped, _, _ = parse(tmp_path, "Timestamp,Host,Groep", "2026-03-13T08:00:00Z,chatgpt.com,ICT",
                         column_map={"Groep": "vendor_department"})
    assert mapped[0]["vendor_department"] == "ICT"


def test_map_overrides_a_recognised_name(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, "time,host,upstream", "2026-03-13T08:00:00Z,proxy.local,chatgpt.com",
                         column_map={"upstream": "host"})
    assert events[0]["host"] == "chatgpt.com"


@pytest.mark.parametrize(("column_map", "message"), [
    ({"nope": "host"}, "no column 'nope' in the header"),
    ({"time": "line_no"}, "a CSV column cannot fill line_no"),
])
def test_map_mistakes_are_clear_errors(tmp_path: Path, column_map: dict[str, str], message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse(tmp_path, "time,host", "2026-03-13T08:00:00Z,chatgpt.com", column_map=column_map)


def test_missing_time_and_destination_columns_reject_every_line_naming_map(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, "who,what", "jan,upload", "piet,download")
    assert not events and len(rejects) == 2
    reason = rejects[0]["reason"]
    assert "header (who, what)" in reason and "--map COLUMN=ts" in reason and "--map COLUMN=host" in reason


@pytest.mark.parametrize(("written", "utc"), [
    ("1773389702", "2026-03-13T08:15:02+00:00"),
    ("1773389702120", "2026-03-13T08:15:02.120000+00:00"),
    ("2026-03-13T09:15:02+01:00", "2026-03-13T08:15:02+00:00"),
    ("2026-03-13 09:15:02", "2026-03-13T08:15:02+00:00"),
    ("13-03-2026 09:15:02", "2026-03-13T08:15:02+00:00"),
    ("13/03/2026 09:15", "2026-03-13T08:15:00+00:00"),
    ("03/13/2026 09:15:02 AM", "2026-03-13T08:15:02+00:00"),
    ("13.03.2026 09:15:02", "2026-03-13T08:15:02+00:00"),
])
def test_time_forms(tmp_path: Path, written: str, utc: str) -> None:
    events, rejects, _ = parse(tmp_path, "time\thost", f"{written}\tchatgpt.com")
    assert not rejects
    assert events[0]["ts"].isoformat() == utc


def test_separate_date_and_time_columns_combine(tmp_path: Path) -> None:
    events, _, _ = parse(tmp_path, "Datum;Tijd;Domein;Actie", "30-03-2026;10:02:00;claude.ai;Geblokkeerd")
    assert events[0]["ts"].isoformat() == "2026-03-30T08:02:00+00:00"
    assert events[0]["action"] == "blocked"


def test_comments_before_the_header_and_repeated_headers_are_ignored(tmp_path: Path) -> None:
    events, rejects, report = parse(tmp_path, "# exported 2026-03-13", "time,host", "2026-03-13T08:00:00Z,a.example",
                                    "time,host", "2026-03-13T08:00:01Z,b.example")
    assert not rejects and report.ignored == 3
    assert [e["host"] for e in events] == ["a.example", "b.example"]


def test_excel_byte_order_mark_before_the_header_is_not_part_of_a_name(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, "\ufeffTijdstip;Domein", "13-03-2026 09:00:00;chatgpt.com")
    assert not rejects and events[0]["host"] == "chatgpt.com"


def test_sniff_stays_below_vendor_formats(vendor_samples: Path, tmp_path: Path) -> None:
    assert sniff(["timestamp,host,user", "2026-03-13T08:00:00Z,chatgpt.com,jan"]) == MAX_SNIFF_SCORE < 1
    for vendor_file, own in [("squid/access1.excerpt-lines-1-30.log", "squid"), ("w3c-iis/logfile_w3c.4", "w3c")]:
        scores = dict(sniff_scores(head_lines(read_head(vendor_samples / vendor_file))))
        assert scores["csv"] < scores[own]


def test_cli_map_option_reaches_the_parser(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "webfilter.csv"
    path.write_text("Wanneer,Waarheen\n2026-03-13T08:00:00Z,chatgpt.com\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(home), "ingest", "--dry-run", "--json", "--format", "csv",
                                      "--map", "Wanneer=ts", "--map", "Waarheen=host", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[0])["parsed"] == 1


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                              max_size=80), min_size=1, max_size=15))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    _, _, report = parse(tmp_path, "time,host,user,bytes_in", *lines)
    assert report.lines == len(lines) + 1
