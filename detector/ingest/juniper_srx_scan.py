"""Junos' plain-text session and web filtering messages cut by one compiled pass over each line's bytes, to the
same pieces as the regular expressions of juniper_srx.QUERY (RE2, leftmost match first) find in them.

The layouts (Junos system log explorer, RT_FLOW_SESSION_CLOSE / RT_FLOW_SESSION_DENY / WEBFILTER_URL_PERMITTED):
`... session closed REASON: src/sport->dst/dport ... protocol policy from-zone to-zone session-id
packets(bytes) packets(bytes) seconds app nested user(roles) ...`, `... session denied src/sport->dst/dport
[0x0] service protocol(icmp-type) policy ...` and `... WebFilter: ACTION="URL Permitted" src(sport)->dst(dport)
CATEGORY="..." ... URL=host OBJ=/path USERNAME=user ...`. A line is cut into words at its spaces (two spaces in a
row make an empty word); each piece is the first place where the regular expression would match:
- `(\\S+?)/(\\d+)->(\\S+?)/(\\d+)`: in the first word holding `/digits->`, the shortest source, then the
  shortest destination followed by `/digit` (the web form: `(digits)` in place of `/digits`);
- ` (\\d+) \\S+ \\S+ \\S+ \\d+ \\d+\\((\\d+)\\) \\d+\\((\\d+)\\) (\\d+)(?: (\\S+) (\\S+) ([^\\s(]+)\\()?`: the first
  word k (not the line's first) of digits with words k + 5 and k + 6 `digits(digits)`, and so on;
- `->\\S+/\\d+ (?:0x\\w+ )?\\S+ (\\d+)\\(\\d+\\) `: a word with `->` ending `/digits`, then (`0x..`) service
  protocol(type);
- ` URL=`, ` OBJ=`, ` USERNAME=` or ` username `, ` CATEGORY="...": their first place in the line.
Lines holding a tab, a line feed, a vertical tab, a form feed or a carriage return (where `\\s` and a space
differ), lines with `[junos@` (structured data), lines without `: ` five bytes or more from their start (the
syslog header's text is the text before it), lines starting as RFC 5424 and lines whose message (after that
`: `) starts with a digit (a relayed device time?) are not cut: `unsure`, for the query to read.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba.cpython.unsafe.numbers import trailing_zeros

from detector.ingest.compiled import inlined, kernel

# The events (juniper_srx._EVENT's group 1), by number
EVENTS = ("", "RT_FLOW_SESSION_CREATE", "RT_FLOW_SESSION_CLOSE", "RT_FLOW_SESSION_DENY", "WEBFILTER_URL_PERMITTED",
          "WEBFILTER_URL_BLOCKED")
CREATE, CLOSE, DENY, PERMITTED, BLOCKED = 1, 2, 3, 4, 5
# The pieces (rows of `TextPieces.starts`): empty pieces are not valid (the query reads '' as none)
FIELDS = ("src", "dst", "dport", "proto", "bytes_out", "bytes_in", "elapsed", "app", "nested", "user", "url",
          "obj", "category")
SRC, DST, DPORT, PROTO, OUT, IN, ELAPSED, APP, NESTED, USER, URL, OBJ, CATEGORY = range(len(FIELDS))

_SPACE, _SLASH, _OPEN, _CLOSE, _MINUS, _GREATER, _QUOTE, _COLON, _LESS = (ord(c) for c in ' /()->":<')
_RT_FLOW = np.frombuffer(b"RT_FLOW_SESSION_", np.uint8)
_WEBFILTER = np.frombuffer(b"WEBFILTER_URL_", np.uint8)
_FLOW_KINDS = np.frombuffer(b"CREATE\0\0\0CLOSE\0\0\0\0DENY\0\0\0\0\0", np.uint8)  # 9 bytes each, 0-padded
_WEB_KINDS = np.frombuffer(b"PERMITTED\0BLOCKED\0\0\0", np.uint8)  # 10 bytes each
_LS = np.frombuffer(b"_LS", np.uint8)
_STRUCTURED = np.frombuffer(b"[junos@", np.uint8)
_URL = np.frombuffer(b"URL=", np.uint8)  # (each after a space: a word's start)
_OBJ = np.frombuffer(b"OBJ=", np.uint8)
_USERNAME = np.frombuffer(b"USERNAME=", np.uint8)
_USERNAME_WORD = np.frombuffer(b"username", np.uint8)  # (a whole word, a space after it)
_CATEGORY = np.frombuffer(b'CATEGORY="', np.uint8)
# What each byte may be: 1 a space, 2 other whitespace, 3 `[` (of `[junos@`?), 4 `R` or `W` (an event's start?)
_KIND = np.zeros(256, np.uint8)
_KIND[ord(" ")] = 1
_KIND[9:14] = 2
_KIND[ord("[")] = 3
_KIND[[ord("R"), ord("W")]] = 4
# The same bytes sought eight at a time: each in all eight bytes of a word, and the bytes below 0x0E
_EVERY_BYTE = np.uint64(0x0101010101010101)
_SPACES, _OPENS, _RS, _WS = (np.uint64(byte) * _EVERY_BYTE for byte in (ord(" "), ord("["), ord("R"), ord("W")))
_CONTROLS = np.uint64(0x80 - 0x0E) * _EVERY_BYTE
_LOW_SEVEN_BITS = np.uint64(0x7F7F7F7F7F7F7F7F)
_TOP_BITS = np.uint64(0x8080808080808080)


class TextPieces:
    """Each line's event (a number into EVENTS), whether it was cut (`unsure`: not), where its syslog header's text
    ends (`head_end`: the first `: `), and its pieces' places in the lines' buffer (FIELDS x lines; `valid` where
    found and not empty)."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray) -> None:
        lines = len(offsets) - 1
        self.event = np.zeros(lines, np.int8)
        self.unsure = np.zeros(lines, np.bool_)
        self.starts = np.zeros((len(FIELDS), lines), np.int32)
        self.ends = np.zeros((len(FIELDS), lines), np.int32)
        self.valid = np.zeros((len(FIELDS), lines), np.bool_)
        self.head_end = np.empty(lines, np.int32)
        words = data[:len(data) // 8 * 8].view(np.uint64)
        _cut(data, words, offsets, self.event, self.unsure, self.head_end, self.starts, self.ends, self.valid)

    def texts(self, data: np.ndarray) -> dict[str, pa.Array]:
        """The pieces as text columns, null where not valid."""
        from detector.ingest.gather_scan import gathered

        return dict(zip(FIELDS, gathered(data, self.starts, self.ends, self.valid), strict=True))


@inlined
def _bytes_equal(word, repeated):
    """The top bit of each byte of `word` equal to the byte `repeated` fills, the other bits 0 (key_values_scan)."""
    other = word ^ repeated
    return ~(((other & _LOW_SEVEN_BITS) + _LOW_SEVEN_BITS) | other | _LOW_SEVEN_BITS)


@inlined
def _bytes_below(word, limits):
    """The top bit of each byte of `word` below 0x80 - (the byte `limits` fills), the other bits 0."""
    return ~(((word & _LOW_SEVEN_BITS) + limits) | word) & _TOP_BITS


@inlined
def _is_digit(byte):
    return 48 <= byte <= 57


@inlined
def _is_word(byte):
    return (48 <= byte <= 57) or (65 <= byte <= 90) or (97 <= byte <= 122) or byte == 95


@inlined
def _same(data, at, end, text):
    """Whether `text` is at `data[at:]` (before `end`)."""
    if at + len(text) > end:
        return False
    for i in range(len(text)):  # noqa: SIM110 (a generator does not compile)
        if data[at + i] != text[i]:
            return False
    return True


@inlined
def _digits_end(data, at, end):
    while at < end and _is_digit(data[at]):
        at += 1
    return at


@inlined
def _counted(data, begin, end):
    """Whether `data[begin:end]` is `digits(digits)`: the position of its inner digits, else -1."""
    inner = _digits_end(data, begin, end)
    if inner == begin or inner >= end or data[inner] != _OPEN:
        return -1
    close = _digits_end(data, inner + 1, end)
    if close == inner + 1 or close != end - 1 or data[close] != _CLOSE:
        return -1
    return inner + 1


@kernel
def _cut(data, words_of, offsets, event, unsure, head_end, starts, ends, valid):
    lines = len(offsets) - 1
    longest = 0
    for line in range(lines):
        longest = max(longest, offsets[line + 1] - offsets[line])
    candidate = np.empty(longest + 2, np.int64)  # the places of the line's bytes that may matter
    word_at = np.empty(longest + 2, np.int64)  # each word's first byte, and the byte after it
    word_end = np.empty(longest + 2, np.int64)
    for line in range(lines):
        start, end = offsets[line], offsets[line + 1]
        bad = False
        found = 0
        words = 0
        colon = -1  # the first `: `
        word_at[0] = start
        # the bytes that matter (spaces, `[`, `R`, `W`, whitespace), eight at a time (`words_of`: `data` as 64-bit
        # words), byte by byte only before the line's first whole word and after its last
        found_at = 0
        at = start
        while at < end and at & 7:
            candidate[found_at] = at
            found_at += _KIND[data[at]] > 0
            at += 1
        while at + 8 <= end:
            word = words_of[at >> 3]
            hits = (_bytes_equal(word, _SPACES) | _bytes_equal(word, _OPENS) | _bytes_equal(word, _RS)
                    | _bytes_equal(word, _WS) | _bytes_below(word, _CONTROLS))
            while hits:
                candidate[found_at] = at + (trailing_zeros(hits) >> 3)
                found_at += 1
                hits &= hits - np.uint64(1)
            at += 8
        while at < end:
            candidate[found_at] = at
            found_at += _KIND[data[at]] > 0
            at += 1
        for item in range(found_at):
            at = candidate[item]
            kind = _KIND[data[at]]
            if kind == 1:
                word_end[words] = at
                words += 1
                word_at[words] = at + 1
                if colon < 0 and at > start and data[at - 1] == _COLON:
                    colon = at - 1
            elif kind == 2 or (kind == 3 and _same(data, at, end, _STRUCTURED)):
                bad = True
            elif kind == 4 and found == 0 and (at == start or not _is_word(data[at - 1])):
                found = _event_at(data, at, end)
        word_end[words] = end
        words += 1
        event[line] = found
        head_end[line] = colon
        # the header is read from the text before the first `: ` (at least five bytes; RFC 5424's is read whole),
        # and a message starting with a digit may start with a relayed device time
        if colon - start < 5 or (colon + 2 < end and _is_digit(data[colon + 2])) or _rfc5424_start(data, start, end):
            bad = True
        unsure[line] = bad
        if bad or found == 0 or found == CREATE:
            continue
        if found == CLOSE or found == DENY:  # noqa: SIM109 (kernel code)
            _addresses(data, word_at, word_end, words, False, starts, ends, valid, line)
        else:
            _addresses(data, word_at, word_end, words, True, starts, ends, valid, line)
        if found == CLOSE:
            _close_counts(data, word_at, word_end, words, starts, ends, valid, line)
        elif found == DENY:
            _deny_protocol(data, word_at, word_end, words, starts, ends, valid, line)
        else:
            _web_values(data, end, word_at, word_end, words, starts, ends, valid, line)


@inlined
def _rfc5424_start(data, start, end):
    """Whether the line may start as RFC 5424 (`<PRI>1 `): `<`, then `>1 ` within its first 14 bytes."""
    if end == start or data[start] != _LESS:
        return False
    for at in range(start + 2, min(start + 14, end - 2)):
        if data[at] == _GREATER and data[at + 1] == 49 and data[at + 2] == _SPACE:
            return True
    return False


@inlined
def _event_at(data, at, end):
    """The event (a number into EVENTS) whose name starts at `at` (after a word boundary), else 0."""
    number = 0
    after = at
    if _same(data, at, end, _RT_FLOW):
        for kind in range(3):
            size = 6 - kind if kind < 2 else 4  # CREATE, CLOSE, DENY
            if _same(data, at + len(_RT_FLOW), end, _FLOW_KINDS[9 * kind:9 * kind + size]):
                number = 1 + kind
                after = at + len(_RT_FLOW) + size
                break
    elif _same(data, at, end, _WEBFILTER):
        for kind in range(2):
            size = 9 if kind == 0 else 7  # PERMITTED, BLOCKED
            if _same(data, at + len(_WEBFILTER), end, _WEB_KINDS[10 * kind:10 * kind + size]):
                number = 4 + kind
                after = at + len(_WEBFILTER) + size
                break
    if number == 0:
        return 0
    if _same(data, after, end, _LS) and (after + 3 == end or not _is_word(data[after + 3])):
        return number
    if after == end or not _is_word(data[after]):
        return number
    return 0


@inlined
def _put(starts, ends, valid, field, line, begin, stop):
    starts[field, line] = begin
    ends[field, line] = stop
    valid[field, line] = stop > begin


@inlined
def _addresses(data, word_at, word_end, words, web, starts, ends, valid, line):
    """`(\\S+?)/(\\d+)->(\\S+?)/(\\d+)` (with `web`, `(\\S+?)\\((\\d+)\\)->(\\S+?)\\((\\d+)\\)`): source, destination
    and destination port."""
    mark = _OPEN if web else _SLASH
    closing = 1 if web else 0  # the `)` after the digits
    for word in range(words):
        begin, stop = word_at[word], word_end[word]
        for at in range(begin + 1, stop):
            if data[at] != mark:
                continue
            digits = _digits_end(data, at + 1, stop)
            arrow = digits + closing
            if digits == at + 1 or arrow + 1 >= stop or (web and data[digits] != _CLOSE) \
                    or data[arrow] != _MINUS or data[arrow + 1] != _GREATER:
                continue
            destination = arrow + 2
            for other in range(destination + 1, stop):
                if data[other] != mark:
                    continue
                port_end = _digits_end(data, other + 1, stop)
                if port_end == other + 1 or (web and (port_end >= stop or data[port_end] != _CLOSE)):
                    continue
                _put(starts, ends, valid, SRC, line, begin, at)
                _put(starts, ends, valid, DST, line, destination, other)
                _put(starts, ends, valid, DPORT, line, other + 1, port_end)
                return


@inlined
def _all_digits(data, begin, stop):
    return stop > begin and _digits_end(data, begin, stop) == stop


@inlined
def _close_counts(data, word_at, word_end, words, starts, ends, valid, line):
    """` (\\d+) \\S+ \\S+ \\S+ \\d+ \\d+\\((\\d+)\\) \\d+\\((\\d+)\\) (\\d+)(?: (\\S+) (\\S+) ([^\\s(]+)\\()?`:
    protocol, bytes from the client and from the server, seconds; application, nested application and user
    when there."""
    for k in range(1, words - 7):
        if not _all_digits(data, word_at[k], word_end[k]) or not _all_digits(data, word_at[k + 4], word_end[k + 4]):
            continue
        if word_end[k + 1] == word_at[k + 1] or word_end[k + 2] == word_at[k + 2] or word_end[k + 3] == word_at[k + 3]:
            continue
        out = _counted(data, word_at[k + 5], word_end[k + 5])
        inbound = _counted(data, word_at[k + 6], word_end[k + 6])
        seconds = _digits_end(data, word_at[k + 7], word_end[k + 7])
        if out < 0 or inbound < 0 or seconds == word_at[k + 7]:
            continue
        _put(starts, ends, valid, PROTO, line, word_at[k], word_end[k])
        _put(starts, ends, valid, OUT, line, out, word_end[k + 5] - 1)
        _put(starts, ends, valid, IN, line, inbound, word_end[k + 6] - 1)
        _put(starts, ends, valid, ELAPSED, line, word_at[k + 7], seconds)
        if seconds == word_end[k + 7] and k + 10 < words and word_end[k + 8] > word_at[k + 8] \
                and word_end[k + 9] > word_at[k + 9]:
            user = word_at[k + 10]
            while user < word_end[k + 10] and data[user] != _OPEN:
                user += 1
            if user > word_at[k + 10] and user < word_end[k + 10]:
                _put(starts, ends, valid, APP, line, word_at[k + 8], word_end[k + 8])
                _put(starts, ends, valid, NESTED, line, word_at[k + 9], word_end[k + 9])
                _put(starts, ends, valid, USER, line, word_at[k + 10], user)
        return


@inlined
def _hex_word(data, begin, stop):
    """`0x\\w+`, the whole word."""
    if stop - begin < 3 or data[begin] != 48 or data[begin + 1] != 120:
        return False
    for at in range(begin + 2, stop):  # noqa: SIM110 (a generator does not compile)
        if not _is_word(data[at]):
            return False
    return True


@inlined
def _deny_protocol(data, word_at, word_end, words, starts, ends, valid, line):
    """`->\\S+/\\d+ (?:0x\\w+ )?\\S+ (\\d+)\\(\\d+\\) `: the protocol."""
    for k in range(words - 1):
        begin, stop = word_at[k], word_end[k]
        arrow = -1
        for at in range(begin, stop - 1):
            if data[at] == _MINUS and data[at + 1] == _GREATER:
                arrow = at
                break
        if arrow < 0:
            continue
        slash = stop - 1
        while slash > arrow + 2 and data[slash] != _SLASH:
            slash -= 1
        if slash <= arrow + 2 or data[slash] != _SLASH or not _all_digits(data, slash + 1, stop):
            continue
        # with the `0x..` word, then without it
        for skip in range(1, -1, -1):
            protocol = k + 2 + skip
            if protocol + 1 >= words:  # (a space must follow it)
                continue
            if skip and not _hex_word(data, word_at[k + 1], word_end[k + 1]):
                continue
            if word_end[k + 1 + skip] == word_at[k + 1 + skip]:
                continue
            if _counted(data, word_at[protocol], word_end[protocol]) < 0:
                continue
            _put(starts, ends, valid, PROTO, line, word_at[protocol], _digits_end(data, word_at[protocol],
                                                                                 word_end[protocol]))
            return


@inlined
def _web_values(data, end, word_at, word_end, words, starts, ends, valid, line):
    """` URL=(\\S*)`, ` OBJ=(\\S*)`, ` (?:USERNAME=|username )(\\S*)`, ` CATEGORY="([^"]*)"`: each at the first word
    (not the line's first: a space comes before) starting so."""
    url = obj = user = category = False
    for word in range(1, words):
        begin, stop = word_at[word], word_end[word]
        if begin == stop:
            continue
        first = data[begin]
        if first == 85 and not url and _same(data, begin, stop, _URL):  # U
            url = True
            _put(starts, ends, valid, URL, line, begin + len(_URL), stop)
        elif first == 79 and not obj and _same(data, begin, stop, _OBJ):  # O
            obj = True
            _put(starts, ends, valid, OBJ, line, begin + len(_OBJ), stop)
        elif first == 85 and not user and _same(data, begin, stop, _USERNAME):
            user = True
            _put(starts, ends, valid, USER, line, begin + len(_USERNAME), stop)
        elif first == 117 and not user and word + 1 < words and stop - begin == len(_USERNAME_WORD) \
                and _same(data, begin, stop, _USERNAME_WORD):  # u
            user = True
            _put(starts, ends, valid, USER, line, word_at[word + 1], word_end[word + 1])
        elif first == 67 and not category and _same(data, begin, stop, _CATEGORY):  # C
            category = True
            close = begin + len(_CATEGORY)
            while close < end and data[close] != _QUOTE:
                close += 1
            if close < end:
                _put(starts, ends, valid, CATEGORY, line, begin + len(_CATEGORY), close)
