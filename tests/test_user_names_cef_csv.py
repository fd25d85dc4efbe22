r"""User names as users.csv names them, and client addresses that are addresses, in CEF, LEEF, CSV and JSON.

Layouts (values are our own):
- Forcepoint Web Security's SIEM format strings, `suser=%<=userPath> loginID=%<=loginID>` (the user's directory
  path, with `=` escaped as CEF wants, and the login ID):
  https://help.forcepoint.com/websec/en-us/on-prem/85/siem/B180CA52-DB55-4DCD-A393-2F3DE855CFC8.html
  and its keys (userPath: NameSpace, Domain and UserName; loginID: the login ID of the user):
  https://help.forcepoint.com/websec/en-us/on-prem/85/siem/5EA353E4-BD6A-4DB1-9F1A-BB8AFA6A328E.html
- CEF extension escapes: https://www.microfocus.com/documentation/arcsight/arcsight-smartconnectors-8.4/pdfdoc/cef-implementation-standard/cef-implementation-standard.pdf
- LEEF 1.0 (tab-separated attributes, `usrName`): https://www.ibm.com/docs/en/dsm?topic=leef-event-components
- Generic CSV and JSON: the column and key names this product documents (csv_generic.ALIASES, json_keys); a
  client column holding `Not available` as Forcepoint's cloud reporting exports write it.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from detector.ingest.user_names import account_names, addresses
from tests.golden import parse_lines

CEF_HEAD = "<159>Nov 23 08:15:02 10.1.1.2 CEF:0|Forcepoint|Security|8.5.5|148|Transaction permitted|1|"
CEF_TAIL = "rt=1795421702000 dhost=chatgpt.com dpt=443 request=https://chatgpt.com/c/1 requestMethod=POST"


def cef(extension: str) -> str:
    return f"{CEF_HEAD}act=permitted app=https dvc=10.1.1.2 {extension} {CEF_TAIL}"


def events_of(tmp_path: Path, key: str, lines: list[str]) -> list[dict[str, object]]:
    events, rejects, report = parse_lines(tmp_path / f"sample.{key}", key, lines)
    assert rejects.num_rows == 0, rejects.to_pylist()
    assert report.parsed == events.num_rows
    return sorted(events.to_pylist(), key=lambda e: int(e["line_no"]))  # type: ignore[call-overload]


def test_forcepoint_cef_login_id_is_the_user_and_path_is_read_without_it(tmp_path: Path) -> None:
    lines = [
        # the predefined string: the path (escaped '=') and the login ID: the login ID is the account
        cef(r"src=10.20.1.7 spt=51000 suser=LDAP://10.20.0.5 OU\=Gebruikers,OU\=Gemeente,DC\=voorbeeld,DC\=local"
            r"/Anna Smit loginID=asmit"),
        # a custom string without loginID: the path's last element
        cef(r"src=10.20.1.8 suser=LDAP://10.20.0.5 CN\=Users,DC\=voorbeeld,DC\=local/bvisser"),
        # a DN: its CN
        cef(r"src=10.20.1.9 suser=CN\=kdekker,OU\=Burgerzaken,DC\=voorbeeld,DC\=local"),
        # a Windows NT namespace path
        cef("src=10.20.1.10 suser=WinNT://VOORBEELD/lbos"),
        # a login ID of a dash is none: the path decides
        cef(r"src=10.20.1.11 suser=LDAP://10.20.0.5 OU\=Users,DC\=voorbeeld,DC\=local/mvos loginID=-"),
        # a path naming only the directory server names no user
        cef("src=10.20.1.12 suser=LDAP://10.20.0.5"),
        # DOMAIN\user and user@domain stay as written (the pseudonym reduces them, as for every format)
        cef(r"src=10.20.1.13 suser=VOORBEELD\\njansen"),
        cef("src=10.20.1.14 suser=o.peters@voorbeeld.nl"),
    ]
    users = [e["user_name"] for e in events_of(tmp_path, "cef", lines)]
    assert users == ["asmit", "bvisser", "kdekker", "lbos", "mvos", None, "VOORBEELD\\njansen",
                     "o.peters@voorbeeld.nl"]


def test_cef_address_placeholders_are_none_and_the_line_kept(tmp_path: Path) -> None:
    lines = [cef("src=0.0.0.0 suser=asmit"), cef("src=- suser=asmit"), cef("src=Not available suser=asmit"),
             cef("src=2001:db8::7 suser=asmit"), cef("src=10.20.1.7 dst=N/A suser=asmit")]
    events = events_of(tmp_path, "cef", lines)
    assert [e["src_ip"] for e in events] == [None, None, None, "2001:db8::7", "10.20.1.7"]
    assert [e["dst_ip"] for e in events] == [None] * 5
    assert [e["host"] for e in events] == ["chatgpt.com"] * 5


def test_leef_usrname_path_and_login_id(tmp_path: Path) -> None:
    head = "<159>Nov 23 08:15:02 10.1.1.2 LEEF:1.0|Forcepoint|Security|8.5.5|transaction:permitted|"
    common = "devTime=1795421702000\tdst=104.18.32.47\tdhost=chatgpt.com\turl=https://chatgpt.com/c/1"
    lines = [
        head + "src=10.20.1.7\tusrName=LDAP://10.20.0.5 OU=Gebruikers,DC=voorbeeld,DC=local/Anna Smit"
        "\tloginID=asmit\t" + common,
        head + "src=10.20.1.8\tusrName=LDAP://10.20.0.5 OU=Gebruikers,DC=voorbeeld,DC=local/bvisser\t" + common,
        head + "src=Not available\tusrName=CN=de Vries\\, Jan,OU=Gebruikers,DC=voorbeeld,DC=local\t" + common,
    ]
    events = events_of(tmp_path, "leef", lines)
    assert [e["user_name"] for e in events] == ["asmit", "bvisser", "de Vries, Jan"]
    assert [e["src_ip"] for e in events] == ["10.20.1.7", "10.20.1.8", None]


def test_csv_client_placeholders_are_none_and_rows_kept(tmp_path: Path) -> None:
    lines = [
        "Date,Source IP,User,Destination IP,URL,Action",
        "2026-11-23 08:15:02,Not available,asmit,104.18.32.47,https://chatgpt.com/c/1,Allowed",
        "2026-11-23 08:15:03,N/A,asmit,N/A,https://chatgpt.com/c/2,Allowed",
        "2026-11-23 08:15:04,unknown,asmit,-,https://chatgpt.com/c/3,Allowed",
        "2026-11-23 08:15:05,0.0.0.0,asmit,,https://chatgpt.com/c/4,Allowed",
        "2026-11-23 08:15:06,ws-0421.voorbeeld.local,asmit,,https://chatgpt.com/c/5,Allowed",
        "2026-11-23 08:15:07,10.20.1.7:51234,asmit,,https://chatgpt.com/c/6,Allowed",
        "2026-11-23 08:15:08,10.20.1.8,asmit,,https://chatgpt.com/c/7,Allowed",
        '2026-11-23 08:15:09,[2001:db8::8]:51000,"CN=kdekker,OU=Burgerzaken,DC=voorbeeld,DC=local",,'
        "https://chatgpt.com/c/8,Allowed",
        '2026-11-23 08:15:10,10.20.1.9,"LDAP://10.20.0.5 OU=Users,DC=voorbeeld,DC=local/bvisser",,'
        "https://chatgpt.com/c/9,Allowed",
    ]
    events = events_of(tmp_path, "csv", lines)
    assert len(events) == 9
    assert [e["src_ip"] for e in events] == [None, None, None, None, None, "10.20.1.7", "10.20.1.8", "2001:db8::8",
                                             "10.20.1.9"]
    assert [e["dst_ip"] for e in events][:3] == ["104.18.32.47", None, None]
    assert [e["user_name"] for e in events][-2:] == ["kdekker", "bvisser"]
    assert all(e["host"] == "chatgpt.com" for e in events)


def test_json_shares_the_rule(tmp_path: Path) -> None:
    lines = [
        '{"timestamp": "2026-11-23T08:15:02Z", "source": {"ip": "Not available"}, '
        '"user": {"name": "LDAP://10.20.0.5 OU=Users,DC=voorbeeld,DC=local/bvisser"}, '
        '"url": {"full": "https://chatgpt.com/c/1"}}',
        '{"timestamp": "2026-11-23T08:15:03Z", "source": {"ip": "10.20.1.7"}, "user": {"name": "asmit"}, '
        '"url": {"full": "https://chatgpt.com/c/2"}}',
    ]
    events = events_of(tmp_path, "json", lines)
    assert [e["src_ip"] for e in events] == [None, "10.20.1.7"]
    assert [e["user_name"] for e in events] == ["bvisser", "asmit"]


def test_account_names_of_paths_and_dns() -> None:
    names = pa.array(["uid=kees,ou=people,dc=voorbeeld,dc=nl", "LDAP://dc1.voorbeeld.local/CN=pbakker,OU=U,DC=v",
                      "LDAP://10.20.0.5 CN=rmulder,OU=Users,DC=v", "LDAP://10.20.0.5 OU=Users,DC=v", "jan", None,
                      "LDAP://10.20.0.5 OU=Users,DC=v/"])
    assert account_names(names).to_pylist() == ["kees", "pbakker", "rmulder", None, "jan", None, None]


def test_addresses_keep_only_addresses() -> None:
    texts = pa.array(["00:11:22:33:44:55", "::", "fe80::1%eth0", "256.1.2.3", " 10.0.0.2 ", "::ffff:10.0.0.1",
                      "2001:db8:0:0:0:0:0:1", None])
    assert addresses(texts).to_pylist() == [None, None, "fe80::1%eth0", None, "10.0.0.2", "::ffff:10.0.0.1",
                                            "2001:db8:0:0:0:0:0:1", None]
