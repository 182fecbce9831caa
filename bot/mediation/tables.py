"""What a case can be, declared once with its Chinese names: kinds of dispute, states,
where a case came from, and which committee mediates it.

The kinds are the seed report's categories, in its order (损害赔偿纠纷27起，道路交通事故
纠纷27起……): the report's paragraph and the conversation's numbered list follow it.
"""

from __future__ import annotations

# slug -> (short name for a numbered list, the report's name of the dispute)
KINDS: dict[str, tuple[str, str]] = {
    "damages": ("损害赔偿", "损害赔偿纠纷"),
    "traffic": ("道路交通事故", "道路交通事故纠纷"),
    "neighbor": ("邻里纠纷", "邻里纠纷"),
    "marriage_family": ("婚姻家庭", "婚姻家庭纠纷"),
    "contract": ("合同、欠款", "合同纠纷"),
    "land": ("山林土地", "山林土地纠纷"),
    "consumer": ("买东西、消费", "消费纠纷"),
    "labor": ("工资、劳动争议", "劳动争议纠纷"),
    "other": ("其他", "其他纠纷"),
}

ACCEPTED, MEDIATING = "accepted", "mediating"
SETTLED, NOT_SETTLED, REFERRED, WITHDRAWN = "settled", "not-settled", "referred", "withdrawn"
STATES = {
    ACCEPTED: "已受理",
    MEDIATING: "调解中",
    SETTLED: "调解成功",
    NOT_SETTLED: "调解不成",
    REFERRED: "已转诉讼或仲裁",
    WITHDRAWN: "已撤回",
}
OPEN = (ACCEPTED, MEDIATING)
CLOSED = (SETTLED, NOT_SETTLED, REFERRED, WITHDRAWN)  # the outcomes of `close`
# What a resident reads about their case's state (我的调解, the state-change message).
TO_RESIDENT = {
    ACCEPTED: "已受理，调解员会联系您",
    MEDIATING: "正在调解",
    SETTLED: "已调解成功，结案",
    NOT_SETTLED: "没有调解成功，已结案。您还可以向法院起诉，或申请仲裁",
    REFERRED: "已转到法院或仲裁机构处理",
    WITHDRAWN: "已撤回，结案",
}

SOURCES = {
    "wechat": "公众号申请",
    "walk-in": "来访",
    "police-room": "派出所、交警调解室",
    "referral": "法院、派出所等转来",
}

TOWN, VILLAGE = "town", "village"
COMMITTEES = {TOWN: "镇调委会", VILLAGE: "村调委会"}


def kind_name(slug: str) -> str:
    return KINDS[slug][1] if slug in KINDS else slug


def state_name(slug: str) -> str:
    return STATES.get(slug, slug)


def source_name(slug: str) -> str:
    return SOURCES.get(slug, slug)


def choices(table: dict) -> str:
    """`slug (名称), …` for a command's help."""
    return ", ".join(
        f"{slug} ({name[1] if isinstance(name, tuple) else name})" for slug, name in table.items()
    )
