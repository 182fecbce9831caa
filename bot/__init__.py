"""legalbot: a township's WeChat official account for legal education (普法)."""

from __future__ import annotations

import itertools
import logging
import os
import sys

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from .config import Config, load
from .errors import ConfigError, KnowledgeBaseError, http_error_line


def create_app(config: Config | None = None, knowledge=None) -> Flask:
    """The WSGI application: webhook, health check and staff console for one configuration.

    `knowledge` (a KnowledgeBaseHolder) is shared when given, e.g. by apps in one test run.
    """
    if config is None:
        config = _load_or_exit()
    from . import admin, health, services, webhook

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=None,
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        JSON_AS_ASCII=False,
    )
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        built = services.build(config, knowledge)
    except KnowledgeBaseError as exc:
        _exit_with([str(exc), *exc.problems])
    app.config["SECRET_KEY"] = built.secret_key
    app.extensions["legalbot"] = built
    app.json.ensure_ascii = False
    # /wechat is answered before Flask (bot/webhook.py); the request id covers both.
    hook = webhook.Webhook(app.wsgi_app, built.edge, built.inbox, config.max_body_bytes)
    app.wsgi_app = RequestIds(hook)
    app.register_error_handler(HTTPException, _plain_error)
    app.register_blueprint(health.bp)
    admin.init_app(app, built)
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


REQUEST_ID = "legalbot.request_id"  # the WSGI environ key


class RequestIds:
    """WSGI middleware: an id for the logs of each request, answered as `X-Request-Id`.

    The id is this process's id and the request's number. Not random: a uuid4 per
    request cost the webhook a system call, and the log lines it ties together carry
    their time and process anyway. Middleware rather than Flask's before/after hooks:
    the webhook (bot/webhook.py) is answered outside Flask, and so is a 413.
    """

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self._numbers = itertools.count(1)

    def __call__(self, environ, start_response):
        request_id = f"{os.getpid():x}-{next(self._numbers):x}"
        environ[REQUEST_ID] = request_id

        def start_with_id(status, headers, exc_info=None):
            headers.append(("X-Request-Id", request_id))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_with_id)
