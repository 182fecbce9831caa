"""Each figure is one row of bot/figures/labels.py, and every front end names it by it."""

from __future__ import annotations

import dataclasses
from datetime import date
from zoneinfo import ZoneInfo

from bot import figures, records
from bot.figures import exports, report
from bot.figures.counts import metric_keys
from bot.figures.labels import FIGURES
from bot.records import schema
from tests import statsdata

# One event of every kind that counts (kind, is_message, is_question, matched, theme,
# entry, scene, click key, reply kind), for the metrics counts.metric_keys yields.
EVENTS = [
    ("text", True, True, True, "fraud", "e1", None, None, "entry"),
    ("text", True, True, False, None, None, None, None, "suggest"),
    ("text", True, True, False, None, None, None, None, "referral"),
    ("text", True, True, False, None, None, None, None, "urgent"),
    ("subscribe", False, False, None, None, None, "lecture", None, None),
    ("unsubscribe", False, False, None, None, None, None, None, None),
    ("click", False, False, None, None, None, None, "THEME_fraud", None),
]


def test_every_figure_is_a_figure_of_the_summary_and_every_count_has_a_row():
    metrics = {metric for event in EVENTS for metric, _ in metric_keys(*event)}
    one = figures.Summary(start=date(2026, 1, 1), end=date(2026, 1, 1), timezone="UTC")
    for figure in FIGURES:
        assert hasattr(one, figure.field), figure.field
        assert figure.metric is None or figure.metric in metrics, figure.field
    counted = {f.name for f in dataclasses.fields(one) if f.type in (int, "int")}
    assert counted <= {figure.field for figure in FIGURES}


def test_the_exports_the_report_and_the_json_name_each_figure_by_its_row(tmp_path):
    engine = records.make_engine(f"sqlite:///{tmp_path}/f.db")
    schema.upgrade(engine)
    statsdata.load_month(engine)
    tz = ZoneInfo("Asia/Shanghai")
    names = figures.Names({"fraud": "防范诈骗"}, {})
    collected = exports.collect(engine, tz, date(2025, 1, 1), date(2025, 12, 31), names)
    overview = exports.views(collected)[0]
    assert [row[0] for row in overview.rows[2:]] == [figure.named() for figure in FIGURES]
    summary = collected.summary
    assert [row[1] for row in overview.rows[2:]] == [getattr(summary, f.field) for f in FIGURES]
    table = dict(report.table_rows(collected))
    by_label = {figure.label: figure for figure in FIGURES}
    for label, value in table.items():
        if label in by_label:
            figure = by_label[label]
            assert value == figure.value(getattr(summary, figure.field)), label
    assert set(summary.to_json()) >= {figure.field for figure in FIGURES}
    engine.dispose()
