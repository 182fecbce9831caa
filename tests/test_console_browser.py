"""The staff console in a real browser: Debian's Chromium, driven by Playwright, against
the app served for real on a loopback port.

Every page of the console's menu (bot/console/nav.py's MENU, so pages added later are
covered without a change here), the login page and a 404, at a phone's 375 px and a
laptop's 1280 px: it loads, it speaks Chinese, nothing scrolls sideways. And the flows:
the chat panel (a question typed and sent gets the bot's reply bubble); a logged-out
browser gets only the login page; the xlsx download opens in openpyxl; a campaign made in
the form at phone width is sent by the scheduler to the loopback WeChat API at its time.
(Publishing an entry from an unanswered question: tests/test_admin_kb_browser.py.)

Chromium is Debian's package at /usr/bin/chromium, never a browser Playwright downloads;
without it the test fails and says how to install it. A screenshot of every page at both
widths is saved under artifacts/screenshots/ (ignored by git) to look at.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from bot import create_app, records
from bot.console.accounts import set_password
from bot.console.nav import MENU
from bot.records import schema
from tests.conftest import ROOT, make_config

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIZES = [(375, 740), (1280, 800)]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# What an untranslated page would show: werkzeug's and Flask's own error texts.
ENGLISH = re.compile(
    r"Not Found|Internal Server Error|Bad Request|Forbidden|Unauthorized|Method Not Allowed"
    r"|Traceback|Too Many Requests|The requested URL"
)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
USER, PASSWORD = "chief", "correct-horse-battery"
QUESTION = "老板拖欠工资三个月了怎么办"


@pytest.fixture(scope="module")
def served(tmp_path_factory, shipped_knowledge):
    """The app on a free loopback port, with SQLite under its own tmp var dir and an
    administrator (who sees every page of the menu)."""
    tmp_path = tmp_path_factory.mktemp("browser")
    config = make_config(tmp_path)
    schema.upgrade(records.make_engine(config.database_url))
    app = create_app(config, knowledge=shipped_knowledge)
    set_password(app.extensions["legalbot"].engine, USER, PASSWORD)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    app.extensions["legalbot"].close()


@pytest.fixture
def browser(tmp_path):
    """A Chromium page with a fresh profile; the test fails when Chromium is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            locale="zh-CN",
        )
        context.set_default_timeout(20_000)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def menu_paths(app) -> list[str]:
    """The menu's pages this app serves (a page not built yet is not in the menu)."""
    urls = app.url_map.bind("localhost")
    paths = []
    for item in MENU:
        try:
            urls.match(item.path, method="GET")
        except Exception:  # noqa: BLE001 - NotFound: the page is not built yet
            continue
        paths.append(item.path)
    return paths


def log_in(page, base: str) -> None:
    page.goto(base + "/admin/login")
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/admin/")


def check_page(page, base: str, path: str, status: int = 200) -> None:
    """At each size: the status, Chinese text without English errors, no sideways scroll."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        response = page.goto(base + path)
        assert response is not None and response.status == status, (path, width)
        text = page.inner_text("body")
        assert CHINESE.search(text), (path, width, text[:200])
        assert not ENGLISH.search(text), (path, width, ENGLISH.search(text).group(0))
        scroll = page.evaluate("document.documentElement.scrollWidth")
        inner = page.evaluate("window.innerWidth")
        name = path.strip("/").replace("/", "-") or "root"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        assert scroll <= inner, f"{path} at {width} px scrolls sideways: {scroll} > {inner}"


def test_the_login_page_fits_a_phone_and_speaks_chinese(served, browser):
    _app, base = served
    check_page(browser, base, "/admin/login")


def test_every_page_of_the_menu_fits_a_phone_and_speaks_chinese(served, browser):
    app, base = served
    paths = menu_paths(app)
    # The pages built on this branch at least; pages added by others join through MENU.
    assert {"/admin/", "/admin/stats", "/admin/chat", "/admin/users", "/admin/audit"} <= set(paths)
    log_in(browser, base)
    shown = browser.eval_on_selector_all("header nav a", "links => links.map(a => a.pathname)")
    assert shown == paths  # an administrator's menu offers every page there is
    for path in paths:
        check_page(browser, base, path)
    check_page(browser, base, "/admin/no-such-page", status=404)


def test_a_question_in_the_chat_gets_the_bots_reply(served, browser):
    app, base = served
    expected = app.extensions["legalbot"].answerer.ask(QUESTION).text
    log_in(browser, base)
    browser.set_viewport_size({"width": 375, "height": 740})
    browser.goto(base + "/admin/chat")
    browser.fill("#text", QUESTION)
    browser.click("button[name=kind][value=text]")
    reply = browser.locator(".row.bot .bubble").last
    reply.wait_for()
    assert reply.text_content() == expected
    assert browser.locator(".row.me .bubble").last.text_content() == QUESTION
    assert browser.input_value("#text") == ""  # sent by the script: the page stayed
    browser.click("button[name=key][value=THEME_fraud]")
    browser.wait_for_function("document.querySelectorAll('.row.bot .bubble').length >= 2")
    assert "回复数字" in browser.locator(".row.bot .bubble").last.text_content()
    assert browser.evaluate("document.documentElement.scrollWidth") <= 375
    browser.screenshot(path=str(SCREENSHOTS / "admin-chat-conversation-375.png"), full_page=True)


def test_a_logged_out_browser_gets_nothing_from_any_page(served, browser):
    app, base = served
    for path in [*menu_paths(app), "/admin/export.xlsx", "/admin/report", "/admin/kb/try?q=x"]:
        response = browser.goto(base + path)
        assert response is not None and response.status == 200, path
        assert browser.url.startswith(base + "/admin/login"), (path, browser.url)
        assert "登录" in browser.inner_text("body")


def test_the_figures_download_as_a_workbook_excel_opens(served, browser, tmp_path):
    from openpyxl import load_workbook

    _app, base = served
    log_in(browser, base)
    browser.goto(base + "/admin/stats")
    with browser.expect_download() as caught:
        browser.click("text=Excel 表格（xlsx）")
    saved = tmp_path / caught.value.suggested_filename
    caught.value.save_as(saved)
    assert saved.suffix == ".xlsx"
    workbook = load_workbook(saved)
    assert len(workbook.sheetnames) >= 2
    assert any(
        "收到群众消息" in str(cell.value) for row in workbook.active.iter_rows() for cell in row
    )


def test_a_campaign_made_in_the_form_is_sent_by_the_scheduler_at_its_time(
    tmp_path, shipped_knowledge, browser
):
    """Staff fill in the form at phone width; the scheduler (as `legalbot serve` runs it)
    sends the campaign to the loopback WeChat API when its minute comes."""
    from datetime import datetime, timedelta

    from scheduler.runner import Runner
    from tests.campaignkit import make_fake, sections

    with make_fake(3) as fake:
        config = make_config(tmp_path, **sections(tmp_path, fake))
        schema.upgrade(records.make_engine(config.database_url))
        app = create_app(config, knowledge=shipped_knowledge)
        set_password(app.extensions["legalbot"].engine, USER, PASSWORD)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        runner = Runner(config).start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            log_in(browser, base)
            browser.set_viewport_size({"width": 375, "height": 740})
            browser.goto(base + "/admin/campaigns/new")
            browser.fill("#name", "国家宪法日推送")
            browser.select_option("#theme", "constitution")
            browser.check("input[name=kind][value=text]")
            browser.fill("#text", "12月4日是国家宪法日，欢迎来镇司法所领取宪法读本。")
            browser.check("input[name=audience][value=all]")
            browser.check("input[name=when][value=at]")
            at = datetime.now(config.tz).replace(second=0, microsecond=0) + timedelta(minutes=1)
            if (at - datetime.now(config.tz)).total_seconds() < 5:
                at += timedelta(minutes=1)
            browser.fill("#at_date", at.date().isoformat())
            browser.fill("#at_time", at.strftime("%H:%M"))
            assert browser.evaluate("document.documentElement.scrollWidth") <= 375
            browser.click("button[name=action][value=save]")
            browser.wait_for_url(re.compile(r".*/admin/campaigns/\d+$"))
            assert "已排期" in browser.inner_text("body")
            assert fake.mass == []  # nothing before its time
            deadline = at + timedelta(seconds=45)
            while not fake.mass and datetime.now(config.tz) < deadline:
                browser.wait_for_timeout(500)
            assert fake.mass, "the scheduler did not send the campaign at its time"
            sent_at = datetime.now(config.tz)
            assert sent_at >= at
            _path, body, _msg_id = fake.mass[0]
            assert "国家宪法日" in str(body)
            browser.reload()
            browser.screenshot(
                path=str(SCREENSHOTS / "admin-campaign-sent-375.png"), full_page=True
            )
        finally:
            runner.shutdown()
            server.shutdown()
            app.extensions["legalbot"].close()
