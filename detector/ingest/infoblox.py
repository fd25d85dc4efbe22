"""Infoblox NIOS DNS syslog.

NIOS's DNS service is BIND: its syslog mixes BIND's `queries`, `query-errors`, `rpz`, transfer, notify,
update and DNSSEC messages with two of Infoblox's own: response logging (`infoblox-responses:` /
`client IP#PORT: UDP: query: NAME IN TYPE response: RCODE FLAGS ANSWERS;`) and RPZ hits in CEF
(`CEF:0|Infoblox|NIOS|…|RPZ-QNAME|NXDOMAIN|…`). The grammar in bind.py reads all of them (see its
docstring for fields and actions); this format differs in its key, so the lake says where events came
from, and in recognising a file: by Infoblox's own messages, however few lines they are among the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

from detector.ingest import bind
from detector.ingest.base import Format


def sniff(lines: Sequence[str]) -> float:
    """BIND's share of the lines, when Infoblox's own messages show among them; else 0."""
    return bind.bind_share(lines) if bind.has_infoblox_messages(lines) else 0.0


NIOS = Format(
    name="infoblox_nios",
    source_kind="dns",
    summary="Infoblox NIOS DNS syslog: queries, responses with answers, RPZ hits (also CEF)",
    sniff=sniff,
    new_parser=bind.query_parser,
    independent_batches=True,
    fields=(*bind.FIELDS, "dns_rcode", "dns_answers"),
)
