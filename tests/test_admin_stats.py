"""Staff use the console: figures of a chosen period, the trend picture, downloads, activities."""

from __future__ import annotations

import io
import re

import openpyxl

from bot.console.accounts import set_password
from tests import statsdata
from tests.test_admin import _login


def _staff(app, client):
    set_password(app.extensions["legalbot"].config.database_url, "clerk", "correct-horse")
    assert _login(client).status_code == 302


def _month(app):
    statsdata.load_month(app.extensions["legalbot"].engine)


MARCH = "from=2025-03-01&to=2025-03-31"


def test_staff_choose_a_period_and_granularity(app, client):
    _month(app)
    _staff(app, client)
    page = client.get(f"/admin/stats?{MARCH}&by=week").get_data(as_text=True)
    assert re.search(r"<th>收到群众消息（条）</th><td class=\"n\">6</td>", page)
    assert re.search(r"<th>咨询群众（人）</th><td class=\"n\">4</td>", page)
    assert "2025-W10" in page  # the weekly rows
    assert "宪法日群发" in page and "欠薪提醒" in page  # per-campaign figures
    assert "劳动争议" in page  # answered by theme, named in Chinese
    assert "market-2025-03" in page  # followers by QR scene
    assert "村里的路灯坏了找谁修" in page  # the period's top unanswered question
    assert f"/admin/trend.svg?{MARCH.replace('&', '&amp;')}&amp;by=week" in page
    assert "/admin/export.xlsx?" in page and "/admin/export.csv?" in page
    for openid in statsdata.OPENIDS.values():
        assert openid not in page


def test_the_trend_picture_is_svg_with_chinese_labels(app, client):
    _month(app)
    _staff(app, client)
    response = client.get(f"/admin/trend.svg?{MARCH}&by=day")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg") and "收到群众消息（条）" in svg and "2025-03-01" in svg


def test_staff_download_the_exports(app, client):
    _month(app)
    _staff(app, client)
    xlsx = client.get(f"/admin/export.xlsx?{MARCH}")
    assert xlsx.status_code == 200
    assert "attachment" in xlsx.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    overview = {r[0]: r[1] for r in book["概览"].iter_rows(min_row=2, values_only=True)}
    assert overview["收到群众消息（条）"] == 6
    csv = client.get(f"/admin/export.csv?{MARCH}")
    assert csv.data.startswith(b"\xef\xbb\xbf")
    assert "收到群众消息（条）,6" in csv.data.decode("utf-8-sig")
    assert client.get("/admin/export.pdf").status_code == 404


def test_the_figures_and_downloads_need_a_login(client):
    for path in ("/admin/trend.svg", "/admin/export.xlsx", "/admin/activities"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def _token(client, path="/admin/activities") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_staff_record_an_offline_activity_in_the_console(app, client):
    _month(app)
    _staff(app, client)
    form = {
        "csrf_token": _token(client),
        "held_on": "2025-03-02",
        "kind": "market",
        "place": "甘河滩村集市",
        "theme": "fraud",
        "attendance": "150",
        "scene": "market-2025-03",
        "note": "",
    }
    response = client.post("/admin/activities", data=form)
    assert response.status_code == 302
    page = client.get("/admin/activities").get_data(as_text=True)
    assert "已登记：2025-03-02 集市宣传 甘河滩村集市" in page
    assert "甘河滩村集市" in page and "防范电信网络诈骗与养老诈骗" in page
    figures = client.get(f"/admin/stats?{MARCH}").get_data(as_text=True)
    assert re.search(r"<th>通过线下活动二维码关注（人次）</th><td class=\"n\">2</td>", figures)


def test_an_activity_form_with_a_mistake_is_not_saved(app, client):
    _staff(app, client)
    form = {"csrf_token": _token(client), "held_on": "", "kind": "market", "place": "x"}
    response = client.post("/admin/activities", data=form)
    assert response.status_code == 400
    assert "请填写日期" in response.get_data(as_text=True)
    bad_scene = form | {"held_on": "2025-03-02", "scene": "has spaces"}
    response = client.post("/admin/activities", data=bad_scene)
    assert response.status_code == 400 and "未保存：scene" in response.get_data(as_text=True)
    assert "还没有登记线下活动" in client.get("/admin/activities").get_data(as_text=True)


def test_an_activity_post_without_csrf_token_is_refused(app, client):
    _staff(app, client)
    form = {"held_on": "2025-03-02", "kind": "market", "place": "甘河滩村集市"}
    response = client.post("/admin/activities", data=form)
    assert response.status_code == 400
    assert "还没有登记线下活动" in client.get("/admin/activities").get_data(as_text=True)


def test_staff_delete_an_activity_recorded_by_mistake(app, client):
    _staff(app, client)
    form = {
        "csrf_token": _token(client),
        "held_on": "2025-03-02",
        "kind": "lecture",
        "place": "镇中学",
    }
    client.post("/admin/activities", data=form)
    page = client.get("/admin/activities").get_data(as_text=True)
    action = re.search(r'action="(/admin/activities/\d+/delete)"', page).group(1)
    assert client.post(action).status_code == 400  # without a token: refused, kept
    assert "镇中学" in client.get("/admin/activities").get_data(as_text=True)
    client.post(action, data={"csrf_token": _token(client)})
    assert "还没有登记线下活动" in client.get("/admin/activities").get_data(as_text=True)
