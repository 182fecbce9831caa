"""Campaigns in the staff console: the list, the form that makes one, one campaign's page
with its actions, the year's calendar drafts and the dashboard's panel, over the loopback
WeChat fake (tests/wxfake.py), as staff click through them."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import records
from bot.console.accounts import set_password
from scheduler import store
from scheduler.states import State
from tests.campaignkit import add_followers, make_fake, sections
from tests.conftest import TOKEN, settled
from tests.test_admin import _login
from tests.wxdriver import Driver

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
    assert (c["audience"], c["content"]) == (
        "all",
        {"kind": "text", "text": "12月4日是国家宪法日。"},
    )
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
    assert (c["audience"], c["schedule_kind"], c["schedule"]) == (
        "tag:7",
        "calendar",
        "double-ninth",
    )
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
    listed = Path(c["audience"][len("openids:") :]).read_text().split()
    assert listed == fake.followers[:2]
    assert "指定名单" in _text(client.get(f"/admin/campaigns/{campaign_id}"))
    assert all(fake.followers[0] not in " ".join(row) for row in _audit(app))


# ---- bad submits: a Chinese message next to the field, nothing lost ------------------------


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"name": "  "}, "请填写名称"),
        ({"theme": "weather"}, "请选择主题"),
        ({"text": ""}, "请填写要发送的文字"),
        ({"text": "法" * 700}, "字节，微信一条消息最多 2048 字节"),
        ({"kind": "entries", "text": ""}, "请搜索并勾选至少一个知识库条目"),
        ({"kind": "entries", "entries": "no-such-entry"}, "no such entry"),
        ({"kind": "article", "title": "t", "url": "https://e.org"}, "请填写摘要"),
        (
            {"kind": "article", "title": "t" * 65, "description": "d", "url": "https://e.org"},
            "最多64个字",
        ),
        (
            {"kind": "article", "title": "t", "description": "d", "url": "ftp://e.org"},
            "http:// 或 https://",
        ),
        ({"audience": "tag", "tag_id": "abc"}, "标签编号"),
        ({"audience": "openids", "openids": ""}, "请至少填写一个 OpenID"),
        (
            {"audience": "openids", "openids": "oFake00000000000000000000001\nbad id!"},
            "第 2 行不像 OpenID",
        ),
        ({"when": "at", "at_date": "", "at_time": "09:00"}, "请填写日期"),
        ({"when": "at", "at_date": "2026-13-40", "at_time": "09:00"}, "日期不对"),
        ({"when": "at", "at_date": "2020-01-01", "at_time": "09:00"}, "这个时间已经过去了"),
        ({"when": "at", "at_date": f"{NEXT_YEAR}-01-01", "at_time": ""}, "请填写时间"),
        ({"when": "calendar", "calendar": "xmas"}, "请选择普法日历中的一天"),
        ({"when": "rule", "frequency": "weekly", "weekday": "9"}, "请选择星期几"),
        ({"when": "rule", "frequency": "yearly", "month": "2", "day": "30"}, "2月没有30号"),
        ({"when": "rule", "frequency": "daily", "rule_time": "25:00"}, "请填写发送时间"),
        ({"when": "sometime"}, "请选择什么时候发送"),
    ],
)
def test_a_bad_submit_names_the_field_in_chinese_and_keeps_what_was_typed(
    app, client, fields, says
):
    response = _post(client, "/admin/campaigns/new", _form(**({"name": "留着的名字"} | fields)))
    page = _text(response)
    assert response.status_code == 400
    assert says in page and 'class="error"' in page
    if "name" not in fields:
        assert 'value="留着的名字"' in page
    for key in ("text", "tag_id", "at_date", "title"):
        if fields.get(key):
            assert (fields[key] if key != "text" else fields[key][:20]) in page
    assert _service(app).list_all() == []


def test_the_preview_button_shows_what_residents_get_and_saves_nothing(app, client):
    page = _text(
        _post(
            client,
            "/admin/campaigns/new",
            _form(kind="entries", entries="fraud-safe-account", action="preview", name="反诈提醒"),
        )
    )
    assert "【反诈提醒】" in page and "有法律问题，直接发消息问我们" in page
    assert 'value="fraud-safe-account" checked' in page
    assert _service(app).list_all() == []


# ---- actions on one campaign ----------------------------------------------------------------


def test_a_preview_reaches_the_test_followers_at_the_wechat_fake(app, client, fake):
    campaign_id = _create(client, text="预览一下")
    openids = f"{fake.followers[0]}\noStranger000000000000000000x"

    response = _post(client, f"/admin/campaigns/{campaign_id}/preview", {"openids": openids})

    page = _text(response)
    assert response.status_code == 200
    assert "第 1 个：已发送" in page and "第 2 个：没有发出" in page and "40003" in page
    assert [c[3] for c in fake.calls if c[1].endswith("mass/preview")][0][
        "touser"
    ] == fake.followers[0]
    assert fake.followers[0] in page  # kept in the form, for another try
    action, detail = _audit(app)[-1][1], _audit(app)[-1][3]
    assert (action, detail) == ("campaign.preview", "1/2 个测试账号收到")
    assert all(fake.followers[0] not in " ".join(row) for row in _audit(app))


def test_a_preview_without_openids_is_refused_in_chinese(client):
    campaign_id = _create(client)
    response = _post(client, f"/admin/campaigns/{campaign_id}/preview", {"openids": " "})
    assert response.status_code == 400 and "请至少填写一个测试用的 OpenID" in _text(response)


def test_send_now_runs_in_the_background_and_reaches_the_followers(app, client, fake):
    openids = fake.followers[:3]
    add_followers(app.extensions["legalbot"].config, openids)
    campaign_id = _create(client, audience="active48h", text="今天是宪法日")

    response = _post(client, f"/admin/campaigns/{campaign_id}/send")

    assert response.status_code == 302
    app.extensions["legalbot_campaign_sends"].wait(30)
    c = _service(app).show(campaign_id)
    assert (c["state"], c["sent"], c["recipients"]) == ("sent", 3, 3)
    assert sorted(o for o, kind, text in fake.sent if text == "今天是宪法日") == sorted(openids)
    Driver(client, TOKEN, mode="plain").text(openids[0], "收到了，谢谢")  # a resident replies
    settled(app)
    page = _text(client.get(f"/admin/campaigns/{campaign_id}"))
    reach = re.search(r'<span class="v">(\d+)</span><span class="k">72小时内互动的居民', page)
    assert "已发送" in page and reach and reach.group(1) == "1"
    assert [a[1] for a in _audit(app)] == ["campaign.create", "campaign.send"]


def test_a_running_send_shows_its_progress_and_refreshes(app, client):
    campaign_id = _create(client, audience="active48h")
    _move(app, campaign_id, State.SENDING)
    store.set_counts(_engine(app), campaign_id, recipients=8, sent=2, skipped=1, failed=1)

    page = _text(client.get(f"/admin/campaigns/{campaign_id}"))

    assert "进度：50%" in page and 'aria-valuenow="50"' in page
    assert 'http-equiv="refresh"' in page
    assert "4／8" not in page and "2／8" in _text(client.get("/admin/campaigns"))


def test_a_paused_send_is_resumed_where_it_stopped(app, client, fake):
    add_followers(app.extensions["legalbot"].config, fake.followers[:2])
    campaign_id = _create(client, audience="active48h", text="接着发")
    _move(app, campaign_id, State.PAUSED)

    response = _post(client, f"/admin/campaigns/{campaign_id}/resume")

    assert response.status_code == 302
    app.extensions["legalbot_campaign_sends"].wait(30)
    assert _service(app).show(campaign_id)["state"] == "sent"
    assert len([1 for _, _, text in fake.sent if text == "接着发"]) == 2
    assert _audit(app)[-1][1] == "campaign.resume"


def test_without_wechat_credentials_sending_is_refused_in_chinese(build_app, tmp_path, fake):
    app = build_app(
        **(sections(tmp_path, fake) | {"wechat": {"appid": "", "secret": "", "aes_key": ""}})
    )
    set_password(app.extensions["legalbot"].engine, "chief", "correct-horse")
    client = app.test_client()
    _login(client, "chief")
    campaign_id = _create(client)

    sent = _post(client, f"/admin/campaigns/{campaign_id}/send")
    previewed = _post(
        client, f"/admin/campaigns/{campaign_id}/preview", {"openids": fake.followers[0]}
    )

    assert (sent.status_code, previewed.status_code) == (409, 409)
    assert "还没有配置公众号的 AppID" in _text(sent) and "还没有配置公众号的 AppID" in _text(
        previewed
    )
    assert _service(app).show(campaign_id)["state"] == "draft"


def test_schedule_reschedule_and_cancel(app, client):
    campaign_id = _create(client)
    first = _post(
        client,
        f"/admin/campaigns/{campaign_id}/schedule",
        {"when": "at", "at_date": f"{NEXT_YEAR}-03-08", "at_time": "10:00"},
    )
    again = _post(
        client,
        f"/admin/campaigns/{campaign_id}/schedule",
        {"when": "calendar", "calendar": "constitution-day"},
    )
    assert (first.status_code, again.status_code) == (302, 302)
    c = _service(app).show(campaign_id)
    assert (c["state"], c["schedule"]) == ("scheduled", "constitution-day")
    assert "改期" in _text(client.get(f"/admin/campaigns/{campaign_id}"))

    assert _post(client, f"/admin/campaigns/{campaign_id}/cancel").status_code == 302
    assert _service(app).show(campaign_id)["state"] == "cancelled"
    assert [a[1] for a in _audit(app)] == [
        "campaign.create",
        "campaign.schedule",
        "campaign.schedule",
        "campaign.cancel",
    ]


def test_a_bad_schedule_keeps_the_page_and_says_why(app, client):
    campaign_id = _create(client)
    response = _post(
        client,
        f"/admin/campaigns/{campaign_id}/schedule",
        {"when": "at", "at_date": "2020-01-01", "at_time": "10:00"},
    )
    assert response.status_code == 400 and "这个时间已经过去了" in _text(response)
    assert 'value="2020-01-01"' in _text(response)
    assert _service(app).show(campaign_id)["state"] == "draft"


@pytest.mark.parametrize(
    ("state", "action", "says"),
    [
        (State.CANCELLED, "schedule", "不能排期"),
        (State.CANCELLED, "cancel", "不能取消"),
        (State.CANCELLED, "send", "不能立即发送"),
        (State.SENT, "schedule", "不能排期"),
        (State.SENT, "cancel", "不能取消"),
        (State.SENT, "resume", "不能恢复发送"),
        (State.DRAFT, "resume", "不能恢复发送"),
        (State.SENDING, "send", "不能立即发送"),
        (State.FAILED, "send", "不能立即发送"),
    ],
)
def test_moves_the_state_table_forbids_are_refused_in_chinese(app, client, state, action, says):
    campaign_id = _create(client)
    _move(app, campaign_id, state)
    data = {"when": "at", "at_date": f"{NEXT_YEAR}-03-08", "at_time": "10:00"}

    response = _post(client, f"/admin/campaigns/{campaign_id}/{action}", data)

    assert response.status_code == 409
    assert says in _text(response) and "这条推送现在是" in _text(response)
    assert _service(app).show(campaign_id)["state"] == state
    assert [a[1] for a in _audit(app)] == ["campaign.create"]


# ---- the year's calendar, the dashboard -----------------------------------------------------


def test_the_plan_page_drafts_the_year_and_schedules_the_chosen_ones(app, client):
    empty = _text(client.get(f"/admin/campaigns/plan?year={NEXT_YEAR}"))
    assert f"{NEXT_YEAR}年还没有草稿" in empty

    made = _post(client, "/admin/campaigns/plan", {"year": NEXT_YEAR, "action": "generate"})
    assert made.status_code == 302
    page = _text(client.get(f"/admin/campaigns/plan?year={NEXT_YEAR}"))
    ids = re.findall(r'name="ids" value="(\d+)"', page)
    assert len(ids) == 10 and "重阳节" in page and "【" in page

    chosen = ids[:2]
    done = client.post(
        "/admin/campaigns/plan",
        data={"csrf_token": _token(client), "year": NEXT_YEAR, "action": "schedule", "ids": chosen},
    )
    assert done.status_code == 302
    states = {c["id"]: c["state"] for c in _service(app).list_all()}
    assert [states[i] for i in chosen] == ["scheduled", "scheduled"]
    assert sum(1 for s in states.values() if s == "draft") == 8
    actions = [a[1] for a in _audit(app)]
    assert actions == ["campaign.plan", "campaign.schedule", "campaign.schedule"]
    again = _post(client, "/admin/campaigns/plan", {"year": NEXT_YEAR, "action": "generate"})
    assert again.status_code == 302 and len(_service(app).list_all()) == 10


def test_the_dashboard_lists_upcoming_and_running_campaigns(app, client):
    upcoming = _create(
        client, name="下周的推送", when="at", at_date=f"{NEXT_YEAR}-01-05", at_time="09:00"
    )
    running = _create(client, name="正在发的推送")
    _move(app, running, State.SENDING)
    _create(client, name="只是草稿")
    client.get("/admin/campaigns")  # the flashed "saved" messages are read there

    page = _text(client.get("/admin/"))

    assert "即将发送和正在发送的推送" in page
    assert (
        f'href="/admin/campaigns/{upcoming}"' in page
        and f'href="/admin/campaigns/{running}"' in page
    )
    assert "下周的推送" in page and "正在发的推送" in page and "只是草稿" not in page
    assert "推送</a>" in page  # the menu now links the campaigns
