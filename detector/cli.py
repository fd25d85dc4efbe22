"""The `shadow-ai` command line: parse arguments, call the library, format output.

The only module that prints or exits. Exit codes: 0 success, 1 failure (clear message, traceback only
with --debug), 2 usage error.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import sys
import traceback
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import click

from detector import __version__
from detector.config import load_settings
from detector.errors import DetectorError, QueryError

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Failure(click.ClickException):
    """A failure that is not a usage error: exit code 1."""

    exit_code = 1


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")(func)


def reports_errors(func: F) -> F:
    """Turn the library's DetectorError into exit code 1 with its message (traceback with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DetectorError as exc:
            if click.get_current_context().find_root().params.get("debug"):
                traceback.print_exc()
            raise Failure(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


@click.group(context_settings=CONTEXT_SETTINGS)
@click.option("--home", type=click.Path(file_okay=False), envvar="SHADOW_AI_HOME",
              help="Data directory (default: $SHADOW_AI_HOME, else ./shadow-ai-data).")
@click.option("--debug", is_flag=True, help="Show tracebacks on failure.")
@click.version_option(__version__, prog_name="shadow-ai")
@click.pass_context
def cli(ctx: click.Context, home: str | None, debug: bool) -> None:
    """Find shadow AI use in proxy, DNS and firewall logs, fully offline.

    \b
    Example:
        shadow-ai ingest /var/log/squid/access.log*
        shadow-ai status
        shadow-ai sql "select host, count(*) from events group by host order by 2 desc limit 10"
    """
    ctx.obj = {"home": home}


def settings_of(ctx: click.Context) -> Any:
    return load_settings(ctx.find_root().obj["home"])


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "format_name", metavar="NAME",
              help="Parse as this format instead of recognising it (see `shadow-ai formats`).")
@click.option("--dry-run", is_flag=True, help="Parse and count without writing; show the first rejects.")
@click.option("--map", "mappings", multiple=True, metavar="COLUMN=FIELD",
              help="For header-based formats (CSV): read COLUMN as the schema field FIELD. Repeatable.")
@json_option
@click.pass_context
@reports_errors
def ingest(
    ctx: click.Context,
    paths: tuple[str, ...],
    format_name: str | None,
    dry_run: bool,
    mappings: tuple[str, ...],
    as_json: bool,
) -> None:
    """Parse log files into the lake: files, directories, globs, .gz/.bz2/.xz.

    Re-ingesting a file adds nothing; a file that grew adds only its new lines. Per file it reports
    lines = parsed + rejected + ignored (headers, comments, blank lines), and whether it was skipped.
    Exits 1 if any file could not be read or recognised (the other files are still ingested).

    \b
    Example:
        shadow-ai ingest access.log access.log.1.gz logs/ 'proxy/*.log'
        shadow-ai ingest --format squid --json /var/log/squid/access.log
        shadow-ai ingest --dry-run new-appliance.log
    """
    from detector.ingest import FORMATS
    from detector.ingest.pipeline import ingest_paths

    if format_name and format_name not in FORMATS:
        raise click.UsageError(f"unknown format {format_name!r}; known: {', '.join(FORMATS)}")
    column_map = _parse_mappings(mappings)
    settings = settings_of(ctx)
    failed = 0
    totals = {"files": 0, "lines": 0, "parsed": 0, "rejected": 0, "ignored": 0, "skipped": 0}
    for report in ingest_paths(settings, list(paths), format_name, dry_run=dry_run, column_map=column_map):
        failed += bool(report.error)
        totals["files"] += 1
        for key in ("lines", "parsed", "rejected", "ignored"):
            totals[key] += getattr(report, key)
        totals["skipped"] += report.skipped
        if as_json:
            click.echo(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
            continue
        if report.error:
            click.echo(f"{report.file}: error: {report.error}", err=True)
            if not report.lines:
                continue
        state = "skipped (ingested before)" if report.skipped else (
            f"{report.lines} lines: {report.parsed} parsed, {report.rejected} rejected, {report.ignored} ignored"
        )
        click.echo(f"{report.file} [{report.format or '-'}] {state}")
        for reject in report.first_rejects:
            click.echo(f"  line {reject['line_no']}: {reject['reason']}")
    if not as_json and totals["files"] > 1:
        click.echo(
            f"{totals['files']} files, {totals['lines']} lines: {totals['parsed']} parsed, "
            f"{totals['rejected']} rejected, {totals['ignored']} ignored, {totals['skipped']} skipped"
        )
    if failed:
        raise Failure(f"{failed} file(s) failed; see the messages above")


def _parse_mappings(mappings: tuple[str, ...]) -> dict[str, str]:
    from detector.schema import EVENTS

    column_map = {}
    for item in mappings:
        column, sep, target = item.partition("=")
        if not sep or not column.strip() or target.strip() not in EVENTS.names:
            raise click.UsageError(f"--map {item!r}: expected COLUMN=FIELD with FIELD one of {', '.join(EVENTS.names)}")
        column_map[column.strip()] = target.strip()
    return column_map


@cli.command()
@json_option
def formats(as_json: bool) -> None:
    """List the supported log formats, with their source kind and the fields they fill.

    \b
    Example:
        shadow-ai formats
    """
    from detector.ingest import FORMATS

    for fmt in FORMATS.values():
        if as_json:
            click.echo(json.dumps({"format": fmt.name, "source_kind": fmt.source_kind,
                                   "summary": fmt.summary, "fields": list(fmt.fields)}))
        else:
            click.echo(f"{fmt.name:<22} {fmt.source_kind:<9} {fmt.summary}")


@cli.command()
@json_option
@click.pass_context
@reports_errors
def status(ctx: click.Context, as_json: bool) -> None:
    """What the lake holds: events per source kind, format and day; files; rejects.

    \b
    Example:
        shadow-ai status
        shadow-ai status --json | jq .
    """
    from detector import db

    settings = settings_of(ctx)
    with db.connect(settings) as connection:
        by_day = db.run(connection, "status_by_day").to_pylist()
        files = db.run(connection, "status_files").to_pylist()
        rejects = db.run(connection, "status_rejects").to_pylist()
    summary = {
        "home": str(settings.home),
        "timezone": settings.timezone,
        "events": sum(row["events"] for row in by_day),
        "files": len(files),
        "rejected": sum(row["lines"] for row in rejects),
        "by_day": by_day,
        "files_ingested": files,
        "reject_reasons": rejects,
    }
    if as_json:
        click.echo(json.dumps(summary, default=_json_default, ensure_ascii=False))
        return
    click.echo(f"data directory: {summary['home']}")
    click.echo(f"time zone for logs without one: {settings.timezone}")
    click.echo(f"events: {summary['events']}  files: {summary['files']}  rejected lines: {summary['rejected']}")
    if not by_day:
        click.echo("The lake is empty: run `shadow-ai ingest FILE...` (or `shadow-ai demo`).")
        return
    click.echo("\nEvents per source and day:")
    _print_table(["source_kind", "log_format", "day", "events", "hosts", "with_user"], by_day)
    click.echo("\nFiles:")
    _print_table(["path", "log_format", "lines", "parsed", "rejected", "ignored", "error"], files)
    if rejects:
        click.echo("\nReject reasons:")
        _print_table(["log_format", "reason", "lines"], rejects)


@cli.command()
@click.argument("query")
@click.option("--format", "output", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format; json prints one object per row, one per line.")
@click.pass_context
@reports_errors
def sql(ctx: click.Context, query: str, output: str) -> None:
    """Run one read-only SQL query over the views (events, rejects, ingested_segments ...).

    Statements that could write (INSERT, CREATE, COPY, ATTACH ...) are refused.

    \b
    Example:
        shadow-ai sql "select day, count(*) as events from events group by day order by day"
        shadow-ai sql --format csv "select * from events limit 100" > sample.csv
    """
    from detector import db

    settings = settings_of(ctx)
    try:
        with db.connect(settings) as connection:
            table = db.run_user_sql(connection, query)
    except QueryError as exc:
        raise Failure(str(exc)) from exc
    rows = table.to_pylist()
    if output == "json":
        for row in rows:
            click.echo(json.dumps(row, default=_json_default, ensure_ascii=False))
    elif output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(table.column_names)
        for row in rows:
            writer.writerow([_plain(row[name]) for name in table.column_names])
        click.echo(buffer.getvalue(), nl=False)
    else:
        _print_table(table.column_names, rows)


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _plain(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return json.dumps(value, default=_json_default)
    return value


def _print_table(columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    cells = [[("" if row.get(c) is None else str(_plain(row.get(c)))) for c in columns] for row in rows]
    widths = [min(60, max([len(c)] + [len(r[i]) for r in cells])) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        click.echo("  ".join(v[:60].ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def main() -> None:
    try:
        cli.main(prog_name="shadow-ai", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


