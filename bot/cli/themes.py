"""Options that take a theme slug: their help lists every slug with its Chinese name, so
staff find the slug in `--help`, not only in an error message."""

from __future__ import annotations

import tomllib

import click


def theme_list() -> str:
    """`fraud=防范电信网络诈骗与养老诈骗, drugs=禁毒, …` from the bundled taxonomy, in its order."""
    from ..answer.loader import BUNDLED_TAXONOMY

    with BUNDLED_TAXONOMY.open("rb") as fh:
        themes = tomllib.load(fh).get("themes", {})
    return ", ".join(f"{slug}={theme.get('name', slug)}" for slug, theme in themes.items())


class ThemeOption(click.Option):
    """An option whose help ends with the theme slugs, read when the help is shown (not
    when the command is imported: `legalbot` starts without reading a file)."""

    def get_help_record(self, ctx: click.Context):
        if "{themes}" in (self.help or ""):
            self.help = self.help.replace("{themes}", theme_list())
        return super().get_help_record(ctx)


def theme_option(*decls: str, help: str, **kwargs):
    """`click.option` for a theme slug; `{themes}` in `help` becomes the list of slugs."""
    return click.option(*decls, cls=ThemeOption, help=help, **kwargs)
