"""
Residents' satisfaction with each item (满意 / 基本满意 / 不满意) and their awareness of it
(知晓率), as the item page shows them and the evaluation reads them.

The score: the mean of the votes with 满意 = 100, 基本满意 = 60 and 不满意 = 0 points, rounded
to one decimal place; None without votes. Awareness: the share of "yes" among the votes that
answered "您此前是否了解这项民生实事？" (the question is optional).

One vote per item per month per browser: the browser keeps a random token in a cookie
(settings.VOTER_COOKIE_NAME: `__Host-yaohai_voter` over HTTPS); the database keeps only a
keyed hash of it (HMAC-SHA256 with SECRET_KEY), so a vote cannot be traced back to a browser
without the key, and the token alone is useless for anything else. A second vote in the same
month is refused by the database (`satisfaction_once_per_item_month`); next month the same
browser may vote again.
"""

import datetime
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from livelihood.plan.models import Item, first_of_month
from livelihood.progress.arithmetic import round_half_up
from livelihood.voice.models import SatisfactionVote

Rating = SatisfactionVote.Rating

POINTS = {Rating.SATISFIED: 100, Rating.BASIC: 60, Rating.UNSATISFIED: 0}
VOTER_COOKIE_AGE = 2 * 365 * 24 * 60 * 60
_SALT = "livelihood.voice.satisfaction.voter"


@dataclass(frozen=True)
class Score:
    """An item's votes. `score` is the points mean (see the module docstring), None without
    votes."""

    votes: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    aware_yes: int = 0
    aware_answered: int = 0
    score: Decimal | None = None

    @staticmethod
    def _share(part: int, whole: int) -> Decimal | None:
        return None if not whole else Decimal(part) / Decimal(whole)

    @property
    def awareness(self) -> Decimal | None:
        """知晓率: share of "yes" among the votes that answered the question."""
        return self._share(self.aware_yes, self.aware_answered)

    @property
    def shares(self) -> list[tuple[str, int, Decimal | None]]:
        """(label, count, share) per rating, in the order residents are asked."""
        return [
            (Rating.SATISFIED.label, self.satisfied, self._share(self.satisfied, self.votes)),
            (Rating.BASIC.label, self.basic, self._share(self.basic, self.votes)),
            (Rating.UNSATISFIED.label, self.unsatisfied, self._share(self.unsatisfied, self.votes)),
        ]

    @property
    def satisfied_share(self) -> Decimal | None:
        """满意率 as often reported: 满意 and 基本满意 together."""
        return self._share(self.satisfied + self.basic, self.votes)


def score_of(satisfied: int, basic: int, unsatisfied: int) -> Decimal | None:
    votes = satisfied + basic + unsatisfied
    if not votes:
        return None
    points = satisfied * POINTS[Rating.SATISFIED] + basic * POINTS[Rating.BASIC]
    return round_half_up(Decimal(points) / Decimal(votes), 1)


def _until_moment(until) -> datetime.datetime | None:
    """A date counts through its last moment (local time); a datetime is taken as it is."""
    if until is None or isinstance(until, datetime.datetime):
        return until
    next_day = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(next_day) - datetime.timedelta(microseconds=1)


def _counts(votes) -> dict[int, Score]:
    rows = (
        votes.values("item_id")
        .annotate(
            votes=Count("pk"),
            satisfied=Count("pk", filter=Q(rating=Rating.SATISFIED)),
            basic=Count("pk", filter=Q(rating=Rating.BASIC)),
            unsatisfied=Count("pk", filter=Q(rating=Rating.UNSATISFIED)),
            aware_yes=Count("pk", filter=Q(aware=True)),
            aware_answered=Count("pk", filter=Q(aware__isnull=False)),
        )
        .order_by()
    )
    scores = {}
    for row in rows:
        item_id = row.pop("item_id")
        scores[item_id] = Score(
            **row, score=score_of(row["satisfied"], row["basic"], row["unsatisfied"])
        )
    return scores


def satisfaction_scores(plan, *, until=None) -> dict[int, Score]:
    """Every item of `plan` (by item id) with its votes cast up to `until` (a date: through
    that day; a datetime; None: all); an item without votes has a zero Score, score None.
    Two queries whatever the number of votes."""
    votes = SatisfactionVote.objects.filter(item__plan=plan)
    moment = _until_moment(until)
    if moment is not None:
        votes = votes.filter(created_at__lte=moment)
    counted = _counts(votes)
    item_ids = plan.items.values_list("pk", flat=True)
    return {pk: counted.get(pk, Score()) for pk in item_ids}


def item_score(item) -> Score:
    """One item's votes (one query): what its page shows."""
    return _counts(SatisfactionVote.objects.filter(item=item)).get(item.pk, Score())


# ------------------------------------------------------------------------------
# Voting
# ------------------------------------------------------------------------------
def new_token() -> str:
    return secrets.token_urlsafe(24)


def voter_hash(token: str) -> str:
    """The keyed hash stored in SatisfactionVote.voter (64 hex digits)."""
    return salted_hmac(_SALT, token, algorithm="sha256").hexdigest()


def has_voted(item, token: str | None, today: datetime.date | None = None) -> bool:
    if not token:
        return False
    month = first_of_month(today or timezone.localdate())
    return SatisfactionVote.objects.filter(item=item, month=month, voter=voter_hash(token)).exists()


class AlreadyVoted(Exception):
    pass


def vote_cast(
    *, item: Item, token: str, rating: str, aware: bool | None, today: datetime.date | None = None
) -> SatisfactionVote:
    """Record a vote; AlreadyVoted when this browser has rated the item this month."""
    month = first_of_month(today or timezone.localdate())
    try:
        with transaction.atomic():
            return SatisfactionVote.objects.create(
                item=item, month=month, rating=rating, aware=aware, voter=voter_hash(token)
            )
    except IntegrityError:
        raise AlreadyVoted from None
