"""What residents and raters did not agree to publish appears nowhere public (issue 6): not an
unpublished message, not a contact, not a name the resident kept private, not who rated whom
nor their comments, on any public page, download, API answer or feed entry."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from livelihood.data import resources
from livelihood.evaluation import services as evaluation
from livelihood.models import (
    EvaluationCriterion,
    EvaluationRound,
    LeadUnit,
    PeerReview,
)
from livelihood.voice import services as voice

pytestmark = pytest.mark.django_db

SECRETS = [
    "未公开的留言XQJ",  # a message still waiting for moderation
    "被拒绝的留言XQK",  # a rejected one
    "隐名居民XQL",  # a name the resident did not ask to show
    "contact-xqm@example.cn",  # a contact: the office's alone
    "互评意见XQN",  # a peer review's comment
]
# The rater: a lead unit leading no item of the plan, so it is in no ranking; its name on an
# evaluation page could only say who rated.
RATER = "区民政局XQO"


@pytest.fixture
def world(plan, unit, other_unit, make_item, make_indicator, report, make_staff):
    office = make_staff("office")
    item = make_item("1-1", title="城镇新增就业")
    report(item, "2024-05", {make_indicator(item, "1.15", unit="万人"): "2300"})
    make_item("1-2", title="助残服务", lead_unit=other_unit)

    voice.feedback_submit(item=item, message="未公开的留言XQJ，请尽快处理。")
    rejected = voice.feedback_submit(item=item, message="被拒绝的留言XQK，请处理。")
    voice.feedback_reject(feedback=rejected, user=office, reason="spam")
    shown = voice.feedback_submit(
        item=item,
        message="路灯不亮，请尽快维修。",
        name="隐名居民XQL",
        show_name=False,
        contact="contact-xqm@example.cn",
    )
    voice.feedback_publish(feedback=shown, user=office)

    rater = LeadUnit.objects.create(code="mzj", name="区民政局XQO", order=9)
    round_ = EvaluationRound.objects.create(
        plan=plan,
        kind="midyear",
        cutoff_month=datetime.date(2024, 6, 1),
        cutoff_at=timezone.make_aware(datetime.datetime(2024, 7, 31, 23, 59)),
    )
    round_.criteria.create(name="互评", kind=EvaluationCriterion.Kind.PEER, weight=100)
    PeerReview.objects.create(
        round=round_, rater_unit=rater, ratee_unit=unit, grade=80, comment="互评意见XQN"
    )
    evaluation.round_close(round_=round_, user=office)
    evaluation.round_publish(round_=round_, user=office)
    return item


def public_urls(item):
    year = item.plan.year
    urls = [
        reverse("livelihood:home"),
        item.get_absolute_url(),
        reverse("livelihood:item-messages", args=[year, item.code]),
        reverse("livelihood:unit-detail", args=[year, item.lead_unit.code]),
        reverse("livelihood:evaluation-index", args=[year]),
        reverse("livelihood:evaluation-detail", args=[year, "midyear"]),
        reverse("livelihood:plan-list"),
        reverse("livelihood:feed"),
        reverse("livelihood:data"),
        "/api/v1/plans",
        f"/api/v1/plans/{year}/items",
        f"/api/v1/plans/{year}/items/{item.code}",
        f"/api/v1/plans/{year}/figures",
        "/api/v1/units",
        "/api/v1/openapi.json",
    ]
    for resource in resources.DOWNLOADS:
        for fmt in ("csv", "json"):
            urls.append(reverse("livelihood:download", args=[year, resource.slug, fmt]))
    return urls


def text_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode("utf-8-sig")


def test_nothing_unpublished_or_private_is_public_anywhere(client, world):
    item = world
    # The published round is on the portal, and the published message, without its name.
    detail = text_of(client.get(reverse("livelihood:evaluation-detail", args=[2024, "midyear"])))
    assert "区人力资源和社会保障局" in detail
    messages = text_of(client.get(reverse("livelihood:item-messages", args=[2024, item.code])))
    assert "路灯不亮" in messages
    for url in public_urls(item):
        response = client.get(url)
        assert response.status_code == 200, url
        page = text_of(response)
        for secret in SECRETS:
            assert secret not in page, (url, secret)
        if "/evaluation/" in url:
            assert RATER not in page, url
