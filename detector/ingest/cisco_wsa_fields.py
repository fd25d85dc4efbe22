"""Cisco WSA access lines cut into their fields on the lines' bytes.

    time.ms elapsed client code/status size method URL user hierarchy/server type ACL-tag <verdicts> agent ...

A split with pyarrow copied every line three times over (at ' <', at spaces, at the verdicts' commas) and
then each field once more. Here the spaces and commas of a slice of lines are found with one numpy
comparison each (a ' <' or '> ' is a space with '<' after it or '>' before it); each field is a (start, end)
place in the lines' own buffer, and only the fields read become strings (byte_spans.spans: Arrow takes
them from the buffer). Lines pushed over syslog keep their prefix up to 'Info: ': their fields are read
from after it (those lines are sought apart, being few).

The reading is the split's, field for field: the Squid-like fields are the text before the first ' <' split
at single spaces (two spaces make an empty field), the verdicts the text after it split at commas (the
first 28 hold no quoted comma), and the user agent follows the first '> ', quoted or up to a space.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import first_bytes, list_item
from detector.ingest.byte_spans import first_at_or_after, spans
from detector.ingest.layout_bytes import line_bytes

FIELDS = 11
# The verdicts read: the URL category (1st) and the AVC application (24th, when a 28th is there and is not
# quoted: the fields then line up as documented).
CATEGORY, APPLICATION, LINED_UP = 0, 23, 27
SPACE, COMMA, LESS, GREATER, QUOTE = (ord(c) for c in " ,<>\"")
SYSLOG_MARK = "Info: "


def wsa_fields(text: pa.Array) -> tuple[pa.Array, list[pa.Array], list[pa.Array], pa.Array]:
    """Whether each line has the access line's shape; its eleven fields (null where missing); the URL category
    and AVC application verdicts (the 1st and, where the fields line up, the 24th); and the user agent (null
    without verdicts)."""
    buffer, data, offsets = line_bytes(text)
    starts, ends = offsets[:-1], offsets[1:]
    body = _body_starts(text, starts)
    low, high = int(offsets[0]), int(offsets[-1])
    window = data[low:high]

    spaces = np.flatnonzero(window == SPACE) + low
    # the first ' <' of each body: a space in the body with '<' after it
    after_space = data[np.minimum(spaces + 1, len(data) - 1)]
    space_open, has_verdicts = first_at_or_after(spaces[after_space == LESS], body, ends - 1)
    verdict_open = space_open + 1
    head_end = np.where(has_verdicts, space_open, ends)
    padded = np.append(spaces, np.full(FIELDS, high))  # so that the 11th space after any place can be read
    first_space = np.searchsorted(spaces, body)
    head_spaces = np.searchsorted(spaces, head_end) - first_space
    count = head_spaces + 1
    fields = []
    for i in range(FIELDS):
        present = head_spaces >= i
        field_start = body if i == 0 else padded[first_space + i - 1] + 1
        field_end = np.where(head_spaces == i, head_end, padded[first_space + i])
        fields.append(spans(buffer, np.where(present, field_start, starts), np.where(present, field_end, starts),
                            present))
    with_slash = pc.and_(pc.match_substring(fields[3], "/"), pc.match_substring(fields[8], "/"))
    shaped = pc.and_(pa.array((count == FIELDS) | (~has_verdicts & (count >= FIELDS))),
                     pc.fill_null(with_slash, False))
    return shaped, fields, _verdicts(buffer, data, window, low, high, verdict_open, has_verdicts, ends), \
        _agents(buffer, data, spaces, body, ends, has_verdicts)


def _body_starts(text: pa.Array, starts: np.ndarray) -> np.ndarray:
    """Where each line's access fields start: after the first 'Info: ' of a line that does not start with a
    digit (an access line starts with its epoch time), else at the line's start."""
    first = first_bytes(text)
    other = ~((first >= ord("0")) & (first <= ord("9")))
    if not other.any():
        return starts
    rows = np.flatnonzero(other)
    at = pc.find_substring(text.take(pa.array(rows)), SYSLOG_MARK).to_numpy(zero_copy_only=False)
    body = starts.copy()
    body[rows] += np.where(at >= 0, at + len(SYSLOG_MARK), 0)
    return body


def _verdicts(buffer: pa.Buffer, data: np.ndarray, window: np.ndarray, low: int, high: int, verdict_open: np.ndarray,
              has_verdicts: np.ndarray, ends: np.ndarray) -> list[pa.Array]:
    """The 1st verdict, and the 24th where the verdicts line up (a 28th there, not starting with a quote)."""
    commas = np.flatnonzero(window == COMMA) + low
    padded = np.append(commas, np.full(LINED_UP + 1, high))
    verdicts_start = np.where(has_verdicts, verdict_open + 1, ends)
    first_comma = np.searchsorted(commas, verdicts_start)
    count = np.searchsorted(commas, ends) - first_comma  # commas after the '<' in the line
    category_end = np.where(count > 0, padded[first_comma], ends)
    after_27 = padded[first_comma + LINED_UP - 1] + 1
    quoted_28th = (after_27 < ends) & (_byte_at(data, after_27) == QUOTE)
    lined_up = has_verdicts & (count >= LINED_UP) & ~quoted_28th
    application_start = np.where(lined_up, padded[first_comma + APPLICATION - 1] + 1, verdicts_start)
    application_end = np.where(lined_up, padded[first_comma + APPLICATION], verdicts_start)
    return [spans(buffer, verdicts_start, category_end, has_verdicts),
            spans(buffer, application_start, application_end, lined_up)]


def _agents(buffer: pa.Buffer, data: np.ndarray, spaces: np.ndarray, body: np.ndarray, ends: np.ndarray,
            has_verdicts: np.ndarray) -> pa.Array:
    """The user agent: after the first '> ' of the body (the verdicts' end), trimmed, then quoted or up to a
    space. Without a '> ': from the body's second character on (as `substr(body, strpos(body, '> ') + 2)`)."""
    close_spaces = spaces[data[spaces - 1] == GREATER]  # (data[-1] for a space at the buffer's start: never in)
    close_space, has_close = first_at_or_after(close_spaces, body + 1, ends)  # its '>' in the body
    lead = _byte_at(data, body)
    second = np.minimum(body + np.select([lead < 0x80, lead < 0xE0, lead < 0xF0], [1, 2, 3], 4), ends)
    start = np.where(has_close, close_space + 1, second)
    after = pc.utf8_trim(spans(buffer, np.where(has_verdicts, start, ends), ends, has_verdicts), " ")
    quoted = pc.starts_with(after, '"')
    return pc.if_else(quoted, _split_part(after, '"', 1), _split_part(after, " ", 0))


def _byte_at(data: np.ndarray, places: np.ndarray) -> np.ndarray:
    """The byte at each place (the last one past the end; 0 when there are none: lines all empty)."""
    return data[np.minimum(places, len(data) - 1)] if len(data) else np.zeros(len(places), np.uint8)


def _split_part(text: pa.Array, mark: str, index: int) -> pa.Array:
    """DuckDB's split_part (0-based here): '' where there are not enough parts, null where `text` is."""
    return pc.if_else(pc.is_valid(text), pc.fill_null(list_item(pc.split_pattern(text, mark, max_splits=index + 1),
                                                                 index), ""), pa.scalar(None, pa.string()))
