"""Cisco WSA access lines cut into their fields on the lines' bytes.

    time.ms elapsed client code/status size method URL user hierarchy/server type ACL-tag <verdicts> agent ...

A compiled kernel (cisco_wsa_scan) reads each line once and writes the places of its eleven fields, of the
URL category and AVC application verdicts and of the user agent; the texts are then copied out of the lines'
buffer, all of a line's at once (spans_scan). Lines pushed over syslog keep their prefix up to 'Info: ', or a
syslog header without it: their fields are read from after it, or from the first epoch time after a space.

The reading is the split's, field for field: the Squid-like fields are the text before the first ' <' split
at single spaces (two spaces make an empty field), the verdicts the text after it split at commas (the
first 28 hold no quoted comma), and the user agent follows the first '> ', quoted or up to a space.

Against the numpy reading it replaced (spaces and commas found with a comparison over every byte, places
worked out with searchsorted, the fields taken by Arrow, the agent read per distinct text after the verdicts):
fields of a 262k-line batch 0.35 -> 0.08 s CPU (see cisco_wsa for the whole parse).
"""

from __future__ import annotations

import pyarrow as pa

from detector.ingest.layout_bytes import line_bytes


def wsa_fields(text: pa.Array) -> tuple[pa.Array, list[pa.Array], list[pa.Array], pa.Array]:
    """Whether each line has the access line's shape; its eleven fields (null where missing); the URL category
    and AVC application verdicts (the 1st and, where the fields line up, the 24th or 25th: see cisco_wsa_scan);
    and the user agent (null without verdicts)."""
    from detector.ingest import cisco_wsa_scan, spans_scan  # loads Numba: only when WSA lines are parsed

    buffer, data, offsets = line_bytes(text)
    starts, ends, present, shaped = cisco_wsa_scan.access_places(data, offsets)
    columns = spans_scan.texts(buffer, starts, ends, present)
    fields = columns[:cisco_wsa_scan.FIELDS]
    verdicts = [columns[cisco_wsa_scan.CATEGORY], columns[cisco_wsa_scan.APPLICATION]]
    return pa.array(shaped), fields, verdicts, columns[cisco_wsa_scan.AGENT]
