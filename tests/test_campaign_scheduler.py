"""The scheduler for real: APScheduler on the project database, runs a few seconds ahead,
downtime, two schedulers, and changes made by other processes (the CLI)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot import records
from scheduler import models, store
from scheduler.runner import Runner
from scheduler.service import Campaigns
from tests.campaignkit import (
    LEGALBOT,
    add_followers,
    config_for,
    legalbot,
    make_fake,
    soon,
    wait_for,
    write_config,
)
from tests.conftest import ROOT


@pytest.fixture
def fake():
    with make_fake(30) as fake:
        yield fake


@pytest.fixture
def runners():
    """Start runners in this process; each is shut down at the end."""
    started = []

    def start(config):
        runner = Runner(config).start()
        started.append(runner)
        wait_for(runner.leader.is_set)
        return runner

    yield start
    for runner in started:
        runner.shutdown()


def state_of(service, campaign_id) -> str:
    return service.show(campaign_id)["state"]


def has_job(config, campaign_id) -> bool:
    engine = records.make_engine(config.database_url)
    with engine.connect() as conn:
        found = conn.execute(
            select(models.SchedulerJob.id).where(
                models.SchedulerJob.id == f"campaign-{campaign_id}"
            )
        ).first()
    engine.dispose()
    return found is not None


def sent_to(fake) -> Counter:
    return Counter(o for o, _, _ in fake.sent)


def test_a_campaign_scheduled_seconds_ahead_is_sent_then(tmp_path, fake, runners):
    config = config_for(tmp_path, fake)
    service = Campaigns(config)
    add_followers(config, fake.followers[:5])
    runners(config)
    campaign = service.create("反诈", "fraud", "active48h", text="谨防诈骗", at=soon(2, config.tz))

    wait_for(lambda: state_of(service, campaign["id"]) == "sent")

    done = service.show(campaign["id"])
    assert done["started_at"] >= done["scheduled_at"]  # not early
    assert sent_to(fake) == Counter(fake.followers[:5])
    assert not has_job(config, campaign["id"])


def test_down_at_the_time_but_back_within_the_grace_sends_once(tmp_path, fake, runners):
    config = config_for(tmp_path, fake, misfire_grace_seconds=60)
    service = Campaigns(config)
    add_followers(config, fake.followers[:5])
    first = runners(config)
    campaign = service.create("禁毒", "drugs", "active48h", text="远离毒品", at=soon(2, config.tz))
    wait_for(lambda: has_job(config, campaign["id"]))
    first.shutdown()  # the scheduler is down at the campaign's time…
    time.sleep(4)
    assert fake.sent == []

    runners(config)  # …and back 2 s after it: the job in the store is run once

    wait_for(lambda: state_of(service, campaign["id"]) == "sent")
    assert sent_to(fake) == Counter(fake.followers[:5])


def test_down_past_the_grace_the_campaign_is_missed_not_sent_late(tmp_path, fake, runners):
    config = config_for(tmp_path, fake, misfire_grace_seconds=1)
    service = Campaigns(config)
    add_followers(config, fake.followers[:5])
    first = runners(config)
    campaign = service.create("禁毒", "drugs", "active48h", text="远离毒品", at=soon(2, config.tz))
    wait_for(lambda: has_job(config, campaign["id"]))
    first.shutdown()
    time.sleep(5)

    runners(config)

    wait_for(lambda: state_of(service, campaign["id"]) == "missed")
    assert "missed" in service.show(campaign["id"])["error"]
    time.sleep(1)
    assert fake.sent == []


def _cron_fell_due(service, campaign_id, minutes_ago: float) -> datetime:
    """Pretend the recurring campaign's run fell due `minutes_ago` while no scheduler ran."""
    due = (datetime.now(service.tz) - timedelta(minutes=minutes_ago)).replace(
        second=0, microsecond=0
    )
    store.transition(service.engine, int(campaign_id), ("scheduled",), bump=False, scheduled_at=due)
    return due


def test_a_recurring_campaign_sends_each_occurrence_as_its_own_campaign(tmp_path, fake, runners):
    config = config_for(tmp_path, fake, misfire_grace_seconds=600)
    service = Campaigns(config)
    add_followers(config, fake.followers[:3])
    due = datetime.now(config.tz) - timedelta(seconds=30)
    weekly = service.create(
        "每日一法",
        "constitution",
        "active48h",
        text="今日一法",
        cron=f"{due.minute} {due.hour} * * *",
    )
    due = _cron_fell_due(service, weekly["id"], 0.5)

    runners(config)

    occurrence = wait_for(
        lambda: [
            c for c in service.list_all() if c["parent_id"] == weekly["id"] and c["state"] == "sent"
        ]
    )[0]
    assert occurrence["scheduled_at"] == due.isoformat(timespec="seconds")
    parent = service.show(weekly["id"])
    assert parent["state"] == "scheduled"
    assert parent["scheduled_at"] == (due + timedelta(days=1)).isoformat(timespec="seconds")
    assert sent_to(fake) == Counter(fake.followers[:3])


def test_a_recurring_occurrence_past_the_grace_is_missed_and_the_next_one_kept(
    tmp_path, fake, runners
):
    config = config_for(tmp_path, fake, misfire_grace_seconds=60)
    service = Campaigns(config)
    due = datetime.now(config.tz) - timedelta(minutes=10)
    daily = service.create(
        "每日一法", "constitution", "all", text="今日一法", cron=f"{due.minute} {due.hour} * * *"
    )
    due = _cron_fell_due(service, daily["id"], 10)

    runners(config)

    missed = wait_for(lambda: [c for c in service.list_all() if c["parent_id"] == daily["id"]])[0]
    assert missed["state"] == "missed" and missed["scheduled_at"] == due.isoformat(
        timespec="seconds"
    )
    parent = wait_for(
        lambda: (p := service.show(daily["id"]))["scheduled_at"] > due.isoformat() and p
    )
    assert parent["state"] == "scheduled"
    assert fake.mass == []


def test_a_campaign_cancelled_by_the_cli_is_not_sent_by_a_running_scheduler(
    tmp_path, fake, runners
):
    config = config_for(tmp_path, fake)
    env = write_config(tmp_path, fake)
    service = Campaigns(config)
    runners(config)
    at = datetime.now(config.tz) + timedelta(seconds=10)
    campaign = service.create("宪法日", "constitution", "all", text="宪法", at=at.isoformat())
    wait_for(lambda: has_job(config, campaign["id"]))

    cancelled = legalbot(env, "campaign", "cancel", campaign["id"])

    assert cancelled.returncode == 0, cancelled.stderr
    wait_for(lambda: not has_job(config, campaign["id"]))
    time.sleep(max((at - datetime.now(config.tz)).total_seconds(), 0) + 2)
    assert fake.mass == [] and service.show(campaign["id"])["state"] == "cancelled"


def test_a_reschedule_by_the_cli_is_picked_up_within_the_poll_interval(tmp_path, fake, runners):
    config = config_for(tmp_path, fake, poll_seconds=1)
    env = write_config(tmp_path, fake, poll_seconds=1)
    runners(config)
    created = legalbot(
        env,
        "campaign",
        "create",
        "--name",
        "消费日",
        "--theme",
        "consumer",
        "--audience",
        "all",
        "--text",
        "3·15",
        "--at",
        soon(3600, config.tz),
    )
    assert created.returncode == 0, created.stderr
    campaign_id = created.stdout.strip()
    wait_for(lambda: has_job(config, campaign_id))

    moved = legalbot(env, "campaign", "schedule", campaign_id, "--at", soon(6, config.tz))

    assert moved.returncode == 0, moved.stderr
    wait_for(lambda: Campaigns(config).show(campaign_id)["state"] == "sent")
    assert len(fake.mass) == 1


def test_a_send_by_hand_while_the_scheduler_fires_reaches_each_resident_once(
    tmp_path, fake, runners
):
    config = config_for(tmp_path, fake, concurrency=2)
    env = write_config(tmp_path, fake, concurrency=2)
    add_followers(config, fake.followers)
    service = Campaigns(config)
    runners(config)
    campaign = service.create("反诈", "fraud", "active48h", text="谨防诈骗", at=soon(3, config.tz))
    wait_for(lambda: has_job(config, campaign["id"]))
    fake.delay(0.1)  # the send by hand is still going when the scheduler's time comes

    by_hand = legalbot(env, "campaign", "send", campaign["id"])

    assert by_hand.returncode == 0, by_hand.stderr
    time.sleep(2)
    assert sent_to(fake) == Counter(fake.followers)
    assert service.show(campaign["id"])["sent"] == 30


def test_a_scheduler_stopping_mid_send_hands_over_and_nobody_gets_two(tmp_path, fake, runners):
    config = config_for(tmp_path, fake, concurrency=2)
    service = Campaigns(config)
    add_followers(config, fake.followers)
    fake.delay(0.05)
    first = runners(config)
    campaign = service.create("反诈", "fraud", "active48h", text="谨防诈骗", at=soon(1, config.tz))
    wait_for(lambda: len(fake.sent) >= 5)

    first.shutdown()
    handed = service.show(campaign["id"])
    assert handed["state"] == "sending" and handed["sent"] < 30
    runners(config)

    wait_for(lambda: state_of(service, campaign["id"]) == "sent")
    assert sent_to(fake) == Counter(fake.followers)


# ---- two `legalbot scheduler` processes ------------------------------------------------


def _holder_pid(config, redis_url=None, prefix=None) -> int | None:
    if redis_url:
        import redis

        value = redis.Redis.from_url(redis_url).get(prefix + "scheduler:leader")
        holder = value.decode() if value else None
    else:
        engine = records.make_engine(config.database_url)
        with engine.connect() as conn:
            holder = conn.execute(
                select(models.SchedulerLease.holder).where(
                    models.SchedulerLease.expires_at > records.now()
                )
            ).scalar()
        engine.dispose()
    return int(holder.split(":")[1]) if holder else None


def _two_schedulers_only_one_sends(tmp_path, fake, **kw):
    config = config_for(tmp_path, fake, **kw)
    env = write_config(tmp_path, fake, **kw)
    add_followers(config, fake.followers[:6])
    service = Campaigns(config)
    logs = [open(tmp_path / f"scheduler-{n}.log", "w") for n in (1, 2)]  # noqa: SIM115
    procs = [
        subprocess.Popen([*LEGALBOT, "scheduler"], cwd=ROOT, env=env, stdout=log, stderr=log)
        for log in logs
    ]
    try:
        redis_args = (kw["redis"][0], kw["redis"][1]) if kw.get("redis") else (None, None)
        holder = wait_for(lambda: _holder_pid(config, *redis_args))
        assert holder in {p.pid for p in procs}
        first = service.create("一", "fraud", "active48h", text="第一条", at=soon(3, config.tz))
        wait_for(lambda: state_of(service, first["id"]) == "sent", timeout=30)
        assert sent_to(fake) == Counter(fake.followers[:6])

        os.kill(holder, signal.SIGKILL)  # the holder dies; the standby takes over
        second = service.create("二", "fraud", "active48h", text="第二条", at=soon(5, config.tz))
        wait_for(lambda: state_of(service, second["id"]) == "sent", timeout=40)
        assert sent_to(fake) == Counter(fake.followers[:6] * 2)
        survivor = next(p for p in procs if p.pid != holder)
        assert _holder_pid(config, *redis_args) == survivor.pid

        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=30) == 0  # a clean stop on SIGTERM
        assert _holder_pid(config, *redis_args) is None  # and the lock is released
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()
    combined = "".join((tmp_path / f"scheduler-{n}.log").read_text() for n in (1, 2))
    assert "Traceback" not in combined
    assert not any(openid in combined for openid in fake.followers)


def test_two_schedulers_on_a_database_lease_only_one_sends(tmp_path, fake):
    _two_schedulers_only_one_sends(tmp_path, fake)


def test_two_schedulers_on_a_redis_lock_and_postgresql_only_one_sends(
    tmp_path, fake, redis_url, redis_prefix, pg_url
):
    _two_schedulers_only_one_sends(tmp_path, fake, db_url=pg_url, redis=(redis_url, redis_prefix))


def test_legalbot_serve_runs_the_scheduler_in_its_process(tmp_path, fake):
    config = config_for(tmp_path, fake)
    env = write_config(tmp_path, fake)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [*LEGALBOT, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        service = Campaigns(config)
        campaign = service.create(
            "宪法日", "constitution", "all", text="宪法", at=soon(6, config.tz)
        )
        wait_for(lambda: state_of(service, campaign["id"]) == "sent", timeout=40)
        assert len(fake.mass) == 1
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
