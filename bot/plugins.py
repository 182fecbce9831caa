"""Parts of legalbot that live outside bot/ plug in through entry points.

The campaign scheduler (scheduler/) imports bot/, never the reverse (STYLE.md), yet its
commands belong to the one `legalbot` command and `legalbot serve` runs it embedded on a
single machine. So it declares itself in pyproject.toml under two entry-point groups:

- `legalbot.commands`: click commands added to `legalbot` (`legalbot campaign …`);
- `legalbot.embedded`: callables `start(config) -> handle` that `legalbot serve` runs in
  the serving process after the app is built; `handle.shutdown()` stops them.

Entry points are read from the installed metadata, so `pip install -e .` makes them live.
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points
from typing import Any

COMMANDS = "legalbot.commands"
EMBEDDED = "legalbot.embedded"


@functools.cache
def load(group: str) -> tuple[Any, ...]:
    """The objects the entry points of `group` name, in the order of their names."""
    return tuple(ep.load() for ep in sorted(entry_points(group=group), key=lambda ep: ep.name))
