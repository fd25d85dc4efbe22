"""The addresses a DNS response answers with, read from the message itself written in hex (`0x8180...`, as Windows
DNS analytical events carry it in `PacketData`): what names a firewall's address-only flows (flow_names.sql).

The message is RFC 1035's: a 12-byte header (ID, flags with QR set in a response, then QDCOUNT, ANCOUNT ...), the
questions, then ANCOUNT resource records: a name, TYPE, CLASS, TTL, RDLENGTH and RDATA. A name is labels (a length
byte, then that many bytes) ending with a zero byte or with a two-byte pointer (its top two bits set) to an earlier
name. Only A (4 bytes) and AAAA (16 bytes) records give answers here: flow naming reads addresses alone, so names are
stepped over, never followed. Every packet of a batch is read at once with numpy, a step per label and per record;
the few distinct addresses are then written as text. A packet that is no response, is cut short or whose counts run
past its end gives no answers (null), as does one that is not hex. A message that came over TCP may carry TCP's two-byte
length in front (RFC 1035 4.2.2): where the first two bytes are exactly the rest's length, they are that and skipped
(as a DNS ID they would have to equal the length by chance, and the header after them must then read as a response).
"""

from __future__ import annotations

import contextlib
import ipaddress

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.layout_bytes import line_bytes

HEADER_BYTES = 12
TYPE_A, TYPE_AAAA = 1, 28
# Bounds on the steps: a name has at most 127 labels; more records than this in one answer are not read (a response
# to a client holds a few: a CNAME chain and its addresses).
MAX_LABELS = 128
MAX_QUESTIONS = 4
MAX_ANSWERS = 64

_NIBBLES = np.full(256, 255, np.uint8)
for _digit, _value in zip(b"0123456789abcdefABCDEF", [*range(16), *range(10, 16)], strict=True):
    _NIBBLES[_digit] = _value


def answered_addresses(packets: pa.Array) -> pa.Array:
    """Per row, the A and AAAA addresses of the answer section of its hex DNS message, in record order (list of
    strings), null where it has none."""
    rows = len(packets)
    message, start, length = _messages(packets)
    start, length = _unframed(message, start, length)
    read = np.flatnonzero(length >= HEADER_BYTES)  # (the rows with a message: the steps below touch no others)
    start, length = start[read], length[read]
    reader = _Reader(message, start, length)
    valid = (reader.byte(start + 2) & 0x80) > 0  # QR: a response
    questions, answers = reader.u16(start + 4), reader.u16(start + 6)
    valid &= (questions <= MAX_QUESTIONS)
    at = start + HEADER_BYTES
    for number in range(MAX_QUESTIONS):
        asking = valid & (questions > number)
        if not asking.any():
            break
        at = np.where(asking, reader.after_name(at, asking) + 4, at)
        valid &= reader.within(at)
    found_rows, found_kind, found_at = [], [], []
    for number in range(MAX_ANSWERS):
        answering = valid & (answers > number)
        if not answering.any():
            break
        at = np.where(answering, reader.after_name(at, answering), at)
        kind, size = reader.u16(at), reader.u16(at + 8)
        data = at + 10
        at = np.where(answering, data + size, at)
        overrun = answering & ~reader.within(at)  # a record running past the end spoils the packet
        valid &= ~overrun
        answering &= ~overrun
        address = answering & (((kind == TYPE_A) & (size == 4)) | ((kind == TYPE_AAAA) & (size == 16)))
        found_rows.append(np.flatnonzero(address))
        found_kind.append(kind[address])
        found_at.append(data[address])
    return _lists(rows, read, valid, message, found_rows, found_kind, found_at)


def _messages(packets: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The messages' bytes one after the other, and each row's start in them and length (0: no hex message)."""
    text = packets.combine_chunks() if isinstance(packets, pa.ChunkedArray) else packets
    if pa.types.is_dictionary(text.type):
        text = text.dictionary_decode()
    _, data, offsets = line_bytes(text)
    begin, end = offsets[:-1] + 2, offsets[1:]
    prefixed = end - begin >= 2
    prefixed[prefixed] = (data[begin[prefixed] - 2] == ord("0")) & ((data[begin[prefixed] - 1] | 0x20) == ord("x"))
    if text.null_count:
        prefixed &= text.is_valid().to_numpy(zero_copy_only=False)
    length = np.where(prefixed & ((end - begin) % 2 == 0), (end - begin) // 2, 0)
    start = np.concatenate([[0], np.cumsum(length)[:-1]]) if len(length) else length
    total = int(length.sum())
    if not total:
        return np.zeros(0, np.uint8), start, length
    # the hex digits of the rows read, one run: Python's bytes.fromhex reads it at C speed; it fails (or reads spaces
    # as nothing) only where a row holds something else, whose rows the digit-by-digit reading below then finds
    first = int(offsets[0])
    kept = np.repeat(length > 0, np.diff(offsets))
    kept[begin[length > 0] - 2 - first] = False
    kept[begin[length > 0] - 1 - first] = False
    with contextlib.suppress(ValueError):
        message = np.frombuffer(bytes.fromhex(data[first:int(offsets[-1])][kept].tobytes().decode("ascii")), np.uint8)
        if len(message) == total:
            return message, start, length
    offset_in_row = np.arange(total) - np.repeat(start, length)
    hex_at = np.repeat(begin, length) + 2 * offset_in_row
    high, low = _NIBBLES[data[hex_at]], _NIBBLES[data[hex_at + 1]]
    bad = (high == 255) | (low == 255)
    if bad.any():  # a row with a character that is no hex digit has no message
        spoiled = np.zeros(len(length), bool)
        spoiled[np.repeat(np.arange(len(length)), length)[bad]] = True
        length = np.where(spoiled, 0, length)
    return (high << 4 | low).astype(np.uint8), start, length


def _unframed(message: np.ndarray, start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each message's start and length without TCP's length prefix, where it has one."""
    framed = np.flatnonzero(length >= HEADER_BYTES + 2)
    at = start[framed]
    prefix = message[at].astype(np.int64) << 8 | message[at + 1]
    framed = framed[prefix == length[framed] - 2]
    if not len(framed):
        return start, length
    start, length = start.copy(), length.copy()
    start[framed] += 2
    length[framed] -= 2
    return start, length


class _Reader:
    """Bounded reads of every row's message at once: a position past its row's end reads as 0 and spoils the row."""

    def __init__(self, message: np.ndarray, start: np.ndarray, length: np.ndarray) -> None:
        self.message, self.start, self.end = message, start, start + length
        self.padded = np.append(message, np.zeros(2, np.uint8))

    def within(self, at: np.ndarray) -> np.ndarray:
        return at <= self.end

    def byte(self, at: np.ndarray) -> np.ndarray:
        inside = (at >= self.start) & (at < self.end)
        return np.where(inside, self.padded[np.clip(at, 0, len(self.message))], 0).astype(np.int64)

    def u16(self, at: np.ndarray) -> np.ndarray:
        return self.byte(at) << 8 | self.byte(at + 1)

    def after_name(self, at: np.ndarray, active: np.ndarray) -> np.ndarray:
        """The position after the name at `at` (labels to a zero byte, or to a pointer), for the active rows; a name
        that runs past its message leaves the row's position at its end + 1 (outside: `within` is false)."""
        at, going = at.copy(), active.copy()
        for _ in range(MAX_LABELS):
            if not going.any():
                break
            first = self.byte(at)
            inside = going & (at < self.end)
            pointer = inside & (first >= 0xC0)
            ended = inside & (first == 0)
            label = inside & (first > 0) & (first < 0x40)
            broken = going & ~(pointer | ended | label)  # outside its message, or a reserved length (0x40-0xBF)
            at = np.where(pointer, at + 2, np.where(ended, at + 1, np.where(label, at + 1 + first, at)))
            at = np.where(broken, self.end + 1, at)
            going = label
        return np.where(going, self.end + 1, at)


def _lists(rows: int, read: np.ndarray, valid: np.ndarray, message: np.ndarray, found_rows: list[np.ndarray],
           found_kind: list[np.ndarray], found_at: list[np.ndarray]) -> pa.Array:
    """The addresses found as a list per row, in record order, null where a row has none (or is not valid).
    `found_rows` and `valid` count the rows read (`read`: their rows among all)."""
    if not found_rows:
        return pa.nulls(rows, pa.list_(pa.string()))
    row, kind, at = (np.concatenate(parts) for parts in (found_rows, found_kind, found_at))
    keep = valid[row]
    row, kind, at = read[row[keep]], kind[keep], at[keep]
    order = np.argsort(row, kind="stable")  # (found answer by answer: a row's records stay in order)
    row, kind, at = row[order], kind[order], at[order]
    texts = np.empty(len(row), object)
    is_v4 = kind == TYPE_A
    texts[is_v4] = _written(message, at[is_v4], 4)
    texts[~is_v4] = _written(message, at[~is_v4], 16)
    counts = np.bincount(row, minlength=rows)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    mask = pa.array(counts == 0)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(texts, pa.string()), mask=mask)


def _written(message: np.ndarray, at: np.ndarray, size: int) -> np.ndarray:
    """The addresses of `size` bytes at `at`, as text (IPv6 compressed, RFC 5952), written once per distinct one."""
    if not len(at):
        return np.empty(0, object)
    raw = message[at[:, None] + np.arange(size)]
    # as big-endian integers (one for IPv4, two for IPv6): sorting those is many times faster than rows of bytes
    words = raw.reshape(len(at), -1, 4 if size == 4 else 8)[:, :, ::-1].copy().view(
        np.uint32 if size == 4 else np.uint64)[:, :, 0]
    order = np.lexsort(words.T[::-1])
    ordered = words[order]
    first = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)]
    back = np.empty(len(at), np.int64)
    back[order] = np.cumsum(first) - 1
    distinct = raw[order[first]]
    if size == 4:
        octets = [pc.cast(pa.array(distinct[:, i]), pa.string()) for i in range(4)]
        names = pc.binary_join_element_wise(*octets, ".").to_numpy(zero_copy_only=False)
    else:
        names = np.array([ipaddress.IPv6Address(bytes(value)).compressed for value in distinct], object)
    return names[back]
