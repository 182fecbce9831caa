"""A question that is an entry's phrasing is answered from that entry; staff fix a miss by
adding the resident's wording to an entry."""

from __future__ import annotations

import shutil

import pytest

from bot.answer import Answerer, KnowledgeBaseHolder, load_knowledge_base
from bot.state import MemoryState
from tests.conftest import ROOT, TOWN
from tests.test_answer_engine import settings


@pytest.fixture(scope="module")
def real_kb():
    return load_knowledge_base(ROOT / "content", TOWN)


def test_every_phrasing_of_every_entry_is_answered_by_its_own_entry(real_kb):
    bot = Answerer(real_kb, MemoryState(), settings(ROOT / "content"))
    wrong = []
    for entry in real_kb.entries:
        for phrasing in entry.questions:
            answer = bot.ask(phrasing)
            if answer.entry_id != entry.id:
                wrong.append(f"{entry.id}: {phrasing!r} -> {answer.kind} {answer.entry_id}")
    assert not wrong, "\n".join(wrong)


def test_punctuation_spaces_particles_and_synonyms_do_not_change_a_phrasing(real_kb):
    entry = real_kb.by_id("damages-injury-items")
    phrasing = entry.questions[0]
    bare = phrasing.replace(" ", "")
    for variant in (f"{bare}？", f" {bare}。", bare.replace("了", "") + "了", f"{bare}啊"):
        assert real_kb.by_phrasing(variant) is entry, variant


def test_staff_add_a_residents_wording_and_it_is_answered(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    wording = "叫隔壁那个二流子拿砖头拍了脑袋 医药费找谁要"
    holder = KnowledgeBaseHolder(content, TOWN, check_seconds=3600)
    bot = Answerer(holder, MemoryState(), settings(content))
    assert bot.ask(wording).entry_id != "damages-injury-items"

    theme = content / "themes" / "damages.toml"
    text = theme.read_text("utf-8")
    start = text.index('id = "damages-injury-items"')
    at = text.index("questions = [\n", start) + len("questions = [\n")
    theme.write_text(text[:at] + f'  "{wording}",\n' + text[at:], "utf-8")
    ok, problems = holder.reload()
    assert ok, problems

    answer = bot.ask(wording)
    assert answer.matched and answer.entry_id == "damages-injury-items"
