"""BIND 9 (named) query logs, through syslog or BIND's own log channel.

A line is `[syslog header] [print-time] [category: ] [severity: ] message`, where print-time is BIND's
`dd-Mon-YYYY HH:MM:SS.mmm` (local) or, from 9.16, ISO 8601. The messages that are DNS lookups:
- `queries`: `client [@0x…] IP#PORT[/key KEY] [(NAME)]: [view V: ]query: NAME CLASS TYPE FLAGS [(SERVER)]
  [[ECS ADDRESS/SOURCE/SCOPE]]` (FLAGS: `+` recursion desired, `E(0)` EDNS, `T` TCP, `D` DO, `C` CD, `S`
  signed, `K`/`V` cookie; `/key KEY` names a TSIG key that signed the request; the ECS part is a
  CLIENT-SUBNET option the query carried).
  A view's name may hold spaces (`view Recursion View: `): it ends at the first word ending in ':'.
  It is logged when the query arrives, before any policy applies: action `unknown`. AXFR/IXFR
  requests are zone transfers between servers, not lookups: ignored.
- `security`: `client … : query [(cache)] ['NAME/TYPE/CLASS'] denied [(reason)]`: action `blocked`.
  Old releases leave out the name; the event then has no host.
- `rpz`: `client … : [disabled ]rpz QNAME|IP|NSDNAME|NSIP|CLIENT-IP POLICY rewrite NAME[/TYPE/CLASS| [TYPE]]
  via TRIGGER`: `blocked`, except the PASSTHRU policy and `disabled` (log-only) rules: `allowed`.
- Infoblox NIOS additions (same daemon, same grammar; `infoblox_nios` sniffs them): response logging
  `client IP#PORT: [view V: ]UDP: query: NAME CLASS TYPE response: RCODE FLAGS [NAME TTL CLASS TYPE DATA; …]`
  (answers: A/AAAA addresses and CNAME targets; REFUSED, or answers that are all 0.0.0.0/::, a sinkhole,
  are `blocked`), and RPZ hits as CEF (`CEF:0|Infoblox|NIOS|…|RPZ-…|POLICY|…|src=… msg="rpz … rewrite NAME …"`).
Everything else named logs (query-errors, zone transfers, notifies, updates, DNSSEC, RPZ reloads, Infoblox
query rewrites) is not a lookup by a client and is counted as ignored; so are other programs' lines
in a shared syslog file. A `query-errors` line repeats a query that also has its `queries` line.
Lines with neither a syslog header nor a BIND time are rejected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from detector.ingest.arrow_ops import one_array
from detector.ingest.base import BatchParser, Format, ParseContext, ParseResult, parse_cursor, split_outcomes
from detector.ingest.bind_tokens import Queries, read_columns
from detector.ingest.syslog import SyslogHeaders, define_head_macros, may_have_header, program_of, reference_time


def query_parser(context: ParseContext) -> BatchParser:
    """The lines with their syslog headers (each distinct header read once, see syslog.py), read in Arrow
    (bind_tokens.py)."""
    define_head_macros(context.connection)
    headers = SyslogHeaders(context.timezone, reference_time(context.path, context.timezone))
    queries = Queries(context.timezone)

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            if may_have_header(one_array(lines.column("line"))).any():
                syslog = headers.read(cursor, lines)
            else:  # BIND's own log file: no syslog header (and no message after one) to read
                syslog = lines.append_column("header_ts", pa.DictionaryArray.from_arrays(
                    pa.array(np.zeros(lines.num_rows, np.int32)), pa.array([""]))).append_column(
                    "ts", pa.nulls(lines.num_rows, pa.timestamp("us", "UTC")))
            return split_outcomes(read_columns(cursor, queries, syslog), lines)

    return parse


_BIND_TIME = re.compile(r"^\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}")
_BIND_CLIENT = re.compile(r"client (?:@0x[0-9a-fA-F]+ )?\S+#\d+")
# Infoblox's documented response line has no ':' after the client's address (`client IP#PORT UDP: query: …`);
# behind a view, `view V: UDP: query: …`
_INFOBLOX = re.compile(r"infoblox-responses: |CEF:\d+\|Infoblox\||[: ](?:UDP|TCP): query: \S+ \S+ \S+ response: ")


def bind_share(lines: Sequence[str]) -> float:
    """Share of lines written by named: its syslog tag, BIND's own time stamp, or a `client IP#port` message."""
    if not lines:
        return 0.0
    hits = sum(
        1 for line in lines if program_of(line) == "named" or _BIND_TIME.match(line) or _BIND_CLIENT.search(line)
    )
    return hits / len(lines)


def has_infoblox_messages(lines: Sequence[str]) -> bool:
    """Whether the lines hold messages only Infoblox NIOS writes (response logging, CEF RPZ hits)."""
    return any(_INFOBLOX.search(line) for line in lines)


def sniff(lines: Sequence[str]) -> float:
    """BIND's share, halved for files that Infoblox's own messages mark as NIOS (its format wins them)."""
    share = bind_share(lines)
    return share / 2 if has_infoblox_messages(lines) else share


FIELDS = (
    "ts", "src_ip", "host", "host_source", "dst_ip", "network_protocol", "dns_qtype", "action",
)

QUERY_LOG = Format(
    name="bind_query",
    source_kind="dns",
    summary="BIND 9 named query log (queries, denied queries, RPZ rewrites), syslog or its own file",
    sniff=sniff,
    new_parser=query_parser,
    independent_batches=True,
    fields=FIELDS,
)
