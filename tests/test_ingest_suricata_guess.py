"""Suricata EVE: each line's record type is guessed from the text after `"event_type":"`, read at the few places a
batch's lines have it (learned from a sample) and searched for on the others; a guess is checked by the parse.

Lines are written as Suricata's EVE format documents them (https://docs.suricata.io/en/latest/output/eve/
eve-json-format.html, "Common Section": timestamp, flow_id, in_iface, event_type, then the record's own keys).
"""

from __future__ import annotations

import json
import random

import numpy as np
import pyarrow as pa

from detector.ingest import suricata_eve
from detector.ingest.base import ParseContext, open_parse_connection

TYPES = ("tls", "http", "dns", "flow", "alert", "drop", "quic", "stats", "fileinfo", "anomaly")


def record(kind: str, flow_id: int, iface: str) -> dict[str, object]:
    body: dict[str, object] = {
        "tls": {"sni": "chatgpt.com"}, "http": {"hostname": "claude.ai", "url": "/x", "http_method": "GET"},
        "dns": {"type": "query", "rrname": "api.openai.com", "rrtype": "A"}, "quic": {"sni": "gemini.google.com"},
        "flow": {"bytes_toserver": 10, "bytes_toclient": 20}, "alert": {"action": "blocked"},
    }
    line: dict[str, object] = {"timestamp": "2025-11-18T09:00:01.102345+0100", "flow_id": flow_id, "in_iface": iface,
                               "event_type": kind, "src_ip": "10.0.0.1", "src_port": 50000, "dest_ip": "10.0.0.2",
                               "dest_port": 443, "proto": "TCP"}
    if kind in body:
        line[kind] = body[kind]
    return line


def compact(line: dict[str, object]) -> str:
    return json.dumps(line, separators=(",", ":"))


def expected_guess(kind: str) -> int:
    return suricata_eve.EVENT_TYPES.index(kind) + 1 if kind in suricata_eve.EVENT_TYPES else suricata_eve.OTHER_TYPE


def test_every_compact_line_is_guessed_its_type_wherever_its_key_is() -> None:
    chooser = random.Random(3)
    kinds, lines = [], []
    for _ in range(5000):
        kind = chooser.choice(TYPES)
        # flow_id of 1 to 16 digits, interfaces of several lengths: the key at many places, a few of them common
        flow_id = chooser.choice([chooser.randint(10 ** 14, 10 ** 15 - 1)] * 6 + [chooser.randint(1, 10 ** 16)])
        iface = chooser.choice(["eth0", "eth0", "eth0", "enp3s0f1", "bond0.123", "é"])
        kinds.append(kind)
        lines.append(compact(record(kind, flow_id, iface)))
    guess = suricata_eve._guesses(pa.array(lines))
    assert guess.tolist() == [expected_guess(kind) for kind in kinds]


def test_lines_whose_key_places_all_differ_are_searched() -> None:
    kinds = [TYPES[n % len(TYPES)] for n in range(600)]
    lines = [compact(record(kind, 10 ** (n % 17), "x" * (n % 40))) for n, kind in enumerate(kinds)]
    guess = suricata_eve._guesses(pa.array(lines))
    assert guess.tolist() == [expected_guess(kind) for kind in kinds]


def test_spaced_short_and_empty_lines_are_not_guessed_from_other_bytes() -> None:
    lines = [compact(record("tls", 1001, "eth0"))] * 300 + [
        json.dumps(record("dns", 1001, "eth0")),  # spaced: `"event_type": "dns"`
        '{"timestamp":"2025-11-18T09:00:01.102345+0100","flow_id":1001,"in_iface":"eth0"}',  # no type, same start
        '{"timestamp":"2025-11-18T09:00:01.102345+0100","flow_id":1001,"in_iface":"eth0","event_type":"',  # cut off
        "", "{",
    ]
    guess = suricata_eve._guesses(pa.array(lines)).tolist()
    assert guess[:300] == [1] * 300
    assert guess[300] == expected_guess("dns")
    assert guess[301] == suricata_eve.ANY_TYPE  # (the cut-off line's guess reads past its end: the parse checks it)
    assert guess[303:] == [suricata_eve.ANY_TYPE] * 2


def test_a_nested_event_type_before_the_records_own_gives_the_records_values() -> None:
    """The key at a place tried, and also earlier inside an object: the guess may be either's; the parse reads the
    record's own type."""
    lines = [compact(record("tls", 1001, "eth0"))] * 300
    nested = record("dns", 1001, "eth0")
    lines.append(compact({"timestamp": nested.pop("timestamp"), "x": {"event_type": "http"}, **nested}))
    table = pa.table({"line": lines, "line_no": np.arange(1, len(lines) + 1)})
    parse = suricata_eve.eve_parser(ParseContext("eve.json", "UTC", open_parse_connection()))
    events = parse(table).events.to_pylist()
    assert len(events) == len(lines)
    assert events[-1]["host"] == "api.openai.com" and events[-1]["host_source"] == "dns_query"
    assert {event["host"] for event in events[:-1]} == {"chatgpt.com"}
