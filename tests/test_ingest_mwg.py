"""McAfee Web Gateway / Skyhigh Secure Web Gateway: the SIEM key=value layout (`skyhigh_swg_kv`), and what the
access.log layout (`skyhigh_swg`) now reads alike: block id 81 and client address placeholders.

Test lines are written from the documented layouts, with values of our own, never copied from logs:
- the key=value pairs of SEKOIA.IO's McAfee Web Gateway format (its parser and field list,
  https://github.com/SEKOIA-IO/intake-formats/tree/main/McAfee/mcafee_web_gateway): date="ISO 8601" hostname=
  username= source_ip= destination_ip= destination_host= http_status_code= media_type= source_bytes=
  destination_bytes= http_request_first_line="METHOD URL HTTP/x.y" url_categories= ... block_id= block_reason=
  ... application_name= http_referer= user_agent=;
- the same properties under the access log header's names (user_name, status, bytes_to_client, bytes_from_client,
  categories, block_res), as a syslog log handler writes them (Skyhigh, "Configure Syslog for your SIEM",
  https://success.skyhighsecurity.com/Skyhigh_Secure_Web_Gateway_(On_Prem)/Best_Practices/Logging_and_Monitoring/Configure_Syslog_for_your_SIEM);
- the default access.log (Skyhigh, "Access log rule set",
  https://success.skyhighsecurity.com/Skyhigh_Secure_Web_Gateway_(On_Prem)/Monitoring/Logging/Access_log_rule_set):
  [dd/Mon/yyyy:HH:MM:SS +zzzz] "auth_user" src_ip status_code "req_line" "categories" "rep_level" "media_type"
  bytes_to_client "user_agent" "virus_name" "block_res".
Block.ID 81 is "authentication required" in the gateway's block reason list: a credentials challenge, no verdict.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.ingest import FORMATS, sniff
from detector.ingest.base import ParseContext, in_file_order, open_parse_connection
from tests.golden import parse_lines

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def siem(date: str = "2026-11-30T08:12:01.214Z", user: str = '"GEMEENTE\\avandijk"', source: str = "10.30.2.41",
         server: str = "162.159.140.245", host: str = '"chatgpt.com"', status: str = "200",
         request: str = '"POST https://chatgpt.com/backend-api/conversation HTTP/1.1"', block: str = "0",
         to_client: str = "58120", from_client: str = "2311") -> str:
    """A record of SEKOIA.IO's documented key=value layout (its key names, in its order)."""
    return (f'date="{date}" hostname="swg01" username={user} source_ip={source} destination_ip={server} '
            f'destination_host={host} http_status_code={status} media_type="text/event-stream" '
            f'source_bytes={from_client} destination_bytes={to_client} http_request_first_line={request} '
            f'url_categories="Generative AI, Business" url_reputation_string="Minimal Risk" url_reputation_code=-12 '
            f'ruleset_name="Default" rule_name="Allow" block_id={block} block_reason="" body_infected=false '
            f'virus_names="" body_modified=false application_reputation="Medium Risk" application_name="ChatGPT" '
            f'http_referer="" user_agent="{UA}"')


def named(date: str = "2026-11-30 09:20:00", source: str = "10.30.4.12", block: str = "block_id=0") -> str:
    """A record under the access log header's names, in another order."""
    return (f'date="{date}" source_ip={source} destination_host="www.deepl.com" '
            f'http_request_first_line="POST https://www.deepl.com/translator HTTP/1.1" status=200 {block} '
            f'user_name="GEMEENTE\\rsmit" bytes_to_client=20933 bytes_from_client=48211 user_agent="{UA}" '
            f'categories="Translation Sites"')


def parse(tmp_path: Path, key: str, *lines: str) -> tuple[list[dict], list[dict], object]:
    events, rejects, report = parse_lines(tmp_path / "mwg.log", key, lines)
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report


def test_siem_layout_reads_every_documented_field(tmp_path: Path) -> None:
    [event], rejects, _ = parse(tmp_path, "skyhigh_swg_kv", siem())
    assert not rejects
    assert event["ts"].isoformat() == "2026-11-30T08:12:01.214000+00:00"
    assert (event["src_ip"], event["dst_ip"], event["user_name"]) == ("10.30.2.41", "162.159.140.245",
                                                                      "GEMEENTE\\avandijk")
    assert (event["http_method"], event["host"], event["host_source"]) == ("POST", "chatgpt.com", "url")
    assert (event["network_protocol"], event["url_path"], event["http_status"]) == ("https",
                                                                                   "/backend-api/conversation", 200)
    assert (event["bytes_out"], event["bytes_in"]) == (2311, 58120)  # source_bytes: what the client sent
    assert (event["vendor_category"], event["vendor_app"]) == ("Generative AI, Business", "ChatGPT")
    assert (event["content_type"], event["user_agent"], event["action"]) == ("text/event-stream", UA, "allowed")


def test_header_names_in_any_order_read_the_same(tmp_path: Path) -> None:
    [event], rejects, _ = parse(tmp_path, "skyhigh_swg_kv", named())
    assert not rejects
    assert (event["user_name"], event["src_ip"], event["host"], event["http_status"]) == (
        "GEMEENTE\\rsmit", "10.30.4.12", "www.deepl.com", 200)
    assert (event["bytes_out"], event["bytes_in"]) == (48211, 20933)  # bytes_from_client is the upload
    assert event["vendor_category"] == "Translation Sites"
    assert event["ts"].isoformat() == "2026-11-30T08:20:00+00:00"  # no zone: the configured one (Amsterdam)


def test_times_with_their_zone_are_utc_and_without_one_in_the_configured_zone(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, "skyhigh_swg_kv", named(date="2026-11-30T09:20:00+01:00"),
                               named(date="[30/Nov/2026:09:20:00 +0100]"), named(date="2026-07-01 09:20:00"))
    assert not rejects
    assert [e["ts"].isoformat() for e in events] == [
        "2026-11-30T08:20:00+00:00", "2026-11-30T08:20:00+00:00", "2026-07-01T07:20:00+00:00"]  # summer time


def test_block_id_decides_the_action_and_81_is_a_challenge(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, "skyhigh_swg_kv", siem(block="0"), siem(status="403", block="10"),
                               siem(status="407", block="81"), named(block="block_res=14"), named(block=""))
    assert not rejects
    assert [e["action"] for e in events] == ["allowed", "blocked", "unknown", "blocked", "unknown"]


def test_address_placeholders_are_null_never_an_address(tmp_path: Path) -> None:
    events, rejects, _ = parse(tmp_path, "skyhigh_swg_kv", siem(source="0:0:0:0:0:0:0:0", server="255.255.255.255"),
                               named(source="-"), siem(source="::", server="0.0.0.0"),
                               siem(source="2001:db8::17", server="2a00:1450:400e:80f::200e"))
    assert not rejects
    assert [(e["src_ip"], e["dst_ip"]) for e in events] == [
        (None, None), (None, None), (None, None), ("2001:db8::17", "2a00:1450:400e:80f::200e")]


def test_host_from_destination_host_where_the_request_line_names_none(tmp_path: Path) -> None:
    relative, bare, target = parse(
        tmp_path, "skyhigh_swg_kv", siem(host='"Copilot.Microsoft.com:8443"', request='"GET /chats HTTP/1.1"'),
        siem(host='""', request='"CONNECT :443 HTTP/1.1"', block="10"),
        siem(host='"gemini.google.com"', request='"CONNECT gemini.google.com:443 HTTP/1.1"'))[0]
    assert (relative["host"], relative["host_source"], relative["dst_port"]) == ("copilot.microsoft.com", "url", 8443)
    assert (bare["host"], bare["host_source"], bare["http_method"]) == (None, "none", "CONNECT")
    assert (target["host"], target["host_source"], target["dst_port"]) == ("gemini.google.com", "connect", 443)



def test_a_key_inside_a_quoted_value_is_no_pair(tmp_path: Path) -> None:
    """A rule name (free text) before the real pairs that holds ` source_ip=` and ` destination_host=`."""
    moved = ('date="2026-11-30T08:12:01Z" rule_name="Allow source_ip=10.9.9.9 destination_host=evil.example" '
             'block_id=0 http_status_code=200 http_request_first_line="GET /chat HTTP/1.1" source_ip=10.30.2.41 '
             'destination_host="chatgpt.com"')
    only_quoted = moved.replace(" source_ip=10.30.2.41", "")
    [event, no_client], rejects, _ = parse(tmp_path, "skyhigh_swg_kv", moved, only_quoted)
    assert not rejects
    assert (event["src_ip"], event["host"]) == ("10.30.2.41", "chatgpt.com")
    assert (no_client["src_ip"], no_client["host"]) == (None, "chatgpt.com")

def test_syslog_headers_are_read_past_and_other_messages_ignored(tmp_path: Path) -> None:
    events, _, report = parse(
        tmp_path, "skyhigh_swg_kv", f"<134>Nov 30 09:12:01 swg01 mwg: {siem()}",
        f"<134>1 2026-11-30T08:12:02.000Z swg01 mwg - - - {named()}",
        "<86>Nov 30 09:12:20 swg01 mwg: User 'admin' logged in from 10.30.0.5")
    assert (report.parsed, report.ignored, report.rejected) == (2, 1, 0)
    assert [e["host"] for e in events] == ["chatgpt.com", "www.deepl.com"]


def test_broken_records_are_counted_rejects_with_their_reason(tmp_path: Path) -> None:
    _, rejects, report = parse(
        tmp_path, "skyhigh_swg_kv", named().replace('date="2026-11-30 09:20:00" ', ""), named(date="30-11-2026"),
        siem(status="OK"), siem(to_client="1.2k"), siem(from_client="-3x"), siem(block="blocked"), "pasted by hand")
    assert (report.parsed, report.rejected, report.ignored) == (0, 7, 0)
    reasons = [r["reason"] for r in rejects]
    assert reasons[0].startswith("no date=") and reasons[1].endswith(": 30-11-2026")
    assert "status" in reasons[2] and reasons[2].endswith(": OK")
    assert reasons[3].endswith(": 1.2k") and reasons[4].endswith(": -3x") and reasons[5].endswith(": blocked")
    assert reasons[6].startswith("not a Skyhigh SWG / McAfee Web Gateway key=value access record")


def test_sniff_recognises_both_layouts_and_leaves_others_alone() -> None:
    assert sniff([siem(), named(), f"Nov 30 09:12:01 swg01 mwg: {siem()}"]).name == "skyhigh_swg_kv"
    positional = ('[30/Nov/2026:09:40:05 +0100] "GEMEENTE\\tjansen" 0:0:0:0:0:0:0:0 200 '
                  '"GET https://gemini.google.com/app HTTP/1.1" "Generative AI" "Minimal Risk" "text/html" 80211 '
                  f'"{UA}" "" "0"')
    assert sniff([positional, positional.replace("0:0:0:0:0:0:0:0", "-")]).name == "skyhigh_swg"
    proxysg_kv = ('SPLV5.1 c-ip=10.0.0.1 cs-host=chatgpt.com cs-method=GET sc-status=200 s-action=TCP_NC_MISS '
                  'date=2026-11-30 time=08:00:00')
    assert sniff([proxysg_kv]).name == "proxysg_kv"


def test_access_log_reads_81_as_unknown_and_placeholder_clients_as_null(tmp_path: Path) -> None:
    """The positional access.log reads Block.ID and Client.IP as the key=value layout does."""
    line = ('[30/Nov/2026:09:40:01 +0100] "" {client} 407 "CONNECT chatgpt.com:443 HTTP/1.1" "Generative AI" '
            f'"Minimal Risk" "" 1730 "{UA}" "" "{{block}}"')
    events, rejects, _ = parse(tmp_path, "skyhigh_swg", line.format(client="0:0:0:0:0:0:0:0", block="81"),
                               line.format(client="-", block="0"), line.format(client="10.30.6.22", block="10"))
    assert not rejects
    assert [(e["src_ip"], e["action"]) for e in events] == [(None, "unknown"), (None, "allowed"),
                                                            ("10.30.6.22", "blocked")]


def test_a_batch_longer_than_a_slice_keeps_every_line_in_its_place() -> None:
    count = 30_000
    lines = [siem(from_client=str(i)) if i % 2 else named(date=f"2026-11-30 09:{i % 60:02d}:00") for i in range(count)]
    lines[15_000] = "garbage"
    batch = pa.table({"line_no": pa.array(range(1, count + 1), pa.int64()), "line": pa.array(lines)})
    parser = FORMATS["skyhigh_swg_kv"].new_parser(ParseContext("mwg.log", "UTC", open_parse_connection()))
    result = in_file_order(parser)(batch)
    assert result.events.num_rows == count - 1 and result.rejects.num_rows == 1
    assert result.rejects.column("line_no").to_pylist() == [15_001]
    events = result.events.to_pydict()
    at = events["line_no"].index(14_000)
    assert events["bytes_out"][at] == 13_999 and events["bytes_out"][at + 1] == 48211  # line i + 1 is lines[i]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                                  max_size=60),
                          st.sampled_from([siem(), named(), siem()[:-30], 'date="', "source_ip= destination_host="]),
                          st.builds(lambda a, b: a + b, st.sampled_from([siem(), named()]), st.text(max_size=5))),
                min_size=1, max_size=12))
def test_arbitrary_lines_never_crash_and_are_all_accounted_for(tmp_path: Path, lines: list[str]) -> None:
    lines = [line for line in lines if line.strip()] or [siem()]
    events, rejects, report = parse_lines(tmp_path / "fuzz.log", "skyhigh_swg_kv", lines)
    assert report.lines == report.parsed + report.rejected + report.ignored
    assert isinstance(events, pa.Table) and report.rejected == rejects.num_rows
