"""The campaigns in the staff console: /admin/campaigns, plugged in by the `legalbot.console`
entry point (bot/plugins.py). Every page is behind the console's login.

Each action calls what `legalbot campaign …` calls (service.Campaigns), is refused in
Chinese when states.MOVES forbids it, and is written to the audit log (never an OpenID).
The web layer only changes a campaign's state; "send now" and "resume" hand the send to
a thread of this worker (sends.py), claimed like `campaign send` claims it.
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import select

from bot import records
from bot.console.auth import actor, csrf, login_required
from bot.console.figures import add_panel
from bot.errors import CampaignError

from . import content as contents
from . import figures, forms, schedules, store, words
from .models import CampaignEngagement
from .sends import Sends
from .service import CANCELLABLE, SCHEDULABLE, SENDABLE, Campaigns
from .states import STATE_NAMES, State

bp = Blueprint("campaigns", __name__, url_prefix="/admin/campaigns", template_folder="templates")
SEARCH_LIMIT = 20


@bp.before_request
def _check_csrf() -> None:
    csrf.protect()  # every POST carries the form's token (bot/console/auth.py); 400 without


def init_app(app, services) -> None:
    """The `legalbot.console` entry point: the pages, and the dashboard's panel."""
    app.extensions["legalbot_campaigns"] = Campaigns(
        services.config, engine=services.engine, knowledge=services.knowledge.current
    )
    app.extensions["legalbot_campaign_sends"] = Sends()
    app.register_blueprint(bp)
    app.jinja_env.globals.update(state_name=words.state_name)
    add_panel(app, panel)


def service() -> Campaigns:
    return current_app.extensions["legalbot_campaigns"]


def _audit(action: str, campaign: dict, detail: str = "") -> None:
    store.audit(service().engine, actor(), action, words.target(campaign), detail)


def _shown(c: dict) -> dict:
    """A campaign object with what the pages print in Chinese."""
    themes, calendar = service().theme_names(), service().calendar
    done = c["sent"] + c["skipped"] + c["failed"]
    return c | {
        "state_name": words.state_name(c["state"]),
        "theme_name": themes.get(c["theme"], c["theme"]),
        "audience_name": figures.audience_name(c["audience"]),
        "schedule_name": words.describe_schedule(c["schedule_kind"], c["schedule"], calendar),
        "when": (c["scheduled_at"] or "")[:16].replace("T", " "),
        "percent": min(100, round(100 * done / c["recipients"])) if c["recipients"] else 0,
    }


@bp.get("")
@login_required
def index():
    """Every campaign, newest first, with state, counts and next time."""
    campaigns = [_shown(c) for c in reversed(service().list_all())]
    return render_template("campaigns/list.html", campaigns=campaigns)


# ---- a new campaign ----------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """The form that makes a campaign; "search" and "preview" redraw it, "save" saves."""
    form = forms.CampaignForm()
    form.fill(service())
    chosen = list(dict.fromkeys(request.form.getlist("entries")))
    action = request.form.get("action", "save")
    problem, status, preview = None, 200, None
    if request.method == "POST" and action == "preview":
        preview = _form_preview(form, chosen)
    elif request.method == "POST" and action == "save" and form.validate():
        saved, problem = _create(form, chosen)
        if saved is not None:
            flash(f"已保存推送「{saved['name']}」：{words.state_name(saved['state'])}")
            return redirect(url_for("campaigns.show", campaign_id=int(saved["id"])))
        status = 400
    elif request.method == "POST" and action == "save":
        status = 400
    return render_template(
        "campaigns/new.html",
        form=form,
        problem=problem,
        preview=preview,
        chosen=_entries(chosen),
        found=_search(form.q.data, chosen) if request.method == "POST" else [],
        max_bytes=contents.MAX_TEXT_BYTES,
    ), status


def _create(form, chosen: list[str]) -> tuple[dict | None, str | None]:
    """Check every field (each problem next to its own), then create as the CLI does."""
    name = (form.name.data or "").strip()
    if not name:
        forms._wrong(form.name, "请填写名称，如“2027年宪法宣传日”")
    if form.theme.data not in service().theme_names():
        forms._wrong(form.theme, "请选择主题")
    content = form.content(service(), chosen)
    audience = form.audience_value()
    when = form.schedule(service())
    if any(f.errors for f in form) or None in (content, audience, when):
        return None, None
    if isinstance(audience, list):
        audience = f"openids:{forms.openids_file(service().config.var_dir, audience)}"
    if content.kind == contents.TEXT:
        args = {"text": content.data["text"]}
    elif content.kind == contents.ENTRIES:
        args = {"entries": content.data["entries"]}
    else:
        args = {"article": content.data}
    try:
        created = service().create(name, form.theme.data, audience, **args, **when)
    except CampaignError as exc:
        return None, str(exc)
    _audit("campaign.create", created, figures.audience_name(created["audience"]))
    if created["state"] == State.SCHEDULED:
        _audit("campaign.schedule", created, created["scheduled_at"] or "")
    return created, None


def _form_preview(form, chosen: list[str]) -> dict | None:
    """What residents would receive from the form as it is (nothing saved)."""
    content = form.content(service(), chosen)
    if content is None:
        return None
    mass = form.audience.data in ("all", "tag")
    heading = (form.name.data or "").strip() or "推送名称"
    try:
        return contents.as_received(content, heading, service().knowledge, mass)
    except CampaignError as exc:
        forms._wrong(form.q, str(exc))
        return None


def _entries(ids: list[str]) -> list:
    kb = service().knowledge()
    return [e for e in (kb.by_id(i) for i in ids) if e is not None]


def _search(query: str | None, chosen: list[str]) -> list:
    """Entries whose title or phrasings hold every word of `query` (not those chosen)."""
    words_ = (query or "").lower().split()
    if not words_:
        return []
    found = []
    for entry in service().knowledge().entries:
        text = " ".join((entry.title, *entry.questions)).lower()
        if entry.id not in chosen and all(w in text for w in words_):
            found.append(entry)
            if len(found) == SEARCH_LIMIT:
                break
    return found


# ---- one campaign -------------------------------------------------------------------------


@bp.get("/<int:campaign_id>")
@login_required
def show(campaign_id: int):
    return _page(campaign_id)


def _page(campaign_id: int, status: int = 200, problem: str | None = None, **extra):
    """One campaign: state, counts, progress, reach, what residents get, the actions."""
    try:
        c = _shown(service().show(campaign_id))
    except CampaignError:
        abort(404)
    try:
        received, broken = service().received(campaign_id), None
    except CampaignError as exc:
        received, broken = None, str(exc)
    when = extra.pop("when_form", None) or forms.WhenForm(formdata=None, when="at")
    when.fill(service())
    return render_template(
        "campaigns/show.html",
        c=c,
        received=received,
        broken=broken,
        engaged=_engaged(campaign_id, c),
        can=_can(c),
        when_form=when,
        problem=problem,
        refresh=c["state"] == State.SENDING,
        occurrences=[_shown(o) for o in service().list_all() if o["parent_id"] == c["id"]][-10:],
        **extra,
    ), status


def _can(c: dict) -> dict[str, bool]:
    """Which actions states.MOVES allows in the campaign's state."""
    recurring = c["schedule_kind"] == schedules.CRON and c["parent_id"] is None
    return {
        "schedule": c["state"] in SCHEDULABLE,
        "plan": c["state"] == State.DRAFT and c["plan_key"] is not None,
        "cancel": c["state"] in CANCELLABLE,
        "resume": c["state"] == State.PAUSED,
        # a paused send goes on with "resume" (the same move)
        "send": (c["state"] == State.SCHEDULED)
        if recurring
        else c["state"] in SENDABLE and c["state"] != State.PAUSED,
        "preview": c["state"] != State.CANCELLED,
    }


def _engaged(campaign_id: int, c: dict) -> int | None:
    """Residents who interacted within 72 hours after it reached them (figures.py)."""
    if not c["started_at"]:
        return None
    engine = service().engine
    with engine.connect() as conn:
        frozen = conn.execute(
            select(CampaignEngagement.engaged).where(CampaignEngagement.campaign_id == campaign_id)
        ).scalar_one_or_none()
        if frozen is not None:
            return frozen
        return figures.engagement(conn, store.get(engine, campaign_id))


NO_WECHAT = (
    "还没有配置公众号的 AppID 和 AppSecret（config.toml 的 [wechat]，或 LEGALBOT_WECHAT_APPID、"
    "LEGALBOT_WECHAT_SECRET），现在无法发送。请联系管理员。"
)
VERBS = {"schedule": "排期", "cancel": "取消", "resume": "恢复发送", "send": "立即发送"}
ALLOWED = {"schedule": SCHEDULABLE, "cancel": CANCELLABLE, "resume": (State.PAUSED,)}


def _refused(c: dict, action: str) -> str:
    allowed = ALLOWED.get(action, SENDABLE)
    names = "、".join(STATE_NAMES[s] for s in allowed)
    return (
        f"这条推送现在是「{words.state_name(c['state'])}」，不能{VERBS[action]}"
        f"（只有{names}的推送可以{VERBS[action]}）。"
    )


@bp.post("/<int:campaign_id>/<any(schedule, cancel, resume, send):action>")
@login_required
def act(campaign_id: int, action: str):
    """Schedule or reschedule, cancel, resume a paused send, send now."""
    try:
        c = service().show(campaign_id)
    except CampaignError:
        abort(404)
    allowed = _can(c)
    key = "plan" if action == "schedule" and "planned" in request.form else action
    if not (allowed[key] or (action == "send" and allowed["resume"])):
        return _page(campaign_id, 409, _refused(c, action))
    when_form = forms.WhenForm()
    when_form.fill(service())
    try:
        if action == "schedule":
            when = {} if "planned" in request.form else when_form.schedule(service(), False)
            if when is None:
                return _page(campaign_id, 400, None, when_form=when_form)
            done = service().schedule(campaign_id, **when)
            _audit("campaign.schedule", done, done["scheduled_at"] or "")
            flash(f"已排期：{done['scheduled_at'][:16].replace('T', ' ')} 发送")
        elif action == "cancel":
            done = service().cancel(campaign_id)
            _audit("campaign.cancel", done)
            flash("已取消这条推送")
        elif service().client is None:
            return _page(campaign_id, 409, NO_WECHAT)
        else:
            current_app.extensions["legalbot_campaign_sends"].start(service(), campaign_id)
            _audit(f"campaign.{'resume' if action == 'resume' else 'send'}", c)
            flash("已开始发送，本页会自动刷新进度")
    except CampaignError as exc:
        return _page(campaign_id, 409, f"未能{VERBS[action]}：{exc}")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@bp.post("/<int:campaign_id>/preview")
@login_required
def preview(campaign_id: int):
    """Send the content to the OpenIDs typed (test followers), as `campaign preview`."""
    typed = request.form.get("openids", "")
    openids = forms.typed_openids(typed)
    if isinstance(openids, str):
        return _page(campaign_id, 400, None, preview_error=openids, typed=typed)
    if service().client is None:
        return _page(campaign_id, 409, NO_WECHAT, typed=typed)
    try:
        c = service().show(campaign_id)
        results = service().preview(campaign_id, openids)
    except CampaignError as exc:
        return _page(campaign_id, 409, f"未能发送预览：{exc}", typed=typed)
    reached = sum(1 for _, error in results if error is None)
    _audit("campaign.preview", c, f"{reached}/{len(results)} 个测试账号收到")
    lines = [
        f"第 {n} 个：{'已发送' if error is None else '没有发出：' + error}" for n, error in results
    ]
    return _page(campaign_id, 200, None, preview_results=lines, typed=typed)


# ---- the year's publicity calendar ----------------------------------------------------------


@bp.route("/plan", methods=["GET", "POST"])
@login_required
def plan():
    """The year's calendar drafts (`campaign plan`): generate, review, schedule at once."""
    this_year = datetime.now(service().tz).year
    year = request.values.get("year", this_year, type=int) or this_year
    if not this_year - 1 <= year <= this_year + 5:
        year = this_year
    if request.method == "POST" and request.form.get("action") == "generate":
        planned = service().plan(year)
        made = sum(1 for _, created in planned if created)
        store.audit(
            service().engine, actor(), "campaign.plan", f"{year}年普法日历", f"新建 {made} 条草稿"
        )
        flash(f"已生成 {made} 条草稿" if made else "这一年的草稿已经都有了")
        return redirect(url_for("campaigns.plan", year=year))
    problems = []
    if request.method == "POST" and request.form.get("action") == "schedule":
        chosen = request.form.getlist("ids")
        if not chosen:
            problems.append("请先勾选要排期的推送")
        for campaign_id in chosen:
            try:
                done = service().schedule(campaign_id)
            except CampaignError as exc:
                problems.append(f"推送 {campaign_id} 未能排期：{exc}")
                continue
            _audit("campaign.schedule", done, done["scheduled_at"] or "")
        if not problems:
            flash(f"已排期 {len(chosen)} 条推送")
            return redirect(url_for("campaigns.plan", year=year))
    drafts = []
    now = records.now().astimezone(service().tz).isoformat()
    for c in service().list_all():
        if (c["plan_key"] or "").startswith(f"{year}:"):
            try:
                text = service().message_text(c["id"])
            except CampaignError as exc:
                text = str(exc)
            drafts.append(_shown(c) | {"text": text, "future": (c["scheduled_at"] or "") > now})
    drafts.sort(key=lambda c: c["scheduled_at"] or "")
    return render_template(
        "campaigns/plan.html", year=year, this_year=this_year, drafts=drafts, problems=problems
    ), (400 if problems else 200)


def panel() -> Markup:
    """The dashboard's section: campaigns sending now and the next ones to go out."""
    campaigns = [_shown(c) for c in service().list_all()]
    running = [c for c in campaigns if c["state"] in (State.SENDING, State.PAUSED)]
    upcoming = sorted(
        (c for c in campaigns if c["state"] == State.SCHEDULED), key=lambda c: c["scheduled_at"]
    )[:5]
    return Markup(render_template("campaigns/panel.html", running=running, upcoming=upcoming))
