"""Each setting is declared once (bot/config/settings.py); config.toml and the README's
tables are checked against that table, and the loader's rules come from it."""

from __future__ import annotations

import tomllib

import pytest

from bot import config as config_module
from bot.config.document import render, toml_value
from bot.config.settings import SETTINGS
from bot.errors import ConfigError
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def _table(after: str) -> dict[str, list[str]]:
    """The rows of the first Markdown table after the line `after`: first cell -> cells."""
    lines = README.split(after, 1)[1].splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("|"))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_config_toml_is_the_table_written_out():
    assert (ROOT / "config.toml").read_text() == render(), "run: python -m bot.config > config.toml"


def test_config_toml_holds_every_default():
    shipped = tomllib.loads((ROOT / "config.toml").read_text())
    for setting in SETTINGS:
        assert shipped[setting.section][setting.key] == toml_value_of(setting.default), setting.name


def toml_value_of(value):
    return tomllib.loads(f"v = {toml_value(value)}")["v"]


def test_the_readme_names_every_variable_with_its_default():
    rows = _table("environment variables override it:")
    declared = {s.env: s for s in SETTINGS if s.env}
    assert set(rows) == {*declared, "LEGALBOT_CONFIG"}
    for env, setting in declared.items():
        default = rows[env][1]
        if setting.default == "":
            assert default.startswith("empty"), env
        else:
            assert default == f"`{setting.default}`", env


def test_the_readme_gives_every_campaign_setting_its_default():
    rows = _table("The `[campaigns]` settings")
    declared = {s.key: s for s in SETTINGS if s.section == "campaigns"}
    assert set(rows) == set(declared)
    for key, setting in declared.items():
        value = toml_value(setting.default)
        assert rows[key][0] == (f"`{value}`" if isinstance(setting.default, str) else value), key


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.low is not None], ids=str)
def test_every_bound_is_enforced(tmp_path, setting):
    too_big = setting.high * 2 + 1
    path = tmp_path / "c.toml"
    path.write_text(f"[{setting.section}]\n{setting.key} = {too_big!r}\n")
    with pytest.raises(ConfigError) as caught:
        config_module.load(path, environ={})
    assert str(caught.value).startswith(f"config: {setting.label}: must be between")


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.check is not None], ids=str)
def test_every_rule_refuses_a_bad_value_with_one_line(tmp_path, setting):
    bad = -3 if setting.kind is int else "not valid here!"
    path = tmp_path / "c.toml"
    path.write_text(f"[{setting.section}]\n{setting.key} = {bad!r}\n".replace("'", '"'))
    with pytest.raises(ConfigError) as caught:
        config_module.load(path, environ={})
    lines = str(caught.value).splitlines()
    assert [line for line in lines if line.startswith(f"config: {setting.label}")], lines


def test_the_sections_are_the_tables_keys():
    config = config_module.load(ROOT / "config.toml", environ={})
    for setting in SETTINGS:
        if setting.section == "town":
            assert config.town[setting.key] == setting.default
        elif hasattr(config, setting.section):
            section = getattr(config, setting.section)
            assert getattr(section, setting.key) == setting.default, setting.name
        else:
            assert getattr(config, setting.attr or setting.key) == setting.default, setting.name
