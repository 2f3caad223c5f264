"""
The steps of an evaluation round (考核评价), each in one transaction: close (freeze every
computed criterion's score and inputs), reopen, publish, a manual score entered, a party's
peer-review ratings (互评) saved. Only the coordinating office manages a round; only a lead
unit's or street's rater rates, for its own party. What is scored, and how, is in
evaluation/scoring.py.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from livelihood.accounts.roles import is_coordinator
from livelihood.evaluation.models import (
    EvaluationCriterion,
    EvaluationRound,
    EvaluationScore,
    PeerReview,
)
from livelihood.evaluation.scoring import (
    HUNDRED,
    Kind,
    computed_scores,
    own_ratings,
    party_fields,
    party_of,
    ratees,
    results,
)
from livelihood.plan.models import LeadUnit

State = EvaluationRound.State


class EvaluationError(Exception):
    """A step the rules refuse; `message` is for the person who asked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
                **party_fields("rater", party),
                **party_fields("ratee", ratee),
            )
            changed += 1
        elif (row.grade, row.comment) != (grade, comment):
            row.grade, row.comment, row.updated_at = grade, comment, now
            row.save(update_fields=["grade", "comment", "updated_at"])
            changed += 1
    return changed
