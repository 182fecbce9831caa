"""The console's mediation pages: the register, a walk-in case, one case; who sees the
phone number; the resident told of a new state through the loopback WeChat fake."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot import mediation, records
from bot.console.accounts import set_password
from bot.records import Role
from tests.conftest import APPID, TOKEN, settled
from tests.test_admin import _login
from tests.wxdriver import Driver
from tests.wxfake import FakeWeChat, fake_openid

PHONE = "13612340000"
WHAT = "两家为浇地的水渠吵起来了"
RESIDENT = fake_openid(1)
OUTSIDE = fake_openid(2)


@pytest.fixture
def fake():
    with FakeWeChat(appid=APPID, secret="s3cret", followers=[RESIDENT, OUTSIDE]) as api:
        yield api


@pytest.fixture
def app(build_app, fake):
    app = build_app(wechat={"aes_key": "", "api_base": fake.base_url})
    engine = app.extensions["legalbot"].engine
    set_password(engine, "chief", "correct-horse")  # the first account administers
    set_password(engine, "clerk", "correct-horse", role=Role.STAFF)
    set_password(engine, "mediator", "correct-horse", role=Role.MEDIATOR)
    return app


def _token(client) -> str:
    page = client.get("/admin/audit").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _post(client, path, **data):
    return client.post(path, data={"csrf_token": _token(client), **data})


def _request(app, openid: str) -> dict:
    """A resident asks on the account (phone given); the case it filed."""
    wx = Driver(app.test_client(), TOKEN)
    for step in ("申请调解", "3", "上庄村", WHAT, PHONE, "1"):
        wx.text(openid, step)
    return next(c for c in mediation.cases(settled(app)) if c["from_account"])


def _as(app, who: str):
    client = app.test_client()
    _login(client, who)
    return client


def test_staff_see_the_case_without_its_personal_fields_and_mediators_with(app):
    case = _request(app, RESIDENT)
    clerk = _as(app, "clerk").get(f"/admin/mediation/{case['id']}").get_data(as_text=True)
    assert case["reference"] in clerk and "邻里纠纷" in clerk
    assert PHONE not in clerk and WHAT not in clerk and "已留电话" in clerk
    for who in ("mediator", "chief"):
        page = _as(app, who).get(f"/admin/mediation/{case['id']}").get_data(as_text=True)
        assert PHONE in page and WHAT in page
    with sa.orm.Session(settled(app)) as db:
        seen = db.scalars(
            sa.select(records.AuditEntry.actor).where(
                records.AuditEntry.action == "mediation.private"
            )
        ).all()
    assert sorted(seen) == ["chief", "mediator"]


def test_the_register_lists_cases_filtered_by_state(app):
    case = _request(app, RESIDENT)
    client = _as(app, "clerk")
    page = client.get("/admin/mediation").get_data(as_text=True)
    assert case["reference"] in page and "公众号申请" in page and "已受理" in page
    assert PHONE not in page and WHAT not in page
    closed = client.get("/admin/mediation?state=closed").get_data(as_text=True)
    assert case["reference"] not in closed and "没有登记的调解案件" in closed
    assert 'href="/admin/mediation"' in page  # in the menu now that it is routed


def test_a_walk_in_case_is_recorded_and_a_bad_one_is_shown_beside_the_field(app):
    client = _as(app, "mediator")
    bad = _post(
        client,
        "/admin/mediation/new",
        accepted_on="",
        kind="land",
        source="walk-in",
        committee="village",
        committee_name="下庄村",
        mediator="马师傅",
    )
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert re.search(r'id="accepted_on"[^>]*>\s*<span class="error">请填写受理日期', page)
    assert 'value="马师傅"' in page and 'value="下庄村"' in page  # kept as typed
    badphone = _post(
        client,
        "/admin/mediation/new",
        accepted_on="2026-05-01",
        kind="land",
        source="walk-in",
        committee="town",
        phone="12ab",
    )
    assert badphone.status_code == 400 and "电话号码格式不对" in badphone.get_data(as_text=True)
    done = _post(
        client,
        "/admin/mediation/new",
        accepted_on="2026-05-01",
        kind="land",
        source="police-room",
        committee="village",
        committee_name="下庄村",
        mediator="马师傅",
        phone=PHONE,
        description=WHAT,
    )
    assert done.status_code == 302
    (case,) = mediation.cases(settled(app))
    assert (case["type"], case["source"], case["committee_name"]) == (
        "land",
        "police-room",
        "下庄村",
    )
    services = app.extensions["legalbot"]
    assert mediation.find(services.engine, case["id"], services.sealer)["phone"] == PHONE


def test_staff_cannot_enter_personal_fields(app):
    client = _as(app, "clerk")
    form = client.get("/admin/mediation/new").get_data(as_text=True)
    assert 'name="phone"' not in form
    _post(
        client,
        "/admin/mediation/new",
        accepted_on="2026-05-01",
        kind="damages",
        source="walk-in",
        committee="town",
        phone=PHONE,
        description=WHAT,
    )
    (case,) = mediation.cases(settled(app))
    services = app.extensions["legalbot"]
    opened = mediation.find(services.engine, case["id"], services.sealer)
    assert opened["phone"] is None and opened["description"] is None


def test_a_new_state_reaches_the_resident_who_wrote_within_48_hours(app, fake):
    case = _request(app, RESIDENT)
    client = _as(app, "mediator")
    moved = _post(
        client,
        f"/admin/mediation/{case['id']}",
        committee="village",
        committee_name="上庄村",
        mediator="马师傅",
        state="mediating",
        closed_on="",
    )
    assert moved.status_code == 302
    assert [(o, t) for o, t, _ in fake.sent] == [(RESIDENT, "text")]
    assert "正在调解" in fake.sent[0][2] and case["reference"] in fake.sent[0][2]
    same = _post(
        client,
        f"/admin/mediation/{case['id']}",
        committee="village",
        committee_name="上庄村",
        mediator="马师傅",
        state="mediating",
        closed_on="",
    )
    assert same.status_code == 302 and len(fake.sent) == 1  # no new state, no message
    _post(
        client,
        f"/admin/mediation/{case['id']}",
        committee="village",
        committee_name="上庄村",
        mediator="马师傅",
        state="settled",
        closed_on="",
    )
    assert len(fake.sent) == 2 and "调解成功" in fake.sent[1][2]
    assert PHONE not in fake.sent[1][2] and WHAT not in fake.sent[1][2]
    assert mediation.find(settled(app), case["id"])["closed_on"] is not None


def test_no_message_to_a_resident_silent_for_more_than_48_hours(app, fake):
    case = _request(app, OUTSIDE)
    engine = settled(app)
    with engine.begin() as conn:
        conn.execute(
            sa.update(records.Follower)
            .where(records.Follower.openid == OUTSIDE)
            .values(last_interaction_at=records.now() - timedelta(hours=49))
        )
    client = _as(app, "clerk")
    done = _post(
        client,
        f"/admin/mediation/{case['id']}",
        committee="town",
        committee_name="",
        mediator="",
        state="withdrawn",
        closed_on="",
    )
    assert done.status_code == 302 and fake.sent == []
    assert mediation.find(engine, case["id"])["state"] == "withdrawn"


def test_a_closing_date_before_acceptance_is_refused_beside_the_field(app):
    case = _request(app, RESIDENT)
    client = _as(app, "mediator")
    bad = _post(
        client,
        f"/admin/mediation/{case['id']}",
        committee="town",
        committee_name="",
        mediator="",
        state="settled",
        closed_on="2001-01-01",
    )
    assert bad.status_code == 400
    assert re.search(
        r'id="closed_on"[^>]*>\s*<span class="error">结案日期不能早于受理日期',
        bad.get_data(as_text=True),
    )
    assert mediation.find(settled(app), case["id"])["state"] == "accepted"


def test_an_unknown_case_is_a_404_page(app):
    assert _as(app, "clerk").get("/admin/mediation/999").status_code == 404
