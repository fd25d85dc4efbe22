"""What every command module shares (cli.py and the command modules of report, demo, model): one error
exit, the `--json` option. Kept apart from cli.py so that those modules can import it without a cycle."""

from __future__ import annotations

import functools
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
