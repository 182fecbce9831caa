"""A resident in danger gets the emergency number first; look-alikes are answered normally."""

from __future__ import annotations

import re
import shutil

import pytest

from bot.answer import Answerer, load_knowledge_base, validate
from bot.answer.triage import PHONE
from bot.state import MemoryState
from tests.conftest import ROOT, TOWN
from tests.test_answer_engine import settings


@pytest.fixture(scope="module")
def real():
    kb = load_knowledge_base(ROOT / "content", TOWN)
    return Answerer(kb, MemoryState(), settings(ROOT / "content"))


@pytest.mark.parametrize(
    ("message", "number"),
    [
        ("他拿着菜刀在我家门口喊着要砍死我", "110"),
        ("我男人喝醉了又在打我 我躲在厕所里", "110"),
        ("刚给自称公安的人往安全账户转了两万 现在联系不上了", "110"),
        ("有人拿我的裸聊视频威胁我 不给钱就发给我家里人", "110"),
        ("我不想活了", "12356"),
        ("娃娃把他爷爷的降压药吃了好几片 现在叫不醒", "120"),
        ("我家尕娃放学到现在没回来 电话手表也关机了", "110"),
        ("厨房着火了 烟大得很", "119"),
        ("出车祸了 有个人躺在路上流血不动了", "120"),
        ("山洪下来了 我们一家被困在房顶上", "119"),
    ],
)
def test_a_resident_in_danger_reads_the_number_in_the_first_line(real, message, number):
    answer = real.ask(message)
    assert answer.urgent, answer.text
    assert number in answer.text.splitlines()[0]
    assert not answer.suggestions and "您是不是想问" not in answer.text


@pytest.mark.parametrize(
    "message",
    [
        "去年被打过，现在能起诉吗",
        "如果有人要打我能正当防卫吗",
        "家暴可以离婚吗",
        "吸毒判几年",
        "上个月被骗了五千还能要回来吗",
        "怎么防止孩子被拐",
        "笑死我了",
        "拼多多帮我砍一刀",
        "娃娃走丢了一个钟头 在邻居家找到了",
        "那个说是公安的电话 我没转钱 直接挂了",
    ],
)
def test_a_look_alike_is_not_an_emergency(real, message):
    assert not real.ask(message).urgent


@pytest.mark.parametrize(
    "message",
    [
        # Everyday questions with a word of danger in them: a deposit paid, a car that
        # cannot get out, a neighbour's water, a fire clause in a contract.
        "想问下，房租合同已经签了，押金交了，还可以要求房东退租吗？",
        "邻居把路堵了 我家车出不去",
        "丈夫死了 婆家不让我带走家里的东西",
        "隔壁的水都排到我家院子里来了",
        "邻居让他十五岁的娃去砖厂搬砖",
        "购房合同里写着发生事故主家不负责任，事故包括水灾火灾吗",
        "家里因老人吸烟引起火灾，是否可以申请救助？",
        "我付了38万订金订了一台车，销售说是12月的配额，我可以怎样维护自己的权益？",
        # The learnt reader alone once read these as dangers; it now needs a sign too.
        "我阿爸炒菜把锅烧糊了 笑死",
        "头疼得很吃啥药",
        "商场搞活动抽奖，我抽了一个抵金券2000",
    ],
)
def test_an_everyday_question_is_not_an_emergency(real, message):
    assert not real.ask(message).urgent


@pytest.mark.parametrize(
    "message",
    [
        "我就是家里的累赘 我走了大家都轻松",
        "墙上的插座在烧 冒火花 一股焦味",
        "把手机上的验证码告诉人家了 马上就收到扣款短信",
    ],
)
def test_dangers_without_a_cue_are_still_read(real, message):
    assert real.ask(message).urgent


def test_talk_of_suicide_gets_a_warm_short_reply_not_a_list(real):
    answer = real.ask("活着没意思 想一了百了")
    assert answer.urgent and answer.danger == "suicide"
    assert answer.text.startswith("我们很在乎你")
    assert "12356" in answer.text and "120" in answer.text
    assert not re.search(r"^\d+\. ", answer.text, re.M)  # no numbered "did you mean" list


def test_money_just_sent_leads_with_110_then_the_entry_on_what_to_do(real):
    answer = real.ask("刚转了五千给骗子 钱还能追回来吗")
    first = answer.text.splitlines()[0]
    assert answer.urgent and "110" in first and "止付" in first
    assert answer.entry_id == "fraud-after-cheated" and answer.theme == "fraud"
    assert "96110" in answer.text


def test_every_number_in_a_danger_reply_is_a_checked_hotline(real):
    kb = real._holder.current()
    for kind in kb.triage.kinds:
        for number in PHONE.findall(kind.first + kind.then):
            assert number in kb.help_texts, (kind.key, number)


def test_a_reply_number_not_in_help_toml_is_a_validation_problem(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    path = content / "triage.toml"
    path.write_text(path.read_text("utf-8").replace("拨打12356", "拨打12320"), "utf-8")
    problems = validate(content)
    assert any("12320" in p and "help.toml" in p for p in problems), problems
