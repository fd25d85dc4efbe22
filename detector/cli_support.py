"""What every command module shares (cli.py and the command modules of report, demo, model): one error
exit, the `--json` option. Kept apart from cli.py so that those modules can import it without a cycle."""

from __future__ import annotations

import functools
import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click

from detector.errors import DetectorError

F = TypeVar("F", bound=Callable[..., Any])


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


class StderrNotices(logging.Handler):
    """Shows the library's notices (the `detector` logger, INFO and up) on the standard error of the command
    running now: what a command does that takes a while and that the user did not ask for (a first model
    training), without mixing it into the output scripts read."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def show_notices() -> None:
    """Route the `detector` logger to StderrNotices once per process, where a person watches standard error
    (a terminal): a script's or cron's standard error stays for errors."""
    if not stderr_is_terminal():
        return
    logger = logging.getLogger("detector")
    if not any(isinstance(handler, StderrNotices) for handler in logger.handlers):
        logger.addHandler(StderrNotices())
        logger.setLevel(logging.INFO)
