"""Zeek JSON lines read by the compiled walk (zeek_json) give what DuckDB's query of the same lines gives, and the lines
the walk cannot vouch for are read by that query.

Lines written from Zeek's JSON writer as its docs describe it (https://docs.zeek.org/en/master/log-formats.html#json:
one object per line, the log's field names as keys, `time` fields as epoch seconds with decimals, unset fields left
out, sets and vectors as arrays) with http.log's and conn.log's fields (https://docs.zeek.org/en/master/scripts/base/
protocols/http/main.zeek.html, .../base/protocols/conn/main.zeek.html), and JSON's grammar (RFC 8259: numbers with
fraction and exponent, escapes, whitespace between tokens).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from detector.ingest import zeek_json
from tests.test_ingest_zeek import parse


def _http(**fields: object) -> dict[str, object]:
    line: dict[str, object] = {"ts": 1763452840.123456, "uid": "CHhAvVGS1DHFjwGM9", "id.orig_h": "10.0.0.1",
                               "id.orig_p": 49152, "id.resp_h": "104.18.33.45", "id.resp_p": 443, "trans_depth": 1,
                               "method": "GET", "host": "chat.openai.com", "uri": "/backend-api/conversation",
                               "user_agent": "Mozilla/5.0", "request_body_len": 120, "response_body_len": 3400,
                               "status_code": 200, "resp_mime_types": ["application/json"]}
    line.update(fields)
    return {key: value for key, value in line.items() if value is not None}


def _compact(fields: dict[str, object]) -> str:
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


# The numbers Zeek's `ts` may carry, as written (JSON text), and text around them
TIMES = ["1763452840.123456", "1763452840.1", "1763452840.100000", "1763452840.0", "1763452840", "1763452840123",
         "8589934591.999999", "8589934592.5", "1763452840.1234567", "1.7634528401e9", "17634528.40", "-1.5", "0.000001"]


def _lines() -> list[str]:
    lines = [_compact(_http())]
    lines += [_compact(_http()).replace('"ts":1763452840.123456', f'"ts":{ts}') for ts in TIMES]
    lines += [
        _compact(_http(uri="/a\\b", user_agent='say "hi"', host="Chat.OpenAI.com:443")),  # escapes read
        _compact(_http(uri="/caf\u00e9")),
        _compact(_http(resp_mime_types=[])), _compact(_http(resp_mime_types=None)),
        _compact(_http(resp_mime_types=["text/html", "image/png"])),
        _compact(_http(resp_mime_types="text/html")),  # a string where a vector was: its [0] is null
        json.dumps(_http()),  # spaced between tokens
        _compact(_http()).replace('["application/json"]', '[ "application/json" ]'),  # a spaced vector
        _compact(_http()).replace('"host"', '"ho\\u0073t"'),  # an escaped key
        _compact(_http()) + '{"host":"x"}',  # text after the object
        _compact(_http())[:-40],  # cut
        _compact(_http(status_code=200.5, request_body_len=-0)),
        _compact(_http()).replace("{", '{"host":"first.example",', 1),  # a repeated key
        _compact({k: v for k, v in _http().items() if k != "trans_depth"}),  # no marker
        _compact(_http(method="CONNECT", uri="chatgpt.com:443", host=None)),
        "{}", "[1,2]", "not json",
    ]
    return lines


@pytest.mark.parametrize("batch_lines", [7, 1000])
def test_walked_lines_give_what_the_query_gives(tmp_path: Path, batch_lines: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _lines()
    walked = parse(tmp_path, "zeek_http", lines, batch_lines=batch_lines)
    monkeypatch.setattr(zeek_json.LazyWalk, "tried", property(lambda self: False))
    queried = parse(tmp_path, "zeek_http", lines, batch_lines=batch_lines)
    assert walked[0] == queried[0]
    assert walked[1] == queried[1]
    report = walked[2]
    assert (report.parsed, report.rejected, report.ignored) == (queried[2].parsed, queried[2].rejected,
                                                                queried[2].ignored)
    assert report.rejected >= 4  # the cut line, text after the object, no marker, `{}`/`[1,2]`/`not json` ...


def test_conn_durations_read_as_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"ts": 1763452840.5, "uid": "C1", "id.orig_h": "10.0.0.1", "id.orig_p": 49152, "id.resp_h": "1.2.3.4",
            "id.resp_p": 443, "proto": "tcp", "service": "ssl", "orig_bytes": 10, "resp_bytes": 20, "conn_state": "SF"}
    durations = ["0.5", "1.0005", "0.0004", "2.", "1e-3", "123.4567891", "0.10", "8589934592.0"]
    lines = [_compact(conn)[:-1] + f',"duration":{duration}}}' for duration in durations]
    walked = parse(tmp_path, "zeek_conn", lines, batch_lines=100)
    monkeypatch.setattr(zeek_json.LazyWalk, "tried", property(lambda self: False))
    queried = parse(tmp_path, "zeek_conn", lines, batch_lines=100)
    assert walked[0] == queried[0] and walked[1] == queried[1]
    assert walked[0][0]["duration_ms"] == 500 and walked[0][2]["duration_ms"] == 0


def test_walk_reads_plain_lines_and_leaves_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doubted: list[int] = []
    values = zeek_json.Walk.values

    def counted(self, *args):  # type: ignore[no-untyped-def]
        found = values(self, *args)
        doubted.extend(found[1].tolist())
        return found

    monkeypatch.setattr(zeek_json.Walk, "values", counted)
    lines = _lines()
    parse(tmp_path, "zeek_http", lines, batch_lines=1000)
    # read by the walk: the plain line, times with at most six decimals below 2 ** 33 (and integers), escapes in
    # values, vectors, spaced tokens; left to DuckDB: the others
    doubtful_times = {"8589934592.5", "1763452840.1234567", "1.7634528401e9"}
    expected = {1 + at for at, ts in enumerate(TIMES) if ts in doubtful_times}
    rest = 1 + len(TIMES)  # (the string vector, the spaced one, the escaped key, text after, cut, a fraction in
    expected |= {rest + 5, rest + 7, rest + 8, rest + 9, rest + 10, rest + 11, rest + 12}  # status_code, repeated)
    assert set(doubted) == expected


def test_walk_left_for_the_file_after_a_batch_of_mostly_doubtful_lines(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    values = zeek_json.Walk.values

    def counted(self, *args):  # type: ignore[no-untyped-def]
        calls.append(len(args[1]))
        return values(self, *args)

    monkeypatch.setattr(zeek_json.Walk, "values", counted)
    spaced = json.dumps(_http(resp_mime_types=["a", "b"]), indent=None).replace('["a", "b"]', '[ "a" , "b" ]')
    events, _, report = parse(tmp_path, "zeek_http", [spaced] * 40, batch_lines=10)
    assert report.parsed == 40 and events[0]["content_type"] == "a"
    assert len(calls) < 4  # (two parse threads may each have walked a batch before the first one turned it off)
