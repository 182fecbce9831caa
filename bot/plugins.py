"""Parts of legalbot that live outside bot/ plug in through entry points.

The campaign scheduler (scheduler/) imports bot/, never the reverse (README, "Code
layout"), yet its commands belong to the one `legalbot` command, `legalbot serve` runs
it embedded on a single machine, WeChat's reports on its mass sends arrive at the
webhook, and its campaigns are part of the year's figures. So it declares itself in
pyproject.toml under these entry-point groups:

- `legalbot.commands`: click commands added to `legalbot` (`legalbot campaign …`);
- `legalbot.embedded`: callables `start(config) -> handle` that `legalbot serve` runs in
  the serving process after the app is built; `handle.shutdown()` stops them;
- `legalbot.system_events`: callables `handlers(engine) -> {event kind: handler}` for
  events about the account's own jobs (MASSSENDJOBFINISH), which the inbox hands on
  after the retry claim, off the request's thread;
- `legalbot.figures`: objects (modules) with `period(conn, tz, start, end) -> dict` of
  summary fields and `freeze(engine, tz, delete_before, now) -> (delete_before, count)`,
  run by the roll-up before raw events are deleted;
- `legalbot.console`: callables `init_app(app, services)` that add pages to the staff
  console (the campaigns' pages, /admin/campaigns), each behind the console's login
  (bot.console.auth.login_required) and extending its templates (admin/base.html).

Entry points are read from the installed metadata, so `pip install -e .` makes them live.
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points
from typing import Any

COMMANDS = "legalbot.commands"
EMBEDDED = "legalbot.embedded"
SYSTEM_EVENTS = "legalbot.system_events"
FIGURES = "legalbot.figures"
CONSOLE = "legalbot.console"


@functools.cache
def load(group: str) -> tuple[Any, ...]:
    """The objects the entry points of `group` name, in the order of their names."""
    return tuple(ep.load() for ep in sorted(entry_points(group=group), key=lambda ep: ep.name))
