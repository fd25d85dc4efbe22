"""Cisco Meraki MX (and MR) syslog: web requests (`urls`), firewall flows, IDS alerts and content-filter blocks.

Every Meraki message is `<time> <device name> <event type> <body>`: the time is epoch seconds with nanoseconds
(`1700000000.123456789`), or an ISO 8601 time where newer firmware or a relay writes one; in front of it stand
`<PRI>1 ` (Meraki's own RFC 5424-like header), or a relay's header (`Apr 20 14:36:35 192.168.10.1 1 ...`), or
nothing. The device name is read past, the type decides what the line is:

- `urls` (HTTP requests the MX or MR saw): `src=ip:port dst=ip:port mac=... [agent='<User-Agent>'] request:
  <METHOD> <URL>`. An event, allowed (the MX logs requests it passed; blocks are `content_filtering_block`
  events). Host and path from the URL (host_source url); a `host:port` target without a scheme is a CONNECT
  (host_source connect). Meraki writes `UNKNOWN` for a method it could not read (HTTPS): none. The agent is
  quoted with `'` and may hold spaces and quotes: it runs to the quote before the last ` request: ` (a URL has
  no spaces, so the last one is the request's).
- Layer 3 firewall flows: `flows` (before MX 18.101), `firewall`, `vpn_firewall`, `cellular_firewall` and
  `bridge_anyconnect_client_vpn_firewall` (MX 18.101+): `src=ip dst=ip [mac=...] protocol=tcp sport=n dport=n
  pattern: <verdict> <rule>`; the verdict is `allow`/`deny`, or `0` (allow) / `1` (deny) for inbound rules,
  or a group policy's `Group Policy Allow`/`Deny`. MR access points write `flows allow|deny src=...` instead.
  `l7_firewall` carries `decision=allowed|blocked`. `ip_flow_start` (NAT sessions) is an allowed flow; its
  `ip_flow_end` twin is ignored, so that a flow is counted once.
- IDS alerts: `ids-alerts` and `security_event ids_alerted`: `direction=ingress|egress protocol=tcp/ip src=ip:port
  dst=ip:port [decision=allowed|blocked]`. An ingress alert is about a packet from the server to the client, so
  its `src` is the server: the event is turned around (client as src_ip, server as dst_ip and dst_port), as a
  flow is logged. Without `decision` (older `ids-alerts`) the action is unknown.
- `security_event security_filtering_file_scanned` (AMP): `url=... src=ip:port dst=ip:port ... action=block|allow`.
- `events content_filtering_block url='...' category0='...' server='ip:port' client_mac='...'`: a blocked web
  request (host and path from the URL, category0 as vendor_category); the client is named by MAC only, which
  the schema has no column for (not read), so src_ip is null.
Every other type and subtype carries no traffic and is ignored: `events` (VPN, uplink, DHCP leases, AnyConnect),
`airmarshal_events`, `security_filtering_disposition_change`, `ip_flow_end`. MAC addresses are not read.
Addresses: `ip:port`, `[v6]:port`, or bare; an IPv6 address with a port and no brackets
(`fe80:...:8330:80`, as MX firmware writes it in `urls`) has the port after its last colon. Meraki logs no
byte counts: bytes_out is null.

Reading: one compiled pass over each line's bytes (meraki_scan.py) finds the head, the keys' values, the verdict
text, the request and the agent, and cuts addresses at their colons; the epoch time becomes microseconds there.
Only what has few distinct values goes through SQL, once per value (URLs: host, path, scheme; ISO times): a
regular expression per key costs several times more (measured: 0.75 s CPU per 200k lines in DuckDB SQL, 0.3 s so).
Then spans are chosen per row before any text is cut (a block's server as destination, an ingress alert turned
around, the URL's source), and verdicts and reject reasons are small codes per row: each text is cut out once,
all of them in one pass over the lines (`gather_scan.gathered`, each line's bytes read from memory once), as are
the addresses' colons. Parse CPU per 131k-line batch of the repeated mx-epoch sample ~0.18 s -> ~0.13 s
(2026-11-29) -> ~0.11 s (2026-11-30; 2M lines, one thread, load ~3: 1.63-1.78 s, mx18-iso 1.51-1.61 s, against
1.86-2.02 / 1.98-2.13 s before). Whole ingest of the benchmark's 2M-line files (benchmarks/ingest.py --formats
meraki --format-lines 2000000 --no-regex --per-sample, load ~5): 3.7 s CPU for mx-epoch and mx18-iso against the
generic DuckDB baseline's 2.35 / 2.2 s, ratio 0.63 / 0.63 by wall time (0.52 / 0.53 before 2026-11-30, idle
machine): the target 0.5 met. About 0.9 s of it is paid once per process: Python's and the product's imports,
and loading Numba and its first cached kernel (SciPy's BLAS no longer imported with it: compiled.py).

Time: epoch seconds are UTC; an ISO time with an offset is absolute, without one in the configured zone. A
traffic line without a source and a destination address, or with an unreadable time, is a counted reject; a
line without the Meraki `<time> <device> <type>` head is not a Meraki line (reject).

References: Meraki "Syslog Event Types and Log Samples"
(https://documentation.meraki.com/General_Administration/Monitoring_and_Reporting/Syslog_Event_Types_and_Log_Samples)
and "Syslog Server Overview and Configuration" (the MX 18.101 flows -> firewall rename, inbound 0/1 verdicts;
https://documentation.meraki.com/General_Administration/Monitoring_and_Reporting/Syslog_Server_Overview_and_Configuration);
Elastic's cisco_meraki integration (https://github.com/elastic/integrations/tree/main/packages/cisco_meraki:
urls/flows/ipflows/idsalerts pipelines, bracketed and unbracketed IPv6 with ports, agent inside the urls body);
Sekoia's intake format (https://github.com/SEKOIA-IO/intake-formats/tree/main/Cisco/cisco-meraki: `pattern: 0|1`,
content_filtering_block, IPv6 urls); LogZilla's Meraki notes (https://docs.logzilla.net/LogZilla_Appstore/Cisco_Meraki/).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import DistinctQuery, one_array, only_where, per_distinct
from detector.ingest.base import (
    BatchParser,
    Format,
    ParseContext,
    ParseResult,
    line_share,
    parse_cursor,
    split_outcomes,
)
from detector.ingest.distinct_sql import INTEGER_SQL, in_chunk_slices, in_time_zone, integers
from detector.ingest.ip_protocols import NAMES
from detector.ingest.layout_bytes import line_bytes
from detector.ingest.syslog import ISO_TIME
from detector.schema import TIMESTAMP

if TYPE_CHECKING:
    from detector.ingest.compiled import WantedKeys
    from detector.ingest.meraki_scan import Scan

EPOCH_TIME = r"\d{9,10}\.\d{1,9}"
HEAD_TIME = rf"(?:{EPOCH_TIME}|{ISO_TIME})"
# The types sniffing accepts: Meraki's MX/MR/MS syslog roles (a guessed type would let other formats' lines in).
TYPES = (
    "urls", "flows", "firewall", "vpn_firewall", "cellular_firewall", "bridge_anyconnect_client_vpn_firewall",
    "l7_firewall", "ip_flow_start", "ip_flow_end", "ids-alerts", "security_event", "events", "airmarshal_events",
)
FLOW_TYPES = ("flows", "firewall", "vpn_firewall", "cellular_firewall", "bridge_anyconnect_client_vpn_firewall",
              "l7_firewall", "ip_flow_start")

NOT_MERAKI = 'not a Cisco Meraki syslog line (no "<epoch time> <device> <event type>" head)'
NO_ADDRESS = "no source or destination address (src=/dst=)"
NO_URL = "content_filtering_block without url= or server="
BAD_TIME = "time is not epoch seconds or an ISO 8601 time: "
ALLOW_WORDS = ("allow", "allowed", "0")
DENY_WORDS = ("deny", "denied", "block", "blocked", "1")
# Protocol numbers and Meraki's `icmp6` named as the other formats name them (ip_protocols: `ipv6-icmp`)
_PROTOCOL_NAMES = {**NAMES, "icmp6": "ipv6-icmp", "icmpv6": "ipv6-icmp"}
KEYS = ("src", "dst", "dport", "protocol", "decision", "direction", "action", "url", "server", "category0")
# Roles of the lines, by their type and first body word.
NONE, IGNORED, URL, FLOW, IDS, FILE, BLOCK = range(7)
SECURITY_EVENT, EVENTS = 100, 101  # (decided by the first body word)
ROLE_OF_TYPE = {"urls": URL, "ids-alerts": IDS, "security_event": SECURITY_EVENT, "events": EVENTS,
                **{kind: FLOW for kind in FLOW_TYPES}}
ROLE_OF_SUBTYPE = {"ids_alerted": IDS, "security_filtering_file_scanned": FILE, "content_filtering_block": BLOCK,
                   "type=content_filtering_block": BLOCK}
ACTIONS = pa.array(["allowed", "blocked", "unknown"])
HOST_SOURCES = pa.array(["url", "connect", "none"])
# Flow types whose verdict the type itself gives (index in ACTIONS), or -2: `decision=`
KIND_VERDICTS = {"ip_flow_start": 0, "l7_firewall": -2}
# An MR access point's `flows allow|deny ...`: the first body word is the verdict
FLOW_WORDS = {"allow": 0, "deny": 1}
# The types and first body words that name a role or a verdict, as the scan's words are compared with them
_KIND_NAMES = tuple(ROLE_OF_TYPE)
_SUB_NAMES = (*ROLE_OF_SUBTYPE, *FLOW_WORDS)
INGRESS = np.frombuffer(b"ingress", np.uint8)
# Lines of the reader's batch read at a time (as sonicwall.py: Arrow's and DuckDB's calls cost per call too).
OUTCOME_LINES = 131_072

# A URL (urls' request, AMP's url=, a content-filter block's url='...'): host, path, scheme, and whether it is a
# `host:port` CONNECT target (no scheme). Meraki elides what it did not see with `...`: `https://host/...` (the
# path of an encrypted request: none) and `https://...` (no host either: none).
URL_SQL = r"""
with parts as (
    select value, url_rest(value) as rest,
        url_rest(value) is null and regexp_full_match(value, '[^/\s]+:\d{1,5}') as is_connect
    from distinct_values
),
named as (
    select *,
        hostport_host(case when is_connect then value else authority_hostport(rest_authority(rest)) end) as named_host
    from parts
)
select
    case when not regexp_full_match(named_host, '\.*') then named_host end as host,
    is_connect,
    case when not is_connect and not regexp_full_match(named_host, '\.*')
        and rest_path(rest) <> '/...' then rest_path(rest) end as url_path,
    url_scheme(value) as scheme
from named
"""
# An ISO 8601 head time: with an offset absolute, else in the configured zone.
ISO_SQL = r"""
select case when regexp_matches(value, '(Z|[+-]\d{2}:?\d{2})$') then try_cast(value as timestamptz)
            else timezone(@TZ@, try_cast(value as timestamp)) end as ts
from distinct_values
"""


def _verdict_action(verdict: str | None) -> int:
    """A flow's, an alert's or a file scan's verdict -> index in ACTIONS: `allow ...`, `0 ...` (inbound allow),
    `Group Policy Allow`; `deny ...`, `1 ...`, `Group Policy Deny`; else unknown."""
    words = (verdict or "").lower().split()
    if words[:2] == ["group", "policy"]:
        words = words[2:]
    if words and words[0] in ALLOW_WORDS:
        return 0
    if words and words[0] in DENY_WORDS:
        return 1
    return 2


class _Queries:
    """The per-distinct queries of one file, each remembering the values it has read."""

    def __init__(self, timezone: str) -> None:
        self.url = DistinctQuery(URL_SQL)
        self.iso = DistinctQuery(in_time_zone(ISO_SQL, timezone))
        self.integer = DistinctQuery(INTEGER_SQL)


def new_parser(context: ParseContext) -> BatchParser:
    """Spans found by the compiled scan (meraki_scan); URLs and ISO times read once per distinct value in SQL."""
    from detector.ingest.compiled import WantedKeys  # (Numba: loaded only when a Meraki log is read)

    keys = WantedKeys(KEYS)
    queries = _Queries(context.timezone)

    def parse(lines: pa.Table) -> ParseResult:
        counted = [0]

        def outcomes(connection: duckdb.DuckDBPyConnection, part: pa.Table) -> pa.Table:
            table, count = _outcomes(connection, queries, keys, part)
            counted[0] += count
            return table

        with parse_cursor(context.connection) as cursor:
            result = split_outcomes(in_chunk_slices(lines, lambda part: outcomes(cursor, part), OUTCOME_LINES), lines)
        result.ignored += counted[0]
        return result

    return parse


def _codes(encoded: pa.DictionaryArray, names: list[object], missing: object) -> np.ndarray:
    """Each row's entry of `names` (one per dictionary value of `encoded`), `missing` where the row is null."""
    lookup = np.array([*names, missing])
    return lookup[pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(zero_copy_only=False)]


def _role(data: np.ndarray, scan: Scan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each line's role (NONE ... BLOCK), from its type and its body's first word (each compared in the line's own
    bytes with the names this module knows: `meraki_scan.word_codes`); and, read from the same two words, the flow
    type's verdict (ALLOW_TYPES: 0, l7_firewall: -2, else -1) and an MR flow's `allow`/`deny` first word (0/1, else
    -1)."""
    from detector.ingest.compiled import WantedKeys
    from detector.ingest.meraki_scan import word_codes

    # (a code's entry in each table; -1, a word none of the names, and -2, no head, the last two entries)
    kinds = word_codes(data, *scan.span("kind"), WantedKeys(_KIND_NAMES))
    role = np.array([*(ROLE_OF_TYPE[kind] for kind in _KIND_NAMES), NONE, IGNORED], np.int64)[kinds]
    kind_verdict = np.array([*(KIND_VERDICTS.get(kind, -1) for kind in _KIND_NAMES), -1, -1], np.int64)[kinds]
    word_verdict = np.full(len(role), -1, np.int64)
    sub_rows = (role == SECURITY_EVENT) | (role == EVENTS)
    flow = role == FLOW
    if sub_rows.any() or flow.any():
        subs = np.where(sub_rows | flow, word_codes(data, *scan.span("sub"), WantedKeys(_SUB_NAMES)), -2)
        sub_role = np.array([*(ROLE_OF_SUBTYPE.get(sub, IGNORED) for sub in _SUB_NAMES), IGNORED, IGNORED],
                            np.int64)[subs]
        word_verdict = np.where(flow, np.array([*(FLOW_WORDS.get(sub, -1) for sub in _SUB_NAMES), -1, -1],
                                               np.int64)[subs], -1)
        ids_or_file = (role == SECURITY_EVENT) & ((sub_role == IDS) | (sub_role == FILE))
        block = (role == EVENTS) & (sub_role == BLOCK)
        role = np.where(ids_or_file | block, sub_role, np.where(sub_rows, IGNORED, role))
    return role, kind_verdict, word_verdict.astype(np.int64)


def _cut_all(data: np.ndarray, planned: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]
             ) -> dict[str, pa.Array]:
    """`_cut` of every planned text (name: starts, ends, where), in one pass over the lines
    (gather_scan.gathered)."""
    from detector.ingest.gather_scan import gathered

    names = list(planned)
    starts = np.stack([planned[name][0] for name in names])
    valid = starts >= 0
    for row, name in enumerate(names):
        where = planned[name][2]
        if where is not None:
            valid[row] &= where
    ends = np.maximum(np.stack([planned[name][1] for name in names]), starts)
    return dict(zip(names, gathered(data, starts, ends, valid), strict=True))


def _address_parts(data: np.ndarray, scan: Scan, keys: WantedKeys, names: tuple[str, ...]
                   ) -> dict[str, tuple[np.ndarray, ...]]:
    """`meraki_scan.addresses` of the keys `names`, read line by line (each line's values one after the other, as
    they lie in memory) rather than key by key: per key (ip start, ip end, port, v6 split, port after it)."""
    from detector.ingest.meraki_scan import addresses

    numbers = [keys.keys.index(name) for name in names]
    starts, ends, present = (np.ascontiguousarray(array[numbers].T).ravel()
                             for array in (scan.key_starts, scan.key_ends, scan.found))
    parts = addresses(data, starts, ends, present)
    return {name: tuple(part.reshape(-1, len(names))[:, number] for part in parts)
            for number, name in enumerate(names)}


def _is_word(data: np.ndarray, scan: Scan, number: int, where: np.ndarray, word: np.ndarray) -> np.ndarray:
    """Whether the value of key `number` is `word` (bytes) on the rows `where`: compared in the line's own bytes,
    so that a key read only for that needs no text cut out."""
    rows = np.flatnonzero(where & scan.found[number] & (scan.key_ends[number] - scan.key_starts[number] == len(word)))
    same = np.zeros(len(where), np.bool_)
    if len(rows):
        same[rows] = (data[scan.key_starts[number][rows, None] + np.arange(len(word))] == word).all(axis=1)
    return same


def _outcomes(connection: duckdb.DuckDBPyConnection, queries: _Queries, keys: WantedKeys, lines: pa.Table
              ) -> tuple[pa.Table, int]:
    """The events and rejects (reject_reason) of the lines, and how many lines are ignored (left out of the table:
    none of their values is read)."""
    from detector.ingest.meraki_scan import Scan

    text = one_array(lines.column("line"))
    _, data, offsets = line_bytes(text)
    scan = Scan(data, offsets, keys)
    role, kind_verdict, word_verdict = _role(data, scan)
    kept = role != IGNORED
    ignored = int((~kept).sum())
    line_no = lines.column("line_no")
    if ignored:  # (their values are never cut out: `text` keeps its buffer, the scan its rows read)
        rows = np.flatnonzero(kept)
        role, line_no = role[rows], line_no.take(pa.array(rows))
        kind_verdict, word_verdict = kind_verdict[rows], word_verdict[rows]
        scan.only(rows)
    count = len(role)
    # every text read is planned first (its span per row, where it is read), then all are cut out at once
    planned: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}

    def part(name: str, where: np.ndarray | None = None) -> None:
        planned[name] = (*scan.span(name), where)

    def value(key: str, where: np.ndarray | None = None) -> None:
        number = keys.keys.index(key)
        planned[key] = (np.where(scan.found[number], scan.key_starts[number], -1), scan.key_ends[number], where)

    def spans_and_port(key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A key's address (start, -1 where none; end) and port."""
        present = scan.found[keys.keys.index(key)]
        ip_start, ip_end, port, split, split_port = address_parts[key]
        use_split = ported & (split >= 0)
        ip_end, port = np.where(use_split, split, ip_end), np.where(use_split, split_port, port)
        return np.where(present & (ip_end > ip_start), ip_start, -1), ip_end, port

    ported = (role == URL) | (role == IDS) | (role == FILE) | (role == BLOCK)
    block, flow, ids = role == BLOCK, role == FLOW, role == IDS
    address_parts = _address_parts(data, scan, keys, ("src", "dst", "server") if block.any() else ("src", "dst"))
    # the addresses' spans chosen per row first (a block's server, an ingress alert turned around)
    src_start, src_end, src_port = spans_and_port("src")
    dst_start, dst_end, dst_port = spans_and_port("dst")
    if block.any():
        server_start, server_end, server_port = spans_and_port("server")
        dst_start, dst_end = np.where(block, server_start, dst_start), np.where(block, server_end, dst_end)
        dst_port = np.where(block, server_port, dst_port)
        src_start = np.where(block, -1, src_start)
    ingress = _is_word(data, scan, keys.keys.index("direction"), ids, INGRESS)
    if ingress.any():
        src_start, dst_start = np.where(ingress, dst_start, src_start), np.where(ingress, src_start, dst_start)
        src_end, dst_end = np.where(ingress, dst_end, src_end), np.where(ingress, src_end, dst_end)
        dst_port = np.where(ingress, src_port, dst_port)
    planned["src_ip"] = (src_start, src_end, None)
    planned["dst_ip"] = (dst_start, dst_end, None)
    value("dport", flow)
    # the URL: urls' request, AMP's url=, a content-filter block's url='...'
    number = keys.keys.index("url")
    url_start, url_end = scan.span("url")
    in_value = ((role == FILE) | block) & scan.found[number]
    url_start = np.where(role == URL, url_start, np.where(in_value, scan.key_starts[number], -1))
    planned["url"] = (url_start, np.where(role == URL, url_end, scan.key_ends[number]), None)
    part("method", role == URL)
    value("protocol", flow | ids)
    value("decision", flow | ids)
    value("action", role == FILE)
    part("pattern", flow)
    epoch = scan.epoch_us
    iso = (epoch < 0) & (role != NONE)  # (an epoch time always reads: only an ISO one may be bad)
    part("time", iso)
    part("agent", role == URL)
    value("category0", block)
    texts = _cut_all(data, planned)

    src_ip, dst_ip = texts["src_ip"], texts["dst_ip"]
    dport = integers(connection, queries.integer, texts["dport"], pa.int32()) if flow.any() \
        else pa.nulls(count, pa.int32())
    dst_port = pc.coalesce(dport, pa.array(np.where(dst_port >= 0, dst_port, 0), pa.int32(), mask=dst_port < 0))

    parts = per_distinct(connection, texts["url"], queries.url)
    is_connect = pc.fill_null(parts["is_connect"], False)
    methods = pc.dictionary_encode(texts["method"])
    named = [None if m in ("", "UNKNOWN") else m.upper() for m in methods.dictionary.to_pylist()]
    method = pa.DictionaryArray.from_arrays(methods.indices, pa.array(named, pa.string())).cast(pa.string())
    method = pc.if_else(is_connect, "CONNECT", method)
    protocol = pc.dictionary_encode(texts["protocol"])
    names = [_PROTOCOL_NAMES.get(p.lower().split("/")[0], p.lower().split("/")[0]) or None
             for p in protocol.dictionary.to_pylist()]
    protocol = pa.DictionaryArray.from_arrays(protocol.indices, pa.array(names, pa.string())).cast(pa.string())

    # the verdict: read per distinct text, then chosen per row (the first of: l7_firewall's decision, the flow
    # type's own, an MR flow's first word, the pattern; an alert's decision; a file scan's action)
    decision = texts["decision"]
    action = np.full(count, 2, np.int64)
    for text_of in (texts["action"], only_where(decision, pa.array(ids)), texts["pattern"]):
        verdicts = pc.dictionary_encode(text_of)
        codes = _codes(verdicts, [_verdict_action(v) for v in verdicts.dictionary.to_pylist()], -1).astype(np.int64)
        action = np.where(codes >= 0, codes, action)
    action = np.where(word_verdict >= 0, word_verdict, action)
    action = np.where(kind_verdict >= 0, kind_verdict, action)
    l7 = kind_verdict == -2
    if l7.any():
        verdicts = pc.dictionary_encode(decision)
        codes = _codes(verdicts, [_verdict_action(v) for v in verdicts.dictionary.to_pylist()], 2).astype(np.int64)
        action = np.where(l7, codes, action)
    action = np.where(role == URL, 0, np.where(block, 1, action))

    # the time: epoch seconds from the scan, an ISO time once per distinct value
    ts = pa.array(np.where(epoch >= 0, epoch, 0), TIMESTAMP, mask=epoch < 0)
    time_text = texts["time"]
    if iso.any():
        ts = pc.coalesce(ts, per_distinct(connection, only_where(time_text, pa.array(iso)), queries.iso)["ts"]
                         .cast(TIMESTAMP))

    # the reject reason per row as a code (no per-row string passes), its text taken from the few reasons
    src_missing, dst_missing = src_start < 0, dst_start < 0
    code = np.select([role == NONE, block & (dst_missing | (url_start < 0)), ~block & (src_missing | dst_missing),
                      pc.is_null(ts).to_numpy(zero_copy_only=False)], [1, 2, 3, 4], 0)
    reason = pa.array([None, NOT_MERAKI, NO_URL, NO_ADDRESS, None], pa.string()).take(pa.array(code))
    if (code == 4).any():
        reason = pc.if_else(pa.array(code == 4), pc.binary_join_element_wise(BAD_TIME, time_text, ""), reason)
    host = parts["host"]
    agent = texts["agent"]
    return pa.table({
        "line_no": line_no,
        "reject_reason": reason,
        "is_ignored": pa.nulls(count, pa.bool_()),
        "ts": ts,
        "src_ip": src_ip,
        "host": host,
        "host_source": pa.DictionaryArray.from_arrays(pa.array(np.where(
            pc.is_null(host).to_numpy(zero_copy_only=False), 2, np.where(is_connect.to_numpy(zero_copy_only=False),
                                                                         1, 0)), pa.int32()), HOST_SOURCES),
        "dst_ip": dst_ip,
        "dst_port": dst_port,
        "network_protocol": pc.coalesce(protocol, parts["scheme"].cast(pa.string())),
        "http_method": method,
        "url_path": parts["url_path"],
        "action": pa.DictionaryArray.from_arrays(pa.array(action, pa.int32()), ACTIONS),
        "user_agent": only_where(agent, pc.not_equal(agent, "")),
        "vendor_category": texts["category0"],
    }), ignored


SNIFF = re.compile(rf"^(?:.*?[ >])?{HEAD_TIME} \S+ (?:{'|'.join(map(re.escape, TYPES))})(?: |$)")

SYSLOG = Format(
    name="meraki",
    source_kind="firewall",
    summary="Cisco Meraki MX/MR syslog: urls (web requests with host, path, agent), L3/L7 firewall and flow "
            "verdicts, IDS alerts, AMP and content-filter blocks; events and air marshal ignored",
    sniff=line_share(SNIFF),
    new_parser=new_parser,
    independent_batches=True,
    fields=(
        "ts", "src_ip", "host", "host_source", "dst_ip", "dst_port", "network_protocol", "http_method", "url_path",
        "action", "user_agent", "vendor_category",
    ),
)
