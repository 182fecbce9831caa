"""The console's door: sessions, CSRF, the login and its rate limit.

Forms carry CSRF tokens (Flask-WTF); login attempts are rate-limited per address with
the `limits` library (in Redis when configured, so every worker counts the same
attempts). It is checked in the login view only: a limiter hooked into every request
would cost other routes time for a check that never applies to them.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_wtf import CSRFProtect, FlaskForm
from flask_wtf.csrf import CSRFError
from limits import parse as parse_limit
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .. import records
from ..records import StaffUser

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
csrf = CSRFProtect()


def init_app(app, services) -> None:
    """Sessions, CSRF protection and the login rate limit of the console."""
    config = services.config
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=config.session_minutes)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.session_interface = CookieSessions()
    # Only the console's forms carry a CSRF token, so the check runs for this blueprint
    # alone (`_check_csrf`), not for /healthz.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.extensions["legalbot_login_limit"] = LoginLimit(
        config.login_rate_limit, config.redis_url or "memory://", config.redis_prefix + "login"
    )
    app.register_error_handler(CSRFError, _expired_form)
    app.jinja_env.globals.update(can=can, current_staff=current_staff)


@bp.before_request
def _check_csrf() -> None:
    csrf.protect()  # POST, PUT, PATCH and DELETE need the form's token; 400 without


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without a signer built for a request with no cookie
    (a health check, a script): Flask would build one only to find nothing to read."""

    def open_session(self, app, request):
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)


def _expired_form(_error: CSRFError):
    """A form without a valid CSRF token: usually a page left open too long."""
    return (
        "表单已过期或无效，请返回上一页刷新后重试。",
        400,
        {"Content-Type": "text/plain; charset=utf-8"},
    )


class LoginLimit:
    """How many login attempts an address may make (console.login_rate_limit)."""

    def __init__(self, spec: str, storage_uri: str, prefix: str) -> None:
        self.item = parse_limit(spec)
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.prefix = prefix

    def allow(self, address: str) -> bool:
        """Count one attempt; False when the address is over its limit."""
        return self.limiter.hit(self.item, self.prefix, address)


def current_staff() -> StaffUser | None:
    """The logged-in account, read once per request (a role changed or an account deleted
    by an administrator applies at the next click, not at the next login)."""
    if "staff_user" not in g:
        user = None
        if name := session.get("staff"):
            with Session(current_app.extensions["legalbot"].engine) as db:
                user = db.scalar(select(StaffUser).where(StaffUser.username == name))
                if user is not None:
                    db.expunge(user)
        g.staff_user = user
    return g.staff_user


def can(capability: str) -> bool:
    """Whether the logged-in account's role has `capability` (records.PERMISSIONS)."""
    user = current_staff()
    return user is not None and records.allowed(user.role, capability)


def actor() -> str:
    """Who the audit log names for this request."""
    user = current_staff()
    return user.username if user else "?"


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_staff() is None:
            session.clear()
            return redirect(url_for("admin.login", next=request.path))
        return view(*args, **kwargs)

    return wrapped


def role_required(capability: str):
    """A view only the roles with `capability` may open; others get a 403 page in Chinese."""

    def decorate(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not can(capability):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=256)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "POST":
        limit = current_app.extensions["legalbot_login_limit"]
        if not limit.allow(request.remote_addr or "-"):
            flash("登录尝试次数过多，请稍后再试")
            return render_template("admin/login.html", form=form), 429
    if form.validate_on_submit():
        engine = current_app.extensions["legalbot"].engine
        with Session(engine) as db:
            user = db.scalar(select(StaffUser).where(StaffUser.username == form.username.data))
        if user and check_password_hash(user.password_hash, form.password.data):
            session.clear()
            session.permanent = True
            session["staff"] = user.username
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/admin") else url_for("admin.index"))
        flash("用户名或密码不正确")
    return render_template("admin/login.html", form=form), 200


@bp.post("/logout")
@login_required
def logout():
    session.clear()
    return redirect(url_for("admin.login"))
