"""Helpers every `legalbot` command shares, including commands plugged in from outside bot/."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from . import config as config_module
from .errors import ConfigError


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
