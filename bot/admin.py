"""The staff console under /admin: login, the year's figures, unanswered questions.

Forms carry CSRF tokens (Flask-WTF); login attempts are rate-limited per address with
the `limits` library (in Redis when configured, so every worker counts the same
attempts). It is checked in the login view only: a limiter hooked into every request
would cost the webhook time on each message for a check that never applies to it.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
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

from . import records, stats

bp = Blueprint("admin", __name__, url_prefix="/admin")
csrf = CSRFProtect()


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=256)])


def init_app(app, services) -> None:
    """Attach the console, CSRF protection and the login rate limit to the app."""
    config = services.config
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=config.session_minutes)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    csrf.init_app(app)
    csrf.exempt("bot.webhook.receive")  # WeChat signs its POSTs; it has no CSRF token
    app.extensions["legalbot_login_limit"] = LoginLimit(
        config.login_rate_limit, config.redis_url or "memory://", config.redis_prefix + "login"
    )
    app.register_blueprint(bp)
    app.register_error_handler(CSRFError, _expired_form)


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


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not session.get("staff"):
            return redirect(url_for("admin.login", next=request.path))
        return view(*args, **kwargs)

    return wrapped


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
            user = db.scalar(
                select(records.StaffUser).where(records.StaffUser.username == form.username.data)
            )
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


@bp.get("/")
@login_required
def index():
    services = current_app.extensions["legalbot"]
    tz = services.config.tz
    start, end = stats.current_year(tz)
    start = _date_arg("from", start)
    end = _date_arg("to", end)
    figures = stats.summary(services.engine, tz, start, end)
    themes = services.knowledge.current().themes
    return render_template("admin/index.html", figures=figures, themes=themes)


@bp.get("/unanswered")
@login_required
def unanswered():
    engine = current_app.extensions["legalbot"].engine
    return render_template("admin/unanswered.html", questions=records.top_unanswered(engine, 200))


def _date_arg(name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default
