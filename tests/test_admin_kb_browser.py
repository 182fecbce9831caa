"""The knowledge-base pages in a real browser: headless Chromium (Debian's package,
driven by Playwright) against a served app on a copy of content/. An unanswered
question becomes an entry through the forms, is published, and `legalbot ask` answers
it; every page fits a 375 px screen. Screenshots go to tests/artifacts/ (not in git)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from bot import create_app, records
from bot.console.accounts import set_password
from bot.records import schema
from tests.conftest import ROOT, TOKEN, make_config, settled
from tests.wxdriver import Driver

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
QUESTION = "村里的路灯坏了找谁修"


def _browser_missing(what: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} (CI=true: the browser is required)")
    pytest.skip(what)


@pytest.fixture
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_missing("playwright is not installed")
    if not CHROMIUM.exists():
        _browser_missing(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def served(tmp_path):
    """The app on a free port, on its own copy of content/, with an administrator and
    one question residents asked that the base cannot answer."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content, ignore=shutil.ignore_patterns(".reload", ".*.lock"))
    config = make_config(tmp_path, knowledge={"content_dir": str(content)})
    schema.upgrade(records.make_engine(config.database_url))
    app = create_app(config)
    set_password(config.database_url, "chief", "correct-horse")
    Driver(app.test_client(), TOKEN).text("o-1", QUESTION)
    settled(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", content, tmp_path
    server.shutdown()
    app.extensions["legalbot"].close()


def _look(page, name: str, width: int) -> None:
    """Save a screenshot and check nothing scrolls sideways."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"kb-{name}-{width}.png"), full_page=True)
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{name} is {scroll} px wide at {width} px"


def test_an_unanswered_question_becomes_an_entry_that_legalbot_ask_answers(chromium, served):
    base, content, tmp_path = served
    page = chromium.new_context(viewport={"width": 375, "height": 800}).new_page()
    page.goto(base + "/admin/kb")
    assert "/admin/login" in page.url  # nothing without a login
    page.fill("input[name=username]", "chief")
    page.fill("input[name=password]", "correct-horse")
    page.click("button[type=submit]")
    page.goto(base + "/admin/unanswered")
    _look(page, "unanswered", 375)
    page.click("text=写条目")
    assert page.input_value("#questions") == QUESTION
    page.select_option("#theme", "neighbor")
    page.fill("#entry_id", "neighbor-street-light")
    page.fill("#title", "村里路灯坏了，找谁修？")
    page.fill("#questions", f"{QUESTION}\n路灯不亮了该找哪个部门\n村口的路灯坏了好久没人管")
    page.fill("#keywords", "路灯、公共设施")
    page.fill(
        "#answer",
        "先向村民委员会反映，村里公共设施的维护由村委会组织；村委会不处理的，可以向镇政府反映。",
    )
    page.fill("#sources", "村民委员会组织法 第2条")
    page.check("input[name=help][value='12348']")
    page.fill("#reviewed", "2026-12-01")
    page.click("text=保存草稿")
    assert re.search(r"/admin/kb/drafts/\d+$", page.url)
    _look(page, "draft", 375)
    page.click("text=检查并发布")
    assert page.url.endswith("/admin/kb/drafts"), page.content()[:3000]
    assert "已发布 neighbor-street-light" in page.content()

    config = tmp_path / "cli.toml"
    config.write_text(f'[knowledge]\ncontent_dir = "{content}"\n', encoding="utf-8")
    env = {**os.environ, "LEGALBOT_CONFIG": str(config), "LEGALBOT_SECRET_KEY": "x"}
    result = subprocess.run(
        ["legalbot", "ask", "--json", QUESTION],
        cwd=ROOT,
        env={**env, "LEGALBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["entry_id"] == "neighbor-street-light" and answer["matched"] is True


PAGES = {
    "index": "/admin/kb",
    "theme": "/admin/kb?theme=labor",
    "search": "/admin/kb?q=工资",
    "entry": "/admin/kb/labor-wage-arrears",
    "try": "/admin/kb/try?q=骗子让我转账到安全账户",
    "try-urgent": "/admin/kb/try?q=他现在正在打我，我好害怕",
    "new": "/admin/kb/new?q=" + QUESTION,
    "edit": "/admin/kb/labor-wage-arrears/edit",
    "drafts": "/admin/kb/drafts",
}


@pytest.mark.parametrize("width", [375, 1280])
def test_every_knowledge_base_page_fits_the_screen(chromium, served, width):
    base, _, _ = served
    page = chromium.new_context(viewport={"width": width, "height": 800}).new_page()
    page.goto(base + "/admin/login")
    page.fill("input[name=username]", "chief")
    page.fill("input[name=password]", "correct-horse")
    page.click("button[type=submit]")
    for name, path in PAGES.items():
        response = page.goto(base + path)
        assert response.status == 200, path
        _look(page, name, width)
