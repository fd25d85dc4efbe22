"""Where the packet's fields are in a WatchGuard traffic message: one compiled pass over its first tokens.

The message (after `msg_id="..."`) is `disposition interface... [length] protocol [header-length TTL] source
destination [source-port destination-port] ...`; interface names may hold spaces, so the fields are found by
their shape:
- the disposition is the first token: Allow, Deny or Drop (any case);
- the source is the first token, from the third on, that is an address (hex digits, `.` and `:`, holding a `.`
  or `:`) followed by another (the destination);
- the protocol is the token three before the source when the two between are numbers (header length and TTL,
  as 3000-0148 logs a packet), else the token just before it; a name (`tcp`) or a number of up to 3 digits;
- the ports are the two tokens after the destination when both are numbers of up to 5 digits, and the
  destination port is then followed by a space or the message's end.
Tokens are separated by runs of spaces. A regular expression with these groups costs ~1.7 us a line in Arrow
(RE2's submatch engines); this pass, well under a tenth of that.
"""

from __future__ import annotations

import numpy as np

from detector.ingest.compiled import kernel

# Per line, the start and end of: disposition, protocol, source, destination, destination port (-1: none)
DISPOSITION, PROTOCOL, SOURCE, DESTINATION, DESTINATION_PORT = range(5)
FIELDS = 5
_TOKENS = 48  # tokens looked at (the fields come first; a longer head of interfaces is no traffic message)
_SPACE = ord(" ")


def packet_fields(data: np.ndarray, begin: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Per line (its message from `begin` to `end` in `data`): an int64 array [lines, FIELDS, 2] of each field's
    start and end, -1 where the line has none: a message that starts with a disposition but has no addresses has
    only the disposition."""
    places = np.full((len(begin), FIELDS, 2), -1, np.int64)
    _packet_fields(data, begin.astype(np.int64), end.astype(np.int64), places)
    return places


@kernel
def _is_address(data, start, stop):
    dotted = False
    for at in range(start, stop):
        byte = data[at]
        if byte == 46 or byte == 58:  # . :
            dotted = True
        elif not (48 <= byte <= 57 or 65 <= byte <= 70 or 97 <= byte <= 102):
            return False
    return dotted


@kernel
def _is_number(data, start, stop, longest):
    if stop - start < 1 or stop - start > longest:
        return False
    for at in range(start, stop):  # noqa: SIM110 (a generator is not compiled)
        if not 48 <= data[at] <= 57:
            return False
    return True


@kernel
def _is_protocol(data, start, stop):
    if _is_number(data, start, stop, 3):
        return True
    first = data[start] | 32
    if not 97 <= first <= 122:
        return False
    for at in range(start + 1, stop):
        byte = data[at]
        lower = byte | 32
        if not (97 <= lower <= 122 or 48 <= byte <= 57 or byte == 95 or byte == 46 or byte == 45):
            return False
    return True


@kernel
def _is_disposition(data, start, stop):
    length = stop - start
    if length == 5:  # allow
        return ((data[start] | 32) == 97 and (data[start + 1] | 32) == 108 and (data[start + 2] | 32) == 108
                and (data[start + 3] | 32) == 111 and (data[start + 4] | 32) == 119)
    if length == 4:  # deny, drop
        first = data[start] | 32
        if first != 100:
            return False
        second, third, fourth = data[start + 1] | 32, data[start + 2] | 32, data[start + 3] | 32
        return (second == 101 and third == 110 and fourth == 121) or (second == 114 and third == 111
                                                                       and fourth == 112)
    return False


@kernel
def _packet_fields(data, begin, end, places):
    starts = np.empty(_TOKENS, np.int64)
    stops = np.empty(_TOKENS, np.int64)
    for line in range(len(begin)):
        # the tokens, one at a time, up to the destination port (or _TOKENS)
        count = 0
        source = -1
        protocol = -1
        at = begin[line]
        stop_at = end[line]
        while at < stop_at and count < _TOKENS:
            while at < stop_at and data[at] == _SPACE:
                at += 1
            if at >= stop_at:
                break
            starts[count] = at
            while at < stop_at and data[at] != _SPACE:
                at += 1
            stops[count] = at
            count += 1
            if count == 1 and not _is_disposition(data, starts[0], stops[0]):
                break
            if source >= 0:
                if count == source + 4:  # the two tokens after the destination: the ports, if numbers
                    break
                continue
            # the source: the first token, from the fourth on, that is an address followed by another, with a
            # protocol before it
            candidate = count - 2
            if candidate < 3 or not (_is_address(data, starts[candidate], stops[candidate])
                                     and _is_address(data, starts[candidate + 1], stops[candidate + 1])):
                continue
            if (candidate >= 5 and _is_number(data, starts[candidate - 1], stops[candidate - 1], 20)
                    and _is_number(data, starts[candidate - 2], stops[candidate - 2], 20)
                    and _is_protocol(data, starts[candidate - 3], stops[candidate - 3])):
                protocol = candidate - 3
            elif _is_protocol(data, starts[candidate - 1], stops[candidate - 1]):
                protocol = candidate - 1
            if protocol >= 0:
                source = candidate
        if count < 1 or not _is_disposition(data, starts[0], stops[0]):
            continue
        places[line, 0, 0], places[line, 0, 1] = starts[0], stops[0]
        if source < 0:
            continue
        places[line, 1, 0], places[line, 1, 1] = starts[protocol], stops[protocol]
        places[line, 2, 0], places[line, 2, 1] = starts[source], stops[source]
        places[line, 3, 0], places[line, 3, 1] = starts[source + 1], stops[source + 1]
        port = source + 3
        if (port < count and _is_number(data, starts[port - 1], stops[port - 1], 5)
                and _is_number(data, starts[port], stops[port], 5)):
            places[line, 4, 0], places[line, 4, 1] = starts[port], stops[port]


def whole_numbers(data: np.ndarray, begin: np.ndarray, end: np.ndarray, rows: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per line where `rows` holds, the text from `begin` to `end` in `data` as a number when it is 1-18 ASCII digits
    (what a cast to int64 gives them): the numbers (int64) and the lines that had such text. Counts (bytes,
    seconds) are plain digits; any other text is left to the caller's cast."""
    values = np.zeros(len(rows), np.int64)
    plain = np.zeros(len(rows), np.bool_)
    _whole_numbers(data, np.ascontiguousarray(begin, np.int64), np.ascontiguousarray(end, np.int64),
                   np.ascontiguousarray(rows), values, plain)
    return values, plain


@kernel
def _whole_numbers(data, begin, end, rows, values, plain):
    for line in range(len(rows)):
        if not rows[line] or not 1 <= end[line] - begin[line] <= 18:
            continue
        number = 0
        digits = True
        for at in range(begin[line], end[line]):
            byte = data[at]
            if not 48 <= byte <= 57:
                digits = False
                break
            number = number * 10 + (byte - 48)
        if digits:
            values[line] = number
            plain[line] = True
