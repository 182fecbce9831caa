"""The knowledge base in the console: entries by theme and search, one entry as residents
see it, "try a question", and entries written as drafts until an editor publishes them.

Everything here reads the live base (the holder's current one) and answers through the
same Answerer the webhook uses; drafts and publishing are drafts.py's.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from ..answer import editing
from ..answer.analyzer import normalize
from ..errors import InvalidEntryError, KnowledgeBaseError, StaleEntryError
from . import drafts
from .auth import actor, bp, can, login_required, role_required
from .figures import services
from .kbform import FORM_FIELDS, EntryForm

# What kind of reply the resident got, as the "try a question" page names it.
REPLY_KINDS = {
    "entry": "按知识条目直接回答",
    "fact": "按热线、宣传日等资料直接回答",
    "urgent": "紧急求助：先提示报警、急救电话",
    "suggest": "没有把握，列出“您是不是想问”",
    "referral": "不属于知识库范围，告诉去哪里问",
    "fallback": "答不了，给出求助渠道（记入未解答问题）",
    "menu": "主题菜单",
    "theme_list": "主题下的问题列表",
    "greeting": "问候",
}
SEARCH_LIMIT = 100
QUESTION_MAX = 500


def _kb():
    return services().knowledge.current()


def _content_dir():
    return services().config.knowledge.content_dir


@bp.get("/kb")
@login_required
def kb_index():
    """The themes with their entries; `?theme=` one theme's, `?q=` a search."""
    kb = _kb()
    query = request.args.get("q", "").strip()[:QUESTION_MAX]
    theme = request.args.get("theme", "")
    if query:
        needle = normalize(query)
        entries = [e for e in kb.entries if needle in _haystack(e)][:SEARCH_LIMIT]
    elif theme in kb.themes:
        entries = kb.by_theme(theme)
    else:
        theme, entries = "", []
    return render_template(
        "admin/kb_index.html",
        kb=kb,
        query=query,
        theme=theme,
        entries=entries,
        counts={slug: len(kb.by_theme(slug)) for slug in kb.themes},
        open_drafts=len(drafts.open_drafts(services().engine)),
        limit=SEARCH_LIMIT,
    )


def _haystack(entry) -> str:
    """What `?q=` searches in: the title, the phrasings, the keywords and the answer."""
    return normalize("\n".join((entry.title, *entry.questions, *entry.keywords, entry.answer)))


@bp.get("/kb/try")
@login_required
def kb_try():
    """What a resident asking `q` would get: the reply through the webhook's Answerer (no
    user, so no conversation state is read or written; nothing is recorded), whether it
    is urgent, and the ranking's candidates with their confidence and matched words."""
    question = request.args.get("q", "").strip()[:QUESTION_MAX]
    kb = _kb()
    answer = candidates = danger = None
    if question:
        answer = services().answerer.ask(question)
        candidates = kb.candidates(question)
        if answer.danger:
            danger = next((k.name for k in kb.triage.kinds if k.key == answer.danger), None)
    return render_template(
        "admin/kb_try.html",
        question=question,
        answer=answer,
        kind=REPLY_KINDS.get(answer.kind, answer.kind) if answer else "",
        danger=danger,
        candidates=candidates,
        kb=kb,
    )


@bp.get("/kb/drafts")
@login_required
def kb_drafts():
    """Drafts waiting to be published, newest first."""
    waiting = drafts.open_drafts(services().engine)
    titles = {d.id: drafts.fields(d)["title"] for d in waiting}
    return render_template("admin/kb_drafts.html", drafts=waiting, titles=titles, kb=_kb())


@bp.get("/kb/<entry_id>")
@login_required
def kb_entry(entry_id: str):
    """One entry as residents receive it, with its legal basis and review date."""
    kb = _kb()
    entry = kb.by_id(entry_id)
    if entry is None:
        abort(404)
    notices = [n.split(": ", 1)[-1] for n in kb.notices if f" {entry.id} " in n]
    return render_template(
        "admin/kb_entry.html",
        entry=entry,
        reply=kb.render(entry),
        theme_name=kb.themes.get(entry.theme, entry.theme),
        notices=notices,
        open_drafts=drafts.open_drafts(services().engine, entry.id),
    )


def _form(kb, chosen=()) -> EntryForm:
    """The entry form; the help lines already `chosen` come first, in their order (the
    order the reply lists them in, which a browser posts back as it shows them)."""
    form = EntryForm()
    form.theme.choices = list(kb.themes.items())
    keys = [k for k in chosen if k in kb.help_texts]
    keys += [k for k in kb.help_texts if k not in keys]
    form.help.choices = [(key, _help_label(key, kb.help_texts[key])) for key in keys]
    return form


def _help_label(key: str, text: str) -> str:
    """A help line as a checkbox's label: its beginning, with its key unless it starts so."""
    return _short(text) if text.startswith(key) else f"{key}：{_short(text)}"


def _short(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@bp.route("/kb/new", methods=["GET", "POST"])
@login_required
def kb_new():
    """A new entry; `?q=` puts a resident's question in as its first phrasing (the
    unanswered queue's "write an entry"), `?theme=` picks the theme."""
    kb = _kb()
    form = _form(kb)
    if request.method == "GET":
        theme = request.args.get("theme", "")
        form.theme.data = theme if theme in kb.themes else next(iter(kb.themes), "")
        question = request.args.get("q", "").strip()[:QUESTION_MAX]
        form.fill({**drafts.EMPTY, "questions": [question] if question else []})
        form.entry_id.data = f"{form.theme.data}-"
        return _form_page(form, kb, title="新建知识条目")
    if not form.validate_on_submit():
        return _form_page(form, kb, title="新建知识条目"), 400
    theme = form.theme.data if form.theme.data in kb.themes else ""
    if not theme:
        form.theme.errors = ["请选择主题"]
        return _form_page(form, kb, title="新建知识条目"), 400
    draft_id = drafts.save(services().engine, actor(), theme, form.values())
    flash("已保存为草稿，编辑发布后群众才能看到")
    return redirect(url_for("admin.kb_draft", draft_id=draft_id))


@bp.route("/kb/<entry_id>/edit", methods=["GET", "POST"])
@login_required
def kb_edit(entry_id: str):
    """Edit a published entry: the form holds its text as written in its theme file (the
    town's placeholders untouched) and the digest of that text, to refuse publishing
    over a change made meanwhile."""
    kb = _kb()
    located = editing.locate(_content_dir(), entry_id)
    if located is None:
        abort(404)
    form = _form(kb, located.raw.get("help") or ())
    form.theme.data = located.theme
    title = f"修改：{located.raw.get('title', entry_id)}"
    if request.method == "GET":
        form.fill(drafts.fields_of(located.raw))
        form.base.data = located.digest
        return _form_page(form, kb, title=title, fixed=True)
    form.theme.data = located.theme
    if not form.validate_on_submit():
        return _form_page(form, kb, title=title, fixed=True), 400
    values = {**form.values(), "id": entry_id}
    draft_id = drafts.save(
        services().engine,
        actor(),
        located.theme,
        values,
        base_digest=form.base.data or located.digest,
        is_new=False,
    )
    flash("已保存为草稿，编辑发布后群众才能看到修改")
    return redirect(url_for("admin.kb_draft", draft_id=draft_id))


@bp.route("/kb/drafts/<int:draft_id>", methods=["GET", "POST"])
@login_required
def kb_draft(draft_id: int):
    """A draft in its form: save changes, and (editors) publish it."""
    draft = drafts.get(services().engine, draft_id)
    if draft is None:
        abort(404)
    kb = _kb()
    form = _draft_form(kb, draft)
    if request.method == "POST":
        if not form.validate_on_submit():
            return _draft_page(form, kb, draft), 400
        _save_draft(form, draft)
        flash("草稿已保存")
        return redirect(url_for("admin.kb_draft", draft_id=draft.id))
    return _draft_page(form, kb, draft, drafts.problems(draft))


@bp.post("/kb/drafts/<int:draft_id>/publish")
@role_required("publish")
def kb_publish(draft_id: int):
    """Save what the form holds, then publish the draft into its theme file; every worker
    reloads the base (this one at once, the others at their next check)."""
    draft = drafts.get(services().engine, draft_id)
    if draft is None:
        abort(404)
    kb = _kb()
    form = _draft_form(kb, draft)
    if not form.validate_on_submit():
        return _draft_page(form, kb, draft), 400
    if draft.state == drafts.DraftState.DRAFT:
        _save_draft(form, draft)
    try:
        drafts.publish(services().engine, actor(), draft.id, _content_dir())
    except InvalidEntryError as exc:
        flash("未发布：条目有下面标出的问题，草稿已保存，改正后再发布")
        return _draft_page(form, kb, draft, exc.fields), 400
    except StaleEntryError as exc:
        flash(f"未发布：{exc}")
        return _draft_page(form, kb, draft, {"": [str(exc)]}), 409
    except KnowledgeBaseError as exc:
        flash(f"未发布：{exc}")
        return redirect(url_for("admin.kb_drafts"))
    services().knowledge.reload_soon()
    entry_id = drafts.get(services().engine, draft.id).entry_id
    flash(f"已发布 {entry_id}，几秒钟后群众提问就会用上新内容")
    return redirect(url_for("admin.kb_drafts"))


@bp.post("/kb/drafts/<int:draft_id>/discard")
@login_required
def kb_discard(draft_id: int):
    """Set a draft aside (kept in the records, no longer listed)."""
    done = drafts.discard(services().engine, actor(), draft_id)
    flash("草稿已删除" if done else "这份草稿已经发布或已删除")
    return redirect(url_for("admin.kb_drafts"))


def _draft_form(kb, draft) -> EntryForm:
    form = _form(kb, drafts.fields(draft)["help"])
    if request.method == "GET":
        form.fill(drafts.fields(draft))
        form.theme.data = draft.theme
    if not draft.is_new:
        form.theme.data = draft.theme
    return form


def _save_draft(form: EntryForm, draft) -> None:
    """Keep what the form holds on the draft (an edit keeps its entry's id and theme)."""
    values = form.values()
    theme = draft.theme
    if draft.is_new and form.theme.data in _kb().themes:
        theme = form.theme.data
    if not draft.is_new:
        values["id"] = draft.entry_id
    drafts.save(
        services().engine,
        actor(),
        theme,
        values,
        draft_id=draft.id,
        base_digest=draft.base_digest,
        is_new=draft.is_new,
    )


def _draft_page(form, kb, draft, problems=None):
    return _form_page(
        form,
        kb,
        title=f"草稿：{form.title.data or draft.entry_id or '（无标题）'}",
        draft=draft,
        problems=problems or {},
        fixed=not draft.is_new,
    )


def _form_page(form, kb, *, title, draft=None, problems=None, fixed=False):
    """The entry form; `problems` (by theme-file field) shown under their fields, with
    the form's own errors."""
    problems = dict(problems or {})
    by_form_field = {name: problems.pop(key, []) for name, key in FORM_FIELDS.items()}
    return render_template(
        "admin/kb_form.html",
        form=form,
        title=title,
        draft=draft,
        problems=by_form_field,
        general=[p for found in problems.values() for p in found],
        fixed=fixed,
        can_publish=can("publish"),
        theme_name=kb.themes.get(form.theme.data, form.theme.data),
    )
