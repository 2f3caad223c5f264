"""Satisfaction votes: once per item per month per browser, a keyed hash in the database, the
score and awareness the item page shows and the evaluation reads."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from livelihood.models import SatisfactionVote
from livelihood.voice import satisfaction
from livelihood.voice.satisfaction import (
    Score,
    satisfaction_scores,
)

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def rate_url(item):
    return reverse("livelihood:item-rate", args=[item.plan.year, item.code])


def rate(client, item, rating="satisfied", aware="yes", **fields):
    """Post the form; upper-case keywords (REMOTE_ADDR) go to the request, not the form."""
    extra = {k: fields.pop(k) for k in list(fields) if k.isupper()}
    return client.post(rate_url(item), {"rating": rating, "aware": aware, **fields}, **extra)


def votes(item, *ratings, aware=None, when=None):
    for number, rating in enumerate(ratings):
        vote = SatisfactionVote.objects.create(
            item=item,
            month=datetime.date(2024, 6, 1),
            rating=rating,
            aware=aware[number] if aware else None,
            voter=f"{item.pk}-{rating}-{number}-{when}",
        )
        if when is not None:
            SatisfactionVote.objects.filter(pk=vote.pk).update(created_at=when)


# ------------------------------------------------------------------------------
# Voting
# ------------------------------------------------------------------------------
def test_a_vote_sets_a_random_cookie_and_stores_only_its_keyed_hash(client, item):
    response = rate(client, item, rating="basic", aware="no")
    assert response.status_code == 302
    assert response["Location"].endswith("/2024/items/1-1/rate/thanks/")
    cookie = response.cookies[settings.VOTER_COOKIE_NAME]
    token = cookie.value
    assert len(token) == 32 and cookie["httponly"]
    vote = SatisfactionVote.objects.get()
    assert vote.rating == "basic" and vote.aware is False
    assert vote.month == timezone.localdate().replace(day=1)
    assert vote.voter == satisfaction.voter_hash(token) and token not in vote.voter
    assert len(vote.voter) == 64


def test_a_second_vote_in_the_same_month_is_refused(client, item):
    rate(client, item)
    again = rate(client, item, rating="unsatisfied")
    assert again.status_code == 409
    assert "本月已评价过这项民生实事" in again.content.decode()
    assert SatisfactionVote.objects.get().rating == "satisfied"
    assert "本月已评价过" in client.get(rate_url(item)).content.decode()


def test_another_browser_or_another_item_may_vote(client, item, make_item):
    rate(client, item)
    assert rate(Client(), item).status_code == 302
    assert rate(client, make_item()).status_code == 302
    assert SatisfactionVote.objects.count() == 3


def test_the_same_browser_may_vote_again_next_month(client, item, monkeypatch):
    rate(client, item)
    june = datetime.datetime(2024, 6, 30, 23, 0, tzinfo=SHANGHAI)
    july = datetime.datetime(2024, 7, 1, 8, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: june)
    assert rate(client, item).status_code == 302
    assert rate(client, item).status_code == 409
    monkeypatch.setattr(timezone, "now", lambda: july)
    assert rate(client, item).status_code == 302
    months = sorted(SatisfactionVote.objects.values_list("month", flat=True))
    assert datetime.date(2024, 6, 1) in months and datetime.date(2024, 7, 1) in months
    assert len({v.voter for v in SatisfactionVote.objects.all()}) == 1


def test_a_forged_cookie_gets_a_fresh_token(client, item):
    client.cookies[settings.VOTER_COOKIE_NAME] = "not a token"
    response = rate(client, item)
    assert response.cookies[settings.VOTER_COOKIE_NAME].value != "not a token"


def test_a_rating_is_required_and_awareness_is_optional(client, item):
    response = client.post(rate_url(item), {"aware": "yes"})
    assert response.status_code == 200 and "请选择一项评价" in response.content.decode()
    assert rate(client, item, aware="").status_code == 302
    assert SatisfactionVote.objects.get().aware is None


def test_votes_are_rate_limited_per_address_and_per_item(item, make_item, settings):
    settings.VOTE_LIMIT_PER_ADDRESS = 2
    settings.VOTE_LIMIT_PER_ITEM = 3
    for _ in range(2):
        assert rate(Client(), item).status_code == 302
    refused = rate(Client(), item)
    assert refused.status_code == 429 and "评价提交过于频繁" in refused.content.decode()
    assert rate(Client(), item, REMOTE_ADDR="10.0.0.2").status_code == 302
    assert rate(Client(), item, REMOTE_ADDR="10.0.0.3").status_code == 429  # the item's limit
    assert rate(Client(), make_item(), REMOTE_ADDR="10.0.0.4").status_code == 302
    assert SatisfactionVote.objects.count() == 4


def test_the_honeypot_vote_is_not_counted(client, item):
    response = rate(client, item, website="x")
    assert response.status_code == 302
    assert not SatisfactionVote.objects.exists()
    assert settings.VOTER_COOKIE_NAME not in response.cookies


# ------------------------------------------------------------------------------
# Scores
# ------------------------------------------------------------------------------
def test_score_is_the_mean_of_100_60_and_0_points(plan, item, make_item):
    votes(item, "satisfied", "satisfied", "basic", "unsatisfied")
    empty = make_item()
    scores = satisfaction_scores(plan)
    assert set(scores) == {item.pk, empty.pk}
    mine = scores[item.pk]
    assert (mine.votes, mine.satisfied, mine.basic, mine.unsatisfied) == (4, 2, 1, 1)
    assert mine.score == Decimal("65.0")  # (100 + 100 + 60 + 0) / 4
    assert mine.satisfied_share == Decimal("0.75")
    assert [(label, count) for label, count, _ in mine.shares] == [
        ("满意", 2),
        ("基本满意", 1),
        ("不满意", 1),
    ]
    assert scores[empty.pk] == Score() and scores[empty.pk].score is None


def test_score_rounds_to_one_decimal_place(plan, item):
    votes(item, "satisfied", "basic", "basic")  # 220 / 3 = 73.33…
    assert satisfaction_scores(plan)[item.pk].score == Decimal("73.3")


def test_awareness_counts_only_the_votes_that_answered(plan, item):
    votes(item, "satisfied", "basic", "basic", "unsatisfied", aware=[True, True, False, None])
    score = satisfaction_scores(plan)[item.pk]
    assert (score.aware_yes, score.aware_answered) == (2, 3)
    assert score.awareness == Decimal(2) / Decimal(3)


def test_until_counts_the_votes_cast_by_the_end_of_that_day(plan, item):
    votes(item, "satisfied", when=datetime.datetime(2024, 6, 30, 23, 59, tzinfo=SHANGHAI))
    votes(item, "unsatisfied", when=datetime.datetime(2024, 7, 1, 0, 1, tzinfo=SHANGHAI))
    assert satisfaction_scores(plan, until=datetime.date(2024, 6, 30))[item.pk].votes == 1
    assert satisfaction_scores(plan)[item.pk].votes == 2
    moment = datetime.datetime(2024, 7, 1, 0, 0, tzinfo=SHANGHAI)
    assert satisfaction_scores(plan, until=moment)[item.pk].score == Decimal("100.0")


def test_scores_cost_two_queries_whatever_the_number_of_votes(
    plan, item, make_item, django_assert_num_queries
):
    for _ in range(5):
        votes(make_item(), "satisfied", "basic")
    with django_assert_num_queries(2):
        satisfaction_scores(plan)


def test_other_plans_votes_do_not_count(plan, item, make_item, later):
    from livelihood.models import Domain

    other = make_item(plan=later, domain=Domain.objects.create(plan=later, number=1, name="就业"))
    votes(other, "unsatisfied")
    assert satisfaction_scores(plan) == {item.pk: Score()}


# ------------------------------------------------------------------------------
# The item page
# ------------------------------------------------------------------------------
def test_item_page_shows_votes_shares_score_and_awareness(client, item):
    votes(item, "satisfied", "satisfied", "satisfied", "basic", aware=[True, False, True, None])
    page = client.get(item.get_absolute_url()).content.decode()
    assert "共 <strong>4</strong> 人次评价" in page
    assert (
        "满意度得分 <strong>90</strong> 分" in page or "满意度得分 <strong>90.0</strong> 分" in page
    )
    assert "75%" in page and "25%" in page
    assert "知晓率 <strong>66.7%</strong>" in page
    assert "的 3 人次中，2 人次表示此前了解" in page


def test_item_page_without_votes_invites_the_first(client, item):
    page = client.get(item.get_absolute_url()).content.decode()
    assert "尚无居民评价" in page and rate_url(item) in page
