"""The WeChat client against the loopback fake: real HTTP, real wechatpy, no mocks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis
from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage

from bot.errors import WeChatAPIError
from bot.state import RedisState
from bot.wechat.client import make_client, send_text, wechat_errors
from tests.wxfake import FakeWeChat, fake_openid

CUSTOM_SEND = "message/custom/send"


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with FakeWeChat() as server:
        yield server


@pytest.fixture
def redis_state(redis_url, redis_prefix) -> RedisState:
    """RedisState on the real Redis (db 15) under this test's own prefix (conftest cleans it)."""
    return RedisState(redis.Redis.from_url(redis_url), prefix=redis_prefix)


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> SessionStorage:
    if request.param == "memory":
        return MemoryStorage()
    return request.getfixturevalue("redis_state").token_storage()


def client_for(fake: FakeWeChat, storage: SessionStorage | None = None, **kwargs):
    return make_client(fake.appid, fake.secret, fake.base_url, storage or MemoryStorage(), **kwargs)


def token_calls(fake: FakeWeChat) -> list[tuple]:
    return [call for call in fake.calls if call[1] == "/cgi-bin/token"]


def test_token_is_fetched_from_the_configured_base_not_production(fake):
    client = client_for(fake)
    assert fake.base_url == client.API_BASE_URL

    token = client.access_token

    assert token in fake.tokens()
    [(method, _, query, _)] = token_calls(fake)
    assert method == "GET"
    assert query == {"grant_type": "client_credential", "appid": fake.appid, "secret": fake.secret}


def test_one_token_is_shared_by_clients_on_the_same_storage(fake, storage):
    first, second = client_for(fake, storage), client_for(fake, storage)

    send_text(first, fake.followers[0], "您好")
    send_text(second, fake.followers[1], "您好")
    send_text(first, fake.followers[2], "您好")

    assert len(token_calls(fake)) == 1
    assert len(fake.sent) == 3
    assert {call[2]["access_token"] for call in fake.calls[1:]} == set(fake.tokens())


def test_token_in_redis_expires_with_wechats_expires_in(fake, redis_state):
    client = client_for(fake, redis_state.token_storage())
    client.fetch_access_token()

    key = f"{redis_state._prefix}wechatpy:{fake.appid}_access_token"
    assert 7100 < redis_state._redis.ttl(key) <= 7200


def test_expired_token_is_refreshed_and_the_message_still_goes(fake, storage):
    client = client_for(fake, storage)
    send_text(client, fake.followers[0], "第一条")
    fake.expire_tokens()

    send_text(client, fake.followers[0], "第二条")

    assert [content for _, _, content in fake.sent] == ["第一条", "第二条"]
    assert len(fake.tokens()) == 2
    assert storage.get(client.access_token_key) == fake.tokens()[-1]


def test_a_peer_sees_the_refreshed_token_without_fetching_again(fake, storage):
    first, second = client_for(fake, storage), client_for(fake, storage)
    send_text(first, fake.followers[0], "a")
    fake.expire_tokens()
    send_text(first, fake.followers[0], "b")  # refreshes the shared token

    send_text(second, fake.followers[1], "c")

    assert len(token_calls(fake)) == 2
    assert len(fake.sent) == 3


def test_threads_that_hit_one_expiry_fetch_one_new_token(fake):
    fake.followers = [fake_openid(i) for i in range(80)]
    client = client_for(fake)
    client.fetch_access_token()
    fake.expire_tokens()

    def send_ten(first: int) -> None:
        for openid in fake.followers[first : first + 10]:
            send_text(client, openid, "通知")

    workers = [threading.Thread(target=send_ten, args=(n * 10,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert len(fake.sent) == 80
    assert len(fake.tokens()) == 2


def test_a_token_refused_twice_is_retried_only_once(fake):
    """wechatpy alone would fetch a token per refusal, without limit (RecursionError)."""
    client = client_for(fake)
    client.fetch_access_token()
    fake.fail_next(5, 42001, path=CUSTOM_SEND)

    with pytest.raises(WeChatAPIError) as caught:
        send_text(client, fake.followers[0], "hello")

    assert caught.value.errcode == 42001
    assert len(token_calls(fake)) == 2
    assert fake.sent == []


def test_sent_text_is_recorded_by_wechat(fake):
    send_text(client_for(fake), fake.followers[1], "劳动合同到期不续签，可以要求经济补偿。")

    assert fake.sent == [(fake.followers[1], "text", "劳动合同到期不续签，可以要求经济补偿。")]


def test_user_outside_the_48_hour_window_raises_45015(fake):
    fake.set_window(openids_outside={fake.followers[0]})

    with pytest.raises(WeChatAPIError) as caught:
        send_text(client_for(fake), fake.followers[0], "迟到的回答")

    assert caught.value.errcode == 45015
    assert caught.value.errmsg.startswith("response out of time limit")
    assert fake.sent == []


@pytest.mark.parametrize(
    ("openid", "text", "errcode"),
    [(fake_openid(99), "hi", 40003), (fake_openid(0), "法" * 683, 45002)],
    ids=["unknown-openid", "over-2048-bytes"],
)
def test_refused_messages_carry_wechats_errcode(fake, openid, text, errcode):
    with pytest.raises(WeChatAPIError) as caught:
        send_text(client_for(fake), openid, text)

    assert caught.value.errcode == errcode


def test_system_error_surfaces_as_wechat_api_error(fake):
    fake.fail_next(1, -1, path=CUSTOM_SEND)

    with pytest.raises(WeChatAPIError) as caught:
        send_text(client_for(fake), fake.followers[0], "hello")

    assert caught.value.errcode == -1
    assert fake.sent == []


def test_wrong_secret_is_reported_when_the_token_is_fetched(fake):
    client = make_client(fake.appid, "not-the-secret", fake.base_url, MemoryStorage())

    with pytest.raises(WeChatAPIError) as caught:
        send_text(client, fake.followers[0], "hello")

    assert caught.value.errcode == 40125


def test_a_silent_api_times_out_instead_of_hanging(fake):
    """wechatpy's own token fetch passes no timeout; ours must not wait forever."""
    client = client_for(fake, timeout=0.2)
    fake.delay(1.0)

    started = time.monotonic()
    with pytest.raises(WeChatAPIError) as caught:
        send_text(client, fake.followers[0], "hello")

    assert caught.value.errcode == -1
    assert time.monotonic() - started < 0.9
    fake.delay(0)


# The fake's mass-sending side, as campaigns will use it through wechatpy.


def test_followers_come_in_pages_until_an_empty_one():
    with FakeWeChat(followers=[fake_openid(i) for i in range(5)]) as fake:
        fake.page_size = 2
        assert list(client_for(fake).user.iter_followers()) == fake.followers
        assert len([c for c in fake.calls if c[1] == "/cgi-bin/user/get"]) == 4


def test_a_repeated_clientmsgid_is_refused_with_45065(fake):
    client = client_for(fake)
    answer = client.message.send_mass_text(fake.followers[:2], "普法讲座", client_msg_id="c-1")
    assert answer["errmsg"] == "send job submission success" and "msg_id" in answer

    with pytest.raises(WeChatAPIError) as caught, wechat_errors():
        client.message.send_mass_text(fake.followers[:2], "普法讲座", client_msg_id="c-1")
    assert caught.value.errcode == 45065

    fake.advance(24 * 3600)
    client.message.send_mass_text(fake.followers[:2], "普法讲座", client_msg_id="c-1")
    assert len(fake.mass) == 2
    assert client.message.get_mass(answer["msg_id"])["msg_status"] == "SEND_SUCCESS"


def test_quota_exhaustion_is_answered_on_demand(fake):
    client = client_for(fake)
    fake.fail_next(1, 45009, path="message/mass/sendall")

    with pytest.raises(WeChatAPIError) as caught, wechat_errors():
        client.message.send_mass_text(2, "普法讲座", client_msg_id="c-2")

    assert caught.value.errcode == 45009
    assert client.tag.get() == fake.tags
