"""The staff console under /admin: figures, downloads, offline activities, unanswered
questions, behind a login.

    auth.py        sessions, CSRF, the login and its rate limit; the blueprint
    figures.py     the overview of a period, the trend picture, the downloads
    activities.py  offline publicity activities
    accounts.py    console accounts (`legalbot staff add`)
    templates/     the pages, in Chinese, for a 375 px phone screen and up
"""

from __future__ import annotations

from . import activities, figures  # noqa: F401 - their views join the blueprint
from .auth import bp
from .auth import init_app as _init_auth


def init_app(app, services) -> None:
    """Attach the console to the app."""
    _init_auth(app, services)
    app.register_blueprint(bp)
