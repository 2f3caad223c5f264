"""
django-import-export resources. The `Public…Resource` classes are the open data: the downloads
(livelihood/data/opendata.py) and the JSON API (livelihood/data/api.py) read the same rows from
them, and the data page and the OpenAPI description document the same fields.

What they guarantee:
- Approved data only. Figures come from approved reports alone; progress, expected progress
  and status are the stored snapshot's (livelihood/snapshots/read.py, as residents' pages read
  it; computed afresh by the one arithmetic, `with_progress()`, where none is stored), which
  counts approved reports and milestones alone; nothing is recomputed here. A report's narrative,
  delay reason and confidence appear only while it is approved; a milestone is done only once
  an approved report says so; a correction only once the reopened report is approved again.
  No staff name, account or contact is a field, nor a return reason (the one reason published
  is the office's reason for reopening an approved report, with the correction it explains).
- Enough to recompute every page by the published method (livelihood/progress/method.py): the plan's
  first month, tolerance and due day, weights, targets and monthly plans, milestones' dates,
  every submitted report's dates and state, the approved figures and their corrections.
- Every field is declared in this package, with its type, unit and meaning: a new model field
  never appears in the open data by itself.
- Demo rows are marked (`is_demo`) while demo data exists.
- A fixed number of queries per dataset whatever its size; the figures, the one large dataset,
  are read in chunks (`iterator(chunk_size=…)`) as plain values, never all at once.

Values are native (Decimal, int, bool, date, str, None); the writers decide how a file shows
them. Percentages are numbers of percent with one decimal, rounded as the pages round them by
`progress.percent` (31.3 for 31.3%).

The package: `fields.py` (the field, its widgets, the export-only resource the others derive
from), `plan.py` (plans, domains, items, indicators, lead units and streets), `schedule.py`
(milestones and monthly plan values), `reports.py` (monthly reports and approved figures),
`corrections.py` (corrections, from the history). This module lists the datasets and is what
the rest of the app imports.
"""

from livelihood.data.resources.corrections import PublicCorrectionResource
from livelihood.data.resources.fields import (
    BOOLEAN,
    DATE,
    INTEGER,
    MONTH,
    NUMBER,
    PERCENT,
    STRING,
    PublicField,
    PublicResource,
    demo_present,
    month_text,
)
from livelihood.data.resources.plan import (
    PublicDomainResource,
    PublicIndicatorResource,
    PublicItemResource,
    PublicPlanResource,
    PublicStreetResource,
    PublicUnitResource,
    indicators_of,
)
from livelihood.data.resources.reports import PublicFigureResource, PublicReportResource
from livelihood.data.resources.schedule import PublicMilestoneResource, PublicPlannedValueResource

__all__ = [
    "BOOLEAN",
    "DATE",
    "DOWNLOADS",
    "INTEGER",
    "MONTH",
    "NUMBER",
    "PERCENT",
    "STRING",
    "PublicCorrectionResource",
    "PublicDomainResource",
    "PublicField",
    "PublicFigureResource",
    "PublicIndicatorResource",
    "PublicItemResource",
    "PublicMilestoneResource",
    "PublicPlanResource",
    "PublicPlannedValueResource",
    "PublicReportResource",
    "PublicResource",
    "PublicStreetResource",
    "PublicUnitResource",
    "demo_present",
    "indicators_of",
    "month_text",
]

# The datasets offered for download per plan year, in the order the data page lists them.
DOWNLOADS = (
    PublicPlanResource,
    PublicDomainResource,
    PublicItemResource,
    PublicIndicatorResource,
    PublicPlannedValueResource,
    PublicMilestoneResource,
    PublicReportResource,
    PublicFigureResource,
    PublicCorrectionResource,
)
