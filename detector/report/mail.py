"""Mailing the HTML report (`[mail]` in shadow-ai.toml) over SMTP, with STARTTLS or TLS.

The report is the message body (HTML, with a short plain-text part for clients that show no HTML) and
is attached as a file as well, so that a mail client that strips inline SVG still delivers the whole
report. A password is only ever read from a file and only sent over an encrypted connection, unless the
server is on this machine.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from detector.errors import ConfigError, DetectorError
from detector.report.config import MailConfig
from detector.report.period import Period

LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def build_message(config: MailConfig, organisation: str, period: Period, html_file: Path,
                  alerts: list[Any]) -> EmailMessage:
    html = html_file.read_text(encoding="utf-8")
    try:
        subject = config.subject.format(organisation=organisation or "the organisation", period=period.title)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"[mail] subject: only {{organisation}} and {{period}} can be filled in ({exc})") from exc
    if alerts:
        subject = f"[{len(alerts)} alert{'s' if len(alerts) != 1 else ''}] {subject}"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=config.sender.rpartition("@")[2] or None)
    lines = [f"AI use at {organisation or 'the organisation'}, period {period.title}.", ""]
    lines += [f"ALERT: {alert.title}: {alert.message}" for alert in alerts] or ["No alert rule fired."]
    lines += ["", f"The full report is attached ({html_file.name}) and shown as HTML in this message."]
    message.set_content("\n".join(lines))
    message.add_alternative(html, subtype="html")
    message.add_attachment(html.encode("utf-8"), maintype="text", subtype="html",
                           filename=f"shadow-ai-report-{period.label}.html")
    return message


def read_password(config: MailConfig) -> str | None:
    if config.password_file is None:
        return None
    try:
        text = config.password_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the mail password file: {exc.strerror}", str(config.password_file)) from exc
    lines = text.splitlines()
    return lines[0].strip() if lines else ""


def send_report(config: MailConfig, organisation: str, period: Period, html_file: Path, alerts: list[Any]) -> None:
    """Send the report to every address in `[mail] to`; DetectorError with the server's answer on failure."""
    message = build_message(config, organisation, period, html_file, alerts)
    password = read_password(config)
    encrypted = config.ssl or config.starttls
    if config.username and not encrypted and config.host not in LOOPBACK:
        raise ConfigError("[mail] refuses to send a password over an unencrypted connection to another machine: "
                          "set starttls = true (port 587) or ssl = true (port 465)")
    where = f"{config.host}:{config.port}"
    context = ssl.create_default_context()
    try:
        if config.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_seconds,
                                                    context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
        with client:
            client.ehlo()
            if config.starttls and not config.ssl:
                if not client.has_extn("starttls"):
                    raise DetectorError(f"mail server {where} does not offer STARTTLS; set starttls = false only "
                                        "for a relay on this machine")
                client.starttls(context=context)
                client.ehlo()
            if config.username:
                client.login(config.username, password or "")
            refused = client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DetectorError(f"mail server {where} refused the login of {config.username!r}: {_answer(exc)}") from exc
    except smtplib.SMTPException as exc:
        raise DetectorError(f"mail to {where} failed: {_answer(exc)}") from exc
    except (OSError, ssl.SSLError) as exc:
        raise DetectorError(f"cannot reach the mail server {where}: {exc}") from exc
    if refused:
        raise DetectorError(f"mail server {where} refused: {', '.join(sorted(refused))}")


def _answer(exc: smtplib.SMTPException) -> str:
    code = getattr(exc, "smtp_code", None)
    error = getattr(exc, "smtp_error", b"")
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error or exc)
    return f"{code} {text}".strip() if code else (text or str(exc))
