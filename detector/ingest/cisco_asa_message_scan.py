"""Teardown (302014 / 302016) and 106023 messages read in one compiled pass over each line's bytes (see compiled.py),
where they have the common shape, instead of splitting their text into tokens and checking each token with Arrow.

The pass takes a message only where the token reading (cisco_asa_layouts.teardown and .deny) reads it as fitting its
layout, and then reads the same fields: the tokens are the text after the `%` cut at every space, as pyarrow's
split_pattern cuts it (the same number of splits: cisco_asa.TOKENS_READ), the fixed words compared byte by byte, a
side's interface cut at its first colon or, where no address fits after it, its second (cisco_asa_layouts.
_interfaced). Anything less plain it leaves to the token reading (`ok` false): a parenthesis in an address, an
identity with `(` or `,` or a character outside ASCII at an end, an IPv6 zone (`%`), a port of ten or more digits in
a Teardown, a side without a port or interface, a duration that is not three groups of 1-18 digits,
a line without every token of its layout. The values are copied out of the lines' bytes in one pass (gather_scan).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from detector.ingest.compiled import inlined, kernel
from detector.ingest.gather_scan import gathered

_SPACE, _COLON, _SLASH, _OPEN, _CLOSE, _COMMA, _PERCENT, _DOT, _NINE, _ZERO = (
    ord(" "), ord(":"), ord("/"), ord("("), ord(")"), ord(","), ord("%"), ord("."), ord("9"), ord("0"))
_TEARDOWN, _TCP, _UDP, _CONNECTION, _FOR, _TO, _DURATION, _BYTES = (
    np.frombuffer(word.encode(), np.uint8) for word in
    ("Teardown", "TCP", "UDP", "connection", "for", "to", "duration", "bytes"))
_DENY, _PROTOCOL, _SRC, _DST, _BY, _BY_ACCESS_GROUP = (
    np.frombuffer(word.encode(), np.uint8) for word in ("Deny", "protocol", "src", "dst", "by", "by access-group"))
# The splits of each message's text (cisco_asa.TOKENS_READ): a Teardown's 15, a 106023's 9
TEARDOWN_SPLITS, DENY_SPLITS = 15, 9
# The longest duration that fits in 64 bits as milliseconds (cisco_asa_layouts.LONGEST_CLOCK)
_LONGEST_HOURS, _LONGEST_MINUTES, _LONGEST_SECONDS = 2 * 10**12, 10**13, 10**15
# The text fields, by their row in `begin` and `end` (a begin of -1: null)
_FIELDS = ("src_ip", "dst_ip", "dst_port", "user_name", "protocol")
_SRC_AT, _DST_AT, _PORT_AT, _USER_AT, _PROTOCOL_AT = range(len(_FIELDS))


def teardowns(data: pa.Buffer, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """Teardown messages at data[starts:ends] (the text after each line's `%`): which the pass read (`ok`), and
    for those the fields cisco_asa_layouts.teardown reads."""
    ok, texts, duration, timed = _read(data, starts, ends, True)
    return ok, {**texts, "duration": pa.array(duration, pa.int64(), mask=~timed)}


def denials(data: pa.Buffer, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """106023 messages at data[starts:ends] (the text after each line's `%`): which the pass read (`ok`), and for
    those the fields cisco_asa_layouts.deny reads."""
    ok, texts, _, _ = _read(data, starts, ends, False)
    del texts["user_name"]
    return ok, {**texts, "blocked": pa.repeat(pa.scalar(True), len(texts["src_ip"]))}


def _read(data: pa.Buffer, starts: np.ndarray, ends: np.ndarray, teardown: bool
          ) -> tuple[np.ndarray, dict[str, pa.Array], np.ndarray, np.ndarray]:
    """Teardown (`teardown`) or 106023 messages at data[starts:ends]: which the pass read, their text fields, and
    (a Teardown's) durations and whether each fits."""
    count = len(starts)
    ok = np.zeros(count, np.bool_)
    begin, end = np.full((len(_FIELDS), count), -1, np.int64), np.zeros((len(_FIELDS), count), np.int64)
    duration = np.zeros(count if teardown else 0, np.int64)
    timed = np.zeros(count if teardown else 0, np.bool_)
    text = np.frombuffer(data, np.uint8)
    read = (_teardowns if teardown else _denials)(text, starts.astype(np.int64), ends.astype(np.int64), ok, begin, end,
                                                 duration, timed)
    return ok, _texts(text, begin, end, read), duration[:read], timed[:read]


def line_marks(data: pa.Buffer, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each line at data[starts:ends] has its first `%` (-1: none), and where the tag after it ends (the
    next space, or the line's end; the line's end where it has no `%`): one pass over the bytes up to there, where
    Arrow's find_substring reads every line through and the tag's end took numpy passes over 16 bytes a line."""
    percent, tag_end = np.empty(len(starts), np.int64), np.empty(len(starts), np.int64)
    _line_marks(np.frombuffer(data, np.uint8), starts.astype(np.int64), ends.astype(np.int64), percent, tag_end)
    return percent, tag_end


def _texts(text: np.ndarray, begin: np.ndarray, end: np.ndarray, read: int) -> dict[str, pa.Array]:
    """The text fields of the `read` rows read (the first of `begin` and `end`: the pass writes the rows it reads one
    after the other), copied out of `text` in one pass (null where a begin is -1)."""
    begin, end = np.ascontiguousarray(begin[:, :read]), np.ascontiguousarray(end[:, :read])
    return dict(zip(_FIELDS, gathered(text, begin, end, begin >= 0), strict=True))


@inlined
def _same(data, start, end, word):
    """Whether data[start:end] is `word`."""
    if end - start != len(word):
        return False
    for i in range(len(word)):  # noqa: SIM110 (a generator does not compile)
        if data[start + i] != word[i]:
            return False
    return True


@inlined
def _digits(data, start, end):
    """Whether data[start:end] is one or more ASCII digits."""
    if end <= start:
        return False
    for at in range(start, end):  # noqa: SIM110 (a generator does not compile)
        if data[at] < _ZERO or data[at] > _NINE:
            return False
    return True


@inlined
def _number(data, start, end):
    value = 0
    for at in range(start, end):
        value = value * 10 + (data[at] - _ZERO)
    return value


@inlined
def _find(data, start, end, byte):
    """The first place of `byte` in data[start:end], or -1."""
    for at in range(start, end):
        if data[at] == byte:
            return at
    return -1


@inlined
def _holds(data, start, end, word):
    """Whether data[start:end] holds `word`."""
    for at in range(start, end - len(word) + 1):
        if data[at] == word[0] and _same(data, at, at + len(word), word):
            return True
    return False


@inlined
def _tokens(data, start, end, splits, token_start, token_end):
    """The text cut at its first `splits` spaces (the last token is the rest, spaces and all): the number of tokens."""
    count = 0
    token_start[0] = start
    for at in range(start, end):
        if data[at] == _SPACE:
            token_end[count] = at
            count += 1
            token_start[count] = at + 1
            if count == splits:
                break
    token_end[count] = end
    return count + 1


@inlined
def _white(byte):
    """White space as the regular expressions' `\\s` reads it (ASCII only)."""
    return byte == _SPACE or byte == 0x09 or byte == 0x0A or byte == 0x0C or byte == 0x0D


@inlined
def _hex(byte):
    return (_ZERO <= byte <= _NINE) or (ord("a") <= byte <= ord("f")) or (ord("A") <= byte <= ord("F"))


@inlined
def _address_fits(data, start, end):
    """An address without a colon, or of an IPv6 address's shape: hex digits, a colon, hex digits, a colon, then hex
    digits, colons and dots (cisco_asa_layouts.IPV6_SHAPE; a zone is ruled out before, as are parentheses)."""
    colons = 0
    shaped = True
    for at in range(start, end):
        byte = data[at]
        if byte == _COLON:
            colons += 1
        elif not (_hex(byte) or (byte == _DOT and colons >= 2)):
            shaped = False
    return colons == 0 or (colons >= 2 and shaped)


@inlined
def _side(data, start, end, port_needed, identity_allowed, side):
    """`interface:address[/port[(identity)]]` at data[start:end] into side (address start and end, port start and
    end, identity start and end; -1: none): whether it reads as the token reading reads it and fits."""
    first = _find(data, start, end, _COLON)
    if first <= start:  # (no interface)
        return False
    slash = _find(data, first + 1, end, _SLASH)
    address_end = slash if slash >= 0 else end
    address = first + 1
    for at in range(address, address_end):
        if data[at] == _OPEN or data[at] == _CLOSE or data[at] == _PERCENT:
            return False
    if not _address_fits(data, address, address_end):
        # (a name's prefix, `v1:outside:10.1.1.1`: the interface reaches the second colon)
        address = _find(data, address, address_end, _COLON) + 1
        if not _address_fits(data, address, address_end):
            return False
    if address_end <= address:
        return False
    side[0], side[1], side[2], side[3], side[4], side[5] = address, address_end, -1, -1, -1, -1
    if slash < 0:
        return not port_needed
    port_end = end
    if identity_allowed:
        opened = _find(data, slash + 1, end, _OPEN)
        if opened >= 0:
            port_end = opened
            if end - 1 <= opened or data[end - 1] != _CLOSE:
                return False
            for at in range(opened + 1, end - 1):
                byte = data[at]
                if byte == _OPEN or byte == _CLOSE or byte == _COMMA:  # noqa: SIM109 (kernel code)
                    return False
            # (a character outside ASCII at an end may be white space, which the documented expression trims)
            if end - 1 > opened + 1 and (data[opened + 1] >= 0x80 or data[end - 2] >= 0x80):
                return False
            # (empty, or a TrustSec tag `number:name` alone: no user)
            tag = opened + 1
            while tag < end - 1 and _ZERO <= data[tag] <= _NINE:
                tag += 1
            if end - 1 > opened + 1 and not (tag > opened + 1 and data[tag] == _COLON):
                side[4], side[5] = opened + 1, end - 1
    if not _digits(data, slash + 1, port_end):
        return False
    side[2], side[3] = slash + 1, port_end
    return True


@inlined
def _word(data, start, end, present, side):
    """Whether a word after a side (data[start:end], where `present`) fits: not empty, no parentheses; it is the
    side's user where the side has no identity."""
    if not present:
        return True
    if end <= start or _find(data, start, end, _OPEN) >= 0 or _find(data, start, end, _CLOSE) >= 0:
        return False
    if side[4] < 0:
        side[4], side[5] = start, end
    return True


@kernel
def _teardowns(data, starts, ends, ok, begin, end, duration, timed):
    return _messages(data, starts, ends, True, ok, begin, end, duration, timed)


@kernel
def _denials(data, starts, ends, ok, begin, end, duration, timed):
    return _messages(data, starts, ends, False, ok, begin, end, duration, timed)


@inlined
def _messages(data, starts, ends, teardown, ok, begin, end, duration, timed):
    """Each line's text cut into tokens, then read as a Teardown (`teardown`) or else a 106023 message: where it
    fits, `ok`, and its fields in the next row of `begin`/`end` (and `duration`/`timed`). The number of rows read.
    Inlined into a kernel per message, where `teardown` is a constant: the compiler keeps only that one's reading.
    (Each reading as a step of its own, inlined, took ~15 % longer: every array it is passed is counted in and
    out again at each of its returns.)"""
    splits = TEARDOWN_SPLITS if teardown else DENY_SPLITS
    token_start = np.empty(splits + 1, np.int64)
    token_end = np.empty(splits + 1, np.int64)
    side_a = np.empty(6, np.int64)
    side_b = np.empty(6, np.int64)
    read = 0
    for row in range(len(starts)):
        count = _tokens(data, starts[row], ends[row], splits, token_start, token_end)
        s, e = token_start, token_end
        if teardown:
            if count < 13:
                continue
            if not (_same(data, s[1], e[1], _TEARDOWN)
                    and (_same(data, s[2], e[2], _TCP) or _same(data, s[2], e[2], _UDP))
                    and _same(data, s[3], e[3], _CONNECTION) and _digits(data, s[4], e[4])
                    and _same(data, s[5], e[5], _FOR)):
                continue
            a_word = not _same(data, s[7], e[7], _TO)
            to_at = 8 if a_word else 7
            if not _same(data, s[to_at], e[to_at], _TO):
                continue
            b_word = not _same(data, s[to_at + 2], e[to_at + 2], _DURATION)
            duration_at = to_at + 3 if b_word else to_at + 2
            bytes_at = duration_at + 3
            if bytes_at >= count:
                continue
            if not (_same(data, s[duration_at], e[duration_at], _DURATION) and _same(data, s[duration_at + 2],
                    e[duration_at + 2], _BYTES) and e[bytes_at] > s[bytes_at] and _ZERO <= data[s[bytes_at]] <= _NINE):
                continue
            if not (_side(data, s[6], e[6], True, True, side_a)
                    and _side(data, s[to_at + 1], e[to_at + 1], True, True, side_b)):
                continue
            if side_a[3] - side_a[2] > 9 or side_b[3] - side_b[2] > 9:
                continue
            # a word after a side (no parentheses) is its user where it has no identity
            if not (_word(data, s[7], e[7], a_word, side_a)
                    and _word(data, s[to_at + 2], e[to_at + 2], b_word, side_b)):
                continue
            # the duration: H:M:S, 1-18 digits each
            clock, clock_end = s[duration_at + 1], e[duration_at + 1]
            first = _find(data, clock, clock_end, _COLON)
            second = _find(data, first + 1, clock_end, _COLON) if first >= 0 else -1
            if second < 0 or _find(data, second + 1, clock_end, _COLON) >= 0:
                continue
            if not (_digits(data, clock, first) and _digits(data, first + 1, second)
                    and _digits(data, second + 1, clock_end)):
                continue
            if first - clock > 18 or second - first - 1 > 18 or clock_end - second - 1 > 18:
                continue
            hours, minutes = _number(data, clock, first), _number(data, first + 1, second)
            seconds = _number(data, second + 1, clock_end)
            clock_fits = hours <= _LONGEST_HOURS and minutes <= _LONGEST_MINUTES and seconds <= _LONGEST_SECONDS
            # the client: the side with a user, else the one with the higher port, else the second
            has_a, has_b = side_a[4] >= 0, side_b[4] >= 0
            if has_a != has_b:
                client_first = has_a
            else:
                client_first = _number(data, side_a[2], side_a[3]) > _number(data, side_b[2], side_b[3])
            client, server = (side_a, side_b) if client_first else (side_b, side_a)
            user, user_end = client[4], client[5]
            if user < 0:  # a `(user)` ending the message (AAA, cisco_asa_layouts.AAA_USER) after the byte count
                user_end = ends[row] - 1
                if user_end > e[bytes_at] and data[user_end] == _CLOSE:
                    at = user_end - 1
                    while at > e[bytes_at] and data[at] != _OPEN and data[at] != _CLOSE and not _white(data[at]):
                        at -= 1
                    if data[at] == _OPEN and at < user_end - 1 and data[at - 1] == _SPACE and at - 1 >= e[bytes_at]:
                        user = at + 1
            timed[read] = clock_fits
            if clock_fits:
                duration[read] = ((hours * 60 + minutes) * 60 + seconds) * 1000
            begin[_SRC_AT, read], end[_SRC_AT, read] = client[0], client[1]
            begin[_DST_AT, read], end[_DST_AT, read] = server[0], server[1]
            begin[_PORT_AT, read], end[_PORT_AT, read] = server[2], server[3]
            begin[_USER_AT, read], end[_USER_AT, read] = user, user_end
            begin[_PROTOCOL_AT, read], end[_PROTOCOL_AT, read] = s[2], e[2]
        else:
            if count < 8:
                continue
            shift = 1 if _same(data, s[2], e[2], _PROTOCOL) and _same(data, s[4], e[4], _SRC) else 0
            # (a token after the destination: the text goes on)
            if count <= 7 + shift:
                continue
            if not (_same(data, s[1], e[1], _DENY) and _same(data, s[3 + shift], e[3 + shift], _SRC)
                    and _same(data, s[5 + shift], e[5 + shift], _DST) and e[2 + shift] > s[2 + shift]):
                continue
            at = 6 + shift
            if _find(data, s[at], e[at], _COMMA) >= 0 or (e[at] - s[at] >= 2 and data[e[at] - 2] == _BY[0]
                                                          and data[e[at] - 1] == _BY[1]):
                continue
            if not (_side(data, s[4 + shift], e[4 + shift], False, False, side_a)  # (source, destination)
                    and _side(data, s[at], e[at], False, False, side_b)):
                continue
            # `by access-group` anywhere in the text (looked for after the destination first, where it stands)
            if not (_holds(data, e[at], ends[row], _BY_ACCESS_GROUP)
                    or _holds(data, starts[row], min(e[at] + len(_BY_ACCESS_GROUP), ends[row]), _BY_ACCESS_GROUP)):
                continue
            begin[_SRC_AT, read], end[_SRC_AT, read] = side_a[0], side_a[1]
            begin[_DST_AT, read], end[_DST_AT, read] = side_b[0], side_b[1]
            begin[_PORT_AT, read], end[_PORT_AT, read] = side_b[2], side_b[3]
            begin[_PROTOCOL_AT, read], end[_PROTOCOL_AT, read] = s[2 + shift], e[2 + shift]
        ok[row] = True
        read += 1
    return read


@kernel
def _line_marks(data, starts, ends, percent, tag_end):
    for row in range(len(starts)):
        end = ends[row]
        at = _find(data, starts[row], end, _PERCENT)
        percent[row] = at
        if at < 0:
            tag_end[row] = end
            continue
        at += 1
        while at < end and data[at] != _SPACE:
            at += 1
        tag_end[row] = at
