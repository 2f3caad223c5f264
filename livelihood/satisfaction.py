"""Residents' satisfaction with each item, from `SatisfactionVote`: what the item page shows and
what the evaluation's 群众满意度 criterion reads."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q

from .models import SatisfactionVote

Rating = SatisfactionVote.Rating
POINTS = {Rating.SATISFIED: 100, Rating.BASIC: 60, Rating.UNSATISFIED: 0}


@dataclass(frozen=True)
class Score:
    votes: int
    satisfied: int
    basic: int
    unsatisfied: int
    aware_yes: int
    aware_answered: int
    score: Decimal | None


def satisfaction_scores(plan, *, until=None) -> dict[int, Score]:
    """{item id: Score} for the plan's items that have votes, in one query.

    score: 满意=100, 基本满意=60, 不满意=0, mean of votes; None without votes.
    `until` (a moment) leaves out votes cast after it; a date leaves out later months.
    """
    votes = SatisfactionVote.objects.filter(item__plan=plan)
    if isinstance(until, datetime.datetime):
        votes = votes.filter(created_at__lte=until)
    elif until is not None:
        votes = votes.filter(month__lte=until)
    rows = (
        votes.order_by()
        .values("item_id")
        .annotate(
            votes=Count("pk"),
            satisfied=Count("pk", filter=Q(rating=Rating.SATISFIED)),
            basic=Count("pk", filter=Q(rating=Rating.BASIC)),
            unsatisfied=Count("pk", filter=Q(rating=Rating.UNSATISFIED)),
            aware_yes=Count("pk", filter=Q(aware=True)),
            aware_answered=Count("pk", filter=Q(aware__isnull=False)),
        )
    )
    return {row.pop("item_id"): Score(**row, score=_score(row)) for row in rows}


def _score(row) -> Decimal | None:
    if not row["votes"]:
        return None
    points = row["satisfied"] * POINTS[Rating.SATISFIED] + row["basic"] * POINTS[Rating.BASIC]
    return Decimal(points) / Decimal(row["votes"])
