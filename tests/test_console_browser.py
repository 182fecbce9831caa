"""The staff console in a real browser: Debian's Chromium, driven by Playwright, against
the app served for real on a loopback port.

Every page of the console's menu (bot/console/nav.py's MENU, so pages added later are
covered without a change here), the login page and a 404, at a phone's 375 px and a
laptop's 1280 px: it loads, it speaks Chinese, nothing scrolls sideways. And the chat
panel: a question typed and sent gets the bot's reply bubble.

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
