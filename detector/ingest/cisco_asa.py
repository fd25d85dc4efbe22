"""Cisco ASA and Firepower Threat Defense syslog (`%ASA-6-302014: ...`, `%FTD-...`).

Firepower devices other than FTD (NGIPS: 7000/8000 series, NGIPSv, ASA FirePOWER modules) send the same security
event messages with the `%NGIPS-` prefix (`%NGIPS-1-430003: EventPriority: Low, DeviceUUID: ...`, as Elastic's
cisco_ftd and SEKOIA-IO's Firepower tests show): read as `%FTD-`.

Events, by message ID (layouts from Cisco's "Syslog Messages" guide):
- 302014 / 302016, Teardown TCP / UDP connection: the flow. A connection is counted once, at its end,
  where the log knows its duration. Built (302013 / 302015) is ignored: counting both would count each
  connection twice. The cost: a connection still open when the file ends is counted from the file that
  holds its Teardown; one that never tears down (a reload) is not counted.
  The `bytes N` of a Teardown is the total of both directions: it is neither `bytes_out` nor `bytes_in`,
  so both stay null (a wrong direction would mislead an upload analysis more than a missing number).
  A Teardown does not say who opened the connection. The ASA prints the lower-security side first in
  Built and Teardown alike, and that side is the client for inbound connections and the server for
  outbound ones. So the client is: the side carrying an identity-firewall user `(DOMAIN\\user)`; else
  the side with the higher port (servers listen on the lower one); else, ports being equal, the second
  side (outbound, the usual case: a client inside opening a connection out). A `(user)` ending the message
  (`... bytes 5120 TCP FINs (jdoe)`, "the AAA name of the user" of cut-through proxy authentication) is the
  client's user where its side carries no identity.
- 106100, access-list permitted / est-allowed / denied: an ACL decision, source first.
- 106023, Deny ... by access-group: a blocked packet, source first.
- 304001, Accessed URL / 304002, Access denied URL: URL filtering; the URL may be absolute (a host) or
  only a path (no host).
- 430003 / 430002, Firepower (FTD) connection events, end / beginning (`AccessControlRuleAction: Allow,
  SrcIP: ..., DstIP: ..., DstPort: ..., User: ..., InitiatorBytes: ..., ResponderBytes: ..., URL: ...`, the
  fields of Cisco's "Connection and Security-Related Connection Event Fields"): a connection is counted once,
  at its end, or at its beginning where it was blocked (a blocked connection has no end); an allowed one's
  beginning is ignored. InitiatorBytes are what the client sent (bytes_out), ResponderBytes the reverse; the
  host is the URL's, else ReferencedHost (the HTTP Host header); WebApplication is vendor_app, URLCategory
  vendor_category; Allow, Trust, Monitor and Fastpath are allowed, every Block variant blocked. Read in Arrow
  only: one without SrcIP/DstIP (or with control characters) is rejected.
Every other message ID (NAT, ICMP, VPN, failover, intrusion and file events, ...) is ignored.

Sides: `interface:address`, where the interface's name may carry a prefix with a colon (`v1:outside:10.1.1.1`,
read as interface `v1:outside`; an address with a colon is an IPv6 one). With `names` configured the ASA writes
a name in an address's place (`inside:ws-0142/52011`): a client's name is its `src_host`, a server's is dropped
(no address, and no DNS name either), so that `src_ip` and `dst_ip` only ever hold addresses.

Time: the ASA's own `Mmm dd yyyy HH:MM:SS` (`logging timestamp`), with an optional zone abbreviation
(`EDT`: the common ones are known; others, and none, mean the configured zone); else an ISO 8601 time
(RFC 5424 or rsyslog); else the syslog header's (year-less: placed in a year by `syslog.syslog_time`).

Parsing: a line is cut at its first `%` in place (its text is not copied): the text before it (times and syslog
header: few distinct values) is read once per distinct value (a syslog header's time once per distinct text up to
the line's first `: `); the `%` and the end of the tag after it are found by a compiled pass (cisco_asa_message_scan.
line_marks). Teardown and 106023 messages of the common shape are read by one compiled pass over their bytes
(cisco_asa_message_scan: the fixed words, sides and duration checked and cut in place, as the token reading reads
them). The other messages read token by token have their text after the `%` split at its spaces: each message ID's
tokens are checked against its documented layout (the fixed words, the shape of each field) and read in Arrow.
Firepower connection events are read by their `Key: value` pairs in one compiled pass (cisco_asa_scan). Numba is
loaded for every file (and with it the reader cuts lines by its compiled kernel: at 4M names lines the two cost as
much CPU as they save). A line that does not fit the common layouts exactly (an identity with a space, a tag that is
not at the first `%`, a broken message) is read by the full regular expressions below (`QUERY`), which also say why
a broken one is rejected.

Costs (whole ingest of the benchmark's 1M-line samples, CPU s, November 2026; DuckDB's generic split 1.1-3.0):
basic 2.95 -> 2.67; names 5.8 -> 3.0 (interface prefixes `v1:outside:` had sent 44 % of its lines to `QUERY`);
relayed 3.3 -> 2.9; Firepower 10.0 -> 4.7, peak RSS 1.26 -> 0.77 GB (0.85 GB at 4M lines: per 51k-line batch the
whole-line splits, the items of every key: value list and the header reading's copies of whole lines held 267 MiB of
Arrow memory, now 69). Measured and left: Arrow's find_substring reads a line through, not to the first match (the
`%` of a 600-byte line: 9 ms per 51k lines; a window of the first bytes costs 6); a compiled tokenizer for the other
messages would load Numba (~0.7 s CPU per process) for files whose whole parse costs ~1.8 s; their split into
tokens is ~13 % of the parse.
At 4M lines (CPU s, whole ingest; DuckDB's generic split 4.0-4.2): basic 8.4-8.6 -> 7.0, names 9.8-10.0 -> 8.4,
relayed 8.7-9.1 -> 7.8, Firepower 13.3 -> 11.7 (DuckDB 10.5), peak RSS 0.94 GB, by a null column per batch for
each field no reader gives (the Firepower-only fields), readers chosen once per distinct tag, and each message split
only as far as its reader reads it (TOKENS_READ: most need 5-9 of the 16 tokens). Measured and left
then: the compiled tokenizer, at 4M lines (a Numba pass finding each message's first 15 spaces, tokens cut out
of the lines' buffer where read, fixed words compared in place, the reader's compiled line cutting): names
9.5-10.0 -> 9.7-10.5 s. The pass costs ~4.6 ms per 51k lines against split_pattern's ~11, but a token's bounds
per position are numpy work per call, a cut from the whole batch's buffer costs more than a take from the split's
compact one, and Numba's load (~0.75 s CPU) is paid again per process. One-byte cuts (`_cut`) from the text's
bytes instead of a split and two takes: 0.75 -> 0.69 ms per 17k tokens; an address's `(`, `)` and `:` found in its
bytes at once instead of three substring searches: within noise on a names batch. Too little for their code.
Then the whole reading of Teardown and 106023 messages compiled (cisco_asa_message_scan: not only the tokens, but the
words, sides, duration and users checked and cut in the pass, the fields copied out at once): the parse of 644k names
lines 1.03 -> 0.69-0.71 s, then 0.58-0.60 with the `%` and the tag's end found by a compiled pass too
(line_marks), Numba loaded with the parser. Whole ingest at 4M lines (the benchmark, CPU s shadow-ai / generic
DuckDB; before at load 10-17, after at load ~3): names 10.3 / 4.4 -> 6.3 / 4.6 (ratio 0.73), relayed 10.3 / 4.2 ->
6.1 / 4.4 (0.71), basic 8.5 / 5.8 -> 6.0 / 4.5 (0.75), Firepower 16.1 / 13.0 -> 12.8 / 11.5 (0.90), peak RSS
(Firepower) 808 -> 657 MiB: the reader cuts every batch by its kernel, one chunk a batch, from the first. Numba's
load is now paid by every file, and the reader's compiled line cutting saves as much. Measured and left: 106100 by
the same pass (its reading 13.4 -> 10.5 ms per 18k lines: ~1 % of a names ingest). A Teardown line of the benchmark
costs the pass ~0.5 us, its fields' copy included (loaded machine: the pass's byte loops ~0.3), where its split and
token reading cost ~0.9.
"""

from __future__ import annotations

import threading
from datetime import datetime
from types import ModuleType

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, first_bytes, one_array, only_where
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    line_share,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.byte_spans import spans
from detector.ingest.cisco_asa_layouts import (
    AAA_USER,
    LONGEST_CLOCK,
    Tokens,
    accessed,
    acl,
    connection_event,
    denied_url,
    deny,
    teardown,
    with_control_characters,
)
from detector.ingest.distinct_sql import INTEGER_SQL, in_time_zone, integers, plain, sql_literal, through
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.proxy_columns import is_ip_literal
from detector.ingest.syslog import (
    BSD_TIME,
    ISO_TIME,
    SyslogHeaders,
    may_have_header,
    reference_time,
    syslog_head_parser,
)

_ID = r"%(?:ASA|FTD|NGIPS|FWSM|PIX)-(?:[A-Za-z_]+-)?\d-(\d{6})"

# Zone abbreviations an ASA may print after its time (`clock timezone NAME offset` picks the name, so
# any other name is read in the configured zone). Hours east of UTC.
ZONES = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 1, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2,
    "EET": 2, "EEST": 3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}
_ZONE_CASE = " ".join(f"when '{name}' then {hours}" for name, hours in ZONES.items())

# The ASA's own time stamp (`logging timestamp`): with the year, maybe a zone abbreviation after it.
ASA_TIME = r"([A-Z][a-z]{2} +\d{1,2} \d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?)(?: ([A-Z]{1,5}))?"

PREFIX_BSD_TIME = rf"^(?:<\d{{1,3}}>)?({BSD_TIME}):? "

# A side's address after `interface:`: an IPv6 address (hex digits and two colons at least, maybe a zone), else
# anything without a colon (an IPv4 address, or a name from the ASA's `names`). The interface is read as far as
# that address: `v1:outside:10.1.1.1` (a context's or virtual interface's prefix) is interface `v1:outside`.
ADDRESS = r"[0-9A-Fa-f]*:[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(?:%[^\s/()]+)?|[^:\s/()]+"
_ENDPOINT = rf"(\S+?):({ADDRESS})/(\d+)(?:\(([^)]*)\))?(?: ([^\s()]+))??"
TEARDOWN = rf"^Teardown (TCP|UDP) connection \d+ for {_ENDPOINT} to {_ENDPOINT} duration (\d+):(\d+):(\d+) bytes \d+"
ACL = (
    r"^access-list \S+ (permitted|denied|est-allowed) (\S+) "
    r"[^/\s]+/(\S+?)\((\d+)\)(?:\(([^)]*)\))? -> [^/\s]+/(\S+?)\((\d+)\)"
)
# A side of a 106023 may end in `(idfw_user|FQDN_string, sg_info)`, after a space or not (`/51635(host.lan)`).
DENY = (
    rf"^Deny (?:protocol )?(\S+) src \S+?:({ADDRESS})(?:/(\d+))?(?: ?\(([^,)]*)[^)]*\))? "
    rf"dst \S+?:({ADDRESS})(?:/(\d+))?(?: ?\([^)]*\))?[ ,].*by access-group"
)
# An identity in parentheses: `DOMAIN\user`, maybe followed by `, sg_info` (a TrustSec security group tag
# `number:name`, which alone is no user).
SGT = r"^\d+:"
ACCESSED = r"^(?:(\S+)@)?([^\s(@]+)(?:\(([^)]*)\))? Accessed (?:JAVA )?URL ([^\s:]+):(.*)$"
DENIED_URL = r"^Access denied URL (\S+) SRC ([^\s(]+)(?:\(([^)]*)\))? DEST ([^\s(]+)"

QUERY = rf"""
with tagged as (
    -- Find the tag, then cut the line at it: cheaper than one expression capturing the whole line.
    select line_no, line, ts as header_time, regexp_extract(line, '({_ID}:? ?)', ['tag', 'id']) as m
    from syslog
),
located as (
    select line_no, line, header_time, m.id, m.tag, strpos(line, m.tag) as tag_at from tagged
),
parts as (
    select line_no, header_time, nullif(id, '') as id,
        case when id <> '' then substr(line, tag_at + length(tag)) end as msg,
        left(line, tag_at - 1) as prefix,
        regexp_extract(left(line, tag_at - 1), '{ASA_TIME}', ['t', 'zone']) as asa_time
    from located
),
parsed as (
    select line_no, id, msg, header_time, prefix,
        case
            when asa_time.t <> '' then
                case asa_time.zone {_ZONE_CASE} end
        end as zone_hours,
        coalesce(try_strptime(asa_time.t, '%b %d %Y %H:%M:%S'), try_strptime(asa_time.t, '%b %d %Y %H:%M:%S.%f'))
            as asa_local,
        case when id in ('302014', '302016') then regexp_extract(msg, '{TEARDOWN}',
            ['proto', 'if_a', 'ip_a', 'port_a', 'id_a', 'word_a', 'if_b', 'ip_b', 'port_b', 'id_b', 'word_b',
             'h', 'm', 's']) end as td,
        case when id = '106100' then regexp_extract(msg, '{ACL}',
            ['verdict', 'proto', 'src', 'sport', 'user', 'dst', 'dport']) end as acl,
        case when id = '106023' then regexp_extract(msg, '{DENY}',
            ['proto', 'src', 'sport', 'user', 'dst', 'dport']) end as deny,
        case when id = '304001' then regexp_extract(msg, '{ACCESSED}',
            ['user', 'src', 'identity', 'dst', 'url']) end as acc,
        case when id = '304002' then regexp_extract(msg, '{DENIED_URL}',
            ['url', 'src', 'identity', 'dst']) end as den
    from parts
),
teardown as (
    select *,
        -- An ISO 8601 time only where the ASA's own is missing (a regular expression: dear enough to skip).
        case when asa_local is null then regexp_extract(prefix, '({ISO_TIME})') end as iso_time,
        nullif(coalesce(nullif(case when regexp_matches(td.id_a, '{SGT}') then '' else trim(split_part(td.id_a, ',', 1))
            end, ''), td.word_a), '') as user_a,
        nullif(coalesce(nullif(case when regexp_matches(td.id_b, '{SGT}') then '' else trim(split_part(td.id_b, ',', 1))
            end, ''), td.word_b), '') as user_b,
        try_cast(td.port_a as integer) as port_a,
        try_cast(td.port_b as integer) as port_b,
        -- `... bytes N [reason] [(user)]`: the AAA name of the user, last (cisco_asa_layouts.AAA_USER)
        case when td.proto <> '' then nullif(regexp_extract(msg, '{AAA_USER}', 1), '') end as aaa_user
    from parsed
),
sides as (
    select *,
        case
            when td is null then null
            when user_a is not null and user_b is null then true
            when user_b is not null and user_a is null then false
            else port_a > port_b
        end as client_first
    from teardown
),
unified as (
    select line_no, id, zone_hours, asa_local, iso_time, header_time, prefix,
        case
            when id is null then 'not a Cisco ASA/FTD message (no %ASA-n-NNNNNN)'
            when id in ('302014', '302016') and td.proto = '' then 'Teardown message not in the documented layout'
            when id = '106100' and acl.verdict = '' then '106100 message not in the documented layout'
            when id = '106023' and deny.proto = '' then '106023 message not in the documented layout'
            when id = '304001' and acc.src = '' then '304001 message not in the documented layout'
            when id = '304002' and den.src = '' then '304002 message not in the documented layout'
            -- (a Firepower connection event gets here when it has no SrcIP/DstIP, or control characters)
            when id in ('430002', '430003')
                then 'Firepower connection event without SrcIP and DstIP, or with control characters'
        end as reject_reason,
        id not in ('302014', '302016', '106100', '106023', '304001', '304002') as is_ignored,
        case id
            when '302014' then case when client_first then td.ip_a else td.ip_b end
            when '302016' then case when client_first then td.ip_a else td.ip_b end
            when '106100' then acl.src
            when '106023' then deny.src
            when '304001' then acc.src
            when '304002' then den.src
        end as src_ip,
        case id
            when '302014' then coalesce(case when client_first then user_a else user_b end, aaa_user)
            when '302016' then coalesce(case when client_first then user_a else user_b end, aaa_user)
            when '106100' then nullif(acl.user, '')
            when '106023' then case when not regexp_matches(deny.user, '{SGT}') then nullif(trim(deny.user), '') end
            when '304001' then coalesce(nullif(acc.identity, ''), nullif(acc.user, ''))
            when '304002' then nullif(den.identity, '')
        end as user_name,
        case id
            when '302014' then case when client_first then td.ip_b else td.ip_a end
            when '302016' then case when client_first then td.ip_b else td.ip_a end
            when '106100' then acl.dst
            when '106023' then deny.dst
            when '304001' then acc.dst
            when '304002' then den.dst
        end as dst_ip,
        case id
            when '302014' then case when client_first then port_b else port_a end
            when '302016' then case when client_first then port_b else port_a end
            when '106100' then case when lower(acl.proto) not like 'icmp%' then try_cast(acl.dport as integer) end
            when '106023' then try_cast(nullif(deny.dport, '') as integer)
        end as dst_port,
        lower(coalesce(td.proto, acl.proto, deny.proto)) as protocol,
        case id
            when '302014' then 'allowed' when '302016' then 'allowed' when '304001' then 'allowed'
            when '106023' then 'blocked' when '304002' then 'blocked'
            when '106100' then case acl.verdict when 'denied' then 'blocked' else 'allowed' end
        end as action,
        -- (null where it would not fit in 64 bits: cisco_asa_layouts.LONGEST_CLOCK)
        case when id in ('302014', '302016') and try_cast(td.h as bigint) <= {LONGEST_CLOCK[0]}
                and try_cast(td.m as bigint) <= {LONGEST_CLOCK[1]} and try_cast(td.s as bigint) <= {LONGEST_CLOCK[2]}
            then ((try_cast(td.h as bigint) * 60 + try_cast(td.m as bigint)) * 60 + try_cast(td.s as bigint)) * 1000
        end as duration_ms,
        coalesce(acc.url, den.url) as url
    from sides
),
urls as (
    select *, url_rest(url) as rest from unified
)
select
    line_no, reject_reason, is_ignored and reject_reason is null as is_ignored,
    coalesce(
        case when asa_local is not null then
            case when zone_hours is null then timezone($tz, asa_local)
                 else (asa_local - to_hours(zone_hours))::timestamptz end
        end,
        case
            when iso_time = '' then null
            when regexp_matches(iso_time, '(Z|[+-]\d{{2}}:?\d{{2}})$') then try_cast(iso_time as timestamptz)
            else timezone($tz, try_cast(iso_time as timestamp))
        end,
        header_time,
        -- a relay's `Mmm dd HH:MM:SS host : %ASA-...` (a space before the colon: no syslog header)
        syslog_time(regexp_extract(prefix, '{PREFIX_BSD_TIME}', 1), $tz, $ref)
    ) as ts,
    src_ip, user_name,
    hostport_host(rest_authority(rest)) as host,
    case when hostport_host(rest_authority(rest)) is not null then 'url' else 'none' end as host_source,
    dst_ip, dst_port,
    coalesce(protocol, url_scheme(url)) as network_protocol,
    case when url is not null then coalesce(rest_path(rest), split_part(split_part(url, '?', 1), '#', 1)) end
        as url_path,
    action, duration_ms,
    -- (filled for Firepower connection events only, which are read in Arrow)
    null::integer as http_status, null::bigint as bytes_out, null::bigint as bytes_in, null::varchar as user_agent,
    null::varchar as vendor_app, null::varchar as vendor_category
from urls
"""


# --- Arrow: the common layouts, token by token ------------------------------------------------------------

# The tag after the first `%`, alone in its token (`ASA-6-302014:`): the message follows after one space.
TAG = r"^(?:ASA|FTD|NGIPS|FWSM|PIX)-(?:[A-Za-z_]+-)?\d-(?P<id>\d{6}):?$"
# Message tokens read (the tag is token 0): a Teardown with user words on both sides reaches token 14.
TOKENS = 15
# Firepower (FTD) connection events, beginning and end: read in Arrow only (cisco_asa_layouts.connection_event)
FIREPOWER_IDS = ("430002", "430003")
# The messages read, by ID, and the layout reader of each (cisco_asa_layouts).
READERS = ((("302014", "302016"), teardown), (("106100",), acl), (("106023",), deny), (("304001",), accessed),
           (("304002",), denied_url), (FIREPOWER_IDS, connection_event))
# The readers of Firepower events, which read them by their `Key: value` pairs (the others token by token)
# The tokens each reader reads, by READERS' place: one more than the last position it reads (so that a token
# read is never the unsplit rest), TOKENS where it reads the last token
TOKENS_READ = (TOKENS, 8, 9, 5, 9, 0)
FIREPOWER_READERS = [number for number, (ids, _) in enumerate(READERS) if ids == FIREPOWER_IDS]
# The readers whose messages, where they have the common shape, one compiled pass reads first (cisco_asa_message_scan:
# the function of each); the token reading reads the rest
COMPILED_READERS = {teardown: "teardowns", deny: "denials"}
NOT_ASA = "not a Cisco ASA/FTD message (no %ASA-n-NNNNNN)"
ACTIONS = pa.array(["allowed", "blocked", "unknown"])
HOST_SOURCES = pa.array(["url", "none", "http_host"])

# A year-less syslog time at the start of the text before the tag, where the syslog header reader finds no
# header: `Jul 15 13:18:06 10.1.1.1 : %ASA-...` (a device id, then ` : `, as the ASA writes it after
# `logging device-id`, behind a relay's time), or `Apr 30 09:22:38.340: %ASA-...` (a time and no host).
# Placed in a year as the syslog headers' times are.
PREFIX_BSD_TIME_SQL = rf"""
select syslog_time(regexp_extract(value, '{PREFIX_BSD_TIME}', 1), @TZ@, @REF@) as ts from distinct_values
"""
# The text before the tag -> the ASA's own time (with its zone) or an ISO 8601 time, as QUERY reads them.
PREFIX_TIME_SQL = rf"""
with stamped as (
    select value as prefix, regexp_extract(value, '{ASA_TIME}', ['t', 'zone']) as asa_time from distinct_values
),
local as (
    select prefix,
        case when asa_time.t <> '' then case asa_time.zone {_ZONE_CASE} end end as zone_hours,
        coalesce(try_strptime(asa_time.t, '%b %d %Y %H:%M:%S'), try_strptime(asa_time.t, '%b %d %Y %H:%M:%S.%f'))
            as asa_local
    from stamped
),
iso as (
    select *, case when asa_local is null then regexp_extract(prefix, '({ISO_TIME})') end as iso_time from local
)
select coalesce(
    case when asa_local is not null then
        case when zone_hours is null then timezone(@TZ@, asa_local)
             else (asa_local - to_hours(zone_hours))::timestamptz end
    end,
    case
        when iso_time = '' then null
        when regexp_matches(iso_time, '(Z|[+-]\d{{2}}:?\d{{2}})$') then try_cast(iso_time as timestamptz)
        else timezone(@TZ@, try_cast(iso_time as timestamp))
    end
) as ts
from iso
"""
# A URL (304001 / 304002) -> host, path and scheme, as QUERY reads them.
URL_SQL = """
select hostport_host(rest_authority(rest)) as host, url_scheme(value) as scheme,
    coalesce(rest_path(rest), split_part(split_part(value, '?', 1), '#', 1)) as url_path
from (select value, url_rest(value) as rest from distinct_values)
"""


class AsaQueries:
    """The per-distinct queries of one file's parse, each remembering the values it has seen."""

    def __init__(self, timezone: str, reference: datetime) -> None:
        self.time = DistinctQuery(in_time_zone(PREFIX_TIME_SQL, timezone))
        self.bsd_time = DistinctQuery(in_time_zone(PREFIX_BSD_TIME_SQL, timezone).replace(
            "@REF@", f"{sql_literal(reference.isoformat(sep=' '))}::timestamp"))
        self.url = DistinctQuery(URL_SQL)
        self.integer = DistinctQuery(INTEGER_SQL)
        self.hostport = DistinctQuery("select hostport_host(value) as host from distinct_values")
        self.header_time = HeaderTimes(SyslogHeaders(timezone, reference))


class HeaderTimes(DistinctQuery):
    """Syslog header times (`ts`) of texts that hold a header whole (see `_header_times`), each text's read once
    per file."""

    def __init__(self, headers: SyslogHeaders) -> None:
        super().__init__("")
        self.headers = headers

    def run(self, connection: duckdb.DuckDBPyConnection, values: pa.Array) -> pa.Table:
        lines = pa.table({"line_no": pa.array(np.arange(len(values)), pa.int64()), "line": values})
        return pa.table({"ts": self.headers.read(connection, lines).column("ts").combine_chunks()})


def asa_parser(context: ParseContext) -> BatchParser:
    by_regex = syslog_head_parser(QUERY)(context)  # defines the syslog macros
    _message_scan()  # (Numba loaded before the reading starts: the reader then cuts lines by its kernel too)
    reference = reference_time(context.path, context.timezone)
    headers = SyslogHeaders(context.timezone, reference)
    queries = AsaQueries(context.timezone, reference)

    def parse(lines: pa.Table) -> ParseResult:
        with parse_cursor(context.connection) as cursor:
            columns, unsure = _columns(cursor, headers, queries, lines)
        if not unsure.any():
            return _with_names(split_outcomes(columns, lines))
        return _with_names(_merged(split_outcomes(columns.filter(pa.array(~unsure)), lines),
                                   by_regex(lines.filter(unsure))))

    return parse


def _with_names(result: ParseResult) -> ParseResult:
    """Names in an address's place (the ASA's `names`: `name 10.20.3.14 ws-0142` makes it log `inside:ws-0142/
    52011`) are no addresses: a client's name is its `src_host`, a server's is dropped (an administrator's label of
    an address, no DNS name; 304001's URL keeps the host). Only values starting with a letter are looked at (an
    IPv4 address starts with a digit; an IPv6 one that starts with a letter has a colon)."""
    events = result.events
    src_host = pa.nulls(events.num_rows, pa.string())
    for name in ("src_ip", "dst_ip"):
        values = plain(events.column(name).combine_chunks())
        rows = np.flatnonzero(first_bytes(values) >= ord("A"))
        if not len(rows):
            continue
        literal = pc.fill_null(is_ip_literal(values.take(pa.array(rows))), True).to_numpy(zero_copy_only=False)
        if literal.all():
            continue
        named = np.zeros(len(values), bool)
        named[rows[~literal]] = True
        is_named = pa.array(named)
        if name == "src_ip":
            src_host = pc.utf8_lower(only_where(values, is_named)).cast(pa.string())
        events = events.set_column(events.column_names.index(name), name,
                                   only_where(values, pc.invert(is_named)))
    return ParseResult(events=events.append_column("src_host", src_host), rejects=result.rejects,
                       ignored=result.ignored)


def _columns(cursor: duckdb.DuckDBPyConnection, headers: SyslogHeaders, queries: AsaQueries, lines: pa.Table
             ) -> tuple[pa.Table, np.ndarray]:
    """ASA lines -> schema columns plus reject_reason / is_ignored, and the lines left to QUERY."""
    line = one_array(lines.column("line"))
    # The line cut at its first `%` where it is read (its text is not copied whole: a Firepower event's 600 bytes
    # are read in place by cisco_asa_scan): the text before it, the tag (the text after it up to a space), and
    # the text after it split into tokens only for the messages read token by token.
    data, starts, ends = _bytes(line)
    percent, tag_end = _message_scan().line_marks(data, starts, ends)
    no_percent = percent < 0
    cut = np.where(no_percent, ends, percent)
    prefix = spans(data, starts, cut)
    tag = pc.dictionary_encode(spans(data, np.where(no_percent, ends, cut + 1), tag_end))
    # Each distinct tag's message ID, and the reader of each (READERS' place; -1: none), looked up once per tag
    tag_id = pc.struct_field(pc.extract_regex(tag.dictionary, TAG), "id")
    reader_of_tag = np.full(len(tag_id), -1)
    for number, (ids, _) in enumerate(READERS):
        reader_of_tag[pc.fill_null(pc.is_in(tag_id, value_set=pa.array(ids)), False).to_numpy(
            zero_copy_only=False)] = number
    # (a null tag: a line without a `%`, read by neither)
    tag_of_row = np.where(pc.is_valid(tag.indices).to_numpy(zero_copy_only=False),
                          pc.fill_null(tag.indices, 0).to_numpy(zero_copy_only=False), len(tag_id))
    reader_of_row = np.append(reader_of_tag, -1)[tag_of_row]
    with_id = np.append(pc.is_valid(tag_id).to_numpy(zero_copy_only=False), False)[tag_of_row]
    # a `%` not before a tag; control characters (tabs: the documented expressions' \s and \S tell them apart)
    unsure = (~no_percent & ~with_id) | with_control_characters(line)
    fields: dict[str, list[pa.Array | None]] = {name: [] for name in _TYPES}
    order = []
    for number, (_, read) in enumerate(READERS):
        rows = np.flatnonzero(reader_of_row == number)
        if not len(rows):
            continue
        if read in COMPILED_READERS:  # the common shapes read by one compiled pass, the others token by token
            ok, found = getattr(_message_scan(), COMPILED_READERS[read])(data, cut[rows] + 1, ends[rows])
            if ok.any():
                order.append(rows[ok])
                for name, values in fields.items():
                    column = found.get(name)
                    values.append(None if column is None else column.cast(_TYPES[name]))
            rows = rows[~ok]
            if not len(rows):
                continue
        # (each message's text after the `%` split as far as its reader reads it: TOKENS_READ)
        split = rows if number not in FIREPOWER_READERS else rows[:0]
        rest = spans(data, cut[split] + 1, ends[split])
        lists = pc.split_pattern(rest, " ", max_splits=TOKENS_READ[number])
        place = np.arange(len(rows)) if len(split) else np.full(len(rows), -1)
        found, fits = read(Tokens(lists, place, rest, line, rows, tag.take(pa.array(rows)).dictionary_decode()))
        unsure[rows[~fits]] = True
        # (a reader may leave lines that fit out of the events: a Firepower connection's beginning)
        kept = fits & found.pop("keep").to_numpy(zero_copy_only=False) if "keep" in found else fits
        order.append(rows[kept])
        for name, values in fields.items():
            column = found.get(name)
            values.append(None if column is None else column.filter(pa.array(kept)).cast(_TYPES[name]))
    event = np.zeros(len(line), bool)
    place = np.full(len(line), -1)
    if order:
        rows = np.concatenate(order)
        event[rows], place[rows] = True, np.arange(len(rows))
    at = pa.array(place, mask=place < 0)
    # (a field no reader gave is null throughout: no nulls made per reader, gathered and taken)
    column = {name: pa.concat_arrays([pa.nulls(len(part), _TYPES[name]) if value is None else value
                                      for part, value in zip(order, values, strict=True)]).take(at)
              if any(value is not None for value in values) else pa.nulls(len(line), _TYPES[name])
              for name, values in fields.items()}
    place_of_url = through(cursor, queries.url, pc.dictionary_encode(column["url"]))
    ts = through(cursor, queries.time, pc.dictionary_encode(only_where(prefix, pa.array(event))))["ts"]
    untimed = event & ~pc.is_valid(ts).to_numpy(zero_copy_only=False)
    if untimed.any():  # no time before the tag: the syslog header's
        ts = pc.replace_with_mask(ts, pa.array(untimed), _header_times(cursor, headers, queries.header_time, lines,
                                                                       untimed, prefix, tag.dictionary_decode())
                                  .cast(ts.type))
        untimed &= ~pc.is_valid(ts).to_numpy(zero_copy_only=False)
        if untimed.any():  # no header either: a year-less time at the start (`Jul 15 13:18:06 host : %ASA-`)
            ts = pc.replace_with_mask(ts, pa.array(untimed), plain(through(
                cursor, queries.bsd_time, pc.dictionary_encode(prefix.filter(pa.array(untimed))))["ts"]).cast(ts.type))
    blocked = pc.fill_null(column["blocked"], False).to_numpy(zero_copy_only=False)
    undecided = ~pc.fill_null(column["decided"], True).to_numpy(zero_copy_only=False)
    url_host = place_of_url["host"]
    from_url = pc.is_valid(url_host).to_numpy(zero_copy_only=False)
    host = url_host
    if pc.any(pc.is_valid(column["referenced_host"])).as_py():  # a Firepower connection's HTTP Host header
        referenced = through(cursor, queries.hostport, pc.dictionary_encode(column["referenced_host"]))["host"]
        host = pc.coalesce(plain(url_host), plain(referenced))
    has_host = pc.is_valid(host).to_numpy(zero_copy_only=False)
    table = pa.table({
        "line_no": lines.column("line_no"),
        "reject_reason": pa.array(np.where(no_percent, NOT_ASA, None), pa.string()) if no_percent.any()
        else pa.nulls(len(line), pa.string()),
        "is_ignored": pa.array(~no_percent & ~unsure & ~event),
        "ts": ts,
        "src_ip": column["src_ip"],
        "user_name": column["user_name"],
        "host": host,
        "host_source": pa.DictionaryArray.from_arrays(
            pa.array(np.where(from_url, 0, np.where(has_host, 2, 1)), pa.int32()), HOST_SOURCES),
        "dst_ip": column["dst_ip"],
        "dst_port": integers(cursor, queries.integer, column["dst_port"], pa.int32()),
        "network_protocol": pc.coalesce(_lower(column["protocol"]), plain(place_of_url["scheme"])),
        "url_path": place_of_url["url_path"],
        "http_status": column["status"],
        "action": pa.DictionaryArray.from_arrays(pa.array(np.where(undecided & ~blocked, 2, blocked).astype(np.int32)),
                                                 ACTIONS),
        "bytes_out": column["sent"],
        "bytes_in": column["received"],
        "duration_ms": column["duration"],
        "user_agent": column["agent"],
        "vendor_app": column["app"],
        "vendor_category": column["category"],
    })
    return table, unsure


_SCAN_LOADING = threading.Lock()


def _message_scan() -> ModuleType:
    """The compiled pass over Teardown and 106023 messages, imported when first needed (one parse thread at a time:
    see compiled.py)."""
    with _SCAN_LOADING:
        from detector.ingest import cisco_asa_message_scan
    return cisco_asa_message_scan


def _bytes(line: pa.Array) -> tuple[pa.Buffer, np.ndarray, np.ndarray]:
    """A string array's data buffer and where each row starts and ends in it (its own buffers: no copy)."""
    data, _, offsets = line_bytes(line)
    return data, offsets[:-1], offsets[1:]


def _header_times(cursor: duckdb.DuckDBPyConnection, headers: SyslogHeaders, header_time: HeaderTimes,
                  lines: pa.Table, rows: np.ndarray, prefix: pa.Array, tag: pa.Array) -> pa.Array:
    """The syslog header's time of the lines at `rows`, read once per distinct text up to a line's first `: `
    where that text holds the header whole, the others' from their whole line. `SyslogHeaders` reads a header once
    per distinct text before a line's first `: ` where the line may have a header (`may_have_header`), that text has
    5 characters at least, and the line does not start as RFC 5424: such a line and its text up to its first `: `
    (7 characters at least, starting as the line does) read alike (compared in tests/test_ingest_cisco_asa.py).
    The text is the header and the tag, as a relay writes them (`<166>Nov 18 09:10:00 asa %ASA-6-302014: `), or
    less (`<113>Nov 18 09:00:05 ftd : `). `prefix` and `tag` are the text before each line's first `%` and the
    text after it up to a space: the first `: ` is in the one, else at the other's end where it ends in a colon
    before a space (a tag has no space), else further on."""
    line = one_array(lines.column("line"))
    data, starts, ends = _bytes(line)
    chosen = np.flatnonzero(rows)
    before = prefix.take(pa.array(chosen))
    colon = pc.fill_null(pc.find_substring(before, ": "), -1).to_numpy(zero_copy_only=False)
    if (colon < 0).any():
        chosen_tag = tag.take(pa.array(chosen))
        tag_colon = (pc.binary_length(before).to_numpy(zero_copy_only=False)
                     + pc.binary_length(chosen_tag).to_numpy(zero_copy_only=False))  # (after the `%`: the tag's end)
        at_tag = (colon < 0) & pc.fill_null(pc.ends_with(chosen_tag, ":"), False).to_numpy(zero_copy_only=False) \
            & (starts[chosen] + tag_colon + 1 < ends[chosen])
        colon = np.where(at_tag, tag_colon, colon)
        further = np.flatnonzero((colon < 0) & ~at_tag)
        if len(further):
            colon[further] = pc.fill_null(pc.find_substring(line.take(pa.array(chosen[further])), ": "), -1).to_numpy(
                zero_copy_only=False)
    has_colon = colon >= 0
    before = pc.dictionary_encode(spans(data, starts[chosen], starts[chosen] + np.where(has_colon, colon + 2, 0)))
    distinct = before.dictionary.cast(pa.string())
    whole = (may_have_header(distinct) & (pc.utf8_length(distinct).to_numpy(zero_copy_only=False) >= 7)
             & ~pc.match_substring_regex(distinct, RFC5424_START).to_numpy(zero_copy_only=False))
    indices = before.indices.to_numpy(zero_copy_only=False)
    by_text = whole[indices] & has_colon
    times = pa.nulls(len(indices), pa.timestamp("us", "UTC"))
    if by_text.any():
        read = header_time.results_for(cursor, distinct.filter(pa.array(whole)))
        place = np.cumsum(whole) - 1
        times = read.column("ts").combine_chunks().cast(times.type).take(pa.array(place[indices], mask=~by_text))
    if not by_text.all():
        times = pc.replace_with_mask(times, pa.array(~by_text), headers.read(
            cursor, lines.take(pa.array(chosen[~by_text]))).column("ts").combine_chunks().cast(times.type))
    return times


# RFC 5424's start, as syslog reads it (`<PRI>1 `): such a line's header is not the text before its first `: `
RFC5424_START = r"^<[^>]{1,3}>1 "

_TYPES = {"src_ip": pa.string(), "user_name": pa.string(), "dst_ip": pa.string(), "dst_port": pa.string(),
          "protocol": pa.string(), "duration": pa.int64(), "url": pa.string(), "blocked": pa.bool_(),
          # (Firepower connection events only)
          "decided": pa.bool_(), "referenced_host": pa.string(), "status": pa.int32(), "sent": pa.int64(),
          "received": pa.int64(), "agent": pa.string(), "app": pa.string(), "category": pa.string()}


def _lower(values: pa.Array) -> pa.Array:
    """Lower case, once per distinct value."""
    encoded = pc.dictionary_encode(values)
    return pa.DictionaryArray.from_arrays(encoded.indices, pc.utf8_lower(encoded.dictionary)).dictionary_decode()


def _merged(read: ParseResult, by_regex: ParseResult) -> ParseResult:
    """The outcomes of the lines read in Arrow and of those read by QUERY, events in line order."""
    events = read.events
    if by_regex.events.num_rows:
        columns = {name: plain(events.column(name).combine_chunks()) for name in events.column_names}
        other = by_regex.events
        combined = pa.concat_tables([pa.table(columns), pa.table(
            {name: other.column(name).cast(columns[name].type) for name in columns})])
        events = combined.take(pc.sort_indices(combined.column("line_no")))
    rejects = pa.concat_tables([read.rejects, by_regex.rejects])
    rejects = rejects.take(pc.sort_indices(rejects.column("line_no")))
    return ParseResult(events=events, rejects=rejects, ignored=read.ignored + by_regex.ignored)


SYSLOG = Format(
    name="cisco_asa",
    source_kind="firewall",
    summary="Cisco ASA / FTD syslog: connection teardowns, ACL decisions, URL filtering, Firepower connection events",
    sniff=line_share(r"^.*?%(?:ASA|FTD|NGIPS|FWSM|PIX)-(?:[A-Za-z_]+-)?\d-\d{6}\b"),
    new_parser=asa_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "src_host", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
        "url_path", "http_status", "action", "bytes_out", "bytes_in", "duration_ms", "user_agent", "vendor_app",
        "vendor_category",
    ),
)
