"""
Evaluation rounds (考核评价): what each criterion scores, how a total and a ranking follow, and
the round's life (close, reopen, publish), peer review (互评) and manual scores.

Computed criteria use the one progress arithmetic (progress.py through `with_progress()`),
for the plan as it stood at the round's cut-off: reports up to `cutoff_month`, approved (and
submitted, votes cast) by `cutoff_at`, or by the moment of closing when that comes first.
They are computed once, when the round closes, and stored with their inputs
(`EvaluationScore`); nothing changed later moves them. Manual criteria are typed in by the
coordinator, with a note, until the round is published.

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
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from livelihood.accounts.roles import (
    is_coordinator,
    street_of,
    unit_of,
)
from livelihood.models import (
    EvaluationCriterion,
    EvaluationRound,
    EvaluationScore,
    LeadUnit,
    MonthlyReport,
    PeerReview,
    Street,
)
from livelihood.progress import arithmetic as progress
from livelihood.voice.satisfaction import satisfaction_scores

HUNDRED = Decimal(100)
TWO_PLACES = Decimal("0.01")
Kind = EvaluationCriterion.Kind
State = EvaluationRound.State


class EvaluationError(Exception):
    """A step the rules refuse; `message` is for the person who asked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------------------------
# Pure arithmetic
# ------------------------------------------------------------------------------
def schedule_score(progress_: Decimal | None, expected: Decimal | None) -> Decimal | None:
    """Progress against 序时进度: progress ÷ expected, 100 at or ahead of schedule; None when
    nothing can be measured. Before anything is expected, any measurable progress is 100."""
    if progress_ is None:
        return None
    if not expected:
        return HUNDRED
    return min(progress_ / expected, Decimal(1)) * HUNDRED


def rounded(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(TWO_PLACES)


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
        rollup = progress.rollup((i.snapshot, i.weight) for i in unit_items)
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
    submissions = defaultdict(list)
    for item_id, month, submitted_at in MonthlyReport.objects.filter(
        item__plan=plan, submitted_at__isnull=False, submitted_at__lte=moment
    ).values_list("item_id", "month", "submitted_at"):
        submissions[item_id].append((month, timezone.localdate(submitted_at)))
    per_unit = defaultdict(list)
    for item_id, unit_id in plan.items.values_list("pk", "lead_unit_id"):
        per_unit[unit_id].append(
            progress.punctuality(submissions[item_id], due, settings.REPORT_DUE_DAY)
        )
    result = {}
    for unit_id, rows in per_unit.items():
        total = progress.Punctuality(
            on_time=sum(p.on_time for p in rows),
            late=sum(p.late for p in rows),
            missing=sum(p.missing for p in rows),
        )
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
# The round's life
# ------------------------------------------------------------------------------
def _require_coordinator(user):
    if not is_coordinator(user):
        raise EvaluationError("只有区民生办可以管理考核。")


def _locked_round(round_) -> EvaluationRound:
    return EvaluationRound.objects.select_for_update().select_related("plan").get(pk=round_.pk)


@transaction.atomic
def round_close(*, round_: EvaluationRound, user, now=None) -> EvaluationRound:
    """End peer review and freeze every computed criterion (scores and inputs)."""
    _require_coordinator(user)
    current = _locked_round(round_)
    if current.state != State.OPEN:
        raise EvaluationError(f"{current}已结束，不能再次结束。")
    if not current.criteria.exists():
        raise EvaluationError(f"{current}尚未设置考核指标，请先添加指标和权重。")
    EvaluationScore.objects.filter(criterion__round=current).exclude(
        criterion__kind=Kind.MANUAL
    ).delete()
    EvaluationScore.objects.bulk_create(computed_scores(current, now))
    current.state = State.CLOSED
    current.closed_at = now or timezone.now()
    current.closed_by = user
    current.save()
    return current


@transaction.atomic
def round_reopen(*, round_: EvaluationRound, user) -> EvaluationRound:
    """Back to 进行中: the computed scores are discarded (computed again at the next close);
    manual scores and ratings stay. A published round is not reopened."""
    _require_coordinator(user)
    current = _locked_round(round_)
    if current.state != State.CLOSED:
        raise EvaluationError(
            f"只有已结束、尚未公布的考核可以重新开放；{current}{current.get_state_display()}。"
        )
    EvaluationScore.objects.filter(criterion__round=current).exclude(
        criterion__kind=Kind.MANUAL
    ).delete()
    current.state = State.OPEN
    current.closed_at = None
    current.closed_by = None
    current.save()
    return current


@transaction.atomic
def round_publish(*, round_: EvaluationRound, user, now=None) -> EvaluationRound:
    """Publish the results on the portal; refused until every unit has every manual score."""
    _require_coordinator(user)
    current = _locked_round(round_)
    if current.state != State.CLOSED:
        raise EvaluationError(f"请先结束{current}（固定得分）再公布。")
    missing = results(current).missing_manual
    if missing:
        shown = "、".join(missing[:5]) + ("等" if len(missing) > 5 else "")
        raise EvaluationError(f"尚有 {len(missing)} 项人工评定未录入：{shown}。录入后再公布。")
    current.state = State.PUBLISHED
    current.published_at = now or timezone.now()
    current.published_by = user
    current.save()
    return current


@transaction.atomic
def manual_score_save(
    *, criterion: EvaluationCriterion, unit: LeadUnit, score: Decimal | None, note: str, user
) -> EvaluationScore | None:
    """Enter (or clear, with None) a unit's manual score; a note says why."""
    _require_coordinator(user)
    current = _locked_round(criterion.round)
    if current.is_published:
        raise EvaluationError(f"{current}已公布，得分不能再修改。")
    if criterion.computed:
        raise EvaluationError(f"“{criterion.name}”由系统按数据计算，不能手工录入。")
    if score is None:
        EvaluationScore.objects.filter(criterion=criterion, unit=unit).delete()
        return None
    if not Decimal(0) <= score <= HUNDRED:
        raise EvaluationError("得分应在 0 到 100 之间。")
    if not note.strip():
        raise EvaluationError(f"请填写{unit.name}“{criterion.name}”的评分说明。")
    row, _ = EvaluationScore.objects.update_or_create(
        criterion=criterion,
        unit=unit,
        defaults={
            "score": score,
            "note": note.strip(),
            "entered_by": user,
            "entered_at": timezone.now(),
        },
    )
    return row


# ------------------------------------------------------------------------------
# Peer review (互评)
# ------------------------------------------------------------------------------
def ratees(round_, party) -> list:
    """Whom `party` rates in the round: every evaluated unit and every street but itself."""
    units = [u for u in round_units(round_) if u != party]
    streets = [s for s in round_streets() if s != party]
    return units + streets


def _party_fields(prefix: str, party) -> dict:
    if isinstance(party, LeadUnit):
        return {f"{prefix}_unit": party, f"{prefix}_street": None}
    return {f"{prefix}_unit": None, f"{prefix}_street": party}


def own_ratings(round_, party) -> dict:
    """{ratee: PeerReview} of the ratings `party` gave in the round."""
    rows = PeerReview.objects.filter(round=round_, **_party_fields("rater", party))
    rows = rows.select_related("ratee_unit", "ratee_street")
    return {row.ratee: row for row in rows}


@transaction.atomic
def peer_review_save(*, round_: EvaluationRound, user, ratings: dict) -> int:
    """Save the user's unit's (or street's) ratings: {ratee: (grade or None, comment)}.
    None withdraws a rating. The rater is always the user's own party. Returns the number of
    ratings changed."""
    party = party_of(user)
    if party is None or not user.has_perm("livelihood.rate_peers"):
        raise EvaluationError("只有牵头单位和街镇的评价员可以参加互评。")
    current = _locked_round(round_)
    if not current.is_open:
        raise EvaluationError(f"{current}的互评已结束，评价不能再修改。")
    allowed = set(ratees(current, party))
    existing = own_ratings(current, party)
    changed = 0
    now = timezone.now()
    for ratee, (grade, comment) in ratings.items():
        if ratee == party:
            raise EvaluationError("不能评价本单位。")
        if ratee not in allowed:
            raise EvaluationError(f"{ratee}不在本轮互评范围内。")
        row = existing.get(ratee)
        comment = (comment or "").strip()
        if grade is None:
            if row is not None:
                row.delete()
                changed += 1
            continue
        if grade not in PeerReview.Grade.values:
            raise EvaluationError("评价等次无效。")
        if row is None:
            PeerReview.objects.create(
                round=current,
                grade=grade,
                comment=comment,
                created_at=now,
                updated_at=now,
                **_party_fields("rater", party),
                **_party_fields("ratee", ratee),
            )
            changed += 1
        elif (row.grade, row.comment) != (grade, comment):
            row.grade, row.comment, row.updated_at = grade, comment, now
            row.save(update_fields=["grade", "comment", "updated_at"])
            changed += 1
    return changed


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
    rows = PeerReview.objects.filter(round=round_, **_party_fields("ratee", party))
    comments = sorted(c for c in rows.values_list("comment", flat=True) if c)
    return Received(
        score=score.score if score else None,
        count=(score.inputs.get("评价数", 0) if score else rows.count()),
        comments=comments,
    )


# ------------------------------------------------------------------------------
# Export
# ------------------------------------------------------------------------------
SCORE_FORMAT = "0.00"
PERCENT_FORMAT = "0.0%"


def results_workbook(table: Results):
    """The results as an .xlsx workbook: a ranking of lead units with each criterion's score
    and share, the streets' peer-review scores, and the criteria with their weights. No
    rater and no comment is in it."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from livelihood.data.spreadsheet import neutralise

    round_ = table.round
    state = "已公布" if round_.is_published else ("得分已固定" if table.frozen else "预览，未固定")
    moment = timezone.localtime(round_.cutoff_at)
    subtitle = (
        f"数据截至{round_.cutoff_month:%Y年%-m月}"
        f"（{moment:%Y年%-m月%-d日 %H:%M}前审核公开的数据）；"
        f"{state}；导出时间 {timezone.localtime():%Y-%m-%d %H:%M}"
    )
    book = Workbook()
    book.remove(book.active)

    def sheet(title, heading, header, rows, widths, formats):
        ws = book.create_sheet(title)
        ws.append([neutralise(heading)])
        ws.append([neutralise(subtitle)])
        ws.append([neutralise(h) for h in header])
        ws["A1"].font = Font(bold=True, size=14)
        for cell in ws[3]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        for row in rows:
            ws.append([neutralise(v) for v in row])
        for index, width in enumerate(widths, start=1):
            letter = get_column_letter(index)
            ws.column_dimensions[letter].width = width
            number_format = formats.get(index)
            if number_format:
                for (cell,) in ws.iter_rows(min_row=4, min_col=index, max_col=index):
                    cell.number_format = number_format
        ws.freeze_panes = "A4"
        ws.print_title_rows = "3:3"
        ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        return ws

    criteria = table.criteria
    header = ["排名", "牵头单位"]
    for c in criteria:
        header += [f"{c.name}\n得分", f"{c.name}\n折算分"]
    header.append("总分")
    rows = []
    for row in table.units:
        values = [row.rank, row.party.name]
        for cell in row.cells:
            values += [_float(cell.score), _float(cell.share)]
        values.append(_float(row.total))
        rows.append(values)
    formats = {3 + i: SCORE_FORMAT for i in range(2 * len(criteria) + 1)}
    sheet(
        "牵头单位",
        f"{round_}结果",
        header,
        rows,
        [7, 30] + [12] * (2 * len(criteria)) + [10],
        formats,
    )
    if table.streets:
        street_rows = []
        for row in table.streets:
            street_rows.append([row.rank, row.party.name, _float(row.total)])
        sheet(
            "街镇互评",
            f"{round_}街镇互评得分",
            ["排名", "街镇", "互评得分"],
            street_rows,
            [7, 24, 12],
            {3: SCORE_FORMAT},
        )
    total_weight = sum((c.weight for c in criteria), Decimal(0))
    sheet(
        "考核指标",
        f"{round_}考核指标和权重",
        ["指标", "计分方式", "权重", "权重占比", "评分说明"],
        [
            [
                c.name,
                c.get_kind_display(),
                _float(c.weight),
                float(c.weight / total_weight) if total_weight else None,
                c.description,
            ]
            for c in criteria
        ],
        [20, 24, 10, 12, 50],
        {3: "0.##", 4: PERCENT_FORMAT},
    )
    return book


def _float(value: Decimal | None):
    """A score as openpyxl writes it: a float, to the two places the table shows."""
    return None if value is None else float(rounded(value))
