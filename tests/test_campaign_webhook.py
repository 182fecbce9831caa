"""WeChat's MASSSENDJOBFINISH event, posted to the real webhook, completes a mass campaign."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from bot import create_app, records
from scheduler.service import Campaigns
from tests.campaignkit import config_for, make_fake
from tests.conftest import TOKEN, settled
from tests.wxdriver import Driver
from tests.wxfake import mass_job_finished

ASSISTANT = "oMassAssistant0000000000000x"  # the account's mass-send assistant, not a follower


def test_mass_send_results_arrive_by_event_once_however_often_wechat_posts_it(
    tmp_path, shipped_knowledge
):
    with make_fake(40) as fake:
        config = config_for(tmp_path, fake)
        service = Campaigns(config)
        sent = service.send(service.create("宪法日", "constitution", "all", text="宪法")["id"])
        app = create_app(config, knowledge=shipped_knowledge)
        driver = Driver(app.test_client(), TOKEN)
        report = mass_job_finished(int(sent["msg_id"]), total=40, filtered=38, sent=37, errors=1)
        moment = int(time.time())

        first = driver.event(ASSISTANT, "MASSSENDJOBFINISH", create_time=moment, **report)
        retry = driver.event(ASSISTANT, "MASSSENDJOBFINISH", create_time=moment, **report)
        again = driver.event(ASSISTANT, "MASSSENDJOBFINISH", create_time=moment + 9, **report)

        assert [r.body for r in (first, retry, again)] == ["success"] * 3
        settled(app)  # what the webhook recorded or handed on is committed by now
        done = service.show(sent["id"])
        assert (done["state"], done["recipients"], done["filtered"]) == ("sent", 40, 38)
        assert (done["sent"], done["failed"], done["skipped"]) == (37, 1, 2)
        with service.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(records.Event)) == 0
            assert conn.scalar(select(func.count()).select_from(records.Follower)) == 0
        app.extensions["legalbot"].close()
        service.close()


def test_a_mass_send_wechat_reports_as_failed_says_so(tmp_path, shipped_knowledge):
    with make_fake(3) as fake:
        config = config_for(tmp_path, fake)
        service = Campaigns(config)
        sent = service.send(service.create("禁毒", "drugs", "all", text="6·26")["id"])
        app = create_app(config, knowledge=shipped_knowledge)
        report = mass_job_finished(int(sent["msg_id"]), 3, 0, 0, 0, status="err(30003)")

        Driver(app.test_client(), TOKEN).event(ASSISTANT, "MASSSENDJOBFINISH", **report)

        settled(app)
        done = service.show(sent["id"])
        assert done["state"] == "failed" and "err(30003)" in done["error"]
        app.extensions["legalbot"].close()
        service.close()
