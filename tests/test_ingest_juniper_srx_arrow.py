"""Juniper SRX: header times and user names read in Arrow give what the SQL macros give."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from detector.ingest.arrow_ops import per_distinct
from detector.ingest.base import open_parse_connection
from detector.ingest.juniper_srx import _header_times, _Queries, _user_names
from detector.ingest.key_values import HIDDEN_QUOTE
from detector.ingest.syslog import define_macros

ARGUMENTS = "'Europe/Amsterdam', '2025-11-18 00:00:00'::timestamp"


def test_header_times_equal_syslog_time_for_any_text() -> None:
    connection = open_parse_connection()
    define_macros(connection)
    every = [
        "2025-11-18T09:00:00.120+01:00", "2025-11-18T09:00:00Z", "2025-11-18T09:00:00.123456-05:30",
        "2025-11-18T09:00:00.1234567+01:00", "2025-11-18T09:00:00", "2025-11-18 09:00:00+01:00",
        "2025-11-18T09:00:00+0100", "Nov 18 09:00:00", "", "not a time",
    ]
    refused = ["2025-02-30T09:00:00Z", "2025-11-18T24:00:00Z", "2025-11-18T09:00:00+24:00", "0000-01-01T00:00:00Z"]
    for times in (every[:3], every, every + refused, refused[:1]):
        text = pa.array(times * 2)
        where = pa.array([n % 3 != 0 for n in range(len(text))])
        expected = per_distinct(connection, text, _Queries(ARGUMENTS).time, where=where)["ts"]
        assert _header_times(connection, _Queries(ARGUMENTS), text, where).equals(expected)


def test_user_names_as_the_query_read_them() -> None:
    users = pa.array(["GEMEENTE\\\\jan", "N/A", "", None, f"a{HIDDEN_QUOTE}b", "plain", "x\\y", "GEMEENTE\\\\jan"])
    assert _user_names(users).to_pylist() == ["GEMEENTE\\jan", None, None, None, 'a"b', "plain", "x\\y", "GEMEENTE\\jan"]
    assert pa.types.is_dictionary(_user_names(users).type)


WEB_LINE = ('<14>1 2025-11-18T09:10:00.250+01:00 srx RT_UTM - {event} [junos@2636.1.1.1.2.129 source-zone="trust" '
            'destination-zone="untrust" source-address="10.20.3.14" source-port="52100" destination-address='
            '"104.18.33.45" destination-port="443" category="{category}" reason="BY_PRE_DEFINED" profile="wf" '
            'url="{url}" obj="{obj}" username="{user}" roles="N/A"]')


def test_web_filtering_lines_read_in_arrow_as_the_query_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from detector.ingest import juniper_srx, key_values_scan

    lines = [WEB_LINE.format(event=event, category=category, url=url, obj=obj, user=user)
             for event in ("WEBFILTER_URL_PERMITTED", "WEBFILTER_URL_BLOCKED_LS")
             for category in ("Enhanced_Search_Engines", "N/A", "")
             for url, obj in (("Gemini.Google.com", "/app?hl=nl"), ("chatgpt.com", ""), ("", "/x"), ("a.b", "?q"))
             for user in ("GEMEENTE\\\\jan", "N/A")]
    lines.append(WEB_LINE.replace('source-address="10.20.3.14" ', "").format(
        event="WEBFILTER_URL_BLOCKED", category="c", url="x.example", obj="/", user="u"))  # a reject
    table = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})
    connection = open_parse_connection()
    define_macros(connection)
    params = {"tz": "Europe/Amsterdam", "ref": datetime(2025, 11, 18)}
    keys = key_values_scan.WantedKeys(juniper_srx._WANTED)
    query = juniper_srx.QUERY
    monkeypatch.setattr(juniper_srx, "QUERY", "select error('a usual line was left to QUERY') where $tz <> '' or $ref is null")
    found = juniper_srx._outcomes(connection, _Queries(ARGUMENTS), params, lambda line: key_values_scan.QuotedValues(
        line, keys, " ", key_values_scan.LastWordLines.PAIRED, typographic=True, head_spaces=2), table)
    connection.register("lines", table)
    expected = connection.sql(query, params=params).to_arrow_table()
    assert expected.column("host").to_pylist()[:8:2] == ["gemini.google.com", "chatgpt.com", None, "a.b"]
    events = [n for n, (reason, ignored) in enumerate(zip(expected.column("reject_reason").to_pylist(),
                                                          expected.column("is_ignored").to_pylist(), strict=True))
              if reason is None and not ignored]
    assert len(events) == len(lines) - 1
    for name in expected.column_names:  # (the other columns of rejected and ignored lines are never read)
        rows = range(len(lines)) if name in ("line_no", "reject_reason", "is_ignored") else events
        values, wanted = found.column(name).to_pylist(), expected.column(name).to_pylist()
        assert [values[n] for n in rows] == [wanted[n] for n in rows], name
