"""Where a Cisco WSA access line's fields are: one compiled pass over the line's bytes (Numba).

    time.ms elapsed client code/status size method URL user hierarchy/server type ACL-tag <verdicts> agent ...

The rules (the reading of cisco_wsa_fields, which describes it):
- The body starts at the line's start when an epoch time (9 or 10 digits, a '.', a digit) begins the line; else
  (pushed over syslog) after the line's first `Info: `, or, without one (a syslog header and tag only, as
  Splunk Connect for Syslog's WSA tests send them), at the first epoch time that follows a space; else at the
  line's start.
- The head is the body up to its first ` <` (then the line has verdicts); its fields are separated by single
  spaces (two spaces make an empty field), the 11th ending at the 11th space in a longer head.
- The verdicts follow the ` <`, separated by commas: the 1st (URL category) up to the 1st comma; the AVC
  application, where the unquoted average bandwidth follows the 27th or the 28th comma (the verdicts then line
  up): the 24th (between the 23rd and 24th commas) when it follows the 27th, as AsyncOS 7.5 to 9 document it;
  the 25th when it follows the 28th and the 23rd is quoted, as later versions write it (a quoted full category
  name added as the 23rd: `"IW_srch",-,"-","Search Engines and Portals","-","Google","Search Engine",...,197.47`).
- The user agent follows the body's first `> ` (from its second character when there is none), spaces trimmed:
  between quotes when it starts with one (to its end when unclosed), else up to a space.
"""

from __future__ import annotations

import numpy as np

from detector.ingest.compiled import kernel

FIELDS = 11
# rows of the places: the head's fields, then the URL category, the AVC application and the user agent
CATEGORY, APPLICATION, AGENT = FIELDS, FIELDS + 1, FIELDS + 2
PLACES = FIELDS + 3
_SPACE, _COMMA, _LESS, _GREATER, _QUOTE, _SLASH, _DOT, _DIGIT_0, _DIGIT_9 = (ord(c) for c in " ,<>\"/.09")
_SYSLOG_MARK = np.frombuffer(b"Info: ", np.uint8)


def access_places(data: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per place (the rows above) and line: its start and end in `data`, and whether the line has it; per line,
    whether it has the access line's shape (11 head fields, or more without verdicts; a '/' in the 4th and the
    9th)."""
    lines = len(offsets) - 1
    starts = np.empty((PLACES, lines), np.int32)
    ends = np.empty((PLACES, lines), np.int32)
    present = np.empty((PLACES, lines), np.bool_)
    shaped = np.empty(lines, np.bool_)
    _access_places(data, offsets, _SYSLOG_MARK, starts, ends, present, shaped)
    return starts, ends, present, shaped


@kernel
def _epoch_at(data, at, end):
    """Whether an epoch time starts at `at`: 9 or 10 digits, a '.', a digit."""
    if at + 10 >= end:
        return False
    dot = at + 10 if data[at + 10] == _DOT else at + 9 if data[at + 9] == _DOT else -1
    if dot < 0 or dot + 1 >= end or not _DIGIT_0 <= data[dot + 1] <= _DIGIT_9:
        return False
    digit = at
    while digit < dot and _DIGIT_0 <= data[digit] <= _DIGIT_9:
        digit += 1
    return digit == dot


@kernel
def _body_start(data, start, end, mark):
    """The line's start where an epoch time begins it; else after its first `mark`; else at the first epoch time
    after a space (a syslog header without the mark); else the line's start."""
    if _epoch_at(data, start, end):
        return start
    for at in range(start, end - len(mark) + 1):
        same = True
        for i in range(len(mark)):
            if data[at + i] != mark[i]:
                same = False
                break
        if same:
            return at + len(mark)
    for at in range(start, end - 1):
        if data[at] == _SPACE and _epoch_at(data, at + 1, end):
            return at + 1
    return start


@kernel
def _has_slash(data, start, end):
    at = start
    while at < end and data[at] != _SLASH:
        at += 1
    return at < end


@kernel
def _access_places(data, offsets, mark, starts, ends, present, shaped):
    for line in range(len(offsets) - 1):
        line_end = offsets[line + 1]
        body = _body_start(data, offsets[line], line_end, mark)
        for place in range(PLACES):
            starts[place, line] = ends[place, line] = line_end
            present[place, line] = False
        # the head: fields at single spaces, up to the first ' <'; and the first '> ' met on the way
        field, field_start, head_end, close = 0, body, line_end, -1
        for at in range(body, line_end):
            if data[at] != _SPACE:
                continue
            if close < 0 and at > body and data[at - 1] == _GREATER:
                close = at
            if at + 1 < line_end and data[at + 1] == _LESS:
                head_end = at
                break
            if field < FIELDS:
                starts[field, line], ends[field, line], present[field, line] = field_start, at, True
            field += 1
            field_start = at + 1
        if field < FIELDS:  # the field the head's end closes
            starts[field, line], ends[field, line], present[field, line] = field_start, head_end, True
        has_verdicts = head_end < line_end
        shaped[line] = (field + 1 == FIELDS or (not has_verdicts and field + 1 >= FIELDS)) \
            and _has_slash(data, starts[3, line], ends[3, line]) and _has_slash(data, starts[8, line], ends[8, line])
        if not has_verdicts:
            continue
        # the verdicts: the 1st, 23rd to 25th, 27th and 28th commas after the ' <'
        verdicts = head_end + 2
        commas, first, lined_up, quoted_23rd = 0, line_end, False, False
        comma_23 = comma_24 = comma_25 = 0
        for at in range(verdicts, line_end):
            if data[at] == _COMMA:
                commas += 1
                if commas == 1:
                    first = at
                elif commas == 22:
                    quoted_23rd = at + 1 < line_end and data[at + 1] == _QUOTE
                elif commas == 23:
                    comma_23 = at
                elif commas == 24:
                    comma_24 = at
                elif commas == 25:
                    comma_25 = at
                elif commas >= 27:
                    lined_up = not (at + 1 < line_end and data[at + 1] == _QUOTE) and (commas == 27 or quoted_23rd)
                    if lined_up or commas == 28:
                        break
        starts[CATEGORY, line], ends[CATEGORY, line], present[CATEGORY, line] = verdicts, first, True
        if lined_up:  # the bandwidth after the 27th comma: the application is the 24th; after the 28th: the 25th
            starts[APPLICATION, line] = (comma_23 if commas == 27 else comma_24) + 1
            ends[APPLICATION, line] = comma_24 if commas == 27 else comma_25
            present[APPLICATION, line] = True
        # the user agent: after the body's first '> ' (sought on from the ' <' when the head had none)
        if close < 0:
            for at in range(head_end, line_end):
                if data[at] == _SPACE and at > body and data[at - 1] == _GREATER:
                    close = at
                    break
        if close >= 0:
            agent = close + 1
        else:  # the body's second character (UTF-8: the first one's length from its lead byte)
            lead = data[body] if body < line_end else 0
            agent = min(body + (1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4), line_end)
        last = line_end
        while agent < last and data[agent] == _SPACE:
            agent += 1
        while last > agent and data[last - 1] == _SPACE:
            last -= 1
        stop = _QUOTE if agent < last and data[agent] == _QUOTE else _SPACE
        if stop == _QUOTE:
            agent += 1
        agent_end = agent
        while agent_end < last and data[agent_end] != stop:
            agent_end += 1
        starts[AGENT, line], ends[AGENT, line], present[AGENT, line] = agent, agent_end, True

