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

import functools
import itertools

import numpy as np

from detector.ingest.compiled import WantedKeys, kernel

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


# The Firebox's IBM LEEF lines (`<header>LEEF:1.0|WatchGuard|XTM|<version>|<message id: 8 hex digits, a `-` after
# the fourth allowed>|key=value<TAB>key=value...`, a tab written `#011` where a relay escaped it), read directly:
# per line, where the text before `LEEF:` ends, the message id's family, the wanted keys' values and the packet's
# fields, placed as the rewrite into the Firebox's own layout (`watchguard._native_layout`) and its reading place
# them. A line is read so only where that gives what the rewrite gives; any other (`doubtful`) is left to the
# rewrite: a quote mark anywhere (the rewrite quotes every value, a quote mark inside one moves the next keys), a
# header without the LEEF layout, a head (the text before `LEEF:`) holding `=` or `#011`, an attribute that is not
# `name=value` with a name of letters, digits and `_` (an empty one is alright but first), a packet field (disp,
# proto, src, dst, srcPort, dstPort) holding a space or `=`, a duration `N seconds` with more text after it, and a
# packet whose disposition is Allow/Deny/Drop but whose source, destination and protocol do not stand as the
# rewritten message's fourth to sixth tokens (its scan would go on into the other values).
LEEF_FAMILIES = ("1AFF", "2CFF", "1DFF")  # http-proxy, https-proxy, dns-proxy (family 1-3; 0: any other, firewall)
_DISP, _PROTO, _SRC, _DST, _SPORT, _DPORT = range(6)  # (watchguard_leef.PACKET_KEYS)
_WATCHGUARD = np.frombuffer(b"|WatchGuard|", np.uint8)
_FAMILIES = np.frombuffer("".join(LEEF_FAMILIES).encode(), np.uint8).reshape(len(LEEF_FAMILIES), 4)
_SECONDS = np.frombuffer(b" seconds", np.uint8)
# The bytes an attribute's scan stops at (tab, `#` of `#011`, `=`, a quote mark, a newline); the others are passed by
# one look-up each
_STOPS = np.zeros(256, np.bool_)
_STOPS[np.frombuffer(b'\t#="\n', np.uint8)] = True


def leef_fields(data: np.ndarray, offsets: np.ndarray, rows: np.ndarray, keys: WantedKeys, packet_base: int,
                duration: int) -> tuple[np.ndarray, ...]:
    """Per line of `rows` (indices of lines in `offsets`), read as above: whether it was read (`simple`), where
    its head ends (the `LEEF:`), its family (0-3), per wanted key (`keys.keys`: the caller's keys, then the
    packet's, `watchguard_leef.PACKET_KEYS`, from `packet_base`) whether the line has it and where its value
    starts and ends (the first attribute of that name; `duration` the key whose `N seconds` reads as N), and the
    packet's places as `packet_fields` gives them (the protocol none where the line has no `proto`). Lines not
    read have undefined values."""
    lines, width = len(rows), len(keys.keys)
    simple = np.zeros(lines, np.bool_)
    head_end = np.zeros(lines, np.int64)
    family = np.zeros(lines, np.int8)
    # (key by key: each key's column of the lines is contiguous, as the columns are read)
    found = np.zeros((width, lines), np.bool_)
    starts = np.empty((width, lines), np.int32)
    ends = np.empty((width, lines), np.int32)
    places = np.full((lines, FIELDS, 2), -1, np.int64)
    _leef_fields(data, offsets, np.ascontiguousarray(rows, np.int64), *_names(keys.keys), packet_base, duration,
                 simple, head_end, family, found, starts, ends, places)
    return simple, head_end, family, found.T, starts.T, ends.T, places


_SLOTS = 256  # (a power of two, well above the number of keys)
_SPREAD = 0x9E3779B97F4A7C15  # (2^64 / the golden ratio: a name's word times it, its top byte is its slot)


@functools.lru_cache(maxsize=8)
def _names(keys: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """The keys as `_leef_fields` looks names up: each key's bytes (`text`, from `start`), its first 8 bytes as a
    little-endian word, its length, and a table of _SLOTS places (open addressing by the word and the length,
    linear probing) holding each key's number (-1: empty). A name is compared with one key or two, by its word,
    where comparing it byte by byte with every key of its length cost ~a third of the pass."""
    encoded = [key.encode() for key in keys]
    text = np.frombuffer(b"".join(encoded), np.uint8)
    start = np.array([0, *itertools.accumulate(len(key) for key in encoded)], np.int64)
    word = np.array([int.from_bytes(key[:8], "little") for key in encoded], np.uint64)
    length = np.array([len(key) for key in encoded], np.int64)
    slots = np.full(_SLOTS, -1, np.int64)
    for number, key in enumerate(encoded):
        slot = (((int.from_bytes(key[:8], "little") ^ len(key)) * _SPREAD) % 2**64) >> 56
        while slots[slot] >= 0:
            slot = (slot + 1) % _SLOTS
        slots[slot] = number
    return text, start, word, length, slots


@kernel
def _leef_header(data, at, end):
    """Where the attributes start when `LEEF:` ends at `at`, and the family (-1, 0: none): `[0-9.]+`, then
    `|WatchGuard|`, two fields without `|`, the id (4 hex, `-`?, 4 hex) and `|`."""
    start = at
    while at < end and (48 <= data[at] <= 57 or data[at] == 46):
        at += 1
    if at == start or at + len(_WATCHGUARD) > end:
        return -1, 0
    for i in range(len(_WATCHGUARD)):
        if data[at + i] != _WATCHGUARD[i]:
            return -1, 0
    at += len(_WATCHGUARD)
    for _ in range(2):
        while at < end and data[at] != 124:
            at += 1
        if at >= end:
            return -1, 0
        at += 1
    code = at
    for i in range(8):
        if i == 4 and at < end and data[at] == 45:  # -
            at += 1
        if at >= end or not (48 <= data[at] <= 57 or 97 <= (data[at] | 32) <= 102):
            return -1, 0
        at += 1
    if at >= end or data[at] != 124:
        return -1, 0
    kind = 0
    for number in range(len(_FAMILIES)):
        same = True
        for i in range(4):
            byte = data[code + i]
            if 97 <= byte <= 102:
                byte -= 32
            if byte != _FAMILIES[number, i]:
                same = False
        if same:
            kind = number + 1
    return at + 1, kind


@kernel
def _has_space_or_equals(data, start, stop):
    for at in range(start, stop):  # noqa: SIM110 (a generator is not compiled)
        if data[at] == 32 or data[at] == 61:
            return True
    return False


@kernel
def _leef_fields(data, offsets, rows, key_text, key_start, key_word, key_length, key_slots, packet_base, duration,
                 simple, head_end, family, found, starts, ends, places):
    longest = key_length.max()
    for line in range(len(rows)):
        row = rows[line]
        line_start, line_end = offsets[row], offsets[row + 1]
        # the first `LEEF:` the header's layout follows; the head before it without a quote mark, a newline, `=`
        # or `#011`
        attributes = -1
        bad = False
        at = line_start
        while at < line_end:
            byte = data[at]
            if byte == 76 and at + 5 <= line_end and data[at + 1] == 69 and data[at + 2] == 69 and data[at + 3] == 70 \
                    and data[at + 4] == 58:
                attributes, kind = _leef_header(data, at + 5, line_end)
                if attributes >= 0:
                    head_end[line], family[line] = at, kind
                    break
            if byte == 34 or byte == 10 or byte == 61 or (byte == 35 and at + 4 <= line_end and data[at + 1] == 48
                                                          and data[at + 2] == 49 and data[at + 3] == 49):
                bad = True
            at += 1
        if bad or attributes < 0:
            continue
        # the attributes, cut at tabs and `#011`, without a quote mark or a newline
        item = attributes
        equals = -1
        number = 0
        at = attributes
        while True:
            while at < line_end and not _STOPS[data[at]]:
                at += 1
            separator = 0
            if at >= line_end:
                separator = -1
            else:
                byte = data[at]
                if byte == 9:
                    separator = 1
                elif byte == 35 and at + 4 <= line_end and data[at + 1] == 48 and data[at + 2] == 49 \
                        and data[at + 3] == 49:
                    separator = 4
                else:
                    if byte == 61 and equals < 0:
                        equals = at
                    elif byte == 34 or byte == 10:
                        bad = True
                        break
                    at += 1
                    continue
            # the attribute from `item` to `at`
            if equals < 0:  # no `=`: alright only empty and not first
                if at > item or number == 0:
                    bad = True
                    break
            else:
                length = equals - item
                if length == 0 or not (97 <= (data[item] | 32) <= 122 or data[item] == 95):
                    bad = True
                    break
                word = np.uint64(data[item])  # (the name's first 8 bytes, made while its bytes are checked)
                for i in range(item + 1, equals):
                    byte = data[i]
                    if not (97 <= (byte | 32) <= 122 or 48 <= byte <= 57 or byte == 95):
                        bad = True
                        break
                    if i - item < 8:
                        word |= np.uint64(byte) << np.uint64(8 * (i - item))
                if bad:
                    break
                if length <= longest:
                    slot = ((word ^ np.uint64(length)) * np.uint64(_SPREAD)) >> np.uint64(56)
                    while True:
                        key = key_slots[slot]
                        if key < 0:
                            break
                        slot = (slot + np.uint64(1)) & np.uint64(_SLOTS - 1)
                        if key_word[key] != word or key_length[key] != length:
                            continue
                        same = True
                        for i in range(8, length):
                            if data[item + i] != key_text[key_start[key] + i]:
                                same = False
                                break
                        if same:
                            if not found[key, line]:
                                found[key, line] = True
                                starts[key, line], ends[key, line] = equals + 1, at
                            break
            number += 1
            if separator < 0:
                break
            at += separator
            item = at
            equals = -1
        if bad:
            continue
        # `duration=N seconds`: N
        if found[duration, line]:
            begin, stop = starts[duration, line], ends[duration, line]
            digits = begin
            while digits < stop and 48 <= data[digits] <= 57:
                digits += 1
            if digits > begin and digits + len(_SECONDS) <= stop:
                same = True
                for i in range(len(_SECONDS)):
                    if data[digits + i] != _SECONDS[i]:
                        same = False
                        break
                if same:
                    if digits + len(_SECONDS) < stop:
                        continue
                    ends[duration, line] = digits
        # the packet's fields: no space or `=` in them
        for field in range(6):
            key = packet_base + field
            if found[key, line] and _has_space_or_equals(data, starts[key, line], ends[key, line]):
                bad = True
        if bad:
            continue
        simple[line] = True
        disp, proto, src, dst = packet_base + _DISP, packet_base + _PROTO, packet_base + _SRC, packet_base + _DST
        if not (found[disp, line] and _is_disposition(data, starts[disp, line], ends[disp, line])):
            continue  # the message's first token is no disposition: no packet
        # the rewritten message: disposition `in out` protocol source destination [ports] key="value"...; its
        # scan finds the source fourth (counting from nought) only where the third and fourth are not both
        # addresses, the fourth and fifth are, and the third is a protocol (`noproto` where none: a name)
        if not (found[src, line] and found[dst, line] and _is_address(data, starts[src, line], ends[src, line])
                and _is_address(data, starts[dst, line], ends[dst, line])):
            simple[line] = False
            continue
        has_proto = found[proto, line] and ends[proto, line] > starts[proto, line]
        if has_proto and (_is_address(data, starts[proto, line], ends[proto, line])
                          or not _is_protocol(data, starts[proto, line], ends[proto, line])):
            simple[line] = False
            continue
        places[line, DISPOSITION, 0], places[line, DISPOSITION, 1] = starts[disp, line], ends[disp, line]
        if has_proto:
            places[line, PROTOCOL, 0], places[line, PROTOCOL, 1] = starts[proto, line], ends[proto, line]
        places[line, SOURCE, 0], places[line, SOURCE, 1] = starts[src, line], ends[src, line]
        places[line, DESTINATION, 0], places[line, DESTINATION, 1] = starts[dst, line], ends[dst, line]
        sport, dport = packet_base + _SPORT, packet_base + _DPORT
        if (found[sport, line] and found[dport, line] and _is_number(data, starts[sport, line], ends[sport, line], 5)
                and _is_number(data, starts[dport, line], ends[dport, line], 5)):
            places[line, DESTINATION_PORT, 0] = starts[dport, line]
            places[line, DESTINATION_PORT, 1] = ends[dport, line]
