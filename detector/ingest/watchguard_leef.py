"""The WatchGuard Firebox's IBM LEEF syslog lines (`LEEF:1.0|WatchGuard|XTM|<version>|<msg id, 8 hex digits>|` then
tab-separated `key=value` attributes, tabs as `#011` where a relay escaped them) for `watchguard`'s reading.

Most lines are read directly (`read`): one compiled pass (`watchguard_scan.leef_fields`) cuts each line's
attributes once and places the wanted keys' values and the packet's fields in the line's own bytes, where the
Firebox's own layout is read after the text before `msg_id` and the packet's tokens; the head a line would have in
that layout (the text before `LEEF:`, the process named by the message id's family, `: `) is made once per distinct
head and family. The lines that pass cannot read so without a doubt (quote marks, attributes that are not
`name=value`, packet fields with spaces: see `watchguard_scan`) are rewritten into the Firebox's own layout first
(`native_layout`: Arrow regular expressions over those lines only) and read as such lines are: the same outcome.
The direct reading replaced the rewrite for every line: CPU of the parse of 200k benchmark LEEF lines (parser
alone) ~2.6-3.0 s, of which the rewrite ~2.2-2.6 s, the regular expressions one per packet field and one over
every attribute; now ~0.33-0.40 s.

Where the parse of 200k such lines goes now (2026-11-30, seventeenth session, busy machine): the pass ~0.10 s (its
names looked up by their first 8 bytes in a hash table, its places kept key by key), cutting out and encoding the
columns' texts (`watchguard._encoded_spans`, ~30 ns a value) ~0.08 s, the heads and the rest of the columns ~0.10 s;
at 4M lines the parse threads take ~6.4 s CPU of ~10.4 (8.2 of 12.7 before this session), reading ~1.0, writing
~1.2, imports and Numba ~1.0. Measured and left (no saving past the noise of a whole ingest, or less than 2 %):
scanning the attributes eight bytes at a time (pass 0.127 -> 0.111 s); a table look-up per byte alone (within noise:
kept beside the hashed names, ~3 % of the pass); the columns' texts numbered in one compiled pass
(`cef_scan.distinct_values`, ~50 ns a value) instead of cut out per column (slower: the places gathered into one
array and the dictionaries built back cost more than was saved); the packets' places used without copies where
every line is a candidate (~1 % of the parse).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.key_values import rows_with, spans_of
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.syslog import RSYSLOG_TAB

if TYPE_CHECKING:
    from detector.ingest.compiled import WantedKeys

# `LEEF:1.0|WatchGuard|XTM|<version>|<msg id, 8 hex digits>|key=value` pairs separated by tabs (`#011` where a
# relay escaped them), values unquoted.
_LEEF = re.compile(r"^(?P<head>.*?)LEEF:[0-9.]+\|WatchGuard\|[^|]*\|[^|]*\|(?P<a>[0-9A-Fa-f]{4})-?(?P<b>[0-9A-Fa-f]{4})"
                   r"\|(?P<attrs>.*)$")
_LEEF_PACKET = ("disp", "proto", "src", "dst", "srcPort", "dstPort")
# The packet's attributes read directly (`watchguard_scan.leef_fields` takes them after the caller's keys, in this
# order)
PACKET_KEYS = _LEEF_PACKET
_LEEF_PROGRAMS = {"1AFF": "http-proxy", "2CFF": "https-proxy", "1DFF": "dns-proxy"}
NO_PROTOCOL = "noproto"  # (a name where the LEEF message has no proto: the packet is found, the protocol is none)
# The process of each family `watchguard_scan.leef_fields` tells (0: any other message id)
_FAMILY_PROGRAMS = ("firewall", "http-proxy", "https-proxy", "dns-proxy")


def leef_rows(line: pa.Array) -> np.ndarray | None:
    """Which lines hold `|WatchGuard|` (None where none does). The substring search runs only over the lines that
    hold a `|` (one byte scan of the buffer finds them: ~0.05 us a line where Arrow's search over every line cost
    ~0.6 us, a quarter of a native file's parse)."""
    piped = np.flatnonzero(rows_with(line, b"|"))
    if not len(piped):
        return None
    leef = np.zeros(len(line), bool)
    leef[piped] = pc.fill_null(pc.match_substring(line.take(pa.array(piped)), "|WatchGuard|"), False).to_numpy(
        zero_copy_only=False)
    return leef if leef.any() else None


def native_layout(line: pa.Array, leef: np.ndarray | None) -> pa.Array:
    """The lines with each WatchGuard LEEF line (of `leef`, see `leef_rows`) rewritten into the Firebox's own syslog
    layout (the header kept, then `<process>: msg_id="XXXX-XXXX" <disp> in out <proto> <src> <dst> <srcPort>
    <dstPort> key="value" ...`), so that one reading serves both; other lines as they are. Arrow's regular
    expressions over the LEEF lines only."""
    if leef is None or not leef.any():
        return line
    leef = pa.array(leef)
    text = line.filter(leef)
    if pc.any(pc.match_substring(text, RSYSLOG_TAB)).as_py():  # (each pass over the text costs: only where needed)
        text = pc.replace_substring(text, RSYSLOG_TAB, "\t")
    parts = pc.extract_regex(text, _LEEF.pattern)
    attrs = parts.field("attrs")
    if pc.any(pc.match_substring(attrs, " seconds")).as_py():
        attrs = pc.replace_substring_regex(attrs, r"(^|\t)duration=([0-9]+) seconds", r"\1duration=\2")
    packet = [pc.struct_field(pc.extract_regex(attrs, rf"(?:^|\t){key}=(?P<v>[^\t]*)"), [0]) for key in _LEEF_PACKET]
    disp, proto, src, dst, sport, dport = (pc.fill_null(value, "") for value in packet)
    proto = pc.if_else(pc.equal(proto, ""), NO_PROTOCOL, proto)  # (a session end may log none)
    code = pc.utf8_upper(parts.field("a"))
    program = pa.array(["firewall"] * len(code), pa.string())  # (the process by the message id's family)
    for prefix, name in _LEEF_PROGRAMS.items():
        program = pc.if_else(pc.fill_null(pc.equal(code, prefix), False), name, program)
    pairs = pc.replace_substring_regex(attrs, r"(?:^|\t)([A-Za-z_][A-Za-z0-9_]*)=([^\t]*)", r' \1="\2"')
    native = pc.binary_join_element_wise(
        parts.field("head"), program, ': msg_id="', code, "-", pc.utf8_upper(parts.field("b")), '" ', disp, " in out ",
        proto, " ", src, " ", dst, " ", sport, " ", dport, pairs, "")
    native = pc.coalesce(native, text)
    return pc.replace_with_mask(line, leef, native.cast(line.type))


class Read:
    """Lines read as LEEF lines: which could be (`simple`), and for those the wanted keys' values (`found`,
    `starts`, `ends`, as `fortigate_scan.value_spans` gives them, in `line`'s own bytes), the packet's places (as
    `watchguard_scan.packet_fields`), and the head each would have in the Firebox's own layout (`heads`)."""

    def __init__(self, line: pa.Array, rows: np.ndarray, keys: WantedKeys, wanted: int, duration: int) -> None:
        """Read the lines `rows` of `line` (any lines: those without the WatchGuard LEEF header are not simple);
        `keys` holds the caller's `wanted` keys, then PACKET_KEYS; `duration` is the key whose `N seconds` is N."""
        from detector.ingest import watchguard_scan as scan

        self.line = line
        _, self.data, offsets = line_bytes(line)
        simple, head_end, family, found, starts, ends, places = scan.leef_fields(
            self.data, offsets, rows, keys, wanted, duration)
        self.simple = np.zeros(len(line), bool)
        self.simple[rows] = simple
        self.found, self.starts, self.ends = found[:, :wanted], starts[:, :wanted], ends[:, :wanted]
        self.places = places
        self._head = offsets[rows], head_end, family

    def heads(self) -> tuple[pa.Array, np.ndarray]:
        """Each distinct (text before `LEEF:`, family) as the head of the Firebox's own layout (the process named
        by the family), and each line's among them: for lines all read."""
        begin, end, family = self._head
        head = pc.dictionary_encode(spans_of(self.line, begin, end))
        pair = head.indices.to_numpy(zero_copy_only=False).astype(np.int64) * len(_FAMILY_PROGRAMS) + family
        # (the pairs numbered in order of value, as np.unique numbers them, without its sort: a pair is below
        # 4 x the heads, so a mark per possible pair and their running count do; the sort was ~6 % of the parse)
        seen = np.zeros(len(head.dictionary) * len(_FAMILY_PROGRAMS), bool)
        seen[pair] = True
        distinct = np.flatnonzero(seen)
        index = (np.cumsum(seen) - 1)[pair]
        texts = pc.binary_join_element_wise(
            head.dictionary.take(pa.array(distinct // len(_FAMILY_PROGRAMS))),
            pa.array(_FAMILY_PROGRAMS).take(pa.array(distinct % len(_FAMILY_PROGRAMS))), ": ", "")
        return texts, index.astype(np.int32)
