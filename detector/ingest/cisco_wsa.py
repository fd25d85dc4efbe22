"""Cisco Web Security Appliance (WSA / Secure Web Appliance) native access log.

Squid-like, then Cisco's policy fields (AsyncOS user guide, "Access Log Files"):
    time.ms elapsed client code/status size method URL user hierarchy/server type ACL-tag <verdicts> ...
The ACL decision tag (`DEFAULT_CASE_12-Policy-Identity-...`, `BLOCK_WEBCAT_12-...`) says what the
proxy decided; the `<IW_comp,6.9,...>` scanning verdicts and anything the administrator appended follow.
Of the verdicts, the first is the URL category's code (`IW_comp`, `IW_aiml`: vendor_category) and the
application the AVC engine recognised (vendor_app; "Unknown" when none): the 24th as AsyncOS 7.5-9 document the
verdicts (28 before the average bandwidth), the 25th in later versions' logs, which add the category's full name
as the 23rd (29 before the bandwidth).
`size` is what the proxy sent to the client; the default format has no request size, so `bytes_out`
stays null. The user is `-` or a quoted `"DOMAIN\\user@realm"`. Tunnels log as CONNECT/TCP_CONNECT with
`tunnel://host:443/` or `host:port` (an address when the client was redirected transparently; the
hierarchy field then often names the server). Lines pushed over syslog keep their `... Info: ` prefix, or
only a syslog header, with or without a tag (`<13>Mar 13 09:15:20 wsa01 1773389720.010 ...`): the line is then
read from its epoch time;
the appliance's own `Info: Begin Logfile` / `Version:` / `Time offset from UTC:` lines are ignored.

Parsing: a compiled kernel (cisco_wsa_scan, Numba) cuts each line into its fields in one pass over its bytes
(cisco_wsa_fields); each field's distinct values then go through the macros once per slice of SLICE_LINES.
Against the numpy cutting it replaced (and slices of 16,384): parse CPU per 262k-line batch 0.517 -> 0.36 s
(fields alone 0.35 -> 0.18); loading Numba and the cached kernels costs ~0.5-0.7 s CPU and ~200 MiB of peak
RSS once per process, so the kernel pays from about a million lines on (4M-line file: 13.2 -> 10.9 s CPU).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, per_distinct
from detector.ingest.auth_challenge import challenge_sql
from detector.ingest.base import BatchParser, Format, ParseContext
from detector.ingest.cisco_wsa_fields import wsa_fields
from detector.ingest.distinct_sql import BIGINT_SQL, integers, sliced_parser
from detector.ingest.proxy_columns import (
    EPOCH_SQL,
    UrlQueries,
    bools,
    constant_text,
    epoch_times,
    first_reasons,
    first_valid,
    is_ip_literal,
    line_text,
    url_columns,
    where,
)
from detector.ingest.squid import DASH_SQL, HOST_SOURCES, PROXY_MACROS

# ACL decision tags: BLOCK_*/DROP_* refuse, the NO_* tags are failed authentication (but a 407, the challenge
# for credentials, is no verdict: CODE_STATUS_SQL), REDIRECT_* sends
# the client elsewhere; ALLOW_*, DEFAULT_CASE, MONITOR_*, PASSTHRU_*, DECRYPT_* let it through. Any
# other tag (OTHER, NONE, -) leaves the decision to the Squid-style result code.
WSA_MACROS = r"""
create or replace macro wsa_acl_action(tag, code) as case
    when upper(code) like '%DENIED%' then 'blocked'
    when regexp_matches(upper(tag), '^(BLOCK_|DROP_|REDIRECT_|NO_PASSWORD|NO_AUTHORIZATION)') then 'blocked'
    when regexp_matches(upper(tag), '^(ALLOW_|DEFAULT_CASE|MONITOR_|PASSTHRU_|DECRYPT_|SAAS_AUTH)') then 'allowed'
    else squid_result_action(code)
end;
"""

# Each line is cut into its fields on its bytes by a compiled kernel (cisco_wsa_fields); each field's
# distinct values go through the macros once.
SHAPE_REASON = ("not a Cisco WSA access log line: expected time elapsed client code/status size method URL user "
                "hierarchy/server type ACL-tag")
# the appliance's own status lines, written with a ctime stamp or pushed over syslog
STATUS_LINE = r"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} [A-Za-z]+: "
STATUS_MESSAGE = r"(Info|Warning): (Begin Logfile|End Logfile|Logfile rolled over|Version: |Time offset from UTC: )"
# A TCP_DENIED/407 (with the NO_PASSWORD tag) is the proxy asking for credentials, which the browser then sends
# (NTLM/Negotiate start every connection so): no verdict on the site, its action is unknown whatever the tag says;
# so is a TCP_DENIED/401, the proxy's own challenge when it authenticates transparently (auth_challenge).
CODE_STATUS_SQL = f"""
select case when {challenge_sql("try_cast(status_text as integer)", "code")} then 'unknown'
        when code like '%DENIED%' then 'blocked' end as verdict,
    squid_result_action(code) as result_action,
    nullif(try_cast(status_text as integer), 0) as http_status, try_cast(status_text as integer) is not null as valid
from (select upper(split_part(value, '/', 1)) as code, split_part(value, '/', 2) as status_text from distinct_values)
"""
# the ACL decision tag's verdict (null: the result code decides), as wsa_acl_action reads it
ACL_SQL = r"""
select case
    when regexp_matches(upper(tag), '^(BLOCK_|DROP_|REDIRECT_|NO_PASSWORD|NO_AUTHORIZATION)') then 'blocked'
    when regexp_matches(upper(tag), '^(ALLOW_|DEFAULT_CASE|MONITOR_|PASSTHRU_|DECRYPT_|SAAS_AUTH)') then 'allowed'
end as action
from (select regexp_replace(split_part(value, '-', 1), '_\d+$', '') as tag from distinct_values)
"""
METHOD_SQL = """
select case upper(value) when 'NONE' then null when '-' then null when 'TCP_CONNECT' then 'CONNECT'
        else upper(value) end as http_method, upper(value) in ('CONNECT', 'TCP_CONNECT') as is_connect
from distinct_values
"""
HIERARCHY_SQL = """
select upper(split_part(value, '/', 1)) = 'DIRECT' as direct,
    case when split_part(value, '/', 2) not in ('', '-') then hostport_host(split_part(value, '/', 2)) end
        as server_host
from distinct_values
"""
USER_SQL = "select null_if_dash(unquote(value)) as value from distinct_values"
CATEGORY_SQL = "select nullif(replace(value, '\"', ''), '-') as value from distinct_values"
APP_SQL = """
select case when value not in ('"-"', '"Unknown"', '-') then trim(value, '"') end as value from distinct_values
"""
# Lines parsed at a time. The kernel's places and the fields' texts take ~150 bytes a line, and the
# per-distinct queries run once per slice: per 131k-line batch (CPU s, load ~6), slices of 16,384 / 32,768 /
# 65,536 / 131,072 lines: repeated lines 0.178 / 0.163 / 0.155 / 0.149, all-distinct ones 0.349 / 0.327 /
# 0.331 / 0.333; a 1M-line file's ingest: peak RSS 736 / 787 / 860 MiB at 32,768 / 65,536 / 131,072, CPU
# within the noise (3.1-3.2 s).
SLICE_LINES = 65_536


class Queries:
    """The per-distinct queries of one access log's parse, each remembering the values it has seen."""

    def __init__(self) -> None:
        self.epoch = DistinctQuery(EPOCH_SQL)
        self.bigint = DistinctQuery(BIGINT_SQL)
        self.code_status = DistinctQuery(CODE_STATUS_SQL)
        self.acl = DistinctQuery(ACL_SQL)
        self.method = DistinctQuery(METHOD_SQL)
        self.hierarchy = DistinctQuery(HIERARCHY_SQL)
        self.user = DistinctQuery(USER_SQL)
        self.dash = DistinctQuery(DASH_SQL)
        self.category = DistinctQuery(CATEGORY_SQL)
        self.app = DistinctQuery(APP_SQL)
        self.urls = UrlQueries()


def new_parser(context: ParseContext) -> BatchParser:
    """A parser on a connection with the proxy and WSA macros defined."""
    context.connection.execute(PROXY_MACROS)
    context.connection.execute(WSA_MACROS)
    queries = Queries()
    return sliced_parser(context, lambda cursor, part: _columns(cursor, queries, part), SLICE_LINES)


def _columns(connection: duckdb.DuckDBPyConnection, queries: Queries, lines: pa.Table) -> pa.Table:
    """WSA access lines -> schema columns plus reject_reason / is_ignored (see base.split_outcomes)."""
    text = line_text(lines)
    shaped, fields, verdicts, agent = wsa_fields(text)
    epoch_text, elapsed_text, client, code_status, size_text, method_text, url, ident, hierarchy, mime, acl = fields
    ts = epoch_times(connection, queries.epoch, epoch_text)
    elapsed = integers(connection, queries.bigint, elapsed_text, pa.int64())
    size = integers(connection, queries.bigint, size_text, pa.int64())
    outcome = per_distinct(connection, code_status, queries.code_status)
    ok = pc.fill_null(pc.and_kleene(pc.and_kleene(shaped, pc.is_valid(ts)), pc.and_kleene(
        pc.and_kleene(pc.is_valid(elapsed), outcome["valid"]), pc.is_valid(size))), False)
    rows = len(text)
    ignored = np.zeros(rows, bool)
    if not pc.all(ok).as_py():  # only the lines that are not access lines are matched against the status lines
        odd = pc.indices_nonzero(pc.invert(ok))
        odd_lines = text.take(odd)
        status_line = pc.or_(pc.match_substring_regex(odd_lines, STATUS_LINE),
                             pc.match_substring_regex(odd_lines, STATUS_MESSAGE))
        ignored[odd.to_numpy()] = bools(pc.fill_null(status_line, False))
    is_ignored = pa.array(ignored)
    method = per_distinct(connection, method_text, queries.method)
    place = url_columns(connection, queries.urls, url, bare="/")
    is_tunnel = pc.or_(pc.fill_null(method["is_connect"], False),
                       pc.fill_null(pc.equal(place["scheme"], "tunnel"), False))  # tunnel://host:443/
    not_tunnel = pc.invert(is_tunnel)
    server = per_distinct(connection, hierarchy, queries.hierarchy)
    url_host, server_host = place["host"], server["server_host"]
    url_literal, server_literal = is_ip_literal(url_host), is_ip_literal(server_host)
    # a transparent tunnel logs the server's address; the hierarchy field then often has its name
    server_named = pc.fill_null(pc.and_kleene(url_literal, pc.invert(server_literal)), False)
    host = first_valid(where(server_named, server_host), url_host, server_host)
    source = np.select([bools(pc.and_(pc.is_null(url_host), pc.is_null(server_host))), bools(is_tunnel)], [2, 0], 1)
    direct_server = pc.fill_null(pc.and_kleene(server["direct"], server_literal), False)
    action = first_valid(outcome["verdict"], per_distinct(connection, acl, queries.acl)["action"],
                         outcome["result_action"])
    columns = {
        "line_no": lines.column("line_no"),
        "reject_reason": first_reasons([(pc.and_(pc.invert(ok), pc.invert(is_ignored)), SHAPE_REASON)], rows),
        "is_ignored": is_ignored,
        "ts": ts,
        "src_ip": client,
        "user_name": per_distinct(connection, ident, queries.user)["value"],
        "host": host,
        "host_source": constant_text(HOST_SOURCES, source),
        "dst_ip": first_valid(where(direct_server, server_host), where(pc.fill_null(url_literal, False), url_host)),
        "dst_port": place["dst_port"],
        "network_protocol": where(not_tunnel, place["scheme"]),
        "http_method": method["http_method"],
        "url_path": where(not_tunnel, place["url_path"]),
        "http_status": outcome["http_status"],
        "action": action,
        "bytes_in": size,
        "duration_ms": elapsed,
        "user_agent": per_distinct(connection, agent, queries.dash)["value"],
        "content_type": per_distinct(connection, mime, queries.dash)["value"],
        "vendor_app": per_distinct(connection, verdicts[1], queries.app)["value"],
        "vendor_category": per_distinct(connection, verdicts[0], queries.category)["value"],
    }
    return pa.table(columns)


_ACCESS_LINE = re.compile(
    r'^(?:.*?Info: |.*? )?\d{9,10}\.\d+ +\d+ \S+ [A-Z_]+/\d{1,3} \d+ \S+ \S+ ("[^"]*"|\S+) [A-Z_]+/\S+ \S+ '
    r"[A-Z][A-Z_]*(_\d+)?(-\S*)?( <|\s+-|\s*$)"
)
_STATUS_LINE = re.compile(
    r"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} [A-Za-z]+: "
    r"|(Info|Warning): (Begin Logfile|End Logfile|Logfile rolled over|Version: |Time offset from UTC: )"
)


def sniff(lines: Sequence[str]) -> float:
    """Share of access lines, counting the appliance's status lines (a new file starts with three)."""
    access = sum(1 for line in lines if _ACCESS_LINE.match(line))
    status = sum(1 for line in lines if _STATUS_LINE.search(line))
    return (access + status) / len(lines) if access else 0.0


ACCESS = Format(
    name="cisco_wsa",
    source_kind="proxy",
    summary="Cisco WSA / Secure Web Appliance native access log (ACL decision tags, scanning verdicts)",
    sniff=sniff,
    new_parser=new_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "user_name", "host", "host_source", "dst_ip", "dst_port", "network_protocol",
        "http_method", "url_path", "http_status", "action", "bytes_in", "duration_ms", "user_agent",
        "content_type", "vendor_app", "vendor_category",
    ),
)
