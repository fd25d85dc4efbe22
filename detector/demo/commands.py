"""`shadow-ai demo`: the click command. Kept apart from cli.py, which registers it with one line.

It imports nothing heavy at module level, so registering it costs the other commands nothing.
"""

from __future__ import annotations

import importlib.util
import traceback
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from detector.cli_support import Failure

if TYPE_CHECKING:
    from detector.config import Settings
    from detector.demo.run import DemoRun

DEFAULT_OUT = "shadow-ai-demo"
DASHBOARD_PORT = 8501



@click.command()
@click.option("--days", type=click.IntRange(1, 366), default=14, show_default=True, help="Days to simulate.")
@click.option("--employees", type=click.IntRange(24, 100_000), default=300, show_default=True,
              help="Head count of the municipality.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same logs.")
@click.option("--end", "last_day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last simulated day (default: yesterday).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help=f"Data directory to create (default: --home if given, else ./{DEFAULT_OUT}). A non-empty "
                   "directory is refused unless it holds a previous demo, which is replaced.")
@click.option("--no-dashboard", is_flag=True, help="Stop after the summary instead of serving the dashboard.")
@click.pass_context
def demo(ctx: click.Context, days: int, employees: int, seed: int, last_day: datetime | None, out: str | None,
         no_dashboard: bool) -> None:
    """Simulate a Dutch municipality's network logs, ingest and classify them, and show what was found.

    Writes a fresh data directory: users.csv, networks.csv, workstations.csv and policy.yaml of a simulated
    organisation; a Squid proxy, BIND DNS, FortiGate firewall, Zeek ssl.log and (where the product reads
    it) ISC dhcpd log per day under demo-logs/; and the ground truth under demo-truth/. Then it ingests,
    classifies, writes a report (when the report module is installed) and serves the dashboard.

    \b
    Example:
        shadow-ai demo
        shadow-ai demo --employees 1000 --days 30 --seed 7 --no-dashboard --out /tmp/gemeente
    """
    from detector.demo.run import run_demo
    from detector.errors import DetectorError

    root = ctx.find_root()
    home = Path(out or (root.obj or {}).get("home") or DEFAULT_OUT).expanduser().resolve()
    end = last_day.date() if last_day else date.today() - timedelta(days=1)
    first = end - timedelta(days=days - 1)
    click.echo(f"Simulating Gemeente Voorbeeld: {employees} employees, {days} days ({first} .. {end}), "
               f"seed {seed}, into {home}")

    def day_done(day: date, lines: int) -> None:
        click.echo(f"  {day} {day:%a}: {lines:,} log lines")

    started: set[str] = set()

    def file_done(report: Any) -> None:
        if report.format not in started:
            started.add(report.format)
            click.echo(f"  ingesting {report.format} logs ...")

    try:
        result = run_demo(home, employees, days, seed, end, day_done, file_done)
        _finish(result, home, first, end, no_dashboard)
    except DetectorError as exc:
        if root.params.get("debug"):
            traceback.print_exc()
        raise Failure(str(exc)) from exc


def _finish(result: DemoRun, home: Path, first: date, end: date, no_dashboard: bool) -> None:
    per_format: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for report in result.ingested:
        totals = per_format[report.format]
        totals[0] += report.lines
        totals[1] += report.parsed
        totals[2] += report.rejected
    click.echo("Ingested:")
    for name, (lines, parsed, rejected) in per_format.items():
        click.echo(f"  {name:<11} {lines:>12,} lines {parsed:>12,} events {rejected:>6,} rejected")
    simulated = result.simulation.summary
    if not simulated["dhcp"]:
        click.echo(f"  (no DHCP log: {simulated['dhcp_skipped_because']})")
    _report(home, first, end)
    _print_summary(result)
    if no_dashboard:
        return
    _dashboard(result.settings, home)


def _report(home: Path, first: date, end: date) -> None:
    """The nightly report over the simulated period, through its documented command, if it exists yet."""
    from detector.cli import cli

    if importlib.util.find_spec("detector.report") is None or "report" not in cli.commands:
        click.echo("Reports are not available in this version yet (no detector.report).")
        return
    try:
        cli.main(["--home", str(home), "report", "--period", f"{first}..{end}"], prog_name="shadow-ai",
                 standalone_mode=False)
    except Exception as exc:  # the demo's summary still matters if a report fails
        click.echo(f"The report could not be written: {exc}", err=True)


def _print_summary(result: DemoRun) -> None:
    found, simulated, home = result.found, result.simulation.summary, result.simulation.home
    share = found.ai_users / found.employees if found.employees else 0.0
    click.echo("\nWhat the product found")
    click.echo(f"  {found.events:,} events, {found.rejected:,} rejected lines (damaged on purpose)")
    click.echo(f"  {found.ai_users} of {found.employees} employees ({share:.0%}) used a catalogued AI service "
               f"(the simulation wrote {simulated['ai_users']} identifiable AI users, counting tools the catalog "
               "does not know)")
    click.echo("  Top services: " + ", ".join(f"{r['service']} ({r['users']} users)" for r in found.top_services))
    click.echo("  Departments (AI users / employees):")
    for row in found.departments:
        click.echo(f"    {row['department']:<28} {row['ai_users']:>5} / {row['employees']:<5}")
    if found.forbidden:
        click.echo("  Forbidden use:")
        for row in found.forbidden[:8]:
            blocked = f", {row['blocked']} blocked by the proxy" if row["blocked"] else ""
            click.echo(f"    {row['service']} in {row['department']}: {row['events']:,} events, "
                       f"identified people: {row['users']}{blocked}")
    click.echo(f"  Uploads over 1 MB to AI services: {found.uploads}")
    held_out = simulated["not_in_catalog"]
    if found.model_hosts:
        shown = ", ".join(found.model_hosts[:6]) + (" ..." if len(found.model_hosts) > 6 else "")
        click.echo(f"  Not in the catalog, judged AI by the model: {len(found.model_hosts)} hosts ({shown}); "
                   "confirm or dismiss them with `shadow-ai review` and `shadow-ai label`")
    if held_out:
        click.echo(f"  (the simulation used these AI tools the catalog does not know: {', '.join(held_out)})")
    click.echo(f"\nData directory: {home}")
    click.echo(f"  logs: {result.simulation.logs}   ground truth: {result.simulation.truth / 'usage_daily.csv'}")


def _dashboard(settings: Settings, home: Path) -> None:
    if importlib.util.find_spec("detector.dashboard") is None:
        click.echo("\nThe dashboard is not available in this version yet. Explore with SQL instead, e.g.:")
        click.echo(f'  shadow-ai --home {home} sql "select department, service, sum(users) as user_days, '
                   'sum(events) as events from usage_daily group by all order by events desc limit 20"')
        return
    from detector.dashboard import serve

    click.echo(f"\nServing the dashboard on http://127.0.0.1:{DASHBOARD_PORT} (Ctrl-C stops it)")
    code = serve(settings, port=DASHBOARD_PORT)
    if code:
        raise Failure(f"the dashboard stopped with exit code {code}")
