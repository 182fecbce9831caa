"""Reading content/ into a KnowledgeBase, or listing every problem as `file:line: message`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from ..errors import KnowledgeBaseError
from .areas import read_areas
from .checks import MAX_REPLY_BYTES, check_entry
from .entry import Entry
from .facts import read_facts
from .knowledge import KnowledgeBase
from .laws import read_laws
from .learnt import NONE, Example, bounded, read_examples
from .lexicon import Lexicon
from .tomlfile import TomlFile, read_toml
from .triage import Triage, read_triage

BUNDLED_TAXONOMY = Path(__file__).with_name("taxonomy.toml")
# Everyday questions (entries' phrasings) the danger reader learns from, at most: enough
# to know what an ordinary message looks like, few enough to fit in a second.
EVERYDAY_EXAMPLES = 1500
_PLACEHOLDER = re.compile(r"\{town_([a-z_]+)\}")
# validate() has no town: placeholders are filled with this stand-in, about as long as a
# real office name with its address, so the reply-length check stays meaningful.
_STAND_IN = "某某镇人民调解委员会（镇政府一楼，电话0000-0000000）"


def load_knowledge_base(
    content_dir: Path, town: Mapping[str, str], taxonomy_path: Path | None = None
) -> KnowledgeBase:
    """The knowledge base of `content_dir`, or KnowledgeBaseError listing every problem."""
    kb, problems = _load(Path(content_dir), town, taxonomy_path)
    if problems or kb is None:
        count = len(problems)
        raise KnowledgeBaseError(f"知识库有 {count} 个问题", problems)
    return kb


def validate(content_dir: Path, taxonomy_path: Path | None = None) -> list[str]:
    """Every problem of the files under `content_dir`, as `file:line: message`; [] if valid."""
    return check(content_dir, taxonomy_path)[0]


def check(content_dir: Path, taxonomy_path: Path | None = None) -> tuple[list[str], list[str]]:
    """(problems, notices) of the files under `content_dir`, each as `file:line: message`.

    Problems make the base invalid; notices (an entry reviewed before its law was last
    revised) ask staff to re-check an entry.
    """
    kb, problems = _load(Path(content_dir), None, taxonomy_path)
    if kb is None or problems:
        return problems, []
    for phrasing, first, second in kb.phrasings.shared:
        one, other = kb.entries[first], kb.entries[second]
        problems.append(
            f"{other.file}:{other.line}: {other.id} 的问法 {phrasing!r} 和 "
            f"{one.id}（{one.file}:{one.line}）的问法相同（不计空格、标点和同义词），"
            "同一种问法只能放在一个条目里"
        )
    return problems, kb.notices


def find_taxonomy(content_dir: Path, taxonomy_path: Path | None = None) -> Path:
    """The taxonomy: the one given, else content/taxonomy.toml, else the copy in this package."""
    if taxonomy_path is not None:
        return Path(taxonomy_path)
    local = content_dir / "taxonomy.toml"
    return local if local.exists() else BUNDLED_TAXONOMY


def _load(
    content_dir: Path, town: Mapping[str, str] | None, taxonomy_path: Path | None
) -> tuple[KnowledgeBase | None, list[str]]:
    problems: list[str] = []
    taxonomy = read_toml(find_taxonomy(content_dir, taxonomy_path), problems)
    themes = _read_taxonomy(taxonomy, problems)
    help_texts = _read_help(content_dir / "help.toml", town, problems)
    lexicon = read_lexicon(content_dir / "dict", problems)
    entries = _read_themes(content_dir / "themes", themes, help_texts, problems)
    entries = [_with_town(entry, town, problems) for entry in entries]
    triage = read_triage(content_dir / "triage.toml", help_texts or {}, problems)
    triage.learn(_danger_examples(content_dir, triage, entries, problems))
    facts = read_facts(
        content_dir / "help.toml", content_dir / "days.toml", taxonomy and taxonomy.data, problems
    )
    areas = read_areas(content_dir / "areas.toml", problems)
    laws = read_laws(content_dir / "laws.toml", problems)
    notices: list[str] = []
    if laws:
        for entry in entries:
            found, noticed = laws.check(entry)
            problems += found
            notices += noticed
    if themes is None or help_texts is None:
        return None, problems
    topic_examples = [
        example
        for path in sorted((content_dir / "examples").glob("*.tsv"))
        for example in read_examples(path, themes or {}, problems, column="theme")
    ]
    kb = KnowledgeBase(
        entries,
        themes,
        help_texts,
        lexicon,
        town,
        triage=triage,
        facts=facts,
        areas=areas,
        topic_examples=topic_examples,
    )
    kb.notices = notices
    for entry in entries:
        size = kb.full_size(entry)
        if size > MAX_REPLY_BYTES:
            problems.append(
                f"{entry.file}:{entry.line}: {entry.id} 的回复有 {size} 字节，超过微信 "
                f"{MAX_REPLY_BYTES} 字节的上限；请缩短 answer（回答）或少列几个求助渠道"
            )
    for kind in triage.kinds:
        if kind.entry is not None and kb.by_id(kind.entry) is None:
            problems.append(f"content/triage.toml:1: {kind.key}：没有条目 {kind.entry!r}")
    return kb, problems


def _danger_examples(
    content_dir: Path, triage: Triage, entries: list[Entry], problems: list[str]
) -> list[Example]:
    """content/triage_examples.tsv, and the entries' phrasings as everyday questions
    (but the phrasings of entries a danger reply leads to, which may be dangers)."""
    kinds = [kind.key for kind in triage.kinds]
    examples = read_examples(content_dir / "triage_examples.tsv", kinds, problems)
    led_to = {kind.entry for kind in triage.kinds}
    everyday = [
        Example(NONE, q) for e in entries if e.id not in led_to for q in (*e.questions, e.title)
    ]
    return examples + bounded(everyday, EVERYDAY_EXAMPLES)


def _with_town(entry: Entry, town: Mapping[str, str] | None, problems: list[str]) -> Entry:
    """The entry with the town's facts ({town_…} of config.toml's [town]) in its answer."""
    if "{town_" not in entry.answer:
        return entry
    answer = _fill_town(entry.answer, town, f"{entry.file}:{entry.line}", problems)
    return replace(entry, answer=answer)


def _read_taxonomy(file: TomlFile | None, problems: list[str]) -> dict[str, str] | None:
    if file is None:
        return None
    table = file.data.get("themes")
    if not isinstance(table, dict) or not table:
        problems.append(f"{file.where(1)}: 没有 [themes.<主题英文名>] 表")
        return None
    themes = {}
    for slug, body in table.items():
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str):
            problems.append(
                f"{file.where(file.key_line(f'[themes.{slug}]'))}: 主题要有 name（名称）"
            )
        themes[slug] = name or slug
    return themes


def _read_help(path: Path, town: Mapping[str, str] | None, problems: list[str]) -> dict | None:
    """help.toml's contact lines with {town_…} filled from config.toml's [town] table."""
    file = read_toml(path, problems)
    if file is None:
        return None
    contacts = file.data.get("contacts")
    if not isinstance(contacts, dict):
        problems.append(f"{file.where(1)}: 没有 [contacts.<编号>] 表")
        return None
    texts = {}
    for key, body in contacts.items():
        line = file.table_line(f"contacts.{key}")
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{file.where(line)}: 求助渠道 {key} 要有 text（说明文字）")
            continue
        texts[str(key)] = _fill_town(text.strip(), town, file.where(line), problems)
    return texts


def _fill_town(text: str, town: Mapping[str, str] | None, where: str, problems: list[str]) -> str:
    def fill(match: re.Match[str]) -> str:
        if town is None:
            return _STAND_IN
        value = town.get(match.group(1))
        if value is None:
            problems.append(
                f"{where}: {{town_{match.group(1)}}} 没有在 config.toml 的 [town] 中设置"
            )
            return match.group(0)
        return value

    return _PLACEHOLDER.sub(fill, text)


def _read_themes(
    folder: Path, themes: dict[str, str] | None, help_texts: dict | None, problems: list[str]
) -> list[Entry]:
    """Entries of every theme file, in taxonomy order, ids unique across files."""
    if not folder.is_dir():
        problems.append(f"{folder}:1: 缺少 themes 文件夹")
        return []
    order = list(themes or {})
    paths = sorted(folder.glob("*.toml"), key=lambda p: (_rank(order, p.stem), p.name))
    entries: list[Entry] = []
    seen: dict[str, Entry] = {}
    for path in paths:
        for entry in _read_theme_file(path, themes, help_texts or {}, problems):
            first = seen.get(entry.id)
            if first is not None:
                where = f"{first.file}:{first.line}"
                problems.append(
                    f"{entry.file}:{entry.line}: 条目编号 id {entry.id!r} 重复（已用于 {where}）"
                )
                continue
            seen[entry.id] = entry
            entries.append(entry)
    return entries


def _rank(order: list[str], slug: str) -> int:
    return order.index(slug) if slug in order else len(order)


def _read_theme_file(
    path: Path, themes: dict[str, str] | None, help_keys: Mapping[str, str], problems: list[str]
) -> list[Entry]:
    file = read_toml(path, problems)
    if file is None:
        return []
    theme = file.data.get("theme")
    if not _check_theme(file, theme, themes, problems):
        return []
    raw_entries = file.data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        problems.append(f"{file.where(1)}: 文件里没有 [[entries]] 条目")
        return []
    for key in set(file.data) - {"theme", "entries"}:
        problems.append(f"{file.where(file.key_line(key))}: 不认识的字段 {key!r}")
    entries = []
    for raw, span in zip(raw_entries, file.entry_spans(len(raw_entries)), strict=True):
        entry, found = check_entry(raw, theme, file, span, help_keys)
        problems += found
        if entry is not None:
            entries.append(entry)
    return entries


def _check_theme(file: TomlFile, theme: object, themes: dict | None, problems: list[str]) -> bool:
    line = file.key_line("theme")
    if not isinstance(theme, str):
        problems.append(f"{file.where(line)}: 缺少字段 theme（本文件的主题英文名）")
        return False
    if themes is not None and theme not in themes:
        problems.append(f"{file.where(line)}: 主题 {theme!r} 不在主题表（taxonomy）里")
        return False
    if theme != file.path.stem:
        problems.append(
            f"{file.where(line)}: 主题 theme {theme!r} 要和文件名 {file.path.name} 一致"
        )
    return True


def read_lexicon(folder: Path, problems: list[str]) -> Lexicon:
    """content/dict/: jieba user words, synonyms (law term = [how people say it]), stop words."""
    userwords = tuple(_read_userdict(folder / "userdict.txt", problems))
    stopwords = frozenset(_read_lines(folder / "stopwords.txt"))
    synonyms: dict[str, tuple[str, ...]] = {}
    out_of_scope: frozenset[str] = frozenset()
    path = folder / "synonyms.toml"
    file = read_toml(path, problems) if path.exists() else None
    if file is not None:
        synonyms = _invert_synonyms(file, problems)
        words = file.data.get("out_of_scope", {}).get("words", [])
        out_of_scope = frozenset(w for w in words if isinstance(w, str))
    return Lexicon(userwords, synonyms, stopwords, out_of_scope)


def _invert_synonyms(file: TomlFile, problems: list[str]) -> dict[str, tuple[str, ...]]:
    """{colloquial word: law terms} from the file's {law term: [colloquial words]}."""
    table = file.data.get("synonyms", {})
    inverted: dict[str, list[str]] = {}
    for term, spoken in table.items():
        if not isinstance(spoken, list) or not all(isinstance(w, str) for w in spoken):
            problems.append(f"{file.where(file.key_line(term))}: {term} 要写成一组词")
            continue
        for word in spoken:
            targets = inverted.setdefault(word.strip().lower(), [])
            if term not in targets:
                targets.append(term)
    return {w: tuple(t) for w, t in inverted.items() if w}


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return [line.lower() for line in lines if line]


def _read_userdict(path: Path, problems: list[str]) -> list[tuple[str, int | None]]:
    """Words as jieba's user dictionary has them: `word [frequency] [tag]`."""
    words = []
    for number, line in enumerate(_raw_lines(path), 1):
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        freq = None
        if len(parts) > 1:
            if not parts[1].isdigit():
                problems.append(f"{path}:{number}: {parts[0]} 后面的词频要写数字")
                continue
            freq = int(parts[1])
        words.append((parts[0].lower(), freq))
    return words


def _raw_lines(path: Path) -> list[str]:
    return path.read_text("utf-8").splitlines() if path.exists() else []
