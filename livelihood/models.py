"""
The app's models, each defined in its concern's own module and gathered here, where Django
looks for them and where `from livelihood.models import X` keeps finding them.

    livelihood/plan/models.py        the plan, domains, lead units, streets, items,
                                     indicators, planned values, milestones; and
                                     NaturalKeyManager and first_of_month, which the others use
    livelihood/reporting/models.py   monthly reports, figures, reminder logs
    livelihood/accounts/models.py    staff profiles, two-factor devices
    livelihood/operations/models.py  the publication version
    livelihood/data/models.py        import uploads awaiting confirmation
    livelihood/voice/models.py       satisfaction votes, feedback, the publicity calendar
    livelihood/evaluation/models.py  evaluation rounds, criteria, scores, peer reviews
    livelihood/snapshots/models.py   the stored progress snapshot (issue 16)

Every module is inside the `livelihood` package, so every model's app label is still
`livelihood`: tables, migrations, permissions and content types are unchanged. The
Historical* models are simple-history's, set on the module of the model they track.
"""

from livelihood.accounts.models import StaffProfile, TwoFactorDevice
from livelihood.data.models import ImportUpload
from livelihood.evaluation.models import (
    EvaluationCriterion,
    EvaluationRound,
    EvaluationScore,
    PeerReview,
)
from livelihood.operations.models import PlanVersion, PublicationVersion
from livelihood.plan.models import (
    Domain,
    HistoricalIndicator,
    HistoricalItem,
    HistoricalMilestone,
    HistoricalPlannedValue,
    Indicator,
    Item,
    LeadUnit,
    Milestone,
    NaturalKeyManager,
    Plan,
    PlannedValue,
    Street,
    first_of_month,
)
from livelihood.reporting.models import (
    Figure,
    HistoricalFigure,
    HistoricalMonthlyReport,
    MonthlyReport,
    ReminderLog,
)
from livelihood.snapshots.models import ItemSnapshot, RollupSnapshot, SnapshotBuild
from livelihood.voice.models import (
    Feedback,
    HistoricalFeedback,
    PublicityMonth,
    SatisfactionVote,
)

__all__ = [
    "Domain",
    "EvaluationCriterion",
    "EvaluationRound",
    "EvaluationScore",
    "Feedback",
    "Figure",
    "HistoricalFeedback",
    "HistoricalFigure",
    "HistoricalIndicator",
    "HistoricalItem",
    "HistoricalMilestone",
    "HistoricalMonthlyReport",
    "HistoricalPlannedValue",
    "ImportUpload",
    "Indicator",
    "Item",
    "ItemSnapshot",
    "LeadUnit",
    "Milestone",
    "MonthlyReport",
    "NaturalKeyManager",
    "PeerReview",
    "Plan",
    "PlanVersion",
    "PlannedValue",
    "PublicationVersion",
    "PublicityMonth",
    "ReminderLog",
    "RollupSnapshot",
    "SatisfactionVote",
    "SnapshotBuild",
    "StaffProfile",
    "Street",
    "TwoFactorDevice",
    "first_of_month",
]
