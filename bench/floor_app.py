"""The floor for bench_webhook.py: the least a WeChat webhook must do, and nothing more.

It checks the signature, parses with wechatpy and echoes the text back, so the
difference between it and the real app under the same gunicorn settings is the cost of
legalbot's own work (dedupe, answering, recording). Run: gunicorn 'floor_app:create_app()'
with bench/ on the Python path and LEGALBOT_WECHAT_TOKEN set.
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from wechatpy import parse_message
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature


def create_app(token: str | None = None) -> Flask:
    """A Flask app with GET and POST /wechat for one token (default: LEGALBOT_WECHAT_TOKEN)."""
    token = token if token is not None else os.environ.get("LEGALBOT_WECHAT_TOKEN", "")
    if not token:
        raise SystemExit("floor_app: set LEGALBOT_WECHAT_TOKEN")
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
