"""Asking for mediation on the account: a short form, one question a message.

申请调解 (or the menu key) starts it: the kind of dispute (by number), the village, one
sentence on what happened, and how to reach the resident (a phone number, or 1 for "reply
here"); then a summary to confirm. Every step takes a number, 改2 goes back to step 2,
取消 drops the form, and a form left half-way is dropped after `mediation.form_minutes`.
我的调解 tells the state of the resident's cases.

Like every handler (bot/inbox/dispatch.py), a step writes nothing: it returns a Step
saying what to reply, the form to keep and the case to file, and the inbox `keep`s it
once the message is claimed, so a retried message is not taken twice. The form lives in
the shared state (Redis or in-process), its personal fields sealed like the register's.
The dispatcher sends a resident in danger to the danger reply before any of this.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..errors import MediationError
from ..state import State, get_json, set_json
from . import register, tables
from .privacy import Sealer, masked, phone_number

log = logging.getLogger(__name__)

START = {
    "申请调解",
    "找人调解",
    "我要调解",
    "我想调解",
    "要调解",
    "请求调解",
    "调解申请",
    "申请人民调解",
}
MINE = {"我的调解", "调解进度", "查调解", "查询调解", "我的调解申请"}
CANCEL = {"取消", "不申请了", "算了", "退出", "不调解了", "取消申请"}
SUBMIT = {"1", "提交", "确认", "确定", "对", "是", "好", "可以"}
MENU_KEYS = {"MEDIATION_APPLY": "start", "MEDIATION_MINE": "mine"}
STEPS = ("kind", "village", "what", "contact")
KIND_SLUGS = list(tables.KINDS)
_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_NUMBER = re.compile(r"(?:第|选)?([0-9]{1,2}|[一二三四五六七八九十])(?:个|项|号|\.)?")
_EDIT = re.compile(r"(?:改|修改)第?([1-4一二三四])步?")
_TAIL = "。.！!？?~～ "
WHAT_MIN, WHAT_MAX = 4, 200


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().strip(_TAIL).replace(" ", "")


def _number(plain: str) -> int | None:
    found = _NUMBER.fullmatch(plain)
    if not found:
        return None
    raw = found.group(1)
    return int(raw) if raw.isdigit() else _CN[raw]


@dataclass
class Step:
    """What one message of the conversation does: the reply, the form to keep (None:
    drop it) and, on the last step, the case to file."""

    reply: str
    form: dict[str, Any] | None
    filing: dict[str, Any] | None = None
    touched: bool = True  # False: the message was not part of a form (我的调解)


class Intake:
    """The conversation's steps, the form's keeping, and the filing of the request."""

    def __init__(
        self,
        engine: Engine,
        state: State,
        sealer: Sealer,
        committees: register.Committees,
        settings,
        tz: ZoneInfo,
    ) -> None:
        self.engine, self.state, self.sealer = engine, state, sealer
        self.committees = committees
        self.reply_days = settings.reply_days
        self.ttl = settings.form_minutes * 60
        self.tz = tz

    # -- reading (before the claim) -------------------------------------------------------

    def form(self, user: str) -> dict[str, Any] | None:
        return get_json(self.state, f"mediation:{user}")

    def wants(self, text: str, user: str) -> bool:
        """The message starts the form, asks for 我的调解, or answers an open form."""
        plain = _plain(text)
        return plain in START or plain in MINE or self.form(user) is not None

    def menu(self, key: str, user: str, seed: str) -> Step | None:
        """The step a menu key opens (None: not a mediation key)."""
        what = MENU_KEYS.get(key.upper())
        if what is None:
            return None
        return self.mine(user) if what == "mine" else self._start()

    def step(self, text: str, user: str, seed: str) -> Step:
        """The reply to `text` from `user`; `seed` names the message (a retry's is the same)."""
        plain = _plain(text)
        if plain in MINE:
            return self.mine(user)
        form = self.form(user)
        if plain in START or form is None:
            return self._start()
        if plain in CANCEL:
            return Step("好的，已取消，没有提交调解申请。需要时再回复“申请调解”。", None)
        edit = _EDIT.fullmatch(plain)
        if edit:
            number = _number(edit.group(1))
            form["step"] = STEPS[number - 1]
            return Step(self._ask(form), form)
        if plain in ("上一步", "返回"):
            at = STEPS.index(form["step"]) if form["step"] in STEPS else len(STEPS)
            form["step"] = STEPS[max(at - 1, 0)]
            return Step(self._ask(form), form)
        if form["step"] == "confirm":
            if plain in SUBMIT:
                return self._file(form, seed)
            return Step(
                "请回复“1”提交；回复“改1”到“改4”修改；回复“取消”不申请了。\n" + self._summary(form),
                form,
            )
        problem = self._take(form, text.strip(), plain)
        if problem:
            return Step(problem + "\n" + self._ask(form) + "\n（回复“取消”可退出申请）", form)
        form["step"] = next((s for s in STEPS if form.get(s) is None), "confirm")
        return Step(self._ask(form), form)

    def mine(self, user: str) -> Step:
        """我的调解: the state of the resident's latest cases (no personal field)."""
        try:
            found = register.for_resident(self.engine, user)
        except SQLAlchemyError as exc:
            log.error("我的调解 not read: %s", type(exc).__name__)
            return Step("抱歉，暂时查不到，请稍后再试。", None, touched=False)
        if not found:
            return Step(
                "您还没有通过公众号申请调解。回复“申请调解”开始申请，调解不收费。",
                None,
                touched=False,
            )
        lines = ["您的调解申请："]
        for case in found:
            state = tables.TO_RESIDENT.get(case["state"], tables.state_name(case["state"]))
            lines.append(f"编号{case['reference']}（{tables.kind_name(case['type'])}）：{state}")
        return Step("\n".join(lines), None, touched=False)

    def _start(self) -> Step:
        form = {"step": "kind", **dict.fromkeys(STEPS)}
        head = "申请人民调解（不收费）。共4步，每步回复数字或文字，回复“取消”可随时退出。"
        return Step(head + "\n" + self._ask(form), form)

    def _ask(self, form: dict[str, Any]) -> str:
        step = form["step"]
        if step == "kind":
            items = [tables.KINDS[k][0] for k in KIND_SLUGS]
            return "第1步：是什么纠纷？请回复数字：\n" + _numbered(items)
        if step == "village":
            villages = self.committees.villages
            if villages:
                return "第2步：您住在哪个村？请回复数字，或直接回复村名：\n" + _numbered(
                    list(villages)
                )
            return "第2步：您住在哪个村？请回复村名（比如“某某村”）。"
        if step == "what":
            return f"第3步：用一两句话说说发生了什么（谁和谁，为了什么事），{WHAT_MAX}字以内。"
        if step == "contact":
            return "第4步：调解员怎么联系您？请回复手机号；不方便留电话的，回复“1”，我们在公众号里回复您。"
        return self._summary(form)

    def _take(self, form: dict[str, Any], text: str, plain: str) -> str | None:
        """Put the answer into the form's current step; the problem, if it is not one."""
        step, number = form["step"], _number(plain)
        if step == "kind":
            if number is not None and 1 <= number <= len(KIND_SLUGS):
                form["kind"] = KIND_SLUGS[number - 1]
                return None
            named = [k for k, (short, full) in tables.KINDS.items() if plain in (short, full)]
            if named:
                form["kind"] = named[0]
                return None
            return f"请回复1到{len(KIND_SLUGS)}的数字。"
        if step == "village":
            villages = self.committees.villages
            if number is not None:
                if villages and 1 <= number <= len(villages):
                    form["village"] = villages[number - 1]
                    return None
                return (
                    "没有这个数字，请回复村名。"
                    if not villages
                    else f"请回复1到{len(villages)}的数字，或村名。"
                )
            if not 1 <= len(plain) <= 20:
                return "村名请在20字以内。"
            form["village"] = plain
            return None
        if step == "what":
            if len(text) < WHAT_MIN:
                return "请再多说几句，调解员好提前了解情况。"
            if len(text) > WHAT_MAX:
                return f"请简短一些，{WHAT_MAX}字以内，详细情况调解员会当面问您。"
            form["what"] = self.sealer.seal(text)
            return None
        # contact
        if number == 1 or plain in ("公众号", "这里", "在这里", "不留电话"):
            form["contact"], form["phone"] = "account", None
            return None
        phone = phone_number(plain)
        if phone is None:
            return "没认出电话号码：手机号是11位数字，座机如0971-1234567。"
        form["contact"], form["phone"] = "phone", self.sealer.seal(phone)
        return None

    def _summary(self, form: dict[str, Any]) -> str:
        what = self.sealer.open(form.get("what")) or ""
        what = what if len(what) <= 20 else what[:20] + "…"
        phone = self.sealer.open(form.get("phone"))
        contact = f"电话 {masked(phone)}" if phone else "在公众号里回复"
        return "\n".join(
            [
                "请核对您的调解申请：",
                f"1. 纠纷：{tables.kind_name(form['kind'])}",
                f"2. 村：{form['village']}",
                f"3. 情况：{what}",
                f"4. 联系：{contact}",
                "没问题请回复“1”提交；要改哪一项就回复“改”加数字（如“改3”）；回复“取消”不申请了。",
            ]
        )

    def _file(self, form: dict[str, Any], seed: str) -> Step:
        today = datetime.now(self.tz).date()
        ref = register.reference(today, seed)
        filing = {
            "ref": ref,
            "accepted_on": today,
            "kind": form["kind"],
            "village": form["village"],
            "what": form.get("what"),
            "phone": form.get("phone"),
            "reply_here": form.get("contact") == "account",
        }
        how = "在公众号里回复您" if filing["reply_here"] else "打电话给您"
        lines = [
            f"调解申请已提交，编号：{ref}",
            f"{self.committees.town}会安排调解员（本村调委会或镇调委会），"
            f"在{self.reply_days}个工作日内{how}。调解不收费。",
            "回复“我的调解”可查看进度。",
        ]
        if filing["reply_here"]:
            lines.append(
                "微信规定公众号只能在您发消息后48小时内回复您，两天没收到的话请再发一条消息。"
            )
        return Step("\n".join(lines), None, filing=filing)

    # -- writing (after the claim) --------------------------------------------------------

    def keep(self, user: str, step: Step, file: bool = True) -> None:
        """Write what a step says: the form (or its end) and, unless `file` is false (a
        staff member trying the bot in the console), the case it files."""
        if not step.touched:
            return
        key = f"mediation:{user}"
        if step.form is None:
            self.state.delete(key)
        else:
            set_json(self.state, key, step.form, self.ttl)
        if step.filing is not None and file:
            self._file_case(user, step.filing)

    def _file_case(self, user: str, filing: dict[str, Any]) -> None:
        try:
            case = register.add(
                self.engine,
                self.sealer,
                accepted_on=filing["accepted_on"],
                kind=filing["kind"],
                source="wechat",
                actor=register.ACCOUNT,
                village=filing["village"],
                user_id=user,
                reply_here=filing["reply_here"],
                phone=self.sealer.open(filing["phone"]),
                description=self.sealer.open(filing["what"]),
                ref=filing["ref"],
            )
        except (SQLAlchemyError, MediationError) as exc:
            log.error("mediation request %s not filed: %s", filing["ref"], type(exc).__name__)
            return
        if case["reference"] != filing["ref"]:
            log.warning("mediation request %s filed as %s", filing["ref"], case["reference"])


def _numbered(items: list[str]) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))
