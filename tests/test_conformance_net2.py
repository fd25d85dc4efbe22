"""Conformance of the DNS, DHCP, firewall and sensor formats of the second pass (helper net2) with layouts seen in
public real-world logs (Azure-Sentinel's sample data, Graylog's and Logstash's tests, vendors' documentation),
each test line written here from the vendor's documented layout (never copied from a sample).
"""

from __future__ import annotations

from pathlib import Path

from detector.ingest import sniff, sniff_scores
from tests.golden import parse_lines


def _events(table) -> list[dict]:
    return [{k: v for k, v in row.items() if v is not None and k not in ("file_id", "source_kind", "log_format")}
            for row in table.to_pylist()]


# --- Infoblox NIOS / BIND ----------------------------------------------------------------------------------
# Infoblox's "Capturing DNS Queries and Responses" documents the response line as `client IP#PORT UDP: query:
# NAME IN TYPE response: RCODE FLAGS ANSWERS;` (no ':' after the address), and syslog messages carry the
# category prefix (`infoblox-responses:`) only when logging categories are selected: such a file is NIOS's.
def test_nios_responses_without_a_category_prefix_are_recognised(tmp_path: Path) -> None:
    lines = [
        "Mar  3 09:15:01 ns1 named[4242]: client 10.30.4.21#53001 UDP: query: chat.example.org IN A response: "
        "NOERROR +E chat.example.org. 300 IN A 198.51.100.20;",
        "Mar  3 09:15:02 ns1 named[4242]: client 10.30.4.22#53002 TCP: query: www.example.net IN AAAA response: "
        "NOERROR +ET www.example.net. 60 IN CNAME edge.example.net.; edge.example.net. 60 IN AAAA 2001:db8::7;",
        "Mar  3 09:15:03 ns1 named[4242]: client @0x7f00aa001100 10.30.4.23#53003 (blocked.example): query: "
        "blocked.example IN A +E(0) (10.30.0.53)",
    ]
    assert sniff(lines).name == "infoblox_nios"
    events, _, report = parse_lines(tmp_path / "nios.log", "infoblox_nios", lines)
    assert (report.parsed, report.rejected, report.ignored) == (3, 0, 0)
    assert [(e["src_ip"], e["host"], e.get("dns_answers")) for e in _events(events)] == [
        ("10.30.4.21", "chat.example.org", ["198.51.100.20"]),
        ("10.30.4.22", "www.example.net", ["edge.example.net", "2001:db8::7"]),
        ("10.30.4.23", "blocked.example", None),
    ]


# BIND's ns_client_log writes `view NAME: ` with the view's name as configured: named.conf's view names are
# quoted strings, and NIOS names its DNS views freely ("Recursion View", "Internal View"): a name of several
# words ends at the token ending in ':'. Those lookups were ignored as lines of no kind.
def test_bind_lines_behind_a_view_name_with_spaces_are_read(tmp_path: Path) -> None:
    head = "Mar  3 09:16:0{} ns1 named[4242]: "
    lines = [
        head.format(1) + "client @0x7f00aa001200 10.30.5.1#40001 (api.example.org): view Recursion View: query: "
                         "api.example.org IN A +E(0)DV (10.30.0.53)",
        head.format(2) + "queries: client @0x7f00aa001201 10.30.5.2#40002 (www.example.org): view Internal Clients "
                         "2: query: www.example.org IN AAAA + (10.30.0.53)",
        head.format(3) + "client 10.30.5.3#40003: view Recursion View: UDP: query: api.example.org IN A response: "
                         "NOERROR +E api.example.org. 30 IN A 203.0.113.9;",
        head.format(4) + "client @0x7f00aa001202 10.30.5.4#40004 (bad.example): view Recursion View: query (cache) "
                         "'bad.example/A/IN' denied",
        head.format(5) + "rpz: client @0x7f00aa001203 10.30.5.5#40005 (ads.example): view Recursion View: rpz QNAME "
                         "NXDOMAIN rewrite ads.example/A/IN via ads.example.rpz.local",
        # a query failure behind such a view stays a query error: ignored
        head.format(6) + "query-errors: client @0x7f00aa001204 10.30.5.6#40006 (x.example): view Recursion View: "
                         "query failed (SERVFAIL) for x.example/IN/A at query.c:8678",
    ]
    events, _, report = parse_lines(tmp_path / "views.log", "bind_query", lines)
    assert (report.parsed, report.rejected, report.ignored) == (5, 0, 1)
    assert [(e["line_no"], e["src_ip"], e["host"], e.get("dns_qtype"), e["action"]) for e in _events(events)] == [
        (1, "10.30.5.1", "api.example.org", "A", "unknown"),
        (2, "10.30.5.2", "www.example.org", "AAAA", "unknown"),
        (3, "10.30.5.3", "api.example.org", "A", "allowed"),
        (4, "10.30.5.4", "bad.example", "A", "blocked"),
        (5, "10.30.5.5", "ads.example", "A", "blocked"),
    ]


# --- Zeek ----------------------------------------------------------------------------------------------------
# Zeek's `Log::default_scope_sep` ("." by default; base/frameworks/logging/main.zeek: "Default separator for log
# field scopes when logs are unrolled and flattened") set to "_" names the connection's fields `id_orig_h`,
# `id_orig_p`, `id_resp_h`, `id_resp_p`, in JSON keys and in TSV's #fields. Those lines lost both addresses
# and the port (JSON was not recognised either).
def test_zeek_logs_with_an_underscore_scope_separator_keep_their_addresses(tmp_path: Path) -> None:
    conn = [
        '{"ts":1731400000.250000,"uid":"Cq1","id_orig_h":"10.40.1.5","id_orig_p":51000,"id_resp_h":"192.0.2.80",'
        '"id_resp_p":443,"proto":"tcp","service":"ssl","duration":2.5,"orig_bytes":1200,"resp_bytes":56000,'
        '"conn_state":"SF","missed_bytes":0,"history":"ShADadFf"}',
        '{"ts":1731400001.0,"uid":"Cq2","id_orig_h":"10.40.1.6","id_orig_p":51001,"id_resp_h":"192.0.2.53",'
        '"id_resp_p":53,"proto":"udp","service":"dns","conn_state":"SF","missed_bytes":0,"history":"Dd"}',
    ]
    assert sniff(conn).name == "zeek_conn"
    events, _, report = parse_lines(tmp_path / "conn.log", "zeek_conn", conn)
    assert (report.parsed, report.rejected) == (2, 0)
    assert [(e["src_ip"], e["dst_ip"], e["dst_port"], e["network_protocol"], e.get("bytes_out"))
            for e in _events(events)] == [("10.40.1.5", "192.0.2.80", 443, "ssl", 1200),
                                          ("10.40.1.6", "192.0.2.53", 53, "dns", None)]
    dns = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tdns",
        "#fields\tts\tuid\tid_orig_h\tid_orig_p\tid_resp_h\tid_resp_p\tproto\ttrans_id\tquery\tqtype_name\t"
        "rcode_name\tanswers\trejected",
        "1731400002.5\tCq3\t10.40.1.7\t40000\t192.0.2.53\t53\tudp\t4321\tapi.example.org\tA\tNOERROR\t"
        "198.51.100.4,198.51.100.5\tF",
    ]
    assert sniff(dns).name == "zeek_dns"
    events, _, report = parse_lines(tmp_path / "dns.log", "zeek_dns", dns)
    assert (report.parsed, report.rejected, report.ignored) == (1, 0, 6)
    (event,) = _events(events)
    assert (event["src_ip"], event["dst_ip"], event["dst_port"], event["host"], event["dns_answers"]) == (
        "10.40.1.7", "192.0.2.53", 53, "api.example.org", ["198.51.100.4", "198.51.100.5"])


# --- Windows DHCP ----------------------------------------------------------------------------------------------
# A DHCP server writes its audit log's header block in its own language (Microsoft's German documentation of the
# log names the columns "ID, Datum, Uhrzeit, Beschreibung, IP-Adresse, Hostname, MAC-Adresse"); the rows are
# the same everywhere. A short file of such a server was not recognised (its header lines outnumber its rows).
def test_windows_dhcp_log_with_a_localised_header_is_recognised(tmp_path: Path) -> None:
    lines = [
        "\t\tMicrosoft-DHCP-Dienst-Aktivitätsprotokoll",
        "",
        "Ereignis-ID  Bedeutung",
        "00\tDas Protokoll wurde gestartet.",
        "10\tEine neue IP-Adresse wurde an einen Client geleast.",
        "",
        "ID,Datum,Uhrzeit,Beschreibung,IP-Adresse,Hostname,MAC-Adresse,Benutzername,Transaktions-ID,QErgebnis,"
        "Probezeit,Korrelations-ID,DHCID,Herstellerklasse(Hex),Herstellerklasse(ASCII),Benutzerklasse(Hex),"
        "Benutzerklasse(ASCII),Relay-Agent-Informationen,DnsRegFehler.",
        "00,11/29/26,00:00:04,Gestartet,,,,,0,6,,,,,,,,,0",
        "10,11/29/26,08:15:01,Zuweisen,10.50.1.15,ws-0042.gemeente.local,4C5541A0FA99,,2345678,0,,,,"
        "0x4D53465420352E30,MSFT 5.0,,,,0",
        "11,11/29/26,08:45:02,Erneuern,10.50.1.16,ws-0043.gemeente.local,4C5541A0FA9A,,2345679,0,,,,,,,,,0",
    ]
    assert sniff(lines).name == "windows_dhcp"
    events, _, report = parse_lines(tmp_path / "DhcpSrvLog-Son.log", "windows_dhcp", lines)
    assert (report.parsed, report.rejected, report.ignored) == (2, 0, 8)
    assert [(e["src_ip"], e["src_host"]) for e in _events(events)] == [
        ("10.50.1.15", "ws-0042.gemeente.local"), ("10.50.1.16", "ws-0043.gemeente.local")]
    # a CSV of something else whose first column is an ID is no DHCP log
    other = ["ID,Name,Department,Room,Phone,Email,Manager", "17,Jan,Finance,2.14,1234,jan@example.org,Piet"]
    assert dict(sniff_scores(other)).get("windows_dhcp", 0.0) == 0.0


# --- FortiGate -------------------------------------------------------------------------------------------------
# FortiOS's `config log syslogd setting` offers `set format [default|csv|...]` (CLI reference): the csv format
# writes the same key=value pairs separated by commas (as FortiAnalyzer's CSV downloads do). Such lines were
# rejected ("no type=") and the file not recognised. Quoted values keep their commas.
def test_fortigate_csv_format_lines_are_read(tmp_path: Path) -> None:
    lines = [
        'date=2025-03-04,time=11:00:00,devname="FGT-A",devid="FG200FT000000001",eventtime=1741082400000000000,'
        'tz="+0100",logid="0000000013",type="traffic",subtype="forward",level="notice",vd="root",srcip=10.60.1.5,'
        'srcport=50100,srcintf="lan",dstip=198.51.100.30,dstport=443,dstintf="wan1",proto=6,action="close",'
        'policyid=3,service="HTTPS",user="mvisser",app="Example AI",appcat="GenAI",duration=12,sentbyte=3400,'
        'rcvdbyte=88000,hostname="assistant.example.com"',
        '<189>date=2025-03-04,time=11:00:05,devname="FGT-A",logid="1501054802",type="utm",subtype="dns",'
        'eventtype="dns-response",level="information",vd="root",eventtime=1741082405000000000,srcip=10.60.1.6,'
        'srcport=53001,dstip=10.60.0.53,dstport=53,proto=17,qname="api.example.org",qtype="A",qclass="IN",'
        'ipaddr="198.51.100.41, 198.51.100.42",msg="Domain is monitored, allowed",action="pass"',
        'date=2025-03-04,time=11:00:06,devname="FGT-A",logid="0100032001",type="event",subtype="system",'
        'level="information",vd="root",logdesc="Admin login successful",user="admin",msg="login, via https"',
    ]
    assert sniff(lines).name == "fortigate"
    events, _, report = parse_lines(tmp_path / "fgt.csv.log", "fortigate", lines)
    assert (report.parsed, report.rejected, report.ignored) == (2, 0, 1)
    first, second = _events(events)
    assert (first["src_ip"], first["dst_ip"], first["dst_port"], first["host"], first["user_name"], first["action"],
            first["bytes_out"], first["bytes_in"], first["vendor_app"]) == (
        "10.60.1.5", "198.51.100.30", 443, "assistant.example.com", "mvisser", "allowed", 3400, 88000, "Example AI")
    assert first["ts"].isoformat() == "2025-03-04T10:00:00+00:00"
    assert (second["host"], second["dns_qtype"], second["dns_answers"], second["action"]) == (
        "api.example.org", "A", ["198.51.100.41", "198.51.100.42"], "allowed")


# --- Windows DNS -----------------------------------------------------------------------------------------------
# The debug log writes times in the server's locale. Windows' ko-KR and zh-TW clocks (and ja-JP's 12-hour one)
# put the AM/PM marker before the time: `2025-11-04 오후 3:03:06`, `2025/11/4 下午 03:03:06`. Such lines were
# rejected ("date not understood").
def test_windows_dns_times_with_the_marker_before_the_clock_are_read(tmp_path: Path) -> None:
    tail = " 0A0C PACKET  000001AB5710F890 UDP Rcv 10.70.1.{}      c6b{}   Q [0001   D   NOERROR] A      {}"
    lines = [
        "2025-11-04 오후 3:03:06" + tail.format(5, 1, "(7)example(3)com(0)"),
        "2025-11-04 오전 9:10:11" + tail.format(6, 2, "(3)api(7)example(3)org(0)"),
        "2025/11/4 下午 03:03:07" + tail.format(7, 3, "(7)example(3)net(0)"),
        "2025/11/4 午前 12:00:01" + tail.format(8, 4, "(4)mail(7)example(3)com(0)"),
    ]
    assert sniff(lines).name == "windows_dns"
    events, _, report = parse_lines(tmp_path / "dns.log", "windows_dns", lines)
    assert (report.parsed, report.rejected) == (4, 0)
    assert [(e["ts"].isoformat(), e["src_ip"], e["host"]) for e in _events(events)] == [  # (Amsterdam: UTC+1)
        ("2025-11-04T14:03:06+00:00", "10.70.1.5", "example.com"),
        ("2025-11-04T08:10:11+00:00", "10.70.1.6", "api.example.org"),
        ("2025-11-04T14:03:07+00:00", "10.70.1.7", "example.net"),
        ("2025-11-03T23:00:01+00:00", "10.70.1.8", "mail.example.com"),
    ]


# FortiOS 4.x (MR2/MR3) traffic logs name the fields `log_id`, `src`, `src_port`, `dst`, `dst_port`, `status`,
# `sent`, `rcvd` (as real devices' lines in public parser tests show); read as today's names, such a line was an
# event without addresses, action or bytes.
def test_fortios_4_traffic_lines_keep_addresses_action_and_bytes(tmp_path: Path) -> None:
    lines = [
        '<189>date=2014-06-02 time=09:15:20 devname=FGT-OLD device_id=FG100A0000000001 log_id=0021000002 '
        'type=traffic subtype=allowed pri=notice vd=root src=10.80.1.9 src_port=40001 src_int="internal" '
        'dst=198.51.100.62 dst_port=443 dst_int="wan1" SN=1001 status=accept policyid=4 dst_country="Netherlands" '
        'src_country="Reserved" service=HTTPS proto=6 duration=20 sent=1500 rcvd=9000 sent_pkt=10 rcvd_pkt=12',
        '<188>date=2014-06-02 time=09:15:21 devname=FGT-OLD device_id=FG100A0000000001 log_id=0022000003 '
        'type=traffic subtype=violation pri=warning vd=root src=10.80.1.10 src_port=40002 src_int="internal" '
        'dst=198.51.100.63 dst_port=22 dst_int="wan1" SN=1002 status=deny policyid=0 service=SSH proto=6 '
        'duration=0 sent=0 rcvd=0',
    ]
    assert sniff(lines).name == "fortigate"
    events, _, report = parse_lines(tmp_path / "fgt4.log", "fortigate", lines)
    assert (report.parsed, report.rejected) == (2, 0)
    assert [(e["src_ip"], e["dst_ip"], e["dst_port"], e["action"], e.get("bytes_out"), e.get("bytes_in"))
            for e in _events(events)] == [("10.80.1.9", "198.51.100.62", 443, "allowed", 1500, 9000),
                                          ("10.80.1.10", "198.51.100.63", 22, "blocked", 0, 0)]
