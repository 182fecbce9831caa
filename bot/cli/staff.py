"""`legalbot staff`: console accounts."""

from __future__ import annotations

import click

from ..records import ROLE_NAMES
from .kit import load_config, reporting

ROLES_HELP = "；".join(f"{key}={name}" for key, name in ROLE_NAMES.items())


@click.group()
def staff() -> None:
    """Staff console accounts (控制台账号)."""


@staff.command("add")
@click.argument("username")
@click.password_option(
    "--password", help="Password, at least 8 characters (asked for when not given)."
)
@click.option(
    "--role",
    type=click.Choice(list(ROLE_NAMES)),
    default=None,
    help=f"The account's role ({ROLES_HELP}). A new account without one is an "
    "administrator when there is none yet, staff otherwise; an existing one keeps its role.",
)
@click.pass_context
def staff_add(ctx: click.Context, username: str, password: str, role: str | None) -> None:
    """Create a console account, or set a new password (and role) for an existing one."""
    from ..console.accounts import AccountError, set_password

    config = load_config(ctx)
    with reporting("staff", AccountError):
        created = set_password(config.database_url, username, password, role)
    click.echo(f"{'已创建' if created else '已更新'}控制台账号 {username}")


COMMANDS = (staff,)
