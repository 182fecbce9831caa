"""legalbot: a township's WeChat official account for legal education (普法)."""

from __future__ import annotations

import sys

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from .config import Config, load
from .config.logs import setup_logging
from .errors import ConfigError, KnowledgeBaseError, http_error_line


def create_app(config: Config | None = None, knowledge=None) -> Flask:
    """The WSGI application: webhook, health check and staff console for one configuration.

    `knowledge` (a KnowledgeBaseHolder) is shared when given, e.g. by apps in one test run.
    """
    if config is None:
        config = _load_or_exit()
    from . import console, health, services
    from .inbox import RequestIds, Webhook

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=None,
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        JSON_AS_ASCII=False,
    )
    setup_logging(config.log_level)
    try:
        built = services.build(config, knowledge)
    except KnowledgeBaseError as exc:
        _exit_with([str(exc), *exc.problems])
    except ConfigError as exc:
        _exit_with(str(exc).splitlines())
    app.config["SECRET_KEY"] = built.secret_key
    app.extensions["legalbot"] = built
    app.json.ensure_ascii = False
    # /wechat is answered before Flask (bot/inbox/webhook.py); the request id covers both.
    hook = Webhook(app.wsgi_app, built.edge, built.inbox, config.max_body_bytes)
    app.wsgi_app = RequestIds(hook)
    app.register_error_handler(HTTPException, _plain_error)
    app.register_blueprint(health.bp)
    console.init_app(app, built)
    return app


def _load_or_exit() -> Config:
    try:
        return load()
    except ConfigError as exc:
        _exit_with(str(exc).splitlines())


def _exit_with(lines: list[str]):
    """Report start-up problems one line each and stop; 3 tells gunicorn not to respawn."""
    for line in lines:
        print(line, file=sys.stderr)
    raise SystemExit(3)


def _plain_error(error: HTTPException) -> Response:
    """HTTP errors (404, 405, 413 …) as one plain line, never an HTML page or a traceback."""
    return Response(
        http_error_line(error), status=error.code, content_type="text/plain; charset=utf-8"
    )
