"""Console accounts: roles decide who may open what; every account change, export and
report is in the audit log; errors under /admin are pages in Chinese."""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.orm import Session

from bot import records
from bot.console.accounts import AccountError, set_password
from bot.records import schema
from tests.test_admin import _login


def _engine(app):
    return app.extensions["legalbot"].engine


def _audit(app) -> list[tuple[str, str, str]]:
    with Session(_engine(app)) as db:
        rows = db.scalars(sa.select(records.AuditEntry).order_by(records.AuditEntry.id))
        return [(e.actor, e.action, e.target) for e in rows]


def _post(client, path, **data):
    """A form post with the token of the page's header form (logout), as a browser would."""
    page = client.get("/admin/audit").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(path, data={"csrf_token": token, **data})


def test_the_first_account_administers_and_the_next_are_staff(app):
    engine = _engine(app)
    assert set_password(engine, "chief", "correct-horse") is True
    assert set_password(engine, "clerk", "correct-horse") is True
    roles = {u.username: u.role for u in records_listing(engine)}
    assert roles == {"chief": "admin", "clerk": "staff"}


def records_listing(engine):
    from bot.console.accounts import listing

    return listing(engine)


def test_staff_cannot_manage_accounts_and_read_why_in_chinese(app, client):
    set_password(_engine(app), "chief", "correct-horse")
    set_password(_engine(app), "clerk", "correct-horse")
    _login(client, "clerk")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "没有权限" in response.get_data(as_text=True)
    assert ">账号</a>" not in client.get("/admin/").get_data(as_text=True)
    denied = _post(client, "/admin/users/chief/delete")
    assert denied.status_code == 403
    assert [u.username for u in records_listing(_engine(app))] == ["chief", "clerk"]


def test_an_administrator_creates_an_editor_and_the_audit_log_says_so(app, client):
    set_password(_engine(app), "chief", "correct-horse")
    _login(client, "chief")
    assert ">账号</a>" in client.get("/admin/").get_data(as_text=True)
    response = _post(
        client, "/admin/users", username="writer", password="long-enough-pw", role="editor"
    )
    assert response.status_code == 302
    assert {u.username: u.role for u in records_listing(_engine(app))}["writer"] == "editor"
    _post(client, "/admin/users/writer/role", role="staff")
    assert {u.username: u.role for u in records_listing(_engine(app))}["writer"] == "staff"
    assert _audit(app)[-2:] == [
        ("chief", "account.create", "writer"),
        ("chief", "account.role", "writer"),
    ]
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "新建账号" in page and "修改角色" in page and "编辑 → 工作人员" in page


def test_a_bad_account_form_says_what_is_wrong_next_to_the_field(app, client):
    set_password(_engine(app), "chief", "correct-horse")
    _login(client, "chief")
    response = _post(client, "/admin/users", username="writer", password="short", role="editor")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "密码至少需要 8 个字符" in page
    assert 'value="writer"' in page  # what was typed is kept
    assert [u.username for u in records_listing(_engine(app))] == ["chief"]


def test_the_last_administrator_stays(app, client):
    set_password(_engine(app), "chief", "correct-horse")
    _login(client, "chief")
    _post(client, "/admin/users/chief/role", role="staff")
    assert records_listing(_engine(app))[0].role == "admin"
    assert "最后一个管理员" in client.get("/admin/users").get_data(as_text=True)
    _post(client, "/admin/users/chief/delete")
    assert [u.username for u in records_listing(_engine(app))] == ["chief"]
    try:
        set_password(_engine(app), "chief", "correct-horse", role="editor")
    except AccountError as exc:
        assert "最后一个管理员" in str(exc)
    else:
        raise AssertionError("the last administrator was demoted")


def test_a_role_taken_away_applies_at_the_next_click(app, client):
    set_password(_engine(app), "chief", "correct-horse")
    set_password(_engine(app), "deputy", "correct-horse", role="admin")
    _login(client, "deputy")
    assert client.get("/admin/users").status_code == 200
    set_password(_engine(app), "deputy", "correct-horse", role="staff", actor="chief")
    assert client.get("/admin/users").status_code == 403


def test_downloads_and_the_report_are_audited(app, client):
    set_password(_engine(app), "chief", "correct-horse")
    _login(client, "chief")
    assert client.get("/admin/export.csv?from=2026-03-01&to=2026-03-31").status_code == 200
    page = client.get("/admin/report?year=2026").get_data(as_text=True)
    assert "年度普法宣传统计" in page
    assert _audit(app)[-2:] == [
        ("chief", "export", "2026-03-01至2026-03-31"),
        ("chief", "report", "2026年"),
    ]


def test_console_errors_are_chinese_pages_and_the_webhook_stays_plain(app, client):
    set_password(_engine(app), "chief", "correct-horse")
    _login(client, "chief")
    missing = client.get("/admin/no-such-page")
    assert missing.status_code == 404
    assert "没有找到这个页面" in missing.get_data(as_text=True)
    assert "text/html" in missing.content_type
    elsewhere = client.get("/no-such-page")
    assert elsewhere.status_code == 404
    assert elsewhere.content_type.startswith("text/plain")


def test_accounts_made_before_roles_become_administrators(tmp_path):
    engine = records.make_engine(f"sqlite:///{tmp_path}/old.db")
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(schema.MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0004")
        connection.execute(
            sa.text(
                "INSERT INTO staff_users (username, password_hash, created_at) "
                "VALUES ('old', 'x', '2026-01-01 00:00:00')"
            )
        )
    schema.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT role FROM staff_users")).scalar_one() == "admin"
