"""Cisco ASA lines read in Arrow (cisco_asa_layouts) read as the documented regular expressions (cisco_asa.QUERY)
read them, and the common layouts are read in Arrow, not left to those expressions.

Layouts from Cisco's "Cisco Secure Firewall ASA Series Syslog Messages"
(https://www.cisco.com/c/en/us/td/docs/security/asa/syslog/asa-syslog.html): 106023 `Deny protocol src
interface_name:source_address/source_port [(idfw_user|FQDN_string, sg_info)] dst interface_name:dest_address/
dest_port ... by access_group acl_ID`, 302014 `Teardown TCP connection id for interface:real-address/real-port
[(idfw_user)] to interface:real-address/real-port [(idfw_user)] duration hh:mm:ss bytes bytes [reason]`. An
interface name may carry a prefix with a colon (`v1:outside`); with `names` configured (`name 10.20.3.14 ws-0142`)
the ASA writes a name in an address's place.

Firepower connection events (430002 / 430003): `Key: value, Key: value, ...`, the keys of Cisco's "Connection and
Security-Related Connection Event Fields" (https://www.cisco.com/c/en/us/td/docs/security/firepower/Syslogs/
b_fptd_syslog_guide/security-event-syslog-messages.html).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest import cisco_asa
from detector.ingest.arrow_ops import list_item
from detector.ingest.base import ParseContext, ParseResult, open_parse_connection, parse_cursor
from detector.ingest.cisco_asa_layouts import FIREPOWER_KEYS
from detector.ingest.cisco_asa_scan import FirepowerValues
from detector.ingest.syslog import SyslogHeaders, reference_time, syslog_head_parser

ASA = "Nov 18 2025 09:03:04 asa-stadhuis : %ASA-"
PATH = "asa-20251118.log"
TZ = "Europe/Amsterdam"


def _table(lines: list[str]) -> pa.Table:
    return pa.table({"line_no": pa.array(range(1, len(lines) + 1), pa.int64()), "line": pa.array(lines)})


def _both_ways(lines: list[str]) -> tuple[ParseResult, ParseResult, list[bool]]:
    """The parse (Arrow where lines fit), the documented expressions' parse of every line, and which lines the
    Arrow reading left to the expressions."""
    connection = open_parse_connection()
    context = ParseContext(path=PATH, timezone=TZ, connection=connection)
    parsed = cisco_asa.asa_parser(context)(_table(lines))
    by_regex = cisco_asa._with_names(syslog_head_parser(cisco_asa.QUERY)(context)(_table(lines)))
    reference = reference_time(PATH, TZ)
    with parse_cursor(connection) as cursor:
        _, unsure = cisco_asa._columns(cursor, SyslogHeaders(TZ, reference), cisco_asa.AsaQueries(TZ, reference),
                                       _table(lines))
    return parsed, by_regex, unsure.tolist()


def _rows(result: ParseResult) -> list[dict[str, object]]:
    return result.events.select(sorted(result.events.column_names)).to_pylist()


def test_sides_with_an_interface_prefix_are_read_in_arrow_as_the_expressions_read_them() -> None:
    lines = [
        ASA + '4-106023: Deny udp src v1:outside:192.0.2.9/54864 dst inside:10.20.3.3/53 by access-group '
              '"outside_acl" [0x0, 0x0]',
        ASA + '4-106023: Deny tcp src v1:inside:10.20.3.14 dst v2:outside:203.0.113.7 by access-group '
              '"inside_in" [0x0, 0x0]',
        ASA + "6-302014: Teardown TCP connection 5 for v2:outside:203.0.113.7/443 to v1:inside:ws-0142/52011 "
              "duration 0:00:09 bytes 5120 TCP FINs",
        ASA + "6-302014: Teardown TCP connection 8 for v2:outside:2001:db8:1::7/443 to inside:2001:db8::14/52011"
              "(GEMEENTE\\jdevries) duration 0:00:09 bytes 5120 TCP FINs",
        ASA + "6-302016: Teardown UDP connection 9 for dmz:fe80::1/53 to v1:dmz:fe80::2/5353 duration 0:00:00 bytes 90",
    ]
    parsed, by_regex, unsure = _both_ways(lines)
    assert unsure == [False] * len(lines)
    assert _rows(parsed) == _rows(by_regex)
    assert [(e["src_ip"], e["src_host"], e["dst_ip"]) for e in _rows(parsed)] == [
        ("192.0.2.9", None, "10.20.3.3"),
        ("10.20.3.14", None, "203.0.113.7"),
        (None, "ws-0142", "203.0.113.7"),
        ("2001:db8::14", None, "2001:db8:1::7"),
        ("fe80::2", None, "fe80::1"),
    ]


def test_sides_the_token_reading_cannot_place_are_left_to_the_expressions() -> None:
    lines = [
        # a side without a port but with an identity: the identity is no part of the address
        ASA + '4-106023: Deny gre src inside:10.20.3.14(GEMEENTE\\jdevries) dst outside:203.0.113.7 by access-group '
              '"inside_in" [0x0, 0x0]',
        # three colons before a plain address: no address fits after the first two
        ASA + "6-302014: Teardown TCP connection 5 for a:b:outside:203.0.113.7/443 to inside:10.20.3.14/52011 "
              "duration 0:00:09 bytes 5120 TCP FINs",
        # a parenthesis inside an address: the expressions reject the line
        ASA + "6-302014: Teardown TCP connection 6 for outside:203.0(.113.7/443 to inside:10.20.3.14/52011 "
              "duration 0:00:09 bytes 5120 TCP FINs",
    ]
    parsed, by_regex, unsure = _both_ways(lines)
    assert unsure == [True] * len(lines)
    assert _rows(parsed) == _rows(by_regex)
    assert parsed.rejects.column("line_no").to_pylist() == [3]
    first = _rows(parsed)[0]
    assert (first["src_ip"], first["user_name"], first["dst_ip"]) == ("10.20.3.14", "GEMEENTE\\jdevries", "203.0.113.7")


def _items_read(line: pa.Array, rows: np.ndarray, keys: list[str]) -> list[list[str | None]]:
    """The reading the compiled scan replaces, as plainly as Arrow puts it: the text after the `%` and its tag's
    `: `, split at `, `; a key's first item starting `Key: `, its rest trimmed, null if empty."""
    text = list_item(pc.split_pattern(line.take(pa.array(rows)), "%", max_splits=1), 1)
    items = pc.split_pattern(list_item(pc.split_pattern(text, ": ", max_splits=1), 1), ", ").to_pylist()
    found = []
    for key in keys:
        values: list[str | None] = []
        for row in items:
            value = next((item[len(key) + 2:] for item in row or [] if item.startswith(key + ": ")), None)
            value = value.strip() if value is not None else None
            values.append(value or None)
        found.append(values)
    return found


FTD = "<113>Nov 18 09:04:12 ftd-stadhuis : %FTD-1-430003: "


def test_firepower_values_are_those_of_the_items_that_start_with_their_key() -> None:
    lines = [
        FTD + "AccessControlRuleAction: Allow, SrcIP: 10.20.3.14, DstIP: 104.18.32.47, DstPort: 443, "
              "Prefilter Policy: Default Prefilter Policy, User: GEMEENTE\\jdevries, URL: https://chatgpt.com",
        # a value with `, ` inside ends at it; a repeated key: the first counts; a key as a prefix of another
        FTD + "SrcIP: 10.0.0.1, SrcIP: 10.0.0.2, SrcIPv6: ::1, URLCategory: Generative AI, Chat, DstIP: 1.2.3.4",
        # empty and white-space values are none; spaces at a value's ends are not part of it
        FTD + "User: , DstPort:  , URL:  https://a.example/x , WebApplication: \u00a0ChatGPT\u2003, SrcIP:",
        # no `: ` after the tag, and a body that is only a separator
        "<113>Nov 18 09:04:12 ftd-stadhuis %FTD-1-430003 SrcIP 10.0.0.1", FTD + ", ",
        "x: y %FTD-1-430002: ReferencedHost: host.example:8080, HTTPResponse: 200, UserAgent: Mozilla/5.0 (X11, Linux)",
    ]
    keys = list(FIREPOWER_KEYS.values())
    line = pa.concat_arrays([pa.array(["before"]), pa.array(lines)]).slice(1)  # (an offset into the buffers)
    rows = np.arange(len(lines))
    scanned = FirepowerValues(line, rows, tuple(keys)).columns()
    assert [scanned[key].to_pylist() for key in keys] == _items_read(line, rows, keys)
    assert scanned["SrcIP"].to_pylist() == ["10.20.3.14", "10.0.0.1", None, None, None, None]
    assert scanned["URLCategory"].to_pylist()[1] == "Generative AI"
    assert scanned["WebApplication"].to_pylist()[2] == "ChatGPT"
    assert scanned["URL"].to_pylist()[2] == "https://a.example/x"
    assert scanned["UserAgent"].to_pylist()[5] == "Mozilla/5.0 (X11"
    some = np.array([1, 3, 5])
    assert [FirepowerValues(line, some, tuple(keys)).columns()[key].to_pylist() for key in keys] == _items_read(
        line, some, keys)


def test_header_times_read_from_the_text_before_the_tag_are_those_of_the_whole_lines() -> None:
    """RFC 3164 headers (https://www.rfc-editor.org/rfc/rfc3164) before the tag, with and without a PRI, a host,
    ` : ` (`logging device-id`), or a tag of their own; RFC 5424 (https://www.rfc-editor.org/rfc/rfc5424) ones
    are read whole."""
    message = "%ASA-4-106023: Deny tcp src inside:10.20.3.14/52011 dst outside:203.0.113.7/443 by access-group \"a\""
    heads = ["<113>Nov 18 09:00:05 ftd-stadhuis : ", "<166>Nov  8 09:03:05 asa-stadhuis : ", "Nov 18 09:03:06 asa : ",
             "<166>Nov 18 09:03:07 asa-stadhuis %", "<166>Nov 18 09:03:08 asa-stadhuis asa: ", "Nov 18 09:03:09: ",
             "<14> Nov 18 09:03:10 relay asa: ", "<166>1 2025-11-18T09:03:11Z asa - - - - ",
             "<166>1 2025-11-18T09:03:12+01:00 asa asa - - [a@1 b=\"c\"] ", "2025-11-18T09:03:13+01:00 asa : ",
             "LOCAL4.WARNING: asa ", "a: ", "<1>: ", "Nov 18 09:03:14 asa-é : "]
    lines = [head + message.removeprefix("%" if head.endswith("%") else "") for head in heads] + [
        # a tag without its colon: the first `: ` further on, or none
        "<166>Nov 18 09:03:15 asa-stadhuis %ASA-6-302014 Teardown TCP connection 5 for a: b",
        "<166>Nov 18 09:03:16 asa-stadhuis %ASA-6-302014 Teardown"]
    table = _table(lines)
    connection = open_parse_connection()
    cisco_asa.asa_parser(ParseContext(path=PATH, timezone=TZ, connection=connection))  # (the macros)
    headers = SyslogHeaders(TZ, reference_time(PATH, TZ))
    rows = np.ones(len(lines), bool)
    at_percent = pc.split_pattern(table.column("line").combine_chunks(), "%", max_splits=1)
    before_and_tag = (list_item(at_percent, 0), list_item(pc.split_pattern(list_item(at_percent, 1), " "), 0))
    with parse_cursor(connection) as cursor:
        queries = cisco_asa.AsaQueries(TZ, reference_time(PATH, TZ))
        cut = cisco_asa._header_times(cursor, headers, queries.header_time, table, rows, *before_and_tag)
        again = cisco_asa._header_times(cursor, headers, queries.header_time, table, rows, *before_and_tag)
        whole = headers.read(cursor, table).column("ts").combine_chunks()
    assert cut.cast(whole.type).to_pylist() == whole.to_pylist() == again.cast(whole.type).to_pylist()
    assert sum(value is not None for value in cut.to_pylist()) == 7  # (` : ` after a host: no header, as relays)


def test_a_teardown_duration_beyond_64_bits_is_none_whichever_way_it_is_read() -> None:
    teardown = ("6-302016: Teardown UDP connection 7 for {side}outside:192.0.2.22/53 to inside:10.20.3.35/52925 "
                "duration {clock} bytes 120")
    clocks = ["9999999999910:00:00", "2000000000000:00:00", "0:10000000000001:00", "0:00:1000000000000001",
              "0000000000001:00:01"]
    lines = [ASA + teardown.format(side=side, clock=clock) for side in ("", "a:b:") for clock in clocks]
    parsed, by_regex, unsure = _both_ways(lines)
    assert unsure == [False] * len(clocks) + [True] * len(clocks)  # (a:b:outside: is left to the expressions)
    assert _rows(parsed) == _rows(by_regex)
    assert [e["duration_ms"] for e in _rows(parsed)] == [None, 7_200_000_000_000_000_000, None, None, 3_601_000] * 2


def test_each_message_is_split_as_far_as_its_reader_reads_it() -> None:
    """Each reader's text is split only up to the tokens it reads (cisco_asa.TOKENS_READ): the layouts at their
    longest (106023 with `protocol`, 106100 with a user, 304001 with `JAVA URL`, 304002, a Teardown with words on
    both sides and an AAA user last) read in Arrow as the expressions read them, and a message one token short of
    its reader's last is left to them."""
    lines = [
        ASA + '4-106023: Deny protocol 47 src inside:10.20.3.14 dst outside:203.0.113.7 by access-group '
              '"inside_in" [0x0, 0x0]',
        ASA + "6-106100: access-list inside_in permitted tcp inside/10.20.3.14(52011)(GEMEENTE\\jdevries) -> "
              "outside/203.0.113.7(443) hit-cnt 1 first hit [0x1, 0x0]",
        ASA + "5-304001: 10.20.3.14 Accessed JAVA URL 203.0.113.7:http://www.example.com/applet/a.class",
        ASA + "5-304002: Access denied URL http://www.example.com/x SRC 10.20.3.14 DEST 203.0.113.7 on interface inside",
        ASA + "6-302014: Teardown TCP connection 5 for outside:203.0.113.7/443 word to inside:10.20.3.14/52011 other "
              "duration 0:00:09 bytes 5120 TCP FINs (jdevries)",
        ASA + "4-106023: Deny protocol 47 src inside:10.20.3.14 dst outside:203.0.113.7",
    ]
    parsed, by_regex, unsure = _both_ways(lines)
    assert unsure == [False] * (len(lines) - 1) + [True]
    assert _rows(parsed) == _rows(by_regex)
    assert [(e["src_ip"], e["user_name"], e["dst_ip"]) for e in _rows(parsed)] == [
        ("10.20.3.14", None, "203.0.113.7"),
        ("10.20.3.14", "GEMEENTE\\jdevries", "203.0.113.7"),
        ("10.20.3.14", None, "203.0.113.7"),
        ("10.20.3.14", None, "203.0.113.7"),
        ("10.20.3.14", "other", "203.0.113.7"),
    ]
    assert parsed.rejects.column("line_no").to_pylist() == [6]
