"""Conformance with layouts seen in public real-world firewall and proxy logs (2026-12-01, a check of the product
against public samples it had never read: Elastic's integration test logs, vendors' documentation). Each test
line is written here from the vendor's documented layout, never copied from a sample.
"""

from __future__ import annotations

from pathlib import Path

from tests.golden import parse_lines

ROOT = Path(__file__).resolve().parent.parent
# A PAN-OS 10 TRAFFIC end record (the project's own sample), its syslog header cut off: `1,receive time,...`
PANOS_RECORD = (ROOT / "sample_logs" / "panos" / "basic.log").read_text().splitlines()[0].split(" PA-3220 ", 1)[1]


def _panos(tmp_path: Path, *lines: str) -> list[dict]:
    events, rejects, _ = parse_lines(tmp_path / "pa.log", "panos", list(lines))
    assert not rejects.num_rows
    return events.to_pylist()


# --- PAN-OS: the firewall's UTC offset in an ISO or RFC 5424 header --------------------------------------------
# PAN-OS's IETF syslog format (and relays writing ISO headers) put the firewall's offset in the header; the CSV
# times (`2025/11/18 09:00:04`) are the firewall's local time without one.
def test_panos_local_times_are_read_with_the_iso_headers_offset(tmp_path: Path) -> None:
    events = _panos(tmp_path,
                    f"2025-11-18T09:00:05+07:00 fw01 {PANOS_RECORD}",
                    f"<14>1 2025-11-18T09:00:05-08:00 fw02 - - - - {PANOS_RECORD}",
                    f"<14>1 2025-11-18T09:00:05Z fw03 - - - - {PANOS_RECORD}")
    # generated time 09:00:04 local, at +07:00, -08:00 and UTC
    assert [event["ts"].timestamp() for event in events] == [1763431204.0, 1763485204.0, 1763456404.0]


def test_panos_times_under_a_bsd_header_stay_in_the_configured_zone(tmp_path: Path) -> None:
    (event,) = _panos(tmp_path, f"<14>Nov 18 09:00:05 PA-3220 {PANOS_RECORD}")
    assert event["ts"].timestamp() == 1763452804.0  # 09:00:04 in Europe/Amsterdam (the golden settings' zone)


# --- PAN-OS: `-/`, a URL without a host ----------------------------------------------------------------------
def test_a_dash_host_is_no_host(tmp_path: Path) -> None:
    from detector.ingest.base import open_parse_connection

    connection = open_parse_connection()
    hosts = connection.sql("select hostport_host('-') as dash, hostport_host('chatgpt.com:443') as named").fetchall()[0]
    assert hosts == (None, "chatgpt.com")


# --- FortiGate: a session a security profile blocked ---------------------------------------------------------
# FortiOS Log Message Reference (LOG_ID_TRAFFIC_ALLOW): `action` "Deny = blocked by firewall policy ... All Others =
# allowed by Firewall Policy and the status indicates how it was closed"; `utmaction` the security action by UTM.
FORTI_SESSION = ('date=2025-11-18 time=09:00:04 logid="0000000013" type="traffic" subtype="forward" srcip=10.20.3.14 '
                 'dstip=104.18.32.47 dstport=443 proto=6 sentbyte=1150 rcvdbyte=7039 duration=3 '
                 'eventtime=1763452804 app="ChatGPT" ')


def test_fortigate_session_blocked_by_a_security_profile_is_blocked(tmp_path: Path) -> None:
    lines = [FORTI_SESSION + 'action="client-rst" appact="drop-session" utmaction="block"',
             FORTI_SESSION + 'action="close" utmaction="allow"',
             FORTI_SESSION + 'action="client-rst"',
             FORTI_SESSION + 'action="deny" utmaction="block"']
    events, rejects, _ = parse_lines(tmp_path / "fw-20251118.log", "fortigate", lines)
    assert not rejects.num_rows
    rows = events.to_pylist()
    assert [row["action"] for row in rows] == ["blocked", "allowed", "allowed", "blocked"]
    assert rows[0]["bytes_out"] == 1150  # the session's counters stay with it


# --- Forcepoint LEEF: `-` for a field the event has none of ----------------------------------------------------
def test_forcepoint_leef_dash_method_and_agent_are_no_values(tmp_path: Path) -> None:
    fields = ["sev=1", "cat=1504", "usrName=-", "src=10.1.2.4", "dst=104.18.32.47", "dstPort=443",
              "url=https://chatgpt.com/c/1", "userAgent={agent}", "method={method}"]
    head = "<159>Mar 30 08:01:16 fp01 LEEF:1.0|Forcepoint|Security|8.5.6|transaction:permitted|"
    lines = [head + "\t".join(fields).format(agent="-", method="-"),
             head + "\t".join(fields).format(agent="Mozilla/5.0", method="post")]
    events, rejects, _ = parse_lines(tmp_path / "fp-20250330.log", "leef", lines)
    assert not rejects.num_rows
    assert [(row["http_method"], row["user_agent"], row["host"]) for row in events.to_pylist()] == [
        (None, None, "chatgpt.com"), ("POST", "Mozilla/5.0", "chatgpt.com")]


# --- W3C / ProxySG: the supplier's address is an address ------------------------------------------------------
def test_a_word_where_the_fields_say_an_address_is_no_destination_address(tmp_path: Path) -> None:
    head = ["#Software: SGOS 6.7.4.1", "#Version: 1.0",
            "#Fields: date time time-taken c-ip sc-status s-action cs-method cs-host cs-uri-path r-ip"]
    lines = ["2025-11-18 08:00:04 12 10.20.3.14 200 TCP_NC_MISS GET chatgpt.com /c/1 104.18.32.47",
             "2025-11-18 08:00:05 12 10.20.3.14 200 TCP_NC_MISS GET chatgpt.com /c/2 TCP_CLIENT_REFRESH",
             "2025-11-18 08:00:06 12 10.20.3.14 200 TCP_NC_MISS GET chatgpt.com /c/3 2606:4700::6812:2020"]
    events, rejects, _ = parse_lines(tmp_path / "sg.log", "w3c", [*head, *lines])
    assert not rejects.num_rows
    assert [row["dst_ip"] for row in events.to_pylist()] == ["104.18.32.47", None, "2606:4700::6812:2020"]


# --- Cisco Umbrella: a computer identity names the client -----------------------------------------------------
# Umbrella's identity types: `Roaming Computers`, `AD Computers`, `Anyconnect Roaming Client` (a device), `AD Users`
# (a person), `Networks`, `Sites`. A roaming laptop's internal IP is an address of whatever network it is on.
def test_umbrella_computer_identity_is_the_client_name(tmp_path: Path) -> None:
    def line(granular: str, identities: str, granular_type: str, types: str) -> str:
        return (f'"2025-11-18 08:00:04","{granular}","{identities}","192.168.1.23","198.51.100.7","Allowed","1 (A)",'
                f'"NOERROR","chatgpt.com.","Generative AI","{granular_type}","{types}",""')
    lines = [line("BZ-LT-0042", "BZ-LT-0042,Jan de Vries (jdv@example.nl)", "Roaming Computers",
                  "Roaming Computers,AD Users"),
             line("Thuiswerk", "Thuiswerk,Anyconnect-7", "Networks", "Networks,Anyconnect Roaming Client"),
             line("Stadhuis", "Stadhuis", "Sites", "Sites")]
    events, rejects, _ = parse_lines(tmp_path / "umbrella-dns.csv", "umbrella_dns", lines)
    assert not rejects.num_rows
    rows = events.to_pylist()
    assert [row["src_host"] for row in rows] == ["BZ-LT-0042", "Anyconnect-7", None]
    assert rows[0]["user_name"] is not None and rows[1]["user_name"] is None


# --- Check Point: the user agent of a web request a blade logged ------------------------------------------------
def test_checkpoint_web_request_keeps_its_user_agent(tmp_path: Path) -> None:
    line = ('<134>1 2025-11-18T08:00:04Z gw CheckPoint 1930 - [action:"Prevent"; time:"1763452804"; '
            'src:"10.20.3.14"; dst:"104.18.32.47"; proto:"6"; service:"443"; resource:"https://chatgpt.com/c/1"; '
            'method:"POST"; user_agent:"Mozilla/5.0 (Windows NT 10.0; Win64; x64)"; product:"Anti-Virus"]')
    events, rejects, _ = parse_lines(tmp_path / "cp.log", "checkpoint", [line])
    assert not rejects.num_rows
    (row,) = events.to_pylist()
    assert (row["host"], row["http_method"], row["user_agent"], row["action"]) == (
        "chatgpt.com", "POST", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "blocked")


# --- Sophos Firewall: a warned request ------------------------------------------------------------------------
# Web policy action Warn: the firewall answers with its warning page (log_subtype="Warned"), as the UTM's `warn`.
def test_sophos_xg_warned_request_is_blocked(tmp_path: Path) -> None:
    line = ('Mar 11 08:02:13 fw01 device_name="SFW" timestamp="2024-03-11T08:02:13+0100" log_id=050901616001 '
            'log_type="Content Filtering" log_component="HTTP" log_subtype="{subtype}" user_name="m.jansen" '
            'url="https://chat.deepseek.com/" src_ip=10.20.7.9 dst_ip=104.18.32.47 dst_port=443 domain=chat.deepseek.com')
    events, rejects, _ = parse_lines(tmp_path / "sophos.log", "sophos_xg",
                                     [line.format(subtype=subtype) for subtype in ("Warned", "Allowed", "Denied")])
    assert not rejects.num_rows
    assert [row["action"] for row in events.to_pylist()] == ["blocked", "allowed", "blocked"]
