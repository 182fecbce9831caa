"""Signed but odd XML: fields of the wrong shape or type are refused at the edge with one
log line (400 for a message, `success` for an event), never answered with an apology and
a traceback, and nothing is recorded."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, text

from bot import records
from bot.inbox.inbox import APOLOGY
from tests.conftest import settled, summary
from tests.wxfake import mass_job_finished

HEAD = "<ToUserName>gh_township</ToUserName><FromUserName>o-odd</FromUserName>"


def _message(inner: str, created: str | None = None) -> bytes:
    created = created or str(int(time.time()))
    return f"<xml>{HEAD}<CreateTime>{created}</CreateTime>{inner}</xml>".encode()


def _text(content_xml: str, extra: str = "") -> bytes:
    return _message(
        f"<MsgType>text</MsgType><Content>{content_xml}</Content>{extra}<MsgId>1</MsgId>"
    )


DEEP = "<a>" * 9000 + "x" + "</a>" * 9000

MESSAGES = {
    "element-in-content": _text("<b>老板拖欠工资</b>"),
    "attribute-on-content": _text("").replace(b"<Content>", b'<Content lang="zh">'),
    "duplicated-sender": _text("你好").replace(HEAD.encode(), (HEAD + HEAD[-39:]).encode()),
    "9000-nested-in-content": _text(DEEP),
    "9000-nested-elsewhere": _text("你好", f"<Extra>{DEEP}</Extra>"),
    "many-elements": _text("你好", "".join(f"<X{i}><y/></X{i}>" for i in range(1500))),
    "create-time-not-a-number": _text("你好").replace(b"<CreateTime>", b"<CreateTime>abc"),
    "msg-type-nested": _message(
        "<MsgType><t>text</t></MsgType><Content>x</Content><MsgId>1</MsgId>"
    ),
    "msg-id-not-a-number": _text("你好").replace(b"<MsgId>1</MsgId>", b"<MsgId>1e9x</MsgId>"),
}

EVENTS = {
    "mass-send-total-abc": _message(
        "<MsgType>event</MsgType><Event>MASSSENDJOBFINISH</Event><MsgID>1000001</MsgID>"
        "<Status>send success</Status><TotalCount>abc</TotalCount><FilterCount>1</FilterCount>"
        "<SentCount>1</SentCount><ErrorCount>0</ErrorCount>"
    ),
    "event-given-twice": _message(
        "<MsgType>event</MsgType><Event>subscribe</Event><Event>unsubscribe</Event>"
    ),
    "event-key-nested": _message(
        "<MsgType>event</MsgType><Event>CLICK</Event><EventKey><k>THEME_fraud</k></EventKey>"
    ),
}


def _check_quietly_refused(app, caplog, response) -> None:
    assert APOLOGY not in response.get_data(as_text=True)
    settled(app)  # a report handed on to its plug-in would be logged by now
    lines = [r for r in caplog.records if r.name.startswith("bot.")]
    assert [r.name for r in lines] == ["bot.inbox.webhook"], [r.getMessage() for r in lines]
    assert not any(r.exc_info for r in caplog.records)
    with settled(app).connect() as conn:
        assert conn.execute(text("select count(*) from events")).scalar() == 0
        assert conn.execute(text("select count(*) from followers")).scalar() == 0


@pytest.mark.parametrize("name", MESSAGES)
def test_an_odd_message_gets_400_and_one_log_line(app, plain, caplog, name):
    started = time.monotonic()
    reply = plain.post({}, raw_body=MESSAGES[name])
    assert reply.status == 400 and reply.body == "bad request"
    assert time.monotonic() - started < 2
    _check_quietly_refused(app, caplog, plain.client.post("/nowhere"))


@pytest.mark.parametrize("name", EVENTS)
def test_an_odd_event_gets_success_and_one_log_line(app, plain, caplog, name):
    reply = plain.post({}, raw_body=EVENTS[name])
    assert reply.status == 200 and reply.body == "success"
    if name == "mass-send-total-abc":
        assert "TotalCount" in caplog.records[-1].getMessage()
    _check_quietly_refused(app, caplog, plain.client.post("/nowhere"))


def test_a_well_formed_mass_send_report_is_still_taken(app, plain, caplog):
    reply = plain.event("gh_assistant", "MASSSENDJOBFINISH", **mass_job_finished(7, 3, 3, 3, 0))
    assert reply.status == 200 and reply.body == "success"
    assert not [r for r in caplog.records if r.name == "bot.inbox.webhook"]


def test_a_body_over_the_limit_gets_413(plain):
    huge = _text("你" * 30_000)
    assert len(huge) > 65_536
    assert plain.post({}, raw_body=huge).status == 413


@pytest.mark.parametrize("key", ["scanbarcode|EAN13|6901234567892", "scanimage|IMG|abc123"])
def test_a_follow_from_a_product_page_is_counted_as_a_follow(app, plain, key):
    reply = plain.event("o-product", "subscribe", key=key)
    assert reply.status == 200
    assert reply.content == app.extensions["legalbot"].answerer.welcome()
    assert summary(app)["subscribes"] == 1
    with settled(app).connect() as conn:
        row = conn.execute(select(records.Follower.subscribed, records.Follower.scene)).one()
        event = conn.execute(select(records.Event.kind, records.Event.event_key)).one()
    assert tuple(row) == (True, None)  # no QR code of the town's brought them
    assert tuple(event) == ("subscribe", key)
