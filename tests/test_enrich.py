"""Attribution, policy and privacy on a constructed organisation whose truth is known."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector import db
from detector.classify.run import classify
from detector.cli import cli
from detector.config import load_settings
from detector.enrich.directory import read_users
from detector.enrich.policy import load_policy
from detector.enrich.pseudonym import load_key, normalise_user, pseudonym
from detector.errors import ConfigError
from detector.ingest.pipeline import ingest_paths
from detector.signatures import load_catalog

PROXY = """\
1732780800.000    100 10.1.0.5 TCP_TUNNEL/200 5000 CONNECT chatgpt.com:443 GEMEENTE%5Calice HIER_DIRECT/104.18.32.47 -
1732780900.000    100 10.3.0.8 TCP_TUNNEL/200 7000 CONNECT chat.deepseek.com:443 carol@gemeente.nl HIER_DIRECT/1.2.3.4 -
1732780901.000    100 10.3.0.8 TCP_TUNNEL/200 7000 CONNECT www.deepl.com:443 carol@gemeente.nl HIER_DIRECT/1.2.3.5 -
1732780902.000    100 10.2.0.7 TCP_TUNNEL/200 7000 CONNECT api.githubcopilot.com:443 bob HIER_DIRECT/1.2.3.6 -
"""
# Times: 09:xx in Europe/Amsterdam is 08:xx UTC; alice's proxy request is at 08:00 UTC (epoch 1732780800).
DNS = """\
28-Nov-2024 09:05:00.000 queries: info: client @0x1 10.1.0.5#5000 (chatgpt.com): query: chatgpt.com IN A + (10.0.0.53)
28-Nov-2024 10:00:00.000 queries: info: client @0x1 10.2.0.7#5000 (chatgpt.com): query: chatgpt.com IN A + (10.0.0.53)
28-Nov-2024 09:00:01.000 queries: info: client @0x1 10.2.5.9#5000 (chatgpt.com): query: chatgpt.com IN A + (10.0.0.53)
28-Nov-2024 09:00:02.000 queries: info: client @0x1 192.168.9.9#5000 (chatgpt.com): query: chatgpt.com IN A + (10.0.0.53)
28-Nov-2024 09:00:03.000 queries: info: client @0x1 10.1.0.5#5000 (www.rijksoverheid.nl): query: www.rijksoverheid.nl IN A + (10.0.0.53)
"""
# Umbrella's roaming client names bob's laptop, on a home network no lease or network covers
UMBRELLA = ('"2024-11-28 08:10:00","PC-BOB.gemeente.local","PC-BOB.gemeente.local","192.168.50.5","198.51.100.7",'
            '"Allowed","1 (A)","NOERROR","claude.ai.","Generative AI","Roaming Computers","Roaming Computers",""\n')
DHCP = "Nov 28 07:30:00 dhcp01 dhcpd[9]: DHCPACK on 10.2.0.7 to 00:11:22:33:44:55 (PC-BOB) via eth0\n"

USERS = "user,department,title\nalice,Burgerzaken,adviseur\nbob,ICT,beheerder\ncarol,Communicatie,woordvoerder\n"
NETWORKS = "cidr,department\n10.1.0.0/16,Burgerzaken\n10.2.0.0/16,ICT\n10.2.5.0/24,Servicedesk\n"
WORKSTATIONS = "workstation,user\npc-bob.gemeente.local,GEMEENTE\\bob\n"
POLICY = """\
default: shadow
services:
  deepseek: forbidden
  deepl:
    verdict: tolerated
    departments:
      Communicatie: sanctioned
  github_copilot:
    verdict: forbidden
    departments:
      ICT: sanctioned
"""


@pytest.fixture
def organisation(home: Path, tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_text(PROXY)
    (logs / "named.log").write_text(DNS)
    (logs / "umbrella-dns.csv").write_text(UMBRELLA)
    dhcp = logs / "dhcpd-20241201.log"
    dhcp.write_text(DHCP)
    for name, text in (("users.csv", USERS), ("networks.csv", NETWORKS), ("workstations.csv", WORKSTATIONS),
                       ("policy.yaml", POLICY)):
        (home / name).write_text(text)
    reports = list(ingest_paths(load_settings(home), [str(logs)]))
    assert all(not r.error and r.rejected == 0 for r in reports), reports
    classify(load_settings(home))
    return home


def rows(home: Path, query: str) -> list[dict[str, object]]:
    with db.connect(load_settings(home)) as connection:
        return connection.sql(query).to_arrow_table().to_pylist()


def user_id(home: Path, name: str) -> str:
    return pseudonym(load_key(home), name)


def test_every_ai_event_is_attributed_as_the_truth_says(organisation: Path) -> None:
    found = rows(organisation, "select source_kind, src_ip, host, user_id, department, attribution from ai_events"
                               " order by ts, src_ip")
    alice, bob, carol = (user_id(organisation, n) for n in ("alice", "bob", "carol"))
    expected = [
        ("proxy", "10.1.0.5", "chatgpt.com", alice, "Burgerzaken", "user"),
        ("dns", "10.1.0.5", "chatgpt.com", alice, "Burgerzaken", "proxy_session"),
        ("proxy", "10.3.0.8", "chat.deepseek.com", carol, "Communicatie", "user"),
        ("proxy", "10.3.0.8", "www.deepl.com", carol, "Communicatie", "user"),
        ("proxy", "10.2.0.7", "api.githubcopilot.com", bob, "ICT", "user"),
        ("dns", "10.2.0.7", "chatgpt.com", bob, "ICT", "dhcp"),
        ("dns", "192.168.50.5", "claude.ai", bob, "ICT", "workstation"),  # the computer the log names
        ("dns", "10.2.5.9", "chatgpt.com", None, "Servicedesk", "network"),  # longest prefix wins
        ("dns", "192.168.9.9", "chatgpt.com", None, None, "none"),
    ]
    got = [tuple(r[k] for k in ("source_kind", "src_ip", "host", "user_id", "department", "attribution"))
           for r in found]
    assert sorted(got, key=str) == sorted(expected, key=str)


def test_policy_verdicts_with_department_exceptions(organisation: Path) -> None:
    verdicts = {(r["service"], r["department"]): r["verdict"]
                for r in rows(organisation, "select distinct service, department, verdict from ai_events")}
    assert verdicts[("deepseek", "Communicatie")] == "forbidden"
    assert verdicts[("deepl", "Communicatie")] == "sanctioned"
    assert verdicts[("github_copilot", "ICT")] == "sanctioned"
    assert verdicts[("chatgpt", "Burgerzaken")] == "shadow"
    services = {r["service"]: r["verdict"] for r in rows(organisation, "select service, verdict from services")}
    assert services["deepl"] == "tolerated" and services["github_copilot"] == "forbidden"


def test_usage_daily_counts_users_per_department_and_service(organisation: Path) -> None:
    usage = rows(organisation, "select department, service, sum(users) as users, sum(events) as events"
                               " from usage_daily where service = 'chatgpt' group by all order by department")
    assert [(r["department"], r["users"], r["events"]) for r in usage] == [
        ("Burgerzaken", 1, 2), ("ICT", 1, 1), ("Servicedesk", 0, 1), (None, 0, 1)
    ]


def test_a_corrected_users_csv_applies_to_all_history_at_the_next_classify(organisation: Path) -> None:
    (organisation / "users.csv").write_text(USERS.replace("alice,Burgerzaken", "alice,Publiekszaken"))
    classify(load_settings(organisation))
    departments = {r["department"] for r in rows(organisation, "select department from ai_events"
                                                               " where host = 'chatgpt.com' and src_ip = '10.1.0.5'")}
    assert departments == {"Publiekszaken"}


def test_user_names_are_normalised_across_sources() -> None:
    assert {normalise_user(n) for n in ("GEMEENTE\\JdeVries", "jdevries@gemeente.nl", " jdevries ")} == {"jdevries"}


def test_active_directory_export_and_ldif_are_accepted(home: Path) -> None:
    (home / "users.csv").write_text("sAMAccountName;displayName;department\nalice;Alice A;Burgerzaken\n")
    table = read_users(home)
    assert table.to_pylist() == [{"user_id": user_id(home, "alice"), "department": "Burgerzaken"}]
    (home / "users.csv").unlink()
    (home / "users.ldif").write_text(
        "dn: CN=Bob,OU=ICT,DC=gemeente,DC=local\nsAMAccountName: bob\ndepartment:: SUNU\n\n"
        "dn: CN=Carol,DC=gemeente,DC=local\nsAMAccountName: carol\ndepartment: Commu\n nicatie\n"
    )
    table = read_users(home)
    assert sorted(r["department"] for r in table.to_pylist()) == ["Communicatie", "ICT"]


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-8-sig", "utf-8"])
def test_users_csv_in_any_encoding_windows_writes_gives_the_same_names(home: Path, encoding: str) -> None:
    # Excel's CSV on Dutch Windows (Windows-1252), a PowerShell 5.1 redirect (UTF-16), UTF-8 with or without a mark;
    # Dutch column names. Read as UTF-8 alone, the first two stopped classify with a traceback.
    text = "gebruiker;afdeling\r\nDaniël;Financiën\r\nzoë.de.vries;Sociaal Domein\r\n"
    (home / "users.csv").write_bytes(text.encode(encoding))
    assert sorted(read_users(home).to_pylist(), key=lambda r: r["department"]) == [
        {"user_id": user_id(home, "Daniël"), "department": "Financiën"},
        {"user_id": user_id(home, "zoë.de.vries"), "department": "Sociaal Domein"}]


def test_policy_yaml_saved_in_windows_1252_is_read(home: Path) -> None:
    (home / "policy.yaml").write_bytes("# beleid voor Financiën\ndefault: tolerated\nservices:\n  deepl: sanctioned\n"
                                      .encode("cp1252"))
    policy = load_policy(home, load_catalog())  # (was a UnicodeDecodeError)
    assert (policy.default, policy.verdict("deepl", "translation")) == ("tolerated", "sanctioned")


def test_invalid_policy_is_refused_with_every_problem(home: Path) -> None:
    (home / "policy.yaml").write_text("default: maybe\nservices:\n  not_a_service: forbidden\n  deepl: sometimes\n")
    with pytest.raises(ConfigError) as error:
        classify(load_settings(home))
    message = str(error.value)
    assert "default" in message and "not_a_service" in message and "deepl" in message


def test_starter_policy_is_written_on_first_run_and_is_valid(home: Path) -> None:
    classify(load_settings(home))
    text = (home / "policy.yaml").read_text()
    assert "sanctioned" in text and text.lstrip().startswith("#")


def test_reveal_is_refused_without_permission_and_audited(organisation: Path) -> None:
    alice = user_id(organisation, "alice")
    refused = CliRunner().invoke(cli, ["--home", str(organisation), "reveal", alice, "--reason", "incident 42 upload"])
    assert refused.exit_code == 1 and "not allowed" in refused.output and "alice" not in refused.output
    config = organisation / "shadow-ai.toml"
    config.write_text(config.read_text().replace("allow_reveal = false", "allow_reveal = true"))
    allowed = CliRunner().invoke(cli, ["--home", str(organisation), "reveal", alice, "--reason", "incident 42 upload"])
    assert allowed.exit_code == 0 and "alice" in allowed.output
    audit = [json.loads(line) for line in (organisation / "audit.log").read_text().splitlines()]
    assert [(a["allowed"], a["pseudonym"], a["reason"]) for a in audit] == [
        (False, alice, "incident 42 upload"), (True, alice, "incident 42 upload")
    ]
    assert (organisation / "audit.log").stat().st_mode & 0o777 == 0o600


def test_the_key_never_appears_in_outputs_or_the_lake(organisation: Path) -> None:
    key = (organisation / "pseudonym.key").read_text().strip()
    runner = CliRunner()
    outputs = [runner.invoke(cli, ["--home", str(organisation), *args]).output for args in (
        ["status", "--json"], ["sql", "select * from ai_events", "--format", "json"], ["classify"],
        ["sql", "select * from events", "--format", "csv"],
    )]
    assert all(key not in out for out in outputs)
    stored = b"".join(p.read_bytes() for p in organisation.rglob("*") if p.is_file() and p.name != "pseudonym.key")
    assert key.encode() not in stored
    assert b"alice" not in b"".join(p.read_bytes() for p in (organisation / "lake").rglob("*.parquet"))


def test_suppression_hides_groups_smaller_than_the_minimum() -> None:
    import pandas as pd

    from detector.enrich.privacy import suppress_small_groups

    frame = pd.DataFrame({"department": ["ICT", "HR"], "users": [7, 2], "bytes_out": [100, 5]})
    shown = suppress_small_groups(frame, 5, measures=("bytes_out",))
    assert shown["users"].tolist() == [7, "< 5"]
    assert shown["bytes_out"].tolist() == [100, None]


def test_prune_deletes_old_days_only_and_is_audited(organisation: Path) -> None:
    before = rows(organisation, "select count(*) as n from events")[0]["n"]
    os.environ.pop("SHADOW_AI_PRUNE_TEST", None)
    result = CliRunner().invoke(cli, ["--home", str(organisation), "prune", "--older-than", "100000d"])
    assert result.exit_code == 0 and rows(organisation, "select count(*) as n from events")[0]["n"] == before
    result = CliRunner().invoke(cli, ["--home", str(organisation), "prune", "--older-than", "1d"])
    assert result.exit_code == 0
    assert rows(organisation, "select count(*) as n from events")[0]["n"] == 0
    assert "prune" in (organisation / "audit.log").read_text()


def test_lookup_gives_the_policy_verdict(home: Path) -> None:
    (home / "policy.yaml").write_text(POLICY)
    result = CliRunner().invoke(cli, ["--home", str(home), "lookup", "--json", "chat.deepseek.com", "www.deepl.com",
                                      "chatgpt.com", "www.rijksoverheid.nl"])
    verdicts = {json.loads(line)["host"]: json.loads(line)["verdict"] for line in result.output.splitlines()}
    assert verdicts == {"chat.deepseek.com": "forbidden", "www.deepl.com": "tolerated", "chatgpt.com": "shadow",
                        "www.rijksoverheid.nl": "not-ai"}


def test_ipv6_networks_longest_prefix_wins(home: Path) -> None:
    from detector.enrich.directory import ip_departments, read_networks

    (home / "networks.csv").write_text("cidr,department\n2001:db8::/32,Gemeente\n2001:db8:20::/48,ICT\n"
                                       "10.0.0.0/8,Gemeente\n")
    table = ip_departments(["2001:db8:20::15", "2001:db8:99::1", "::ffff:10.1.2.3", "192.0.2.1", "not-an-ip"],
                           read_networks(home))
    assert {r["src_ip"]: r["department"] for r in table.to_pylist()} == {
        "2001:db8:20::15": "ICT", "2001:db8:99::1": "Gemeente", "::ffff:10.1.2.3": "Gemeente"}
