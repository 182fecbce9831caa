"""The `legalbot` command: one module per command group, each a thin layer over the room
that does the work; scheduler/ plugs its groups in (bot/plugins.py).

    kit.py         the configuration, the one error style, the period options
    serve.py       `serve`, `db upgrade`
    gunicorn_conf.py  gunicorn's settings for `serve` and the Docker image (the access log)
    knowledge.py   `ask`, `kb validate|export|eval|reload`
    stats.py       `stats summary|series|export|report|chart|rollup`
    activities.py  `activity add|list|remove`
    mediation.py   `mediation add|list|show|close`
    staff.py       `staff add`
    simulate.py    `simulate`: chat with a running server as WeChat would
"""

from __future__ import annotations

import click

from . import activities, knowledge, mediation, serve, simulate, staff, stats


class _Legalbot(click.Group):
    """The `legalbot` group: its own commands plus those plugged in (bot/plugins.py)."""

    def _plugged(self) -> dict[str, click.Command]:
        from ..plugins import COMMANDS, load

        return {command.name: command for command in load(COMMANDS)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugged()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._plugged().get(name)


@click.group(cls=_Legalbot, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """legalbot: the township's legal-education (普法) WeChat official account."""


for _module in (serve, knowledge, stats, activities, mediation, staff, simulate):
    for _command in _module.COMMANDS:
        main.add_command(_command)
