"""The console's figures: the dashboard (the last 30 days), the figures of a chosen period
with its trend picture, downloads and annual report, and the questions of the period the
knowledge base could not answer."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from flask import current_app, render_template, request
from markupsafe import Markup
from sqlalchemy.orm import Session

from .. import figures
from ..figures import exports
from ..figures import report as reports
from ..figures.labels import GRANULARITY_NAMES
from ..figures.series import DAILY
from ..records import audit
from .auth import actor, bp, login_required

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def services():
    return current_app.extensions["legalbot"]


def names() -> figures.Names:
    return figures.Names.of(services().knowledge.current())


def period_args() -> tuple[date, date, str]:
    """The period and granularity chosen on the page (default: this year, by month)."""
    start, end = figures.current_year(services().config.tz)
    start, end = _date_arg("from", start), _date_arg("to", end)
    if start > end:
        start, end = end, start
    granularity = request.args.get("by", "month")
    return start, end, granularity if granularity in figures.GRANULARITIES else "month"


def _date_arg(name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default


def _query(start: date, end: date, granularity: str) -> dict[str, str]:
    return {"from": start.isoformat(), "to": end.isoformat(), "by": granularity}


DASHBOARD_DAYS = 30
# The dashboard's figures: what a glance at the last 30 days should tell.
AT_A_GLANCE = (
    "unique_users",
    "answered",
    "unanswered",
    "urgent",
    "subscribes",
    "unsubscribes",
    "campaign_sent",
)


def add_panel(app, panel) -> None:
    """Add a section to the dashboard: `panel()` gives its HTML (Markup), drawn for the
    logged-in account at each visit. Pages plugged in from outside bot/ use it (the
    campaigns show the upcoming and running ones)."""
    app.extensions.setdefault("legalbot_dashboard", []).append(panel)


@bp.get("/")
@login_required
def index():
    """The dashboard: the last 30 days at a glance, the daily trend, what needs attention."""
    tz, engine = services().config.tz, services().engine
    end = datetime.now(tz).date()
    start = end - timedelta(days=DASHBOARD_DAYS - 1)
    panels = current_app.extensions.get("legalbot_dashboard", [])
    with engine.connect() as conn:
        questions = figures.top_unanswered(conn, start, end, 5)
    return render_template(
        "admin/index.html",
        figures=figures.summary(engine, tz, start, end),
        glance=[figures.LABELS[name] for name in AT_A_GLANCE],
        query=_query(start, end, "day"),
        questions=questions,
        panels=[Markup(panel()) for panel in panels],
        glance_days=DASHBOARD_DAYS,
    )


@bp.get("/stats")
@login_required
def stats():
    """The figures of a chosen period, the trend, the downloads and the report text."""
    tz, engine = services().config.tz, services().engine
    start, end, granularity = period_args()
    return render_template(
        "admin/stats.html",
        figures=figures.summary(engine, tz, start, end),
        labels=figures.FIGURES,
        rows=figures.series(engine, tz, start, end, granularity),
        daily=DAILY,
        names=names(),
        query=_query(start, end, granularity),
        granularity=granularity,
        granularities=GRANULARITY_NAMES,
    )


@bp.get("/trend.svg")
@login_required
def trend():
    """The trend picture of the chosen period (SVG; the browser draws its Chinese text)."""
    start, end, granularity = period_args()
    rows = figures.series(services().engine, services().config.tz, start, end, granularity)
    svg = exports.trend_svg(rows, granularity)
    return current_app.response_class(svg, mimetype="image/svg+xml")


@bp.get("/export.<fmt>")
@login_required
def export(fmt: str):
    """The period's figures as an xlsx or CSV download (`legalbot stats export`)."""
    if fmt not in ("xlsx", "csv"):
        return "unknown format", 404
    start, end, _ = period_args()
    collected = exports.collect(services().engine, services().config.tz, start, end, names())
    buffer = io.BytesIO()
    (exports.write_xlsx if fmt == "xlsx" else exports.write_csv)(collected, buffer)
    mimetype = XLSX if fmt == "xlsx" else "text/csv; charset=utf-8"
    response = current_app.response_class(buffer.getvalue(), mimetype=mimetype)
    name = f"legalbot-stats-{start.isoformat()}-{end.isoformat()}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    _audit("export", f"{start.isoformat()}至{end.isoformat()}", fmt)
    return response


@bp.get("/report")
@login_required
def report():
    """The statistics part of a year's rule-of-law report, ready to copy and paste."""
    this_year = datetime.now(services().config.tz).year
    year = request.args.get("year", this_year, type=int)
    if not 2000 <= (year or 0) <= this_year + 1:
        year = this_year
    collected = exports.collect(
        services().engine, services().config.tz, date(year, 1, 1), date(year, 12, 31), names()
    )
    text = reports.plain_text(collected, year, services().config.town.get("name", ""))
    _audit("report", f"{year}年")
    return render_template("admin/report.html", year=year, text=text, this_year=this_year)


def _audit(action: str, target: str, detail: str = "") -> None:
    with Session(services().engine) as db, db.begin():
        audit(db, actor(), action, target, detail)


@bp.get("/unanswered")
@login_required
def unanswered():
    """The chosen period's unanswered questions, most asked first."""
    start, end, granularity = period_args()
    with services().engine.connect() as conn:
        questions = figures.top_unanswered(conn, start, end, 200)
    return render_template(
        "admin/unanswered.html",
        questions=questions,
        start=start,
        end=end,
        query=_query(start, end, granularity),
    )
