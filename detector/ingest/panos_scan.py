"""Where PAN-OS CSV fields are in each line: one compiled pass over the line's bytes, up to the last field read.

The rules (PAN-OS writes its syslog payload as CSV, a field with a comma or a quote in double quotes, a quote
in it doubled): a comma separates fields unless an odd number of quote marks precede it in the line (it is
then inside a quoted field: `""` counts twice, so it changes nothing). The syslog header before the record has
no comma of its own, so the line's first field is the header and the record's FUTURE_USE, and field N of the
line is field N of the record.

The kernel reads each line once, up to the comma after the last field wanted, and writes each wanted field's
(start, end) in the lines' buffer (spans_scan.texts then copies the texts out).
"""

from __future__ import annotations

import numpy as np

from detector.ingest.compiled import kernel

_QUOTE, _COMMA = ord('"'), ord(",")


class FieldSpans:
    """Wanted fields' places in a batch's lines: `starts` / `ends` (one row per wanted field, one column per
    line; a field the line lacks is an empty place at the line's end) and `counts`, how many fields each line
    has as far as the field after the last wanted one (then the rest of the line counts as one field more)."""

    def __init__(self, starts: np.ndarray, ends: np.ndarray, counts: np.ndarray) -> None:
        self.starts, self.ends, self.counts = starts, ends, counts


def field_spans(data: np.ndarray, begins: np.ndarray, ends: np.ndarray, wanted: tuple[int, ...],
                first_field: int = 0) -> FieldSpans:
    """The places of fields `wanted` (increasing positions) in the texts data[begins[i]:ends[i]], whose first
    field is number `first_field` (`first_field` <= wanted[0])."""
    slot = np.full(wanted[-1] + 1, -1, np.int64)
    slot[list(wanted)] = np.arange(len(wanted))
    starts = np.empty((len(wanted), len(begins)), np.int32)
    stops = np.empty((len(wanted), len(begins)), np.int32)
    counts = np.empty(len(begins), np.int64)
    _field_spans(data, begins.astype(np.int64, copy=False), ends.astype(np.int64, copy=False), first_field, slot,
                 starts, stops, counts)
    return FieldSpans(starts, stops, counts)


@kernel
def _field_spans(data, begins, ends, first_field, slot, starts, stops, counts):
    last = len(slot) - 1  # the last field wanted: the line is read up to the comma after it (field <= last)
    for line in range(len(begins)):
        begin, end = begins[line], ends[line]
        field, field_start, quoted, found = first_field, begin, False, 0
        at = begin
        while at < end:
            byte = data[at]
            if byte == _COMMA and not quoted:
                if slot[field] >= 0:
                    starts[found, line], stops[found, line] = field_start, at
                    found += 1
                if field == last:
                    break
                field += 1
                field_start = at + 1
            elif byte == _QUOTE:
                quoted = not quoted
            at += 1
        if at == end:  # the line's last field ends with it
            if slot[field] >= 0:
                starts[found, line], stops[found, line] = field_start, at
                found += 1
            counts[line] = field - first_field + 1
        else:  # the fields read, and the rest of the line after the last one's comma
            counts[line] = field - first_field + 2
        for column in range(found, starts.shape[0]):  # the fields the line lacks: empty, at its end
            starts[column, line] = stops[column, line] = end
