"""The staff console under /admin: login, figures, exports, activities, unanswered questions.

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
from flask.sessions import SecureCookieSessionInterface
from flask_wtf import CSRFProtect, FlaskForm
from flask_wtf.csrf import CSRFError
from limits import parse as parse_limit
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash
from wtforms import (
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from . import activities, exports, records, stats
from .errors import ActivityError

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
    app.session_interface = CookieSessions()
    # Only the console's forms carry a CSRF token (WeChat signs its POSTs instead), so
    # the check runs for this blueprint alone, not as a hook on every webhook call.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    # init_app also hooks every request of the app; with the default check off that hook
    # only returns, at a cost to every webhook call, so it is taken off again.
    hooks = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [f for f in hooks if f.__name__ != "csrf_protect"]
    app.extensions["legalbot_login_limit"] = LoginLimit(
        config.login_rate_limit, config.redis_url or "memory://", config.redis_prefix + "login"
    )
    app.register_blueprint(bp)
    app.register_error_handler(CSRFError, _expired_form)


@bp.before_request
def _check_csrf() -> None:
    csrf.protect()  # POST, PUT, PATCH and DELETE need the form's token; 400 without


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without a signer built for a request with no cookie.

    Every webhook call is such a request (WeChat sends no cookies): Flask would build
    an itsdangerous serializer for each only to find nothing to read.
    """

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


class ActivityForm(FlaskForm):
    held_on = DateField("日期", validators=[DataRequired(message="请填写日期")])
    kind = SelectField(
        "活动类型", choices=[SelectChoice(k, v) for k, v in stats.ACTIVITY_KINDS.items()]
    )
    place = StringField("地点", validators=[DataRequired(message="请填写地点"), Length(max=200)])
    theme = SelectField("主题", choices=[], validate_choice=False)
    attendance = IntegerField("参与人数", validators=[Optional(), NumberRange(min=0)])
    scene = StringField("二维码场景值", validators=[Optional(), Length(max=64)])
    note = TextAreaField("备注", validators=[Optional(), Length(max=2000)])


def _period_args() -> tuple[date, date, str]:
    """The period and granularity chosen on the page (default: this year, by month)."""
    tz = current_app.extensions["legalbot"].config.tz
    start, end = stats.current_year(tz)
    start, end = _date_arg("from", start), _date_arg("to", end)
    if start > end:
        start, end = end, start
    granularity = request.args.get("by", "month")
    return start, end, granularity if granularity in stats.GRANULARITIES else "month"


def _names() -> stats.Names:
    return stats.Names.of(current_app.extensions["legalbot"].knowledge.current())


@bp.get("/")
@login_required
def index():
    services = current_app.extensions["legalbot"]
    tz = services.config.tz
    start, end, granularity = _period_args()
    figures = stats.summary(services.engine, tz, start, end)
    rows = stats.series(services.engine, tz, start, end, granularity)
    query = {"from": start.isoformat(), "to": end.isoformat(), "by": granularity}
    return render_template(
        "admin/index.html",
        figures=figures,
        rows=rows,
        names=_names(),
        query=query,
        granularity=granularity,
        granularities=exports.GRANULARITY_NAMES,
        headers=exports.SERIES_HEADERS,
    )


@bp.get("/trend.svg")
@login_required
def trend():
    """The trend picture of the chosen period (SVG; the browser draws its Chinese text)."""
    services = current_app.extensions["legalbot"]
    start, end, granularity = _period_args()
    rows = stats.series(services.engine, services.config.tz, start, end, granularity)
    svg = exports.trend_svg(rows, granularity)
    return current_app.response_class(svg, mimetype="image/svg+xml")


@bp.get("/export.<fmt>")
@login_required
def export(fmt: str):
    """The period's figures as an xlsx or CSV download (`legalbot stats export`)."""
    import io

    if fmt not in ("xlsx", "csv"):
        return "unknown format", 404
    services = current_app.extensions["legalbot"]
    start, end, _ = _period_args()
    figures = exports.collect(services.engine, services.config.tz, start, end, _names())
    buffer = io.BytesIO()
    (exports.write_xlsx if fmt == "xlsx" else exports.write_csv)(figures, buffer)
    mimetype = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if fmt == "xlsx"
        else "text/csv; charset=utf-8"
    )
    response = current_app.response_class(buffer.getvalue(), mimetype=mimetype)
    name = f"legalbot-stats-{start.isoformat()}-{end.isoformat()}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/activities", methods=["GET", "POST"])
@login_required
def activities_page():
    """Record an offline activity and list those recorded."""
    services = current_app.extensions["legalbot"]
    names = _names()
    form = ActivityForm()
    themes = [SelectChoice(slug, name) for slug, name in names.themes.items()]
    form.theme.choices = [SelectChoice("", "（不限）"), *themes]
    if form.validate_on_submit():
        try:
            added = activities.add(
                services.engine,
                held_on=form.held_on.data,
                kind=form.kind.data,
                place=form.place.data,
                themes=names.themes,
                theme=form.theme.data or None,
                attendance=form.attendance.data,
                scene=(form.scene.data or "").strip() or None,
                note=form.note.data,
            )
        except ActivityError as exc:
            flash(f"未保存：{exc}")
        else:
            flash(f"已登记：{added['date']} {added['kind_name']} {added['place']}")
            return redirect(url_for("admin.activities_page"))
    for field_name, errors in form.errors.items():
        if field_name != "csrf_token":
            flash(f"未保存：{getattr(form, field_name).label.text}：{'；'.join(errors)}")
    status = 400 if request.method == "POST" else 200
    listed = activities.list_activities(services.engine)
    return render_template(
        "admin/activities.html",
        form=form,
        activities=listed,
        names=names,
    ), status


@bp.post("/activities/<int:activity_id>/delete")
@login_required
def delete_activity(activity_id: int):
    """Delete an activity recorded by mistake (CSRFProtect refuses a POST without a token)."""
    removed = activities.remove(current_app.extensions["legalbot"].engine, activity_id)
    flash("已删除" if removed else "没有这项活动")
    return redirect(url_for("admin.activities_page"))


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
