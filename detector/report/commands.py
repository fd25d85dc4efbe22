"""`shadow-ai report`, `shadow-ai deck` and `shadow-ai export ...`: the click commands, registered in cli.py
with one line each. Nothing heavy is imported at module level, so registering them costs other commands
nothing.

Exit codes: 0 ok, 1 failure, 2 usage error, 3 (report --fail-on-alert) an alert rule fired.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from detector.cli_support import reports_errors

if TYPE_CHECKING:
    from detector.config import Settings
    from detector.report.period import Period

F = TypeVar("F", bound=Callable[..., Any])
ALERT_EXIT_CODE = 3
PERIOD_HELP = "yesterday, last-7d, last-30d (any last-Nd), a month YYYY-MM, a day YYYY-MM-DD or FROM..TO"
BLOCKLISTS = ("squid", "rpz", "dnsmasq", "hosts", "paloalto", "fortigate")


def period_option(default: str) -> Callable[[F], F]:
    return click.option("--period", default=default, show_default=True, metavar="PERIOD",
                        help=f"Which days (UTC): {PERIOD_HELP}.")


def _settings(ctx: click.Context) -> Settings:
    from detector.config import load_settings

    return load_settings(ctx.find_root().obj["home"])


def _period(settings: Settings, text: str) -> Period:
    from detector.report.period import parse_period, today_in

    try:
        return parse_period(text, today_in(settings.timezone))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from exc


@click.command("report")
@period_option("yesterday")
@click.option("--out", type=click.Path(file_okay=False), help="Directory to write to (default: "
              "<home>/reports/<period>/, or [report] directory).")
@click.option("--verbose", "-v", is_flag=True, help="Print the report's path and the alerts.")
@click.option("--fail-on-alert", is_flag=True, help=f"Exit with code {ALERT_EXIT_CODE} when an alert rule fired.")
@click.option("--no-mail", is_flag=True, help="Do not mail the report, even when [mail] to is set.")
@click.pass_context
@reports_errors
def report_command(ctx: click.Context, period: str, out: str | None, verbose: bool, fail_on_alert: bool,
           no_mail: bool) -> None:
    """The report of one period: report.html, CSV tables and summary.json (for cron).

    Headline figures against the previous period of equal length, AI use by department (groups smaller
    than [privacy] min_group_size shown as "< N"), services by verdict and risk, new services, model
    candidates, uploads to unsanctioned AI, blocked attempts, data health per log source, and the
    alerts of [alerts] (also appended to [alerts] siem_file). Mailed when [mail] to is set.

    Re-running a period overwrites its files (each replaced atomically; summary.json last). Prints
    nothing unless --verbose; errors go to stderr. Exit codes: 0 ok, 1 failure, 2 usage error,
    3 an alert rule fired and --fail-on-alert was given.

    \b
    Example:
        shadow-ai report                              # yesterday, into <home>/reports/YYYY-MM-DD/
        shadow-ai report --period last-7d --verbose
        shadow-ai report --period 2026-11-01..2026-11-30 --out /srv/reports/november --fail-on-alert
    """
    from detector.report.build import write_report

    settings = _settings(ctx)
    chosen = _period(settings, period)
    result = write_report(settings, chosen, Path(out) if out else None, send_mail=not no_mail)
    if verbose:
        click.echo(str(result.html))
        for alert in result.alerts:
            click.echo(f"ALERT [{alert.severity}] {alert.title}: {alert.message}", err=True)
        if result.siem_appended:
            click.echo(f"{result.siem_appended} alert(s) appended to the SIEM file", err=True)
        if result.mailed_to:
            click.echo(f"mailed to {', '.join(result.mailed_to)}", err=True)
    if fail_on_alert and result.alerts:
        ctx.exit(ALERT_EXIT_CODE)


@click.command("deck")
@period_option("last-30d")
@click.option("--out", type=click.Path(dir_okay=False), help="The .pptx file to write (default: "
              "<home>/reports/<period>/shadow-ai-deck-<period>.pptx).")
@click.pass_context
@reports_errors
def deck_command(ctx: click.Context, period: str, out: str | None) -> None:
    """The CISO deck: a PowerPoint file to present to the board as it is.

    Title, the headline (share of employees using AI without approval and its trend), departments, the
    riskiest services and why, uploads, what changed since the previous period, recommended actions,
    the legal framing (GDPR/AVG, the AI Act's AI-literacy duty) and how it was measured. Small groups
    are suppressed as in the report. Prints the file's path.

    \b
    Example:
        shadow-ai deck                                # the last 30 days
        shadow-ai deck --period 2026-11 --out board-november.pptx
    """
    from detector.report.deck import write_deck

    settings = _settings(ctx)
    if out and not out.lower().endswith(".pptx"):
        raise click.BadParameter("the deck is a PowerPoint file: give a name ending in .pptx", param_hint="--out")
    path = write_deck(settings, _period(settings, period), Path(out) if out else None)
    click.echo(str(path))


@click.group("export")
def export_group() -> None:
    """Block lists of forbidden services, events and findings for a SIEM, AI-register candidates."""


def _write(out: str | None, content: str | Iterable[str]) -> None:
    """Text, or lines streamed, to the file (replaced atomically) or to standard output."""
    from detector.report.files import write_atomic

    chunks = [content] if isinstance(content, str) else (line + "\n" for line in content)
    if out is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    write_atomic(Path(out), "".join(chunks))


def _blocklist_command(name: str, summary: str, example: str) -> click.Command:
    @click.option("--out", type=click.Path(dir_okay=False), help="File to write (default: standard output).")
    @click.pass_context
    @reports_errors
    def command(ctx: click.Context, out: str | None) -> None:
        from detector.report.exports import FORMATS, load_blocklist

        _write(out, FORMATS[name](load_blocklist(_settings(ctx))))

    command.__doc__ = (f"{summary}: the domains of the services policy.yaml forbids.\n\n"
                       "Never lists shared domains (google.com, microsoft.com ...) nor services the catalog marks "
                       "shared_domain; services with a department exception are left out (noted in comments "
                       "where the format has them).\n\n"
                       f"\b\nExample:\n    {example}")
    return click.command(name)(command)


def _register_blocklists() -> None:
    examples = {
        "squid": ("Squid dstdomain ACL file", "shadow-ai export squid --out /etc/squid/shadow-ai-forbidden.txt"),
        "rpz": ("DNS Response Policy Zone (BIND, Unbound, PowerDNS, Knot)",
                "shadow-ai export rpz --out /etc/bind/db.rpz.shadow-ai"),
        "dnsmasq": ("dnsmasq / Pi-hole address=/.../ lines",
                    "shadow-ai export dnsmasq --out /etc/dnsmasq.d/shadow-ai.conf"),
        "hosts": ("hosts file (0.0.0.0 name), also a Pi-hole or AdGuard list",
                  "shadow-ai export hosts --out /var/www/lists/shadow-ai.hosts"),
        "paloalto": ("Palo Alto external dynamic list of type URL List",
                     "shadow-ai export paloalto --out /var/www/edl/shadow-ai.txt"),
        "fortigate": ("FortiGate threat feed of type Domain Name",
                      "shadow-ai export fortigate --out /var/www/feeds/shadow-ai.txt"),
    }
    for name in BLOCKLISTS:
        summary, example = examples[name]
        export_group.add_command(_blocklist_command(name, summary, example))


_register_blocklists()


@export_group.command("events")
@period_option("yesterday")
@click.option("--out", type=click.Path(dir_okay=False), help="File to write (default: standard output).")
@click.option("--pseudonyms", is_flag=True, help="Include user.id (the pseudonym); left out by default.")
@click.pass_context
@reports_errors
def export_events(ctx: click.Context, period: str, out: str | None, pseudonyms: bool) -> None:
    """The period's AI events as ECS NDJSON (one JSON object per line) for a SIEM.

    Service, verdict, department and how the event was attributed; no client address, URL path or
    user agent.

    \b
    Example:
        shadow-ai export events --period yesterday --out /var/log/shadow-ai/events.ndjson
    """
    from detector import db
    from detector.report.ecs import events

    settings = _settings(ctx)
    chosen = _period(settings, period)
    with db.connect(settings) as connection:
        _write(out, events(connection, chosen, settings.organisation, pseudonyms))


@export_group.command("findings")
@period_option("yesterday")
@click.option("--out", type=click.Path(dir_okay=False), help="File to write (default: standard output).")
@click.pass_context
@reports_errors
def export_findings(ctx: click.Context, period: str, out: str | None) -> None:
    """The period's alerts and daily use per department and service as ECS NDJSON.

    Users of groups smaller than [privacy] min_group_size are left out.

    \b
    Example:
        shadow-ai export findings --period last-7d --out findings.ndjson
    """
    from detector.report.ecs import findings

    settings = _settings(ctx)
    _write(out, findings(settings, _period(settings, period)))


@export_group.command("register")
@period_option("last-90d")
@click.option("--out", type=click.Path(dir_okay=False), help="File to write (default: standard output).")
@click.pass_context
@reports_errors
def export_register(ctx: click.Context, period: str, out: str | None) -> None:
    """AI-register candidates (CSV): the sanctioned services with the facts a register entry asks for.

    Name, vendor, purpose, where it is sanctioned, data location, processing agreement, training on
    inputs, sources of those facts, and the departments that used it in the period.

    \b
    Example:
        shadow-ai export register --out ai-register-candidates.csv
    """
    from detector.report.register import register_csv

    settings = _settings(ctx)
    _write(out, register_csv(settings, _period(settings, period)))
