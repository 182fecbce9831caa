"""What every `legalbot` command shares, including commands plugged in from outside bot/:
the configuration, the one way a command fails, and the period options."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from datetime import date
from typing import NoReturn

import click

from .. import config as config_module
from ..errors import ConfigError


def load_config(ctx: click.Context) -> config_module.Config:
    """The configuration, loaded once per command; problems stop it one line per key."""
    root = ctx.find_root()
    if root.obj is None:
        try:
            root.obj = config_module.load()
        except ConfigError as exc:
            for line in str(exc).splitlines():
                click.echo(line, err=True)
            ctx.exit(2)
    return root.obj


def fail(lines: list[str], code: int = 1) -> NoReturn:
    """Print each line on standard error and exit with `code` (never a traceback)."""
    for line in lines:
        click.echo(line, err=True)
    sys.exit(code)


@contextlib.contextmanager
def reporting(what: str, *expected: type[Exception]) -> Iterator[None]:
    """The one error style of every command (a `with` block or a decorator): an error of
    the `expected` kinds (the room's own, e.g. CampaignError), a database that cannot be
    used or a file that cannot be written ends it with one line naming `what`, exit 1."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except SQLAlchemyError as exc:
        fail([f"{what}: cannot read the records ({type(exc).__name__}); run `legalbot db upgrade`"])
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        fail([f"{what}: cannot write{where} ({exc.strerror or exc})"])
    except expected as exc:
        fail([f"{what}: {exc}"])


def iso_date(value: str) -> date:
    """YYYY-MM-DD exactly (Python would also take 20250301 or 2025-W10-1)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError(f"{value!r} is not YYYY-MM-DD")
    return date.fromisoformat(value.strip())


def period(config: config_module.Config, start: str | None, end: str | None) -> tuple[date, date]:
    """--from and --to, each defaulting to the current year's first and last day."""
    from ..figures import current_year

    default_start, default_end = current_year(config.tz)
    try:
        low = iso_date(start) if start else default_start
        high = iso_date(end) if end else default_end
    except ValueError as exc:
        fail([f"stats：日期应写成 YYYY-MM-DD（{exc}）"], 2)
    if low > high:
        fail(["stats：--from 的日期晚于 --to"], 2)
    return low, high


FROM = click.option(
    "--from", "start", default=None, help="起始日期 YYYY-MM-DD（默认：今年 1 月 1 日）。"
)
TO = click.option(
    "--to", "end", default=None, help="截止日期 YYYY-MM-DD，含当天（默认：今年 12 月 31 日）。"
)
