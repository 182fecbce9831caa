"""The console's mediation register: the list, a case walked in or referred, one case.

Every change goes through bot/mediation/register.py (the CLI's too) and is audited
there. A case's phone number and description are shown, and may be entered, only by
accounts with "mediation_private" (mediator, administrator); opening them is audited.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from .. import mediation
from ..errors import MediationError
from ..mediation import tables
from ..records import audit
from .auth import actor, bp, can, login_required
from .figures import period_args, services

STAFF_SOURCES = {k: v for k, v in tables.SOURCES.items() if k != "wechat"}
COMMITTEE_CHOICES = [SelectChoice("", "（未分配）")] + [
    SelectChoice(k, v) for k, v in tables.COMMITTEES.items()
]
FILTERS = {"": "全部", "open": "未结案", "closed": "已结案", **tables.STATES}


def _choices(table: dict) -> list[SelectChoice]:
    return [SelectChoice(k, v[1] if isinstance(v, tuple) else v) for k, v in table.items()]


class CaseForm(FlaskForm):
    """A case staff take in: walk-in, from the police mediation rooms, or referred."""

    accepted_on = DateField("受理日期", validators=[DataRequired(message="请填写受理日期")])
    kind = SelectField("纠纷类型", choices=_choices(tables.KINDS))
    source = SelectField("来源", choices=_choices(STAFF_SOURCES))
    committee = SelectField("调委会", choices=COMMITTEE_CHOICES)
    committee_name = StringField("村调委会名称", validators=[Optional(), Length(max=64)])
    mediator = StringField("调解员", validators=[Optional(), Length(max=64)])
    village = StringField("当事人所在村", validators=[Optional(), Length(max=64)])
    phone = StringField("联系电话", validators=[Optional(), Length(max=20)])
    description = TextAreaField("纠纷情况", validators=[Optional(), Length(max=2000)])


class ChangeForm(FlaskForm):
    """Assign, move on, close."""

    committee = SelectField("调委会", choices=COMMITTEE_CHOICES)
    committee_name = StringField("村调委会名称", validators=[Optional(), Length(max=64)])
    mediator = StringField("调解员", validators=[Optional(), Length(max=64)])
    state = SelectField("状态", choices=_choices(tables.STATES))
    closed_on = DateField("结案日期", validators=[Optional()])


def _committee(form) -> tuple[str, str] | None:
    """The committee chosen on a form: (committee, name), or None when unassigned."""
    if not form.committee.data:
        return None
    name = (form.committee_name.data or "").strip()
    village = form.committee.data == tables.VILLAGE
    spec = form.committee.data + (f":{name}" if name and village else "")
    return services().committees.parse(spec)


def _field_error(form, exc: MediationError) -> None:
    field = getattr(form, exc.field or "", None) or getattr(form, "committee", None)
    field.errors = [*(field.errors or []), str(exc)]


@bp.get("/mediation")
@login_required
def mediation_page():
    """The register of a period (default: this year), filtered by state."""
    start, end, _ = period_args()
    state = request.args.get("state", "")
    state = state if state in FILTERS else ""
    found = mediation.cases(services().engine, start, end, state or None)
    query = {"from": start.isoformat(), "to": end.isoformat(), "state": state}
    return render_template(
        "admin/mediation.html", cases=found, query=query, filters=FILTERS, tables=tables
    )


@bp.route("/mediation/new", methods=["GET", "POST"])
@login_required
def mediation_new():
    """Record a case taken in by staff (a request from the account records itself)."""
    form = CaseForm()
    if request.method == "GET":
        form.accepted_on.data = datetime.now(services().config.tz).date()
    private = can("mediation_private")
    if form.validate_on_submit():
        try:
            case = mediation.add_case(
                services().engine,
                services().sealer,
                accepted_on=form.accepted_on.data,
                kind=form.kind.data,
                source=form.source.data,
                actor=actor(),
                committee=_committee(form),
                mediator=form.mediator.data,
                village=form.village.data,
                phone=(form.phone.data or "").strip() if private else None,
                description=form.description.data if private else None,
            )
        except MediationError as exc:
            _field_error(form, exc)
        else:
            flash(f"已登记调解案件 {case['reference']}")
            return redirect(url_for("admin.mediation_case", case_id=case["id"]))
    status = 400 if request.method == "POST" else 200
    police = services().config.town.get("police_mediation", "")
    page = render_template("admin/mediation_new.html", form=form, private=private, police=police)
    return page, status


@bp.route("/mediation/<int:case_id>", methods=["GET", "POST"])
@login_required
def mediation_case(case_id: int):
    """One case: assign committee and mediator, move its state, close it."""
    engine = services().engine
    private = can("mediation_private")
    case = mediation.find(engine, case_id, services().sealer if private else None)
    if case is None:
        abort(404)
    form = ChangeForm(data=_form_data(case)) if request.method == "GET" else ChangeForm()
    if form.validate_on_submit():
        try:
            case = mediation.change(
                engine,
                case_id,
                actor(),
                committee=_committee(form),
                mediator=form.mediator.data or "",
                state=form.state.data,
                closed_on=form.closed_on.data,
                send=services().send_text,
                today=datetime.now(services().config.tz).date(),
            )
        except MediationError as exc:
            _field_error(form, exc)
        else:
            flash(f"已保存：{case['reference']} {tables.state_name(case['state'])}")
            return redirect(url_for("admin.mediation_case", case_id=case_id))
    if private and request.method == "GET" and (case.get("phone") or case.get("description")):
        with Session(engine) as db, db.begin():
            audit(db, actor(), "mediation.private", f"调解案件 {case['reference']}")
    status = 400 if request.method == "POST" else 200
    page = render_template(
        "admin/mediation_case.html", case=case, form=form, private=private, tables=tables
    )
    return page, status


def _form_data(case: dict) -> dict:
    return {
        "committee": case["committee"] or "",
        "committee_name": case["committee_name"] if case["committee"] == tables.VILLAGE else "",
        "mediator": case["mediator"] or "",
        "state": case["state"],
        "closed_on": date.fromisoformat(case["closed_on"]) if case["closed_on"] else None,
    }
