"""CEF/LEEF: what a key is, and LEEF delimiters, read from the lines' bytes."""

from __future__ import annotations

from pathlib import Path

from tests.golden import parse_lines

HEADER = "<134>1 2024-03-11T08:02:14+01:00 swg01 webgateway - - - "
CEF = "CEF:0|Gemeente Voorbeeld|Secure Web Gateway|2.4|100|Web request|1|"


def parse(tmp_path: Path, key: str, *lines: str) -> list[dict]:
    events, rejects, _ = parse_lines(tmp_path / "gateway-20240311.log", key, lines)
    assert not rejects.num_rows
    return events.to_pylist()


def test_a_trailing_word_without_equals_sign_is_no_key(tmp_path: Path) -> None:
    """`request` at the end of a message is a word of its value, not a request key hiding `url`."""
    line = HEADER + CEF + "rt=1710140533000 src=10.20.1.15 url=https://chatgpt.com/c msg=see the request"
    assert parse(tmp_path, "cef", line)[0]["host"] == "chatgpt.com"


def test_leef_delimiters_per_line_and_of_several_characters(tmp_path: Path) -> None:
    lines = [
        "LEEF:2.0|Z|NSS|4.1|Allowed|^|devTime=1710140533000^src=10.20.1.15^url=chatgpt.com/a^usrName=a",
        "LEEF:1.0|Z|NSS|4.1|Allowed|devTime=1710140533000\tsrc=10.20.1.16\turl=claude.ai/b\tusrName=b",
        "LEEF:2.0|Z|NSS|4.1|Allowed|x7C|devTime=1710140533000|src=10.20.1.17|url=deepl.com/c|usrName=c",
    ]
    events = parse(tmp_path, "leef", *lines)
    assert [(e["src_ip"], e["host"], e["url_path"], e["user_name"]) for e in events] == [
        ("10.20.1.15", "chatgpt.com", "/a", "a"), ("10.20.1.16", "claude.ai", "/b", "b"),
        ("10.20.1.17", "deepl.com", "/c", "c")]
    several = "LEEF:2.0|Z|NSS|4.1|Allowed|;;|devTime=1710140533000;;src=10.20.1.18;;url=x.ai/d;;usrName=d"
    assert [(e["src_ip"], e["host"]) for e in parse(tmp_path, "leef", several)] == [("10.20.1.18", "x.ai")]
