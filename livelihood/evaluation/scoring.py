"""
Evaluation rounds (考核评价): what each criterion scores, how a total and a ranking follow, who
takes part, and what a round's results and a rated party's peer review (互评) read. The round's
life (close, reopen, publish), manual scores and saving ratings are in evaluation/services.py;
the Excel export in evaluation/workbook.py.

Computed criteria use the one progress arithmetic (progress.py through `with_progress()`),
for the plan as it stood at the round's cut-off: reports up to `cutoff_month`, approved (and
submitted, votes cast) by `cutoff_at`, or by the moment of closing when that comes first.
They are computed once, when the round closes, and stored with their inputs
(`EvaluationScore`); nothing changed later moves them.

They are computed afresh through `with_progress()`, not read from the stored progress snapshot
(livelihood/snapshots/), because no stored view holds this measure: the round measures the plan
at its cut-off month counting only what had been approved by the cut-off moment (any moment,
not a month's end). The stored `as_of` view of that month counts every approval since, and a
stored `published` view is judged at the data month of a month's end, not at the cut-off
month. Even when a round closes before its cut-off (the moment is then now), the `as_of` view
also counts an approved report with no approval time, which "approved by the moment" leaves
out. Closing a round is rare and its scores are stored, so nothing is gained by a near match.

Manual criteria are typed in by the coordinator, with a note, until the round is published.

A score is 0–100. A party's total is the weight-normalised mean of the scores it has
(`progress.weighted_mean`): a criterion with nothing to measure (no votes yet) drops out
rather than counting as 0, and each criterion's share is weight × score ÷ the weights
counted, so that the shares add up to the total.

Anonymity of peer review: who rated whom is read by the coordinating office's admin list of
ratings only. Everything else here (results, the public page, the export, what a rated unit
is shown) reads means and counts, never a rater.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from livelihood.accounts.roles import (
    street_of,
    unit_of,
)
from livelihood.evaluation.models import (
    EvaluationCriterion,
    EvaluationRound,
    EvaluationScore,
    PeerReview,
)
from livelihood.plan.models import LeadUnit, Street
from livelihood.progress import arithmetic as progress
from livelihood.progress.selectors import Submissions, items_rollup
from livelihood.reporting.models import MonthlyReport
from livelihood.voice.satisfaction import satisfaction_scores

HUNDRED = Decimal(100)
Kind = EvaluationCriterion.Kind


# ------------------------------------------------------------------------------
# Pure arithmetic
# ------------------------------------------------------------------------------
def schedule_score(progress_: Decimal | None, expected: Decimal | None) -> Decimal | None:
    """推进进度 in points: the share of 序时进度 reached (progress.schedule_share) × 100."""
    share = progress.schedule_share(progress_, expected)
    return None if share is None else share * HUNDRED


def rounded(value: Decimal | None) -> Decimal | None:
    """Points to two decimals, rounded half up as every published number is."""
    return None if value is None else progress.round_half_up(value, 2)


@dataclass(frozen=True)
class Cell:
    criterion: EvaluationCriterion
    score: Decimal | None
    share: Decimal | None

    @property
    def score_display(self) -> str:
        return progress.format_number(rounded(self.score))

    @property
    def share_display(self) -> str:
        return progress.format_number(rounded(self.share))


@dataclass
class Standing:
    party: object
    cells: list[Cell]
    total: Decimal | None
    rank: int | None = None

    @property
    def total_display(self) -> str:
        return progress.format_number(rounded(self.total))


def standing(party, criteria, scores: dict) -> Standing:
    """A party's total and each criterion's share, from {criterion id: score or None}."""
    measured = [(scores.get(c.pk), c.weight) for c in criteria]
    weights = sum((w for s, w in measured if s is not None), Decimal(0))
    mean = progress.weighted_mean(
        ((None if s is None else s / HUNDRED, w) for s, w in measured), cap=False
    )
    cells = [
        Cell(
            criterion=c,
            score=scores.get(c.pk),
            share=None if scores.get(c.pk) is None else c.weight * scores[c.pk] / weights,
        )
        for c in criteria
    ]
    return Standing(party, cells, None if mean is None else mean * HUNDRED)


def ranked(standings: list[Standing]) -> list[Standing]:
    """Highest total first; equal totals (to two places) share a rank (1, 2, 2, 4); no total
    last, unranked."""
    standings = sorted(
        standings, key=lambda s: (s.total is None, -(rounded(s.total) or 0), _order(s.party))
    )
    previous, rank = None, 0
    for position, row in enumerate(standings, start=1):
        if row.total is None:
            row.rank = None
            continue
        if rounded(row.total) != previous:
            rank, previous = position, rounded(row.total)
        row.rank = rank
    return standings


def _order(party):
    return (party.order, party.code)


# ------------------------------------------------------------------------------
# Who takes part
# ------------------------------------------------------------------------------
def round_units(round_: EvaluationRound):
    """The lead units evaluated: those leading an item of the plan."""
    return LeadUnit.objects.filter(items__plan=round_.plan_id).distinct().order_by("order", "code")


def round_streets():
    return Street.objects.order_by("order", "code")


def party_of(user):
    """The lead unit or street a staff account rates for (互评), or None."""
    return unit_of(user) or street_of(user)


# ------------------------------------------------------------------------------
# Computed criteria
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Computed:
    score: Decimal | None
    inputs: dict = field(default_factory=dict)


def cutoff_moment(round_: EvaluationRound, now: datetime.datetime | None = None):
    """What "as published" means for the round: its cut-off, or now if that comes first."""
    return min(round_.cutoff_at, now or timezone.now())


def _number(value: Decimal | None):
    """A Decimal for the stored inputs (JSON): text, exact, or None."""
    return None if value is None else progress.format_number(value)


def progress_scores(round_, moment) -> dict[int, Computed]:
    """{unit id: progress against 序时进度 of the unit's items, rolled up by progress.py}."""
    items = list(
        round_.plan.items.with_progress(
            round_.cutoff_month, published_by=moment, today=timezone.localdate(moment)
        ).order_by("lead_unit", "domain__number", "order", "code")
    )
    by_unit = defaultdict(list)
    for item in items:
        by_unit[item.lead_unit_id].append(item)
    result = {}
    for unit_id, unit_items in by_unit.items():
        rollup = items_rollup(unit_items)
        result[unit_id] = Computed(
            schedule_score(rollup.progress, rollup.expected),
            {
                "进度": _number(rollup.progress),
                "序时进度": _number(rollup.expected),
                "事项数": rollup.total,
                "可计量事项数": rollup.measured,
                "滞后事项数": rollup.counts.get(progress.Status.BEHIND, 0),
            },
        )
    return result


def punctuality_scores(round_, moment) -> dict[int, Computed]:
    """{unit id: share of due monthly reports submitted by their due day}, months up to the
    cut-off month whose due day had passed by the cut-off moment."""
    plan = round_.plan
    due = progress.due_months(
        plan.first_month,
        round_.cutoff_month,
        timezone.localdate(moment),
        settings.REPORT_DUE_DAY,
    )
    submissions = Submissions(
        MonthlyReport.objects.filter(item__plan=plan, submitted_at__lte=moment)
    )
    per_unit = defaultdict(list)
    for item_id, unit_id in plan.items.values_list("pk", "lead_unit_id"):
        per_unit[unit_id].append(submissions.punctuality(item_id, due))
    result = {}
    for unit_id, rows in per_unit.items():
        total = sum(rows, progress.NO_REPORTS_DUE)
        result[unit_id] = Computed(
            None if total.rate is None else total.rate * HUNDRED,
            {
                "应报": total.due,
                "按时": total.on_time,
                "逾期报送": total.late,
                "未报": total.missing,
            },
        )
    return result


def satisfaction_unit_scores(round_, moment) -> dict[int, Computed]:
    """{unit id: residents' satisfaction with the unit's items}: every vote counts once."""
    scores = satisfaction_scores(round_.plan, until=moment)
    per_unit = defaultdict(list)
    for item_id, unit_id in round_.plan.items.values_list("pk", "lead_unit_id"):
        if item_id in scores:
            per_unit[unit_id].append(scores[item_id])
    result = {}
    for unit_id, rows in per_unit.items():
        mean = progress.weighted_mean(((s.score, Decimal(s.votes)) for s in rows), cap=False)
        result[unit_id] = Computed(
            mean,
            {
                "评价数": sum(s.votes for s in rows),
                "满意": sum(s.satisfied for s in rows),
                "基本满意": sum(s.basic for s in rows),
                "不满意": sum(s.unsatisfied for s in rows),
            },
        )
    return result


def peer_scores(round_) -> dict[tuple[str, int], Computed]:
    """{("unit"|"street", id): mean grade received}; raters are not read."""
    rows = (
        PeerReview.objects.filter(round=round_)
        .order_by()
        .values("ratee_unit", "ratee_street", "grade")
        .annotate(n=Count("pk"))
    )
    grades = defaultdict(dict)
    for row in rows:
        key = ("unit", row["ratee_unit"]) if row["ratee_unit"] else ("street", row["ratee_street"])
        grades[key][row["grade"]] = row["n"]
    result = {}
    labels = dict(PeerReview.Grade.choices)
    for key, counts in grades.items():
        count = sum(counts.values())
        mean = Decimal(sum(g * n for g, n in counts.items())) / Decimal(count)
        result[key] = Computed(
            mean, {"评价数": count} | {labels[g]: counts.get(g, 0) for g in labels}
        )
    return result


def computed_scores(round_, now=None) -> list[EvaluationScore]:
    """Unsaved score rows of every computed criterion for every party, as of the cut-off."""
    moment = cutoff_moment(round_, now)
    criteria = [c for c in round_.criteria.all() if c.computed]
    units = list(round_units(round_))
    streets = list(round_streets())
    rows = []
    for criterion in criteria:
        if criterion.kind == Kind.PEER:
            found = peer_scores(round_)
            parties = [("unit", u) for u in units] + [("street", s) for s in streets]
            for kind, party in parties:
                value = found.get((kind, party.pk), Computed(None, {"评价数": 0}))
                rows.append(_row(criterion, party, value, moment))
            continue
        compute = {
            Kind.PROGRESS: progress_scores,
            Kind.PUNCTUALITY: punctuality_scores,
            Kind.SATISFACTION: satisfaction_unit_scores,
        }[criterion.kind]
        found = compute(round_, moment)
        for unit in units:
            rows.append(_row(criterion, unit, found.get(unit.pk, Computed(None)), moment))
    return rows


def _row(criterion, party, value: Computed, moment) -> EvaluationScore:
    inputs = dict(value.inputs)
    inputs["数据截至"] = timezone.localtime(moment).isoformat(timespec="seconds")
    return EvaluationScore(
        criterion=criterion,
        unit=party if isinstance(party, LeadUnit) else None,
        street=party if isinstance(party, Street) else None,
        score=rounded(value.score),
        inputs=inputs,
        entered_at=timezone.now(),
    )


# ------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------
@dataclass
class Results:
    round: EvaluationRound
    criteria: list[EvaluationCriterion]
    units: list[Standing]
    streets: list[Standing]
    missing_manual: list[str]
    frozen: bool

    @property
    def street_criteria(self) -> list[EvaluationCriterion]:
        return [c for c in self.criteria if c.kind == Kind.PEER]


def results(round_: EvaluationRound, *, now=None) -> Results:
    """The round's table: from the stored scores once it has closed; while it is open, a
    preview computed now (nothing stored). Lead units are ranked on every criterion; streets
    lead no item and are listed with their peer-review score only."""
    criteria = list(round_.criteria.all())
    frozen = not round_.is_open
    stored = list(
        EvaluationScore.objects.filter(criterion__round=round_).select_related("unit", "street")
    )
    if not frozen:
        stored = [s for s in stored if _manual(criteria, s)] + computed_scores(round_, now)
    by_party = defaultdict(dict)
    parties = {}
    for row in stored:
        key = ("unit", row.unit_id) if row.unit_id else ("street", row.street_id)
        by_party[key][row.criterion_id] = row.score
        parties[key] = row.party
    # Once closed, the parties are those the close scored: a unit that has lost its items
    # since keeps its place, and one that has gained some does not enter.
    if frozen and any(c.computed for c in criteria):
        units = sorted((p for k, p in parties.items() if k[0] == "unit"), key=_order)
        streets = sorted((p for k, p in parties.items() if k[0] == "street"), key=_order)
    else:
        units, streets = list(round_units(round_)), list(round_streets())
    street_criteria = [c for c in criteria if c.kind == Kind.PEER]
    unit_rows = [standing(u, criteria, by_party[("unit", u.pk)]) for u in units]
    street_rows = []
    if street_criteria:
        street_rows = [standing(s, street_criteria, by_party[("street", s.pk)]) for s in streets]
    missing = [
        f"{u.name}（{c.name}）"
        for c in criteria
        if not c.computed
        for u in units
        if by_party[("unit", u.pk)].get(c.pk) is None
    ]
    return Results(round_, criteria, ranked(unit_rows), ranked(street_rows), missing, frozen)


def _manual(criteria, score) -> bool:
    return any(c.pk == score.criterion_id and not c.computed for c in criteria)


# ------------------------------------------------------------------------------
# Peer review (互评)
# ------------------------------------------------------------------------------
def ratees(round_, party) -> list:
    """Whom `party` rates in the round: every evaluated unit and every street but itself."""
    units = [u for u in round_units(round_) if u != party]
    streets = [s for s in round_streets() if s != party]
    return units + streets


def party_fields(prefix: str, party) -> dict:
    """The rater's or ratee's unit and street fields of a PeerReview, for `party`."""
    if isinstance(party, LeadUnit):
        return {f"{prefix}_unit": party, f"{prefix}_street": None}
    return {f"{prefix}_unit": None, f"{prefix}_street": party}


def own_ratings(round_, party) -> dict:
    """{ratee: PeerReview} of the ratings `party` gave in the round."""
    rows = PeerReview.objects.filter(round=round_, **party_fields("rater", party))
    rows = rows.select_related("ratee_unit", "ratee_street")
    return {row.ratee: row for row in rows}


@dataclass(frozen=True)
class Received:
    """What a rated party is shown of the ratings it received, once the round has closed: its
    frozen score, the count, and the comments in an order that says nothing of who wrote
    them (alphabetical)."""

    score: Decimal | None
    count: int
    comments: list[str]

    @property
    def score_display(self) -> str:
        return progress.format_number(rounded(self.score))


def received(round_, party) -> Received | None:
    """None while the round is open: a mean that moved right after one rater saved would
    tell who that rater was."""
    if round_.is_open:
        return None
    score = (
        EvaluationScore.objects.filter(criterion__round=round_, criterion__kind=Kind.PEER)
        .filter(**({"unit": party} if isinstance(party, LeadUnit) else {"street": party}))
        .first()
    )
    rows = PeerReview.objects.filter(round=round_, **party_fields("ratee", party))
    comments = sorted(c for c in rows.values_list("comment", flat=True) if c)
    return Received(
        score=score.score if score else None,
        count=(score.inputs.get("评价数", 0) if score else rows.count()),
        comments=comments,
    )
