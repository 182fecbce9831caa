"""The console's figures: the overview of a period, its trend picture, its downloads, and
the questions of the period the knowledge base could not answer."""

from __future__ import annotations

import io
from datetime import date

from flask import current_app, render_template, request

from .. import figures
from ..figures import exports
from ..figures.labels import GRANULARITY_NAMES
from ..figures.series import DAILY
from .auth import bp, login_required

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


@bp.get("/")
@login_required
def index():
    tz, engine = services().config.tz, services().engine
    start, end, granularity = period_args()
    return render_template(
        "admin/index.html",
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
    return response


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
