"""The staff console: behind a login, CSRF-protected, rate-limited, shows the figures."""

from __future__ import annotations

import re

from bot.console.accounts import set_password
from tests.conftest import TOKEN, settled
from tests.wxdriver import Driver


def _csrf(client, path="/admin/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _login(client, username="clerk", password="correct-horse"):
    token = _csrf(client)
    return client.post(
        "/admin/login", data={"csrf_token": token, "username": username, "password": password}
    )


def test_console_needs_a_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_staff_logs_in_and_sees_the_figures(app, client):
    set_password(app.extensions["legalbot"].config.database_url, "clerk", "correct-horse")
    Driver(client, TOKEN).text("o-1", "老板拖了三个月工资不给")
    assert _login(client).status_code == 302
    settled(app)  # the webhook replies before its batch is committed
    page = client.get("/admin/stats").get_data(as_text=True)
    assert "收到群众消息" in page
    assert "劳动争议" in page
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "近 30 天概况" in dashboard
    # the glance counts the question just asked
    assert re.search(r'<span class="v">1</span><span class="k">已解答问题', dashboard)


def test_wrong_password_is_refused(app, client):
    set_password(app.extensions["legalbot"].config.database_url, "clerk", "correct-horse")
    response = _login(client, password="wrong-password")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_login_without_csrf_token_is_refused(app, client):
    set_password(app.extensions["legalbot"].config.database_url, "clerk", "correct-horse")
    response = client.post("/admin/login", data={"username": "clerk", "password": "correct-horse"})
    assert response.status_code in (200, 400)
    assert client.get("/admin/").status_code == 302


def test_repeated_logins_are_rate_limited(build_app):
    app = build_app(console={"login_rate_limit": "3 per minute"})
    client = app.test_client()
    statuses = [_login(client, password=f"guess-{i}").status_code for i in range(5)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[-1] == 429


def test_unanswered_questions_page_lists_them(app, client):
    set_password(app.extensions["legalbot"].config.database_url, "clerk", "correct-horse")
    Driver(client, TOKEN).text("o-2", "明天会下雨吗我要去赶集")
    settled(app)  # the webhook replies before its batch is committed
    _login(client)
    page = client.get("/admin/unanswered").get_data(as_text=True)
    assert "明天会下雨吗我要去赶集" in page
