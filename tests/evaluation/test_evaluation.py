"""Evaluation rounds: computed criteria by the one progress arithmetic, frozen at close;
weights and shares; manual scores; publication; the Excel export."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from livelihood.data.spreadsheet import neutralise
from livelihood.evaluation import scoring, workbook
from livelihood.evaluation import services as evaluation
from livelihood.models import (
    EvaluationCriterion,
    EvaluationRound,
    EvaluationScore,
    LeadUnit,
    PeerReview,
    SatisfactionVote,
)
from livelihood.progress.selectors import month_end_moment
from livelihood.snapshots import build, read
from livelihood.voice.satisfaction import satisfaction_scores

pytestmark = pytest.mark.django_db
Kind = EvaluationCriterion.Kind


def moment(year, month, day, hour=12):
    return timezone.make_aware(datetime.datetime(year, month, day, hour))


@pytest.fixture
def world(plan, unit, other_unit, make_item, make_indicator, report):
    """Two units: rsj on schedule at the end of June (50 of 100, 序时进度 3/9), cl behind
    (10 of 100); both June reports approved on 10 July, rsj's submitted on time."""
    mine = make_item(title="就业事项")
    theirs = make_item(title="助残事项", lead_unit=other_unit)
    a, b = make_indicator(mine, "100"), make_indicator(theirs, "100")
    for item, indicator, value, submitted in (
        (mine, a, "50", moment(2024, 7, 3)),
        (theirs, b, "10", moment(2024, 7, 9)),
    ):
        report(
            item,
            "2024-06",
            {indicator: value},
            submitted_at=submitted,
            reviewed_at=moment(2024, 7, 10),
        )
    round_ = EvaluationRound.objects.create(
        plan=plan,
        kind="midyear",
        cutoff_month=datetime.date(2024, 6, 1),
        cutoff_at=month_end_moment(datetime.date(2024, 7, 1)),
    )
    progress_ = round_.criteria.create(name="推进进度", kind=Kind.PROGRESS, weight=40, order=1)
    punctual = round_.criteria.create(name="按时报送", kind=Kind.PUNCTUALITY, weight=20, order=2)
    quality = round_.criteria.create(name="报告质量", kind=Kind.MANUAL, weight=40, order=3)
    return {
        "round": round_,
        "mine": mine,
        "theirs": theirs,
        "indicators": (a, b),
        "progress": progress_,
        "punctual": punctual,
        "quality": quality,
    }


def scores_of(table, unit):
    row = next(r for r in table.units if r.party == unit)
    return {cell.criterion.name: cell.score for cell in row.cells}, row


def test_progress_against_schedule_uses_the_arithmetic_as_of_the_cutoff(world, unit, other_unit):
    table = scoring.results(world["round"])
    mine, _ = scores_of(table, unit)
    theirs, _ = scores_of(table, other_unit)
    # 50% done against 33.3% expected: at or ahead of schedule.
    assert mine["推进进度"] == Decimal(100)
    # 10% against 3/9: 10 / 33.33 = 30.
    assert scoring.rounded(theirs["推进进度"]) == Decimal("30.00")


def test_reports_after_the_cutoff_do_not_count(world, other_unit, report):
    theirs, b = world["theirs"], world["indicators"][1]
    # A July report, and one approved only after the cut-off moment: neither counts.
    report(theirs, "2024-07", {b: "90"}, reviewed_at=moment(2024, 7, 20))
    late = world["round"].cutoff_at + datetime.timedelta(days=3)
    report(world["mine"], "2024-05", {world["indicators"][0]: "1"}, reviewed_at=late)
    scores, _ = scores_of(scoring.results(world["round"]), other_unit)
    assert scoring.rounded(scores["推进进度"]) == Decimal("30.00")


def test_progress_scores_are_not_the_stored_snapshot(
    world, other_unit, make_item, make_indicator, report
):
    """The stored as_of view of the cut-off month counts what was approved after the cut-off
    moment; the round must not (livelihood/evaluation/scoring.py says why it computes)."""
    round_ = world["round"]
    extra = make_item(title="助残新增", lead_unit=other_unit)
    late = round_.cutoff_at + datetime.timedelta(days=3)
    report(extra, "2024-06", {make_indicator(extra, "100"): "100"}, reviewed_at=late)
    build.write_pending()
    stored = read.as_of(round_.plan, round_.cutoff_month, lead_unit=other_unit)
    assert stored.stored
    rolled = stored.rollup(stored.items, read.Scope.UNIT, other_unit.pk)
    assert rolled.progress == Decimal("0.55")  # 10% and the late 100%
    scores, _ = scores_of(scoring.results(round_), other_unit)
    # 10% and 0% (nothing approved by the cut-off): 5 / 33.33 = 15; the stored view's 55%
    # would have scored 100.
    assert scoring.rounded(scores["推进进度"]) == Decimal("15.00")


def test_punctuality_counts_due_months_up_to_the_cutoff(world, unit, other_unit):
    # Due: April, May (no reports: missing), June (rsj on time 3 July, cl late 9 July).
    mine, _ = scores_of(scoring.results(world["round"]), unit)
    theirs, _ = scores_of(scoring.results(world["round"]), other_unit)
    assert scoring.rounded(mine["按时报送"]) == Decimal("33.33")
    assert theirs["按时报送"] == Decimal(0)


def test_total_is_the_weight_normalised_mean_and_shares_add_up(world, unit, office):
    round_ = world["round"]
    evaluation.manual_score_save(
        criterion=world["quality"], unit=unit, score=Decimal(90), note="报告翔实", user=office
    )
    _, row = scores_of(scoring.results(round_), unit)
    # 40 × 100 + 20 × 33.33 + 40 × 90, over 100.
    expected = (40 * Decimal(100) + 20 * (Decimal(100) / 3) + 40 * Decimal(90)) / 100
    assert scoring.rounded(row.total) == scoring.rounded(expected)
    assert scoring.rounded(sum(c.share for c in row.cells)) == scoring.rounded(row.total)
    assert [c.share_display for c in row.cells] == ["40", "6.67", "36"]


def test_a_criterion_without_data_drops_out_of_the_total(world, other_unit):
    """No manual score and no votes: the total is over the criteria that have a score."""
    world["round"].criteria.create(name="群众满意度", kind=Kind.SATISFACTION, weight=50)
    _, row = scores_of(scoring.results(world["round"]), other_unit)
    # (40 × 30 + 20 × 0) / 60
    assert scoring.rounded(row.total) == Decimal("20.00")


def test_equal_totals_share_a_rank():
    units = [LeadUnit(code=c, name=c, order=i) for i, c in enumerate("abcd")]
    rows = [
        scoring.Standing(u, [], Decimal(t)) for u, t in zip(units, [80, 90, 80, 70], strict=True)
    ]
    rows.append(scoring.Standing(LeadUnit(code="e", name="e", order=9), [], None))
    ranked = scoring.ranked(rows)
    assert [(r.party.code, r.rank) for r in ranked] == [
        ("b", 1),
        ("a", 2),
        ("c", 2),
        ("d", 4),
        ("e", None),
    ]


def test_closing_freezes_computed_scores_with_their_inputs(world, unit, other_unit, office, report):
    round_ = evaluation.round_close(round_=world["round"], user=office)
    before = scoring.results(round_)
    stored = EvaluationScore.objects.get(criterion=world["progress"], unit=other_unit)
    assert stored.inputs["进度"] == "0.1" and stored.inputs["事项数"] == 1
    assert "数据截至" in stored.inputs

    # Everything moves afterwards: figures, approvals, targets, weights, even the lead unit.
    theirs, b = world["theirs"], world["indicators"][1]
    report(theirs, "2024-05", {b: "99"}, reviewed_at=moment(2024, 7, 1))
    b.target = Decimal(10)
    b.save()
    theirs.weight = Decimal(5)
    theirs.save()
    world["mine"].lead_unit = other_unit
    world["mine"].save()
    after = scoring.results(EvaluationRound.objects.get(pk=round_.pk))
    assert [(r.party, r.total) for r in after.units] == [(r.party, r.total) for r in before.units]
    assert scores_of(after, other_unit)[0] == scores_of(before, other_unit)[0]


def test_a_closed_round_is_not_closed_again_and_reopening_discards_frozen_scores(world, office):
    round_ = evaluation.round_close(round_=world["round"], user=office)
    with pytest.raises(evaluation.EvaluationError, match="已结束"):
        evaluation.round_close(round_=round_, user=office)
    evaluation.round_reopen(round_=round_, user=office)
    assert not EvaluationScore.objects.exclude(criterion__kind=Kind.MANUAL).exists()


def test_only_the_coordinator_runs_a_round(world, make_staff, unit):
    clerk = make_staff("clerk", unit)
    with pytest.raises(evaluation.EvaluationError, match="只有区民生办"):
        evaluation.round_close(round_=world["round"], user=clerk)


def test_manual_scores_need_a_note_a_range_and_a_manual_criterion(world, unit, office):
    save = evaluation.manual_score_save
    with pytest.raises(evaluation.EvaluationError, match="评分说明"):
        save(criterion=world["quality"], unit=unit, score=Decimal(80), note=" ", user=office)
    with pytest.raises(evaluation.EvaluationError, match="0 到 100"):
        save(criterion=world["quality"], unit=unit, score=Decimal(101), note="x", user=office)
    with pytest.raises(evaluation.EvaluationError, match="系统按数据计算"):
        save(criterion=world["progress"], unit=unit, score=Decimal(50), note="x", user=office)
    row = save(criterion=world["quality"], unit=unit, score=Decimal(80), note="较好", user=office)
    assert (row.score, row.note, row.entered_by) == (Decimal(80), "较好", office)


def test_publishing_waits_for_every_manual_score_then_locks(world, unit, other_unit, office):
    round_ = evaluation.round_close(round_=world["round"], user=office)
    with pytest.raises(evaluation.EvaluationError, match="2 项人工评定未录入"):
        evaluation.round_publish(round_=round_, user=office)
    for party in (unit, other_unit):
        evaluation.manual_score_save(
            criterion=world["quality"], unit=party, score=Decimal(85), note="良好", user=office
        )
    round_ = evaluation.round_publish(round_=round_, user=office)
    assert round_.is_published
    with pytest.raises(evaluation.EvaluationError, match="已公布"):
        evaluation.manual_score_save(
            criterion=world["quality"], unit=unit, score=Decimal(1), note="x", user=office
        )
    with pytest.raises(evaluation.EvaluationError):
        evaluation.round_reopen(round_=round_, user=office)


def published(world, office, units):
    round_ = evaluation.round_close(round_=world["round"], user=office)
    for party in units:
        evaluation.manual_score_save(
            criterion=world["quality"], unit=party, score=Decimal(85), note="内部意见", user=office
        )
    return evaluation.round_publish(round_=round_, user=office)


def test_the_public_summary_appears_only_once_published(client, world, unit, other_unit, office):
    url = reverse("livelihood:evaluation-detail", args=[2024, "midyear"])
    assert client.get(url).status_code == 404
    round_ = evaluation.round_close(round_=world["round"], user=office)
    assert client.get(url).status_code == 404
    assert "年中考核" not in client.get(reverse("livelihood:home")).content.decode()
    round_.refresh_from_db()
    for party in (unit, other_unit):
        evaluation.manual_score_save(
            criterion=world["quality"], unit=party, score=Decimal(85), note="内部意见", user=office
        )
    evaluation.round_publish(round_=round_, user=office)
    page = client.get(url).content.decode()
    assert "2024年年中考核结果" in page
    assert "区人力资源和社会保障局" in page and "推进进度" in page
    assert "内部意见" not in page  # manual notes are the office's
    for name in ("livelihood:home", "livelihood:about"):
        assert url in client.get(reverse(name)).content.decode()
    assert url in client.get(reverse("livelihood:evaluation-index", args=[2024])).content.decode()


def test_the_public_summary_runs_a_fixed_number_of_queries(
    client, world, unit, other_unit, office, make_item
):
    published(world, office, [unit, other_unit])
    url = reverse("livelihood:evaluation-detail", args=[2024, "midyear"])
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    round_ = world["round"]
    for number in range(5):
        extra = LeadUnit.objects.create(code=f"x{number}", name=f"单位{number}")
        for criterion in round_.criteria.all():
            EvaluationScore.objects.create(criterion=criterion, unit=extra, score=50)
    with CaptureQueriesContext(connection) as large:
        page = client.get(url).content.decode()
    assert "单位4" in page
    assert len(small) == len(large)


def test_the_export_has_the_table_formats_and_a4_landscape(world, unit, other_unit, office):
    world["quality"].name = "=HYPERLINK(1)"
    world["quality"].save()
    published(world, office, [unit, other_unit])
    book = workbook.results_workbook(scoring.results(world["round"]))
    sheet = book["牵头单位"]
    assert sheet["A1"].value == "2024年年中考核结果"
    assert sheet.freeze_panes == "A4"
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
    header = [c.value for c in sheet[3]]
    assert header[:4] == ["排名", "牵头单位", "推进进度\n得分", "推进进度\n折算分"]
    assert header[6] == "'=HYPERLINK(1)\n得分"
    assert header[-1] == "总分"
    first = [c.value for c in sheet[4]]
    assert first[:3] == [1, "区人力资源和社会保障局", 100.0]
    assert sheet.cell(4, 3).number_format == "0.00"
    assert sheet.column_dimensions["B"].width == 30
    criteria = book["考核指标"]
    assert criteria.cell(4, 4).number_format == "0.0%"
    assert criteria.cell(4, 4).value == pytest.approx(0.4)
    assert criteria.cell(6, 1).value == "'=HYPERLINK(1)"


def test_neutralise_defuses_formula_text_only():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("区民政局") == "区民政局"
    assert neutralise(-1) == -1


def test_satisfaction_scores_are_the_mean_of_votes_until_a_moment(world, unit):
    item = world["mine"]
    for index, rating in enumerate(["satisfied", "satisfied", "basic", "unsatisfied"]):
        SatisfactionVote.objects.create(
            item=item,
            month=datetime.date(2024, 6, 1),
            rating=rating,
            aware=index % 2 == 0,
            voter=f"v{index}",
            created_at=moment(2024, 6, 10),
        )
    SatisfactionVote.objects.create(
        item=item,
        month=datetime.date(2024, 8, 1),
        rating="unsatisfied",
        voter="late",
        created_at=moment(2024, 8, 10),
    )
    score = satisfaction_scores(item.plan, until=world["round"].cutoff_at)[item.pk]
    assert (score.votes, score.satisfied, score.basic, score.unsatisfied) == (4, 2, 1, 1)
    assert (score.aware_yes, score.aware_answered) == (2, 4)
    assert score.score == Decimal(65)  # (100 + 100 + 60 + 0) / 4
    unrated = satisfaction_scores(item.plan)[world["theirs"].pk]
    assert (unrated.votes, unrated.score) == (0, None)
    world["round"].criteria.create(name="群众满意度", kind=Kind.SATISFACTION, weight=10)
    mine, _ = scores_of(scoring.results(world["round"]), unit)
    assert mine["群众满意度"] == Decimal(65)


# ------------------------------------------------------------------------------
# The admin, as the coordinator uses it
# ------------------------------------------------------------------------------
def test_a_mid_year_round_end_to_end_in_the_admin(client, world, unit, other_unit, office):
    client.force_login(office)
    round_ = world["round"]
    results_url = reverse("admin:livelihood_evaluationround_results", args=[round_.pk])
    page = client.get(results_url).content.decode()
    assert "预览" in page and "结束本轮并固定得分" in page
    step = reverse("admin:livelihood_evaluationround_step", args=[round_.pk])
    client.post(step, {"step": "close"})
    round_.refresh_from_db()
    assert round_.state == "closed"
    # Manual scores on their page: a score without a note is refused.
    scores_url = reverse("admin:livelihood_evaluationround_scores", args=[round_.pk])
    q = world["quality"].pk
    response = client.post(scores_url, {f"s-{q}-{unit.pk}": "88", f"n-{q}-{unit.pk}": ""})
    assert "请填写评分说明" in response.content.decode()
    client.post(
        scores_url,
        {
            f"s-{q}-{unit.pk}": "88",
            f"n-{q}-{unit.pk}": "按时、翔实",
            f"s-{q}-{other_unit.pk}": "70",
            f"n-{q}-{other_unit.pk}": "说明不足",
        },
    )
    assert EvaluationScore.objects.filter(criterion=world["quality"]).count() == 2
    export = client.get(reverse("admin:livelihood_evaluationround_export", args=[round_.pk]))
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(export.content))
    assert book["牵头单位"]["B4"].value == "区人力资源和社会保障局"
    client.post(step, {"step": "publish"})
    round_.refresh_from_db()
    assert round_.state == "published"
    assert "公开页面" in client.get(results_url).content.decode()


def test_a_new_round_in_the_admin_starts_with_the_usual_criteria(client, plan, office):
    client.force_login(office)
    response = client.post(
        reverse("admin:livelihood_evaluationround_add"),
        {
            "plan": plan.pk,
            "kind": "yearend",
            "cutoff_month": "2024-12-01",
            "cutoff_at_0": "2025-01-31",
            "cutoff_at_1": "23:59:59",
            "note": "",
            "criteria-TOTAL_FORMS": "0",
            "criteria-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    round_ = EvaluationRound.objects.get(kind="yearend")
    kinds = set(round_.criteria.values_list("kind", flat=True))
    assert kinds == {"progress", "punctuality", "manual", "satisfaction", "peer"}


def test_criteria_are_locked_once_the_round_closes(client, world, office):
    client.force_login(office)
    round_ = evaluation.round_close(round_=world["round"], user=office)
    page = client.get(reverse("admin:livelihood_evaluationround_change", args=[round_.pk]))
    formset = page.context["inline_admin_formsets"][0]
    assert not formset.has_change_permission and not formset.has_add_permission


def test_lead_units_cannot_open_the_evaluation_pages(client, world, make_staff, unit):
    client.force_login(make_staff("clerk", unit))
    round_ = world["round"]
    for name in ("results", "export", "scores", "step", "change"):
        url = reverse(f"admin:livelihood_evaluationround_{name}", args=[round_.pk])
        assert client.get(url).status_code in (302, 403), name
    assert client.post(
        reverse("admin:livelihood_evaluationround_step", args=[round_.pk]), {"step": "close"}
    ).status_code in (302, 403)
    round_.refresh_from_db()
    assert round_.is_open
    assert client.get(reverse("admin:livelihood_evaluationscore_changelist")).status_code == 403


def test_the_evaluation_admins_open_for_the_office(client, world, office):
    client.force_login(office)
    evaluation.round_close(round_=world["round"], user=office)
    PeerReview.objects.create(
        round=world["round"],
        rater_unit=world["mine"].lead_unit,
        ratee_unit=world["theirs"].lead_unit,
        grade=80,
    )
    index = client.get(reverse("admin:index")).content.decode()
    for model in (EvaluationRound, EvaluationCriterion, EvaluationScore, PeerReview):
        name = f"admin:livelihood_{model._meta.model_name}"
        if model is not EvaluationCriterion:
            assert str(model._meta.verbose_name_plural) in index
            assert client.get(reverse(f"{name}_changelist")).status_code == 200, model
    assert client.get(reverse("admin:livelihood_evaluationround_add")).status_code == 200
