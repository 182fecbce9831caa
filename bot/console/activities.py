"""The console's offline activities: record one, list them, delete one recorded by mistake."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..errors import ActivityError
from ..figures import activities
from .auth import bp, login_required
from .figures import names, services


class ActivityForm(FlaskForm):
    held_on = DateField("日期", validators=[DataRequired(message="请填写日期")])
    kind = SelectField(
        "活动类型",
        choices=[SelectChoice(k, v) for k, v in activities.ACTIVITY_KINDS.items()],
    )
    place = StringField("地点", validators=[DataRequired(message="请填写地点"), Length(max=200)])
    theme = SelectField("主题", choices=[], validate_choice=False)
    attendance = IntegerField("参与人数", validators=[Optional(), NumberRange(min=0)])
    scene = StringField("二维码场景值", validators=[Optional(), Length(max=64)])
    note = TextAreaField("备注", validators=[Optional(), Length(max=2000)])


@bp.route("/activities", methods=["GET", "POST"])
@login_required
def activities_page():
    """Record an offline activity and list those recorded."""
    engine, known = services().engine, names()
    form = ActivityForm()
    themes = [SelectChoice(slug, name) for slug, name in known.themes.items()]
    form.theme.choices = [SelectChoice("", "（不限）"), *themes]
    if form.validate_on_submit():
        try:
            added = activities.add(
                engine,
                held_on=form.held_on.data,
                kind=form.kind.data,
                place=form.place.data,
                themes=known.themes,
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
    listed = activities.list_activities(engine)
    page = render_template("admin/activities.html", form=form, activities=listed, names=known)
    return page, status


@bp.post("/activities/<int:activity_id>/delete")
@login_required
def delete_activity(activity_id: int):
    """Delete an activity recorded by mistake (CSRFProtect refuses a POST without a token)."""
    removed = activities.remove(services().engine, activity_id)
    flash("已删除" if removed else "没有这项活动")
    return redirect(url_for("admin.activities_page"))
