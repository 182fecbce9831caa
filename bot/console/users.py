"""/admin/users (administrators: accounts and roles) and /admin/audit (who did what)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from .. import records
from . import accounts
from .auth import actor, bp, login_required, role_required
from .figures import services

AUDIT_PAGE = 100


class AccountForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请填写用户名"), Length(max=64)])
    password = PasswordField(
        "密码（至少 8 个字符）", validators=[DataRequired("请填写密码"), Length(max=256)]
    )
    role = SelectField(
        "角色", choices=[SelectChoice(key, name) for key, name in records.ROLE_NAMES.items()]
    )


@bp.route("/users", methods=["GET", "POST"])
@role_required("accounts")
def users():
    """Accounts with their roles; a form that creates one or resets its password."""
    form = AccountForm()
    if form.validate_on_submit():
        try:
            created = accounts.set_password(
                services().engine, form.username.data, form.password.data, form.role.data, actor()
            )
        except accounts.AccountError as exc:
            form.username.errors.append(str(exc))
        else:
            flash(f"{'已创建' if created else '已更新'}账号 {form.username.data}")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/users.html",
        form=form,
        users=accounts.listing(services().engine),
        roles=records.ROLE_NAMES,
    ), (400 if form.errors else 200)


@bp.post("/users/<username>/role")
@role_required("accounts")
def user_role(username: str):
    try:
        accounts.set_role(services().engine, username, request.form.get("role", ""), actor())
    except accounts.AccountError as exc:
        flash(str(exc))
    else:
        flash(f"已修改 {username} 的角色")
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>/delete")
@role_required("accounts")
def user_delete(username: str):
    try:
        accounts.delete(services().engine, username, actor())
    except accounts.AccountError as exc:
        flash(str(exc))
    else:
        flash(f"已删除账号 {username}")
    return redirect(url_for("admin.users"))


@bp.get("/audit")
@login_required
def audit():
    """The audit log, newest first, a hundred entries a page."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    with Session(services().engine) as db:
        total = db.scalar(select(func.count()).select_from(records.AuditEntry))
        entries = list(
            db.scalars(
                select(records.AuditEntry)
                .order_by(records.AuditEntry.at.desc(), records.AuditEntry.id.desc())
                .offset((page - 1) * AUDIT_PAGE)
                .limit(AUDIT_PAGE)
            )
        )
    return render_template(
        "admin/audit.html",
        entries=entries,
        actions=records.ACTIONS,
        page=page,
        pages=max((total + AUDIT_PAGE - 1) // AUDIT_PAGE, 1),
        tz=services().config.tz,
        aware=records.aware,
    )
