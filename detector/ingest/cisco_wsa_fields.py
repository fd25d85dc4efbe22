"""Cisco WSA access lines cut into their fields on the lines' bytes.

    time.ms elapsed client code/status size method URL user hierarchy/server type ACL-tag <verdicts> agent ...

A split with pyarrow copied every line three times over (at ' <', at spaces, at the verdicts' commas) and
then each field once more. Here the spaces and commas of a slice of lines are found with one numpy
comparison each (a ' <' or '> ' is a space with '<' after it or '>' before it); each field is a (start, end)
place in the lines' own buffer, and only the fields read become strings, all in one take (Arrow takes them
from the buffer). The text after the verdicts (user agent, suspect user agent, anything appended) is read
once per distinct value. Lines pushed over syslog keep their prefix up to 'Info: ': their fields are read
from after it (those lines are sought apart, being few).

The reading is the split's, field for field: the Squid-like fields are the text before the first ' <' split
at single spaces (two spaces make an empty field), the verdicts the text after it split at commas (the
first 28 hold no quoted comma), and the user agent follows the first '> ', quoted or up to a space.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.lib.stride_tricks import sliding_window_view

from detector.ingest.arrow_ops import first_bytes, list_item
from detector.ingest.byte_spans import first_at_or_after, spans
from detector.ingest.layout_bytes import line_bytes

FIELDS = 11
# The verdicts read: the URL category (1st) and the AVC application (24th, when a 28th is there and is not
# quoted: the fields then line up as documented).
CATEGORY, APPLICATION, LINED_UP = 0, 23, 27
SPACE, COMMA, LESS, GREATER, QUOTE = (ord(c) for c in " ,<>\"")
SYSLOG_MARK = "Info: "


def wsa_fields(text: pa.Array) -> tuple[pa.Array, list[pa.Array], list[pa.Array], pa.DictionaryArray]:
    """Whether each line has the access line's shape; its eleven fields (null where missing); the URL category
    and AVC application verdicts (the 1st and, where the fields line up, the 24th); and the user agent (null
    without verdicts; dictionary-encoded: it is read once per distinct text after the verdicts)."""
    buffer, data, offsets = line_bytes(text)
    low = int(offsets[0])
    window = data[low:int(offsets[-1])]  # the lines' bytes: the places below count from its start
    starts, ends = offsets[:-1] - low, offsets[1:] - low
    body = _body_starts(text, starts)

    spaces = np.flatnonzero(window == SPACE)
    # the first ' <' of each body: a space in the body with '<' after it
    space_open, has_verdicts = first_at_or_after(spaces[_byte_at(window, spaces + 1) == LESS], body, ends - 1)
    head_end = np.where(has_verdicts, space_open, ends)
    first_space = np.searchsorted(spaces, body)
    head_spaces = np.searchsorted(spaces, head_end) - first_space
    # (start, end) of each line's fields, then of its URL category and AVC application verdicts
    places = np.empty((len(starts), FIELDS + 2, 2), np.int32)
    _head_places(places, spaces, len(window), body, head_end, first_space)
    lined_up = _verdict_places(places, window, has_verdicts, space_open + 2, ends)
    places += low
    present = np.column_stack([head_spaces[:, None] >= np.arange(FIELDS), has_verdicts, lined_up])
    columns = _span_columns(buffer, places, present)
    fields, verdicts = columns[:FIELDS], columns[FIELDS:]
    count = head_spaces + 1
    with_slash = pc.and_(pc.match_substring(fields[3], "/"), pc.match_substring(fields[8], "/"))
    shaped = pc.and_(pa.array((count == FIELDS) | (~has_verdicts & (count >= FIELDS))),
                     pc.fill_null(with_slash, False))
    return shaped, fields, verdicts, _agents(buffer, window, low, spaces, body, ends, has_verdicts)


def _head_places(places: np.ndarray, spaces: np.ndarray, size: int, body: np.ndarray, head_end: np.ndarray,
                 first_space: np.ndarray) -> None:
    """Each line's eleven fields: field i runs from after the head's i-th space (the body's start for the
    first) to its next space or the head's end (in a longer head, the 11th ends at the 11th space). A field
    the head lacks is an empty place at its end (the places stay in order, as _span_columns needs)."""
    padded = np.append(spaces, np.full(FIELDS, size))  # so that the 11th space after any place can be read
    # the head's first eleven spaces; its end for those it lacks
    space_at = np.minimum(padded[first_space[:, None] + np.arange(FIELDS)], head_end[:, None])
    places[:, 0, 0] = body
    places[:, 1:FIELDS, 0] = np.minimum(space_at[:, :-1] + 1, head_end[:, None])
    places[:, :FIELDS, 1] = space_at


def _verdict_places(places: np.ndarray, window: np.ndarray, has_verdicts: np.ndarray, after_open: np.ndarray,
                    ends: np.ndarray) -> np.ndarray:
    """The 1st verdict's place, and the 24th's where the verdicts line up (a 28th there, not starting with a
    quote; else an empty place after the 1st), which it returns."""
    verdicts_start = np.where(has_verdicts, after_open, ends)
    commas, found = nth_places(window, verdicts_start, ends, COMMA, (1, APPLICATION, APPLICATION + 1, LINED_UP))
    category_end = np.where(found[:, 0], commas[:, 0], ends)
    quoted_28th = (commas[:, 3] + 1 < ends) & (_byte_at(window, commas[:, 3] + 1) == QUOTE)
    lined_up = has_verdicts & found[:, 3] & ~quoted_28th
    places[:, FIELDS, 0], places[:, FIELDS, 1] = verdicts_start, category_end
    places[:, FIELDS + 1, 0] = np.where(lined_up, commas[:, 1] + 1, category_end)
    places[:, FIELDS + 1, 1] = np.where(lined_up, commas[:, 2], category_end)
    return lined_up


def nth_places(window: np.ndarray, starts: np.ndarray, ends: np.ndarray, byte: int, counts: tuple[int, ...],
               width: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Where the n-th `byte` of each [start, end) of `window` is, for each n of `counts` (one row per span, one
    column per n; the span's end where it has none), and whether the span has one.

    Sought in `width` bytes after each start (one row of bytes per span), then, for the spans not settled
    there, in a window four times wider, and so on: numpy's nonzero costs per byte where the byte is frequent
    (the verdicts' commas), so the bytes past the last one wanted (the rest of the verdicts, the user agent)
    are better left unread."""
    places, found = np.zeros((len(starts), len(counts)), np.int64), np.zeros((len(starts), len(counts)), bool)
    wanted = np.array(counts)
    todo = np.arange(len(starts))
    while len(todo):
        start, length = starts[todo], ends[todo] - starts[todo]
        is_byte = _rows_of_bytes(window, start, width) == byte
        short = length < width
        if short.any():
            is_byte[short] &= np.arange(width) < length[short, None]
        hits = np.flatnonzero(is_byte)  # row i's from i * width on
        row_start = np.arange(len(todo) + 1) * width
        first = np.searchsorted(hits, row_start)
        count = np.diff(first)
        has = count[:, None] >= wanted
        hit = hits.take(first[:-1, None] + wanted - 1, mode="clip") if len(hits) else 0
        place = np.where(has, start[:, None] + hit - row_start[:-1, None], (start + length)[:, None])
        settled = (count >= wanted.max()) | (length <= width)
        places[todo[settled]], found[todo[settled]] = place[settled], has[settled]
        todo, width = todo[~settled], width * 4
    return places, found


def _rows_of_bytes(window: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """The `width` bytes of `window` from each start, one row each (zeros past its end)."""
    inside = starts <= len(window) - width
    if inside.all():
        return sliding_window_view(window, width)[starts]
    # the rows that run past the end: read from a copy of the window's last bytes, zeros after them
    tail_start = int(starts[~inside].min())
    tail = np.concatenate([window[tail_start:], np.zeros(width, np.uint8)])
    rows = np.empty((len(starts), width), np.uint8)
    if inside.any():
        rows[inside] = sliding_window_view(window, width)[starts[inside]]
    rows[~inside] = sliding_window_view(tail, width)[starts[~inside] - tail_start]
    return rows


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


def _agents(buffer: pa.Buffer, window: np.ndarray, low: int, spaces: np.ndarray, body: np.ndarray,
            ends: np.ndarray, has_verdicts: np.ndarray) -> pa.DictionaryArray:
    """The user agent: after the first '> ' of the body (the verdicts' end), trimmed, then quoted or up to a
    space. Without a '> ': from the body's second character on (as `substr(body, strpos(body, '> ') + 2)`).
    Read once per distinct text after the '> ' (a few agents and placeholders recur over a log's lines)."""
    # (a space at the window's start reads itself: a line's first byte is no body's second)
    close_spaces = spaces[_byte_at(window, spaces - 1) == GREATER]
    close_space, has_close = first_at_or_after(close_spaces, body + 1, ends)  # its '>' in the body
    lead = _byte_at(window, body)
    second = np.minimum(body + np.select([lead < 0x80, lead < 0xE0, lead < 0xF0], [1, 2, 3], 4), ends)
    start = np.where(has_close, close_space + 1, second)
    tails = pc.dictionary_encode(spans(buffer, np.where(has_verdicts, start, ends) + low, ends + low, has_verdicts))
    after = pc.utf8_trim(tails.dictionary, " ")
    agents = pc.dictionary_encode(pc.if_else(pc.starts_with(after, '"'), _split_part(after, '"', 1),
                                             _split_part(after, " ", 0)))
    return pa.DictionaryArray.from_arrays(agents.indices.take(tails.indices), agents.dictionary)


def _span_columns(buffer: pa.Buffer, places: np.ndarray, present: np.ndarray) -> list[pa.Array]:
    """Column j of the (start, end) places (int32, one row per line; in order along each row and down the lines,
    not overlapping) as text, null where not `present`: as byte_spans.spans, but all columns in one take (each
    a slice of its result). The places and the gaps between them make one string array over the lines' buffer,
    whose places Arrow takes column after column."""
    rows, columns = present.shape
    if not rows:
        return [pa.array([], pa.string()) for _ in range(columns)]
    every = pa.StringArray.from_buffers(places.size - 1, pa.py_buffer(places), buffer)
    picks = 2 * np.arange(rows * columns).reshape(rows, columns).T.ravel()
    missing = ~present.T.ravel()
    taken = pc.take(every, pa.array(picks, mask=missing if missing.any() else None), boundscheck=False)
    return [taken.slice(j * rows, rows) for j in range(columns)]


def _byte_at(data: np.ndarray, places: np.ndarray) -> np.ndarray:
    """The byte at each place (the first or last one before or past the ends; 0 when there are none: lines
    all empty)."""
    return data.take(places, mode="clip") if len(data) else np.zeros(len(places), np.uint8)


def _split_part(text: pa.Array, mark: str, index: int) -> pa.Array:
    """DuckDB's split_part (0-based here): '' where there are not enough parts, null where `text` is."""
    return pc.if_else(pc.is_valid(text), pc.fill_null(list_item(pc.split_pattern(text, mark, max_splits=index + 1),
                                                                 index), ""), pa.scalar(None, pa.string()))
