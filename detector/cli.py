"""The `shadow-ai` command line: parse arguments, call the library, format output.

The only module that prints or exits. Exit codes: 0 success, 1 failure (clear message, traceback only
with --debug), 2 usage error.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import sys
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO, TypeVar

import click

from detector import __version__
from detector.cli_support import Failure, json_option, reports_errors, show_notices
from detector.config import load_settings
from detector.errors import QueryError

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


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
    show_notices()


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
    from detector.arrow_without_pandas import start_arrow_without_pandas

    start_arrow_without_pandas()
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


@cli.command()
@json_option
@click.pass_context
@reports_errors
def classify(ctx: click.Context, as_json: bool) -> None:
    """Judge every distinct host in the lake (catalog, labels, model) and rebuild the judgement tables.

    Run it after ingesting, and after changing signatures or labels: judgements apply to all history.

    \b
    Example:
        shadow-ai ingest /var/log/squid/ && shadow-ai classify
    """
    from detector.classify.run import classify as run_classify

    report = run_classify(settings_of(ctx))
    if as_json:
        click.echo(json.dumps(report.__dict__))
        return
    matches = ", ".join(f"{count} {match}" for match, count in sorted(report.by_match.items()))
    click.echo(f"{report.hosts} hosts judged in {report.seconds:.1f} s ({matches}); {report.ai_hosts} are AI, "
               f"{report.services_seen} catalog services seen; model: {report.model or 'none'}")


@cli.command()
@click.argument("hosts", nargs=-1)
@click.option("-f", "--file", "files", multiple=True, type=click.File(encoding="utf-8-sig", errors="replace"),
              help="Also the hosts of this list, one per line ('-': standard input); the first word of a line "
                   "counts, blank lines and # comments are skipped. Repeatable.")
@click.option("--summary", is_flag=True,
              help="Only the counts: how many hosts are AI and how the product knows (catalog, label, model), "
                   "how many are not, and the verdicts.")
@json_option
@click.pass_context
@reports_errors
def lookup(ctx: click.Context, hosts: tuple[str, ...], files: tuple[TextIO, ...], summary: bool,
           as_json: bool) -> None:
    """What the product thinks of host names: service, category, how it knows, score and verdict.

    HOSTS are host names, or URLs (a path lets AI inside a shared site be found: www.bing.com/chat).
    Works with an empty lake (the model then judges by the name alone); an IP address gets no score.
    A list given with --file (an AI blocklist, a vendor's hosts) is judged the same way; --summary tells
    how much of it the product recognises.

    \b
    Example:
        shadow-ai lookup chatgpt.com api.mistral.ai www.rijksoverheid.nl
        shadow-ai lookup https://www.bing.com/chat
        shadow-ai lookup --json some-new-ai-tool.io
        shadow-ai lookup --file ai-blocklist.txt --summary
    """
    from detector.host_lists import read_host_list
    from detector.lookup import NotAHost, lookup_hosts, summarise

    listed = [(getattr(file, "name", "-"), read_host_list(file)) for file in files]  # (stdin re-wrapped: no name)
    for source, host_list in listed:
        if host_list.skipped:
            click.echo(host_list.describe_skipped(source), err=True)
    try:
        asked = [*hosts, *(host for _, host_list in listed for host in host_list.hosts)]
        if not asked:
            raise Failure("no hosts: give host names, or a list with --file")
        rows = lookup_hosts(settings_of(ctx), asked)
    except NotAHost as exc:
        raise Failure(str(exc)) from exc
    if summary:
        counts = summarise(rows)
        skipped: dict[str, int] = {}
        for _, host_list in listed:
            for reason, numbers in host_list.skipped.items():
                skipped[reason] = skipped.get(reason, 0) + len(numbers)
        if as_json:
            click.echo(json.dumps({**counts.as_dict(), "skipped_lines": skipped}))
        else:
            click.echo(str(counts) + (f"\nskipped lines (no host): {sum(skipped.values())}" if skipped else ""))
        return
    for given, row in zip(asked, rows, strict=True):
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            score = "" if row["score"] is None else f" score {row['score']:.2f}"
            what = f"{row['name']} ({row['category']})" if row["service"] else "-"
            shown = given.strip() if "/" in given else row["host"]  # a URL as given: its path may have decided
            click.echo(f"{shown}: {what} [{row['match']}{score}] {row['verdict']}")


@cli.group()
def signatures() -> None:
    """The AI-service catalog (signatures/*.yaml)."""


@signatures.command("validate")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.pass_context
@reports_errors
def signatures_validate(ctx: click.Context, directory: str | None) -> None:
    """Check every service file: schema, ids, unique domains, allowed values, examples that must match.

    Prints each issue as FILE:LINE: MESSAGE and exits 1 if there is any.

    \b
    Example:
        shadow-ai signatures validate
        shadow-ai signatures validate ./my-signatures
    """
    from pathlib import Path

    from detector.signatures import validate

    folder = Path(directory) if directory else settings_of(ctx).catalog_dir
    issues = validate(folder)
    for issue in issues:
        click.echo(str(issue))
    if issues:
        raise Failure(f"{len(issues)} issue(s) in {folder}")
    count = len(list(folder.glob("*.yaml")))
    click.echo(f"{count} services in {folder}: no issues")


@cli.command()
@click.option("--limit", default=50, show_default=True, help="How many candidates to list.")
@json_option
@click.pass_context
@reports_errors
def review(ctx: click.Context, limit: int, as_json: bool) -> None:
    """List the model's candidate AI services that no analyst has labelled yet, most likely first.

    \b
    Example:
        shadow-ai review
        shadow-ai label new-ai-tool.io --ai --service other   # then confirm or dismiss each
    """
    from detector import db

    with db.connect(settings_of(ctx)) as connection:
        rows = db.run(connection, "review_candidates", limit=limit).to_pylist()
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, default=_json_default))
        return
    if not rows:
        click.echo("No candidates: run `shadow-ai classify` after ingesting, or nothing new was found.")
        return
    _print_table(["host", "score", "clients", "events", "first_seen", "registered_domain", "rule"], rows)


@cli.command()
@click.argument("host")
@click.option("--ai/--not-ai", "is_ai", required=True, help="The analyst's decision.")
@click.option("--service", help="The catalog service it belongs to (id), if any.")
@click.option("--category", help="The category, when it is no catalog service (chat, writing, code ...).")
@click.pass_context
@reports_errors
def label(ctx: click.Context, host: str, is_ai: bool, service: str | None, category: str | None) -> None:
    """Record an analyst's decision about a host; it overrides catalog and model and trains the model.

    Applied to all history at the next `shadow-ai classify`.

    \b
    Example:
        shadow-ai label chat.example-ai.io --ai --category chat
        shadow-ai label gptw.nl --not-ai
    """
    from detector.labels import add_label
    from detector.signatures import CATEGORIES, load_catalog

    if category and category not in CATEGORIES:
        raise click.UsageError(f"--category must be one of {', '.join(CATEGORIES)}")
    settings = settings_of(ctx)
    recorded = add_label(settings.home, host, is_ai, load_catalog(settings.catalog_dir), service, category)
    verdict = "AI" if recorded.ai else "not AI"
    click.echo(f"{recorded.host}: labelled {verdict} by {recorded.by}; run `shadow-ai classify` to apply it")


@cli.command()
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535), help="Port to serve on.")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Address to bind; the default lets only this machine in (see docs/dashboard.md to share it).")
@click.pass_context
@reports_errors
def dashboard(ctx: click.Context, port: int, address: str) -> None:
    """Serve the dashboard (Streamlit) on this machine: AI use by department, services, discovery, data health.

    Reads the data directory read-only (it writes only analysts' labels); headless, no usage statistics.
    Stop it with Ctrl-C.

    \b
    Example:
        shadow-ai dashboard
        shadow-ai --home /srv/shadow-ai dashboard --port 8600
    """
    from detector.dashboard import serve

    settings = settings_of(ctx)
    click.echo(f"Dashboard of {settings.home} on http://{address}:{port}/ (Ctrl-C stops it)", err=True)
    code = serve(settings, port=port, address=address)
    if code:
        raise Failure(f"streamlit stopped with exit code {code}")


@cli.command()
@click.argument("pseudonym")
@click.option("--reason", required=True, help="Why this person must be identified (recorded in the audit log).")
@click.pass_context
@reports_errors
def reveal(ctx: click.Context, pseudonym: str, reason: str) -> None:
    """Resolve one pseudonym to a user name — only where the configuration allows it, always audited.

    Needs `allow_reveal = true` and `keep_identity_map = true` under [privacy] in shadow-ai.toml. Every
    attempt, allowed or not, is appended with who, when and why to audit.log in the data directory.

    \b
    Example:
        shadow-ai reveal u-3ffe36b78f24cc265f96 --reason "incident INC-2024-118: upload of case files"
    """
    from detector.enrich.privacy import reveal as run_reveal

    revealed = run_reveal(settings_of(ctx), pseudonym, reason)
    click.echo(f"{revealed.pseudonym}: {revealed.user}")


@cli.command()
@click.option("--older-than", "older_than", required=True, metavar="DAYS",
              help="Delete events of days older than this many days (e.g. 180 or 180d).")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@click.pass_context
@reports_errors
def prune(ctx: click.Context, older_than: str, dry_run: bool) -> None:
    """Retention: delete whole days of events older than the cutoff, and old rejected lines.

    Run `shadow-ai classify` afterwards to rebuild the rollups.

    \b
    Example:
        shadow-ai prune --older-than 180d
    """
    from detector.enrich.privacy import prune as run_prune

    days_text = older_than.strip().lower().removesuffix("d")
    if not days_text.isdigit():
        raise click.UsageError("--older-than takes a number of days, e.g. 180 or 180d")
    result = run_prune(settings_of(ctx), int(days_text), dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {result.partitions} day partition(s) and {result.reject_files} reject file(s) "
               f"from before {result.cutoff}")


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
    """Columns cut at 60 characters to stay aligned, except the last, which nothing follows (a rule, an error)."""
    cells = [[("" if row.get(c) is None else str(_plain(row.get(c)))) for c in columns] for row in rows]
    widths = [min(60, max([len(c)] + [len(r[i]) for r in cells])) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    last = len(columns) - 1
    for r in cells:
        click.echo("  ".join((v if i == last else v[:60]).ljust(w)
                             for i, (v, w) in enumerate(zip(r, widths, strict=True))).rstrip())


from detector.demo.commands import demo  # noqa: E402  (its own module, registered here; imports nothing heavy)

cli.add_command(demo)

from detector.classify.commands import model_group  # noqa: E402  (imports scikit-learn only when run)

cli.add_command(model_group)

from detector.report.commands import deck_command, export_group, report_command  # noqa: E402  (nothing heavy)

cli.add_command(report_command)
cli.add_command(deck_command)
cli.add_command(export_group)


def main() -> None:
    try:
        cli.main(prog_name="shadow-ai", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
    finally:
        # The command is done: Python's exit would now have its garbage collector walk every object of the
        # imported libraries (scikit-learn, SciPy, pandas) again, ~0.2 s of nothing; frozen, it skips them.
        gc.freeze()


