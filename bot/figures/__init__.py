"""The figures: what the records say about a period, for staff and the annual report.

    counts.py      counting rules (`metric_keys`), raw and rolled-up counts of a period
    labels.py      each figure's Chinese label and unit, declared once
    summary.py     a period's figures as one typed object (`stats summary`)
    series.py      the same per day, week, month or year
    activities.py  offline publicity activities (recorded by staff)
    rollup.py      closed days into daily rows; raw events past retention deleted
    exports.py     CSV and xlsx workbooks, the trend picture
    report.py      the statistics part of the year's rule-of-law report

Campaign figures come from scheduler/ through the `legalbot.figures` entry point.
"""

from .counts import GRANULARITIES, current_year
from .exports import Figures, collect, load_names
from .labels import FIGURES, LABELS, Figure
from .series import series
from .summary import Names, Summary, summary, top_unanswered

__all__ = [
    "FIGURES",
    "GRANULARITIES",
    "LABELS",
    "Figure",
    "Figures",
    "Names",
    "Summary",
    "collect",
    "current_year",
    "load_names",
    "series",
    "summary",
    "top_unanswered",
]
