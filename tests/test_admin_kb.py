"""The knowledge base in the console: browse, search, one entry, try a question, and the
unanswered queue's "write an entry"; read-only, on the shipped base."""

from __future__ import annotations

import re

import pytest

from bot.console.accounts import set_password
from bot.state import get_json
from tests.conftest import TOKEN, settled, summary
from tests.test_admin import _login
from tests.wxdriver import Driver


@pytest.fixture
def staff(app, client):
    set_password(app.extensions["legalbot"].config.database_url, "chief", "correct-horse")
    set_password(app.extensions["legalbot"].config.database_url, "clerk", "correct-horse")
    assert _login(client, "clerk").status_code == 302
    return client


def _page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def test_the_base_is_browsed_by_theme(staff):
    page = _page(staff, "/admin/kb")
    assert "劳动争议" in page and 'href="/admin/kb?theme=labor"' in page
    labor = _page(staff, "/admin/kb?theme=labor")
    assert "老板拖欠工资不给，怎么办？" in labor
    assert "/admin/kb/labor-wage-arrears" in labor
    assert "被丈夫打了" not in labor  # another theme's entry


@pytest.mark.parametrize(
    "query, found",
    [
        ("拖欠工资不给", "labor-wage-arrears"),  # the title
        ("老板说没钱让再等等", "labor-wage-arrears"),  # a phrasing
        ("劳动仲裁不收费", "labor-wage-arrears"),  # the answer's text
    ],
)
def test_search_finds_titles_phrasings_and_answers(staff, query, found):
    page = _page(staff, f"/admin/kb?q={query}")
    assert f"/admin/kb/{found}" in page
    assert "/admin/kb/fraud-safe-account" not in page


def test_a_search_without_results_offers_a_new_entry(staff):
    page = _page(staff, "/admin/kb?q=火星移民签证")
    assert "没有找到" in page and "/admin/kb/new?q=" in page


def test_an_entry_shows_the_reply_its_legal_basis_and_review_date(staff):
    page = _page(staff, "/admin/kb/labor-wage-arrears")
    assert "【老板拖欠工资不给，怎么办？】" in page  # the reply as residents get it
    assert "《劳动合同法》第30条" in page and "《保障农民工工资支付条例》第45条" in page
    assert "2026年12月01日" in page
    assert "干了三个月活老板不给工资" in page
    _page(staff, "/admin/kb/no-such-entry", 404)


def test_trying_a_question_shows_the_reply_candidates_and_matched_words(staff):
    page = _page(staff, "/admin/kb/try?q=骗子让我转账到安全账户")
    assert "这是诈骗" in page or "安全账户" in page
    assert "/admin/kb/fraud-safe-account" in page
    # the confidence of each candidate and the words that matched, synonyms shown
    assert re.search(r"\d+%", page)
    assert "骗子→诈骗" in page and '<span class="badge">转账</span>' in page
    assert '<span class="urgent">' not in page


def test_trying_a_danger_message_says_it_is_urgent(staff):
    page = _page(staff, "/admin/kb/try?q=他现在正在打我，我好害怕")
    assert '<span class="urgent">紧急</span>' in page
    assert "110" in page


def test_trying_records_nothing_and_leaves_conversations_alone(app, staff):
    resident = Driver(staff, TOKEN)
    resident.text("o-1", "菜单")  # o-1 now has the theme menu open
    before = summary(app)
    services = app.extensions["legalbot"]
    memory = get_json(services.state, "conv:o-1")
    for question in ("老板拖了三个月工资不给", "明天会下雨吗", "2", "他现在正在打我"):
        _page(staff, f"/admin/kb/try?q={question}")
    settled(app)
    assert summary(app) == before
    assert get_json(services.state, "conv:o-1") == memory
    unanswered = _page(staff, "/admin/unanswered")
    assert "明天会下雨吗" not in unanswered


def test_write_an_entry_from_the_unanswered_queue_prefills_the_form(app, staff):
    Driver(staff, TOKEN).text("o-2", "村里的路灯坏了找谁修")
    settled(app)
    queue = _page(staff, "/admin/unanswered")
    link = re.search(r'href="(/admin/kb/new\?q=[^"]+)">写条目', queue).group(1)
    form = _page(staff, link.replace("&amp;", "&"))
    questions = re.search(r'<textarea id="questions"[^>]*>\s*([^<]*)</textarea>', form).group(1)
    assert questions.strip() == "村里的路灯坏了找谁修"


ROUTES = [
    "/admin/kb",
    "/admin/kb?q=工资",
    "/admin/kb/try?q=工资",
    "/admin/kb/labor-wage-arrears",
    "/admin/kb/labor-wage-arrears/edit",
    "/admin/kb/new",
    "/admin/kb/drafts",
    "/admin/kb/drafts/1",
]


@pytest.mark.parametrize("path", ROUTES)
def test_every_page_needs_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/kb/new",
        "/admin/kb/labor-wage-arrears/edit",
        "/admin/kb/drafts/1",
        "/admin/kb/drafts/1/publish",
        "/admin/kb/drafts/1/discard",
    ],
)
def test_every_post_needs_a_login_and_a_csrf_token(app, client, path):
    assert client.post(path, data={"title": "x"}).status_code in (302, 400)
    set_password(app.extensions["legalbot"].config.database_url, "chief", "correct-horse")
    _login(client, "chief")
    response = client.post(path, data={"title": "x"})
    assert response.status_code == 400
    assert "表单已过期或无效" in response.get_data(as_text=True)
