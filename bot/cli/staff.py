"""`legalbot staff`: console accounts."""

from __future__ import annotations

import click

from .kit import fail, load_config, reporting


@click.group()
def staff() -> None:
    """Staff console accounts."""


@staff.command("add")
@click.argument("username")
@click.password_option("--password", help="Password (asked for when not given).")
@click.pass_context
def staff_add(ctx: click.Context, username: str, password: str) -> None:
    """Create a console account, or set a new password for an existing one."""
    from ..console.accounts import set_password

    config = load_config(ctx)
    if len(password) < 8:
        fail(["staff: the password must have at least 8 characters"], 2)
    if not 0 < len(username) <= 64:
        fail(["staff: the username must have 1 to 64 characters"], 2)
    with reporting("staff"):
        created = set_password(config.database_url, username, password)
    click.echo(f"{'created' if created else 'updated'} staff account {username}")


COMMANDS = (staff,)
