"""Sending a campaign against the loopback WeChat fake: who gets it, how often, and what
the campaign says afterwards. The database (SQLite, and PostgreSQL where marked) is real."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import records
from bot.errors import CampaignError
from scheduler import store
from scheduler.sender import client_msg_id
from scheduler.service import Campaigns
from tests.campaignkit import add_followers, config_for, make_fake, wait_for


@pytest.fixture
def fake():
    with make_fake(40) as fake:
        yield fake


@pytest.fixture
def service_for(tmp_path, fake):
    made = []

    def build(db_url=None, **campaigns):
        service = Campaigns(config_for(tmp_path, fake, db_url=db_url, **campaigns))
        made.append(service)
        return service

    yield build
    for service in made:
        service.close()


def sent_to(fake) -> Counter:
    return Counter(openid for openid, _, _ in fake.sent)


def test_active48h_reaches_each_follower_in_the_window_once_and_counts_the_rest(
    service_for, fake, db_url
):
    service = service_for(db_url=db_url)
    inside, outside = fake.followers[:3], fake.followers[3:5]
    add_followers(service.config, inside)
    add_followers(service.config, outside[:1], active=False)
    add_followers(service.config, outside[1:], subscribed=False)
    campaign = service.create("反诈提醒", "fraud", "active48h", text="谨防冒充公检法诈骗")

    done = service.send(campaign["id"])

    assert sent_to(fake) == Counter(inside)
    assert {m for _, m, _ in fake.sent} == {"text"}
    assert (done["state"], done["recipients"], done["sent"], done["skipped"], done["failed"]) == (
        "sent",
        5,
        3,
        2,
        0,
    )


def test_followers_wechat_refuses_with_45015_are_counted_as_skipped(service_for, fake):
    service = service_for()
    add_followers(service.config, fake.followers[:4])
    fake.set_window({fake.followers[2]})
    campaign = service.create("禁毒日", "drugs", "active48h", text="远离毒品")

    done = service.send(campaign["id"])

    assert sent_to(fake) == Counter(fake.followers[:2] + fake.followers[3:4])
    assert (done["sent"], done["skipped"], done["failed"], done["state"]) == (3, 1, 0, "sent")


def test_token_expiry_mid_send_is_refreshed_once_and_nobody_is_missed(service_for, fake):
    service = service_for(concurrency=4)
    add_followers(service.config, fake.followers)
    fake.delay(0.01)
    campaign = service.create("宪法日", "constitution", "active48h", text="12月4日国家宪法日")
    expirer = threading.Thread(
        target=lambda: (wait_for(lambda: len(fake.sent) >= 10), fake.expire_tokens())
    )
    expirer.start()

    done = service.send(campaign["id"])
    expirer.join()

    assert sent_to(fake) == Counter(fake.followers)
    assert done["sent"] == 40 and done["failed"] == 0
    assert len(fake.tokens()) == 2  # the first token and one refresh, not one per thread


def test_quota_stop_pauses_the_campaign_and_a_later_send_finishes_it(service_for, fake):
    service = service_for(concurrency=2)
    add_followers(service.config, fake.followers[:12])
    fake.delay(0.02)
    campaign = service.create("消费日", "consumer", "active48h", text="3·15 消费者权益日")
    threading.Thread(
        target=lambda: (
            wait_for(lambda: len(fake.sent) >= 4),
            fake.fail_next(10**6, 45009, path="message/custom/send"),
        )
    ).start()

    paused = service.send(campaign["id"])

    assert paused["state"] == "paused" and "45009" in paused["error"]
    sends = [c for c in fake.calls if c[1].endswith("message/custom/send")]
    assert len(sends) - len(fake.sent) <= 2  # one refusal per worker, no retry storm
    assert 4 <= paused["sent"] < 12 and paused["failed"] == 0
    fake.clear_failures()

    done = service.send(campaign["id"])

    assert done["state"] == "sent" and done["error"] is None
    assert sent_to(fake) == Counter(fake.followers[:12])
    assert done["sent"] == 12


def test_an_unauthorised_account_fails_the_campaign_without_retrying(service_for, fake):
    service = service_for(concurrency=2)
    add_followers(service.config, fake.followers[:10])
    fake.fail_next(10**6, 48001, path="message/custom/send")
    campaign = service.create("法援", "legal_aid", "active48h", text="12348")

    done = service.send(campaign["id"])

    assert done["state"] == "failed" and "48001" in done["error"]
    assert len([c for c in fake.calls if c[1].endswith("custom/send")]) <= 2
    with pytest.raises(CampaignError, match="is failed"):
        service.send(campaign["id"])


def test_a_busy_wechat_is_retried_with_backoff(service_for, fake):
    service = service_for(concurrency=1)
    add_followers(service.config, fake.followers[:5])
    fake.fail_next(2, -1, path="message/custom/send")
    campaign = service.create("调解", "mediation", "active48h", text="人民调解不收费")

    done = service.send(campaign["id"])

    assert done["state"] == "sent" and done["failed"] == 0
    assert sent_to(fake) == Counter(fake.followers[:5])


def test_a_busy_spell_that_lasts_pauses_instead_of_hammering(service_for, fake):
    service = service_for(concurrency=2, retry_attempts=3)
    add_followers(service.config, fake.followers[:10])
    fake.fail_next(10**6, -1, path="message/custom/send")
    campaign = service.create("调解", "mediation", "active48h", text="人民调解不收费")

    done = service.send(campaign["id"])

    assert done["state"] == "paused" and "after 3 tries" in done["error"]
    assert len([c for c in fake.calls if c[1].endswith("custom/send")]) <= 2 * 3
    assert done["sent"] == 0 and done["failed"] == 0  # nothing lost: all still to send


def test_an_article_goes_to_customer_service_audiences_as_a_card(service_for, fake, tmp_path):
    service = service_for()
    add_followers(service.config, fake.followers[:2])
    card = tmp_path / "card.json"
    card.write_text(
        '{"title": "防范养老诈骗", "description": "六个要点", '
        '"url": "https://example.org/a", "picurl": "https://example.org/a.jpg"}'
    )
    campaign = service.create("养老诈骗", "fraud", "active48h", article=str(card))

    service.send(campaign["id"])

    assert sorted(fake.sent) == [(o, "news", "防范养老诈骗") for o in fake.followers[:2]]


def test_an_openids_file_reaches_exactly_its_openids_as_flagged_followers(
    service_for, fake, tmp_path
):
    service = service_for()
    listed = fake.followers[5:8]
    path = tmp_path / "testers.txt"
    path.write_text("# test phones\n" + "\n".join(listed + [listed[0], ""]) + "\n")
    campaign = service.create("试发", "fraud", "openids:" + str(path), text="测试消息")

    done = service.send(campaign["id"])

    assert sent_to(fake) == Counter(listed)
    assert (done["recipients"], done["sent"]) == (3, 3)
    with service.engine.connect() as conn:
        rows = conn.execute(select(records.Follower.imported, records.Follower.subscribed_at)).all()
        events = conn.execute(select(records.Event.id)).all()
    assert rows == [(True, None)] * 3 and events == []
    message = records.Interaction(
        openid=listed[0],
        user_id=records.pseudonym("k", listed[0]),
        dedupe_key="m1",
        kind="text",
        is_message=True,
    )
    assert records.record_batch(service.engine, [message]) == {"m1"}
    with service.engine.connect() as conn:
        flags = conn.execute(
            select(records.Follower.imported).where(records.Follower.openid == listed[0])
        ).scalar_one()
    assert flags is False  # a real message makes it a real follower


def test_a_mass_send_to_all_carries_the_campaign_clientmsgid_and_keeps_msg_id(
    service_for, fake, db_url
):
    service = service_for(db_url=db_url)
    campaign = service.create("宪法宣传周", "constitution", "all", text="弘扬宪法精神")

    done = service.send(campaign["id"])

    [(path, body, msg_id)] = fake.mass
    assert path == "sendall" and body["filter"]["is_to_all"] is True
    assert body["clientmsgid"].startswith(f"legalbot-{campaign['id']}-")
    assert body["text"]["content"] == "弘扬宪法精神"
    assert (done["state"], done["msg_id"], done["recipients"]) == ("sent", str(msg_id), 40)


def test_a_mass_send_wechat_already_accepted_is_not_sent_twice(service_for, fake):
    """The first run's request reached WeChat, then the process died before writing it."""
    service = service_for()
    campaign = service.create("宪法宣传周", "constitution", "all", text="弘扬宪法精神")
    row = store.get(service.engine, int(campaign["id"]))
    service.client.message.send_mass_text(
        None, "弘扬宪法精神", is_to_all=True, client_msg_id=client_msg_id(row)
    )

    done = service.send(campaign["id"])

    assert len(fake.mass) == 1
    assert done["state"] == "sent" and done["error"] is None


def test_a_tag_send_names_the_tag_and_an_unknown_tag_fails(service_for, fake):
    service = service_for()
    fake.tags = [{"id": 2, "name": "村干部", "count": 17}]
    ok = service.send(service.create("村干部", "land", "tag:2", text="土地征收")["id"])
    bad = service.send(service.create("无此组", "land", "tag:99", text="土地征收")["id"])

    [(_, body, _)] = fake.mass
    assert body["filter"] == {"is_to_all": False, "tag_id": 2}
    assert (ok["state"], ok["recipients"]) == ("sent", 17)
    assert bad["state"] == "failed" and "40050" in bad["error"]


def test_no_mass_quota_left_pauses_the_campaign(service_for, fake):
    service = service_for()
    fake.fail_next(1, 45028, path="message/mass/sendall")
    done = service.send(service.create("禁毒", "drugs", "all", text="6·26")["id"])
    assert done["state"] == "paused" and "45028" in done["error"]
    assert service.send(done["id"])["state"] == "sent"


def test_preview_reaches_only_the_test_openids(service_for, fake):
    service = service_for()
    add_followers(service.config, fake.followers)
    mass = service.create("宪法日", "constitution", "all", text="宪法日快乐")
    service_audience = service.create("提醒", "fraud", "active48h", text="谨防诈骗")
    testers = fake.followers[:2]

    assert service.preview(mass["id"], testers) == [(1, None), (2, None)]
    assert service.preview(service_audience["id"], testers + ["oUnknown0000000000000000000x"]) == [
        (1, None),
        (2, None),
        (3, "WeChat 40003: invalid openid"),
    ]

    assert [(p, b["touser"]) for p, b, _ in fake.mass] == [("preview", o) for o in testers]
    assert sent_to(fake) == Counter(testers)
    assert service.show(mass["id"])["state"] == "draft"


def test_a_send_by_hand_is_refused_while_another_process_sends(service_for, fake):
    service = service_for()
    add_followers(service.config, fake.followers[:3])
    campaign = service.create("提醒", "fraud", "active48h", text="谨防诈骗")
    stale = records.now() - timedelta(seconds=60)
    assert store.claim_send(service.engine, int(campaign["id"]), "elsewhere:1:x", ("draft",), stale)

    with pytest.raises(CampaignError, match="being sent by another process"):
        service.send(campaign["id"])
    assert fake.sent == []


def test_a_send_whose_process_died_on_this_machine_is_resumed_at_once(service_for, fake):
    import socket
    import subprocess

    service = service_for()
    add_followers(service.config, fake.followers[:3])
    campaign = service.create("提醒", "fraud", "active48h", text="谨防诈骗")
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = records.now() - timedelta(seconds=60)
    owner = f"{socket.gethostname()}:{gone.pid}:dead"
    assert store.claim_send(service.engine, int(campaign["id"]), owner, ("draft",), stale)

    assert service.send(campaign["id"])["state"] == "sent"
    assert sent_to(fake) == Counter(fake.followers[:3])


def test_cancelling_a_send_under_way_stops_it(service_for, fake):
    service = service_for(concurrency=2, lock_ttl_seconds=1.5)
    add_followers(service.config, fake.followers)
    fake.delay(0.05)
    campaign = service.create("提醒", "fraud", "active48h", text="谨防诈骗")
    threading.Thread(
        target=lambda: (wait_for(lambda: len(fake.sent) >= 4), service.cancel(campaign["id"]))
    ).start()

    done = service.send(campaign["id"])

    assert done["state"] == "cancelled"
    assert len(fake.sent) < 40 and max(sent_to(fake).values()) == 1


def test_a_digest_fits_one_message_and_names_each_entry(service_for):
    service = service_for()
    kb = service.knowledge()
    ids = [e.id for e in kb.entries[:12]]
    campaign = service.create("合集", "fraud", "all", entries=ids)

    text = service.message_text(campaign["id"])

    assert len(text.encode("utf-8")) <= 2048
    assert text.startswith("【合集】") and kb.by_id(ids[0]).title in text


def test_times_are_shown_in_the_configured_zone(service_for):
    service = service_for()
    campaign = service.create("定时", "fraud", "all", text="t", at="2099-12-04T09:00:00+00:00")
    assert campaign["scheduled_at"] == "2099-12-04T17:00:00+08:00"
    row = store.get(service.engine, int(campaign["id"]))
    assert store.as_utc(row.scheduled_at) == datetime(2099, 12, 4, 9, tzinfo=UTC)


def test_a_message_whose_answer_never_came_is_presumed_delivered_not_resent(service_for, fake):
    service = service_for(request_timeout_seconds=0.5, concurrency=3)
    add_followers(service.config, fake.followers[:3])
    campaign = service.create("提醒", "fraud", "active48h", text="谨防诈骗")
    service.client.fetch_access_token()
    fake.delay(1.0)  # WeChat takes the messages but answers after the client gave up

    done = service.send(campaign["id"])

    assert (done["state"], done["sent"], done["presumed"]) == ("sent", 3, 3)
    wait_for(lambda: fake.in_flight == 0)
    assert sent_to(fake) == Counter(fake.followers[:3])  # once each: no retry


def test_a_token_that_cannot_be_fetched_pauses_without_presuming_anything(service_for, fake):
    service = service_for(request_timeout_seconds=0.5, retry_attempts=2, concurrency=1)
    add_followers(service.config, fake.followers[:3])
    campaign = service.create("提醒", "fraud", "active48h", text="谨防诈骗")
    fake.delay(1.0)  # even the token request times out: no message can have left

    paused = service.send(campaign["id"])

    assert paused["state"] == "paused" and paused["presumed"] == 0 and paused["sent"] == 0
    fake.delay(0)
    assert service.send(campaign["id"])["sent"] == 3
    assert sent_to(fake) == Counter(fake.followers[:3])
