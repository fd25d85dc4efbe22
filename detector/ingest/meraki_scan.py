"""Where the parts of Cisco Meraki syslog lines are: one compiled pass over each line's bytes (see compiled.py).

The rules (meraki.py's docstring says why):
- The head `<time> <device> <type>` stands at the line's start, or after Meraki's `<PRI>1 ` (or a bare `<PRI>`),
  else anywhere after a space or a `>` (a relay's header in front): its first place where a time (epoch
  `\\d{9,10}.\\d{1,9}`, or `dddd-dd-ddTdd:dd:dd` and more time characters) is followed by a device name and a type
  (a lower-case letter, then letters, digits, `_` or `-`) and a space or the line's end.
- The body follows the type. Its first word (`sub`) names a subtype (`ids_alerted`, `allow` ...).
- A key is the text before an `=`, back to the previous space (or the body's start); its first occurrence counts.
  A value in single quotes runs to the next quote (or the line's end); else to the next space. A single-quoted
  value is skipped whole, so that its text names no key.
- ` pattern: ` (first) starts the verdict text, to the line's end. ` request: ` (the last one: a URL holds no
  space) is followed by the method and the URL. An `agent='` value runs to the quote before that request.
- An address value: `[v6]:port`, `v4:port` (its first colon after a dot), bare, or IPv6 with a port after its last
  colon (where that colon follows a hex digit and 1-5 digits end the value: `v6_split`, used where the type writes
  ports).
"""

from __future__ import annotations

import numpy as np

from detector.ingest.compiled import WantedKeys, kernel

_SPACE, _EQUALS, _QUOTE, _LESS, _GREATER, _COLON, _DOT = (ord(c) for c in " ='<>:.")
_OPEN, _CLOSE, _ZERO, _NINE, _DASH, _T = (ord(c) for c in "[]09-T")
_PATTERN = np.frombuffer(b" pattern: ", np.uint8)
_REQUEST = np.frombuffer(b" request: ", np.uint8)
_AGENT = np.frombuffer(b" agent='", np.uint8)

# the int32 spans each line gets, in this order (-1 where the line has none)
SPANS = ("time", "kind", "sub", "pattern", "method", "url", "agent")


class Scan:
    """The parts of a batch's lines: spans (`start[name]`, `end[name]`), each wanted key's value span, the epoch
    time in microseconds, and the address of `src`/`dst` cut into ip span and port."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray, keys: WantedKeys) -> None:
        lines = len(offsets) - 1
        # (int32: places in a batch's buffer, whose Arrow offsets are int32 too; half the fresh memory of int64)
        self.starts = np.full((len(SPANS), lines), -1, np.int32)
        self.ends = np.full((len(SPANS), lines), -1, np.int32)
        self.found = np.zeros((len(keys.keys), lines), np.bool_)
        self.key_starts = np.zeros((len(keys.keys), lines), np.int32)
        self.key_ends = np.zeros((len(keys.keys), lines), np.int32)
        self.epoch_us = np.full(lines, -1, np.int64)
        self.line_starts = offsets[:-1]
        _scan(data, offsets, keys.text, keys.start, keys.number, keys.first, keys.count, _PATTERN, _REQUEST, _AGENT,
              self.starts, self.ends, self.found, self.key_starts, self.key_ends, self.epoch_us)

    def only(self, rows: np.ndarray) -> None:
        """Keep the lines `rows` (ascending) only: the others' parts are not needed. (np.take along the lines'
        axis: half the CPU of `array[:, rows]`.)"""
        self.starts, self.ends = np.take(self.starts, rows, axis=1), np.take(self.ends, rows, axis=1)
        self.found, self.key_starts = np.take(self.found, rows, axis=1), np.take(self.key_starts, rows, axis=1)
        self.key_ends = np.take(self.key_ends, rows, axis=1)
        self.epoch_us, self.line_starts = np.take(self.epoch_us, rows), np.take(self.line_starts, rows)

    def span(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        number = SPANS.index(name)
        return self.starts[number], self.ends[number]


def addresses(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, present: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per value: the address span (start, end), its port (-1: none), and for IPv6 without brackets where the
    value's last colon may end the address, that colon (`v6_split`, else -1) and the port after it."""
    count = len(starts)
    ip_start, ip_end = starts.copy(), ends.copy()
    port, split, split_port = (np.full(count, -1, np.int64) for _ in range(3))
    _addresses(data, starts, ends, present, ip_start, ip_end, port, split, split_port)
    return ip_start, ip_end, port, split, split_port


@kernel
def _digits(data, start, end):  # the number in data[start:end] (1-9 digits), else -1
    if end <= start or end - start > 9:
        return -1
    value = 0
    for at in range(start, end):
        byte = data[at]
        if byte < _ZERO or byte > _NINE:
            return -1
        value = value * 10 + (byte - _ZERO)
    return value


@kernel
def _addresses(data, starts, ends, present, ip_start, ip_end, port, split, split_port):
    for row in range(len(starts)):
        start, end = starts[row], ends[row]
        if not present[row] or end <= start:
            continue
        if data[start] == _OPEN:
            for at in range(start + 1, end):
                if data[at] == _CLOSE:
                    ip_start[row], ip_end[row] = start + 1, at
                    if at + 1 < end and data[at + 1] == _COLON:
                        port[row] = _digits(data, at + 2, end)
                    break
            continue
        first_colon, last_colon, first_dot = -1, -1, -1
        for at in range(start, end):
            if data[at] == _COLON:
                if first_colon < 0:
                    first_colon = at
                last_colon = at
            elif data[at] == _DOT and first_dot < 0:
                first_dot = at
        if first_colon < 0:
            continue
        if first_dot >= 0 and first_colon > first_dot:  # IPv4 and its port
            ip_end[row] = first_colon
            port[row] = _digits(data, first_colon + 1, end)
            continue
        if last_colon > start and end - last_colon - 1 <= 5:
            before = data[last_colon - 1]
            hex_digit = (_ZERO <= before <= _NINE) or (97 <= before <= 102) or (65 <= before <= 70)
            number = _digits(data, last_colon + 1, end)
            if hex_digit and number >= 0:
                split[row], split_port[row] = last_colon, number


@kernel
def _at(data, at, end, text):  # whether `text` stands at data[at:]
    if at + len(text) > end:
        return False
    for k in range(len(text)):  # noqa: SIM110 (a loop Numba compiles; all() over a generator it does not)
        if data[at + k] != text[k]:
            return False
    return True


@kernel
def _head(data, at, end, starts, ends, line, epoch_us):  # the head at `at`: its body's start, else -1
    time_start = at
    digits = 0
    while at < end and _ZERO <= data[at] <= _NINE:
        at += 1
        digits += 1
    if (digits == 9 or digits == 10) and at < end and data[at] == _DOT:  # epoch seconds
        seconds = 0
        for k in range(time_start, at):
            seconds = seconds * 10 + (data[k] - _ZERO)
        at += 1
        fraction_start = at
        micro = 0
        while at < end and _ZERO <= data[at] <= _NINE:
            if at - fraction_start < 6:
                micro = micro * 10 + (data[at] - _ZERO)
            at += 1
        places = at - fraction_start
        if places < 1 or places > 9:
            return -1
        for _ in range(places, 6):
            micro *= 10
        us = seconds * 1000000 + micro
    elif digits == 4 and at + 15 <= end and data[at] == _DASH and data[at + 6] == _T:  # ISO 8601
        while at < end and data[at] != _SPACE:
            byte = data[at]
            if not ((_ZERO <= byte <= _NINE) or byte == 45 or byte == 58 or byte == 46 or byte == 43 or byte == 84
                    or byte == 90):  # - : . + T Z
                return -1
            at += 1
        us = -1
    else:
        return -1
    time_end = at
    if at >= end or data[at] != _SPACE:
        return -1
    at += 1
    device = at
    while at < end and data[at] != _SPACE:
        at += 1
    if at == device or at >= end:
        return -1
    at += 1
    kind = at
    if at >= end or not (97 <= data[at] <= 122):
        return -1
    while at < end and ((97 <= data[at] <= 122) or (_ZERO <= data[at] <= _NINE) or data[at] == 95 or data[at] == 45):
        at += 1
    if at < end and data[at] != _SPACE:
        return -1
    starts[0, line], ends[0, line] = time_start, time_end
    starts[1, line], ends[1, line] = kind, at
    epoch_us[line] = us
    return min(at + 1, end)


@kernel
def _scan(data, offsets, key_text, key_start, key_number, first_of_length, count_of_length, pattern, request, agent,
          starts, ends, found, key_starts, key_ends, epoch_us):
    longest = len(first_of_length) - 1
    for line in range(len(offsets) - 1):
        line_start, line_end = offsets[line], offsets[line + 1]
        at = line_start
        if line_end > at and data[at] == _LESS:  # Meraki's `<PRI>1 ` (or a bare `<PRI>`)
            for k in range(at + 1, min(at + 5, line_end)):
                if data[k] == _GREATER:
                    at = k + 1
                    if at + 1 < line_end and data[at] == 49 and data[at + 1] == _SPACE:
                        at += 2
                    break
        body = _head(data, at, line_end, starts, ends, line, epoch_us)
        if body < 0:  # a relay's header in front: the first head after a space or a `>`
            for k in range(line_start + 1, line_end):
                if (data[k - 1] == _SPACE or data[k - 1] == _GREATER) and _ZERO <= data[k] <= _NINE:
                    body = _head(data, k, line_end, starts, ends, line, epoch_us)
                    if body >= 0:
                        break
        if body < 0:
            continue
        while body < line_end and data[body] == _SPACE:
            body += 1
        # the body's first word
        k = body
        while k < line_end and data[k] != _SPACE:
            k += 1
        starts[2, line], ends[2, line] = body, k
        # keys, the verdict text, the last request
        word = body
        at = body
        while at < line_end:
            byte = data[at]
            if byte == _SPACE:
                if starts[3, line] < 0 and _at(data, at, line_end, pattern):
                    starts[3, line], ends[3, line] = at + len(pattern), line_end
                if _at(data, at, line_end, request):
                    request_at = at + len(request)
                    method_end = request_at
                    while method_end < line_end and data[method_end] != _SPACE:
                        method_end += 1
                    starts[4, line], ends[4, line] = request_at, method_end
                    starts[5, line], ends[5, line] = -1, -1
                    if method_end < line_end:
                        url_end = method_end + 1
                        while url_end < line_end and data[url_end] != _SPACE:
                            url_end += 1
                        starts[5, line], ends[5, line] = method_end + 1, url_end
                    if starts[6, line] >= 0:  # the agent runs to the quote before this request
                        ends[6, line] = at - 1 if data[at - 1] == _QUOTE else -1
                if starts[6, line] < 0 and _at(data, at, line_end, agent):
                    starts[6, line] = at + len(agent)
                word = at + 1
            elif byte == _EQUALS:
                length = at - word
                value = at + 1
                value_end = value
                quoted = value < line_end and data[value] == _QUOTE
                if quoted:
                    value += 1
                    value_end = value
                    while value_end < line_end and data[value_end] != _QUOTE:
                        value_end += 1
                else:
                    while value_end < line_end and data[value_end] != _SPACE:
                        value_end += 1
                if 0 < length <= longest:
                    for slot in range(first_of_length[length], first_of_length[length] + count_of_length[length]):
                        number = key_number[slot]
                        if found[number, line]:
                            continue
                        same = True
                        for b in range(length):
                            if data[word + b] != key_text[key_start[slot] + b]:
                                same = False
                                break
                        if same:
                            found[number, line] = True
                            key_starts[number, line], key_ends[number, line] = value, value_end
                            break
                if quoted:
                    at = value_end  # (its closing quote; then past it)
                word = at + 1
            at += 1


def word_codes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, words: WantedKeys) -> np.ndarray:
    """Per line, which of `words` its span `data[start:end]` is (its place in `words.keys`), -1 where it is none of
    them, -2 where the line has no span (start < 0): compared in the line's own bytes, so that a type or a first
    word is neither cut out nor hashed."""
    codes = np.empty(len(starts), np.int64)
    _word_codes(data, starts, ends, words.text, words.start, words.number, words.first, words.count, codes)
    return codes


@kernel
def _word_codes(data, starts, ends, word_text, word_start, word_number, first_of_length, count_of_length, codes):
    for line in range(len(starts)):
        start = starts[line]
        if start < 0:
            codes[line] = -2
            continue
        codes[line] = -1
        length = ends[line] - start
        if length < 0 or length >= len(first_of_length):
            continue
        for slot in range(first_of_length[length], first_of_length[length] + count_of_length[length]):
            same = True
            for b in range(length):
                if data[start + b] != word_text[word_start[slot] + b]:
                    same = False
                    break
            if same:
                codes[line] = word_number[slot]
                break
