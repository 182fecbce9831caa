"""Several worker processes behind one account: Redis state and PostgreSQL records.

Two apps built from the same configuration stand for two gunicorn workers; WeChat's
retry may reach either of them.
"""

from __future__ import annotations

from tests.conftest import TOKEN, settled, summary
from tests.wxdriver import Driver

QUESTION = "公安局打电话让转钱到安全账户是真的吗"


def _workers(build_app, **sections):
    """Two apps from one configuration, and a driver for each."""
    first = build_app(**sections)
    second = build_app(**sections)
    drivers = (
        Driver(first.test_client(), TOKEN, mode="plain"),
        Driver(second.test_client(), TOKEN, mode="plain"),
    )
    return (*drivers, first, second)


def _figures(first, second) -> dict:
    """The first app's figures once the second's recorder has committed too."""
    settled(second)
    return summary(first)


def test_retry_on_another_worker_gets_the_same_reply_once(build_app, redis_url, redis_prefix):
    one, two, app, other = _workers(build_app, redis={"url": redis_url, "prefix": redis_prefix})
    first = one.text("o-a", QUESTION, msg_id=777001)
    retry = two.text("o-a", QUESTION, msg_id=777001)
    assert retry.content == first.content
    assert _figures(app, other)["messages_received"] == 1


def test_conversation_state_is_shared_between_workers(build_app, redis_url, redis_prefix):
    one, two, app, other = _workers(build_app, redis={"url": redis_url, "prefix": redis_prefix})
    one.event("o-b", "CLICK", key="THEME_labor")
    reply = two.text("o-b", "1")
    kb = app.extensions["legalbot"].knowledge.current()
    labor_titles = [entry.title for entry in kb.entries if entry.theme == "labor"]
    assert any(title in reply.content for title in labor_titles)
    assert _figures(app, other)["by_theme"] == {"labor": 1}


def test_records_on_postgresql_count_retries_once(build_app, pg_url, redis_url, redis_prefix):
    one, two, app, other = _workers(
        build_app, database={"url": pg_url}, redis={"url": redis_url, "prefix": redis_prefix}
    )
    for driver in (one, two, one):
        driver.text("o-c", QUESTION, msg_id=777002)
    one.event("o-c", "subscribe", key="qrscene_lecture-school", create_time=1_760_000_000)
    two.event("o-c", "subscribe", key="qrscene_lecture-school", create_time=1_760_000_000)
    one.text("o-d", "明天会下雪吗")
    figures = _figures(app, other)
    assert figures["messages_received"] == 2
    assert figures["unique_users"] == 2
    assert figures["answered"] == 1 and figures["unanswered"] == 1
    assert figures["subscribes"] == 1
    assert [q["text"] for q in figures["top_unanswered"]] == ["明天会下雪吗"]


def test_token_storage_is_shared_through_redis(build_app, redis_url, redis_prefix):
    first = build_app(redis={"url": redis_url, "prefix": redis_prefix})
    second = build_app(redis={"url": redis_url, "prefix": redis_prefix})
    storage_one = first.extensions["legalbot"].state.token_storage()
    storage_two = second.extensions["legalbot"].state.token_storage()
    storage_one.set("probe_access_token", "T-123", 60)
    assert storage_two.get("probe_access_token") == "T-123"


def test_healthz_reports_database_and_redis(build_app, redis_url, redis_prefix):
    healthy = build_app(redis={"url": redis_url, "prefix": redis_prefix}).test_client()
    response = healthy.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["redis"] == "ok"
    broken = build_app(redis={"url": "redis://127.0.0.1:1/0"}).test_client()
    response = broken.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["redis"] == "error"
