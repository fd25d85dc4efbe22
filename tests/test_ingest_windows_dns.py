"""Windows DNS debug log, the Arrow tokenisation: lines the golden files do not show (odd PACKET lines,
keys that differ only in case, every line accounted for in any batch)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest.base import ParseResult
from detector.ingest.windows_dns import MALFORMED, NOT_THIS_LOG
from tests.test_ingest_dns import batches

QUERY = "6/5/2024 10:00:32 AM 0E70 PACKET  000001E8A1C40A10 UDP Rcv 10.0.0.5        {xid}   Q [0001   D   NOERROR] A      {name}"
RESPONSE = ("6/5/2024 10:00:32 AM 0E74 PACKET  000001E8A1C40A10 UDP Snd 10.0.0.5        {xid} R Q "
            "[8081   DR  {rcode}] A      {name}")


def parse(*batch_lines: list[str]) -> list[ParseResult]:
    """Consecutive batches of one file, parsed in file order by one parser."""
    return batches("windows_dns", *batch_lines, path="dns.log")


def test_a_response_pairs_with_its_query_whatever_the_case_of_xid_and_name() -> None:
    (result,) = parse([QUERY.format(xid="4a3f", name="(7)ChatGPT(3)com(0)"),
                       RESPONSE.format(xid="4A3F", name="(7)chatgpt(3)com(0)", rcode="REFUSED")])
    assert result.events.select(["line_no", "host", "dns_rcode", "action"]).to_pylist() == [
        {"line_no": 1, "host": "chatgpt.com", "dns_rcode": "REFUSED", "action": "blocked"}]
    assert result.ignored == 1 and result.rejects.num_rows == 0


def test_packet_lines_that_do_not_fit_the_layout_are_rejected() -> None:
    lines = [
        "6/5/2024 10:00:32 AM 0E70 PACKET Q [0001   D   NOERROR] A      (7)chatgpt(3)com(0)",  # no ID PROTO DIR REMOTE
        "6/5/2024 10:00:32 AM 0E70 PACKET  000001E8A1C40A10 UDP Rcv 10.0.0.5 4a3f Q ] [0001 NOERROR] A (1)a(0)",
        "6/5/2024 [10:00:32] AM 0E70 PACKET  000001E8A1C40A10 UDP Rcv 10.0.0.5 4a3f Q [0001 NOERROR] A (1)a(0)",
        "6/5/2024 10:00:32 AM 0E70 PACKET  000001E8A1C40A10 UDP Rcv 10.0.0.5 4a3f Q [0001 NOERROR] (1)a(0)",
        "\vnot indented by a space or a tab",
    ]
    (result,) = parse(lines)
    assert result.rejects.column("reason").to_pylist() == [MALFORMED] * 4 + [NOT_THIS_LOG]
    assert result.events.num_rows == 0 and result.ignored == 0


LINE_PARTS = st.sampled_from([
    "6/5/2024 10:00:32 AM 0E70 PACKET  ", "2024-06-05 10:00:32 0E70 PACKET  ", "13/6/2024 10:00:32 1 PACKET ",
    "00AB UDP Rcv 10.0.0.5      4a3f ", "TCP Snd fe80::1 4a3f R ", "Q ", "N ", "[0001   D   NOERROR] ",
    "[8081 DR REFUSED] ", "A      ", "(7)chatgpt(3)com(0)", "(3)api(6)openai(3)com(0)", "  Details", "]", "[", " ",
])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.lists(LINE_PARTS, min_size=1, max_size=9).map("".join), min_size=1, max_size=12),
       cut=st.integers(min_value=0, max_value=12))
def test_every_line_is_accounted_for_and_batches_do_not_matter(lines: list[str], cut: int) -> None:
    (whole,) = parse(lines)
    assert whole.events.num_rows + whole.rejects.num_rows + whole.ignored == len(lines)
    if 0 < cut < len(lines):  # without context lines a pair may split; the order learned is carried
        first, second = parse(lines[:cut], lines[cut:])
        assert (first.events.num_rows + first.rejects.num_rows + first.ignored + second.events.num_rows
                + second.rejects.num_rows + second.ignored) == len(lines)
