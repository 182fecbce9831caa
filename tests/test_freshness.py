"""Replays and forged requests: a signed request is fresh, its (timestamp, nonce) goes with
one body only, and with an AES key configured nothing arrives in plaintext."""

from __future__ import annotations

import os
import time

import pytest
import redis
from sqlalchemy import text

from tests.conftest import AES_KEY, APPID, SAFE, TOKEN, settled, summary
from tests.wxdriver import Driver, encrypt, message_xml, sha1_sign

QUESTION = "老板拖了三个月工资不给"


def _body(openid: str, msg_id: int, content: str = QUESTION) -> bytes:
    fields = {
        "ToUserName": "gh_township",
        "FromUserName": openid,
        "CreateTime": int(time.time()),
        "MsgType": "text",
        "Content": content,
        "MsgId": msg_id,
    }
    return message_xml(fields).encode()


def _query(timestamp: int | None = None, nonce: str | None = None, **extra) -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or os.urandom(5).hex()
    return {
        "signature": sha1_sign(TOKEN, stamp, nonce),
        "timestamp": stamp,
        "nonce": nonce,
        **extra,
    }


def _post(client, query: dict, body: bytes):
    return client.post("/wechat", query_string=query, data=body, content_type="text/xml")


def _events(app) -> int:
    with settled(app).connect() as conn:
        return conn.execute(text("select count(*) from events")).scalar()


@pytest.mark.parametrize(
    "when",
    ["2010", "2100", "5-minutes-ago", "5-minutes-ahead"],
)
def test_a_signed_request_from_another_time_is_refused(app, caplog, when):
    now = int(time.time())  # at run time: collection may be minutes earlier
    moment = {"2010": 1262304000, "2100": 4102444800}.get(when) or (
        now - 310 if when.endswith("ago") else now + 310
    )
    client = app.test_client()
    refused = _post(client, _query(moment), _body("o-old", 51_000))
    assert refused.status_code == 403
    echo = client.get("/wechat", query_string=_query(moment, echostr="hi"))
    assert echo.status_code == 403 and echo.get_data(as_text=True) != "hi"
    assert _events(app) == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.inbox.webhook"]
    assert len(lines) == 2 and all("timestamp" in line for line in lines)


def test_a_few_minutes_of_clock_difference_are_accepted(app):
    client = app.test_client()
    for offset, msg_id in ((-240, 51_100), (240, 51_101)):
        reply = _post(client, _query(int(time.time()) + offset), _body("o-clock", msg_id))
        assert reply.status_code == 200 and "工资" in reply.get_data(as_text=True)
    assert _events(app) == 2


@pytest.fixture(params=["in-process", "redis"])
def state_app(request, build_app):
    if request.param == "in-process":
        return build_app()
    url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
    app = build_app(redis={"url": url, "prefix": prefix})
    app.redis_keys = lambda: {
        k.decode(): redis.Redis.from_url(url).pttl(k)
        for k in redis.Redis.from_url(url).scan_iter(prefix + "seen:*")
    }
    return app


def test_the_same_request_again_is_a_retry_with_the_same_reply(state_app):
    client = state_app.test_client()
    query, body = _query(), _body("o-retry", 52_000)
    first = _post(client, query, body)
    again = _post(client, query, body)
    assert first.status_code == again.status_code == 200
    assert first.get_data() == again.get_data()
    assert summary(state_app)["messages_received"] == 1


def test_a_captured_query_with_another_body_is_refused(state_app, caplog):
    client = state_app.test_client()
    query = _query()
    assert _post(client, query, _body("o-real", 52_100, "你好")).status_code == 200
    # The attacker posts another resident's message, and a follow, under the same query.
    forged = _post(client, query, _body("o-victim", 52_101))
    subscribe = message_xml(
        {"ToUserName": "gh", "FromUserName": "o-victim", "CreateTime": int(time.time()),
         "MsgType": "event", "Event": "subscribe"}
    ).encode()  # fmt: skip
    forged_follow = _post(client, query, subscribe)
    assert forged.status_code == forged_follow.status_code == 403
    assert _events(state_app) == 1  # the real message only
    assert any("another body" in r.getMessage() for r in caplog.records)
    if hasattr(state_app, "redis_keys"):
        remembered = state_app.redis_keys()
        assert len(remembered) == 1
        assert 0 < next(iter(remembered.values())) <= 301_000  # until the timestamp is stale


def test_with_an_aes_key_plaintext_is_refused(build_app):
    app = build_app(wechat=SAFE)
    client = app.test_client()
    plain = _post(client, _query(), _body("o-plain", 53_000))
    assert plain.status_code == 403
    # encrypt_type without msg_signature is no better
    no_msg_signature = _post(client, _query(encrypt_type="aes"), _body("o-plain", 53_001))
    assert no_msg_signature.status_code == 403
    assert _events(app) == 0
    # compatible and safe mode are still answered
    for mode in ("compat", "safe"):
        reply = Driver(client, TOKEN, mode=mode, aes_key=AES_KEY, appid=APPID).text("o-s", QUESTION)
        assert reply.status == 200 and "工资" in reply.content
    assert _events(app) == 2


def test_an_encrypted_replay_with_another_cipher_is_refused(build_app):
    app = build_app(wechat=SAFE)
    client = app.test_client()
    stamp, nonce = str(int(time.time())), "n-safe-1"
    cipher = encrypt(AES_KEY, APPID, _body("o-safe", 53_100).decode())
    query = {
        "signature": sha1_sign(TOKEN, stamp, nonce),
        "timestamp": stamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": sha1_sign(TOKEN, stamp, nonce, cipher),
    }
    envelope = message_xml({"ToUserName": "gh", "Encrypt": cipher}).encode()
    first = _post(client, query, envelope)
    again = _post(client, query, envelope)  # WeChat's retry
    assert first.status_code == again.status_code == 200
    other = encrypt(AES_KEY, APPID, _body("o-safe", 53_101).decode())
    swapped = message_xml({"ToUserName": "gh", "Encrypt": other}).encode()
    assert _post(client, query, swapped).status_code == 403  # msg_signature covers the cipher
    assert summary(app)["messages_received"] == 1


def test_the_drivers_sign_with_the_current_time(client):
    sent = []

    class Recording:
        def post(self, path, query_string, data, content_type):
            sent.append(int(query_string["timestamp"]))
            return client.post(
                path, query_string=query_string, data=data, content_type=content_type
            )

    reply = Driver(Recording(), TOKEN).text("o-now", QUESTION)
    assert reply.status == 200 and abs(sent[0] - time.time()) < 5
