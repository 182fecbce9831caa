"""Campaigns in the staff console: the list, the form that makes one, one campaign's page
with its actions, the year's calendar drafts and the dashboard's panel, over the loopback
WeChat fake (tests/wxfake.py), as staff click through them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import records
from bot.console.accounts import set_password
from scheduler import store
from scheduler.states import State
from tests.campaignkit import add_followers, make_fake, sections, wait_for
from tests.test_admin import _login

NEXT_YEAR = datetime.now().year + 1


@pytest.fixture(scope="module")
def fake():
    with make_fake(5) as fake:
        yield fake


@pytest.fixture
def app(build_app, tmp_path, fake):
    fake.sent.clear()
    app = build_app(**sections(tmp_path, fake))
    set_password(app.extensions["legalbot"].engine, "chief", "correct-horse")
    yield app
    assert app.extensions["legalbot_campaign_sends"].wait(30)


@pytest.fixture
def client(app):
    client = app.test_client()
    _login(client, "chief")
    return client


def _token(client) -> str:
    page = client.get("/admin/campaigns").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _post(client, path, data=None, **kw):
    return client.post(path, data={"csrf_token": _token(client), **(data or {})}, **kw)


def _service(app):
    return app.extensions["legalbot_campaigns"]


def _engine(app):
    return app.extensions["legalbot"].engine


def _audit(app) -> list[tuple[str, str, str, str]]:
    with Session(_engine(app)) as db:
        rows = db.scalars(
            sa.select(records.AuditEntry)
            .where(records.AuditEntry.action.like("campaign.%"))
            .order_by(records.AuditEntry.id)
        )
        return [(e.actor, e.action, e.target, e.detail or "") for e in rows]


def _form(**fields) -> dict:
    """A new-campaign form as a browser posts it: a text to all followers, a draft."""
    return {
        "name": "宪法日推送",
        "theme": "constitution",
        "kind": "text",
        "text": "12月4日是国家宪法日。",
        "audience": "all",
        "when": "none",
        "action": "save",
    } | fields


def _create(client, **fields) -> int:
    response = _post(client, "/admin/campaigns/new", _form(**fields))
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _text(response) -> str:
    return response.get_data(as_text=True)


# ---- login, CSRF -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/campaigns"),
        ("get", "/admin/campaigns/new"),
        ("post", "/admin/campaigns/new"),
        ("get", "/admin/campaigns/1"),
        ("post", "/admin/campaigns/1/schedule"),
        ("post", "/admin/campaigns/1/cancel"),
        ("post", "/admin/campaigns/1/resume"),
        ("post", "/admin/campaigns/1/send"),
        ("post", "/admin/campaigns/1/preview"),
        ("get", "/admin/campaigns/plan"),
        ("post", "/admin/campaigns/plan"),
    ],
)
def test_every_campaign_page_needs_a_login(app, method, path):
    anonymous = app.test_client()
    token_page = anonymous.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', token_page).group(1)
    response = getattr(anonymous, method)(path, data={"csrf_token": token})
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_a_form_without_its_csrf_token_is_refused(app, client):
    response = client.post("/admin/campaigns/new", data=_form())
    assert response.status_code == 400 and "表单已过期" in _text(response)
    assert _service(app).list_all() == []


# ---- the list and one campaign's page in each state ------------------------------------------

# The moves (states.MOVES) that bring a draft to each state.
PATHS = {
    State.DRAFT: [],
    State.SCHEDULED: [State.SCHEDULED],
    State.SENDING: [State.SENDING],
    State.PAUSED: [State.SENDING, State.PAUSED],
    State.SENT: [State.SENDING, State.SENT],
    State.FAILED: [State.SENDING, State.FAILED],
    State.CANCELLED: [State.CANCELLED],
    State.MISSED: [State.SCHEDULED, State.MISSED],
}


def _move(app, campaign_id: int, state: State) -> None:
    at = State.DRAFT
    for step in PATHS[state]:
        assert store.transition(_engine(app), campaign_id, (at,), state=step)
        at = step


@pytest.mark.parametrize("state", list(State))
def test_the_list_and_the_page_show_each_state_in_chinese(app, client, state):
    from scheduler.states import STATE_NAMES

    campaign_id = _create(client)
    _move(app, campaign_id, state)

    listed = _text(client.get("/admin/campaigns"))
    page = client.get(f"/admin/campaigns/{campaign_id}")

    assert STATE_NAMES[state] in listed and "宪法日推送" in listed and "宪法" in listed
    assert page.status_code == 200
    shown = _text(page)
    assert STATE_NAMES[state] in shown and "全部关注者（群发）" in shown
    assert "12月4日是国家宪法日。" in shown  # what residents receive, on the phone
    assert ("立即发送</button>" in shown) == (state in (State.DRAFT, State.SCHEDULED, State.MISSED))
    assert ("取消这条推送" in shown) == (state not in (State.SENT, State.FAILED, State.CANCELLED))
    assert ("恢复发送" in shown) == (state == State.PAUSED)
    assert ('http-equiv="refresh"' in shown) == (state == State.SENDING)
    assert state.value not in re.sub(r"<[^>]+>", "", shown).split()


def test_an_unknown_campaign_is_a_chinese_404(client):
    response = client.get("/admin/campaigns/999")
    assert response.status_code == 404 and "没有找到" in _text(response)


# ---- the form that makes one ----------------------------------------------------------------


def test_the_new_form_offers_themes_and_calendar_days_by_their_chinese_names(client):
    page = _text(client.get("/admin/campaigns/new"))
    assert "防范电信网络诈骗与养老诈骗" in page and 'value="fraud"' in page
    assert "重阳节（老年节）（农历9月9日）" in page and "国家宪法日" in page
    assert "每周" in page and "周一" in page
    assert "2048" in page and "TextEncoder" in page  # the byte counter


def test_a_text_to_all_scheduled_at_a_date_and_time(app, client):
    campaign_id = _create(client, when="at", at_date=f"{NEXT_YEAR}-12-04", at_time="09:30")
    c = _service(app).show(campaign_id)
    assert (c["state"], c["scheduled_at"]) == ("scheduled", f"{NEXT_YEAR}-12-04T09:30:00+08:00")
    assert (c["audience"], c["content"]) == ("all", {"kind": "text", "text": "12月4日是国家宪法日。"})
    assert [a[1] for a in _audit(app)] == ["campaign.create", "campaign.schedule"]
    assert _audit(app)[0][:3] == ("chief", "campaign.create", f"推送 {campaign_id}「宪法日推送」")


def test_entries_found_by_search_to_a_tag_on_a_calendar_day(app, client):
    searched = _post(
        client,
        "/admin/campaigns/new",
        _form(kind="entries", text="", q="养老", action="search", name="重阳节推送"),
    )
    page = _text(searched)
    assert searched.status_code == 200 and 'name="entries"' in page
    found = re.findall(r'name="entries" value="([^"]+)"', page)
    assert found and 'value="重阳节推送"' in page  # the name typed is kept

    campaign_id = _create(
        client,
        kind="entries",
        text="",
        entries=found[:2],
        audience="tag",
        tag_id="7",
        when="calendar",
        calendar="double-ninth",
        theme="elderly",
        name="重阳节推送",
    )
    c = _service(app).show(campaign_id)
    assert c["content"] == {"kind": "entries", "entries": found[:2]}
    assert (c["audience"], c["schedule_kind"], c["schedule"]) == ("tag:7", "calendar", "double-ninth")
    assert c["scheduled_at"].endswith("T09:00:00+08:00")
    assert "【重阳节推送】" in _text(client.get(f"/admin/campaigns/{campaign_id}"))


def test_an_article_card_to_the_active_followers_every_monday(app, client):
    campaign_id = _create(
        client,
        kind="article",
        text="",
        title="防范养老诈骗",
        description="六个要点",
        url="https://example.org/a",
        audience="active48h",
        when="rule",
        frequency="weekly",
        weekday="1",
        rule_time="08:15",
        theme="fraud",
    )
    c = _service(app).show(campaign_id)
    assert c["content"] == {
        "kind": "article",
        "title": "防范养老诈骗",
        "description": "六个要点",
        "url": "https://example.org/a",
    }
    assert (c["schedule_kind"], c["schedule"]) == ("cron", "15 8 * * 1")
    page = _text(client.get(f"/admin/campaigns/{campaign_id}"))
    assert "每周一 08:15" in page and 'class="card"' in page  # a card on a customer-service send


@pytest.mark.parametrize(
    ("rule", "cron", "words"),
    [
        ({"frequency": "daily"}, "0 9 * * *", "每天 09:00"),
        ({"frequency": "monthly", "day": "1"}, "0 9 1 * *", "每月1号 09:00"),
        ({"frequency": "yearly", "month": "12", "day": "4"}, "0 9 4 12 *", "每年12月4日 09:00"),
        ({"frequency": "weekly", "weekday": "0"}, "0 9 * * 0", "每周日 09:00"),
    ],
)
def test_recurring_rules_in_words_become_cron_lines(app, client, rule, cron, words):
    campaign_id = _create(client, when="rule", rule_time="09:00", **rule)
    assert _service(app).show(campaign_id)["schedule"] == cron
    assert words in _text(client.get(f"/admin/campaigns/{campaign_id}"))


def test_typed_openids_become_the_audience_and_stay_out_of_the_audit_log(app, client, fake):
    openids = f"{fake.followers[0]}\n{fake.followers[1]}\n\n{fake.followers[0]}\n"
    campaign_id = _create(client, audience="openids", openids=openids)
    c = _service(app).show(campaign_id)
    assert c["audience"].startswith("openids:")
    listed = open(c["audience"][len("openids:") :]).read().split()
    assert listed == fake.followers[:2]
    assert "指定名单" in _text(client.get(f"/admin/campaigns/{campaign_id}"))
    assert all(fake.followers[0] not in " ".join(row) for row in _audit(app))
