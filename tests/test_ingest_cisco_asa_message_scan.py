"""The compiled pass over Teardown and 106023 messages (cisco_asa_message_scan) reads a message only where the token
reading (cisco_asa_layouts.teardown, .deny) reads it as fitting its layout, and then reads the same fields; the
common shapes it reads itself.

Layouts from Cisco's "Cisco Secure Firewall ASA Series Syslog Messages"
(https://www.cisco.com/c/en/us/td/docs/security/asa/syslog/asa-syslog.html): 302014 `Teardown TCP connection id for
interface:real-address/real-port [(idfw_user)] to interface:real-address/real-port [(idfw_user)] duration hh:mm:ss
bytes bytes [reason] [(user)]`, 302016 `Teardown UDP connection ...` alike; 106023 `Deny protocol src
interface_name:source_address/source_port [(idfw_user|FQDN_string, sg_info)] dst interface_name:dest_address/
dest_port [(idfw_user|FQDN_string, sg_info)] [type {string}, code {code}] by access_group acl_ID [0x8ed66b60,
0xf8852875]`. An interface name may carry a prefix with a colon (`v1:outside`); with `names` configured the ASA
writes a name in an address's place.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest import cisco_asa, cisco_asa_message_scan
from detector.ingest.byte_spans import spans
from detector.ingest.cisco_asa_layouts import Tokens, deny, teardown

HEAD = "Nov 18 2025 09:03:04 asa-stadhuis : %"


def _both_readings(lines: list[str], kind: str) -> tuple[np.ndarray, dict[str, list], np.ndarray, dict[str, list]]:
    """The pass's `ok` and fields (of the rows it read), and the token reading's fits and fields (of every row)."""
    line = pa.array(lines, pa.string())
    data, starts, ends = cisco_asa._bytes(line)
    cut = starts + pc.find_substring(line, "%").to_numpy(zero_copy_only=False)
    read, scan = (teardown, cisco_asa_message_scan.teardowns) if kind == "teardown" \
        else (deny, cisco_asa_message_scan.denials)
    ok, found = scan(data, cut + 1, ends)
    rest = spans(data, cut + 1, ends)
    splits = cisco_asa.TOKENS_READ[[reader for _, reader in cisco_asa.READERS].index(read)]
    rows = np.arange(len(lines))
    tokens = Tokens(pc.split_pattern(rest, " ", max_splits=splits), rows, rest, line, rows,
                    pa.nulls(len(lines), pa.string()))
    fields, fits = read(tokens)
    as_read = {name: found[name].cast(cisco_asa._TYPES[name]).to_pylist() for name in found}
    by_tokens = {name: pa.array(fields[name]).cast(cisco_asa._TYPES[name]).to_pylist() for name in fields}
    return ok, as_read, fits, by_tokens


def _assert_same_where_read(lines: list[str], kind: str) -> np.ndarray:
    ok, as_read, fits, by_tokens = _both_readings(lines, kind)
    assert set(as_read) == set(by_tokens)
    assert not (ok & ~fits).any(), [line for line, taken, fit in zip(lines, ok, fits, strict=True) if taken and not fit]
    rows = np.flatnonzero(ok).tolist()
    for name, values in as_read.items():
        assert values == [by_tokens[name][row] for row in rows], name
    return ok


def test_teardowns_of_the_documented_layout_are_read_by_the_pass_as_by_their_tokens() -> None:
    lines = [HEAD + line for line in (
        "ASA-6-302014: Teardown TCP connection 118423 for outside:104.18.32.47/443 to inside:10.20.3.14/52011 "
        "duration 0:03:04 bytes 960257 TCP FINs",
        "ASA-6-302014: Teardown TCP connection 1 for outside:162.159.140.245/443 to inside:10.20.7.101/50544"
        "(GEMEENTE\\pvanleeuwen) duration 0:00:13 bytes 1854613 TCP Reset-O from outside (GEMEENTE\\pvanleeuwen)",
        "ASA-6-302016: Teardown UDP connection 7 for outside:ns10/53 to inside:WS-0142/53211 duration 0:00:00 bytes 120",
        "ASA-6-302014: Teardown TCP connection 8 for v2:outside:2001:db8:1::7/443 to inside:2001:db8::14/52011 "
        "duration 0:00:09 bytes 5120 TCP FINs",
        "ASA-6-302014: Teardown TCP connection 5 for outside:203.0.113.7/443 word to inside:10.20.3.14/52011 other "
        "duration 0:00:09 bytes 5120 TCP FINs (jdevries)",
        "ASA-6-302014: Teardown TCP connection 9 for outside:203.0.113.7/443 to inside:10.20.3.14/52011 duration "
        "0:00:09 bytes 5120 TCP FINs (jdevries)",
        "ASA-6-302014: Teardown TCP connection 9 for outside:203.0.113.7/443(1234:Servers) to inside:10.20.3.14/52011"
        "(4:Staff) duration 2000000000001:00:00 bytes 5120",
        "ASA-6-302016: Teardown UDP connection 10 for dmz:10.1.0.53/53 to inside:10.20.7.101/53 duration 0:00:00 "
        "bytes 142",
    )]
    ok = _assert_same_where_read(lines, "teardown")
    assert ok.all()
    _, as_read, _, _ = _both_readings(lines, "teardown")
    assert as_read["src_ip"] == ["10.20.3.14", "10.20.7.101", "WS-0142", "2001:db8::14", "10.20.3.14", "10.20.3.14",
                                 "10.20.3.14", "10.20.7.101"]
    assert as_read["user_name"] == [None, "GEMEENTE\\pvanleeuwen", None, None, "other", "jdevries", None, None]
    assert as_read["duration"] == [184_000, 13_000, 0, 9_000, 9_000, 9_000, None, 0]


def test_denials_of_the_documented_layout_are_read_by_the_pass_as_by_their_tokens() -> None:
    lines = [HEAD + line for line in (
        'ASA-4-106023: Deny udp src v1:outside:192.0.2.9/54864 dst inside:10.20.3.3/53 by access-group "outside_acl" '
        "[0x0, 0x0]",
        'ASA-4-106023: Deny tcp src v1:inside:10.20.3.14 dst v2:outside:203.0.113.7 by access-group "inside_in" '
        "[0x0, 0x0]",
        'ASA-4-106023: Deny protocol 47 src inside:10.20.3.14 dst outside:203.0.113.7 by access-group "inside_in" '
        "[0x0, 0x0]",
        "ASA-4-106023: Deny icmp src outside:192.0.2.1 dst inside:10.1.1.1 (type 8, code 0) by access-group "
        '"outside_in" [0x0, 0x0]',
        'ASA-4-106023: Deny tcp src inside:2001:db8::14/52011 dst outside:2001:db8:1::7/443 by access-group "x" [0x0, '
        "0x0]",
    )]
    ok = _assert_same_where_read(lines, "deny")
    assert ok.all()
    _, as_read, _, _ = _both_readings(lines, "deny")
    assert as_read["dst_port"] == ["53", None, None, None, "443"]
    assert as_read["protocol"] == ["udp", "tcp", "47", "icmp", "tcp"]


def test_shapes_the_pass_is_unsure_of_are_left_to_the_token_reading() -> None:
    lines = [HEAD + line for line in (
        # an identity in a 106023 side, a parenthesis in an address, an IPv6 zone, a port of ten digits
        'ASA-4-106023: Deny gre src inside:10.20.3.14(GEMEENTE\\jdevries) dst outside:203.0.113.7 by access-group "a"',
        "ASA-6-302014: Teardown TCP connection 6 for outside:203.0(.113.7/443 to inside:10.20.3.14/52011 duration "
        "0:00:09 bytes 5120",
        "ASA-6-302014: Teardown TCP connection 6 for outside:fe80::1%eth0/443 to inside:10.20.3.14/52011 duration "
        "0:00:09 bytes 5120",
        "ASA-6-302014: Teardown TCP connection 6 for outside:10.1.1.1/4430000000 to inside:10.20.3.14/52011 duration "
        "0:00:09 bytes 5120",
        # a character outside ASCII in an identity; an identity with a comma
        "ASA-6-302014: Teardown TCP connection 6 for outside:10.1.1.1/443 to inside:10.20.3.14/52011(j\u00e9) duration "
        "0:00:09 bytes 5120",
        "ASA-6-302014: Teardown TCP connection 6 for outside:10.1.1.1/443 to inside:10.20.3.14/52011(jdoe,12:x) "
        "duration 0:00:09 bytes 5120",
    )]
    ok = _assert_same_where_read(lines[:1], "deny")
    ok = np.concatenate([ok, _assert_same_where_read(lines[1:], "teardown")])
    assert not ok.any()


_PIECES = st.sampled_from([
    "inside", "outside", "v1:inside", "a:b:c", "", ":", "/", "(", ")", ",", "%", ".", " ", "  ", "10.20.3.14",
    "2001:db8::7", "fe80::1", "ws-0142", "443", "52011", "1234567890", "(jdoe)", "(1234:sgt)", "()", "(a,b)",
    "\u00e9", "\u00a0", "\t", "by", "by access-group", "access-group", "to", "duration", "bytes", "0:00:09", "1:2",
    "x", "0", "TCP FINs", "(u)", " (u)", "dst", "src", "protocol",
])
_SIDE = st.lists(_PIECES, min_size=1, max_size=5).map("".join)
_WORD = st.sampled_from(["", " word", " (x)", " ", " a(b"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_SIDE, _WORD, _SIDE, _WORD, st.sampled_from(["0:00:09", "1:2:3", "a:0:0", "0:0", "", "0:0:0:0"]),
                          _SIDE), min_size=1, max_size=12))
def test_any_teardown_the_pass_reads_the_token_reading_reads_alike(parts: list[tuple[str, ...]]) -> None:
    lines = [HEAD + f"ASA-6-302014: Teardown TCP connection 5 for {a}{a_word} to {b}{b_word} duration {clock} bytes "
             f"5120{tail}" for a, a_word, b, b_word, clock, tail in parts]
    _assert_same_where_read(lines, "teardown")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["tcp", "protocol 47", "", "protocol", "udp "]), _SIDE, _SIDE, _SIDE),
                min_size=1, max_size=12))
def test_any_denial_the_pass_reads_the_token_reading_reads_alike(parts: list[tuple[str, ...]]) -> None:
    lines = [HEAD + f"ASA-4-106023: Deny {protocol} src {source} dst {destination} {rest}"
             for protocol, source, destination, rest in parts]
    _assert_same_where_read(lines, "deny")
