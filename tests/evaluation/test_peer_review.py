"""Peer review (互评): who may rate whom, once per pair, until the round closes, and the rated
party never learns who rated it: not on its own page, not on the public page, not in the
export."""

import datetime
import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from livelihood.accounts import roles
from livelihood.evaluation import scoring, workbook
from livelihood.evaluation import services as evaluation
from livelihood.models import (
    EvaluationCriterion,
    EvaluationRound,
    LeadUnit,
    PeerReview,
    StaffProfile,
)

pytestmark = pytest.mark.django_db
RATE = reverse("admin:livelihood_peerreview_rate")


@pytest.fixture
def round_(plan, unit, other_unit, street, make_item):
    make_item(title="就业事项")
    make_item(title="助残事项", lead_unit=other_unit)
    third = LeadUnit.objects.create(code="mzj", name="区民政局", order=3)
    make_item(title="养老事项", lead_unit=third)
    created = EvaluationRound.objects.create(
        plan=plan,
        kind="midyear",
        cutoff_month=datetime.date(2024, 6, 1),
        cutoff_at=timezone.make_aware(datetime.datetime(2024, 7, 31, 23, 59)),
    )
    created.criteria.create(name="互评", kind=EvaluationCriterion.Kind.PEER, weight=100)
    return created


@pytest.fixture
def third(round_):
    return LeadUnit.objects.get(code="mzj")


@pytest.fixture
def street_user(street):
    user = User.objects.create_user("street-clerk", is_staff=True)
    user.groups.add(roles.street_group())
    StaffProfile.objects.create(user=user, street=street)
    return user


def key(party):
    return f"{'u' if isinstance(party, LeadUnit) else 's'}{party.pk}"


def rate(client, ratings, **extra):
    data = {}
    for party, (grade, comment) in ratings.items():
        data[f"g-{key(party)}"] = str(grade)
        data[f"c-{key(party)}"] = comment
    return client.post(RATE, data | extra, follow=True)


def test_the_rating_page_lists_every_other_unit_and_street_but_not_itself(
    client, round_, make_staff, unit, other_unit, third, street
):
    client.force_login(make_staff("clerk", unit))
    page = client.get(RATE).content.decode()
    for name in (other_unit.name, third.name, street.name):
        assert f">{name}</label>" in page
    assert f">{unit.name}</label>" not in page
    assert "已评 0 / 3" in page


def test_a_unit_rates_others_and_changes_its_rating_until_the_round_closes(
    client, round_, make_staff, unit, other_unit, street, office
):
    clerk = make_staff("clerk", unit)
    client.force_login(clerk)
    rate(client, {other_unit: (80, "配合及时"), street: (100, "")})
    rows = PeerReview.objects.filter(round=round_)
    assert rows.count() == 2
    first = rows.get(ratee_unit=other_unit)
    assert (first.rater_unit, first.grade, first.comment) == (unit, 80, "配合及时")
    # Saved again with a new grade: the same row changes, no second one.
    rate(client, {other_unit: (60, "配合一般"), street: (100, "")})
    assert rows.count() == 2
    assert rows.get(ratee_unit=other_unit).grade == 60
    # Withdrawn with 未评.
    rate(client, {other_unit: ("", ""), street: (100, "")})
    assert not rows.filter(ratee_unit=other_unit).exists()

    evaluation.round_close(round_=round_, user=office)
    response = rate(client, {other_unit: (40, "事后修改"), street: (40, "")})
    assert "互评已结束" in response.content.decode() or response.status_code == 404
    assert not rows.filter(grade=40).exists()
    with pytest.raises(evaluation.EvaluationError, match="互评已结束"):
        evaluation.peer_review_save(round_=round_, user=clerk, ratings={street: (40, "")})


def test_no_party_rates_itself(round_, make_staff, unit, street, street_user):
    with pytest.raises(evaluation.EvaluationError, match="不能评价本单位"):
        evaluation.peer_review_save(
            round_=round_, user=make_staff("clerk", unit), ratings={unit: (100, "")}
        )
    with pytest.raises(evaluation.EvaluationError, match="不能评价本单位"):
        evaluation.peer_review_save(round_=round_, user=street_user, ratings={street: (100, "")})
    with transaction.atomic(), pytest.raises(IntegrityError):
        PeerReview.objects.create(round=round_, rater_unit=unit, ratee_unit=unit, grade=100)
    with transaction.atomic(), pytest.raises(IntegrityError):
        PeerReview.objects.create(round=round_, rater_street=street, ratee_street=street, grade=80)


def test_once_per_pair_per_round(round_, unit, other_unit, street):
    PeerReview.objects.create(round=round_, rater_unit=unit, ratee_unit=other_unit, grade=80)
    with transaction.atomic(), pytest.raises(IntegrityError):
        PeerReview.objects.create(round=round_, rater_unit=unit, ratee_unit=other_unit, grade=60)
    PeerReview.objects.create(round=round_, rater_street=street, ratee_unit=unit, grade=80)
    with transaction.atomic(), pytest.raises(IntegrityError):
        PeerReview.objects.create(round=round_, rater_street=street, ratee_unit=unit, grade=40)
    # The reverse direction is another pair.
    PeerReview.objects.create(round=round_, rater_unit=other_unit, ratee_unit=unit, grade=100)


def test_a_unit_rates_only_as_itself(client, round_, make_staff, unit, other_unit, third):
    """A form field naming another rater is ignored: the rater is the account's unit."""
    client.force_login(make_staff("clerk", unit))
    rate(client, {third: (40, "")}, rater_unit=other_unit.pk, round=round_.pk)
    row = PeerReview.objects.get()
    assert (row.rater_unit, row.rater_street, row.ratee_unit) == (unit, None, third)


def test_a_unit_sees_no_other_units_ratings(client, round_, make_staff, unit, other_unit, third):
    PeerReview.objects.create(
        round=round_, rater_unit=other_unit, ratee_unit=third, grade=40, comment="乙对丙的意见"
    )
    client.force_login(make_staff("clerk", unit))
    page = client.get(RATE).content.decode()
    assert "乙对丙的意见" not in page
    assert "已评 0 / 3" in page
    assert client.get(reverse("admin:livelihood_peerreview_changelist")).status_code == 403
    row = PeerReview.objects.get()
    change = client.get(reverse("admin:livelihood_peerreview_change", args=[row.pk]))
    assert change.status_code in (302, 403)


def test_the_rated_unit_sees_its_mean_and_comments_but_not_who_rated(
    client, round_, make_staff, unit, other_unit, third, street, office
):
    for rater, grade, comment in (
        ({"rater_unit": other_unit}, 100, "协调有力"),
        ({"rater_unit": third}, 60, "反馈偏慢"),
        ({"rater_street": street}, 80, ""),
    ):
        PeerReview.objects.create(
            round=round_, ratee_unit=unit, grade=grade, comment=comment, **rater
        )
    client.force_login(make_staff("clerk", unit))
    # While the round is open, nothing received is shown (a moving mean would name the rater).
    assert "协调有力" not in client.get(RATE).content.decode()
    evaluation.round_close(round_=round_, user=office)
    page = client.get(RATE).content.decode()
    assert "互评得分 <strong>80</strong>" in page and "共 3 份评价" in page
    assert "协调有力" in page and "反馈偏慢" in page
    for name in (other_unit.name, third.name, street.name):
        assert name not in page


def test_raters_and_comments_are_in_no_public_page_nor_export(
    client, round_, unit, other_unit, street, office
):
    PeerReview.objects.create(
        round=round_, rater_street=street, ratee_unit=unit, grade=100, comment="秘密意见ZQ"
    )
    evaluation.round_close(round_=round_, user=office)
    evaluation.round_publish(round_=round_, user=office)
    page = client.get(round_.get_absolute_url()).content.decode()
    assert "秘密意见ZQ" not in page
    assert "互评" in page and unit.name in page
    # The street appears as a rated party (its own score), never as anyone's rater.
    book = workbook.results_workbook(scoring.results(round_))
    text = "".join(
        str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row if cell.value
    )
    assert "秘密意见ZQ" not in text
    assert "评价方" not in text and "评价单位" not in text
    # The office's admin list does show raters.
    client.force_login(office)
    listing = client.get(reverse("admin:livelihood_peerreview_changelist")).content.decode()
    assert street.name in listing and "秘密意见ZQ" in listing


def test_a_street_account_only_rates(client, round_, street, street_user, unit, make_item):
    assert not roles.is_coordinator(street_user)
    assert roles.unit_of(street_user) is None and roles.street_of(street_user) == street
    assert set(street_user.get_all_permissions()) == {"livelihood.rate_peers"}
    client.force_login(street_user)
    rate(client, {unit: (80, "")})
    assert PeerReview.objects.get().rater_street == street
    assert client.get(reverse("admin:livelihood_item_changelist")).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert RATE in index


def test_create_unit_user_makes_a_street_account(street):
    out = io.StringIO()
    call_command(
        "create_unit_user",
        "mg",
        "--street",
        "mingguanglu",
        stdin=io.StringIO("街镇评价员-长密码-2024\n"),
        stdout=out,
    )
    user = User.objects.get(username="mg")
    assert user.staff_profile.street == street and user.staff_profile.lead_unit is None
    assert list(user.groups.values_list("name", flat=True)) == ["街镇评价员"]
    assert "明光路街道评价员" in out.getvalue()


def test_a_profile_is_a_unit_or_a_street_never_both(unit, street):
    user = User.objects.create_user("both")
    with transaction.atomic(), pytest.raises(IntegrityError):
        StaffProfile.objects.create(user=user, lead_unit=unit, street=street)


def test_the_office_does_not_rate(client, round_, office):
    client.force_login(office)
    page = client.get(RATE).content.decode()
    assert "互评由各牵头单位和街镇的评价员填写" in page
    with pytest.raises(evaluation.EvaluationError):
        evaluation.peer_review_save(round_=round_, user=office, ratings={})
