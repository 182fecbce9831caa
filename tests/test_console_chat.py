"""Try the bot (/admin/chat): the console talks to /wechat as WeChat does, and what staff
try there counts in no figure."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import ArticlesReply, TextReply

from bot import records
from bot.answer.replies import text as reply_text
from bot.console.accounts import set_password
from bot.inbox import TRIAL_PREFIX
from bot.wechat.imitation import Imitator
from tests.conftest import AES_KEY, APPID, SAFE, TOKEN, settled, summary
from tests.test_admin import _login
from tests.wxdriver import Driver, decrypt

QUESTION = "老板拖欠工资三个月了怎么办"
JSON = {"Accept": "application/json"}


@pytest.fixture(params=["plain", "safe"])
def mode(request):
    return request.param


@pytest.fixture
def chat_app(build_app, mode):
    """An app in plaintext mode (no EncodingAESKey) or in safe mode, with a clerk."""
    app = build_app(wechat={"aes_key": ""}) if mode == "plain" else build_app(wechat=SAFE)
    set_password(app.extensions["legalbot"].engine, "clerk", "correct-horse")
    return app


def _logged_in(app, username="clerk", password="correct-horse"):
    client = app.test_client()
    assert _login(client, username, password).status_code == 302
    return client


def _token(client) -> str:
    page = client.get("/admin/chat").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _send(client, **data):
    response = client.post(
        "/admin/chat/send", data={"csrf_token": _token(client), **data}, headers=JSON
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _wechat(client, mode) -> Driver:
    """The test suite's own WeChat driver, for what /wechat answers a resident."""
    return Driver(client, TOKEN, mode=mode, aes_key=AES_KEY, appid=APPID)


def test_a_question_gets_the_reply_wechat_would_show(chat_app, mode):
    client = _logged_in(chat_app)
    shown = _send(client, kind="text", text=QUESTION)
    resident = _wechat(chat_app.test_client(), mode).text("o-resident-1", QUESTION)
    assert resident.status == 200 and "劳动" in resident.content
    assert shown["status"] == 200
    assert shown["reply"] == {"kind": "text", "content": resident.content, "articles": []}
    assert shown["said"] == {"kind": "text", "text": QUESTION}


def test_safe_mode_messages_are_encrypted_as_wechat_encrypts_them(chat_app, mode):
    config = chat_app.extensions["legalbot"].config.wechat
    imitator = Imitator(config.token, config.aes_key, config.appid)
    callback = imitator.text(TRIAL_PREFIX + "x", QUESTION)
    body = callback.body.decode()
    if mode == "plain":
        assert "encrypt_type" not in callback.query and QUESTION in body
        return
    assert callback.query["encrypt_type"] == "aes" and "msg_signature" in callback.query
    assert QUESTION not in body and "FromUserName" not in body
    # The independent driver's AES (not wechatpy's) opens it.
    cipher = re.search(r"<Encrypt><!\[CDATA\[(.+?)\]\]>", body).group(1)
    xml, appid = decrypt(AES_KEY, cipher)
    assert appid == APPID and QUESTION in xml and "<MsgType><![CDATA[text]]>" in xml
    # /wechat refuses it with a broken msg_signature: the trial passes the real checks.
    forged = callback.query | {"msg_signature": "0" * 40}
    response = chat_app.test_client().post("/wechat", query_string=forged, data=callback.body)
    assert response.status_code == 403


def test_a_voice_message_is_answered_from_its_recognition(chat_app):
    client = _logged_in(chat_app)
    heard = _send(client, kind="voice", text=QUESTION)
    typed = _send(client, kind="text", text=QUESTION)
    assert heard["said"] == {"kind": "voice", "text": QUESTION}
    assert heard["reply"]["content"] == typed["reply"]["content"]
    unclear = _send(client, kind="voice", text="")
    assert unclear["reply"]["content"] == reply_text("voice_unheard")


def test_the_menu_is_shown_as_buttons_and_a_click_opens_its_theme(chat_app, mode):
    client = _logged_in(chat_app)
    page = client.get("/admin/chat").get_data(as_text=True)
    themes = chat_app.extensions["legalbot"].knowledge.current().themes
    for slug, name in themes.items():
        assert f'name="key" value="THEME_{slug}">{name}</button>' in page
    assert 'value="MENU">主菜单</button>' in page
    shown = _send(client, kind="click", key="THEME_fraud")
    resident = _wechat(chat_app.test_client(), mode).event("o-resident-2", "CLICK", "THEME_fraud")
    assert shown["said"] == {"kind": "click", "text": themes["fraud"]}
    assert shown["reply"]["content"] == resident.content
    assert "回复数字" in shown["reply"]["content"]
    # The trial identity is stable: a "1" picks from the list this account was just shown.
    first = _send(client, kind="text", text="1")["reply"]["content"]
    assert first.startswith("【自称公安、检察院、法院")


def test_trials_count_in_no_figure_and_keep_no_openid(chat_app, mode):
    before = summary(chat_app)
    client = _logged_in(chat_app)
    _send(client, kind="text", text=QUESTION)
    _send(client, kind="text", text="我家的羊能不能去月球上放牧")  # unanswered, not kept
    _send(client, kind="voice", text="")
    _send(client, kind="click", key="THEME_fraud")
    _send(client, kind="text", text="有人打电话说我涉嫌洗钱，要我转到安全账户")
    engine = settled(chat_app)
    assert summary(chat_app) == before
    with Session(engine) as db:
        assert db.scalar(select(func.count()).select_from(records.Event)) == 0
        assert db.scalar(select(func.count()).select_from(records.Follower)) == 0
        assert db.scalar(select(func.count()).select_from(records.UnansweredQuestion)) == 0
    # The same message from a resident does count: the figures are not blind.
    _wechat(chat_app.test_client(), mode).text("o-resident-3", QUESTION)
    assert summary(chat_app)["messages_received"] == before["messages_received"] + 1


def test_a_mediation_request_tried_in_the_console_files_no_case(chat_app, mode):
    """Staff can walk residents through 申请调解 at a stall; the register gets no case."""
    client = _logged_in(chat_app)
    for text in ("申请调解", "3", "上庄村", "邻居家的树压到我家房子了", "1"):
        checked = _send(client, kind="text", text=text)
    assert "请核对" in checked["reply"]["content"]
    done = _send(client, kind="text", text="1")
    assert "编号" in done["reply"]["content"]
    settled(chat_app)
    with Session(chat_app.extensions["legalbot"].engine) as db:
        assert db.scalar(select(func.count()).select_from(records.MediationCase)) == 0


def test_the_page_works_without_javascript(chat_app):
    client = _logged_in(chat_app)
    response = client.post(
        "/admin/chat/send", data={"csrf_token": _token(client), "kind": "text", "text": QUESTION}
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/chat")
    page = client.get("/admin/chat").get_data(as_text=True)
    assert f'<div class="bubble">{QUESTION}</div>' in page
    assert "先收集证据" in page
    empty = client.post(
        "/admin/chat/send", data={"csrf_token": _token(client), "kind": "text", "text": " "}
    )
    assert empty.status_code == 302
    assert "请先输入要发送的文字" in client.get("/admin/chat").get_data(as_text=True)
    client.post("/admin/chat/clear", data={"csrf_token": _token(client)})
    assert "先收集证据" not in client.get("/admin/chat").get_data(as_text=True)


def test_each_account_has_its_own_conversation(chat_app):
    set_password(chat_app.extensions["legalbot"].engine, "trainer", "correct-horse")
    clerk, trainer = _logged_in(chat_app), _logged_in(chat_app, "trainer")
    _send(clerk, kind="text", text=QUESTION)
    assert "先收集证据" in clerk.get("/admin/chat").get_data(as_text=True)
    assert "先收集证据" not in trainer.get("/admin/chat").get_data(as_text=True)


def test_what_cannot_be_sent_is_refused_in_chinese(chat_app):
    client = _logged_in(chat_app)
    for data, said in [
        ({"kind": "text", "text": ""}, "请先输入要发送的文字"),
        ({"kind": "text", "text": "字" * 601}, "最多 600 个字"),
        ({"kind": "click", "key": "THEME_nonexistent"}, "菜单里没有这个按钮"),
        ({"kind": "image"}, "不认识的消息类型"),
    ]:
        response = client.post(
            "/admin/chat/send", data={"csrf_token": _token(client), **data}, headers=JSON
        )
        assert response.status_code == 400
        assert said in response.get_json()["error"]


def test_the_chat_needs_a_login_and_the_form_token(chat_app):
    anonymous = chat_app.test_client()
    assert anonymous.get("/admin/chat").status_code == 302
    page = anonymous.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    refused = anonymous.post(
        "/admin/chat/send", data={"csrf_token": token, "kind": "text", "text": QUESTION}
    )
    assert refused.status_code == 302 and "/admin/login" in refused.headers["Location"]
    client = _logged_in(chat_app)
    forged = client.post("/admin/chat/send", data={"kind": "text", "text": QUESTION}, headers=JSON)
    assert forged.status_code == 400
    assert "先收集证据" not in client.get("/admin/chat").get_data(as_text=True)


def test_a_news_reply_is_read_as_articles():
    """The bot answers in text today; a news reply (wechatpy's) is shown as its articles."""
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    message = type("M", (), {"source": "gh_trial", "target": "o-x"})()
    news = ArticlesReply(message=message)
    news.add_article({"title": "宪法宣传周", "description": "学宪法", "url": "https://e.example/a"})
    news.add_article({"title": "第二篇", "url": "javascript:alert(1)"})
    for imitator, body in [
        (Imitator(TOKEN), news.render()),
        (
            Imitator(TOKEN, AES_KEY, APPID),
            crypto.encrypt_message(news.render(), "n1", "1700000000"),
        ),
    ]:
        shown = imitator.read(body).to_json()
        assert shown["kind"] == "news"
        assert [(a["title"], a["url"]) for a in shown["articles"]] == [
            ("宪法宣传周", "https://e.example/a"),
            ("第二篇", ""),
        ]
    text = TextReply(message=message, content="您好").render()
    assert Imitator(TOKEN).read(text).to_json()["content"] == "您好"
    assert Imitator(TOKEN).read("success").kind == "none"
