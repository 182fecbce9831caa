"""The staff console under /admin, behind a login, in Chinese, for a 375 px phone and up.

    auth.py        sessions, CSRF, the login and its rate limit, roles; the blueprint
    nav.py         the menu: every page, and who sees it
    errors.py      error pages in Chinese
    figures.py     the overview of a period, the trend picture, the downloads
    activities.py  offline publicity activities
    chat.py        try the bot: a chat that talks to /wechat as WeChat does
    knowledge.py   the knowledge base: by theme, search, try a question, drafts
    drafts.py      drafts of entries, published by editors into content/ (kbform.py: the form)
    mediation.py   the people's mediation register (bot/mediation)
    accounts.py    console accounts and roles (`legalbot staff add`, /admin/users)
    users.py       /admin/users and /admin/audit
    templates/     the pages

Pages that live outside bot/ (the campaigns, scheduler/) plug in through the
`legalbot.console` entry point (bot/plugins.py).
"""

from __future__ import annotations

from flask import request

from .. import plugins
from . import (  # noqa: F401 - their views join the blueprint
    activities,
    chat,
    figures,
    knowledge,
    mediation,
    users,
)
from . import errors as _errors
from .auth import bp, can
from .auth import init_app as _init_auth
from .nav import MENU


def init_app(app, services) -> None:
    """Attach the console, and the pages plugged into it, to the app."""
    _init_auth(app, services)
    app.register_blueprint(bp)
    for plug in plugins.load(plugins.CONSOLE):
        plug(app, services)
    _errors.init_app(app)
    routed = _routed(app)
    app.jinja_env.globals["menu"] = lambda: [
        item for item in routed if item.capability is None or can(item.capability)
    ]
    app.jinja_env.globals["here"] = lambda item: (
        request.path == item.path if item.path == "/admin/" else request.path.startswith(item.path)
    )


def _routed(app) -> list:
    """The menu's pages that this app serves (a page not built yet is not offered)."""
    urls = app.url_map.bind("localhost")
    found = []
    for item in MENU:
        try:
            urls.match(item.path, method="GET")
        except Exception:  # noqa: BLE001 - NotFound, or a redirect to the slash form
            continue
        found.append(item)
    return found
