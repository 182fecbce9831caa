"""The floors for bench_webhook.py: the least a WeChat webhook must do, and nothing more.

Each checks the signature, parses with wechatpy and echoes the text back. `create_app`
is the issue's floor, a Flask view; `create_bare_app` does the same as a plain WSGI
callable, without Flask. legalbot answers /wechat outside Flask too (bot/inbox/webhook.py),
so the difference between the bare floor and the real app under the same gunicorn
settings is the cost of legalbot's own work (dedupe, answering, recording), and the
Flask floor shows what Flask's machinery around a view would add. Run: gunicorn
'floor_app:create_app()' (or 'floor_app:create_bare_app()') with bench/ on the Python
path and LEGALBOT_WECHAT_TOKEN set.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl

from flask import Flask, Response, request
from wechatpy import parse_message
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature


def create_app(token: str | None = None) -> Flask:
    """A Flask app with GET and POST /wechat for one token (default: LEGALBOT_WECHAT_TOKEN)."""
    token = _token(token)
    app = Flask(__name__)

    def signed() -> bool:
        try:
            check_signature(
                token,
                request.args.get("signature", ""),
                request.args.get("timestamp", ""),
                request.args.get("nonce", ""),
            )
        except InvalidSignatureException:
            return False
        return True

    @app.get("/wechat")
    def verify() -> Response:
        """WeChat's server check; the bench also polls it to know the server is up."""
        if not signed():
            return Response("forbidden", 403, content_type="text/plain")
        return Response(request.args.get("echostr", ""), 200, content_type="text/plain")

    @app.post("/wechat")
    def receive() -> Response:
        if not signed():
            return Response("forbidden", 403, content_type="text/plain")
        message = parse_message(request.get_data(as_text=True))
        content = getattr(message, "content", "") or ""
        xml = TextReply(message=message, content=content).render()
        return Response(xml, 200, content_type="application/xml; charset=utf-8")

    return app


def create_bare_app(token: str | None = None):
    """The same GET and POST /wechat as a plain WSGI callable: no framework at all."""
    token = _token(token)

    def app(environ, start_response):
        args = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        try:
            check_signature(
                token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")
            )
        except InvalidSignatureException:
            return _respond(start_response, "403 Forbidden", "forbidden", "text/plain")
        if environ.get("PATH_INFO") != "/wechat":
            return _respond(start_response, "404 Not Found", "not found", "text/plain")
        if environ["REQUEST_METHOD"] != "POST":
            return _respond(start_response, "200 OK", args.get("echostr", ""), "text/plain")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        message = parse_message(environ["wsgi.input"].read(length).decode("utf-8"))
        content = getattr(message, "content", "") or ""
        xml = TextReply(message=message, content=content).render()
        return _respond(start_response, "200 OK", xml, "application/xml; charset=utf-8")

    return app


def _respond(start_response, status: str, text: str, content_type: str) -> list[bytes]:
    body = text.encode("utf-8")
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _token(token: str | None) -> str:
    token = token if token is not None else os.environ.get("LEGALBOT_WECHAT_TOKEN", "")
    if not token:
        raise SystemExit("floor_app: set LEGALBOT_WECHAT_TOKEN")
    return token
