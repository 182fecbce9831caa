"""The /wechat endpoint: HTTP in, reply out. No business logic lives here.

A plain WSGI handler in front of the Flask app, not a Flask view. Every message a
resident sends passes here, and Flask's machinery around a view (request and app
contexts, URL matching, the console's session, a response object, the hooks) cost the
webhook about a third of its time per message; the console and /healthz keep Flask,
the one hot path does without. What Flask gave this route is done here: the body
limit (413), HEAD and OPTIONS, 405 with `Allow`, and plain one-line errors. Any
other path goes on to Flask.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
from collections.abc import Callable, Iterable
from http import HTTPStatus
from urllib.parse import parse_qsl

from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from ..errors import InvalidSignature, MalformedMessage, http_error_line
from ..wechat import SUCCESS, Edge, text_reply
from .inbox import APOLOGY, Inbox

log = logging.getLogger(__name__)

PATH = "/wechat"
REQUEST_ID = "legalbot.request_id"  # the WSGI environ key of the request's id
ALLOW = "GET, HEAD, OPTIONS, POST"
XML = "application/xml; charset=utf-8"
PLAIN = "text/plain; charset=utf-8"

Reply = tuple[int, str, str]  # status, body, content type


class Webhook:
    """WSGI middleware answering `/wechat` itself and passing every other path to `app`."""

    def __init__(self, app: Callable, edge: Edge, inbox: Inbox, max_body_bytes: int) -> None:
        self.app = app
        self.edge = edge
        self.inbox = inbox
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        headers = []
        if method == "POST":
            status, text, content_type = self.receive(environ)
        elif method in ("GET", "HEAD"):
            status, text, content_type = self.verify(environ)
        elif method == "OPTIONS":
            status, text, content_type = 200, "", PLAIN
            headers.append(("Allow", ALLOW))
        else:
            status, text, content_type = _error(MethodNotAllowed())
            headers.append(("Allow", ALLOW))
        body = text.encode("utf-8")
        headers += [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        start_response(_status_line(status), headers)
        return [] if method == "HEAD" else [body]

    def verify(self, environ: dict) -> Reply:
        """WeChat's server-configuration check: echo `echostr` when the signature holds."""
        args = query_args(environ)
        try:
            self.edge.verify(args)
        except InvalidSignature as exc:
            log.warning("[%s] GET /wechat refused: %s", _id(environ), exc)
            return 403, "forbidden", PLAIN
        return 200, args.get("echostr", ""), PLAIN

    def receive(self, environ: dict) -> Reply:
        """A message or event: its passive reply (or `success`), encrypted when it was."""
        limit = self.max_body_bytes
        try:
            # One byte over the limit: a chunked body (no Content-Length) is cut at the
            # limit without a word from werkzeug, and must be told from one that fits.
            body = get_input_stream(environ, max_content_length=limit + 1).read()
        except HTTPException as exc:  # 413, or the client went away mid-body (400)
            return _error(exc)
        if len(body) > limit:
            return _error(RequestEntityTooLarge())
        args = query_args(environ)
        try:
            inbound = self.edge.read(args, body)
        except InvalidSignature as exc:
            log.warning("[%s] refused: %s", _id(environ), exc)
            return 403, "forbidden", PLAIN
        except MalformedMessage as exc:
            if exc.event:  # WeChat would only retry it as it is: take it, do nothing
                log.warning("[%s] event ignored: %s", _id(environ), exc)
                return 200, SUCCESS, PLAIN
            log.warning("[%s] bad request: %s", _id(environ), exc)
            return 400, "bad request", PLAIN
        except Exception as exc:  # a body the parsers choke on in a way not foreseen
            log.error("[%s] bad request: unreadable message (%s)", _id(environ), _one_line(exc))
            return 400, "bad request", PLAIN
        try:
            reply_xml = self.inbox.receive(inbound)
        except InvalidSignature as exc:  # a replay: the request came before with another body
            log.warning("[%s] refused: %s", _id(environ), exc)
            return 403, "forbidden", PLAIN
        except Exception:
            log.exception("[%s] handling failed; the resident gets an apology", _id(environ))
            reply_xml = text_reply(APOLOGY, inbound.message)
        try:
            return 200, self.edge.render(reply_xml, inbound), XML
        except Exception:  # never a 500: WeChat would retry into the same failure
            log.exception("[%s] the reply could not be rendered; answering success", _id(environ))
            return 200, SUCCESS, XML


def query_args(environ: dict) -> dict[str, str]:
    """The query string's parameters, the first of each name (as werkzeug's `args.get`)."""
    args: dict[str, str] = {}
    for name, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
        args.setdefault(name, value)
    return args


def _one_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


def _error(exc: HTTPException) -> Reply:
    return exc.code, http_error_line(exc), PLAIN


def _id(environ: dict) -> str:
    return environ.get(REQUEST_ID, "-")


@functools.cache
def _status_line(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


class RequestIds:
    """WSGI middleware: an id for the logs of each request, answered as `X-Request-Id`.

    The id is this process's id and the request's number. Not random: a uuid4 per
    request cost the webhook a system call, and the log lines it ties together carry
    their time and process anyway. Middleware rather than Flask's before/after hooks:
    the webhook (above) is answered outside Flask, and so is a 413.
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
