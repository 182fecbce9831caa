"""/admin/chat, try the bot: staff talk to the account as a resident would, for training
and for demonstrations at market-day stalls.

Each message is built, signed and (in safe mode) encrypted as WeChat's servers do
(bot/wechat/imitation.py) and posted to the app's own /wechat through its WSGI stack,
so it passes every check a resident's message passes; the passive reply is decrypted
and shown as the phone would show it. Not an HTTP call to itself: a server with one
worker would wait on itself.

Each account talks under its own trial OpenID (bot/inbox's TRIAL_PREFIX and a keyed hash
of the account's name): stable, so a "2" picks from the list just shown, and never
written anywhere, so trials count in no figure. The conversation so far is kept for a
few hours in the shared state, so the page without JavaScript can show it too.
"""

from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.test import Client

from ..errors import MalformedMessage
from ..inbox import TRIAL_PREFIX
from ..inbox.webhook import PATH
from ..records import pseudonym
from ..state import get_json, set_json
from ..wechat.imitation import Imitator, Shown
from .auth import bp, current_staff, login_required
from .figures import services

MAX_TEXT = 600  # characters: WeChat takes 2,048 bytes of text, a Chinese character is 3
KEPT = 30  # exchanges shown on the page
KEPT_SECONDS = 4 * 3600
MENU_KEY = "MENU"  # any key that is not a theme's opens the theme menu (inbox/dispatch.py)


class TrialError(ValueError):
    """What staff typed or pressed cannot be sent; the message says why, in Chinese."""


def trial_openid(username: str) -> str:
    """The trial OpenID of a console account: stable, and no resident's."""
    return TRIAL_PREFIX + pseudonym(services().secret_key, "console:" + username)[:16]


def menu_buttons() -> list[tuple[str, str]]:
    """The account's menu keys and their names: one `THEME_<slug>` per theme of the
    knowledge base (what a CLICK opens, bot/inbox/dispatch.py) and the theme menu."""
    themes = services().knowledge.current().themes
    return [(f"THEME_{slug}", name) for slug, name in themes.items()] + [(MENU_KEY, "主菜单")]


def _imitator() -> Imitator:
    wechat = services().config.wechat
    return Imitator(wechat.token, wechat.aes_key, wechat.appid)


def _history_key(openid: str) -> str:
    return f"trialchat:{openid}"


def history(openid: str) -> list[dict]:
    return get_json(services().state, _history_key(openid)) or []


def _said(form) -> tuple[str, str, dict]:
    """(kind, what is sent, how the staff's own bubble reads) from the submitted form."""
    kind = form.get("kind", "text")
    words = (form.get("text") or "").strip()
    if len(words) > MAX_TEXT:
        raise TrialError(f"一条消息最多 {MAX_TEXT} 个字")
    if kind == "text":
        if not words:
            raise TrialError("请先输入要发送的文字")
        return kind, words, {"kind": "text", "text": words}
    if kind == "voice":  # empty: what WeChat sends for speech it could not make out
        return kind, words, {"kind": "voice", "text": words}
    if kind == "click":
        key = form.get("key", "")
        names = dict(menu_buttons())
        if key not in names:
            raise TrialError("菜单里没有这个按钮")
        return kind, key, {"kind": "click", "text": names[key]}
    raise TrialError("不认识的消息类型")


def send(openid: str, kind: str, value: str) -> tuple[int, Shown]:
    """Post one message to /wechat as WeChat does; the status and what the phone shows."""
    imitator = _imitator()
    callback = getattr(imitator, kind)(openid, value)
    response = Client(current_app.wsgi_app).post(
        PATH, query_string=callback.query, data=callback.body, content_type="text/xml"
    )
    body = response.get_data(as_text=True)
    if response.status_code != 200:
        return response.status_code, Shown("error")
    try:
        return 200, imitator.read(body)
    except MalformedMessage:
        return 200, Shown("error")


@bp.get("/chat")
@login_required
def chat():
    """The chat panel: the conversation so far, a box to type in, the menu's buttons."""
    openid = trial_openid(current_staff().username)
    return render_template(
        "admin/chat.html",
        exchanges=history(openid),
        buttons=menu_buttons(),
        encrypted=_imitator().encrypted,
        max_text=MAX_TEXT,
    )


@bp.post("/chat/send")
@login_required
def chat_send():
    """Send a message; JSON for the page's script, a return to the page without it."""
    wants_json = request.accept_mimetypes.best == "application/json"
    try:
        kind, value, said = _said(request.form)
    except TrialError as exc:
        if wants_json:
            return jsonify(error=str(exc)), 400
        flash(str(exc))
        return redirect(url_for("admin.chat"))
    openid = trial_openid(current_staff().username)
    status, shown = send(openid, kind, value)
    exchange = {"said": said, "reply": shown.to_json(), "status": status}
    set_json(
        services().state, _history_key(openid), (history(openid) + [exchange])[-KEPT:], KEPT_SECONDS
    )
    if wants_json:
        return jsonify(exchange)
    return redirect(url_for("admin.chat") + "#end")


@bp.post("/chat/clear")
@login_required
def chat_clear():
    """Start the conversation afresh (the page only; the bot's memory of a list expires)."""
    services().state.delete(_history_key(trial_openid(current_staff().username)))
    return redirect(url_for("admin.chat"))
