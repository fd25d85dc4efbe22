"""WatchGuard's IBM LEEF lines read directly give what their rewrite into the Firebox's own layout gives.

Lines are written here from the documented layout, not copied from any log: `LEEF:1.0|WatchGuard|XTM|<version>|<msg
id, 8 hex digits>|` then tab-separated unquoted `key=value` attributes (`disp`, `in_if`, `out_if`, `src`, `srcPort`,
`dst`, `dstPort`, `proto`, the proxies' `op`/`dstname`/`arg`/`sni`, `sent_bytes`/`rcvd_bytes`, `elapsed_time`,
`duration=14 seconds`, `src_user`, the DNS proxy's `query_type`/`question`), tabs written `#011` where a relay
escaped them: the layout of SEKOIA-IO intake-formats WatchGuard/watchguard-firebox/tests (dpi_http_1, dpi_http_deny,
connection_allow_duration_seconds, test_dns_question); field names of the Fireware Log Message Catalog
(https://www.watchguard.com/help/documentation/).
"""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from detector.ingest import watchguard
from detector.ingest.base import open_parse_connection
from detector.ingest.compiled import WantedKeys
from detector.ingest.syslog import define_macros
from detector.ingest.watchguard_leef import PACKET_KEYS, leef_rows, native_layout

HEADS = ["<134>Nov 27 10:21:56 fw-stadhuis ", "<142>1 2026-11-27T09:21:56.000Z fw - - - ", "",
         "<142>1 2026-11-27T09:21:56Z fw wg - - - ", "<134>Nov 27 10:21:56 fw 80AB0C1D2E3F4 (2026-11-27T09:21:56) ",
         "<134>Nov 31 10:21:56 fw ", "<134>Nov 27 10:21:56 fw host=x ", "<134>Nov 27 10:21:56 fw#011a ", "junk "]
CODES = ["1AFF0024", "1AFF-0024", "1aff0021", "2CFF0001", "1DFF000F", "30000151", "30000148", "3E000002", "1AFF002",
         "ZZZZ0000"]
VALUES = {
    "disp": ["Allow", "Deny", "Drop", "allow", "DENY", "Foo", "", "Allow x", "Allow=1"],
    "proto": ["tcp", "udp", "6", "17", "", "noproto", "1.2", "tcp/ip", "icmp", "1234", "a b"],
    "src": ["10.20.1.15", "2001:db8::1", "", "fw.local", "1.2", "10.0.0.1 x", "DEAD:BEEF"],
    "dst": ["104.18.32.47", "fe80::1", "", "abc.def", "10.0.0.1="],
    "srcPort": ["52011", "", "123456", "0080", "x", "1.2"],
    "dstPort": ["443", "53", "", "65535", "00000", "8 0"],
    "dstname": ["chat.example.ai", "API.Example.org:443", "", "x y", "a=b", 'say"q'],
    "sni": ["chat.example.ai", "", "[2001:db8::1]:443"],
    "question": ["Gemini.Example.com", ""],
    "arg": ["/v1/chat?x=1", "https://gemini.example.com/app?x#y", "", "/q=1"],
    "duration": ["14 seconds", "14 seconds x", "14", "x seconds", "14  seconds", "", "99999999999999999999 seconds"],
    "sent_bytes": ["1840", "", "-", "0048211", "99999999999999999999", "+5"],
    "rcvd_bytes": ["5120", " 12", "1234567890123456789"],
    "elapsed_time": ["0.120 sec(s)", "x", ""],
    "op": ["GET", "post", ""],
    "src_user": ["jan@gemeente.local", ""],
    "query_type": ["A", "aaaa", ""],
    "msg": ["HTTP request", "from 10.0.0.1 to 10.0.0.2 tcp", 'say "hi"'],
    "in_if": ["1-Trusted", "LAN 1"],
    "msg_id": ["9999-9999"],
}
ODD = ["1x=2", "x-y=3", "x y=4", "noequals", "", "=v", "a user=bob"]


def _line(rng: random.Random) -> str:
    usual = rng.random() < 0.6  # (values of the documented kinds; the others also odd ones)
    items = []
    for key, values in VALUES.items():
        if (key in PACKET_KEYS and key != "proto") or rng.random() < 0.4:
            items.append(f"{key}={values[0] if usual and key in PACKET_KEYS else rng.choice(values)}")
    rng.shuffle(items)
    if not usual and rng.random() < 0.3:
        items.insert(rng.randrange(len(items) + 1), rng.choice([*ODD, items[0]]))
    separator = "\t" if rng.random() < 0.7 else "#011"
    head = HEADS[0] if usual else rng.choice(HEADS)
    return f"{head}LEEF:1.0|WatchGuard|XTM|12.10.4.B700001|{rng.choice(CODES)}|{separator.join(items)}"


def _records(table: pa.Table) -> list[dict]:
    columns = {}
    for name in table.column_names:
        column = table.column(name).combine_chunks()
        columns[name] = (column.dictionary_decode() if pa.types.is_dictionary(column.type) else column).to_pylist()
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


@pytest.mark.parametrize("seed", [1, 2])
def test_lines_read_directly_give_what_their_rewrite_gives(seed: int) -> None:
    """Every line, read directly or left to the rewrite, has the outcome of the rewrite: the same event (every
    column), the same reject reason, or ignored alike; a Firebox's own lines among them too."""
    rng = random.Random(seed)
    texts = [_line(rng) for _ in range(3000)]
    native = slice(seed % 2, None, 50)  # (the first line LEEF or not: the pass runs over every line, or those with `|`)
    texts[native] = ['<142>Nov 27 10:21:56 fw firewall: msg_id="3000-0151" Allow 1-Trusted 0-External tcp 10.0.0.1 '
                     '192.0.2.1 5 443 sent_bytes="5"'] * len(texts[native])
    lines = pa.table({"line_no": pa.array(np.arange(1, len(texts) + 1)), "line": pa.array(texts)})
    connection = open_parse_connection()
    define_macros(connection)
    queries = watchguard._Queries("Europe/Amsterdam", "'2026-11-30 00:00:00'::timestamp")
    keys = watchguard._Keys(WantedKeys(watchguard.KEYS), WantedKeys(watchguard.KEYS + PACKET_KEYS))
    direct = _records(watchguard._outcomes(connection, queries, keys, lines))
    line = lines.column("line").chunk(0)
    rewritten = watchguard._native_reading(connection, queries, keys.native, native_layout(line, leef_rows(line)))
    expected = _records(watchguard._columns(connection, queries, lines, rewritten))
    read = watchguard._leef_read(line, np.arange(len(line)), keys)
    outcomes = [("reject" if row["reject_reason"] else "ignored" if row["is_ignored"] else "event")
                for row, simple in zip(expected, read.simple, strict=True) if simple]
    # (the test means something: many lines of each outcome were read directly)
    assert min(outcomes.count(kind) for kind in ("event", "reject", "ignored")) > 10
    assert len(outcomes) > len(texts) / 4 and not read.simple.all()
    assert [row for row in direct if row not in expected] == []
    assert direct == expected


def test_a_quote_mark_or_an_odd_attribute_leaves_the_line_to_the_rewrite() -> None:
    """LEEF values are unquoted; the rewrite quotes them, so a value holding a quote mark moves the keys after it:
    such lines, and attributes that are not name=value, are not read directly."""
    head = "<134>Nov 27 10:21:56 fw LEEF:1.0|WatchGuard|XTM|12.10.4.B700001|1AFF0024|"
    usual = "disp=Allow\tsrc=10.0.0.1\tdst=192.0.2.1\tsrcPort=5\tdstPort=80\tproto=tcp\tdstname=chat.example.ai"
    lines = [head + usual, head + usual + '\tmsg=say "hi"', head + "1x=2\t" + usual, head + usual.replace(
        "src=10.0.0.1", "src=10.0.0.1 x"), head + usual + "\tduration=14 seconds", head + usual + "\tduration=1 seconds x",
        head.replace("fw", "fw=1") + usual, head + "\t" + usual, head + usual + "\t", head + usual.replace("\t", "#011")]
    keys = watchguard._Keys(WantedKeys(watchguard.KEYS), WantedKeys(watchguard.KEYS + PACKET_KEYS))
    read = watchguard._leef_read(pa.array(lines), np.arange(len(lines)), keys)
    assert read.simple.tolist() == [True, False, False, False, True, False, False, False, True, True]
