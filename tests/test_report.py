"""The nightly report on a constructed organisation whose truth is known: figures, suppression of small
groups, alerts, escaping of hostile log data, idempotent output, the SIEM file, mail and exit codes."""

from __future__ import annotations

import base64
import csv
import email
import json
import re
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.message import Message
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector.classify.run import classify
from detector.cli import cli
from detector.config import load_settings
from detector.ingest.pipeline import ingest_paths
from detector.labels import add_label
from detector.report.csvout import neutralise
from detector.report.period import Period, parse_period
from detector.signatures import load_catalog

PERIOD = "2026-03-09..2026-03-15"
LABEL = "2026-03-09_2026-03-15"
XSS_HOST = "<script>alert(1)</script>"
FORMULA_HOST = "=hyperlink(a1)"  # host names are stored in lower case
HR_UPLOAD = 7_777_777
NAMES = {"burgerzaken": [f"bz.medewerker{i}" for i in range(1, 7)], "hr": ["hr.annemarie", "hr.bartholomeus"],
         "ict": [f"ict.beheerder{i}" for i in range(1, 6)]}
DEPARTMENTS = {"burgerzaken": "Burgerzaken", "hr": "HR", "ict": "ICT"}
POLICY = """\
default: shadow
services:
  deepseek: forbidden
  deepl: sanctioned
  github_copilot:
    verdict: forbidden
    departments:
      ICT: sanctioned
"""


def epoch(day: str, hour: int, minute: int = 0) -> float:
    return datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00").replace(tzinfo=UTC).timestamp()


def squid(ts: float, user: str, host: str, bytes_out: int, address: str = "10.20.1.15", code: str = "TCP_TUNNEL/200") -> str:
    """One Squid extended-logformat line (the format carries the request size: uploads)."""
    return (f'{ts:.3f}    104 {address} 58948 {code} 5000 {bytes_out} 39 210 - CONNECT {host}:443 1.1 {user} '
            f'HIER_DIRECT/104.18.32.47 443 - - - "-" "Mozilla/5.0" "{host}:443" "-" "{host}" 37 -')


def bind(day: str, hour: int, host: str) -> str:
    stamp = datetime.fromisoformat(f"{day}T{hour:02d}:00:00").strftime("%d-%b-%Y %H:%M:%S.000")
    return f"{stamp} queries: info: client @0x1 10.20.9.9#5000 ({host}): query: {host} IN A + (10.0.0.53)"


def proxy_lines() -> list[str]:
    lines = []
    for number, user in enumerate(NAMES["burgerzaken"]):  # six people: a group that may be shown
        lines.append(squid(epoch("2026-03-10", 9, number), user, "chatgpt.com", 1_000_000, f"10.20.1.{20 + number}"))
    lines.append(squid(epoch("2026-03-10", 10), NAMES["burgerzaken"][0], "chat.deepseek.com", 60_000_000))
    lines.append(squid(epoch("2026-03-10", 11), NAMES["burgerzaken"][1], "chat.deepseek.com", 500, "10.20.1.21",
                       "TCP_DENIED/403"))
    lines.append(squid(epoch("2026-03-11", 9), NAMES["hr"][0], "chatgpt.com", HR_UPLOAD, "10.30.1.5"))
    lines.append(squid(epoch("2026-03-11", 9, 5), NAMES["hr"][1], "chatgpt.com", 1000, "10.30.1.6"))
    for number, user in enumerate(NAMES["ict"]):
        lines.append(squid(epoch("2026-03-12", 9, number), user, "api.githubcopilot.com", 2000, f"10.40.1.{number}"))
    lines.append(squid(epoch("2026-03-12", 14), NAMES["burgerzaken"][0], XSS_HOST, 100))
    lines.append(squid(epoch("2026-03-12", 14, 1), NAMES["burgerzaken"][0], FORMULA_HOST, 100))
    for number, user in enumerate(NAMES["burgerzaken"][:3]):  # the previous week: three people
        lines.append(squid(epoch("2026-03-03", 9, number), user, "chatgpt.com", 1000, f"10.20.1.{20 + number}"))
    lines.append(squid(epoch("2026-03-15", 16), NAMES["ict"][0], "www.rijksoverheid.nl", 100, "10.40.1.0"))
    return lines


def build_organisation(root: Path) -> Path:
    """A data directory with users, networks, policy, one week of proxy and DNS logs, classified."""
    home = root / "home"
    settings = load_settings(home)
    config = settings.home / "shadow-ai.toml"
    text = config.read_text().replace('timezone = "local"', 'timezone = "UTC"')
    config.write_text(text.replace('name = "Gemeente Voorbeeld"', 'name = "Gemeente Proefstad"'))
    users = ["user,department"] + [f"{name},{DEPARTMENTS[key]}" for key, names in NAMES.items() for name in names]
    (home / "users.csv").write_text("\n".join(users) + "\n")
    (home / "networks.csv").write_text("cidr,department\n10.20.0.0/16,Burgerzaken\n10.30.0.0/16,HR\n")
    (home / "policy.yaml").write_text(POLICY)
    logs = root / "logs"
    logs.mkdir()
    (logs / "access.log").write_text("\n".join(proxy_lines()) + "\n")
    # The DNS server logs until the 9th, then stops: a silent source at the end of the period.
    (logs / "named.log").write_text("\n".join(bind("2026-03-09", hour, "www.rijksoverheid.nl")
                                              for hour in (8, 9, 10)) + "\n")
    reports = list(ingest_paths(load_settings(home), [str(logs)]))
    assert all(not r.error and r.rejected == 0 for r in reports), reports
    catalog = load_catalog(settings.catalog_dir)
    for host in (XSS_HOST, FORMULA_HOST):  # an analyst took them for AI: so they reach the report
        add_label(home, host, True, catalog, category="chat")
    classify(load_settings(home))
    return home


@pytest.fixture(scope="module")
def organisation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_organisation(tmp_path_factory.mktemp("report"))


def run(home: Path, *args: str) -> object:
    return CliRunner().invoke(cli, ["--home", str(home), *args])


@pytest.fixture(scope="module")
def report_dir(organisation: Path) -> Path:
    result = run(organisation, "report", "--period", PERIOD)
    assert result.exit_code == 0, result.output
    return organisation / "reports" / LABEL


def summary(report_dir: Path) -> dict:
    return json.loads((report_dir / "summary.json").read_text())


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# ---- periods --------------------------------------------------------------------------------------------


def test_periods_resolve_to_fixed_days_and_the_previous_period_has_equal_length() -> None:
    today = date(2026, 11, 28)
    assert parse_period("yesterday", today) == Period(date(2026, 11, 27), date(2026, 11, 27))
    assert parse_period("last-7d", today) == Period(date(2026, 11, 21), date(2026, 11, 27))
    assert parse_period("2026-02", today) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert parse_period("2026-11-01..2026-11-30", today).label == "2026-11-01_2026-11-30"
    assert parse_period("last-30d", today).previous() == Period(date(2026, 9, 29), date(2026, 10, 28))
    for bad in ("last-0d", "2026-13", "2026-11-30..2026-11-01", "soon"):
        with pytest.raises(ValueError):
            parse_period(bad, today)


def test_an_unknown_period_is_a_usage_error(organisation: Path) -> None:
    result = run(organisation, "report", "--period", "next-week")
    assert result.exit_code == 2 and "--period" in result.output


# ---- figures --------------------------------------------------------------------------------------------


def test_report_writes_html_csv_and_summary_with_the_known_figures(report_dir: Path) -> None:
    found = summary(report_dir)
    names = {path.name for path in report_dir.iterdir()}
    assert {"report.html", "summary.json", "departments.csv", "services.csv", "sources.csv", "alerts.csv"} <= names
    assert set(found["files"]) == names
    headline = found["headline"]
    assert headline["employees"]["value"] == 13
    assert headline["ai_users"]["value"] == 13  # six + two + five people, each counted once over the week
    assert headline["unsanctioned_users"]["value"] == 8  # Burgerzaken and HR (ChatGPT, DeepSeek)
    assert headline["ai_users"]["previous"] is None and headline["ai_users"]["previous_suppressed"] is True
    assert headline["blocked"]["value"] == 1
    services = {row["service_key"]: row for row in found["services"]}
    assert services["chatgpt"]["bytes_out"] == 6 * 1_000_000 + HR_UPLOAD + 1000
    assert services["github_copilot"]["verdicts"] == "sanctioned"
    assert services["deepseek"]["verdict"] == "forbidden" and services["deepseek"]["blocked"] == 1
    assert {row["service_key"] for row in found["new_services"]} >= {"deepseek", "github_copilot"}


def test_a_dns_only_lake_counts_client_devices_as_people_as_the_dashboard_does(tmp_path: Path) -> None:
    """DNS logs name no user: the report counts the client devices (as the dashboard's Overview does), not 0."""
    home = tmp_path / "home"
    settings = load_settings(home)
    config = settings.home / "shadow-ai.toml"
    config.write_text(config.read_text().replace('timezone = "local"', 'timezone = "UTC"'))
    (home / "networks.csv").write_text("cidr,department\n10.20.0.0/16,Burgerzaken\n10.30.0.0/16,HR\n")
    lines = [bind("2026-03-10", 9 + number, "chatgpt.com").replace("10.20.9.9", f"10.20.1.{number}")
             for number in range(6)]  # six devices in Burgerzaken look ChatGPT up
    lines.append(bind("2026-03-11", 9, "claude.ai").replace("10.20.9.9", "10.20.1.0"))  # one of them again
    lines += [bind("2026-03-11", 10, "www.rijksoverheid.nl").replace("10.20.9.9", f"10.30.1.{number}")
              for number in range(3)]  # three devices in HR look up no AI service
    logs = tmp_path / "named.log"
    logs.write_text("\n".join(lines) + "\n")
    reports = list(ingest_paths(load_settings(home), [str(logs)]))
    assert all(not r.error and r.parsed == len(lines) for r in reports), reports
    classify(load_settings(home))
    out = tmp_path / "out"
    result = run(home, "report", "--period", PERIOD, "--out", str(out))
    assert result.exit_code == 0, result.output
    found = summary(out)
    headline = {key: figure["value"] for key, figure in found["headline"].items()}
    assert found["population"] == "people seen in the logs"
    assert (headline["ai_users"], headline["employees"], headline["unsanctioned_users"]) == (6, 9, 6)
    assert headline["ai_share"] == pytest.approx(6 / 9)
    assert found["headline"]["employees"]["label"] == "People seen in the logs"  # no users.csv: not employees
    departments = {row["department"]: row for row in found["departments"]}
    assert departments["Burgerzaken"]["ai_users"] == 6 and departments["Burgerzaken"]["employees"] == 6
    assert departments["Burgerzaken"]["unsanctioned_share"] == 1.0 and not departments["Burgerzaken"]["suppressed"]
    assert departments["HR"]["ai_users"] == 0 and departments["HR"]["employees"] == 3
    services = {row["service_key"]: row for row in found["services"]}
    assert services["chatgpt"]["users"] == 6 and services["claude"]["users"] == "< 5"
    daily = {row["day"]: row["ai_users"] for row in read_csv(out / "daily.csv")}
    assert daily["2026-03-10"] == "6" and daily["2026-03-11"] == "< 5"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "client devices where no user could be attributed" in html and "People seen" in html


def test_the_html_report_is_self_contained(report_dir: Path) -> None:
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<style>" in html
    for outside in ("src=", "href=", "@import", "url(", "<script", "<link"):
        assert outside not in html.lower(), outside


def test_a_department_smaller_than_the_minimum_shows_no_figures_anywhere(report_dir: Path) -> None:
    departments = {row["department"]: row for row in read_csv(report_dir / "departments.csv")}
    assert departments["HR"]["ai_users"] == "< 5"
    assert departments["HR"]["events"] == "" and departments["HR"]["unsanctioned_bytes_out"] == ""
    assert departments["Burgerzaken"]["ai_users"] == "6" and departments["Burgerzaken"]["unsanctioned_users"] == "6"
    hr = next(row for row in summary(report_dir)["departments"] if row["department"] == "HR")
    assert hr["suppressed"] is True and hr["events"] is None
    for path in report_dir.iterdir():  # HR's own upload is nowhere to be read
        text = path.read_text(encoding="utf-8")
        assert str(HR_UPLOAD) not in text and "7.8 MB" not in text, path.name


def test_no_user_name_or_client_address_in_any_output(report_dir: Path) -> None:
    people = [name for names in NAMES.values() for name in names]
    for path in report_dir.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b10\.\d+\.\d+\.\d+\b", text), path.name
        assert not any(name in text for name in people), path.name
        assert not re.search(r"\bu-[0-9a-f]{20}\b", text), path.name  # no pseudonym either


def test_hostile_host_names_are_escaped_in_html_and_neutralised_in_csv(report_dir: Path) -> None:
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    services = {row["service_key"]: row for row in read_csv(report_dir / "services.csv")}
    assert services["'" + FORMULA_HOST]["name"] == "'" + FORMULA_HOST
    assert services["'" + FORMULA_HOST]["why"] == ""  # not in the catalog: no risk facts to invent
    raw = (report_dir / "services.csv").read_text(encoding="utf-8")
    assert not re.search(r"(^|,)=hyperlink", raw, re.MULTILINE)
    # The machine-readable summary keeps the value as it is: JSON is not a spreadsheet.
    assert FORMULA_HOST in {row["service_key"] for row in summary(report_dir)["services"]}


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_evaluate_get_a_leading_quote(text: str) -> None:
    assert neutralise(text) == "'" + text
    assert neutralise("chatgpt.com") == "chatgpt.com"


# ---- alerts ---------------------------------------------------------------------------------------------


def test_alert_rules_fire_on_what_happened(report_dir: Path) -> None:
    alerts = summary(report_dir)["alerts"]
    fired = {(alert["rule"], alert["subject"]) for alert in alerts}
    assert ("forbidden_used", "deepseek") in fired
    assert ("new_high_risk_service", "deepseek") in fired  # critical risk, first used this week
    assert ("upload_volume", "Burgerzaken") in fired  # 60 MB to DeepSeek on the 10th; HR's 7.8 MB is below 50
    assert ("silent_source", "dns/bind_query") in fired  # DNS stopped on the 9th
    assert ("upload_volume", "HR") not in fired and ("silent_source", "proxy/squid_extended") not in fired
    upload = next(a for a in alerts if a["rule"] == "upload_volume")
    # six ChatGPT uploads and DeepSeek's 60 MB; the blocked request's 500 bytes never reached the service
    assert upload["day"] == "2026-03-10" and upload["facts"]["bytes_out"] == 6 * 1_000_000 + 60_000_000
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "Log source silent" in html and "dns / bind_query" in html


def test_cron_mode_is_quiet_and_fail_on_alert_exits_3(organisation: Path, report_dir: Path) -> None:
    quiet = run(organisation, "report", "--period", PERIOD)
    assert quiet.exit_code == 0 and quiet.output == ""
    failing = run(organisation, "report", "--period", PERIOD, "--fail-on-alert")
    assert failing.exit_code == 3
    verbose = run(organisation, "report", "--period", PERIOD, "--verbose")
    assert verbose.exit_code == 0 and str(report_dir / "report.html") in verbose.output


def test_no_alert_no_exit_3(organisation: Path, tmp_path: Path) -> None:
    result = run(organisation, "report", "--period", "2026-01-01", "--out", str(tmp_path), "--fail-on-alert")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "summary.json").read_text())["alerts"] == []


# ---- cron: idempotent, atomic, SIEM file ----------------------------------------------------------------


def test_the_same_period_gives_the_same_files_and_no_duplicate_siem_lines(organisation: Path, tmp_path: Path) -> None:
    siem = tmp_path / "siem" / "alerts.ndjson"
    config = organisation / "shadow-ai.toml"
    original = config.read_text()
    config.write_text(original.replace('siem_file = ""', f'siem_file = "{siem}"'))
    try:
        out = tmp_path / "out"
        first = run(organisation, "report", "--period", PERIOD, "--out", str(out))
        assert first.exit_code == 0, first.output
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        lines = siem.read_text().splitlines()
        second = run(organisation, "report", "--period", PERIOD, "--out", str(out))
        assert second.exit_code == 0, second.output
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temporary files left either
        assert siem.read_text().splitlines() == lines
    finally:
        config.write_text(original)
    documents = [json.loads(line) for line in lines]
    assert len(documents) == len(json.loads(before["summary.json"])["alerts"])
    for document in documents:
        assert document["event"]["kind"] == "alert" and document["ecs"]["version"]
        assert document["organization"]["name"] == "Gemeente Proefstad"
        assert document["@timestamp"].endswith("Z") and len(document["event"]["id"]) == 32
    assert len({d["event"]["id"] for d in documents}) == len(documents)


# ---- mail -----------------------------------------------------------------------------------------------


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) to receive one message."""

    def reply(self, text: str) -> None:
        self.wfile.write((text + "\r\n").encode())

    def handle(self) -> None:
        server = self.server
        self.reply("220 localhost test SMTP")
        while True:
            line = self.rfile.readline().decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-localhost")
                self.reply("250 AUTH PLAIN" if server.offer_auth else "250 SIZE 10000000")  # type: ignore[attr-defined]
            elif verb == "AUTH":
                server.auth = base64.b64decode(line.split()[2]).split(b"\0")  # type: ignore[attr-defined]
                self.reply("235 2.7.0 Authentication successful")
            elif verb in ("MAIL", "RCPT"):
                server.envelope.append(line)  # type: ignore[attr-defined]
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                server.messages.append(b"".join(data))  # type: ignore[attr-defined]
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture
def smtp_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SMTPHandler)
    server.daemon_threads = True
    server.messages, server.envelope, server.auth, server.offer_auth = [], [], None, True  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def mail_config(home: Path, port: int, starttls: bool) -> str:
    (home / "smtp-password").write_text("s3cret\n")
    return (f'to = ["ciso@proefstad.example"]\nfrom = "shadow-ai@proefstad.example"\nhost = "127.0.0.1"\n'
            f'port = {port}\nstarttls = {"true" if starttls else "false"}\nusername = "reports"\n'
            'password_file = "smtp-password"\n')


def with_mail(home: Path, section: str) -> str:
    config = home / "shadow-ai.toml"
    original = config.read_text()
    start = original.index("[mail]")
    end = original.find("\n[", start + 1)
    config.write_text(original[:start] + "[mail]\n" + section + (original[end:] if end != -1 else ""))
    return original


def test_the_report_is_mailed_to_a_local_smtp_server(organisation: Path, tmp_path: Path,
                                                      smtp_server: socketserver.ThreadingTCPServer) -> None:
    original = with_mail(organisation, mail_config(organisation, smtp_server.server_address[1], starttls=False))
    try:
        result = run(organisation, "report", "--period", PERIOD, "--out", str(tmp_path), "--verbose")
    finally:
        (organisation / "shadow-ai.toml").write_text(original)
    assert result.exit_code == 0, result.output
    assert "mailed to ciso@proefstad.example" in result.output
    assert smtp_server.auth == [b"", b"reports", b"s3cret"]  # type: ignore[attr-defined]
    assert any("ciso@proefstad.example" in line for line in smtp_server.envelope)  # type: ignore[attr-defined]
    message: Message = email.message_from_bytes(smtp_server.messages[0])  # type: ignore[attr-defined]
    assert "Gemeente Proefstad" in message["Subject"] and message["Subject"].startswith("[")
    parts = {part.get_content_type(): part for part in message.walk()}
    html = parts["text/html"].get_payload(decode=True).decode()
    assert html == (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Forbidden AI service used" in parts["text/plain"].get_payload(decode=True).decode()


def test_mail_insists_on_starttls_when_configured(organisation: Path, tmp_path: Path,
                                                  smtp_server: socketserver.ThreadingTCPServer) -> None:
    smtp_server.offer_auth = False  # type: ignore[attr-defined]
    original = with_mail(organisation, mail_config(organisation, smtp_server.server_address[1], starttls=True))
    try:
        result = run(organisation, "report", "--period", PERIOD, "--out", str(tmp_path))
    finally:
        (organisation / "shadow-ai.toml").write_text(original)
    assert result.exit_code == 1 and "STARTTLS" in result.output
    assert smtp_server.messages == []  # type: ignore[attr-defined]
    assert (tmp_path / "summary.json").exists()  # the report itself was written before the mail failed
