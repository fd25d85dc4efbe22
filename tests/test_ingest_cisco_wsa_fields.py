"""Cisco WSA fields cut on the lines' bytes read as the split reads them (at ' <', single spaces, commas)."""

from __future__ import annotations

import re

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.cisco_wsa_fields import wsa_fields

ACCESS_LINE = ('1773389702.120 812 10.0.0.5 TCP_MISS/200 5120 GET https://chatgpt.com/ "DOM\\jan" DIRECT/chatgpt.com '
               'text/html DEFAULT_CASE_12-P-NONE <"IW_aiml",5.4,1,"-",-,-,-,-,"-",-,-,-,"-",-,-,"-","-",-,-,"IW_aiml",-,'
               '"-","-","ChatGPT","Unknown","-","-",50.01,0,-,"-"> "Mozilla/5.0 (X11)" -')
EPOCH = re.compile(r"[0-9]{9,10}\.[0-9]")
EPOCH_AFTER_SPACE = re.compile(r" [0-9]{9,10}\.[0-9]")
PIECES = st.sampled_from([" ", "  ", "<", " <", ">", "> ", ",", '"', "/", "-", "a", "7", "é", "Info: ", "x,y", "1.5", " 177338970"])


def split_reading(line: str) -> tuple[bool, list[str | None], list[str | None], str | None]:
    """The meaning of each result, in plain Python: the split the bytes' reading replaces."""
    body = line
    if not EPOCH.match(line):  # pushed over syslog: after 'Info: ', else from the first epoch time after a space
        at = line.find("Info: ")
        later = EPOCH_AFTER_SPACE.search(line)
        body = line[at + len("Info: "):] if at >= 0 else line[later.start() + 1:] if later else line
    has_verdicts = " <" in body
    head, verdict_text = body.split(" <", 1) if has_verdicts else (body, None)
    tokens = head.split(" ")
    fields = [tokens[i] if i < len(tokens) else None for i in range(11)]
    shaped = (len(tokens) == 11 or (not has_verdicts and len(tokens) >= 11)) and "/" in (fields[3] or "") \
        and "/" in (fields[8] or "")
    if verdict_text is None:
        return shaped, fields, [None, None], None
    items = verdict_text.split(",", 29)
    # the unquoted bandwidth after the 27th comma (AsyncOS 7.5-9), or after the 28th with a quoted 23rd (later)
    documented = len(items) >= 28 and not items[27].startswith('"')
    later = not documented and len(items) >= 29 and not items[28].startswith('"') and items[22].startswith('"')
    close = body.find("> ")
    after = (body[close + 2:] if close >= 0 else body[1:]).strip(" ")
    agent = after.split('"', 2)[1] if after.startswith('"') else after.split(" ", 1)[0]
    return shaped, fields, [items[0], items[23] if documented else items[24] if later else None], agent


def bytes_reading(text: pa.Array) -> list[tuple[bool, list[str | None], list[str | None], str | None]]:
    shaped, fields, verdicts, agent = wsa_fields(text)
    columns = [field.to_pylist() for field in fields]
    categories, applications = (verdict.to_pylist() for verdict in verdicts)
    return [(shaped[row].as_py(), [column[row] for column in columns], [categories[row], applications[row]],
             agent[row].as_py()) for row in range(len(text))]


@settings(max_examples=300, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 3), PIECES), max_size=4),
       prefix=st.sampled_from(["", "<134>Mar 13 09:42:00 wsa01 accesslogs: Info: ", "Info: ", "x ", "é",
                               "<13>Mar 13 09:42:00 wsa01 ", "2026-03-13T09:42:00+01:00 wsa01 accesslogs: "]))
def test_fields_of_edited_access_lines_are_the_split_reading(edits: list[tuple[int, int, str]], prefix: str) -> None:
    """An access line with pieces inserted or cut out, with or without a syslog prefix."""
    line = ACCESS_LINE
    for at, cut, piece in edits:
        at = min(at, len(line))
        line = line[:at] + piece + line[at + cut:]
    lines = [prefix + line, ACCESS_LINE, ""]
    assert bytes_reading(pa.array(lines)) == [split_reading(text) for text in lines]


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.lists(PIECES, max_size=30).map("".join), min_size=1, max_size=6), skip=st.integers(0, 2))
def test_fields_of_any_pieces_are_the_split_reading(lines: list[str], skip: int) -> None:
    """Short lines of separators and text, also as a slice of a larger array (its buffer holds text before it)."""
    expected = [split_reading(text) for text in lines]
    assert bytes_reading(pa.array(lines)) == expected
    skip = min(skip, len(lines))
    assert bytes_reading(pa.array(lines).slice(skip)) == expected[skip:]
