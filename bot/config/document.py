"""config.toml written out from the table of settings (settings.py), comments and all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .settings import HEADER, SECTION_COMMENTS, SECTIONS, SETTINGS


def toml_value(value: Any) -> str:
    """A default as TOML writes it: strings quoted, numbers as they are."""
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _comment(text: str) -> list[str]:
    return [f"# {line}".rstrip() for line in text.splitlines()]


def render() -> str:
    """The text of config.toml: every setting at its default, under its comment."""
    lines = _comment(HEADER)
    for section in SECTIONS:
        lines += ["", f"[{section}]", *_comment(SECTION_COMMENTS.get(section, ""))]
        for setting in SETTINGS:
            if setting.section == section:
                lines += _comment(setting.comment)
                lines.append(f"{setting.key} = {toml_value(setting.default)}")
    return "\n".join(lines) + "\n"
