"""SonicWall SonicOS key=value syslog (sonicwall.py).

Test lines are written from the documented layout, not copied from any log: the SonicOS/X 7.0.1 Log Events
Reference Guide's syslog tag index and event ids (https://www.sonicwall.com/support/technical-documentation/),
LogRhythm's field list (https://docs.logrhythm.com/devices/docs/general-firewall-events: `src` = address, port,
interface and resolved name; `rcvd` bytes received; `gcat` in enhanced syslog), and Elastic's integration
(https://github.com/elastic/integrations/tree/main/packages/sonicwall_firewall: srcV6/dstV6 with an empty address
in src/dst, `sent` as the source's bytes, `cdur` in milliseconds, `op` 1/2/3 as GET/POST/HEAD).
"""

from __future__ import annotations

from pathlib import Path

from detector.ingest import FORMATS, sniff
from detector.ingest.pipeline import parse_file
from detector.ingest.sonicwall import BAD_TIME, NO_ADDRESS, NO_TIME, NOT_SONICWALL
from tests.golden import golden_settings

HEAD = 'id=firewall sn=0040AB12CD34 time="2026-11-20 10:00:00 UTC" fw=192.0.2.1 pri=6 c=1024 gcat=6'
CLOSED = (HEAD + ' m=537 msg="Connection Closed" src=10.1.2.3:50000:X0 dst=104.18.32.47:443:X1 '
          'proto=tcp/https sent=1500 rcvd=64000 spkt=20 rpkt=50 cdur=2500 rule="5 (LAN->WAN)" fw_action="NA"')
WEB = (HEAD + ' m=97 msg="Web site hit" src=10.1.2.3:50001:X0 dst=104.18.32.47:443:X1 proto=tcp/https op=2 '
       'sent=900 rcvd=4000 result=200 dstname=ChatGPT.com arg=/backend-api/conversation?x=1 code=27 '
       'Category="Information Technology/Computers" fw_action="NA"')


def parse(tmp_path: Path, *lines: str, name: str = "sonicwall-20261120.log"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    events, rejects, report = parse_file(path, FORMATS["sonicwall"], golden_settings())
    assert report.lines == report.parsed + report.rejected + report.ignored
    return events.to_pylist(), rejects.to_pylist(), report


def test_connection_closed_is_a_session_with_upload_as_bytes_out(tmp_path: Path) -> None:
    [event], rejects, _ = parse(tmp_path, CLOSED)
    assert not rejects
    assert (event["src_ip"], event["dst_ip"], event["dst_port"]) == ("10.1.2.3", "104.18.32.47", 443)
    assert (event["bytes_out"], event["bytes_in"], event["duration_ms"]) == (1500, 64000, 2500)
    assert event["network_protocol"] == "tcp"
    assert event["action"] == "allowed"
    assert event["host"] is None and event["host_source"] == "none"
    assert event["ts"].isoformat() == "2026-11-20T10:00:00+00:00"


def test_key_order_and_added_keys_do_not_matter(tmp_path: Path) -> None:
    reordered = ('<134>  sn=0040AB12CD34 id=firewall fw_action="NA" cdur=2500 rcvd=64000 sent=1500 newkey=abc '
                 'proto=tcp/https dst=104.18.32.47:443:X1 src=10.1.2.3:50000:X0 m=537 msg="Connection Closed" '
                 'time="2026-11-20 10:00:00 UTC" pri=6 c=1024')
    events, _, _ = parse(tmp_path, CLOSED, reordered)
    first, second = ({k: v for k, v in event.items() if k != "line_no"} for event in events)
    assert first == second


def test_web_site_hit_names_the_host_path_method_and_status_without_counting_bytes_again(tmp_path: Path) -> None:
    [event], _, _ = parse(tmp_path, WEB)
    assert (event["host"], event["host_source"]) == ("chatgpt.com", "http_host")
    assert event["url_path"] == "/backend-api/conversation"
    assert (event["http_method"], event["http_status"]) == ("POST", 200)
    assert event["vendor_category"] == "Information Technology/Computers"
    assert event["bytes_out"] is None and event["bytes_in"] is None  # the 537 line of the session carries them


def test_blocked_web_site_policy_drops_and_fw_action_drop_are_blocked(tmp_path: Path) -> None:
    denied = WEB.replace("m=97", "m=14").replace('"Web site hit"', '"Web site access denied"')
    dropped = (HEAD + ' m=36 msg="TCP connection dropped" src=10.1.2.3:50002:X0 dst=203.0.113.5:8443:X1 '
               'proto=tcp/8443')
    drop_action = CLOSED.replace('fw_action="NA"', 'fw_action="drop"')
    events, _, _ = parse(tmp_path, denied, dropped, drop_action, CLOSED)
    assert [event["action"] for event in events] == ["blocked", "blocked", "blocked", "allowed"]


def test_session_starts_and_non_traffic_messages_are_ignored(tmp_path: Path) -> None:
    opened = CLOSED.replace("m=537", "m=98").replace("Closed", "Opened")
    admin = HEAD + ' m=1080 msg="User login from an internal zone allowed" src=10.1.2.3:0:X0 usr="admin"'
    vpn = HEAD + ' m=346 msg="IKEv2 Initiator: Start IKE_SA_INIT" src=192.0.2.1:500 dst=198.51.100.2:500'
    stray = (HEAD + ' m=713 msg="TCP connection abort received; TCP connection dropped" src=10.1.2.3:50000:X0 '
             'dst=104.18.32.47:443:X1 note="TCP Flag(s): RST" fw_action="drop"')
    events, rejects, report = parse(tmp_path, opened, admin, vpn, stray, CLOSED)
    assert [event["line_no"] for event in events] == [5]
    assert not rejects
    assert report.ignored == 4


def test_ipv6_addresses_come_from_the_v6_keys(tmp_path: Path) -> None:
    line = CLOSED.replace("src=10.1.2.3:50000:X0", "src=:50000:X0 srcV6=2001:db8::7").replace(
        "dst=104.18.32.47:443:X1", "dst=:443:X1:example.net dstV6=2606:4700::6812:202f")
    ambiguous = CLOSED.replace("src=10.1.2.3:50000:X0", "src=2001:db8::7:50000:X0")
    events, rejects, _ = parse(tmp_path, line, ambiguous)
    assert (events[0]["src_ip"], events[0]["dst_ip"], events[0]["dst_port"]) == (
        "2001:db8::7", "2606:4700::6812:202f", 443)
    assert [reject["reason"] for reject in rejects] == [NO_ADDRESS]


def test_single_quoted_values_are_read_whole(tmp_path: Path) -> None:
    named = CLOSED + " app=49177 appName='General HTTPS' appcat=\"N/A\""
    unclosed = CLOSED + " appName='Never closed"
    numeric = CLOSED + ' app=49177 appcat="PROTOCOLS"'
    events, _, _ = parse(tmp_path, named, unclosed, numeric)
    assert [event["vendor_app"] for event in events] == ["General HTTPS", "Never closed", None]
    assert [event["vendor_category"] for event in events] == [None, None, "PROTOCOLS"]


def test_keys_inside_quoted_values_are_not_read(tmp_path: Path) -> None:
    line = CLOSED.replace('msg="Connection Closed"', 'msg="Connection Closed m=98 src=9.9.9.9:1:X9 sent=1"', 1)
    line = line.replace('rule="5 (LAN->WAN)"', 'rule="dst=8.8.8.8:53 usr=x"')
    [event], _, _ = parse(tmp_path, line)
    assert (event["src_ip"], event["dst_ip"], event["bytes_out"], event["user_name"]) == (
        "10.1.2.3", "104.18.32.47", 1500, None)


def test_users_and_their_placeholders(tmp_path: Path) -> None:
    lines = [CLOSED + ' usr="GEMEENTE\\a.smit"', CLOSED + ' usr="Unknown (SSO failed)"', CLOSED + ' user="b.de.wit"']
    events, _, _ = parse(tmp_path, *lines)
    assert [event["user_name"] for event in events] == ["GEMEENTE\\a.smit", None, "b.de.wit"]


def test_times_local_without_a_marker_else_from_the_header_else_a_reject(tmp_path: Path) -> None:
    local = CLOSED.replace(" UTC\"", "\"")  # the configured zone (golden: Europe/Amsterdam, UTC+1 in November)
    no_time = CLOSED.replace('time="2026-11-20 10:00:00 UTC" ', "")
    headed = "Nov 20 12:30:00 192.0.2.1 " + no_time
    iso_headed = "<134>1 2026-11-20T12:45:00+01:00 fw01 - - - - " + no_time
    bad = CLOSED.replace("2026-11-20 10:00:00 UTC", "20.11.2026 10:00")
    events, rejects, _ = parse(tmp_path, local, headed, iso_headed, no_time, bad)
    assert [event["ts"].isoformat() for event in events] == [
        "2026-11-20T09:00:00+00:00", "2026-11-20T11:30:00+00:00", "2026-11-20T11:45:00+00:00"]
    assert [reject["reason"] for reject in rejects] == [NO_TIME, BAD_TIME + "20.11.2026 10:00"]


def test_broken_and_foreign_lines_are_counted_rejects(tmp_path: Path) -> None:
    truncated = CLOSED[:60]
    no_source = CLOSED.replace("src=10.1.2.3:50000:X0 ", "")
    events, rejects, report = parse(tmp_path, CLOSED, truncated, "hello world", no_source)
    assert len(events) == 1
    assert [reject["reason"] for reject in rejects] == [NOT_SONICWALL, NOT_SONICWALL, NO_ADDRESS]
    assert report.rejected == 3


def test_op_as_a_name_and_status_zero(tmp_path: Path) -> None:
    line = WEB.replace("op=2", "op=GET").replace("result=200", "result=0")
    [event], _, _ = parse(tmp_path, line)
    assert (event["http_method"], event["http_status"]) == ("GET", None)


def test_sniffed_with_and_without_syslog_headers(tmp_path: Path) -> None:
    for prefix in ("", "<134>", "<134>  ", "Nov 20 10:00:00 192.0.2.1 ", "192.0.2.9 ",
                   "<134>1 2026-11-20T10:00:00Z fw01 - - - - "):
        assert sniff([prefix + CLOSED, prefix + WEB]).name == "sonicwall", prefix


def test_other_firewalls_key_value_lines_are_not_sniffed_as_sonicwall() -> None:
    fortigate = ('date=2026-11-20 time=10:00:00 logid="0000000013" type="traffic" subtype="forward" '
                 'srcip=10.1.2.3 dstip=104.18.32.47 dstport=443 proto=6 action="close" sentbyte=1 rcvdbyte=2')
    watchguard_like = 'msg_id="3000-0148" Allow 1-Trusted 0-External tcp 10.1.2.3 104.18.32.47 50000 443'
    sonicwall = FORMATS["sonicwall"].sniff
    assert sonicwall([fortigate]) == 0
    assert sonicwall([watchguard_like]) == 0
    assert sonicwall(["m=537 msg=\"Connection Closed\""]) == 0  # no serial: not enough to claim a file


def test_a_batch_of_ignored_lines_only_is_all_counted(tmp_path: Path) -> None:
    opened = CLOSED.replace("m=537", "m=98").replace("Closed", "Opened")
    events, rejects, report = parse(tmp_path, *[opened] * 20)
    assert not events and not rejects
    assert report.ignored == 20


def test_sonicos_lines_without_a_message_id_are_ignored_not_rejected(tmp_path: Path) -> None:
    """Older SonicOS logs some packet drops without `m=` (elastic/integrations packages/sonicwall_firewall
    data_stream/log/_dev/test/pipeline/test-general.log: an unhandled link-local IPv6 packet, `id= sn= time= fw= pri=
    msg= srcV6= dstV6=`, no `c=` and no `m=`); a key=value line without SonicOS's `id=` and `sn=` is still no SonicOS
    line, and one with a category but no message id is damaged (rejected). Lines written here."""
    no_m = ('id=firewall sn=0040AB12CD34 time="2026-11-20 10:00:00" fw=192.0.2.1 pri=5 msg="Unhandled link-local or '
            'multicast IPv6 packet dropped" srcV6=fe80::1 dstV6=ff02::c proto=udp/65535')
    foreign = 'time="2026-11-20 10:00:00" src=10.1.2.3 dst=192.0.2.9 msg="something else"'
    damaged = CLOSED.replace(" m=537", "")
    events, rejects, report = parse(tmp_path, CLOSED, no_m, foreign, damaged)
    assert [e["line_no"] for e in events] == [1]
    assert [(r["line_no"], r["reason"]) for r in rejects] == [(3, NOT_SONICWALL), (4, NOT_SONICWALL)]
    assert report.ignored == 1


def test_an_icmp_drop_without_proto_is_icmp_without_a_port(tmp_path: Path) -> None:
    """m=38 "ICMP packet dropped" writes no `proto=`, and a number after the destination address that is no port
    (`type=` and `code=` follow): the layout of elastic/integrations' sonicwall_firewall test-general.log. Lines
    written here."""
    icmp = (HEAD + ' m=38 msg="ICMP packet dropped" n=2201 src=198.51.100.7:1026:X1 dst=192.0.2.1:6822:X1 '
            'type=3 code=3')
    udp = (HEAD + ' m=37 msg="UDP packet dropped" src=198.51.100.7:5000:X1 dst=192.0.2.1:161:X1 proto=udp/snmp')
    events, rejects, _ = parse(tmp_path, icmp, udp)
    assert not rejects
    assert [(e["network_protocol"], e["dst_port"], e["action"]) for e in events] == [
        ("icmp", None, "blocked"), ("udp", 161, "blocked")]


def test_second_keys_are_read_whether_a_batch_has_the_first_on_every_line_some_or_none(tmp_path: Path) -> None:
    """`user` where there is no `usr`, `app` where there is no `appName` (an empty appName is no name, and `app` is
    not read there), `category` / `appcat` where there is no `Category`, the V6 key over src/dst: in batches where
    every line, some lines or no line has the first key."""
    v6 = CLOSED.replace("src=10.1.2.3:50000:X0", "src=:50000:X0 srcV6=2001:db8::7")
    every = [CLOSED + ' usr="a" appName=\'One\' Category="Cat"', CLOSED + ' usr="b" appName=\'Two\' Category="Dog"']
    some = [CLOSED + ' usr="a" appName=\'One\' Category="Cat"', CLOSED + ' user="c" app=ChatGPT category="Chat"',
            CLOSED + " appName='' app=Copilot appcat=\"AI\"", v6 + ' user="d" app=49177']
    none = [CLOSED + ' user="c" app=ChatGPT appcat="AI"', v6 + ' app=49177 category="Chat"']
    expected = {
        "every": [("a", "One", "Cat", "10.1.2.3"), ("b", "Two", "Dog", "10.1.2.3")],
        "some": [("a", "One", "Cat", "10.1.2.3"), ("c", "ChatGPT", "Chat", "10.1.2.3"), (None, None, "AI", "10.1.2.3"),
                 ("d", None, None, "2001:db8::7")],
        "none": [("c", "ChatGPT", "AI", "10.1.2.3"), (None, None, "Chat", "2001:db8::7")],
    }
    for name, lines in (("every", every), ("some", some), ("none", none)):
        events, rejects, _ = parse(tmp_path, *lines, name=f"sonicwall-{name}-20261120.log")
        assert not rejects
        assert [(event["user_name"], event["vendor_app"], event["vendor_category"], event["src_ip"])
                for event in events] == expected[name], name
