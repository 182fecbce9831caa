"""The /wechat blueprint: HTTP in, reply out. No business logic lives here."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from . import request_id
from .errors import InvalidSignature, MalformedMessage
from .inbox import APOLOGY
from .wechat import text_reply

bp = Blueprint("wechat", __name__)
log = logging.getLogger(__name__)


def _services():
    return current_app.extensions["legalbot"]


@bp.get("/wechat")
def verify() -> Response:
    """WeChat's server-configuration check: echo `echostr` when the signature holds."""
    try:
        _services().edge.verify(request.args)
    except InvalidSignature:
        log.warning("[%s] GET /wechat with a bad signature", request_id())
        return _plain("forbidden", 403)
    return _plain(request.args.get("echostr", ""), 200)


@bp.post("/wechat")
def receive() -> Response:
    services = _services()
    body = request.get_data(cache=False)  # MAX_CONTENT_LENGTH turns oversize into 413
    try:
        inbound = services.edge.read(request.args, body)
    except InvalidSignature as exc:
        log.warning("[%s] refused: %s", request_id(), exc)
        return _plain("forbidden", 403)
    except MalformedMessage as exc:
        log.warning("[%s] bad request: %s", request_id(), exc)
        return _plain("bad request", 400)
    try:
        reply_xml = services.inbox.receive(inbound)
    except Exception:
        log.exception("[%s] handling failed; the resident gets an apology", request_id())
        reply_xml = text_reply(APOLOGY, inbound.message)
    body_out = services.edge.render(reply_xml, inbound)
    return Response(body_out, status=200, content_type="application/xml; charset=utf-8")


def _plain(text: str, status: int) -> Response:
    return Response(text, status=status, content_type="text/plain; charset=utf-8")
