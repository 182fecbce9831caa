"""The import rules (README, Code layout): each room imports only rooms below it, so a
message travels one way and nothing lower knows what is built on it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Rooms from the top down; a room may import its own modules and any room of a lower rank.
RANKS = {
    "scheduler": 9,  # plugged in by entry points: bot/ never imports it
    "bot.cli": 8,
    "bot": 7,  # the package itself: create_app
    "bot.console": 6,
    "bot.services": 6,
    "bot.health": 6,
    "bot.inbox": 5,
    "bot.figures": 4,
    "bot.answer": 3,
    "bot.mediation": 3,
    "bot.wechat": 2,
    "bot.records": 2,
    "bot.config": 1,
    "bot.state": 1,
    "bot.calendar": 1,
    "bot.errors": 0,
    "bot.filelock": 0,
    "bot.plugins": 0,
}


def _room(module: str) -> str | None:
    """The room of a dotted module name: its longest prefix in RANKS."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in RANKS:
            return name
    return None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, function-level ones included."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
            found += [(node.lineno, name) for name in names]
    return found


def _sources() -> list[Path]:
    files = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "scheduler").rglob("*.py")]
    return [p for p in files if "migrations" not in p.parts]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_import_runs_back_up(path):
    here = _room(_module_name(path))
    assert here is not None, f"{path}: not in a room of RANKS"
    upward = []
    for line, target in _imports(path):
        there = _room(target)
        if there is None or there == here:
            continue
        if RANKS[there] >= RANKS[here]:
            upward.append(f"{path.relative_to(ROOT)}:{line} imports {target} ({there})")
    assert upward == []


def test_every_room_is_ranked():
    rooms = {
        p.name for p in (ROOT / "bot").iterdir() if p.is_dir() and (p / "__init__.py").exists()
    }
    modules = {p.stem for p in (ROOT / "bot").glob("*.py") if p.stem != "__init__"}
    assert {f"bot.{name}" for name in rooms | modules} <= set(RANKS)


def test_no_module_is_over_400_lines():
    long = [
        f"{p.relative_to(ROOT)}: {n}"
        for p in _sources()
        if (n := len(p.read_text().splitlines())) > 400
    ]
    assert long == []
