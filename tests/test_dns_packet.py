"""DNS responses in hex (Windows DNS analytical PacketData): the A and AAAA addresses of their answer section."""

from __future__ import annotations

import ipaddress
import struct

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.ingest.dns_packet import answered_addresses

POINTER_TO_QUESTION = b"\xc0\x0c"


def name(text: str) -> bytes:
    return b"".join(bytes([len(label)]) + label.encode() for label in text.split(".")) + b"\0"


def record(owner: bytes, kind: int, data: bytes) -> bytes:
    return owner + struct.pack(">HHIH", kind, 1, 300, len(data)) + data


def a(address: str, owner: bytes = POINTER_TO_QUESTION) -> bytes:
    return record(owner, 1, ipaddress.IPv4Address(address).packed)


def aaaa(address: str, owner: bytes = POINTER_TO_QUESTION) -> bytes:
    return record(owner, 28, ipaddress.IPv6Address(address).packed)


def message(question: str, *answers: bytes, flags: int = 0x8180, questions: int = 1) -> bytes:
    header = struct.pack(">HHHHHH", 4121, flags, questions, len(answers), 0, 0)
    return header + (name(question) + struct.pack(">HH", 1, 1)) * questions + b"".join(answers)


def hexed(packet: bytes, prefix: str = "0x") -> str:
    return prefix + packet.hex().upper()


def decoded(*packets: str | None) -> list[list[str] | None]:
    return answered_addresses(pa.array(packets, pa.string())).to_pylist()


def test_addresses_after_a_cname_chain_in_record_order() -> None:
    cname = record(POINTER_TO_QUESTION, 5, name("api.openai.com.cdn.cloudflare.net"))
    target = struct.pack(">H", 0xC000 | 44)  # the CNAME's target: 12 + 16 (the question's name) + 4 + 12
    packet = message("api.openai.com", cname, aaaa("2606:4700:4400::6812:2a2f", target),
                     a("104.18.32.47", target))
    assert decoded(hexed(packet)) == [["2606:4700:4400::6812:2a2f", "104.18.32.47"]]


def test_uncompressed_owner_names_and_other_record_types_are_stepped_over() -> None:
    https = record(POINTER_TO_QUESTION, 65, b"\x00\x01\x00")
    text = record(name("chatgpt.com"), 16, b"\x05hello")
    packet = message("chatgpt.com", https, text, a("104.18.32.47", name("chatgpt.com")), a("172.64.155.209"))
    assert decoded(hexed(packet, "0X").lower().replace("0x", "0X", 1)) == [["104.18.32.47", "172.64.155.209"]]


def test_no_answers_queries_and_broken_messages_give_none() -> None:
    answered = message("chatgpt.com", a("104.18.32.47"))
    assert decoded(
        hexed(message("gpt-helper.example", flags=0x8183)),  # NXDOMAIN: no records
        hexed(message("chatgpt.com", flags=0x0100)),  # a query (QR clear)
        hexed(answered)[:-2],  # cut short inside the address
        hexed(answered[:-2] + b"\xff\xff"),  # the same length, not cut: read
        hexed(answered).replace("0x", ""),  # no 0x
        hexed(answered) + "Z",  # odd length
        hexed(answered)[:20] + "GG" + hexed(answered)[22:],  # not hex
        None, "", "0x",
        hexed(record(b"", 1, b"")[:4]),  # shorter than a header
    ) == [None, None, None, [f"104.18.{0xff}.{0xff}"], None, None, None, None, None, None, None]


def test_a_record_whose_length_is_not_an_address_is_no_address() -> None:
    odd = record(POINTER_TO_QUESTION, 1, b"\x01\x02\x03\x04\x05")
    assert decoded(hexed(message("x.example", odd, a("192.0.2.1")))) == [["192.0.2.1"]]


def test_several_questions_are_stepped_over() -> None:
    assert decoded(hexed(message("claude.ai", a("160.79.104.10"), questions=2))) == [["160.79.104.10"]]


labels = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)
names = st.lists(labels, min_size=1, max_size=5).map(".".join)
records = st.one_of(
    st.tuples(st.just("A"), st.ip_addresses(v=4).map(str)),
    st.tuples(st.just("AAAA"), st.ip_addresses(v=6).map(str)),
    st.tuples(st.just("CNAME"), names),
    st.tuples(st.just("TXT"), st.binary(max_size=40)),
)


@settings(max_examples=200, deadline=None)
@given(question=names, answers=st.lists(st.tuples(records, st.booleans()), max_size=8), cut=st.integers(1, 30))
def test_random_responses_read_as_built(question: str, answers: list[tuple[tuple[str, object], bool]],
                                        cut: int) -> None:
    built, expected = [], []
    for (kind, value), compressed in answers:
        owner = POINTER_TO_QUESTION if compressed else name(question)
        if kind == "A":
            built.append(a(str(value), owner))
        elif kind == "AAAA":
            built.append(aaaa(str(value), owner))
        elif kind == "CNAME":
            built.append(record(owner, 5, name(str(value))))
        else:
            built.append(record(owner, 16, bytes([len(value)]) + value))  # type: ignore[arg-type]
        if kind in ("A", "AAAA"):
            expected.append(ipaddress.ip_address(str(value)).compressed)
    packet = message(question, *built)
    whole, cut_short = decoded(hexed(packet), hexed(packet[:-cut]) if built else None)
    assert whole == (expected or None)
    assert cut_short is None  # the last record runs past the end: the whole message is spoiled


def test_a_tcp_messages_length_prefix_is_skipped() -> None:
    packet = message("chat.mistral.ai", a("51.159.0.1"), aaaa("2001:bc8::1"))
    framed = struct.pack(">H", len(packet)) + packet
    wrong_length = struct.pack(">H", len(packet) + 1) + packet  # not its length: read as a message, no response
    assert decoded(hexed(framed), hexed(packet), hexed(wrong_length)) == [
        ["51.159.0.1", "2001:bc8::1"], ["51.159.0.1", "2001:bc8::1"], None]
