"""Drafts and publishing in the console, on a copy of the real content/ (never the
repository's): staff save drafts, editors publish them into the theme file atomically,
the audit log keeps the previous text, and every worker answers from the new entry."""

from __future__ import annotations

import re
import shutil
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import create_app, records
from bot.answer import editing
from bot.console.accounts import set_password
from bot.records import schema
from tests.conftest import ROOT, make_config
from tests.test_admin import _login

NEW_QUESTION = "村里的路灯坏了找谁修"
NEW_ENTRY = {
    "theme": "neighbor",
    "entry_id": "neighbor-street-light",
    "title": "村里路灯坏了，找谁修？",
    "questions": f"{NEW_QUESTION}\n路灯不亮了该找哪个部门\n村口的路灯坏了好久没人管",
    "keywords": "路灯、公共设施",
    "answer": "先向村民委员会反映，村里公共设施的维护由村委会组织；村委会不处理的，可以向镇政府反映。",
    "sources": "村民委员会组织法 第2条",
    "help": ["12348"],
    "reviewed": "2026-12-01",
}


@pytest.fixture
def content(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(
        ROOT / "content", target, ignore=shutil.ignore_patterns(".reload", ".publish.lock")
    )
    return target


@pytest.fixture
def worker(tmp_path, content):
    """Build a worker: an app with its own knowledge base from the copied content/, on
    one database; two built are two workers of one deployment."""
    apps = []

    def build():
        config = make_config(
            tmp_path, knowledge={"content_dir": str(content), "reload_check_seconds": 1}
        )
        schema.upgrade(records.make_engine(config.database_url))
        app = create_app(config)
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["legalbot"].close()


@pytest.fixture
def app(worker):
    app = worker()
    url = app.extensions["legalbot"].config.database_url
    set_password(url, "chief", "correct-horse")  # the first account administers
    set_password(url, "clerk", "correct-horse")  # staff
    set_password(url, "editor", "correct-horse", role="editor")
    return app


def _client(app, name):
    client = app.test_client()
    assert _login(client, name).status_code == 302
    return client


def _post(client, path, data):
    page = client.get("/admin/kb").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(path, data={"csrf_token": token, **data})


def _draft_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/admin/kb/drafts/(\d+)$", response.headers["Location"]).group(1))


def _answer(app, question):
    holder = app.extensions["legalbot"].knowledge
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = app.extensions["legalbot"].answerer.ask(question)
        if answer.entry_id == "neighbor-street-light":
            return answer
        holder.wait(1)
        time.sleep(0.2)
    return answer


def _audit(app, action):
    with Session(app.extensions["legalbot"].engine) as db:
        query = select(records.AuditEntry).where(records.AuditEntry.action == action)
        return list(db.scalars(query.order_by(records.AuditEntry.id)))


def test_staff_draft_is_published_by_an_editor_and_every_worker_answers_it(app, worker, content):
    other_worker = worker()
    path = content / "themes" / "neighbor.toml"
    before = path.read_bytes()
    assert app.extensions["legalbot"].answerer.ask(NEW_QUESTION).entry_id is None

    clerk = _client(app, "clerk")
    draft = _draft_id(_post(clerk, "/admin/kb/new", NEW_ENTRY))
    page = clerk.get(f"/admin/kb/drafts/{draft}").get_data(as_text=True)
    assert "村里路灯坏了，找谁修？" in page and "检查并发布" not in page
    assert _audit(app, "kb.draft")[-1].actor == "clerk"
    # staff may not publish
    refused = _post(clerk, f"/admin/kb/drafts/{draft}/publish", NEW_ENTRY)
    assert refused.status_code == 403
    assert path.read_bytes() == before

    editor = _client(app, "editor")
    assert "检查并发布" in editor.get(f"/admin/kb/drafts/{draft}").get_data(as_text=True)
    done = _post(editor, f"/admin/kb/drafts/{draft}/publish", NEW_ENTRY)
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/kb/drafts")
    after = path.read_bytes()
    # the file is the old one with the entry appended: every other entry byte for byte
    assert after.startswith(before)
    assert b'id = "neighbor-street-light"' in after[len(before) :]
    assert editing.locate(content, "neighbor-street-light").raw["questions"][0] == NEW_QUESTION
    assert not list(path.parent.glob(".*.tmp"))  # no temporary file left behind
    published = _audit(app, "kb.publish")
    assert [(a.actor, a.target, a.detail) for a in published] == [
        ("editor", "neighbor-street-light", "")
    ]
    assert "没有待发布的草稿" in editor.get("/admin/kb/drafts").get_data(as_text=True)

    # this worker reloads at once, the other at its next check of the files
    for each in (app, other_worker):
        answer = _answer(each, NEW_QUESTION)
        assert answer.entry_id == "neighbor-street-light" and answer.kind == "entry"
        assert "先向村民委员会反映" in answer.text
    page = editor.get("/admin/kb/neighbor-street-light").get_data(as_text=True)
    assert "《村民委员会组织法》第2条" in page


def _edit_form(client, entry_id):
    """The edit form's fields as a browser would post them back."""
    page = client.get(f"/admin/kb/{entry_id}/edit").get_data(as_text=True)

    def area(name):
        found = re.search(rf'<textarea id="{name}"[^>]*>\s*(.*?)</textarea>', page, re.S)
        return found.group(1).replace("&#34;", '"').replace("&amp;", "&")

    def value(name):
        return re.search(rf'id="{name}"[^>]*value="([^"]*)"', page).group(1)

    return {
        "title": value("title").replace("&amp;", "&"),
        "questions": area("questions"),
        "keywords": area("keywords"),
        "answer": area("answer"),
        "sources": area("sources"),
        "help": re.findall(
            r'<input checked id="help-\d+" name="help" type="checkbox" value="([^"]+)"', page
        ),
        "reviewed": value("reviewed"),
        "source": value("source"),
        "featured": "y" if re.search(r'<input checked id="featured"', page) else "",
        "base": re.search(r'id="base" name="base" type="hidden" value="([^"]*)"', page).group(1),
    }


def test_an_edit_replaces_the_entry_and_the_audit_keeps_the_previous_text(app, content):
    path = content / "themes" / "labor.toml"
    old = editing.locate(content, "labor-wage-arrears")
    before = path.read_bytes().decode("utf-8")
    editor = _client(app, "editor")
    form = _edit_form(editor, "labor-wage-arrears")
    assert form["base"] == old.digest and form["help"] == ["12333", "labor_arbitration", "12348"]
    form["title"] = "老板拖欠工资，怎么讨回来？"
    draft = _draft_id(_post(editor, "/admin/kb/labor-wage-arrears/edit", form))
    assert _post(editor, f"/admin/kb/drafts/{draft}/publish", form).status_code == 302
    after = path.read_bytes().decode("utf-8")
    new = editing.locate(content, "labor-wage-arrears")
    assert new.raw["title"] == "老板拖欠工资，怎么讨回来？"
    assert new.raw["questions"] == old.raw["questions"] and new.raw["answer"] == old.raw["answer"]
    # only the entry's own lines changed
    lines_before, lines_after = before.splitlines(), after.splitlines()
    assert lines_before[: old.start] == lines_after[: new.start]
    assert lines_before[old.end :] == lines_after[new.end :]
    assert _audit(app, "kb.publish")[-1].detail == old.text


def test_a_bad_draft_stays_a_draft_with_the_problems_in_chinese(app, content):
    path = content / "themes" / "neighbor.toml"
    before = path.read_bytes()
    editor = _client(app, "editor")
    bad = {
        **NEW_ENTRY,
        "questions": "只有一种问法",
        "answer": "很长" * 200,
    }
    draft = _draft_id(_post(editor, "/admin/kb/new", bad))
    response = _post(editor, f"/admin/kb/drafts/{draft}/publish", bad)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "未发布" in page
    # each problem under its field, in Chinese
    assert re.search(
        r'id="questions".*?</textarea><span class="error">questions（群众问法）至少要 3 项',
        page,
        re.S,
    )
    assert re.search(
        r'id="answer".*?</textarea><span class="error">answer（回答）有 400 个字', page, re.S
    )
    assert "很长" * 200 in page  # nothing lost
    assert path.read_bytes() == before
    assert _audit(app, "kb.publish") == []
    again = editor.get(f"/admin/kb/drafts/{draft}").get_data(as_text=True)
    assert "至少要 3 项" in again  # the draft remembers what was wrong
    assert "有问题待改" in editor.get("/admin/kb/drafts").get_data(as_text=True)
    # once the fields are right, the citations are checked: a repealed law is refused
    repealed = {**NEW_ENTRY, "sources": "婚姻法 第3条"}
    response = _post(editor, f"/admin/kb/drafts/{draft}/publish", repealed)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(
        r'id="sources".*?</textarea><span class="error">[^<]*《婚姻法》已于 2021-01-01 废止',
        page,
        re.S,
    )
    assert path.read_bytes() == before
    assert _post(editor, f"/admin/kb/drafts/{draft}/publish", NEW_ENTRY).status_code == 302
    assert editing.locate(content, "neighbor-street-light") is not None


def test_publishing_over_a_change_made_since_the_draft_began_is_refused(app, content):
    path = content / "themes" / "labor.toml"
    first, second = _client(app, "editor"), _client(app, "chief")
    mine = _edit_form(first, "labor-wage-arrears")
    theirs = _edit_form(second, "labor-wage-arrears")
    mine["title"], theirs["title"] = "我的标题：拖欠工资怎么办？", "他的标题：拖欠工资怎么办？"
    my_draft = _draft_id(_post(first, "/admin/kb/labor-wage-arrears/edit", mine))
    their_draft = _draft_id(_post(second, "/admin/kb/labor-wage-arrears/edit", theirs))
    assert _post(second, f"/admin/kb/drafts/{their_draft}/publish", theirs).status_code == 302
    published = path.read_bytes()
    response = _post(first, f"/admin/kb/drafts/{my_draft}/publish", mine)
    assert response.status_code == 409
    assert "在您开始编辑之后已被修改" in response.get_data(as_text=True)
    assert path.read_bytes() == published
    assert editing.locate(content, "labor-wage-arrears").raw["title"] == theirs["title"]
    assert "我的标题" in first.get(f"/admin/kb/drafts/{my_draft}").get_data(as_text=True)


def test_a_new_entry_may_not_take_an_id_already_published(app, content):
    editor = _client(app, "editor")
    taken = {**NEW_ENTRY, "theme": "labor", "entry_id": "labor-wage-arrears"}
    draft = _draft_id(_post(editor, "/admin/kb/new", taken))
    response = _post(editor, f"/admin/kb/drafts/{draft}/publish", taken)
    assert response.status_code == 409
    assert "已经有人发布过了" in response.get_data(as_text=True)
