"""windows_dns.unwrapped: a syslog header is taken off only where one is there, and a batch without any is
returned as it came, not rebuilt.

Lines in the layout dns.log documents in its own header block ("Message logging key (for packets - other items use
a subset of these fields)": DATE TIME THREAD Context Internal-packet-id UDP/TCP Snd/Rcv Remote-IP Xid Q/R Opcode
[Flags] QTYPE QNAME), with the details that full-packet logging adds: a `UDP question info at <address>` line and
its indented fields (the FullPackets option, https://learn.microsoft.com/en-us/powershell/module/dnsserver/set-dnsserverdiagnostics).
Syslog headers per RFC 3164 and RFC 5424. Own values.
"""

from __future__ import annotations

import pyarrow as pa

from detector.ingest.windows_dns import unwrapped

PACKET = ("6/5/2024 10:00:01 AM 0E5C PACKET  000001E8A1C44F10 UDP Rcv 10.20.1.15      4a41   Q [0001   D   NOERROR] "
          "A      (7)chatgpt(3)com(0)")
OWN_LINES = [
    "DNS Server log file creation at 6/5/2024 7:58:12 AM",
    "Message logging key (for packets - other items use a subset of these fields):",
    PACKET,
    "UDP question info at 000001E8A1C44F10",
    "  Socket = 508",
    "\tRemote addr 10.20.1.15, port 53124",
    "",
    "Log file wrap at 6/5/2024 7:58:12 AM",
]


def test_the_servers_own_lines_come_back_as_they_were_without_a_copy() -> None:
    # Capitalised lines ('UDP question info', 'Log file wrap') pass the first-byte test for a BSD month: they
    # are looked at, found without a header, and the batch is not rebuilt.
    text = pa.array(OWN_LINES * 50, pa.string())
    assert unwrapped(text) is text


def test_only_the_lines_with_a_header_lose_it_the_others_stay_in_place() -> None:
    lines = [
        OWN_LINES[3],
        "<13>Jun  5 10:00:01 DC01 dns: " + PACKET,
        OWN_LINES[4],
        "<14>1 2024-06-05T10:00:03+02:00 DC01 dns - - - " + PACKET,
        "2024-06-05T10:00:01+02:00 DC01 " + PACKET,
        OWN_LINES[7],
        "Jun  5 10:00:04 DC01 dns: Message logging key (for packets - other items use a subset of these fields):",
    ]
    got = unwrapped(pa.array(lines, pa.string())).to_pylist()
    assert got == [OWN_LINES[3], PACKET, OWN_LINES[4], PACKET, PACKET, OWN_LINES[7], OWN_LINES[1]]


def test_lines_that_only_resemble_a_header_are_left_alone() -> None:
    # a capital and lower-case letters then a space (as a BSD month), ISO-like and PRI-like starts, short lines
    lines = ["Log file wrap at 6/5/2024 7:58:12 AM", "2024-06-05 10:00:01 0E5C PACKET", "<13>", "Jun  5",
             "<13>Jun  5 10:00:01 DC01 dns: " + PACKET]
    assert unwrapped(pa.array(lines, pa.string())).to_pylist() == [*lines[:4], PACKET]
