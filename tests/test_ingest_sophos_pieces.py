"""Sophos Firewall lines read at their quote marks give what the regular expression (PAIRS_QUERY) gives."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from detector.ingest import sophos
from detector.ingest.base import ParseContext, open_parse_connection

ZONE = "Europe/Amsterdam"
WEB = 'log_id=050901616001 log_type="Content Filtering" log_component="HTTP" log_subtype="Allowed"'
TIME = 'timestamp="2024-03-11T08:02:13+0100"'

TRICKY = [
    # unquoted values, one with '=' in it; the first of repeated keys wins, across pieces and within one
    f'<30>device="SFW" {WEB} {TIME} dst_port=443 url=https://a.example/x?q=1 domain="b.example" domain=c.example',
    f'{WEB} {TIME} bytes_sent=1 bytes_sent=2 user_name="u" src_port=1 dst_port=80 dst_port="81" src_ip=10.0.0.1',
    # keys glued to other text, or starting with a digit: the regular expression's leftmost key
    f'{WEB} {TIME} x.url="https://d.example/" 3domain=e.example <30>user_name="v" =a=b 1=2',
    # a quoted value holding pairs, quotes, spaces and '='
    f'{WEB} {TIME} http_user_agent="Mozilla/5.0 domain=fake url=x" url="http://f.example/p?a=b c"',
    # empty values: null
    f'{WEB} {TIME} user_name="" domain= url="" src_ip=',
    # stray and unmatched quotes, a quote right after an unquoted value: the regular expression's reading
    f'{WEB} {TIME} url="https://g.example/" msg=say"hi" domain="h.example"',
    f'{WEB} {TIME} url="https://i.example/ domain="j.example"',
    f'{WEB} {TIME} domain="k.example""x" src_ip="10.0.0.2"',
    f'{WEB} {TIME} a=b="c d" domain="l.example"',
    # whitespace as RE2 sees it: tab and form feed separate, vertical tab does not
    f'{WEB}\t{TIME}\tdomain=m.example\fsrc_ip=10.0.0.3',
    f'{WEB} {TIME} domain=n.example\x0bsrc_ip=10.0.0.4',
    # old field names and local time; a value ending a line; a line ending in a quote
    '<30>device="SFW" date=2024-03-11 time=08:02:13 timezone="GMT" log_id=050901616001 '
    'log_type="Content Filtering" log_component="HTTP" log_subtype="Denied" url="o.example/x" sent_bytes=5',
    f'{WEB} {TIME} domainname="p.example" recv_bytes=7',
    f'{WEB} {TIME} src_ip=10.0.0.5 domain=q.example',
    # not web, no log type, no time, a bad time
    'Mar 11 08:02:13 fw01 log_type="Firewall" log_component="Firewall Rule" domain="r.example"',
    'Mar 11 08:32:00 fw01 kernel: [12345.678] eth0: link up',
    f'{WEB} domain="s.example"',
    f'{WEB} timestamp="yesterday" domain="t.example"',
    f'{WEB} date=2024-03-11 domain="u.example"',
    '',
]


def parse_both(lines: list[str]) -> tuple[tuple, tuple]:
    """The parser's outcomes and PAIRS_QUERY's on the same batch, comparable."""
    batch = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})
    connection = open_parse_connection()
    parsed = sophos.XG.new_parser(ParseContext("sophos.log", ZONE, connection))(batch)
    expected = sophos.pairs_query_outcomes(connection, batch, ZONE)

    def outcomes(result):
        return (sorted(result.events.to_pylist(), key=lambda e: e["line_no"]),
                sorted(result.rejects.to_pylist(), key=lambda r: r["line_no"]), result.ignored)

    return outcomes(parsed), outcomes(expected)


def test_tricky_lines_read_as_the_regular_expression_reads_them() -> None:
    parsed, expected = parse_both(TRICKY)
    assert parsed == expected
    events = {event["line_no"]: event for event in parsed[0]}
    assert (events[1]["dst_port"], events[1]["host"], events[1]["url_path"]) == (443, "a.example", "/x")
    assert (events[2]["bytes_out"], events[2]["dst_port"]) == (1, 80)
    assert events[4]["user_agent"] == "Mozilla/5.0 domain=fake url=x"
    assert events[5]["user_name"] is None and events[5]["host"] is None


def test_lines_read_at_quote_marks_are_most_lines() -> None:
    """Only the lines with stray quotes go to the regular expression."""
    _, irregular = sophos._read_pairs(pa.array(TRICKY), np.ones(len(TRICKY), bool))
    assert sorted(i + 1 for i in range(len(TRICKY)) if irregular[i]) == [6, 7, 8, 9]


@pytest.mark.parametrize("seed", range(3))
def test_random_pairs_read_as_the_regular_expression_reads_them(seed: int) -> None:
    generator = random.Random(seed)
    keys = ["log_type", "log_component", "log_subtype", "url", "timestamp", "date", "time", "timezone", "domain",
            "domainname", "bytes_sent", "sent_bytes", "user_name", "src_ip", "dst_port", "http_status",
            "http_category", "category", "app_name", "content_type", "3domain", "x", "<30>device", "a.url"]
    values = ["Content Filtering", "Anti-Virus", "HTTP", "Web", "Allowed", "Denied", "https://a.b/c?d=e f",
              "a.b:8080/x", "2024-03-11T08:02:13+0100", "2024-03-11", "08:02:13", "GMT", "CET", "", "12", "0",
              "a=b", "x y", "chatgpt.com", "[::1]:80", "é ü", 'say "hi"', "a\\", "\\"]

    def line() -> str:
        parts = [generator.choice(["Mar 11 08:02:13 fw01", "<30>", ""])]
        if generator.random() < 0.8:
            parts.append(f'log_type="{generator.choice(["Content Filtering", "Anti-Virus", "Firewall"])}"')
            parts.append(f'log_component="{generator.choice(["HTTP", "Web", "SMTP"])}"')
            parts.append(TIME if generator.random() < 0.6 else "date=2024-03-11 time=08:02:13")
        for _ in range(generator.randint(0, 12)):
            key, value = generator.choice(keys), generator.choice(values)
            shape = generator.random()
            if shape < 0.6:
                parts.append(f'{key}="{value}"')
            elif shape < 0.9:
                parts.append(f"{key}={value.replace(' ', '')}")
            else:
                parts.append(f'{key}="{value}')
        return generator.choice([" ", " ", " ", "\t", "  "]).join(parts)

    parsed, expected = parse_both([line() for _ in range(1500)])
    assert parsed == expected
