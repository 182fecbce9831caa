"""The /wechat protocol as WeChat's servers speak it: verification, three modes, retries,
forgeries and bad input. Requests are built by tests/wxdriver.py, independently of wechatpy."""

from __future__ import annotations

import io
import os
import threading
import time

from sqlalchemy import select, text

from bot import records
from tests.conftest import SAFE, TOKEN, settled, summary
from tests.wxdriver import message_xml, sha1_sign

FRAUD_QUESTION = "公安局打电话让转钱到安全账户是真的吗"


def _now() -> str:
    """A timestamp as WeChat signs one: now (an old one is refused, test_freshness.py)."""
    return str(int(time.time()))


def test_server_verification_echoes_echostr(client):
    query = {"timestamp": _now(), "nonce": "n1", "echostr": "hello-123"}
    query["signature"] = sha1_sign(TOKEN, query["timestamp"], query["nonce"])
    response = client.get("/wechat", query_string=query)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "hello-123"


def test_verification_with_wrong_signature_is_refused(client):
    query = {"timestamp": _now(), "nonce": "n1", "echostr": "x", "signature": "0" * 40}
    assert client.get("/wechat", query_string=query).status_code == 403
    assert client.get("/wechat").status_code == 403


def test_text_question_is_answered_in_every_mode(driver, app):
    reply = driver.text("o-resident-1", FRAUD_QUESTION)
    assert reply.status == 200
    assert reply.fields["MsgType"] == "text"
    assert reply.fields["ToUserName"] == "o-resident-1"
    assert "诈骗" in reply.content
    figures = summary(app)
    assert figures["messages_received"] == 1
    assert figures["answered"] == 1
    assert figures["by_theme"] == {"fraud": 1}


def test_retry_gets_the_same_reply_and_is_recorded_once(driver, app):
    first = driver.text("o-resident-2", FRAUD_QUESTION, msg_id=900001)
    again = [driver.text("o-resident-2", FRAUD_QUESTION, msg_id=900001) for _ in range(3)]
    assert all(r.content == first.content for r in again)
    figures = summary(app)
    assert figures["messages_received"] == 1
    assert figures["unique_users"] == 1


def test_concurrent_retries_are_handled_once(plain, app):
    replies = []

    def send():
        replies.append(plain.text("o-resident-3", "菜单", msg_id=900002))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.content for r in replies}) == 1
    assert summary(app)["messages_received"] == 1


def test_event_retry_is_recorded_once(driver, app):
    created = int(time.time()) - 3
    for _ in range(3):
        driver.event("o-follower-1", "subscribe", create_time=created)
    driver.event("o-follower-1", "CLICK", key="THEME_labor", create_time=created)
    driver.event("o-follower-1", "CLICK", key="THEME_labor", create_time=created)
    figures = summary(app)
    assert figures["subscribes"] == 1
    assert figures["menu_clicks"] == 1
    assert figures["messages_received"] == 0


def test_forged_signature_is_refused_and_nothing_recorded(driver, app):
    assert driver.text("o-forger", FRAUD_QUESTION, forge="signature").status == 403
    if driver.mode != "plain":
        assert driver.text("o-forger", FRAUD_QUESTION, forge="msg_signature").status == 403
    with settled(app).connect() as conn:
        assert conn.execute(text("select count(*) from events")).scalar() == 0
        assert conn.execute(text("select count(*) from followers")).scalar() == 0


def test_malformed_xml_gets_400(plain):
    assert plain.post({}, raw_body=b"<xml><ToUserName>broken").status == 400
    assert plain.post({}, raw_body=b"not xml at all").status == 400
    assert plain.post({}, raw_body=b"").status == 400
    assert plain.post({}, raw_body=b"<root><MsgType>text</MsgType></root>").status == 400
    no_type = b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime></xml>"
    assert plain.post({}, raw_body=no_type).status == 400
    no_msgid = b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content></xml>"
    assert plain.post({}, raw_body=no_msgid).status == 400


def test_entity_tricks_are_refused_quickly(plain):
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY a{i} "{"&a;" * 10 if i == 0 else f"&a{i - 1};" * 10}">' for i in range(9)
        )
        + "]><xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>&a8;</Content><MsgId>1</MsgId></xml>"
    )
    external = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>&x;</Content><MsgId>1</MsgId></xml>"
    )
    started = time.monotonic()
    assert plain.post({}, raw_body=laughs.encode()).status == 400
    assert plain.post({}, raw_body=external.encode()).status == 400
    assert time.monotonic() - started < 1.0


def test_dtd_words_typed_by_a_resident_are_a_message_not_an_attack(driver):
    reply = driver.text("o-typed", "<!DOCTYPE html> <!ENTITY> 老板拖了三个月工资不给")
    assert reply.status == 200
    assert "工资" in (reply.content or "")


def test_undeclared_entities_and_other_encodings_are_refused(plain):
    head = "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
    undeclared = head + "<MsgType>text</MsgType><Content>&x;</Content><MsgId>1</MsgId></xml>"
    assert plain.post({}, raw_body=undeclared.encode()).status == 400
    utf16 = head + "<MsgType>text</MsgType><Content>你好</Content><MsgId>1</MsgId></xml>"
    assert plain.post({}, raw_body=utf16.encode("utf-16")).status == 400
    other_root = "<message><MsgType>text</MsgType></message>"
    assert plain.post({}, raw_body=other_root.encode()).status == 400


def test_oversized_body_gets_413(plain):
    huge = b"<xml><Content>" + b"a" * 70_000 + b"</Content></xml>"
    assert plain.post({}, raw_body=huge).status == 413


def test_encrypted_message_with_broken_cipher_gets_400(build_app):
    client = build_app(wechat=SAFE).test_client()
    timestamp, nonce = _now(), "abc"
    cipher = "bm90IGEgcmVhbCBjaXBoZXJ0ZXh0"
    query = {
        "signature": sha1_sign(TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": sha1_sign(TOKEN, timestamp, nonce, cipher),
    }
    body = f"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{cipher}]]></Encrypt></xml>"
    response = client.post("/wechat", query_string=query, data=body)
    assert response.status_code == 400


def test_voice_uses_wechat_recognition(driver, app):
    reply = driver.voice("o-voice", "老板拖了三个月工资不给咋办")
    assert reply.status == 200 and reply.content
    assert summary(app)["answered"] == 1
    assert summary(app)["by_theme"] == {"labor": 1}


def test_voice_without_recognition_asks_to_type(plain):
    reply = plain.voice("o-voice", None)
    assert "打字" in reply.content


def test_subscribe_welcomes_and_records_the_qr_scene(driver, app):
    reply = driver.event("o-new", "subscribe", key="qrscene_market-2026-05")
    assert "菜单" in reply.content or "1" in reply.content
    with settled(app).connect() as conn:
        row = conn.execute(select(records.Follower.subscribed, records.Follower.scene)).one()
        event_scene = conn.execute(select(records.Event.scene)).scalar()
    assert tuple(row) == (True, "market-2026-05")
    assert event_scene == "market-2026-05"
    assert summary(app)["subscribes"] == 1


def test_unsubscribe_is_recorded(plain, app):
    plain.event("o-leaving", "subscribe")
    reply = plain.event("o-leaving", "unsubscribe", create_time=int(time.time()) + 1)
    assert reply.body == "success"
    with settled(app).connect() as conn:
        assert conn.execute(select(records.Follower.subscribed)).scalar() is False
    assert summary(app)["unsubscribes"] == 1


def test_menu_click_opens_the_theme(plain, app):
    reply = plain.event("o-clicker", "CLICK", key="THEME_labor")
    names = app.extensions["legalbot"].knowledge.current().themes
    assert names["labor"] in reply.content
    assert summary(app)["menu_clicks"] == 1


def test_view_is_recorded_without_reply(plain, app):
    reply = plain.event("o-viewer", "VIEW", key="https://example.org/article")
    assert reply.body == "success"
    with settled(app).connect() as conn:
        assert conn.execute(select(records.Event.kind)).scalar() == "view"


def test_media_messages_get_a_polite_pointer_to_the_menu(plain, app):
    extra = {
        "image": {"PicUrl": "http://x/a.jpg", "MediaId": "m1"},
        "location": {"Location_X": "36.5", "Location_Y": "101.7", "Scale": "15", "Label": "甘河滩"},
        "link": {"Title": "t", "Description": "d", "Url": "http://x"},
        "video": {"MediaId": "m2", "ThumbMediaId": "t2"},
        "shortvideo": {"MediaId": "m3", "ThumbMediaId": "t3"},
    }
    for number, (msg_type, fields) in enumerate(extra.items()):
        message = plain.base("o-media", msg_type) | fields | {"MsgId": 910000 + number}
        reply = plain.post(message)
        assert reply.status == 200
        assert "菜单" in reply.content
    assert summary(app)["messages_received"] == 5


def test_unknown_event_is_accepted(plain):
    assert plain.event("o-x", "some_new_event").body == "success"


def test_openid_is_kept_only_in_followers(plain, app):
    openid = "o-private-openid-42"
    plain.text(openid, FRAUD_QUESTION)
    plain.text(openid, "今天天气怎么样呀")
    plain.event(openid, "CLICK", key="THEME_fraud")
    engine = settled(app)
    with engine.connect() as conn:
        for table in records.Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in row._mapping.items():
                    if table.name == "followers" and column == "openid":
                        continue
                    assert openid not in str(value), f"{table.name}.{column} holds the OpenID"


def test_unanswered_questions_are_kept_for_staff(plain, app):
    for _ in range(2):
        plain.text("o-asker", "明天会下雨吗我要去赶集")
    settled(app)
    top = summary(app)["top_unanswered"]
    assert [(q["text"], q["count"]) for q in top] == [("明天会下雨吗我要去赶集", 2)]


def test_two_different_clicks_in_one_second_are_two_events(plain, app):
    second = int(time.time()) - 5
    plain.event("o-clicker", "CLICK", key="THEME_labor", create_time=second)
    plain.event("o-clicker", "CLICK", key="THEME_fraud", create_time=second)
    plain.event("o-clicker", "CLICK", key="THEME_fraud", create_time=second)  # a retry
    assert summary(app)["menu_clicks"] == 2


def test_an_event_without_its_event_field_is_not_a_message(plain, app):
    reply = plain.post(plain.base("o-odd", "event"))
    assert reply.status == 200 and reply.body == "success"
    assert summary(app)["messages_received"] == 0


def test_every_response_carries_its_own_request_id(client):
    ids = [
        client.get("/healthz").headers.get("X-Request-Id"),
        client.get("/nowhere").headers.get("X-Request-Id"),
        client.post("/wechat", data=b"<xml>" + b"a" * 70_000).headers.get("X-Request-Id"),
    ]
    assert all(ids) and len(set(ids)) == 3
    pid = f"{os.getpid():x}-"
    assert all(i.startswith(pid) for i in ids)


def test_http_errors_are_one_plain_line(client):
    for response in (client.get("/nowhere"), client.put("/wechat")):
        assert response.content_type.startswith("text/plain")
        assert "<" not in response.get_data(as_text=True)
    assert client.get("/nowhere").status_code == 404
    assert client.put("/wechat").status_code == 405


def test_head_options_and_other_methods_on_the_webhook(client):
    query = {"timestamp": _now(), "nonce": "n1", "echostr": "hello-123"}
    query["signature"] = sha1_sign(TOKEN, query["timestamp"], query["nonce"])
    head = client.head("/wechat", query_string=query)
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == str(len("hello-123"))
    options = client.options("/wechat")
    assert options.status_code == 200
    assert set(options.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    refused = client.delete("/wechat")
    assert refused.status_code == 405 and "POST" in refused.headers["Allow"]
    assert refused.get_data(as_text=True) == "405 method not allowed"


def _call(app, body: bytes, **environ_extra) -> tuple[str, bytes]:
    """Call the WSGI app as a server would, with a signed plaintext query."""
    timestamp, nonce = _now(), os.urandom(4).hex()
    signature = sha1_sign(TOKEN, timestamp, nonce)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/wechat",
        "QUERY_STRING": f"signature={signature}&timestamp={timestamp}&nonce={nonce}",
        "SERVER_NAME": "test",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        **environ_extra,
    }
    statuses = []
    out = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return statuses[0], out


def test_a_body_cut_short_gets_400_and_nothing_is_recorded(app, plain):
    fields = {**plain.base("o-cut", "text"), "Content": "你好", "MsgId": 900100}
    whole = message_xml(fields).encode()
    # The client said how long the body is, then went away mid-body.
    status, body = _call(app, whole[:20], CONTENT_LENGTH=str(len(whole)))
    assert status.startswith("400") and b"<" not in body
    assert summary(app)["messages_received"] == 0


def test_an_oversized_chunked_body_gets_413_too(app, plain):
    fields = {**plain.base("o-big", "text"), "Content": "你" * 30_000, "MsgId": 900101}
    huge = message_xml(fields).encode()  # no Content-Length: the server de-chunks it
    status, body = _call(app, huge, **{"wsgi.input_terminated": True})
    assert status.startswith("413") and body == b"413 request entity too large"
    fits = message_xml({**fields, "Content": "法律援助怎么申请"}).encode()
    status, body = _call(app, fits, **{"wsgi.input_terminated": True})
    assert status.startswith("200") and body.startswith(b"<xml>")
    assert summary(app)["messages_received"] == 1
