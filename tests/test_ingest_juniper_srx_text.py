"""Juniper SRX plain text: the lines cut by the compiled pass (juniper_srx_text) give what QUERY's regular
expressions give, and the lines it is unsure of are left to QUERY.

Lines are written from Junos' documented message layouts: RT_FLOW_SESSION_CLOSE `session closed reason:
source-address/source-port->destination-address/destination-port service-name nat-source-address/nat-source-port->
nat-destination-address/nat-destination-port src-nat-rule-name dst-nat-rule-name protocol-id policy-name
source-zone-name destination-zone-name session-id-32 packets-from-client(bytes-from-client)
packets-from-server(bytes-from-server) elapsed-time` (newer releases add application, nested application,
username(roles), ...), RT_FLOW_SESSION_DENY `session denied source-address/source-port->destination-address/
destination-port service-name protocol-id(icmp-type) policy-name source-zone-name destination-zone-name`
(https://www.juniper.net/documentation/en_US/junos10.2/information-products/topic-collections/syslog-messages/
jd0e45972.html; fields: https://www.juniper.net/documentation/en_US/junos12.2/topics/reference/general/
session-log-entry-information-for-srx-series.html), and web filtering's `WebFilter: ACTION="URL Permitted"
src(port)->dst(port) CATEGORY="..." REASON="..." PROFILE="..." URL=host OBJ=path USERNAME=user ROLES=roles`.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from detector.ingest.base import open_parse_connection
from detector.ingest.distinct_sql import sql_literal
from detector.ingest.juniper_srx import QUERY, _Queries
from detector.ingest.juniper_srx_text import text_columns
from detector.ingest.syslog import SyslogHeaders, define_head_macros

ZONE, REFERENCE = "Europe/Amsterdam", datetime(2025, 11, 18)
HEAD = "<14>Nov 18 09:03:04 srx RT_FLOW: "
CLOSE = ("RT_FLOW_SESSION_CLOSE{ls}: session closed TCP FIN: 10.20.3.14/52011->{dst}/{port} 0x0 junos-https "
         "192.0.2.10/41022->104.18.32.47/443 0x0 source rule nat N/A N/A {proto} allow trust untrust 118423 "
         "420({out}) 610(912044) {seconds}{tail}")
TAILS = (" SSL CHATGPT jdevries(medewerkers) ge-0/0/1.0 UNKNOWN N/A N/A -1", " SSL UNKNOWN N/A(N/A) ge-0/0/1.0", "",
         " UNKNOWN UNKNOWN GEMEENTE\\\\jan(r)", " HTTP only-two", " SSL CHATGPT (no-user)")
DENY = "RT_FLOW_SESSION_DENY: session denied 10.20.9.3/61000->3.120.45.8/{port} {hex}junos-https {proto}(0) block trust"
WEB = ('WEBFILTER_URL_{kind}: WebFilter: ACTION="URL {kind}" 10.20.3.14(52101)->104.18.33.45({port}) '
       'CATEGORY="{category}" REASON="BY_PRE_DEFINED" PROFILE="wf" URL={url} OBJ={obj} {user} ROLES=N/A')


def _lines() -> list[str]:
    lines = [HEAD + CLOSE.format(ls=ls, dst=dst, port=port, proto=proto, out=out, seconds=seconds, tail=tail)
             for ls in ("", "_LS") for dst, port in (("104.18.32.47", "443"), ("2.2.2.2", "0"))
             for proto in ("6", "1", "58") for out, seconds in (("48213", "184"), ("99999999999999999999", "7x"))
             for tail in TAILS]
    lines += [HEAD + DENY.format(port=port, hex=hex_word, proto=proto) for port in ("443", "8")
              for hex_word in ("0x0 ", "") for proto in ("6", "1")]
    lines += [HEAD.replace("RT_FLOW", "RT_UTM") + WEB.format(kind=kind, port=port, category=category, url=url, obj=obj,
                                                             user=user)
              for kind in ("PERMITTED", "BLOCKED") for port in ("443", "80")
              for category in ("Enhanced_Artificial_Intelligence", "N/A", "")
              for url, obj in (("ChatGPT.com", "/c/1?x=1"), ("", "/"), ("claude.ai", ""))
              for user in ("USERNAME=jdevries", "USERNAME=N/A", "username jan roles N/A")]
    lines += [
        HEAD + "RT_FLOW_SESSION_CLOSE: session closed idle Timeout: garbled",  # a reject
        HEAD + "RT_FLOW_SESSION_CREATE: session created 10.20.3.14/52011->104.18.32.47/443 0x0 junos-https",
        "<14>Nov 18 09:05:30 srx mgd[4711]: UI_COMMIT: User 'admin' requested 'commit' operation",
        "Nov  8 02:52:02 RT_FLOW: " + CLOSE.format(ls="", dst="1.2.3.4", port="443", proto="6", out="1", seconds="2",
                                                   tail=""),
        HEAD + CLOSE.format(ls="", dst="1.2.3.4", port="443", proto="6", out="1", seconds="2", tail="").replace(
            " 0x0", "  0x0"),  # two spaces: words of the regular expression move
    ]
    return lines


# Lines the pass leaves to QUERY: whitespace other than spaces, structured data, a relayed device time, no header,
# an RFC 5424 header
UNSURE = [
    HEAD + CLOSE.format(ls="", dst="1.2.3.4", port="443", proto="6", out="1", seconds="2", tail="\tSSL X u(r)"),
    HEAD + CLOSE.format(ls="", dst="1.2.3.4", port="443", proto="6", out="1", seconds="2", tail=" [junos@2636 a=\"b\"]"),
    "<14>Nov 18 09:03:04 srx junos: 2025-11-18T09:00:00.120+01:00 srx RT_FLOW: "
    + CLOSE.format(ls="", dst="1.2.3.4", port="443", proto="6", out="1", seconds="2", tail=""),
    CLOSE.format(ls="", dst="1.2.3.4", port="443", proto="6", out="1", seconds="2", tail=""),
    "<14>1 2025-11-18T09:03:04+01:00 srx RT_FLOW - - - "
    + CLOSE.format(ls="", dst="1.2.3.4", port="443", proto="6", out="1", seconds="2", tail=""),  # (RFC 5424)
]


def _compare(lines: list[str]) -> tuple[pa.Table, list[bool]]:
    table = pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})
    connection = open_parse_connection()
    define_head_macros(connection)
    queries = _Queries(f"{sql_literal(ZONE)}, {sql_literal(REFERENCE.isoformat(sep=' '))}::timestamp")
    found, cut = text_columns(connection, SyslogHeaders(ZONE, REFERENCE), queries.integer, queries.bigint, table)
    connection.register("lines", table.filter(pa.array(cut)))
    expected = connection.sql(QUERY, params={"tz": ZONE, "ref": REFERENCE}).to_arrow_table()
    reasons, ignored = expected.column("reject_reason").to_pylist(), expected.column("is_ignored").to_pylist()
    events = [n for n, (reason, skip) in enumerate(zip(reasons, ignored, strict=True)) if reason is None and not skip]
    for name in expected.column_names:  # (the other columns of rejected and ignored lines are never read)
        rows = range(len(reasons)) if name in ("line_no", "reject_reason", "is_ignored") else events
        values, wanted = found.column(name).to_pylist(), expected.column(name).to_pylist()
        assert [values[n] for n in rows] == [wanted[n] for n in rows], name
    return expected, list(cut)


def test_text_lines_cut_by_position_as_the_query_reads_them() -> None:
    lines = _lines()
    expected, cut = _compare(lines)
    assert all(cut)
    reasons = expected.column("reject_reason").to_pylist()
    assert reasons.count("RT_FLOW_SESSION_CLOSE without source and destination addresses") == 1
    rows = expected.to_pylist()
    first = rows[0]  # (the first close: application CHATGPT over SSL, user jdevries)
    assert (first["src_ip"], first["dst_port"], first["bytes_out"], first["duration_ms"], first["vendor_app"],
            first["user_name"]) == ("10.20.3.14", 443, 48213, 184_000, "CHATGPT", "jdevries")
    assert {row["action"] for row in rows if row["reject_reason"] is None and not row["is_ignored"]} == {
        "allowed", "blocked"}
    hosts = {row["host"] for row in rows}
    assert {"chatgpt.com", "claude.ai", None} <= hosts


def test_lines_the_pass_is_unsure_of_are_left_to_the_query() -> None:
    lines = _lines()[:3] + UNSURE
    _, cut = _compare(lines)
    assert cut == [True] * 3 + [False] * len(UNSURE)
