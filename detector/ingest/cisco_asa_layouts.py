"""The Cisco ASA messages read in Arrow (see cisco_asa.py): each message ID's documented layout checked token
by token (its fixed words, the shape of each field) and read where it fits.

A reader gets the space-separated tokens of its messages' lines (`Tokens`; token 0 is the tag) and returns the
fields it reads and which lines fit the layout exactly: where the documented regular expression (cisco_asa.QUERY)
would read the same fields. Anything less common (an identity with a space, a user part in a 106023 source, a
`/` inside an address) does not fit, and is left to that expression.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import ModuleType

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import list_item, only_where, whole_number
from detector.ingest.layout_bytes import line_bytes

SGT = r"^\d+:"  # a TrustSec security group tag `number:name` in an identity's place (cisco_asa.SGT)
# An address with a colon is an IPv6 one (two colons at least, hex digits, maybe an IPv4 tail or a zone); any other
# (`outside:10.1.1.1` after `v1:`, a context's or virtual interface's prefix before the interface's name) does not
# fit: cisco_asa.QUERY reads the interface as far as the address (cisco_asa.ADDRESS).
# A Teardown's last word: `(user)`, the AAA name of the user (after the reason, if any).
AAA_USER = r"(?:^| )\((?P<user>[^()\s]+)\)$"
# A Teardown's `duration H:M:S` in milliseconds fits in 64 bits below these (2e12 hours are 7.2e18 ms): a longer one
# is no duration (null), not a number wrapped round (or DuckDB's overflow error, which failed the whole file)
LONGEST_CLOCK = (2 * 10**12, 10**13, 10**15)
IPV6_SHAPE = r"^[0-9A-Fa-f]*:[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(?:%[^\s/()]+)?$"


class Tokens:
    """The space-separated tokens of some rows' text after the `%` (token 0 is the tag), read by position.

    `lists` are the tokens of some lines' texts after the `%` (`rest`): the rows' are at `at` (-1: not cut into
    tokens, a Firepower event's); `rows` are the rows' places in `line`, and `tag` their tags."""

    def __init__(self, lists: pa.ListArray, at: np.ndarray, rest: pa.Array, line: pa.Array, rows: np.ndarray,
                 tag: pa.Array) -> None:
        offsets = lists.offsets.to_numpy()
        # (an empty list last, where `at` is -1)
        starts, counts = np.append(offsets[:-1], 0), np.append(np.diff(offsets), 0)
        self.values, self.starts, self.counts = lists.values, starts[at], counts[at]
        self.places, self.rest, self.line, self.rows, self.tag = at, rest, line, rows, tag

    @property
    def text(self) -> pa.Array:
        """The rows' text after the `%`, whole."""
        return self.rest.take(pa.array(self.places))

    def at(self, position: int | np.ndarray) -> pa.Array:
        """Token `position` (one for all rows, or one per row) of each row; null where a message is shorter."""
        return self.values.take(pa.array(self.starts + position, mask=self.counts <= position))

    def last(self) -> tuple[pa.Array, np.ndarray]:
        """The last token of each row, and its position (null where a row has no token)."""
        return self.values.take(pa.array(self.starts + self.counts - 1, mask=self.counts == 0)), self.counts - 1


def teardown(t: Tokens) -> tuple[dict[str, pa.Array], np.ndarray]:
    """`Teardown TCP|UDP connection N for SIDE [word] to SIDE [word] duration H:M:S bytes N ...`, where a SIDE
    is `interface:address/port[(identity)]`; the client is the side with the identity, else the higher port,
    else the second side (see the module docstring)."""
    protocol = t.at(2)
    fits = (_is(t.at(1), "Teardown") & (_is(protocol, "TCP") | _is(protocol, "UDP")) & _is(t.at(3), "connection")
            & _digits(t.at(4)) & _is(t.at(5), "for"))
    a_word = ~_is(t.at(7), "to")
    to_at = 7 + a_word
    b_word = ~_is(t.at(to_at + 2), "duration")
    duration_at = to_at + 2 + b_word
    fits &= _is(t.at(to_at), "to") & _is(t.at(duration_at), "duration") & _is(t.at(duration_at + 2), "bytes")
    fits &= pc.fill_null(pc.match_substring_regex(t.at(duration_at + 3), "^[0-9]"), False).to_numpy(
        zero_copy_only=False)
    sides = []
    for at, has_word in ((6, a_word), (to_at + 1, b_word)):
        address, port, identity, side_fits = _per_distinct(_side, t.at(at))
        word = only_where(t.at(at + 1), pa.array(has_word)) if has_word.any() else pa.nulls(len(fits), pa.string())
        fits &= side_fits & ~(has_word & ~_word(word))
        user = pc.coalesce(_non_empty(identity), word)
        sides.append((address, port, _non_empty(user)))
    (address_a, port_a, user_a), (address_b, port_b, user_b) = sides
    number_a, number_b = (_small_number(port) for port in (port_a, port_b))
    fits &= ~np.isnan(number_a) & ~np.isnan(number_b)
    has_a, has_b = (pc.is_valid(user).to_numpy(zero_copy_only=False) for user in (user_a, user_b))
    client_first = pa.array(np.where(has_a != has_b, has_a, number_a > number_b))
    hours, minutes, seconds, clock_fits = _per_distinct(_clock, t.at(duration_at + 1))
    fits &= clock_fits
    return {
        "src_ip": pc.if_else(client_first, address_a, address_b),
        "user_name": pc.coalesce(pc.if_else(client_first, user_a, user_b), _aaa_user(t, duration_at + 3)),
        "dst_ip": pc.if_else(client_first, address_b, address_a),
        "dst_port": pc.if_else(client_first, port_b, port_a),
        "protocol": protocol,
        "duration": pa.array(((hours * 60 + minutes) * 60 + seconds) * 1000, mask=(
            (hours > LONGEST_CLOCK[0]) | (minutes > LONGEST_CLOCK[1]) | (seconds > LONGEST_CLOCK[2]))),
    }, fits


def _aaa_user(t: Tokens, bytes_at: np.ndarray) -> pa.Array:
    """The `(user)` that may end a Teardown after its byte count and reason (`... bytes 5120 TCP FINs (jdoe)`: "the
    AAA name of the user", cut-through proxy authentication): the client's user. No reason has parentheses."""
    last, position = t.last()  # (the last token may be the line's rest, with spaces: see TOKENS)
    closed = pc.fill_null(pc.ends_with(last, ")"), False).to_numpy(zero_copy_only=False) & (position > bytes_at)
    if not closed.any():  # (the common case: one look at each line's last byte)
        return pa.nulls(len(closed), pa.string())
    name = pc.struct_field(pc.extract_regex(only_where(last, pa.array(closed)), AAA_USER), [0])
    return _non_empty(name)


def acl(t: Tokens) -> tuple[dict[str, pa.Array], np.ndarray]:
    """`access-list NAME permitted|denied|est-allowed PROTOCOL ifc/src(port)[(user)] -> ifc/dst(port) ...`."""
    verdict, protocol = t.at(3), t.at(4)
    fits = (_is(t.at(1), "access-list") & _filled(t.at(2)) & pc.is_in(verdict, value_set=pa.array(
        ["permitted", "denied", "est-allowed"])).fill_null(False).to_numpy(zero_copy_only=False)
        & _filled(protocol) & _is(t.at(6), "->"))
    source, destination = t.at(5), t.at(7)
    src, _, user, src_fits = _acl_side(source, closed=True)
    dst, dst_port, _, dst_fits = _acl_side(destination, closed=False)
    not_icmp = ~pc.fill_null(pc.starts_with(pc.utf8_lower(protocol), "icmp"), False).to_numpy(zero_copy_only=False)
    return {
        "src_ip": src, "user_name": _non_empty(user), "dst_ip": dst,
        "dst_port": only_where(dst_port, pa.array(not_icmp)), "protocol": protocol,
        "blocked": pc.equal(verdict, "denied"),
    }, fits & src_fits & dst_fits


def deny(t: Tokens) -> tuple[dict[str, pa.Array], np.ndarray]:
    """`Deny [protocol ]PROTOCOL src ifc:src[/port] dst ifc:dst[/port] ... by access-group ...`."""
    shifted = _is(t.at(2), "protocol") & _is(t.at(4), "src")
    shift = shifted.astype(np.int64)
    fits = _is(t.at(1), "Deny") & (shifted | _is(t.at(3), "src")) & _is(t.at(5 + shift), "dst")
    protocol = t.at(2 + shift)
    src, _, src_fits = _deny_side(t.at(4 + shift))
    destination = t.at(6 + shift)
    # (once per distinct destination: a few servers and ports make most of them, as in a Teardown's sides)
    dst, dst_port, dst_fits = _per_distinct(_deny_side, destination)
    # `dst ... by access-group`: a comma or a `by` at the end of the destination would change what the
    # documented expression reads; the text after it holds the words.
    fits &= src_fits & dst_fits & _filled(protocol) & pc.is_valid(t.at(7 + shift)).to_numpy(zero_copy_only=False)
    fits &= ~_has(destination, ",") & ~pc.fill_null(pc.ends_with(destination, "by"), False).to_numpy(
        zero_copy_only=False) & _has(t.text, "by access-group")
    return {"src_ip": src, "dst_ip": dst, "dst_port": dst_port, "protocol": protocol,
            "blocked": pa.repeat(pa.scalar(True), len(fits))}, fits


def accessed(t: Tokens) -> tuple[dict[str, pa.Array], np.ndarray]:
    """`[user@]src[(identity)] Accessed [JAVA ]URL dst:url`."""
    who = t.at(1)
    fits = _is(t.at(2), "Accessed") & (_is(t.at(3), "URL") | (_is(t.at(3), "JAVA") & _is(t.at(4), "URL")))
    ats = pc.fill_null(pc.count_substring(who, "@"), 0).to_numpy(zero_copy_only=False)
    user, host_part = _cut(who, "@")
    user = only_where(user, pa.array(ats == 1))
    host_part = pc.if_else(pa.array(ats == 1), host_part, who)
    src, identity, src_fits = _with_identity(host_part)
    after = _cut(t.text, " Accessed ")[1]
    after = pc.if_else(pc.starts_with(after, "URL "), pc.utf8_slice_codeunits(after, 4),
                       pc.utf8_slice_codeunits(after, 9))
    dst, url = _cut(after, ":")
    fits &= (ats <= 1) & ~((ats == 1) & ~_filled(user)) & src_fits & _filled(dst) & pc.is_valid(url).to_numpy(
        zero_copy_only=False) & ~_has(dst, " ")
    return {"src_ip": src, "user_name": pc.coalesce(_non_empty(identity), _non_empty(user)), "dst_ip": dst,
            "url": url, "blocked": pa.repeat(pa.scalar(False), len(fits))}, fits


def denied_url(t: Tokens) -> tuple[dict[str, pa.Array], np.ndarray]:
    """`Access denied URL url SRC src[(identity)] DEST dst ...`."""
    url = t.at(4)
    fits = (_is(t.at(1), "Access") & _is(t.at(2), "denied") & _is(t.at(3), "URL") & _filled(url)
            & _is(t.at(5), "SRC") & _is(t.at(7), "DEST"))
    src, identity, src_fits = _with_identity(t.at(6))
    dst = _cut(t.at(8), "(")[0]
    fits &= src_fits & _filled(dst)
    return {"src_ip": src, "user_name": _non_empty(identity), "dst_ip": dst, "url": url,
            "blocked": pa.repeat(pa.scalar(True), len(fits))}, fits


# Firepower connection events (FTD 430002 / 430003): `Key: value, Key: value, ...`, the keys named in Cisco's
# "Connection and Security-Related Connection Event Fields". Key -> the field read from it.
FIREPOWER_KEYS = {
    "src_ip": "SrcIP", "dst_ip": "DstIP", "dst_port": "DstPort", "protocol": "Protocol", "user_name": "User",
    "decision": "AccessControlRuleAction", "url": "URL", "referenced_host": "ReferencedHost",
    "status": "HTTPResponse", "agent": "UserAgent", "sent": "InitiatorBytes", "received": "ResponderBytes",
    "seconds": "ConnectionDuration", "app": "WebApplication", "category": "URLCategory",
}
# What the User field holds when the connection has no user (Cisco's own placeholders)
NO_USER = ["No Authentication Required", "Not Found", "Unknown", "No Authentication", "Pending"]


def connection_event(t: Tokens) -> tuple[dict[str, pa.Array], np.ndarray]:
    """`AccessControlRuleAction: Allow, SrcIP: a, DstIP: b, SrcPort: p, DstPort: q, Protocol: tcp, ... User: u,
    ... InitiatorBytes: n, ResponderBytes: m, ... URL: u` (keys in any order, most optional). The connection is
    counted once: at its end (430003), or at its beginning (430002) where it was blocked (it has no end).
    A line without SrcIP and DstIP does not fit (QUERY rejects it)."""
    listed = _firepower_scan().FirepowerValues(t.line, t.rows, tuple(FIREPOWER_KEYS.values())).columns()
    values = {name: listed[key] for name, key in FIREPOWER_KEYS.items()}
    decision = pc.utf8_lower(values.pop("decision"))
    # Block, Block with reset, Interactive Block (with reset); Allow, Trust, Monitor, Fastpath (prefilter)
    blocked = pc.fill_null(pc.match_substring(decision, "block"), False)
    allowed = pc.fill_null(pc.is_in(decision, value_set=pa.array(["allow", "trust", "monitor", "fastpath"])), False)
    keep = _has(t.tag, "430003") | blocked.to_numpy(zero_copy_only=False)
    fits = _filled(values["src_ip"]) & _filled(values["dst_ip"])
    user = values.pop("user_name")
    seconds = values.pop("seconds")
    numbers = {}
    for name in ("sent", "received", "status"):
        number, valid = whole_number(pc.fill_null(values.pop(name), ""))
        numbers[name] = only_where(number, valid)
    duration, valid = whole_number(pc.fill_null(seconds, ""))
    return {
        **values,
        "user_name": only_where(user, pc.invert(pc.fill_null(pc.is_in(user, value_set=pa.array(NO_USER)), False))),
        **numbers,
        "duration": only_where(pc.multiply(duration, 1000), valid),
        "blocked": blocked,
        "decided": pc.or_(blocked, allowed),
        "keep": pa.array(keep),
    }, fits


_SCAN_LOADING = threading.Lock()


def _firepower_scan() -> ModuleType:
    """The compiled scan of Firepower events, imported when first needed (Numba is loaded only for files with
    these events; one parse thread at a time: see compiled.py)."""
    with _SCAN_LOADING:
        from detector.ingest import cisco_asa_scan
    return cisco_asa_scan


# --- Token shapes ---------------------------------------------------------------------------------------

def _per_distinct(read: Callable[[pa.Array], tuple[pa.Array | np.ndarray, ...]], values: pa.Array
                  ) -> tuple[pa.Array | np.ndarray, ...]:
    """`read`'s answers for each distinct value (a side, a duration: most repeat), spread to the rows (a row
    with a null value gets the answer for null)."""
    encoded = pc.dictionary_encode(values, null_encoding="encode")
    rows = encoded.indices.to_numpy(zero_copy_only=False)
    return tuple(answer[rows] if isinstance(answer, np.ndarray) else answer.take(encoded.indices)
                 for answer in read(encoded.dictionary))


def _side(token: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array, np.ndarray]:
    """`interface:address/port[(identity)]` -> address, port, identity (null without, or where it is only a
    TrustSec security group tag `number:name`: no user), and whether it fits."""
    interface, address, port_part, address_fits = _interfaced(token)
    port, identity, fits = _port_and_identity(port_part)
    if pc.any(pc.is_valid(identity)).as_py():
        # (`(user,sg_info)` without a space: the documented expression reads the user before the comma, and
        # trims white space, which a character outside ASCII at either end may be)
        fits &= ~_has(identity, ",") & ~pc.fill_null(pc.match_substring_regex(
            identity, "^[^[:ascii:]]|[^[:ascii:]]$"), False).to_numpy(zero_copy_only=False)
        identity = only_where(identity, pc.invert(pc.fill_null(pc.match_substring_regex(identity, SGT), False)))
    return address, port, identity, fits & _filled(interface) & _filled(address) & address_fits


def _acl_side(token: pa.Array, closed: bool) -> tuple[pa.Array, pa.Array, pa.Array, np.ndarray]:
    """`interface/address(port)[(user)]` -> address, port, user and whether it fits; with `closed`, nothing
    but the user may follow the port (the source, before ` -> `)."""
    interface, rest = _cut(token, "/")
    address, after = _cut(rest, "(")
    port, more = _cut(after, ")")
    fits = _filled(interface) & _filled(address) & _digits(port) & pc.is_valid(more).to_numpy(zero_copy_only=False)
    if not closed:
        return address, port, pa.nulls(len(token), pa.string()), fits
    has_user = _filled(more)
    user_text = pc.utf8_slice_codeunits(more, 1, -1)
    user_fits = (pc.fill_null(pc.and_(pc.starts_with(more, "("), pc.ends_with(more, ")")), False)
                 .to_numpy(zero_copy_only=False) & ~_has(user_text, ")"))
    return address, port, only_where(user_text, pa.array(has_user)), fits & (~has_user | user_fits)


def _deny_side(token: pa.Array) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """`interface:address[/port]` -> address, port (null without) and whether it fits."""
    interface, address, port, address_fits = _interfaced(token)
    has_port = pc.is_valid(port).to_numpy(zero_copy_only=False)
    return address, port, _filled(interface) & _filled(address) & (~has_port | _digits(port)) & address_fits


def _interfaced(token: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array, np.ndarray]:
    """`interface:address[/rest]` -> interface, address, rest (null without a `/`) and whether the address fits,
    the interface read as cisco_asa.ADDRESS reads it: as far as the first colon after which an address fits.
    That is the first colon, or where the address after it does not fit, the second: a name's prefix
    (`v1:outside:10.1.1.1`, `v2:outside:2001:db8::7`; the ASA's `names` configurations log so). Where neither
    fits, the documented expression reads the line."""
    interface, rest = _cut(token, ":")
    address, after = _cut(rest, "/")
    fits = _address_fits(address)
    retry = np.flatnonzero(~fits & pc.is_valid(rest).to_numpy(zero_copy_only=False))
    if not len(retry):
        return interface, address, after, fits
    at = pa.array(retry)
    middle, rest_2 = _cut(rest.take(at), ":")
    address_2, after_2 = _cut(rest_2, "/")
    fits_2 = _address_fits(address_2) & pc.is_valid(address_2).to_numpy(zero_copy_only=False)
    second = np.zeros(len(token), bool)
    second[retry[fits_2]] = True
    if not second.any():
        return interface, address, after, fits
    chosen, where = pa.array(fits_2), pa.array(second)
    interface = pc.replace_with_mask(interface, where, pc.binary_join_element_wise(
        interface.take(at), middle, ":").filter(chosen))
    address = pc.replace_with_mask(address, where, address_2.filter(chosen))
    after = pc.replace_with_mask(after, where, after_2.filter(chosen))
    return interface, address, after, fits | second


def _address_fits(address: pa.Array) -> np.ndarray:
    """Whether an address after `interface:` is one: without a colon (an IPv4 address, or a name from the
    ASA's `names`), or of an IPv6 address's shape (IPV6_SHAPE); never with parentheses (`10.1.1.1(jdoe)`, a
    106023 side without a port but with an identity: the documented expression reads the identity apart).
    Only addresses with a colon are looked at further."""
    fits = ~_has(address, "(") & ~_has(address, ")")
    colon = _has(address, ":")
    if not colon.any():
        return fits
    rows = np.flatnonzero(colon)
    fits[rows] = pc.fill_null(pc.match_substring_regex(address.take(pa.array(rows)), IPV6_SHAPE), False).to_numpy(
        zero_copy_only=False)
    return fits


def _with_identity(token: pa.Array) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """`text[(identity)]` -> text, identity (null without) and whether it fits."""
    text, rest = _cut(token, "(", rare=True)
    identity, fits = _closed(rest)
    return text, identity, fits & _filled(text)


def _port_and_identity(text: pa.Array) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """`port[(identity)]` -> port, identity and whether it fits."""
    port, rest = _cut(text, "(", rare=True)
    identity, fits = _closed(rest)
    return port, identity, fits & _digits(port)


def _closed(rest: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The text after a `(`: `identity)` -> identity, and whether it fits (null `rest`: no identity, fits)."""
    present = pc.is_valid(rest).to_numpy(zero_copy_only=False)
    if not present.any():
        return rest, np.ones(len(rest), bool)
    fits = ~present | (pc.fill_null(pc.ends_with(rest, ")"), False).to_numpy(zero_copy_only=False)
                       & (pc.fill_null(pc.count_substring(rest, ")"), 0).to_numpy(zero_copy_only=False) == 1))
    return pc.utf8_slice_codeunits(rest, 0, -1), fits


def _clock(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`H:M:S` -> hours, minutes, seconds (int64) and whether it fits (digits, at most 18 each)."""
    parts = pc.split_pattern(text, ":")
    offsets = parts.offsets.to_numpy()
    fits = np.diff(offsets) == 3
    starts = np.where(fits, offsets[:-1], 0)
    if not fits.any():
        return starts, starts, starts, fits
    items = parts.values
    number, valid = whole_number(items)
    valid = valid.to_numpy(zero_copy_only=False) & _digits(items)
    number = number.to_numpy(zero_copy_only=False)
    for index in range(3):
        fits &= valid[starts + index]
    return number[starts], number[starts + 1], number[starts + 2], fits


def _small_number(digits: pa.Array) -> np.ndarray:
    """Digits of at most 9 (int32 whatever they say) as float; NaN for any other text (QUERY's try_cast to
    integer would differ)."""
    fits = _digits(digits) & (pc.fill_null(pc.binary_length(digits), 99).to_numpy(zero_copy_only=False) <= 9)
    numbers = pc.cast(pc.if_else(pa.array(fits), digits, "0"), pa.int64()).to_numpy(zero_copy_only=False)
    return np.where(fits, numbers, np.nan)


def with_control_characters(line: pa.Array) -> np.ndarray:
    """Which lines hold a character below U+0020: a scan of the text buffer, then only of the lines it finds."""
    _, data, offsets = line_bytes(line)
    data = data[offsets[0]:offsets[-1]]
    lines = np.zeros(len(line), bool)
    if not len(data) or data.min() >= 0x20:
        return lines
    found = np.flatnonzero(data < 0x20) + offsets[0]
    lines[np.searchsorted(offsets, found, side="right") - 1] = True
    return lines


def _cut(text: pa.Array, mark: str, rare: bool = False) -> tuple[pa.Array, pa.Array]:
    """`text` before and after its first `mark` (after: null where there is none). A `rare` mark is looked
    for first: where no value holds it, nothing is split."""
    if rare and not pc.any(pc.match_substring(text, mark)).as_py():
        return text, pa.nulls(len(text), pa.string())
    parts = pc.split_pattern(text, mark, max_splits=1)
    return list_item(parts, 0), list_item(parts, 1)


def _is(values: pa.Array, word: str) -> np.ndarray:
    return pc.fill_null(pc.equal(values, word), False).to_numpy(zero_copy_only=False)


def _has(values: pa.Array, text: str) -> np.ndarray:
    return pc.fill_null(pc.match_substring(values, text), False).to_numpy(zero_copy_only=False)


def _filled(values: pa.Array) -> np.ndarray:
    """Present and not empty."""
    return pc.fill_null(pc.greater(pc.binary_length(values), 0), False).to_numpy(zero_copy_only=False)


def _digits(values: pa.Array) -> np.ndarray:
    """One or more ASCII digits, nothing else."""
    return pc.fill_null(pc.and_(pc.ascii_is_decimal(values), pc.greater(pc.binary_length(values), 0)),
                        False).to_numpy(zero_copy_only=False)


def _word(values: pa.Array) -> np.ndarray:
    """A word after a side: no parentheses."""
    return _filled(values) & ~_has(values, "(") & ~_has(values, ")")


def _non_empty(values: pa.Array) -> pa.Array:
    return only_where(values, pc.greater(pc.binary_length(values), 0))
