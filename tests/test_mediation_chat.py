"""Asking for mediation on the account, through the signed webhook: the form's steps,
retries, corrections, cancel, expiry, 我的调解, and a resident in danger mid-form."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import mediation, records
from tests.conftest import AES_KEY, APPID, SAFE, TOKEN, settled, summary
from tests.wxdriver import Driver

PHONE = "13912345678"
WHAT = "邻居家盖房占了我家院墙外两米地，说了几次不听"
RESIDENT = "oMediationResident0000000001"


@pytest.fixture
def app(build_app, request):
    """The app of a test; with the EncodingAESKey when its `wx` driver is in safe mode (a
    key configured, the webhook takes encrypted messages only)."""
    callspec = getattr(request.node, "callspec", None)
    safe = callspec is not None and callspec.params.get("wx") == "safe"
    return build_app(wechat=SAFE) if safe else build_app()


@pytest.fixture(params=["plain", "safe"])
def wx(request, client):
    return Driver(client, TOKEN, mode=request.param, aes_key=AES_KEY, appid=APPID)


def _cases(app) -> list[dict]:
    return mediation.cases(settled(app))


def _ask_all(wx, openid=RESIDENT, contact=PHONE) -> list[str]:
    answers = []
    for text in ("申请调解", "3", "上庄村", WHAT, contact):
        answers.append(wx.text(openid, text).content)
    return answers


def test_a_resident_asks_for_mediation_and_gets_a_reference(app, wx):
    start, kind, village, what, contact = _ask_all(wx)
    assert "第1步" in start and "3. 邻里纠纷" in start and "取消" in start
    assert "第2步" in kind and "第3步" in village and "第4步" in what
    assert "请核对" in contact and "邻里纠纷" in contact and "上庄村" in contact
    assert "139****5678" in contact and PHONE not in contact  # masked even to its owner
    done = wx.text(RESIDENT, "1").content
    assert "编号" in done and "3个工作日内打电话给您" in done and "我的调解" in done
    (case,) = _cases(app)
    assert case["reference"] in done
    assert (case["type"], case["village"], case["source"]) == ("neighbor", "上庄村", "wechat")
    assert case["state"] == "accepted" and case["contact"] == "phone" and case["from_account"]
    services = app.extensions["legalbot"]
    opened = mediation.find(services.engine, case["id"], services.sealer)
    assert (opened["phone"], opened["description"]) == (PHONE, WHAT)
    mine = wx.text(RESIDENT, "我的调解").content
    assert case["reference"] in mine and "已受理" in mine
    for reply in (start, kind, village, what, contact, done, mine):  # a passive reply's limit
        assert len(reply.encode("utf-8")) <= 2048


def test_reply_here_instead_of_a_phone_number(app, plain):
    _ask_all(plain, contact="1")
    done = plain.text(RESIDENT, "提交").content
    assert "在公众号里回复您" in done and "48小时" in done
    (case,) = _cases(app)
    assert case["contact"] == "account"


def test_a_retried_step_is_taken_once(app, plain):
    plain.text(RESIDENT, "申请调解")
    first = plain.text(RESIDENT, "2", msg_id=7_000_001)
    again = plain.text(RESIDENT, "2", msg_id=7_000_001)  # WeChat's retry of the same message
    assert first.content == again.content and "第2步" in first.content
    assert "第3步" in plain.text(RESIDENT, "下庄村").content  # not asked for the village twice
    plain.text(RESIDENT, WHAT)
    plain.text(RESIDENT, PHONE)
    done = plain.text(RESIDENT, "1", msg_id=7_000_002)
    retry = plain.text(RESIDENT, "1", msg_id=7_000_002)
    assert retry.content == done.content
    cases = _cases(app)
    assert len(cases) == 1 and cases[0]["type"] == "traffic"
    assert cases[0]["reference"] in done.content


def test_every_step_can_be_corrected(app, plain):
    _ask_all(plain)
    assert "第1步" in plain.text(RESIDENT, "改1").content
    summary_text = plain.text(RESIDENT, "八").content  # a number in words
    assert "劳动争议纠纷" in summary_text and "上庄村" in summary_text
    assert "第3步" in plain.text(RESIDENT, "改3").content
    assert "请核对" in plain.text(RESIDENT, "老板欠了三个月工资不给").content
    plain.text(RESIDENT, "1")
    (case,) = _cases(app)
    services = app.extensions["legalbot"]
    assert mediation.find(services.engine, case["id"], services.sealer)["description"] == (
        "老板欠了三个月工资不给"
    )
    assert case["type"] == "labor"


def test_a_wrong_answer_is_asked_again_and_back_goes_one_step(plain):
    plain.text(RESIDENT, "申请调解")
    wrong = plain.text(RESIDENT, "12").content
    assert "请回复1到9的数字" in wrong and "第1步" in wrong
    plain.text(RESIDENT, "1")
    assert "第1步" in plain.text(RESIDENT, "上一步").content
    plain.text(RESIDENT, "1")
    plain.text(RESIDENT, "上庄村")
    plain.text(RESIDENT, WHAT)
    assert "没认出电话号码" in plain.text(RESIDENT, "12345").content


def test_cancel_drops_the_form(app, plain):
    plain.text(RESIDENT, "找人调解")
    plain.text(RESIDENT, "3")
    assert "已取消" in plain.text(RESIDENT, "取消").content
    after = plain.text(RESIDENT, "1").content  # the menu's first theme, not a form step
    assert after.startswith("【") and "第2步" not in after
    assert _cases(app) == []


def test_a_form_left_half_way_expires(build_app):
    app = build_app(mediation={"form_minutes": 0.02})  # 1.2 seconds
    plain = Driver(app.test_client(), TOKEN)
    plain.text(RESIDENT, "申请调解")
    assert "第2步" in plain.text(RESIDENT, "3").content
    time.sleep(1.5)
    later = plain.text(RESIDENT, "上庄村").content
    assert "第3步" not in later
    assert "第1步" in plain.text(RESIDENT, "申请调解").content  # starts afresh


def test_a_resident_in_danger_mid_form_gets_the_urgent_reply_first(app, wx):
    wx.text(RESIDENT, "申请调解")
    wx.text(RESIDENT, "1")
    wx.text(RESIDENT, "上庄村")
    urgent = wx.text(RESIDENT, "他拿着刀要砍我 我在家里躲着").content
    assert "110" in urgent.splitlines()[0] and "第4步" not in urgent
    assert "第4步" in wx.text(RESIDENT, WHAT).content  # the form waited
    counted = summary(app)
    assert counted["urgent"] == 1


def test_form_messages_are_not_questions(app, plain):
    _ask_all(plain)
    plain.text(RESIDENT, "1")
    plain.text(RESIDENT, "我的调解")
    counted = summary(app)
    assert counted["messages_received"] == 7
    assert counted["answered"] == 0 and counted["unanswered"] == 0
    assert counted["mediation"]["cases"] == 1 and counted["mediation"]["by_source"]["wechat"] == 1
    with Session(settled(app)) as db:
        assert db.scalar(select(func.count()).select_from(records.UnansweredQuestion)) == 0
        kinds = set(db.scalars(select(records.Event.reply_kind)))
    assert kinds == {"mediation"}


def test_the_menu_keys_open_the_form_and_the_state(app, plain):
    assert "第1步" in plain.event(RESIDENT, "CLICK", key="MEDIATION_APPLY").content
    assert "还没有" in plain.event(RESIDENT, "CLICK", key="MEDIATION_MINE").content


def test_the_mediation_entries_point_to_the_form(plain):
    reply = plain.text(RESIDENT, "人民调解咋申请").content
    assert "回复“申请调解”" in reply


def test_the_state_changes_reach_me_through_my_mediation(app, plain):
    _ask_all(plain)
    plain.text(RESIDENT, "1")
    (case,) = _cases(app)
    today = date.fromisoformat(case["date"])
    mediation.close(settled(app), case["id"], records.COMMAND_LINE, "settled", today=today)
    assert "调解成功" in plain.text(RESIDENT, "我的调解").content


def test_with_redis_the_form_holds_no_personal_field_in_clear(build_app, redis_url, redis_prefix):
    import redis

    app = build_app(redis={"url": redis_url, "prefix": redis_prefix})
    plain = Driver(app.test_client(), TOKEN)
    _ask_all(plain)
    raw = redis.Redis.from_url(redis_url).get(f"{redis_prefix}mediation:")  # no such key
    assert raw is None
    store = redis.Redis.from_url(redis_url)
    forms = [store.get(k) for k in store.scan_iter(match=f"{redis_prefix}mediation:*")]
    assert len(forms) == 1
    assert PHONE.encode() not in forms[0] and WHAT.encode() not in forms[0]
    assert "上庄村" in forms[0].decode()
    plain.text(RESIDENT, "1")
    assert len(_cases(app)) == 1
    assert list(store.scan_iter(match=f"{redis_prefix}mediation:*")) == []


def test_no_file_and_no_log_line_holds_the_phone_or_the_description(app, plain, caplog, tmp_path):
    caplog.set_level("DEBUG")
    _ask_all(plain)
    plain.text(RESIDENT, "1")
    settled(app)
    for path in Path(tmp_path).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PHONE.encode() not in data, path
            assert WHAT.encode() not in data, path
    assert PHONE not in caplog.text and WHAT not in caplog.text
